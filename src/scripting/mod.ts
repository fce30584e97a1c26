/**
 * The scripting state of a server (Redis: eval.c's script cache and functions.c's
 * library registry), created on first use, and the checks and entry points EVAL and
 * FCALL share (Redis: scriptPrepareForRun).
 */
import type { Server } from "../server.ts";
import type { Client } from "../client.ts";
import { binaryToBytes } from "../resp/bytes.ts";
import { sha1Hex } from "../replication/digest.ts";
import {
  applyFlag,
  noFlags,
  openRedisApi,
  type RunContext,
  runScript,
  scriptClient,
  type ScriptFlags,
  setLogServer,
} from "./engine.ts";
import { FunctionRegistry } from "./functions.ts";
import { Vm } from "./vm.ts";
import { COMMANDS } from "../commands/mod.ts";

/** A cached EVAL script. */
export interface CachedScript {
  body: string;
  ref: number;
  flags: ScriptFlags;
}

/** The script cache and function libraries of one server. */
export class Scripting {
  readonly server: Server;
  #evalVm: Vm | null = null;
  #functions: FunctionRegistry | null = null;
  readonly scripts = new Map<string, CachedScript>();
  scriptsBytes = 0;

  constructor(server: Server) {
    this.server = server;
  }

  get evalVm(): Vm {
    if (this.#evalVm === null) {
      setLogServer(this.server);
      this.#evalVm = new Vm(openRedisApi);
    }
    return this.#evalVm;
  }

  get functions(): FunctionRegistry {
    if (this.#functions === null) {
      setLogServer(this.server);
      this.#functions = new FunctionRegistry();
    }
    return this.#functions;
  }

  /** Whether any library exists, without creating the functions VM. */
  get hasFunctions(): boolean {
    return this.#functions !== null && this.#functions.libraries.size > 0;
  }

  /** Compiles and caches an EVAL script; returns its sha or Redis's error. */
  loadScript(body: string): { sha: string; script: CachedScript } | { error: string } {
    const sha = sha1Hex(binaryToBytes(body));
    const cached = this.scripts.get(sha);
    if (cached !== undefined) return { sha, script: cached };
    const flags = parseEvalShebang(body);
    if (typeof flags === "string") return { error: flags };
    const code = flags.evalCompat
      ? body
      : body.slice(body.indexOf("\n") < 0 ? body.length : body.indexOf("\n"));
    const ref = this.evalVm.compile(code, "@user_script");
    if (typeof ref === "string") {
      return { error: `ERR Error compiling script (new function): ${ref}` };
    }
    const script = { body, ref, flags };
    this.scripts.set(sha, script);
    this.scriptsBytes += body.length;
    return { sha, script };
  }

  /** SCRIPT FLUSH. */
  flushScripts(): void {
    if (this.#evalVm !== null) {
      for (const s of this.scripts.values()) this.#evalVm.unref(s.ref);
    }
    this.scripts.clear();
    this.scriptsBytes = 0;
  }
}

const STATES = new WeakMap<Server, Scripting>();

/** The scripting state of `server`. */
export function scripting(server: Server): Scripting {
  let s = STATES.get(server);
  if (s === undefined) STATES.set(server, s = new Scripting(server));
  return s;
}

/**
 * The flags an EVAL, EVALSHA or FCALL call (`kind`) declares, as Redis's
 * evalGetCommandFlags / fcallGetCommandFlags find them before running it: a cached
 * script's, an uncached body's shebang, a function's; null when the command's own flags
 * apply (no shebang, unknown sha or function, a bad shebang).
 */
export function declaredScriptFlags(
  server: Server,
  argv: string[],
  kind: "eval" | "evalsha" | "fcall",
): ScriptFlags | null {
  const s = scripting(server);
  let flags: ScriptFlags | null = null;
  if (kind === "fcall") {
    flags = s.hasFunctions ? s.functions.functions.get(argv[1].toLowerCase())?.flags ?? null : null;
  } else if (kind === "evalsha") {
    flags = argv[1].length === 40 ? s.scripts.get(argv[1].toLowerCase())?.flags ?? null : null;
  } else {
    const cached = s.scripts.get(sha1Hex(binaryToBytes(argv[1])));
    const parsed = cached?.flags ?? parseEvalShebang(argv[1]);
    flags = typeof parsed === "string" ? null : parsed;
  }
  return flags === null || flags.evalCompat ? null : flags;
}

/** Parses an EVAL script's "#!lua flags=..." line (Redis: evalExtractShebangFlags). */
function parseEvalShebang(body: string): ScriptFlags | string {
  if (!body.startsWith("#!")) return noFlags(true);
  const nl = body.indexOf("\n");
  const line = nl < 0 ? body : body.slice(0, nl);
  const parts = line.split(" ").filter((p) => p !== "");
  if (parts[0] !== "#!lua") {
    return `ERR Unexpected engine in script shebang: ${parts[0] ?? ""}`;
  }
  const flags = noFlags(false);
  for (const p of parts.slice(1)) {
    if (!p.startsWith("flags=")) return `ERR Unknown lua shebang option: ${p}`;
    for (const f of p.slice(6).split(",")) {
      if (f === "") continue;
      if (!applyFlag(flags, f)) return `ERR Unexpected flag in script shebang: ${f}`;
    }
  }
  return flags;
}

/** Redis's scriptPrepareForRun checks; an error to reply with, or null. */
function prepareError(c: Client, flags: ScriptFlags, ro: boolean): string | null {
  const server = c.server;
  const obey = c.isMaster;
  const stale = server.staleGuard !== null ? server.staleGuard(c, STALE_PROBE()) : null;
  if (flags.evalCompat) return stale;
  if (stale !== null && !flags.allowStale) {
    return "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set";
  }
  if (!flags.noWrites) {
    const guard = server.writeGuard !== null && !obey ? server.writeGuard(c, WRITE_PROBE()) : null;
    if (guard !== null && guard.startsWith("READONLY")) {
      return "READONLY Can not run script with write flag on readonly replica";
    }
    if (guard !== null && guard.startsWith("MISCONF")) {
      return "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts.";
    }
    if (ro) return "ERR Can not execute a script with write flag using *_ro command.";
    if (guard !== null) return guard;
  }
  if (
    !flags.allowOom && !flags.noWrites && server.maxmemoryExceeded !== null &&
    server.maxmemoryExceeded()
  ) {
    return "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'";
  }
  return null;
}

const WRITE_PROBE = () => COMMANDS.get("set")!;
const STALE_PROBE = () => COMMANDS.get("get")!;

/**
 * Runs a script or function for `c` (the checks, then the run). `keys`/`args` are
 * KEYS/ARGV; functions get them as arguments instead of globals.
 */
export function runFor(
  c: Client,
  target: { vm: Vm; ref: number; flags: ScriptFlags; name: string; isFunction: boolean },
  keys: string[],
  args: string[],
  ro: boolean,
): void {
  const refusal = prepareError(c, target.flags, ro);
  if (refusal !== null) return c.error(refusal);
  const server = c.server;
  const flags = target.flags;
  const ctx: RunContext = {
    server,
    caller: c,
    fake: scriptClient(server),
    name: target.name,
    readOnly: ro || flags.noWrites,
    // EVAL without a shebang is not allow-oom: its first denyoom call fails under OOM
    allowOom: flags.allowOom,
    oomAtStart: server.maxmemoryExceeded !== null && server.maxmemoryExceeded(),
    resp: 2,
    wrote: false,
    start: performance.now(),
    isFunction: target.isFunction,
    argv: c.argv,
    threadRef: 0,
    canYield: false,
    busy: false,
    sliceStart: 0,
    killed: false,
    activeExpire: true,
  };
  runScript(target.vm, target.ref, ctx, keys, args, target.isFunction);
  // the commands the script ran were propagated one by one (wrapped in MULTI/EXEC when
  // more than one); the script itself is not (Redis 7: effects replication)
  c.preventPropagation = true;
}

/**
 * For RDB saving (persistence): the code of every function library, one
 * RDB_OPCODE_FUNCTION2 record each (Redis writes them after the aux fields).
 */
export function functionLibraryCodes(server: Server): string[] {
  const s = scripting(server);
  return s.hasFunctions ? s.functions.codes() : [];
}

/**
 * For RDB loading (persistence): loads one RDB_OPCODE_FUNCTION2 record's library code,
 * replacing a library of the same name. Returns null, or the error to report.
 */
export function loadFunctionLibrary(server: Server, code: string, replace = true): string | null {
  const r = scripting(server).functions.load(code, replace);
  return typeof r === "string" ? null : r.error;
}

/** Deletes every function library (a replica's full sync replaces them with the RDB's). */
export function flushFunctionLibraries(server: Server): void {
  const s = scripting(server);
  if (s.hasFunctions) s.functions.flush();
}
