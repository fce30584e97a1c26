/**
 * One connection (Redis: networking.c): read loop → parser → dispatcher → reply buffer
 * → one write per read chunk. Also the per-client state commands use (selected db,
 * MULTI queue, WATCH, blocking, pub/sub, replication role of the link).
 */
import { ProtocolError, RequestParser } from "./resp/parser.ts";
import { ReplyWriter } from "./resp/writer.ts";
import type { Db } from "./store/db.ts";
import { type CommandSpec, fullName } from "./commands/table.ts";
import type { Server } from "./server.ts";
import { processCommand } from "./dispatch.ts";
import type { ClientTracking } from "./tracking.ts";

/** One class of client-output-buffer-limit: bytes, bytes, seconds (0 = no limit). */
export interface OutputLimit {
  hard: number;
  soft: number;
  softSeconds: number;
}

const RESOLVED = Promise.resolve();
/** bytes a queued MULTI command takes besides its arguments (Redis: a multiCmd) */
const QUEUED_COMMAND_OVERHEAD = 24;

/** A queued MULTI command. */
export interface QueuedCommand {
  spec: CommandSpec;
  argv: string[];
}

/** Why and how a client is blocked (see blocking.ts). */
export interface BlockState {
  /** keys (in `db`) whose readiness re-runs the command; empty for WAIT-like blocks */
  keys: string[];
  db: Db;
  /** the command to re-run when a key is ready */
  spec: CommandSpec;
  argv: string[];
  /** timer for the timeout, if any */
  timer: ReturnType<typeof setTimeout> | undefined;
  /** reply on timeout (default: null array) */
  onTimeout: ((c: Client) => void) | undefined;
  /** for non-key blocks (WAIT): called to check whether the client can be served */
  kind: "keys" | "wait" | "pause" | "shutdown";
}

let nextClientId = 1;

/** Allocates a client id (also used for fake clients like the AOF loader). */
export function allocateClientId(): number {
  return nextClientId++;
}

/** A connected client. */
export class Client {
  readonly id: number;
  readonly server: Server;
  readonly conn: Deno.Conn | null;
  readonly reply: ReplyWriter;
  readonly parser: RequestParser;
  db: Db;
  name = "";
  /** address strings for CLIENT LIST */
  addr = "";
  laddr = "";
  createdAt = Date.now();
  lastInteraction = Date.now();
  /** the command being executed, or the last one executed (CLIENT LIST cmd=) */
  spec: CommandSpec | null = null;
  argv: string[] = [];
  /** authentication: the ACL user name, and whether authenticated */
  user = "default";
  authenticated = true;
  /** MULTI state: null when not in a transaction */
  multi: QueuedCommand[] | null = null;
  /** bytes of the arguments queued in `multi` (counted while it is the same queue) */
  #multiBytes = 0;
  #multiCounted: QueuedCommand[] | null = null;
  /** client memory at its last measure (maxmemory-clients, evict.ts) */
  memUsage = 0;
  /** EXECABORT: a command failed to queue */
  multiError = false;
  /** WATCHed keys and whether one was touched */
  watched: Array<{ db: Db; key: string; expired?: boolean }> = [];
  dirtyCas = false;
  /** blocking state */
  blocked: BlockState | null = null;
  /** true while a blocked command is being re-run */
  reprocessing = false;
  /** flags */
  isReplica = false;
  isMaster = false;
  /** the client scripts run their commands through (Redis's CLIENT_SCRIPT) */
  isScript = false;
  isMonitor = false;
  /** pub/sub subscriptions (pubsub.ts owns these) */
  channels = new Set<string>();
  patterns = new Set<string>();
  shardChannels = new Set<string>();
  /**
   * CLIENT REPLY ON|OFF|SKIP: "skip-next" is set by CLIENT REPLY SKIP and becomes
   * "skip" for the next command, whose replies are dropped (dispatch does it).
   */
  replyMode: "on" | "off" | "skip" | "skip-next" = "on";
  /**
   * The current command's replies are pub/sub confirmations, sent even under CLIENT
   * REPLY OFF|SKIP (Redis's CLIENT_PUSHING); set only when replyMode is not "on".
   */
  pushing = false;
  /** descriptor-like number for CLIENT LIST (-1 for fake clients) */
  readonly fd: number;
  /** CLIENT NO-EVICT */
  noEvict = false;
  /** close once pending replies are written */
  closeAfterReply = false;
  closed = false;
  /** propagation: rewritten argv for this command (null = propagate argv as is) */
  propagateArgv: string[] | null = null;
  /** propagation suppressed for this command */
  preventPropagation = false;
  /** the current command produced an error reply */
  commandFailed = false;
  /** replication offset of this client's last write (WAIT) */
  woff = 0;
  /** CLIENT TRACKING state (tracking.ts); null when tracking is off */
  tracking: ClientTracking | null = null;
  /** arbitrary per-module state (replication link, ACL selectors, tracking...) */
  ext: Record<string, unknown> = {};

  #writing: Promise<void> | null = null;
  #flushScheduled = false;
  #closeWaiters: Array<() => void> = [];

  constructor(server: Server, conn: Deno.Conn | null) {
    this.id = allocateClientId();
    this.server = server;
    this.conn = conn;
    this.reply = new ReplyWriter();
    this.parser = new RequestParser({
      maxBulkLen: server.config.num("proto-max-bulk-len"),
      maxQueryBuffer: server.config.num("client-query-buffer-limit"),
    });
    this.db = server.dbs[0];
    this.fd = conn === null ? -1 : server.allocateFd();
    if (conn) {
      const r = conn.remoteAddr as Deno.NetAddr;
      const l = conn.localAddr as Deno.NetAddr;
      this.addr = formatAddr(r);
      this.laddr = formatAddr(l);
    }
  }

  /** Queues a command in MULTI, counting its memory (Redis's multiStateMemOverhead). */
  queue(spec: CommandSpec, argv: string[]): void {
    const multi = this.multi!;
    if (this.#multiCounted !== multi) {
      this.#multiCounted = multi;
      this.#multiBytes = 0;
    }
    multi.push({ spec, argv });
    let bytes = QUEUED_COMMAND_OVERHEAD + 8 * argv.length;
    for (const a of argv) bytes += a.length;
    this.#multiBytes += bytes;
  }

  /** Bytes of the current MULTI queue. */
  get multiBytes(): number {
    return this.multi !== null && this.multi === this.#multiCounted ? this.#multiBytes : 0;
  }

  /** Replies with an error, counting it in errorstats (use this, not reply.error). */
  error(msg: string): void {
    this.commandFailed = true;
    this.server.stats.countError(msg);
    this.reply.error(msg);
    if (this.isReplica) this.#unexpectedError(msg);
  }

  /** Redis's afterErrorReply for a replica link: such an error is logged and counted. */
  #unexpectedError(msg: string): void {
    const server = this.server;
    server.stats.unexpectedErrorReplies++;
    const name = this.spec !== null ? fullName(this.spec) : "<unknown>";
    server.log(
      "warning",
      `== CRITICAL == This master is sending an error to its replica: '${
        (msg.startsWith("ERR ") ? msg.slice(4) : "-" + msg).slice(0, 4096)
      }' after processing the command '${name}'`,
    );
  }

  /**
   * A write happened to `key`: invalidates WATCH, counts a change for persistence and
   * propagation, and sends the keyspace notification `event` of class `type`.
   */
  modified(key: string, type: string, event: string, db: Db = this.db): void {
    const server = this.server;
    server.keyModified(db, key);
    server.dirty++;
    if (server.notifying) server.notify(type, event, key, db.id);
  }

  /** bytes of replication data (snapshot, stream) queued to this replica client */
  streamBytes = 0;

  /**
   * Queues replication data to this replica client. Kept apart from replies: a replica
   * whose own command produced a reply is disconnected, as in Redis.
   */
  stream(data: Uint8Array | string): void {
    if (typeof data === "string") this.reply.rawString(data);
    else this.reply.raw(data);
    this.streamBytes += data.length;
  }

  /** Propagates `argv` instead of the command as received. */
  rewrite(argv: string[]): void {
    this.propagateArgv = argv;
  }

  /** Switches the selected database. */
  select(db: Db): void {
    this.db = db;
  }

  /** Reads, parses and executes commands until the connection ends. */
  async run(): Promise<void> {
    const conn = this.conn!;
    try {
      for (;;) {
        const region = this.parser.writable();
        const n = await conn.read(region);
        if (n === null) break;
        this.server.stats.netInputBytes += n;
        this.server.stats.totalReads++;
        this.parser.commit(n);
        this.lastInteraction = Date.now();
        if (this.blocked === null) this.processInput();
        // maxmemory-clients: measured again after every read, as a command still arriving
        // (a big argument) grows the query buffer without running anything
        if (this.server.clientEviction !== null && this.server.clientEviction(this, false)) break;
        const limit = this.server.normalOutputLimit;
        if (limit !== null && !this.isReplica && this.checkOutputLimit(limit)) break;
        // replies while a background write drains this client's output are left to it
        if (this.reply.len > 0 && this.#writing === null) {
          if (!this.#inlineWriting && this.server.replyBarrier === null) {
            // the replies to what was read, written from the read loop itself: one write,
            // without a write loop's promise (the pipelined hot path); a flush() asked
            // for meanwhile is served when it is done
            this.#inlineWriting = true;
            const data = this.reply.take();
            this.#inFlight = data.length;
            let written = 0;
            try {
              written = await conn.write(data);
            } catch (e) {
              this.#inFlight = 0;
              this.close();
              if (!isConnectionError(e)) throw e;
              break;
            } finally {
              this.#inlineWriting = false;
            }
            this.#inlineWritten(data, written);
          } else await this.flush();
        }
        if (this.closeAfterReply) {
          await this.flush();
          break;
        }
        if (this.closed) break;
      }
    } catch (e) {
      if (e instanceof ProtocolError && e.message === "query buffer limit") {
        this.server.log(
          "warning",
          `Closing client that reached max query buffer length: id=${this.id} addr=${this.addr}`,
        );
      } else if (!isConnectionError(e)) {
        this.server.log("warning", `Client id=${this.id} error: ${(e as Error).stack ?? e}`);
      }
    } finally {
      this.close();
    }
  }

  /** Executes every complete buffered command, unless blocked. */
  processInput(): void {
    const server = this.server;
    server.readClock();
    server.clockFresh = true;
    try {
      this.#processInput();
    } finally {
      server.clockFresh = false;
      server.moreInBatch = false;
    }
  }

  #processInput(): void {
    while (this.blocked === null && !this.closeAfterReply && !this.closed) {
      let argv: string[] | null;
      try {
        argv = this.parser.next();
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        this.server.stats.countError("ERR " + e.message);
        this.reply.error("ERR " + e.message);
        this.server.log(
          "verbose",
          `Protocol error (${e.message}) from client: id=${this.id} addr=${this.addr}`,
        );
        this.closeAfterReply = true;
        break;
      }
      if (argv === null) break;
      this.server.moreInBatch = this.parser.pending > 0;
      processCommand(this, argv);
    }
  }

  /**
   * Runs a command CLIENT PAUSE held, instead of rerunPostponed (the master link: its
   * stream is applied and counted by the replication module)
   */
  onUnpause: ((argv: string[]) => void) | null = null;

  /** Runs a command held by CLIENT PAUSE, then resumes the client's pipeline. */
  rerunPostponed(argv: string[]): void {
    if (this.onUnpause !== null) return this.onUnpause(argv);
    processCommand(this, argv);
    this.scheduleFlush();
    this.resume();
  }

  /** Called when a blocked client is served or times out: resumes its pipeline. */
  resume(): void {
    queueMicrotask(() => {
      if (this.closed || this.blocked !== null) return;
      this.processInput();
      this.scheduleFlush();
      if (this.closeAfterReply) this.flush().then(() => this.close());
    });
  }

  /** Schedules a flush of output produced outside this client's own read loop. */
  scheduleFlush(): void {
    if (this.server.clientOutputGrew !== null) this.server.clientOutputGrew(this);
    if (this.#flushScheduled || this.conn === null) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.flush().catch(() => this.close());
    });
  }

  /** The clients cron's reply buffer resize (see ReplyWriter.resize). */
  resizeReplyBuffer(now: number): void {
    const server = this.server;
    if (!server.replyBufferResizing) return;
    const idle = this.#inFlight === 0 && this.#writing === null && !this.#inlineWriting;
    const change = this.reply.resize(now, server.replyBufferPeakResetMs, idle);
    if (change < 0) server.stats.replyBufferShrinks++;
    else if (change > 0) server.stats.replyBufferExpands++;
  }

  /** Pending output bytes (for output buffer limits and CLIENT LIST omem). */
  get pendingOutput(): number {
    return this.reply.len + this.#inFlight;
  }
  #inFlight = 0;
  /** when the pending output first passed the soft limit (0 = below it) */
  #softLimitSince = 0;

  /**
   * Enforces an output buffer limit class (Redis's checkClientOutputBufferLimits): the
   * client is closed, and the event logged, when its pending output reaches the hard
   * limit, or stays at or above the soft limit for `softSeconds`. Returns true if closed.
   */
  checkOutputLimit(limit: OutputLimit): boolean {
    const used = this.pendingOutput;
    const hard = limit.hard > 0 && used >= limit.hard;
    let soft = false;
    if (limit.soft > 0 && used >= limit.soft) {
      const now = Date.now();
      if (this.#softLimitSince === 0) this.#softLimitSince = now;
      soft = now - this.#softLimitSince >= limit.softSeconds * 1000;
    } else this.#softLimitSince = 0;
    if (!hard && !soft) return false;
    this.server.log(
      "warning",
      `Client id=${this.id} addr=${this.addr} name=${this.name} omem=${used} scheduled to be closed ASAP for overcoming of output buffer limits.`,
    );
    this.close();
    return true;
  }

  #inlineWriting = false;
  #afterInline: PromiseWithResolvers<void> | null = null;

  /** Writes all pending output; resolves when it is written. */
  flush(): Promise<void> {
    if (this.#inlineWriting) return (this.#afterInline ??= Promise.withResolvers<void>()).promise;
    if (this.#writing !== null) return this.#writing;
    if (this.reply.len === 0 || this.conn === null || this.closed) return RESOLVED;
    const writing = this.#writeLoop();
    // the loop clears #writing when it ends; it can only end synchronously if closed
    if (!this.closed) this.#writing = writing;
    return writing;
  }

  /**
   * After the read loop's own write of `data` (`written` bytes of it): a rest, and output
   * added meanwhile, go out in the background while the loop reads on (Redis keeps reading
   * a client whose replies wait; client-output-buffer-limit bounds them), and a flush()
   * asked for meanwhile is answered.
   */
  #inlineWritten(data: Uint8Array, written: number): void {
    const waiting = this.#afterInline;
    this.#afterInline = null;
    if (written < data.length) this.#startWriteLoop(data.subarray(written), data);
    else {
      this.#wrote(data);
      if (this.reply.len > 0) this.#startWriteLoop(null, null);
    }
    if (waiting !== null) this.flush().then(waiting.resolve, waiting.reject);
  }

  /** Starts #writeLoop in the background (errors close the client). */
  #startWriteLoop(rest: Uint8Array | null, whole: Uint8Array | null): void {
    if (this.closed) return;
    const writing = this.#writeLoop(rest, whole);
    if (!this.closed) this.#writing = writing;
    writing.catch(() => this.close());
  }

  /**
   * Writes pending output until none is left. `rest`: the unwritten end of `whole`, a
   * buffer from reply.take() the read loop began to write, goes first.
   */
  async #writeLoop(rest: Uint8Array | null = null, whole: Uint8Array | null = null): Promise<void> {
    const conn = this.conn!;
    try {
      if (rest !== null) {
        let off = 0;
        try {
          while (off < rest.length) off += await conn.write(off === 0 ? rest : rest.subarray(off));
        } catch (e) {
          this.#inFlight = 0;
          this.close();
          if (!isConnectionError(e)) throw e;
          return;
        }
        this.#wrote(whole!);
      }
      while (this.reply.len > 0 && !this.closed) {
        // persistence: replies wait until the writes they acknowledge are on disk
        const barrier = this.server.replyBarrier?.();
        if (barrier) await barrier;
        const data = this.reply.take();
        this.#inFlight = data.length;
        let off = 0;
        try {
          while (off < data.length) {
            off += await conn.write(off === 0 ? data : data.subarray(off));
          }
        } catch (e) {
          this.#inFlight = 0;
          this.close();
          if (!isConnectionError(e)) throw e;
          return;
        }
        this.#wrote(data);
      }
    } finally {
      this.#writing = null;
    }
  }

  /** Accounts a completed write of `data` (from reply.take()) and recycles its buffer. */
  #wrote(data: Uint8Array): void {
    if (this.isReplica) this.server.stats.netReplOutputBytes += data.length;
    else this.server.stats.netOutputBytes += data.length;
    this.server.stats.totalWrites++;
    this.#inFlight = 0;
    this.reply.release(data);
  }

  /** Closes the connection and forgets the client everywhere. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    // a flush() waiting for the read loop's write: nothing more will be written
    const waiting = this.#afterInline;
    this.#afterInline = null;
    waiting?.resolve();
    this.server.clientClosed(this);
    try {
      this.conn?.close();
    } catch {
      // already closed by the peer
    }
    for (const w of this.#closeWaiters) w();
  }

  /** Resolves when the client is closed. */
  closedPromise(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.#closeWaiters.push(resolve));
  }

  /** Writes pending output then closes (QUIT, CLIENT KILL of self, errors). */
  async closeAfterFlush(): Promise<void> {
    await this.flush().catch(() => {});
    this.close();
  }
}

function formatAddr(a: Deno.NetAddr): string {
  if (!a || a.hostname === undefined) return "";
  return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
}

/** True for errors that just mean the peer went away. */
export function isConnectionError(e: unknown): boolean {
  return e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.BadResource ||
    e instanceof Deno.errors.ConnectionAborted ||
    e instanceof Deno.errors.NotConnected ||
    e instanceof Deno.errors.Interrupted;
}
