/**
 * Running scripts (Redis: script.c and script_lua.c): the run context, the `redis`
 * API table, and command execution on behalf of a script through a fake client that
 * shares the caller's database. Scripts run synchronously, so they are atomic.
 */
import { lua } from "./fengari.ts";
import { Client } from "../client.ts";
import { PROPAGATE_ALL, type Server } from "../server.ts";
import { call } from "../dispatch.ts";
import { COMMANDS } from "../commands/mod.ts";
import type { CommandSpec } from "../commands/table.ts";
import { ERR } from "../errors.ts";
import { binaryToBytes } from "../resp/bytes.ts";
import { sha1Hex } from "../replication/digest.ts";
import { REDIS_VERSION } from "../version.ts";
import { errorInfo, luaToReply, replyToLua } from "./convert.ts";
import { setBusyScript } from "./busy.ts";
import { openRedisLibs } from "./libs.ts";
import {
  errorCounted,
  ls,
  type LuaState,
  markErrorCounted,
  pushErrorTable,
  pushStr,
  raiseError,
  setFn,
  setIntField,
  setStrField,
  toStr,
  Vm,
} from "./vm.ts";

/** Script flags (Redis: SCRIPT_FLAG_*). */
export interface ScriptFlags {
  noWrites: boolean;
  allowOom: boolean;
  allowStale: boolean;
  noCluster: boolean;
  allowCrossSlot: boolean;
  /** EVAL without a shebang: Redis's backwards-compatible mode */
  evalCompat: boolean;
}

/** A script flags set with nothing allowed. */
export function noFlags(evalCompat = false): ScriptFlags {
  return {
    noWrites: false,
    allowOom: false,
    allowStale: false,
    noCluster: false,
    allowCrossSlot: false,
    evalCompat,
  };
}

/** Parses one flag name into `flags`; false when unknown. */
export function applyFlag(flags: ScriptFlags, name: string): boolean {
  switch (name) {
    case "no-writes":
      flags.noWrites = true;
      return true;
    case "allow-oom":
      flags.allowOom = true;
      return true;
    case "allow-stale":
      flags.allowStale = true;
      return true;
    case "no-cluster":
      flags.noCluster = true;
      return true;
    case "allow-cross-slot-keys":
      flags.allowCrossSlot = true;
      return true;
  }
  return false;
}

/** The flag names of `flags`, in Redis's order (FUNCTION LIST). */
export function flagNames(flags: ScriptFlags): string[] {
  const out: string[] = [];
  if (flags.noWrites) out.push("no-writes");
  if (flags.allowOom) out.push("allow-oom");
  if (flags.allowStale) out.push("allow-stale");
  if (flags.noCluster) out.push("no-cluster");
  if (flags.allowCrossSlot) out.push("allow-cross-slot-keys");
  return out;
}

/** The script being run (Redis: scriptRunCtx). */
export interface RunContext {
  server: Server;
  /** redis.set_repl(): where the script's writes propagate (PROPAGATE_AOF | _REPL) */
  replTargets?: number;
  caller: Client;
  fake: Client;
  /** "script: <name>" in errors: the sha of an EVAL script, or the function name */
  name: string;
  readOnly: boolean;
  allowOom: boolean;
  /** maxmemory was exceeded when the script started */
  oomAtStart: boolean;
  /** RESP version of the script's redis.call replies (redis.setresp) */
  resp: 2 | 3;
  /** the script already changed the dataset (SCRIPT KILL refuses then) */
  wrote: boolean;
  start: number;
  /** true for FCALL (errors and BUSY wording say FUNCTION) */
  isFunction: boolean;
  /** the command that started it (FUNCTION STATS) */
  argv: string[];
  /** the coroutine the script runs in, and its registry ref */
  vm?: Vm;
  // deno-lint-ignore no-explicit-any
  thread?: any;
  threadRef: number;
  /** whether the script may yield to the event loop when slow */
  canYield: boolean;
  /** past busy-reply-threshold: other clients get BUSY */
  busy: boolean;
  sliceStart: number;
  /** SCRIPT KILL / FUNCTION KILL asked it to stop */
  killed: boolean;
  killLogged?: boolean;
  /** activeExpireEnabled before the script became busy */
  activeExpire: boolean;
}

let current: RunContext | null = null;

/** The script running now, if any. */
/**
 * Servers where DEBUG SET-DISABLE-DENY-SCRIPTS 1 lets scripts call `noscript` commands
 * (Redis's server.script_disable_deny_script, used by its test suite).
 */
export const denyScriptsDisabled = new WeakSet<Server>();

export function runningScript(): RunContext | null {
  return current;
}

/** Installs the `redis` table used while scripts run into the globals at the top. */
export function openRedisApi(L: LuaState): void {
  openRedisLibs(L);
  lua.lua_createtable(L, 0, 32);
  setFn(L, "call", (L) => redisCall(L, true));
  setFn(L, "pcall", (L) => redisCall(L, false));
  setFn(L, "acl_check_cmd", aclCheckCmd);
  setFn(L, "error_reply", errorReply);
  setFn(L, "status_reply", statusReply);
  setFn(L, "sha1hex", (L) => {
    if (lua.lua_gettop(L) !== 1) {
      return raiseError(L, "wrong number of arguments");
    }
    pushStr(L, sha1Hex(binaryToBytes(toStr(L, 1))));
    return 1;
  });
  setFn(L, "setresp", (L) => {
    if (lua.lua_gettop(L) !== 1) {
      return raiseError(L, "redis.setresp() requires one argument.");
    }
    const v = lua.lua_tointeger(L, 1);
    if (v !== 2 && v !== 3) {
      return raiseError(L, "RESP version must be 2 or 3.");
    }
    if (current !== null) current.resp = v;
    return 0;
  });
  setFn(L, "set_repl", (L) => {
    if (lua.lua_gettop(L) !== 1) {
      return raiseError(L, "redis.set_repl() requires one argument.");
    }
    const v = lua.lua_tointeger(L, 1);
    if (v < 0 || v > 3) {
      return raiseError(
        L,
        "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
      );
    }
    // where the script's next writes go: the AOF (1), replicas (2), both or neither
    if (current !== null) current.replTargets = v;
    return 0;
  });
  setFn(L, "replicate_commands", (L) => {
    lua.lua_pushboolean(L, true);
    return 1;
  });
  setFn(L, "breakpoint", (L) => {
    lua.lua_pushboolean(L, false);
    return 1;
  });
  setFn(L, "debug", () => 0);
  setIntField(L, "REPL_NONE", 0);
  setIntField(L, "REPL_AOF", 1);
  setIntField(L, "REPL_SLAVE", 2);
  setIntField(L, "REPL_REPLICA", 2);
  setIntField(L, "REPL_ALL", 3);
  openLogApi(L);
  lua.lua_setfield(L, -2, ls("redis"));
}

/** redis.log, LOG_* and the version fields (also available while a library loads). */
export function openLogApi(L: LuaState): void {
  setFn(L, "log", redisLog);
  setIntField(L, "LOG_DEBUG", 0);
  setIntField(L, "LOG_VERBOSE", 1);
  setIntField(L, "LOG_NOTICE", 2);
  setIntField(L, "LOG_WARNING", 3);
  setStrField(L, "REDIS_VERSION", REDIS_VERSION);
  const [maj, min, patch] = REDIS_VERSION.split(".").map(Number);
  setIntField(L, "REDIS_VERSION_NUM", (maj << 16) | (min << 8) | patch);
}

const LOG_LEVELS = ["debug", "verbose", "notice", "warning"] as const;

let logServer: Server | null = null;

/** The server redis.log writes to (set when a scripting state is created). */
export function setLogServer(server: Server): void {
  logServer = server;
}

function redisLog(L: LuaState): number {
  const argc = lua.lua_gettop(L);
  if (argc < 2) return raiseError(L, "redis.log() requires two arguments or more.");
  if (!lua.lua_isnumber(L, 1)) {
    return raiseError(L, "First argument must be a number (log level).");
  }
  const level = lua.lua_tointeger(L, 1);
  if (level < 0 || level > 3) return raiseError(L, "Invalid debug level.");
  const parts: string[] = [];
  for (let i = 2; i <= argc; i++) parts.push(toStr(L, i));
  logServer?.log(LOG_LEVELS[level], parts.join(" "));
  return 0;
}

/** redis.acl_check_cmd(cmd, args...): whether the script's user may run it. */
function aclCheckCmd(L: LuaState): number {
  const ctx = current;
  const argc = lua.lua_gettop(L);
  const argv = callArgs(L, argc);
  if (argv === null) {
    return raiseError(L, "Lua redis lib command arguments must be strings or integers");
  }
  if (argv.length === 0) return raiseError(L, "ACL check requires at least one argument");
  let spec: CommandSpec | undefined = COMMANDS.get(argv[0].toLowerCase());
  if (spec?.subcommands !== undefined && argv.length > 1) {
    spec = spec.subcommands.get(argv[1].toLowerCase());
  }
  if (spec === undefined || ctx === null) {
    return raiseError(L, "Invalid command passed to redis.acl_check_cmd()");
  }
  const check = ctx.server.aclCheck;
  lua.lua_pushboolean(L, check === null || check(ctx.fake, spec, argv) === null);
  return 1;
}

function errorReply(L: LuaState): number {
  if (lua.lua_gettop(L) !== 1 || lua.lua_type(L, -1) !== lua.LUA_TSTRING) {
    return raiseError(L, "wrong number or type of arguments");
  }
  const msg = toStr(L, 1);
  pushErrorTable(L, msg.startsWith("-") ? msg : "-" + msg);
  return 1;
}

function statusReply(L: LuaState): number {
  if (lua.lua_gettop(L) !== 1 || lua.lua_type(L, -1) !== lua.LUA_TSTRING) {
    return raiseError(L, "wrong number or type of arguments");
  }
  const msg = toStr(L, 1);
  lua.lua_createtable(L, 0, 1);
  setStrField(L, "ok", msg);
  return 1;
}

/** Reads redis.call's arguments; null when one is not a string or number. */
function callArgs(L: LuaState, argc: number): string[] | null {
  const argv: string[] = [];
  for (let i = 1; i <= argc; i++) {
    const t = lua.lua_type(L, i);
    if (t === lua.LUA_TNUMBER) {
      if (lua.lua_isinteger(L, i)) argv.push(String(lua.lua_tointeger(L, i)));
      else argv.push(formatArgNumber(lua.lua_tonumber(L, i)));
    } else if (t === lua.LUA_TSTRING) argv.push(toStr(L, i));
    else return null;
  }
  return argv;
}

/** A number argument as Redis 7.0 formats it (fpconv_dtoa: shortest round trip). */
function formatArgNumber(n: number): string {
  if (Number.isNaN(n)) return "nan";
  if (!Number.isFinite(n)) return n > 0 ? "inf" : "-inf";
  return String(n).replace("e+", "e");
}

function redisCall(L: LuaState, raise: boolean): number {
  const ctx = current;
  const argc = lua.lua_gettop(L);
  if (ctx === null) {
    return raiseError(L, "redis.call/pcall can only be called inside a script invocation");
  }
  if (argc === 0) {
    return raiseOrReturn(L, raise, "Please specify at least one argument for this redis lib call");
  }
  const argv = callArgs(L, argc);
  if (argv === null) {
    return raiseOrReturn(L, raise, "Lua redis lib command arguments must be strings or integers");
  }
  const refusal = checkScriptCommand(ctx, argv);
  if (refusal !== null) {
    // counted in errorstats here, as Redis's scriptCall does (afterErrorReply)
    ctx.server.stats.countError(refusal.startsWith("-") ? refusal.slice(1) : "ERR " + refusal);
    pushErrorTable(L, refusal, true);
    return raise ? lua.lua_error(L) : 1;
  }
  const fake = ctx.fake;
  const spec = fake.spec!;
  const dirty = ctx.server.dirty;
  fake.reply.len = 0;
  fake.reply.resp = ctx.resp;
  const server = ctx.server;
  server.propagateTargets = ctx.replTargets ?? PROPAGATE_ALL;
  try {
    call(fake, spec, argv);
  } finally {
    server.propagateTargets = PROPAGATE_ALL;
  }
  if (ctx.server.dirty !== dirty) ctx.wrote = true;
  const err = replyToLua(L, fake.reply.buf, fake.reply.len);
  fake.reply.len = 0;
  // the command's error reply was counted in errorstats when the command replied it
  if (err !== null && raise) {
    lua.lua_pop(L, 1);
    pushErrorTable(L, "-" + err, true);
    return lua.lua_error(L);
  }
  if (err !== null && lua.lua_type(L, -1) === lua.LUA_TTABLE) markErrorCounted(L);
  return 1;
}

function raiseOrReturn(L: LuaState, raise: boolean, error: string): number {
  pushErrorTable(L, error);
  return raise ? lua.lua_error(L) : 1;
}

/**
 * Redis's scriptCall checks; sets fake.spec on success, else returns the error. A known
 * command refused here counts as a rejected call in its commandstats, as in Redis.
 */
function checkScriptCommand(ctx: RunContext, argv: string[]): string | null {
  const refusal = checkScriptCall(ctx, argv);
  if (refusal !== null) {
    let spec: CommandSpec | undefined = COMMANDS.get(argv[0].toLowerCase());
    if (spec?.subcommands !== undefined && argv.length > 1) {
      spec = spec.subcommands.get(argv[1].toLowerCase());
    }
    if (spec !== undefined) ctx.server.stats.rejected(spec);
  }
  return refusal;
}

function checkScriptCall(ctx: RunContext, argv: string[]): string | null {
  let spec: CommandSpec | undefined = COMMANDS.get(argv[0].toLowerCase());
  if (spec === undefined) return "Unknown Redis command called from script";
  if (spec.subcommands !== undefined && argv.length > 1) {
    const sub = spec.subcommands.get(argv[1].toLowerCase());
    if (sub === undefined) return "Unknown Redis command called from script";
    spec = sub;
  }
  if ((spec.arity > 0 && spec.arity !== argv.length) || argv.length < -spec.arity) {
    return "Wrong number of args calling Redis command from script";
  }
  const flags = spec.flags;
  if (flags.includes("noscript") && !denyScriptsDisabled.has(ctx.server)) {
    return "This Redis command is not allowed from script";
  }
  if ((spec.name === "xread" || spec.name === "xreadgroup") && hasBlockOption(argv)) {
    return `${argv[0]} command is not allowed with BLOCK option from scripts`;
  }
  const server = ctx.server;
  const fake = ctx.fake;
  if (server.aclCheck !== null) {
    const denied = server.aclCheck(fake, spec, argv);
    if (denied !== null) {
      return "-" + denied.replace(/^NOPERM /, "NOPERM The user executing the script ");
    }
  }
  // a read-only script refuses may_replicate commands too (PUBLISH, ...): that is what
  // lets it run during CLIENT PAUSE WRITE (Redis: scriptVerifyWriteCommandAllow)
  if (ctx.readOnly && (flags.includes("write") || flags.includes("may_replicate"))) {
    return "Write commands are not allowed from read-only scripts.";
  }
  // once the script wrote, the server's state cannot fail it any more (Redis:
  // SCRIPT_WRITE_DIRTY skips the READONLY, MISCONF and NOREPLICAS checks)
  if (flags.includes("write") && !ctx.wrote) {
    if (server.writeGuard !== null && !ctx.caller.isMaster) {
      const denied = server.writeGuard(fake, spec);
      if (denied !== null) return "-" + denied;
    }
  }
  if (
    flags.includes("denyoom") && ctx.oomAtStart && !ctx.allowOom && !ctx.wrote &&
    !ctx.caller.isMaster
  ) return "-" + ERR.oom;
  // an allow-stale script on a stale replica may only call commands flagged stale
  if (
    server.staleGuard !== null && !flags.includes("stale") &&
    server.staleGuard(fake, spec) !== null
  ) {
    return "Can not execute the command on a stale replica";
  }
  fake.spec = spec;
  return null;
}

/** Whether XREAD / XREADGROUP argv has BLOCK before STREAMS. */
function hasBlockOption(argv: string[]): boolean {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i].toLowerCase();
    if (a === "streams") return false;
    if (a === "block") return true;
  }
  return false;
}

/** The fake client scripts run commands through (Redis: the lua client). */
export function scriptClient(server: Server): Client {
  let fake = FAKES.get(server);
  if (fake === undefined) {
    fake = new Client(server, null);
    fake.name = "";
    fake.isScript = true;
    FAKES.set(server, fake);
  }
  return fake;
}

const FAKES = new WeakMap<Server, Client>();

/**
 * Runs the compiled function `ref` of `vm` for `c` with KEYS and ARGV; the reply (or
 * Redis's error) goes to `c`. The caller checked the script flags already.
 *
 * The script runs in a coroutine with a count hook. Past busy-reply-threshold the hook
 * yields (when the caller can wait: a real connection outside MULTI/EXEC): the script
 * then continues in slices from timers, its caller waits for the reply, and every
 * other client gets -BUSY except for allow_busy commands (SCRIPT KILL, FUNCTION KILL,
 * FUNCTION STATS, SHUTDOWN NOSAVE...), as Redis processes events during a busy script.
 */
export function runScript(
  vm: Vm,
  ref: number,
  ctx: RunContext,
  keys: string[],
  args: string[],
  passAsArgs: boolean,
): void {
  const c = ctx.caller;
  const fake = ctx.fake;
  fake.db = c.db;
  fake.user = c.user;
  fake.authenticated = true;
  fake.ext = c.ext;
  fake.reply.resp = 2;
  if (!passAsArgs) {
    vm.setGlobalArray("KEYS", keys);
    vm.setGlobalArray("ARGV", args);
  }
  const run = vm.startThread(ref, (L) => {
    if (!passAsArgs) return 0;
    pushArray(L, keys);
    pushArray(L, args);
    return 2;
  });
  ctx.vm = vm;
  vm.killed = () => current !== null && current.killed;
  ctx.thread = run.thread;
  ctx.threadRef = run.threadRef;
  ctx.canYield = c.conn !== null && !c.isMaster && !ctx.server.inExec;
  ctx.server.propagationHeld = true;
  lua.lua_sethook(run.thread, countHook, lua.LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
  resumeScript(ctx, run.nargs);
}

/** Instructions between two checks of the clock and of SCRIPT KILL. */
const HOOK_INSTRUCTIONS = 10000;
/** How long a busy script runs before letting other clients in (ms). */
const BUSY_SLICE_MS = 20;

const KILLED = "Script killed by user with SCRIPT KILL...";

function countHook(L: LuaState): void {
  const ctx = current;
  if (ctx === null) return;
  if (ctx.killed) {
    if (!ctx.killLogged) {
      ctx.killLogged = true;
      ctx.server.log("warning", "Lua script killed by user with SCRIPT KILL.");
    }
    // raise on every line from now on, so that a pcall in the script cannot swallow it
    lua.lua_sethook(L, countHook, lua.LUA_MASKLINE, 0);
    raiseError(L, KILLED);
    return;
  }
  if (!ctx.canYield || !lua.lua_isyieldable(L)) return;
  const now = performance.now();
  if (ctx.busy) {
    if (now - ctx.sliceStart >= BUSY_SLICE_MS) lua.lua_yield(L, 0);
    return;
  }
  if (now - ctx.start >= ctx.server.config.num("lua-time-limit")) {
    ctx.server.log(
      "warning",
      `Slow script detected: still in execution after ${
        Math.round(now - ctx.start)
      } milliseconds. You can try killing the script using the ${
        ctx.isFunction ? "FUNCTION" : "SCRIPT"
      } KILL command. Script name is: ${ctx.name}.`,
    );
    lua.lua_yield(L, 0);
  }
}

/** Runs the script until it ends or yields; delivers the reply when it ends. */
function resumeScript(ctx: RunContext, nargs: number): void {
  const T = ctx.thread;
  current = ctx;
  ctx.sliceStart = performance.now();
  let status: number;
  try {
    status = lua.lua_resume(T, null, nargs);
  } catch (e) {
    // a JS exception escaping the VM (a bug): end the script with an error
    lua.lua_settop(T, 0);
    pushErrorTable(T, `ERR ${(e as Error).message}`);
    status = -1;
  }
  if (status === lua.LUA_YIELD) {
    if (!ctx.busy) enterBusy(ctx);
    setTimeout(() => resumeScript(ctx, 0), 0);
    return;
  }
  current = null;
  const c = ctx.caller;
  const wasBusy = ctx.busy;
  if (wasBusy) leaveBusy(ctx);
  releasePropagation(ctx.server);
  if (!c.closed) {
    if (status === lua.LUA_OK && lua.lua_toboolean(T, 1)) {
      lua.lua_settop(T, 2);
      luaToReply(T, c, ctx.resp);
    } else replyScriptError(T, c, ctx.name);
  }
  lua.lua_settop(T, 0);
  ctx.vm!.unref(ctx.threadRef);
  if (wasBusy) {
    const server = ctx.server;
    server.afterCommand();
    if (!c.closed) {
      server.blocking.unblock(c);
      c.scheduleFlush();
      c.resume();
    }
  }
}

/**
 * A script's effects stay queued while it runs and are propagated when it ends, so they
 * form one MULTI/EXEC even when a busy script spans event-loop turns.
 */
function releasePropagation(server: Server): void {
  server.propagationHeld = false;
  // a script that yielded ends outside any command: nothing else would flush it now
  if (server.executing === 0) server.flushPropagation();
}

function enterBusy(ctx: RunContext): void {
  const server = ctx.server;
  ctx.busy = true;
  const verb = ctx.isFunction ? "FUNCTION" : "SCRIPT";
  setBusyScript(
    server,
    `BUSY Redis is busy running a script. You can only call ${verb} KILL or SHUTDOWN NOSAVE.`,
  );
  // the caller waits for the reply; its pipeline resumes when the script ends
  ctx.caller.blocked = {
    keys: [],
    db: ctx.caller.db,
    spec: ctx.caller.spec!,
    argv: ctx.caller.argv,
    timer: undefined,
    onTimeout: undefined,
    kind: "pause",
  };
  server.blocking.blockedCount++;
  // like Redis, keys do not expire actively while a script is busy
  ctx.activeExpire = server.activeExpireEnabled;
  server.activeExpireEnabled = false;
}

function leaveBusy(ctx: RunContext): void {
  const server = ctx.server;
  setBusyScript(server, null);
  server.activeExpireEnabled = ctx.activeExpire;
  // what waited for the script (a replica's stream from its primary) goes on
  for (const hook of server.busyEndHooks) queueMicrotask(hook);
}

/**
 * SCRIPT KILL / FUNCTION KILL (Redis: scriptKill): null when the running script will
 * stop, else the error to reply with.
 */
export function killScript(server: Server, isEval: boolean): string | null {
  const ctx = current;
  if (ctx === null || ctx.server !== server) return "NOTBUSY No scripts in execution right now.";
  if (ctx.caller.isMaster) {
    return "UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed.";
  }
  if (ctx.wrote) {
    return "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
  }
  if (isEval && ctx.isFunction) {
    return "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
  }
  if (!isEval && !ctx.isFunction) {
    return "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
  }
  ctx.killed = true;
  return null;
}

function pushArray(L: LuaState, items: string[]): void {
  lua.lua_createtable(L, items.length, 0);
  for (let i = 0; i < items.length; i++) {
    pushStr(L, items[i]);
    lua.lua_rawseti(L, -2, i + 1);
  }
}

/** Replies with the error at the top of the stack the way Redis formats it. */
function replyScriptError(L: LuaState, c: Client, name: string): void {
  if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) {
    const msg = lua.lua_isstring(L, -1) ? toStr(L, -1) : "execution failure";
    c.error(`ERR Error running script ${name}, ${msg.slice(0, 100)}`);
    return;
  }
  const info = errorInfo(L);
  let msg = info.msg;
  if (info.line !== null && info.source !== null) {
    msg += ` script: ${name}, on ${info.source}:${info.line}.`;
  }
  msg = msg.replace(/[\r\n]/g, " ");
  if (errorCounted(L)) {
    // already in errorstats (Redis: ERR_REPLY_FLAG_NO_STATS_UPDATE)
    c.commandFailed = true;
    c.reply.error(msg);
  } else c.error(msg);
}

/** The error message of the error table at the top of the stack, without position. */
export function errorMessage(L: LuaState): string {
  if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) {
    return lua.lua_isstring(L, -1) ? toStr(L, -1) : "execution failure";
  }
  return errorInfo(L).msg;
}
