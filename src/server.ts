/**
 * The server (Redis: server.c): listeners and accept loop, client registry, databases,
 * the propagation point, cron (active expiry, stats), logging and shutdown. Feature
 * modules (replication, persistence, pub/sub, ACL) attach through the hooks below.
 */
import { Client, type OutputLimit } from "./client.ts";
import { Config } from "./config.ts";
import { Db, type KeyspaceHost } from "./store/db.ts";
import { Blocking } from "./blocking.ts";
import type { Tracking } from "./tracking.ts";
import { encodeCommandShared } from "./resp/writer.ts";
import type { CommandSpec } from "./commands/table.ts";
import { fullName } from "./commands/table.ts";
import { binaryToUtf8 } from "./resp/bytes.ts";
import { busyScriptError } from "./scripting/busy.ts";
import { logo, showLogo, startingLines } from "./logo.ts";

/** Redis's reply to a non-loopback client in protected mode (then it closes). */
const PROTECTED_MODE_DENIED =
  "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/** A unix socket or loopback TCP peer (Redis's islocalClient). */
function isLocalConn(conn: Deno.Conn): boolean {
  const a = conn.remoteAddr;
  if (a.transport !== "tcp") return true;
  const h = a.hostname;
  return h.startsWith("127.") || h === "::1" || h.startsWith("::ffff:127.");
}

/** Receives every propagated command (replication backlog and replicas, AOF). */
export interface PropagationSink {
  /**
   * `command` is one RESP-encoded command for database `dbId`, only borrowed: it is
   * reused by the next command, so a sink that keeps it copies it
   */
  feed(dbId: number, command: Uint8Array): void;
  /** the replication stream: also gets replication-only commands (PUBLISH, SPUBLISH) */
  readonly replication?: boolean;
}

/** Per-command statistics (INFO commandstats). */
export interface CommandStat {
  calls: number;
  usec: number;
  rejected: number;
  failed: number;
  /** calls per latency bucket: bucket i counts durations below 2^i µs (INFO latencystats) */
  histogram?: Uint32Array;
}

/** Server-wide counters (INFO stats, errorstats, commandstats). */
export class Stats {
  startTime = Date.now();
  totalConnections = 0;
  rejectedConnections = 0;
  totalCommands = 0;
  netInputBytes = 0;
  netOutputBytes = 0;
  /** bytes read from our primary / written to our replicas (total_net_repl_*_bytes) */
  netReplInputBytes = 0;
  netReplOutputBytes = 0;
  expiredKeys = 0;
  evictedKeys = 0;
  /** clients closed by maxmemory-clients (INFO evicted_clients) */
  evictedClients = 0;
  /** values Redis would free in the background (INFO lazyfreed_objects) */
  lazyfreedObjects = 0;
  keyspaceHits = 0;
  keyspaceMisses = 0;
  totalErrorReplies = 0;
  /** errors replied to a replica or master link (INFO unexpected_error_replies) */
  unexpectedErrorReplies = 0;
  /** socket reads and writes (total_reads_processed, total_writes_processed) */
  totalReads = 0;
  totalWrites = 0;
  /** background saves and rewrites started (INFO stats total_forks: Redis forks for them) */
  totalForks = 0;
  /** reply buffers resized by the clients cron (INFO stats reply_buffer_*) */
  replyBufferShrinks = 0;
  replyBufferExpands = 0;
  /** INFO stats sync_full / sync_partial_ok / sync_partial_err (replication counts them) */
  syncFull = 0;
  syncPartialOk = 0;
  syncPartialErr = 0;
  commands = new Map<CommandSpec, CommandStat>();
  errors = new Map<string, number>();
  /** instantaneous ops/sec samples */
  #opsSamples: number[] = [];
  #lastOpsCount = 0;
  #lastOpsTime = performance.now();
  #lastInput = 0;
  #lastOutput = 0;
  #inSamples: number[] = [];
  #outSamples: number[] = [];

  /** the last command's entry: pipelines repeat a command, comparing beats hashing */
  #lastSpec: CommandSpec | null = null;
  #lastStat: CommandStat | null = null;

  #stat(spec: CommandSpec): CommandStat {
    if (spec === this.#lastSpec) return this.#lastStat!;
    let s = this.commands.get(spec);
    if (s === undefined) {
      s = { calls: 0, usec: 0, rejected: 0, failed: 0 };
      this.commands.set(spec, s);
    }
    this.#lastSpec = spec;
    this.#lastStat = s;
    return s;
  }

  /** A command ran. */
  called(spec: CommandSpec, usec: number, failed: boolean): void {
    const s = this.#stat(spec);
    s.calls++;
    s.usec += usec;
    const h = s.histogram ??= new Uint32Array(33);
    h[usec <= 0 ? 0 : 32 - Math.clz32(usec)]++;
    if (failed) s.failed++;
    this.totalCommands++;
  }

  /** A command was rejected before running. */
  rejected(spec: CommandSpec): void {
    this.#stat(spec).rejected++;
  }

  /** An error reply was sent: counted by its code (the first word). */
  countError(msg: string): void {
    this.totalErrorReplies++;
    const sp = msg.indexOf(" ");
    const code = sp < 0 ? msg : msg.slice(0, sp);
    if (this.errors.size >= 128 && !this.errors.has(code)) return;
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  /** Samples instantaneous metrics (called from cron). */
  sample(): void {
    const now = performance.now();
    const dt = (now - this.#lastOpsTime) / 1000;
    if (dt <= 0) return;
    const push = (arr: number[], v: number) => {
      arr.push(v);
      if (arr.length > 16) arr.shift();
    };
    push(this.#opsSamples, (this.totalCommands - this.#lastOpsCount) / dt);
    push(this.#inSamples, (this.netInputBytes - this.#lastInput) / dt / 1024);
    push(this.#outSamples, (this.netOutputBytes - this.#lastOutput) / dt / 1024);
    this.#lastOpsCount = this.totalCommands;
    this.#lastInput = this.netInputBytes;
    this.#lastOutput = this.netOutputBytes;
    this.#lastOpsTime = now;
  }

  /** instantaneous_ops_per_sec, instantaneous_input_kbps, instantaneous_output_kbps */
  instantaneous(): { ops: number; inKbps: number; outKbps: number } {
    const avg = (a: number[]) => a.length === 0 ? 0 : a.reduce((x, y) => x + y, 0) / a.length;
    return {
      ops: Math.round(avg(this.#opsSamples)),
      inKbps: avg(this.#inSamples),
      outKbps: avg(this.#outSamples),
    };
  }

  /** CONFIG RESETSTAT */
  reset(): void {
    this.totalConnections = 0;
    this.rejectedConnections = 0;
    this.totalCommands = 0;
    this.netInputBytes = 0;
    this.netOutputBytes = 0;
    this.netReplInputBytes = 0;
    this.netReplOutputBytes = 0;
    this.expiredKeys = 0;
    this.evictedKeys = 0;
    this.evictedClients = 0;
    this.lazyfreedObjects = 0;
    this.keyspaceHits = 0;
    this.keyspaceMisses = 0;
    this.totalErrorReplies = 0;
    this.unexpectedErrorReplies = 0;
    this.totalReads = 0;
    this.totalWrites = 0;
    this.replyBufferShrinks = 0;
    this.replyBufferExpands = 0;
    this.totalForks = 0;
    this.syncFull = 0;
    this.syncPartialOk = 0;
    this.syncPartialErr = 0;
    this.commands.clear();
    this.#lastSpec = this.#lastStat = null;
    this.errors.clear();
  }
}

/** Redis's REPLY_BUFFER_DEFAULT_PEAK_RESET_TIME (ms) */
export const REPLY_BUFFER_PEAK_RESET_MS = 5000;

const LOG_LEVELS = { debug: 0, verbose: 1, notice: 2, warning: 3 } as const;
type LogLevel = keyof typeof LOG_LEVELS;
const LOG_MARKS: Record<LogLevel, string> = { debug: ".", verbose: "-", notice: "*", warning: "#" };
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The Redeno server. */
export class Server implements KeyspaceHost {
  readonly config: Config;
  readonly dbs: Db[];
  readonly stats = new Stats();
  readonly blocking: Blocking;
  readonly clients = new Map<number, Client>();
  readonly runId = randomHex(40);
  readonly monitors = new Set<Client>();
  /** changes since the last save (Redis's server.dirty) */
  dirty = 0;
  /** master_repl_offset: bytes fed to the replication stream (replication keeps it) */
  replOffset = 0;
  /**
   * The repl-id / repl-offset / repl-stream-db aux fields an RDB saved now must carry
   * (null: none). Replication sets it; persistence passes it to the snapshots it saves,
   * so a restarted replica can PSYNC from where it stopped.
   */
  rdbSaveInfo: () => { replid: string; offset: number; replStreamDb: number } | null = () => null;
  /** cached unix ms for the running command */
  cachedNow = Date.now();
  /**
   * Monotonic ms (performance.now()) at the end of the last command of the read chunk
   * being executed, valid while `clockFresh`: the next command starts then, so timing a
   * command costs one clock read, not two (Client.processInput, dispatch's call()).
   */
  clock = 0;
  clockFresh = false;
  /** more commands follow in the read chunk being executed (set by Client.processInput) */
  moreInBatch = false;
  /** Date.now() at the last precise clock read (tickClock) */
  #clockDate = 0;

  /** Reads the precise monotonic clock into `clock`. */
  readClock(): number {
    this.#clockDate = Date.now();
    return this.clock = performance.now();
  }

  /**
   * The clock at the end of a command followed by others in the same read chunk: read
   * again only once the millisecond changed (performance.now() costs several times
   * Date.now()), so a pipelined chunk costs about one precise read, and `clock` lags the
   * true time by under 1 ms.
   */
  tickClock(): number {
    return Date.now() === this.#clockDate ? this.clock : this.readClock();
  }
  /**
   * Unix ms at performance.now() === 0 (sub-millisecond: Date.now() alone would lag the
   * wall clock by up to 1 ms), resynchronized by the cron if the system clock moves
   */
  wallOffset = performance.timeOrigin;
  /** nesting depth of command execution */
  executing = 0;
  /** true while EXEC runs its queue (blocking commands do not block) */
  inExec = false;
  /** true while loading a dataset (LOADING errors) */
  loading = false;
  /**
   * true while a replica loads a new dataset from its primary in the background
   * (repl-diskless-load swapdb, same history): the old one is served meanwhile, and only
   * no_async_loading commands get LOADING
   */
  asyncLoading = false;
  /** snapshots being produced for replicas' full syncs (INFO rdb_bgsave_in_progress) */
  replSnapshots = 0;
  /** unix ms of the last successful save (LASTSAVE; persistence updates it) */
  lastSave = Date.now();
  /** client-output-buffer-limit normal, or null when it sets no limit */
  normalOutputLimit: OutputLimit | null = null;
  /** DEBUG SET-ACTIVE-EXPIRE: whether the cron expires keys actively */
  activeExpireEnabled = true;
  /** the ports actually listened on */
  port = 0;
  readonly listeners: Deno.Listener[] = [];
  #pendingOps: Array<{ dbId: number; argv: string[]; targets: number }> = [];
  /**
   * Where commands executed now are propagated (Redis's PROPAGATE_AOF = 1 |
   * PROPAGATE_REPL = 2): a script narrows it with redis.set_repl()
   */
  propagateTargets = PROPAGATE_ALL;
  /**
   * While true, queued commands are not fed to the sinks: a script that yields to the
   * event loop (busy script) keeps its effects together until it ends.
   */
  propagationHeld = false;
  #cron: ReturnType<typeof setInterval> | undefined;
  #shuttingDown = false;

  // ---- hooks for feature modules ----
  /** propagation sinks: replication, AOF */
  readonly sinks: PropagationSink[] = [];
  /** true on a replica: keys are not expired locally */
  isReplica = false;
  /** true while a command from our primary runs (expired keys stay visible to it) */
  masterExecuting = false;
  /** snapshot copy-on-write active (persistence sets it) */
  cowActive = false;
  /** maxmemory-policy is an LFU policy (Db counts accesses only then) */
  lfuPolicy = false;
  beforeKeyChange: KeyspaceHost["beforeKeyChange"] = undefined;
  /** "new" / "keymiss" keyspace notifications (set by pub/sub only when configured) */
  keyAdded: KeyspaceHost["keyAdded"] = undefined;
  keyMiss: KeyspaceHost["keyMiss"] = undefined;
  /** ACL permission check: an error string to reject with, or null */
  aclCheck: ((c: Client, spec: CommandSpec, argv: string[]) => string | null) | null = null;
  /** whether the client's user may read every key with its current command (SORT BY/GET) */
  fullKeyReadAccess: (c: Client) => boolean = () => true;
  /**
   * Called before a client's replies are written (AOF): a promise to wait for (the
   * writes being acknowledged are not yet on disk), or null to write at once.
   */
  replyBarrier: (() => Promise<void> | null) | null = null;
  /** write refusals (READONLY, NOREPLICAS, MISCONF): an error string or null */
  writeGuard: ((c: Client, spec: CommandSpec) => string | null) | null = null;
  /** stale-data refusal (MASTERDOWN): an error string or null */
  staleGuard: ((c: Client, spec: CommandSpec) => string | null) | null = null;
  /**
   * Set while maxmemory is non-zero (src/evict.ts): evicts keys as needed before a
   * command, and returns true when used memory stays above the limit (-OOM)
   */
  maxmemoryExceeded: (() => boolean) | null = null;
  /**
   * maxmemory-clients: measures the client before its command and evicts clients over
   * the limit; true when the client itself was evicted (null: no limit)
   */
  clientEviction: ((c: Client, now?: boolean) => boolean) | null = null;
  /** maxmemory-clients: a client was given output outside its own commands */
  clientOutputGrew: ((c: Client) => void) | null = null;
  /** DEBUG REPLYBUFFER RESIZING / PEAK-RESET-TIME (Redis's reply_buffer_* settings) */
  replyBufferResizing = true;
  replyBufferPeakResetMs = REPLY_BUFFER_PEAK_RESET_MS;
  /** maxmemory accounting: sizes a key for Db.memBytes (null: not accounted) */
  keySizer: KeyspaceHost["keySizer"] = null;
  /** client-side caching tables (tracking.ts), created when a client first tracks */
  tracking: Tracking | null = null;
  /** slow log */
  slowlogHook: ((c: Client, argv: string[], usec: number) => void) | null = null;
  /** the shortest run (µs) the slow log or latency monitor records; Infinity: none */
  slowlogMinUsec = Infinity;
  /** Latency monitor sample (event, ms), e.g. "expire-cycle"; set by the server core. */
  latencyHook: ((event: string, ms: number) => void) | null = null;
  /** keyspace notifications (pub/sub module replaces this) */
  notify: (type: string, event: string, key: string, dbId: number) => void = () => {};
  /** false while notify-keyspace-events is empty: notify() would do nothing */
  notifying = false;
  /** INFO stats migrate_cached_sockets (src/commands/migrate.ts keeps it current) */
  migrateCachedSockets = 0;
  /** INFO sections contributed by modules: name → text lines ("field:value") */
  readonly infoSections = new Map<string, () => string[]>();
  /** periodic work, run every cron tick (100 ms at hz 10) */
  readonly cronHooks: Array<() => void> = [];
  /** run when a busy script ends (what it held back may go on) */
  readonly busyEndHooks: Array<() => void> = [];
  /** unix ms by which a shutdown waiting for replicas gives up; 0 when none is */
  shutdownMstime = 0;
  /** DEBUG PAUSE-CRON: the periodic tasks (and cron hooks) do not run meanwhile */
  cronPaused = false;
  /** called when a client disconnects */
  readonly closeHooks: Array<(c: Client) => void> = [];
  /** called on shutdown before exiting (persistence saves here); may refuse */
  readonly shutdownHooks: Array<(opts: ShutdownOptions) => Promise<void>> = [];
  /** called at start before listening (persistence loads here) */
  readonly startHooks: Array<() => Promise<void>> = [];
  /** called after SHUTDOWN completes; main.ts exits the process */
  onExit: (code: number) => void = () => {};

  constructor(config: Config) {
    this.config = config;
    const n = config.num("databases");
    this.dbs = Array.from({ length: n }, (_, i) => new Db(i, this));
    this.blocking = new Blocking(this);
    this.lfuPolicy = config.get("maxmemory-policy").includes("lfu");
    config.onChange((name, value) => {
      if (name === "maxmemory-policy") this.lfuPolicy = value.includes("lfu");
    });
  }

  // ---- KeyspaceHost ----
  now(): number {
    return this.executing > 0 ? this.cachedNow : Date.now();
  }

  keyExpired(db: Db, key: string): void {
    this.stats.expiredKeys++;
    this.keyModified(db, key);
    this.notify("x", "expired", key, db.id);
    this.alsoPropagate(db.id, ["DEL", key]);
    if (this.executing === 0) this.flushPropagation();
  }

  keyModified(db: Db, key: string): void {
    if (this.keySizer !== null) this.#resize(db, key);
    if (this.tracking !== null) this.tracking.invalidateKey(key);
    if (db.watched.size === 0) return;
    const watchers = db.watched.get(key);
    if (watchers) { for (const w of watchers) w.dirtyCas = true; }
  }

  /** maxmemory accounting: the key changed size (or is gone: #remove subtracted it) */
  #resize(db: Db, key: string): void {
    const e = db.dict.get(key);
    if (e === undefined) return;
    const bytes = this.keySizer!(key, e);
    db.memBytes += bytes - e.mem;
    e.mem = bytes;
  }

  keyReady(db: Db, key: string): void {
    if (this.blocking.blockedCount > 0) this.blocking.keyReady(db, key);
  }

  // ---- propagation ----
  /** Queues a command for propagation (flushed after the current execution unit). */
  alsoPropagate(dbId: number, argv: string[], replOnly = false): void {
    // nothing to feed (no replicas, no AOF): the op would be dropped at the flush anyway
    if (this.sinks.length === 0) return;
    const targets = replOnly ? PROPAGATE_REPL : this.propagateTargets;
    if (targets !== 0) this.#pendingOps.push({ dbId, argv, targets });
  }

  /**
   * Feeds queued commands to every sink, wrapped in MULTI/EXEC when more than one
   * (unless `wrapMulti` is false: lazy expiry by SCAN/RANDOMKEY, as Redis's
   * CMD_TOUCHES_ARBITRARY_KEYS).
   */
  flushPropagation(wrapMulti = true): void {
    const ops = this.#pendingOps;
    if (ops.length === 0 || this.propagationHeld) return;
    this.#pendingOps = [];
    if (this.sinks.length === 0) return;
    const wrap = wrapMulti && ops.length > 1;
    if (wrap) this.#feed(ops[0].dbId, ["MULTI"], PROPAGATE_ALL);
    for (const op of ops) this.#feed(op.dbId, op.argv, op.targets);
    if (wrap) this.#feed(ops[ops.length - 1].dbId, ["EXEC"], PROPAGATE_ALL);
  }

  /** targets: PROPAGATE_AOF (sinks other than replication) and/or PROPAGATE_REPL */
  #feed(dbId: number, argv: string[], targets: number): void {
    const bytes = encodeCommandShared(argv);
    for (const sink of this.sinks) {
      if ((targets & (sink.replication === true ? PROPAGATE_REPL : PROPAGATE_AOF)) === 0) {
        continue;
      }
      sink.feed(dbId, bytes);
    }
  }

  /** Work after each top-level command: serve blocked clients, then propagate. */
  afterCommand(): void {
    // a command run while a script is busy (PING, HELLO, SCRIPT KILL...) must not serve
    // clients blocked on keys the unfinished script touched (Redis serves them when the
    // script's own call ends)
    if (this.blocking.blockedCount > 0 && busyScriptError(this) === null) {
      this.blocking.handleReadyKeys();
    }
    this.flushPropagation();
  }

  // ---- monitors ----
  /** Feeds a command to MONITOR clients in Redis's format. */
  feedMonitors(c: Client, argv: string[]): void {
    const t = Date.now();
    const head = `${Math.floor(t / 1000)}.${
      String((t % 1000) * 1000).padStart(6, "0")
    } [${c.db.id} ${c.conn === null ? (c.isMaster ? "master" : "lua") : c.addr}]`;
    const args = argv.map((a) => `"${escapeMonitorArg(a)}"`).join(" ");
    for (const m of this.monitors) {
      if (m === c) continue;
      m.reply.simple(`${head} ${args}`);
      m.scheduleFlush();
      if (this.normalOutputLimit !== null) m.checkOutputLimit(this.normalOutputLimit);
    }
  }

  // ---- clients ----
  /** Registers a connection and runs its client. */
  acceptConnection(conn: Deno.Conn): void {
    this.stats.totalConnections++;
    const maxclients = this.config.num("maxclients");
    if (this.clients.size >= maxclients) {
      this.stats.rejectedConnections++;
      const msg = new TextEncoder().encode("-ERR max number of clients reached\r\n");
      conn.write(msg).catch(() => {}).finally(() => {
        try {
          conn.close();
        } catch { /* gone */ }
      });
      return;
    }
    // protected mode: without a password only loopback (and unix socket) clients
    if (
      this.config.bool("protected-mode") && this.defaultUserNoPass() && !isLocalConn(conn)
    ) {
      this.stats.rejectedConnections++;
      conn.write(new TextEncoder().encode(PROTECTED_MODE_DENIED)).catch(() => {}).finally(
        () => {
          try {
            conn.close();
          } catch { /* gone */ }
        },
      );
      return;
    }
    try {
      (conn as Deno.TcpConn).setNoDelay(true);
    } catch { /* not TCP */ }
    const c = new Client(this, conn);
    c.authenticated = this.defaultUserNoPass();
    // Redis limits what an unauthenticated client may send (multibulk and bulk sizes)
    c.parser.limits.unauthenticated = !c.authenticated;
    this.clients.set(c.id, c);
    c.run();
  }

  /** Whether a new connection starts authenticated (ACL replaces this). */
  defaultUserNoPass: () => boolean = () => this.config.get("requirepass") === "";

  /**
   * Checks a user name and password (HELLO AUTH, AUTH): an error reply or null when
   * they are valid. The default checks `requirepass` for the default user; the ACL
   * module replaces it.
   */
  authenticate: (user: string, pass: string) => string | null = (user, pass) => {
    const requirePass = this.config.get("requirepass");
    if (user === "default" && (requirePass === "" || pass === requirePass)) return null;
    return "WRONGPASS invalid username-password pair or user is disabled.";
  };

  /** Whether an ACL user exists (CLIENT KILL USER); the ACL module replaces it. */
  userExists: (name: string) => boolean = (name) => name === "default";

  /** called by RESET (modules drop per-client state: subscriptions, tracking...) */
  readonly resetHooks: Array<(c: Client) => void> = [];

  /** Forgets every key the client WATCHes (UNWATCH, EXEC, RESET, disconnect). */
  unwatchAll(c: Client): void {
    for (const w of c.watched) {
      const set = w.db.watched.get(w.key);
      if (set) {
        set.delete(c);
        if (set.size === 0) w.db.watched.delete(w.key);
      }
    }
    c.watched = [];
    c.dirtyCas = false;
  }

  // ---- CLIENT PAUSE ----
  /** the active pause: until when (unix ms) and whether only writes are paused */
  pause: { until: number; writeOnly: boolean } | null = null;
  #pauseTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #postponed: Client[] = [];

  /** CLIENT PAUSE: postpones commands (all, or writes only) for `ms` milliseconds. */
  pauseClients(ms: number, writeOnly: boolean): void {
    const until = Date.now() + ms;
    // a pause only ever extends the current one, or makes it stricter (ALL wins)
    if (this.pause !== null) {
      writeOnly = writeOnly && this.pause.writeOnly;
      if (this.pause.until > until) {
        this.pause.writeOnly = writeOnly;
        return;
      }
    }
    this.pause = { until, writeOnly };
    if (this.#pauseTimer !== undefined) clearTimeout(this.#pauseTimer);
    this.#pauseTimer = setTimeout(() => this.unpauseClients(), ms);
  }

  /** Holds a client's command until the pause ends (called by dispatch). */
  postpone(c: Client): void {
    this.blocking.block(c, { keys: [], timeoutMs: 0, kind: "pause" });
    this.#postponed.push(c);
  }

  /** Ends a pause and runs the postponed commands in arrival order. */
  unpauseClients(): void {
    if (this.#pauseTimer !== undefined) clearTimeout(this.#pauseTimer);
    this.#pauseTimer = undefined;
    this.pause = null;
    const waiting = this.#postponed.splice(0);
    for (const c of waiting) {
      const state = c.blocked;
      if (c.closed || state === null || state.kind !== "pause") continue;
      this.blocking.unblock(c);
      c.rerunPostponed(state.argv);
    }
  }

  #fdsInUse = new Set<number>();

  /** The lowest free descriptor-like number, for CLIENT LIST fd= (Deno hides real fds). */
  allocateFd(): number {
    let fd = 8;
    while (this.#fdsInUse.has(fd)) fd++;
    this.#fdsInUse.add(fd);
    return fd;
  }

  /** A client disconnected. */
  clientClosed(c: Client): void {
    this.clients.delete(c.id);
    this.#fdsInUse.delete(c.fd);
    this.monitors.delete(c);
    this.blocking.clientClosed(c);
    this.unwatchAll(c);
    for (const hook of this.closeHooks) hook(c);
  }

  // ---- lifecycle ----
  /** Loads data, starts listening and the cron. */
  async start(): Promise<void> {
    this.config.onChange((name, value) => this.#configChanged(name, value));
    this.#readNormalOutputLimit();
    for (const line of startingLines()) this.log("warning", line, "C");
    this.port = this.config.num("port");
    // like Redis: listen first (a busy port aborts before anything is loaded), then the
    // logo, then load the data while clients get -LOADING
    if (this.port !== 0) {
      try {
        for (const l of this.#listen(this.port)) {
          this.listeners.push(l);
          this.#acceptLoop(l);
        }
      } catch (e) {
        this.log("warning", `Warning: ${(e as Error).message}`);
        this.log("warning", `Failed listening on port ${this.port} (tcp), aborting.`);
        throw e;
      }
    }
    const unixsocket = this.config.get("unixsocket");
    if (unixsocket !== "") this.#listenUnix(unixsocket);
    if (showLogo(this)) this.logRaw("notice", logo(this));
    else this.log("notice", `Running mode=standalone, port=${this.port}.`);
    this.log("warning", "Server initialized");
    this.loading = true;
    try {
      for (const hook of this.startHooks) await hook();
    } finally {
      this.loading = false;
    }
    this.#startCron();
    this.log("notice", "Ready to accept connections");
  }

  /**
   * Listens again after CONFIG SET port / bind; throws when an address is unavailable,
   * leaving the current listeners in place (Redis's changeListener). Addresses that stay
   * keep their socket; the unix socket is untouched.
   */
  rebind(): void {
    const tcp = this.listeners.filter((l) => l.addr.transport === "tcp");
    const port = this.config.num("port");
    const next = port === 0 ? [] : this.#listen(port, tcp);
    for (const l of tcp) {
      if (next.includes(l)) continue;
      this.listeners.splice(this.listeners.indexOf(l), 1);
      try {
        l.close();
      } catch { /* closed */ }
    }
    for (const l of next) {
      if (tcp.includes(l)) continue;
      this.listeners.push(l);
      this.#acceptLoop(l);
    }
    this.port = port;
  }

  /**
   * Opens a listener per bind address (reusing one of `reuse` already on that address
   * and port); on failure closes the ones it opened and throws.
   */
  #listen(port: number, reuse: Deno.Listener[] = []): Deno.Listener[] {
    const binds = this.config.get("bind").split(" ").filter((b) => b !== "");
    const out: Deno.Listener[] = [];
    for (const b of binds) {
      const optional = b.startsWith("-");
      const addr = optional ? b.slice(1) : b;
      // Redis's wildcards: "*" every IPv4 address, "::*" every IPv6 one
      const hostname = addr === "*" ? "0.0.0.0" : addr === "::*" ? "::" : addr;
      const same = reuse.find((l) => {
        const a = l.addr as Deno.NetAddr;
        return a.hostname === hostname && a.port === port;
      });
      if (same !== undefined) {
        out.push(same);
        continue;
      }
      try {
        out.push(Deno.listen({ hostname, port }));
      } catch (e) {
        if (optional && !(e instanceof Deno.errors.AddrInUse)) continue;
        if (optional && out.length > 0) continue;
        for (const l of out) if (!reuse.includes(l)) l.close();
        throw new Error(
          `Could not create server TCP listening socket ${hostname}:${port}: ${
            (e as Error).message
          }`,
        );
      }
    }
    return out;
  }

  /** Listens on a unix socket too (Redis's unixsocket), replacing a stale socket file. */
  #listenUnix(path: string): void {
    try {
      Deno.removeSync(path);
    } catch { /* no stale socket */ }
    let listener: Deno.Listener;
    try {
      listener = Deno.listen({ transport: "unix", path });
    } catch (e) {
      this.log("warning", `Failed opening Unix socket: ${(e as Error).message}`);
      throw e;
    }
    this.listeners.push(listener);
    this.#acceptLoop(listener);
  }

  async #acceptLoop(listener: Deno.Listener): Promise<void> {
    try {
      for await (const conn of listener) this.acceptConnection(conn);
    } catch (e) {
      const closed = !this.listeners.includes(listener);
      if (!this.#shuttingDown && !closed && !(e instanceof Deno.errors.BadResource)) {
        this.log("warning", `Accept loop error: ${(e as Error).message}`);
      }
    }
  }

  #startCron(): void {
    const hz = Math.max(1, Math.min(500, this.config.num("hz")));
    this.#cron = setInterval(() => this.#cronTick(), Math.round(1000 / hz));
  }

  #cronTick(): void {
    if (this.cronPaused) return;
    this.cachedNow = Date.now();
    // a sample is up to 1 ms off (Date.now() truncates, the two reads are not atomic):
    // keep the precise offset unless the system clock was stepped
    const offset = this.cachedNow - performance.now();
    if (Math.abs(offset - this.wallOffset) > 20) this.wallOffset = offset;
    this.stats.sample();
    if (!this.isReplica) {
      const cycleStart = performance.now();
      const deadline = cycleStart + 25;
      for (const db of this.dbs) {
        // like Redis, keys do not expire actively while clients are paused
        if (db.volatileCount > 0 && this.pause === null && this.activeExpireEnabled) {
          db.activeExpireCycle(deadline);
        }
      }
      this.latencyHook?.("expire-cycle", performance.now() - cycleStart);
    }
    const idleTimeout = this.config.num("timeout");
    if (idleTimeout > 0) {
      const now = Date.now();
      for (const c of this.clients.values()) {
        if (
          !c.isReplica && !c.isMaster && c.blocked === null && c.channels.size === 0 &&
          c.patterns.size === 0 && now - c.lastInteraction > idleTimeout * 1000
        ) {
          this.log("verbose", "Closing idle client");
          c.close();
        }
      }
    }
    this.#clientsCron();
    for (const hook of this.cronHooks) hook();
    this.flushPropagation();
  }

  /**
   * Redis's clientsCron: each tick visits clients/hz of the clients (at least 5), so
   * every client about once a second, and resizes their query buffers.
   */
  #clientsCron(): void {
    const n = this.clients.size;
    if (n === 0) return;
    const hz = Math.max(1, Math.min(500, this.config.num("hz")));
    let visits = Math.max(Math.floor(n / hz), Math.min(n, 5));
    const nowMs = Date.now();
    const nowSec = Math.floor(nowMs / 1000);
    while (visits-- > 0) {
      let next = this.#clientsCursor?.next();
      if (next === undefined || next.done) {
        this.#clientsCursor = this.clients.values();
        next = this.#clientsCursor.next();
        if (next.done) return;
      }
      const c = next.value;
      if (c.closed) continue;
      c.parser.resize(nowSec - Math.floor(c.lastInteraction / 1000));
      c.resizeReplyBuffer(nowMs);
    }
  }
  #clientsCursor: Iterator<Client> | null = null;

  #readNormalOutputLimit(): void {
    const words = this.config.get("client-output-buffer-limit").split(" ");
    const i = words.indexOf("normal");
    const [hard, soft, softSeconds] = words.slice(i + 1, i + 4).map(Number);
    this.normalOutputLimit = hard > 0 || soft > 0 ? { hard, soft, softSeconds } : null;
  }

  #configChanged(name: string, value: string): void {
    if (name === "client-output-buffer-limit") this.#readNormalOutputLimit();
    if (name === "hz" && this.#cron !== undefined) {
      clearInterval(this.#cron);
      this.#startCron();
    }
    if (name === "proto-max-bulk-len" || name === "client-query-buffer-limit") {
      for (const c of this.clients.values()) {
        c.parser.limits.maxBulkLen = this.config.num("proto-max-bulk-len");
        c.parser.limits.maxQueryBuffer = this.config.num("client-query-buffer-limit");
      }
    }
    void value;
  }

  /**
   * Shuts down: runs shutdown hooks (which may throw to refuse, e.g. a failed save),
   * closes listeners and clients, and stops timers.
   */
  shutdown(opts: ShutdownOptions = {}): Promise<void> {
    if (this.#shuttingDown) return RESOLVED_SHUTDOWN;
    // a second SHUTDOWN while one waits for replicas waits for (and fails with) it
    if (this.#shutdownRun !== null) return this.#shutdownRun;
    const run = this.#shutdown(opts);
    this.#shutdownRun = run;
    run.then(() => this.#shutdownRun = null, () => this.#shutdownRun = null);
    return run;
  }

  /** the shutdown in progress (waiting for replicas, saving), if any */
  #shutdownRun: Promise<void> | null = null;
  /** set by SHUTDOWN ABORT: the replica wait of the shutdown in progress gives up */
  shutdownAborted = false;

  /**
   * SHUTDOWN ABORT of a shutdown waiting for its replicas (Redis's cancelShutdown): it
   * fails, and the write pause it set is lifted. False when none is waiting.
   */
  abortShutdown(): boolean {
    if (this.#shutdownRun === null || this.shutdownMstime === 0) return false;
    this.shutdownAborted = true;
    this.shutdownMstime = 0;
    this.unpauseClients();
    return true;
  }

  async #shutdown(opts: ShutdownOptions): Promise<void> {
    // with replicas to wait for, the time left is shown (INFO shutdown_in_milliseconds)
    const timeout = this.config.num("shutdown-timeout");
    const replicas = [...this.clients.values()].some((c) => c.isReplica);
    this.shutdownMstime = !opts.now && timeout > 0 && replicas ? Date.now() + timeout * 1000 : 0;
    try {
      for (const hook of this.shutdownHooks) {
        await hook(opts);
        if (this.shutdownAborted) throw new ShutdownAborted();
      }
    } catch (e) {
      // a failed shutdown lifts the write pause of its replica wait (Redis's abortShutdown)
      if (this.pause !== null && this.shutdownMstime !== 0) this.unpauseClients();
      throw e;
    } finally {
      this.shutdownMstime = 0;
      this.shutdownAborted = false;
    }
    this.#shuttingDown = true;
    this.log("warning", "Redis is now ready to exit, bye bye...");
    // the listening sockets go first, and for real: a listener closed while its accept is
    // pending keeps its socket until the event loop drops the op, so a client that sees
    // its connection end could otherwise still connect (Redis's clients see the close
    // only when the process has exited)
    this.#closeListeners();
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.stop();
  }

  #closeListeners(): void {
    for (const l of this.listeners) {
      try {
        l.close();
      } catch { /* closed */ }
    }
    this.listeners.length = 0;
  }

  /** Stops everything without saving (tests, and the end of shutdown). */
  stop(): void {
    this.#shuttingDown = true;
    if (this.#cron !== undefined) clearInterval(this.#cron);
    this.#cron = undefined;
    if (this.#pauseTimer !== undefined) clearTimeout(this.#pauseTimer);
    this.#pauseTimer = undefined;
    this.#closeListeners();
    for (const c of [...this.clients.values()]) c.close();
    for (const hook of this.stopHooks) hook();
  }

  /** called by stop(): modules release timers and sockets */
  readonly stopHooks: Array<() => void> = [];

  /** True once shutdown started. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Logs a line in Redis's format when `level` passes loglevel. */
  log(level: LogLevel, message: string, role?: string): void {
    const min = LOG_LEVELS[this.config.get("loglevel") as LogLevel] ?? 2;
    if (LOG_LEVELS[level] < min) return;
    const d = new Date();
    const stamp = `${String(d.getDate()).padStart(2, "0")} ${
      MONTHS[d.getMonth()]
    } ${d.getFullYear()} ${String(d.getHours()).padStart(2, "0")}:${
      String(d.getMinutes()).padStart(2, "0")
    }:${String(d.getSeconds()).padStart(2, "0")}.${String(d.getMilliseconds()).padStart(3, "0")}`;
    role ??= this.isReplica ? "S" : "M";
    this.logRaw(level, `${Deno.pid}:${role} ${stamp} ${LOG_MARKS[level]} ${message}\n`);
  }

  /** Writes text to the log as is (the start-up logo) when `level` passes loglevel. */
  logRaw(level: LogLevel, line: string): void {
    const min = LOG_LEVELS[this.config.get("loglevel") as LogLevel] ?? 2;
    if (LOG_LEVELS[level] < min) return;
    const file = this.config.get("logfile");
    if (file === "") {
      Deno.stdout.writeSync(new TextEncoder().encode(line));
    } else {
      try {
        Deno.writeTextFileSync(file, line, { append: true });
      } catch { /* unwritable log file: nothing sensible to do */ }
    }
  }

  /** Full name of a command, for logs. */
  commandName(spec: CommandSpec): string {
    return fullName(spec);
  }
}

/** SHUTDOWN options. */
/** Propagation targets (Redis's PROPAGATE_AOF / PROPAGATE_REPL). */
export const PROPAGATE_AOF = 1;
export const PROPAGATE_REPL = 2;
export const PROPAGATE_ALL = PROPAGATE_AOF | PROPAGATE_REPL;

/** A shutdown ended by SHUTDOWN ABORT (already logged). */
export class ShutdownAborted extends Error {
  constructor() {
    super("Shutdown manually aborted.");
  }
}

const RESOLVED_SHUTDOWN = Promise.resolve();

export interface ShutdownOptions {
  save?: boolean;
  nosave?: boolean;
  now?: boolean;
  force?: boolean;
}

/** Random lowercase hex string (run ids, replids). */
export function randomHex(n: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil(n / 2)));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, n);
}

function escapeMonitorArg(a: string): string {
  let out = "";
  for (let i = 0; i < a.length; i++) {
    const ch = a.charCodeAt(i);
    const c = a[i];
    if (c === "\\" || c === '"') out += "\\" + c;
    else if (c === "\n") out += "\\n";
    else if (c === "\r") out += "\\r";
    else if (c === "\t") out += "\\t";
    else if (c === "\x07") out += "\\a";
    else if (c === "\b") out += "\\b";
    else if (ch < 32 || ch > 126) out += "\\x" + ch.toString(16).padStart(2, "0");
    else out += c;
  }
  return out;
}

/** Utility for log lines: a binary string shown as text. */
export function showKey(key: string): string {
  return binaryToUtf8(key);
}
