/**
 * EVAL / EVALSHA / SCRIPT and FUNCTION / FCALL (Redis: eval.c, functions.c). The Lua
 * engine lives in src/scripting/.
 */
import type { Client } from "../client.ts";
import { cmd, type CommandFlag, type CommandSpec, container, FLAG_BITS } from "./table.ts";
import { ERR } from "../errors.ts";
import { parseInteger } from "../resp/bytes.ts";
import { globMatch } from "../store/glob.ts";
import { declaredScriptFlags, runFor, scripting } from "../scripting/mod.ts";
import { denyScriptsDisabled, flagNames, killScript, runningScript } from "../scripting/engine.ts";
import { registerDebugSubcommand } from "./server.ts";
import { bytesToBinary } from "../resp/bytes.ts";

/** Splits numkeys / keys / args; replies with the error and returns null when bad. */
function splitKeys(
  c: Client,
  argv: string[],
  badNumber: string = ERR.notInteger,
): { keys: string[]; args: string[] } | null {
  const n = parseInteger(argv[2]);
  if (n === null) {
    c.error(badNumber);
    return null;
  }
  if (n < 0) {
    c.error("ERR Number of keys can't be negative");
    return null;
  }
  if (n > argv.length - 3) {
    c.error("ERR Number of keys can't be greater than number of args");
    return null;
  }
  return { keys: argv.slice(3, 3 + n), args: argv.slice(3 + n) };
}

/** Key positions of EVAL-like commands: numkeys at argv[2]. */
function evalKeys(argv: string[]): number[] {
  const n = parseInteger(argv[2] ?? "");
  if (n === null || n < 0 || n > argv.length - 3) return [];
  return Array.from({ length: n }, (_, i) => 3 + i);
}

function evalGeneric(c: Client, argv: string[], bySha: boolean, ro: boolean): void {
  const split = splitKeys(c, argv);
  if (split === null) return;
  const s = scripting(c.server);
  let sha: string;
  let script;
  if (bySha) {
    sha = argv[1].toLowerCase();
    script = sha.length === 40 ? s.scripts.get(sha) : undefined;
    if (script === undefined) return c.error("NOSCRIPT No matching script. Please use EVAL.");
  } else {
    const loaded = s.loadScript(argv[1]);
    if ("error" in loaded) return c.error(loaded.error);
    sha = loaded.sha;
    script = loaded.script;
  }
  runFor(
    c,
    { vm: s.evalVm, ref: script.ref, flags: script.flags, name: sha, isFunction: false },
    split.keys,
    split.args,
    ro,
  );
}

function fcallGeneric(c: Client, argv: string[], ro: boolean): void {
  const s = scripting(c.server);
  const fn = s.hasFunctions ? s.functions.functions.get(argv[1].toLowerCase()) : undefined;
  if (fn === undefined) return c.error("ERR Function not found");
  const split = splitKeys(c, argv, "ERR Bad number of keys provided");
  if (split === null) return;
  runFor(
    c,
    { vm: s.functions.vm, ref: fn.ref, flags: fn.flags, name: fn.name, isFunction: true },
    split.keys,
    split.args,
    ro,
  );
}

// ---- SCRIPT ----

function scriptLoad(c: Client, argv: string[]): void {
  const loaded = scripting(c.server).loadScript(argv[2]);
  if ("error" in loaded) return c.error(loaded.error);
  c.reply.bulk(loaded.sha);
}

function scriptExists(c: Client, argv: string[]): void {
  const s = scripting(c.server);
  c.reply.array(argv.length - 2);
  for (let i = 2; i < argv.length; i++) c.reply.int(s.scripts.has(argv[i].toLowerCase()) ? 1 : 0);
}

/** Parses FLUSH's [ASYNC|SYNC]; false when bad. */
function flushModeOk(argv: string[]): boolean {
  if (argv.length === 2) return true;
  if (argv.length > 3) return false;
  const m = argv[2].toLowerCase();
  return m === "sync" || m === "async";
}

function scriptFlush(c: Client, argv: string[]): void {
  if (!flushModeOk(argv)) return c.error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
  scripting(c.server).flushScripts();
  c.reply.simple("OK");
}

function scriptDebug(c: Client, argv: string[]): void {
  const mode = argv[2].toLowerCase();
  if (mode === "no") return c.reply.simple("OK");
  if (mode === "yes" || mode === "sync") {
    return c.error("ERR SCRIPT DEBUG (the Lua debugger) is not supported by this server");
  }
  c.error("ERR Use SCRIPT DEBUG YES/SYNC/NO");
}

function kill(isEval: boolean): (c: Client) => void {
  return (c) => {
    const error = killScript(c.server, isEval);
    if (error !== null) return c.error(error);
    c.reply.simple("OK");
  };
}

const SCRIPT_HELP = [
  "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "DEBUG (YES|SYNC|NO)",
  "    Set the debug mode for subsequent scripts executed.",
  "EXISTS <sha1> [<sha1> ...]",
  "    Return information about the existence of the scripts in the script cache.",
  "FLUSH [ASYNC|SYNC]",
  "    Flush the Lua scripts cache. Very dangerous on replicas.",
  "    When called without the optional mode argument, the behavior is determined by the",
  "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
  "    * ASYNC: Asynchronously flush the scripts cache.",
  "    * SYNC: Synchronously flush the scripts cache.",
  "KILL",
  "    Kill the currently executing Lua script.",
  "LOAD <script>",
  "    Load a script into the scripts cache without executing it.",
  "HELP",
  "    Prints this help.",
];

const FUNCTION_HELP = [
  "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "LOAD [REPLACE] <FUNCTION CODE>",
  "    Create a new library with the given library name and code.",
  "DELETE <LIBRARY NAME>",
  "    Delete the given library.",
  "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
  "    Return general information on all the libraries:",
  "    * Library name",
  "    * The engine used to run the Library",
  "    * Library description",
  "    * Functions list",
  "    * Library code (if WITHCODE is given)",
  "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
  "STATS",
  "    Return information about the current function running:",
  "    * Function name",
  "    * Command used to run the function",
  "    * Duration in MS that the function is running",
  "    If no function is running, return nil",
  "    In addition, returns a list of available engines.",
  "KILL",
  "    Kill the current running function.",
  "FLUSH [ASYNC|SYNC]",
  "    Delete all the libraries.",
  "    When called without the optional mode argument, the behavior is determined by the",
  "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
  "    * ASYNC: Asynchronously flush the libraries.",
  "    * SYNC: Synchronously flush the libraries.",
  "DUMP",
  "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
  "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
  "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
  "    control how to handle existing libraries (default APPEND):",
  "    * FLUSH: delete all existing libraries.",
  "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
  "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
  "      libraries with the new libraries (notice that even on this option there is a chance of failure",
  "      in case of functions name collision with another library).",
  "HELP",
  "    Prints this help.",
];

function help(lines: string[]): (c: Client) => void {
  return (c) => {
    c.reply.array(lines.length);
    for (const l of lines) c.reply.simple(l);
  };
}

// ---- FUNCTION ----

function functionLoad(c: Client, argv: string[]): void {
  let replace = false;
  let i = 2;
  if (argv.length > 3) {
    if (argv[2].toLowerCase() !== "replace" || argv.length > 4) {
      return c.error(`ERR Unknown option given: ${argv[2]}`);
    }
    replace = true;
    i = 3;
  }
  const r = scripting(c.server).functions.load(argv[i], replace);
  if (typeof r !== "string") return c.error(r.error);
  c.server.dirty++;
  c.reply.bulk(r);
}

function functionDelete(c: Client, argv: string[]): void {
  const s = scripting(c.server);
  if (!s.hasFunctions || !s.functions.delete(argv[2])) {
    return c.error("ERR Library not found");
  }
  c.server.dirty++;
  c.reply.simple("OK");
}

function functionFlush(c: Client, argv: string[]): void {
  if (argv.length > 3) {
    return c.error(
      `ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try FUNCTION HELP.`,
    );
  }
  if (!flushModeOk(argv)) return c.error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
  const s = scripting(c.server);
  if (s.hasFunctions) s.functions.flush();
  c.server.dirty++;
  c.reply.simple("OK");
}

function functionList(c: Client, argv: string[]): void {
  let withCode = false;
  let pattern: string | null = null;
  for (let i = 2; i < argv.length; i++) {
    const opt = argv[i].toLowerCase();
    if (opt === "withcode" && !withCode) {
      withCode = true;
    } else if (opt === "libraryname" && pattern === null) {
      if (i + 1 >= argv.length) return c.error("ERR library name argument was not given");
      pattern = argv[++i];
    } else return c.error(`ERR Unknown argument ${argv[i]}`);
  }
  const s = scripting(c.server);
  const libs = s.hasFunctions ? [...s.functions.libraries.values()] : [];
  const shown = pattern === null ? libs : libs.filter((l) => globMatch(pattern!, l.name));
  const r = c.reply;
  r.array(shown.length);
  for (const lib of shown) {
    r.map(withCode ? 4 : 3);
    r.bulk("library_name");
    r.bulk(lib.name);
    r.bulk("engine");
    r.bulk("LUA");
    r.bulk("functions");
    r.array(lib.functions.size);
    for (const f of lib.functions.values()) {
      r.map(3);
      r.bulk("name");
      r.bulk(f.name);
      r.bulk("description");
      if (f.description === null) r.nil();
      else r.bulk(f.description);
      r.bulk("flags");
      const names = flagNames(f.flags);
      r.set(names.length);
      for (const n of names) r.bulk(n);
    }
    if (withCode) {
      r.bulk("library_code");
      r.bulk(lib.code);
    }
  }
}

function functionStats(c: Client): void {
  const s = scripting(c.server);
  const libs = s.hasFunctions ? s.functions.libraries.size : 0;
  const fns = s.hasFunctions ? s.functions.functions.size : 0;
  const r = c.reply;
  r.map(2);
  r.bulk("running_script");
  const running = runningScript();
  if (running === null || !running.isFunction || running.server !== c.server) r.nil();
  else {
    r.map(3);
    r.bulk("name");
    r.bulk(running.name);
    r.bulk("command");
    r.bulkArray(running.argv);
    r.bulk("duration_ms");
    r.int(Math.floor(performance.now() - running.start));
  }
  r.bulk("engines");
  r.map(1);
  r.bulk("LUA");
  r.map(2);
  r.bulk("libraries_count");
  r.int(libs);
  r.bulk("functions_count");
  r.int(fns);
}

function functionDump(c: Client): void {
  c.reply.bulk(bytesToBinary(scripting(c.server).functions.dump()));
}

function functionRestore(c: Client, argv: string[]): void {
  let policy: "flush" | "append" | "replace" = "append";
  if (argv.length > 4) {
    return c.error(
      "ERR unknown subcommand or wrong number of arguments for 'restore'. Try FUNCTION HELP.",
    );
  }
  if (argv.length === 4) {
    const p = argv[3].toLowerCase();
    if (p !== "flush" && p !== "append" && p !== "replace") {
      return c.error(
        "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
      );
    }
    policy = p;
  }
  const error = scripting(c.server).functions.restore(argv[2], policy);
  if (error !== null) return c.error(error);
  c.server.dirty++;
  c.reply.simple("OK");
}

const S = { categories: ["scripting"] };
const E = { keys: [0, 0, 0] as [number, number, number], getKeys: evalKeys, ...S };
const EVAL_FLAGS = "noscript stale skip_monitor no_mandatory_keys movablekeys";
const EVAL_RO_FLAGS = "readonly " + EVAL_FLAGS;
/** Redis 7.0 gives EVAL, EVALSHA and FCALL may_replicate (COMMAND INFO does not show it) */
const EVAL_RW_FLAGS = EVAL_FLAGS + " may_replicate";

/**
 * Redis's scriptFlagsToCmdFlags: a script that declares flags runs with write, denyoom
 * and stale as it declares them, and without may_replicate (its writes are known).
 */
function scriptBits(kind: "eval" | "evalsha" | "fcall") {
  const own = EVAL_RW_FLAGS.split(" ").reduce((b, f) => b | FLAG_BITS[f as CommandFlag], 0);
  const clear = FLAG_BITS.stale | FLAG_BITS.denyoom | FLAG_BITS.write | FLAG_BITS.may_replicate;
  return (c: Client, argv: string[]): number => {
    const flags = declaredScriptFlags(c.server, argv, kind);
    if (flags === null) return own;
    let out = own & ~clear;
    if (!flags.allowOom && !flags.noWrites) out |= FLAG_BITS.denyoom;
    if (!flags.noWrites) out |= FLAG_BITS.write;
    if (flags.allowStale) out |= FLAG_BITS.stale;
    return out;
  };
}
const RW = (kind: "eval" | "evalsha" | "fcall") => ({ ...E, runtimeBits: scriptBits(kind) });

/** The scripting command specs. */
export const commands: CommandSpec[] = [
  cmd(
    "scripting",
    "eval",
    -3,
    EVAL_RW_FLAGS,
    (c, a) => evalGeneric(c, a, false, false),
    RW("eval"),
  ),
  cmd(
    "scripting",
    "evalsha",
    -3,
    EVAL_RW_FLAGS,
    (c, a) => evalGeneric(c, a, true, false),
    RW("evalsha"),
  ),
  cmd("scripting", "eval_ro", -3, EVAL_RO_FLAGS, (c, a) => evalGeneric(c, a, false, true), E),
  cmd("scripting", "evalsha_ro", -3, EVAL_RO_FLAGS, (c, a) => evalGeneric(c, a, true, true), E),
  cmd("scripting", "fcall", -3, EVAL_RW_FLAGS, (c, a) => fcallGeneric(c, a, false), RW("fcall")),
  cmd("scripting", "fcall_ro", -3, EVAL_RO_FLAGS, (c, a) => fcallGeneric(c, a, true), E),
  container("scripting", "script", -2, [
    cmd("scripting", "load", 3, "noscript stale", scriptLoad, S),
    cmd("scripting", "exists", -3, "noscript", scriptExists, S),
    cmd("scripting", "flush", -2, "noscript", scriptFlush, S),
    cmd("scripting", "kill", 2, "noscript allow_busy", kill(true), S),
    cmd("scripting", "debug", 3, "noscript", scriptDebug, S),
    cmd("scripting", "help", 2, "loading stale", help(SCRIPT_HELP), S),
  ]),
  container("scripting", "function", -2, [
    cmd("scripting", "load", -3, "write denyoom noscript", functionLoad, S),
    cmd("scripting", "delete", 3, "write noscript", functionDelete, S),
    cmd("scripting", "flush", -2, "write noscript", functionFlush, S),
    cmd("scripting", "list", -2, "noscript", functionList, S),
    cmd("scripting", "stats", 2, "noscript allow_busy", functionStats, S),
    cmd("scripting", "dump", 2, "noscript", functionDump, S),
    cmd("scripting", "restore", -3, "write denyoom noscript", functionRestore, S),
    cmd("scripting", "kill", 2, "noscript allow_busy", kill(false), S),
    cmd("scripting", "help", 2, "loading stale", help(FUNCTION_HELP), S),
  ]),
];

// DEBUG SET-DISABLE-DENY-SCRIPTS <0|1>: as Redis (atoi of the argument, no validation)
registerDebugSubcommand("set-disable-deny-scripts", (c, argv) => {
  if (argv.length !== 3) {
    return c.error(
      `ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try DEBUG HELP.`,
    );
  }
  if ((Number.parseInt(argv[2], 10) || 0) !== 0) denyScriptsDisabled.add(c.server);
  else denyScriptsDisabled.delete(c.server);
  c.reply.simple("OK");
}, [
  "SET-DISABLE-DENY-SCRIPTS <0|1>",
  "    Allow scripts to call commands flagged no-script (for tests).",
]);
