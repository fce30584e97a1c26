/**
 * Command dispatch (Redis: processCommand and call in server.c): lookup, the checks in
 * Redis's order, MULTI queueing, execution with stats, and propagation of writes.
 */
import type { Client } from "./client.ts";
import { COMMANDS } from "./commands/mod.ts";
import { type CommandSpec, CONSTANT_TIME_BIT, FLAG_BITS, fullName } from "./commands/table.ts";
import { ERR } from "./errors.ts";
import { busyScriptError } from "./scripting/busy.ts";
import { clientInfoString } from "./commands/connection.ts";

const OOM_IN_MULTI_OK = new Set(["exec", "discard", "quit", "reset"]);
const MULTI_CONTROL = new Set(["exec", "discard", "multi", "watch", "quit", "reset"]);
const PUBSUB_ALLOWED = new Set([
  "subscribe",
  "ssubscribe",
  "unsubscribe",
  "sunsubscribe",
  "psubscribe",
  "punsubscribe",
  "ping",
  "quit",
  "reset",
]);

/** Resolves argv to a command spec, or replies with Redis's error and returns null. */
/** Command names as clients spell them ("GET", "get") → spec: skips lowercasing. */
const BY_SPELLING = new Map<string, CommandSpec>();

/** The last lookup: pipelines and benchmarks repeat a command, and comparing is cheaper than hashing. */
let lastSpelling = "";
let lastSpec: CommandSpec | undefined;

export function lookupCommand(c: Client, argv: string[]): CommandSpec | null {
  const spelling = argv[0];
  let spec = spelling === lastSpelling ? lastSpec : BY_SPELLING.get(spelling);
  if (spec !== undefined) {
    // stored only on a change: a store of a new string is a write barrier
    if (spec !== lastSpec) {
      lastSpelling = spelling;
      lastSpec = spec;
    }
  } else {
    spec = COMMANDS.get(argv[0].toLowerCase());
    if (spec !== undefined && BY_SPELLING.size < 1024) BY_SPELLING.set(argv[0], spec);
  }
  if (spec === undefined) {
    let args = "";
    for (let i = 1; i < argv.length && args.length < 128; i++) {
      args += `'${argv[i].slice(0, 128 - args.length)}' `;
    }
    c.error(`ERR unknown command '${argv[0].slice(0, 128)}', with args beginning with: ${args}`);
    return null;
  }
  if (spec.subcommands === undefined) return spec;
  const name = spec.name;
  if (argv.length === 1) {
    // a container that also runs without a subcommand (COMMAND)
    if (spec.arity === -1) return spec;
    c.error(ERR.wrongArgs(name));
    return null;
  }
  const sub = spec.subcommands.get(argv[1].toLowerCase());
  if (sub === undefined) {
    c.error(
      `ERR unknown subcommand '${argv[1].slice(0, 128)}'. Try ${name.toUpperCase()} HELP.`,
    );
    return null;
  }
  return sub;
}

/** Checks arity; replies with the error and returns false when wrong. */
function arityOk(c: Client, spec: CommandSpec, argc: number): boolean {
  if ((spec.arity > 0 && spec.arity !== argc) || argc < -spec.arity) {
    c.error(ERR.wrongArgs(fullName(spec)));
    return false;
  }
  return true;
}

/** fast commands timed without a clock read (see call()) */
let fastRun = 0;

/** Processes one parsed command from a client. */
export function processCommand(c: Client, argv: string[]): void {
  const mark = c.reply.len;
  if (c.isReplica) return replicaCommand(c, argv, mark);
  dispatchCommand(c, argv);
  if (c.replyMode !== "on") applyReplyMode(c, mark);
}

/**
 * A command from a client that is one of our replicas (after SYNC/PSYNC). Its link
 * carries the replication stream only: a command that replies (PING, GET refused with
 * "Replica can't interact with the keyspace", ...) gets the replica disconnected and
 * logged, as Redis's _addReplyToBufferOrList does.
 */
function replicaCommand(c: Client, argv: string[], mark: number): void {
  const streamed = c.streamBytes;
  dispatchCommand(c, argv);
  if (c.closed || c.reply.len - mark <= c.streamBytes - streamed) return;
  const name = c.spec !== null ? fullName(c.spec) : "<unknown>";
  c.server.log(
    "warning",
    `Replica generated a reply to command '${name}', disconnecting it: ${clientInfoString(c)}`,
  );
  c.close();
}

/** CLIENT REPLY OFF / SKIP: drops the replies the command just produced. */
function applyReplyMode(c: Client, mark: number): void {
  const mode = c.replyMode;
  if (mode === "skip-next") {
    c.replyMode = "skip";
    return;
  }
  if (c.pushing) c.pushing = false;
  else if (c.reply.len > mark) c.reply.len = mark;
  if (mode === "skip") c.replyMode = "on";
}

/** Whether CLIENT PAUSE holds this command (Redis: the postpone check of processCommand). */
function pausedFor(c: Client, spec: CommandSpec, argv: string[]): boolean {
  const pause = c.server.pause!;
  // the master link is paused too (its stream is read but not applied), replicas and
  // internal clients (scripts, AOF loading) never are
  if (c.isReplica || (c.conn === null && !c.isMaster)) return false;
  if (!pause.writeOnly) return true;
  if (mayReplicate(spec, c, argv)) return true;
  if (spec.name === "exec" && c.multi !== null) {
    return c.multi.some((q) => mayReplicate(q.spec, c, q.argv));
  }
  return false;
}

const B_WRITE = FLAG_BITS.write;
const B_DENYOOM = FLAG_BITS.denyoom;
const B_MAY_REPLICATE = FLAG_BITS.may_replicate;
const B_NO_MULTI = FLAG_BITS.no_multi;
const B_NO_AUTH = FLAG_BITS.no_auth;
const B_STALE = FLAG_BITS.stale;
const B_LOADING = FLAG_BITS.loading;
const B_NO_ASYNC_LOADING = FLAG_BITS.no_async_loading;
const B_ALLOW_BUSY = FLAG_BITS.allow_busy;
const B_SKIP_MONITOR = FLAG_BITS.skip_monitor;
const B_ADMIN = FLAG_BITS.admin;
const B_FAST = FLAG_BITS.fast;
const B_READONLY = FLAG_BITS.readonly;
function mayReplicate(spec: CommandSpec, c: Client, argv: string[]): boolean {
  return (bitsOf(spec, c, argv) & (B_WRITE | B_MAY_REPLICATE)) !== 0;
}

/** The flag bits a call runs with (Redis's getCommandFlags). */
function bitsOf(spec: CommandSpec, c: Client, argv: string[]): number {
  return spec.runtimeBits !== undefined ? spec.runtimeBits(c, argv) : spec.bits;
}

function dispatchCommand(c: Client, argv: string[]): void {
  const server = c.server;
  if (!server.clockFresh) server.readClock();
  server.cachedNow = Math.floor(server.wallOffset + server.clock);
  const spec = lookupCommand(c, argv);
  // a replica's refused command is named in the logs (Redis sets lastcmd before checks)
  if (c.isReplica && spec !== null) c.spec = spec;
  if (spec === null || !arityOk(c, spec, argv.length)) {
    if (c.multi !== null) c.multiError = true;
    if (spec !== null) server.stats.rejected(spec);
    return;
  }
  const rejection = checkCommand(c, spec, argv);
  if (rejection !== null) {
    server.stats.rejected(spec);
    if (spec.name === "exec") {
      // Redis's execCommandAbort: a refused EXEC discards the transaction
      c.error(`EXECABORT Transaction discarded because of: ${rejection}`);
      if (c.multi !== null) {
        c.multi = null;
        c.multiError = false;
        server.unwatchAll(c);
      }
      return;
    }
    c.error(rejection);
    if (c.multi !== null) c.multiError = true;
    return;
  }
  // maxmemory-clients: clients over the limit are evicted before the command runs; a
  // client that evicted itself runs nothing more (Redis's processCommand)
  if (server.clientEviction !== null && server.clientEviction(c)) return;
  if (server.pause !== null && pausedFor(c, spec, argv)) {
    c.spec = spec;
    c.argv = argv;
    server.postpone(c);
    return;
  }
  if (c.multi !== null && !MULTI_CONTROL.has(spec.parent ?? spec.name)) {
    c.queue(spec, argv);
    c.reply.simple("QUEUED");
    return;
  }
  const replOffset = server.replOffset;
  const tracking = server.tracking;
  if (tracking !== null) tracking.current = c;
  call(c, spec, argv);
  server.afterCommand();
  if (tracking !== null) tracking.afterCommand(c, spec);
  // WAIT waits for the offset right after this client's last propagated write
  if (server.replOffset !== replOffset) c.woff = server.replOffset;
}

/** Redis's pre-execution checks, in Redis's order; returns an error or null. */
function checkCommand(c: Client, spec: CommandSpec, argv: string[]): string | null {
  const server = c.server;
  // Redis's getCommandFlags: EVAL/FCALL are checked with the flags their script declares
  const flags = bitsOf(spec, c, argv);
  if (c.multi !== null && (flags & B_NO_MULTI) !== 0) {
    return "ERR Command not allowed inside a transaction";
  }
  if (!c.authenticated && (flags & B_NO_AUTH) === 0) return ERR.noAuth;
  // the master link runs as a superuser (Redis: the master client has no ACL user)
  if (server.aclCheck !== null && !c.isMaster) {
    const denied = server.aclCheck(c, spec, argv);
    if (denied !== null) return denied;
  }
  // EXEC counts as a write (and may be refused for OOM) when its queue holds writes
  const queued = spec.name === "exec" && c.multi !== null ? c.multi : null;
  const isWrite = (flags & B_WRITE) !== 0 ||
    (queued !== null && queued.some((q) => (bitsOf(q.spec, c, q.argv) & B_WRITE) !== 0));
  // queueing in MULTI may use unlimited memory: under OOM only EXEC (of a queue without
  // denyoom commands), DISCARD, QUIT and RESET pass (Redis's reject_cmd_on_oom)
  const denyOom = (flags & B_DENYOOM) !== 0 ||
    (queued !== null && queued.some((q) => (bitsOf(q.spec, c, q.argv) & B_DENYOOM) !== 0)) ||
    (c.multi !== null && (spec.parent !== undefined || !OOM_IN_MULTI_OK.has(spec.name)));
  // with maxmemory set, every command first evicts what the policy allows (Redis's
  // performEvictions); denyoom ones are refused when memory stays above the limit
  if (
    server.maxmemoryExceeded !== null && server.maxmemoryExceeded() && denyOom && !c.isMaster
  ) return ERR.oom;
  if (isWrite && !c.isMaster && server.writeGuard !== null) {
    const denied = server.writeGuard(c, spec);
    if (denied !== null) return denied;
  }
  if (
    c.reply.resp === 2 && (c.channels.size + c.patterns.size + c.shardChannels.size) > 0 &&
    !PUBSUB_ALLOWED.has(spec.name)
  ) {
    return `ERR Can't execute '${
      fullName(spec)
    }': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`;
  }
  // EXEC is refused too when its queue holds a command a stale replica refuses
  if (
    server.staleGuard !== null &&
    ((flags & B_STALE) === 0 ||
      (queued !== null && queued.some((q) => (bitsOf(q.spec, c, q.argv) & B_STALE) === 0)))
  ) {
    const denied = server.staleGuard(c, spec);
    if (denied !== null) return denied;
  }
  if (server.loading && (flags & B_LOADING) === 0) return ERR.loading;
  if (server.asyncLoading && (flags & B_NO_ASYNC_LOADING) !== 0) return ERR.loading;
  const busy = busyScriptError(server);
  if (busy !== null && (flags & B_ALLOW_BUSY) === 0) return busy;
  // a replica link must not be used to reach around CLIENT PAUSE (replicas are exempt)
  if (c.isReplica && (flags & (B_MAY_REPLICATE | B_WRITE | B_READONLY)) !== 0) {
    return "ERR Replica can't interact with the keyspace";
  }
  return null;
}

/**
 * Executes a command (Redis's call()): runs the handler, records stats and the slow
 * log, and queues the propagation of a command that changed the dataset.
 */
export function call(c: Client, spec: CommandSpec, argv: string[]): void {
  const server = c.server;
  const dirtyBefore = server.dirty;
  c.spec = spec;
  c.argv = argv;
  c.propagateArgv = null;
  c.preventPropagation = false;
  c.commandFailed = false;
  server.executing++;
  const start = server.clockFresh ? server.clock : server.readClock();
  // scripts (skip_monitor: EVAL*, FCALL*) are shown before the commands they run
  if (server.monitors.size > 0 && (spec.bits & B_SKIP_MONITOR) !== 0 && !c.reprocessing) {
    server.feedMonitors(c, argv);
  }
  try {
    spec.handler(c, argv);
  } finally {
    server.executing--;
  }
  // EXEC ran its queued commands through call(): the client's command is EXEC again
  // (CLIENT LIST cmd=exec, EXEC kept out of the slow log)
  c.spec = spec;
  // MONITOR sees a command after it ran (EXEC after its commands, SELECT with the new
  // db), once (not when a blocked command is re-run); admin commands are never shown
  // and secrets are redacted (Redis 7.0)
  if (
    server.monitors.size > 0 && !c.reprocessing && (spec.bits & (B_SKIP_MONITOR | B_ADMIN)) === 0
  ) {
    server.feedMonitors(c, spec.redact ? spec.redact(argv) : argv);
  }
  // the last command of a chunk is timed exactly; those before it to the millisecond, and
  // a fast (O(1)) command before others not at all, but for every 32nd (a Date.now() per
  // command is a tenth of the cost of a pipelined SET)
  let end: number;
  if (!server.clockFresh || !server.moreInBatch) end = server.readClock();
  else if ((spec.bits & (B_FAST | CONSTANT_TIME_BIT)) !== 0 && (++fastRun & 31) !== 0) {
    end = server.clock;
  } else end = server.tickClock();
  const usec = Math.round((end - start) * 1000);
  // a command left waiting is counted and slow-logged when it ends (Redis's blocked.c)
  const waiting = server.blocking.blockedCount > 0 && server.blocking.leftWaiting(c);
  if (!waiting) server.stats.called(spec, usec, c.commandFailed);
  if (usec >= server.slowlogMinUsec && server.slowlogHook !== null && !waiting) {
    server.slowlogHook(c, spec.redact ? spec.redact(argv) : argv, usec);
  }
  if (server.dirty !== dirtyBefore && !c.preventPropagation && server.sinks.length > 0) {
    server.alsoPropagate(c.db.id, c.propagateArgv ?? argv);
  }
  // client-side caching: remember the keys a read-only command fetched
  if ((spec.bits & B_READONLY) !== 0 && server.tracking !== null) {
    server.tracking.afterRead(c, spec, argv);
  }
}
