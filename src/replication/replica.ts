/**
 * The replica side of replication (Redis: the slave half of replication.c): connect to
 * the primary, handshake, PSYNC, receive and load the snapshot, then apply the command
 * stream through a fake master client, relaying the exact bytes to sub-replicas.
 * Reconnects by itself, trying a partial resync first.
 */
import { Client } from "../client.ts";
import type { Server } from "../server.ts";
import { processCommand } from "../dispatch.ts";
import { ProtocolError } from "../resp/parser.ts";
import { busyScriptError } from "../scripting/busy.ts";
import { encodeCommand } from "../resp/writer.ts";
import { binaryToBytes, bytesToBinary } from "../resp/bytes.ts";
import type { Primary } from "./primary.ts";
import { fullName } from "../commands/table.ts";
import { Db, type KeyspaceHost } from "../store/db.ts";
import { LOAD_SLICE_MS, type LoadResult, RdbLoader } from "../persistence/rdb_reader.ts";
import { RdbError, rdbFunctions } from "../persistence/rdb_format.ts";
import { datasetReplaced } from "../persistence/mod.ts";

/** Loads an RDB payload into the (flushed) dataset; returns its replication aux fields. */
export type LoadFn = (
  server: Server,
  bytes: Uint8Array,
) => { replid?: string; offset?: number; replStreamDb?: number };

/** Where a replica continues from: Redis's cached master (replid, offset, selected db). */
export interface PsyncPoint {
  replid: string;
  offset: number;
  db: number;
}

/** What a link needs from the replication module around it. */
export interface LinkContext {
  readonly server: Server;
  readonly primary: Primary;
  /**
   * the whole-payload loader (the persistence module's loadRdb): null means no RDB
   * support, and a full sync is refused. The sync itself parses the payload as it
   * streams in (RdbLoader), into databases installed once it is complete.
   */
  load: LoadFn | null;
  /** the state a PSYNC continues from, or null for `PSYNC ? -1` */
  cached: PsyncPoint | null;
  /** set while a FAILOVER hands this (former primary) over: PSYNC carries FAILOVER */
  psyncFailover: boolean;
  /** called when the link reaches the connected state (FAILOVER completion) */
  onConnected(): void;
  /** called when the primary refused our PSYNC (a FAILOVER target saying no) */
  onPsyncRejected(): void;
}

/** Redis's repl_state, by the names ROLE prints. */
export type LinkState = "connect" | "connecting" | "handshake" | "sync" | "connected";

/** A link error whose message was already logged. */
class LinkAborted extends Error {}

/** Bytes asked of each socket read while a snapshot streams in. */
const READ_CHUNK = 1 << 20;
/**
 * Longest the replica keeps the event loop while a snapshot streams in (parsing, and
 * reads that complete at once): its clients and its primary are answered meanwhile.
 */
const PARSE_TURN_MS = LOAD_SLICE_MS * 0.8;

/**
 * Lets pending I/O run (a timer: socket reads that complete at once, and microtasks, do
 * not let other sockets be polled).
 */
function macrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Databases a snapshot is loaded into while it streams in: clients do not see them, and
 * their host fires no blocking wake-ups, notifications, tracking or WATCH invalidation.
 */
function shadowDbs(server: Server): Db[] {
  const loadedAt = Date.now();
  const host: KeyspaceHost = {
    isReplica: true,
    now: () => loadedAt,
    keyExpired() {},
    keyModified() {},
    keyReady() {},
    cowActive: false,
    // maxmemory accounting: Db.memBytes moves with the contents on the swap
    get keySizer() {
      return server.keySizer;
    },
  };
  return server.dbs.map((db) => new Db(db.id, host));
}

/**
 * Makes a loaded dataset the live one (Redis's emptyData then load): each database
 * swaps contents with its loaded twin, so clients' `db` references stay valid. As
 * Redis's signalFlushedDb, WATCHers of keys that existed or exist now are flagged and
 * tracking clients get the flush invalidation; clients blocked on keys that now exist
 * are woken (as when keys are added).
 */
function installDataset(server: Server, loaded: readonly Db[]): void {
  for (const db of server.dbs) {
    const old = loaded[db.id];
    db.swapWith(old);
    for (const [key, watchers] of db.watched) {
      if (!db.dict.has(key) && !old.dict.has(key)) continue;
      for (const w of watchers) w.dirtyCas = true;
    }
  }
  server.tracking?.flush();
  if (server.blocking.blockedCount === 0) return;
  for (const c of server.clients.values()) {
    const state = c.blocked;
    if (state === null) continue;
    for (const key of state.keys) if (state.db.dict.has(key)) server.keyReady(state.db, key);
  }
}

/** A growable FIFO of bytes (the received stream, until it is applied). */
class ByteQueue {
  #buf = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;

  push(bytes: Uint8Array): void {
    if (this.#buf.length - this.#end < bytes.length) {
      const live = this.#end - this.#start;
      let size = this.#buf.length;
      while (size < live + bytes.length) size *= 2;
      const next = size === this.#buf.length ? this.#buf : new Uint8Array(size);
      next.set(this.#buf.subarray(this.#start, this.#end), 0);
      this.#buf = next;
      this.#end = live;
      this.#start = 0;
    }
    this.#buf.set(bytes, this.#end);
    this.#end += bytes.length;
  }

  /** Removes and returns (a view of) the first n bytes, valid until the next push. */
  take(n: number): Uint8Array {
    const out = this.#buf.subarray(this.#start, this.#start + n);
    this.#start += n;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return out;
  }

  get length(): number {
    return this.#end - this.#start;
  }
}

/** The connection of a replica to its primary. */
export class MasterLink {
  readonly host: string;
  readonly port: number;
  readonly ctx: LinkContext;
  state: LinkState = "connect";
  /** last time anything was read from the primary (ms) */
  lastIo = Date.now();
  /** when the link went down (ms); 0 while it is up or was never up */
  downSince = 0;
  /** the fake client that executes the stream (Redis: server.master) */
  masterClient: Client | null = null;
  /** Redis: master->reploff (applied) and master->read_reploff (received) */
  reploff = 0;
  readReploff = 0;
  /** snapshot transfer progress (INFO master_sync_*) */
  transferSize = -1;
  transferRead = 0;
  transferLastIo = 0;
  #conn: Deno.TcpConn | null = null;
  #stopped = false;
  #phaseStart = Date.now();
  #buf = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;
  #raw = new ByteQueue();
  #appliedConsumed = 0;
  #writeChain: Promise<void> = Promise.resolve();
  #sleepTimer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | null = null;
  #done: Promise<void> | null = null;

  constructor(ctx: LinkContext, host: string, port: number) {
    this.ctx = ctx;
    this.host = host;
    this.port = port;
  }

  /** Starts the connect / sync / stream loop (runs until stop()). */
  start(): void {
    this.#done = this.#run();
  }

  /** Stops the link for good and closes the connection. */
  async stop(): Promise<void> {
    this.#stopped = true;
    // cache the master state now, before a new link may PSYNC with it
    this.#linkDown();
    this.#closeConn();
    if (this.#sleepTimer !== undefined) clearTimeout(this.#sleepTimer);
    this.#wake?.();
    await this.#done;
  }

  /** The master client was closed (CLIENT KILL): drop the link, which reconnects. */
  masterClientClosed(c: Client): void {
    if (c === this.masterClient) this.#closeConn();
  }

  /** Closes the current connection; the loop reconnects (timeouts, tests). */
  dropConnection(): void {
    this.#closeConn();
  }

  #closeConn(): void {
    try {
      this.#conn?.close();
    } catch { /* already closed */ }
    this.#conn = null;
  }

  get #server(): Server {
    return this.ctx.server;
  }

  #log(level: "notice" | "warning" | "verbose", msg: string): void {
    this.#server.log(level, msg);
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      let reachedStream = false;
      try {
        reachedStream = await this.#session();
      } catch (e) {
        // a broken established link is reported by #linkDown ("Connection with master lost.")
        if (!(e instanceof LinkAborted) && !this.#stopped && this.state !== "connected") {
          this.#log("warning", `Error condition on socket for SYNC: ${(e as Error).message}`);
        }
      }
      this.#closeConn();
      this.#linkDown();
      if (this.#stopped) break;
      failures = reachedStream ? 0 : failures + 1;
      await this.#sleep(Math.min(1000, 50 * 2 ** failures));
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#sleepTimer = setTimeout(() => {
        this.#sleepTimer = undefined;
        this.#wake = null;
        resolve();
      }, ms);
    });
  }

  /** The link is gone: cache the master state for a later PSYNC (Redis: replicationCacheMaster). */
  #linkDown(): void {
    const mc = this.masterClient;
    if (this.state === "connected" && mc !== null) {
      this.ctx.cached = { replid: this.ctx.primary.replid, offset: this.reploff, db: mc.db.id };
      this.#log("notice", "Connection with master lost.");
      this.#log("notice", "Caching the disconnected master state.");
      this.downSince = Date.now();
    }
    this.masterClient = null;
    mc?.close();
    if (this.state !== "connect") this.state = "connect";
    this.transferSize = -1;
    this.transferRead = 0;
  }

  /** One connection: returns true if it reached the streaming state. */
  async #session(): Promise<boolean> {
    this.state = "connecting";
    this.#phaseStart = Date.now();
    this.#log("notice", `Connecting to MASTER ${this.host}:${this.port}`);
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname: this.host, port: this.port });
    } catch (e) {
      this.#log("warning", `Error condition on socket for SYNC: ${(e as Error).message}`);
      return false;
    }
    if (this.#stopped) {
      conn.close();
      return false;
    }
    conn.setNoDelay(true);
    this.#conn = conn;
    this.#start = this.#end = 0;
    this.lastIo = Date.now();
    this.#log("notice", "MASTER <-> REPLICA sync started");
    this.state = "handshake";
    this.#phaseStart = Date.now();
    await this.#handshake();
    const reply = await this.#psync();
    if (reply.startsWith("+FULLRESYNC")) {
      const [, replid, offset] = reply.split(" ");
      this.#log("notice", `Full resync from master: ${replid}:${offset}`);
      await this.#fullSync(replid ?? "", Number(offset));
    } else this.#continue(reply);
    this.state = "connected";
    this.downSince = 0;
    this.ctx.onConnected();
    await this.#stream();
    return true;
  }

  // ---- handshake ----

  async #send(argv: string[]): Promise<void> {
    const bytes = encodeCommand(argv);
    const conn = this.#conn;
    if (conn === null) throw new LinkAborted("closed");
    let off = 0;
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
  }

  async #fill(): Promise<void> {
    const conn = this.#conn;
    if (conn === null) throw new LinkAborted("closed");
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#buf.length - this.#end < 16 * 1024) {
      const live = this.#end - this.#start;
      const next = live > this.#buf.length / 2 ? new Uint8Array(this.#buf.length * 2) : this.#buf;
      next.set(this.#buf.subarray(this.#start, this.#end), 0);
      this.#buf = next;
      this.#start = 0;
      this.#end = live;
    }
    let n: number | null;
    try {
      n = await conn.read(this.#buf.subarray(this.#end));
    } catch (e) {
      if (this.#stopped || this.#conn === null) throw new LinkAborted("closed");
      throw e;
    }
    if (n === null) {
      this.#log("verbose", "Master closed the connection");
      throw new LinkAborted("eof");
    }
    this.#end += n;
    this.lastIo = Date.now();
    this.#server.stats.netReplInputBytes += n;
  }

  /** Reads one line (without CRLF) as a binary string. */
  async #readLine(): Promise<string> {
    for (;;) {
      for (let i = this.#start; i < this.#end; i++) {
        if (this.#buf[i] === 10) {
          const end = i > this.#start && this.#buf[i - 1] === 13 ? i - 1 : i;
          const line = bytesToBinary(this.#buf, this.#start, end);
          this.#start = i + 1;
          return line;
        }
      }
      await this.#fill();
    }
  }

  async #command(argv: string[]): Promise<string> {
    await this.#send(argv);
    return await this.#readLine();
  }

  async #handshake(): Promise<void> {
    const config = this.#server.config;
    const pong = await this.#command(["PING"]);
    if (
      !pong.startsWith("+") && !pong.startsWith("-NOAUTH") && !pong.startsWith("-NOPERM") &&
      !pong.startsWith("-ERR operation not permitted")
    ) {
      this.#log("warning", `Error reply to PING from master: '${pong}'`);
      throw new LinkAborted("ping");
    }
    this.#log("notice", "Master replied to PING, replication can continue...");
    const masterauth = config.get("masterauth");
    if (masterauth !== "") {
      const user = config.get("masteruser");
      const r = await this.#command(
        user !== "" ? ["AUTH", user, masterauth] : ["AUTH", masterauth],
      );
      if (r.startsWith("-")) {
        this.#log("warning", `Unable to AUTH to MASTER: ${r}`);
        throw new LinkAborted("auth");
      }
    }
    const announcePort = config.num("replica-announce-port") || this.#server.port;
    let r = await this.#command(["REPLCONF", "listening-port", String(announcePort)]);
    if (r.startsWith("-")) {
      this.#log(
        "notice",
        `(Non critical) Master does not understand REPLCONF listening-port: ${r}`,
      );
    }
    const announceIp = config.get("replica-announce-ip");
    if (announceIp !== "") {
      r = await this.#command(["REPLCONF", "ip-address", announceIp]);
      if (r.startsWith("-")) {
        this.#log("notice", `(Non critical) Master does not understand REPLCONF ip-address: ${r}`);
      }
    }
    r = await this.#command(["REPLCONF", "capa", "eof", "capa", "psync2"]);
    if (r.startsWith("-")) {
      this.#log("notice", `(Non critical) Master does not understand REPLCONF capa: ${r}`);
    }
  }

  /** Sends PSYNC and returns the +FULLRESYNC / +CONTINUE line (keep-alives skipped). */
  async #psync(): Promise<string> {
    const cached = this.ctx.cached;
    const argv = cached !== null
      ? ["PSYNC", cached.replid, String(cached.offset + 1)]
      : ["PSYNC", "?", "-1"];
    if (cached !== null) {
      this.#log(
        "notice",
        `Trying a partial resynchronization (request ${cached.replid}:${cached.offset + 1}).`,
      );
    } else this.#log("notice", "Partial resynchronization not possible (no cached master)");
    if (this.ctx.psyncFailover) argv.push("FAILOVER");
    await this.#send(argv);
    for (;;) {
      const line = await this.#readLine();
      if (line === "") continue; // keep-alive while the primary prepares
      if (line.startsWith("+FULLRESYNC") || line.startsWith("+CONTINUE")) return line;
      if (line.startsWith("-NOMASTERLINK") || line.startsWith("-LOADING")) {
        this.#log(
          "notice",
          `Master is currently unable to PSYNC but should be in the future: ${line}`,
        );
      } else this.#log("warning", `Unexpected reply to PSYNC from master: ${line}`);
      // a FAILOVER hand-over is aborted by any refusal, even a temporary one (Redis)
      this.ctx.onPsyncRejected();
      throw new LinkAborted("psync");
    }
  }

  /** +CONTINUE [newid]: Redis's partial resync path, with the replid2 switch. */
  #continue(reply: string): void {
    const primary = this.ctx.primary;
    const cached = this.ctx.cached!;
    this.#log("notice", "Successful partial resynchronization with master.");
    const newId = reply.split(" ")[1];
    if (newId !== undefined && newId.length === 40 && newId !== cached.replid) {
      primary.replid2 = cached.replid;
      primary.secondReplidOffset = this.#server.replOffset + 1;
      primary.replid = newId;
      this.#log("notice", `Master replication ID changed to ${newId}`);
      // sub-replicas must learn the new id
      primary.disconnectReplicas();
    }
    this.#newMasterClient(cached.db, cached.offset);
    if (primary.backlog === null) primary.createBacklog();
    this.#log("notice", "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
  }

  #newMasterClient(db: number, offset: number): void {
    const mc = new Client(this.#server, null);
    mc.isMaster = true;
    mc.authenticated = true;
    mc.name = "";
    mc.addr = `${this.host}:${this.port}`;
    const local = this.#conn?.localAddr as Deno.NetAddr | undefined;
    if (local !== undefined) mc.laddr = `${local.hostname}:${local.port}`;
    mc.db = this.#server.dbs[db] ?? this.#server.dbs[0];
    this.masterClient = mc;
    // listed by CLIENT LIST (flags=M) and killable (CLIENT KILL TYPE master), as in Redis
    this.#server.clients.set(mc.id, mc);
    this.reploff = offset;
    this.readReploff = offset;
    this.#appliedConsumed = 0;
    this.#raw = new ByteQueue();
    // CLIENT PAUSE held one of the stream's commands: run it, then apply what followed
    mc.onUnpause = (argv) => {
      if (this.masterClient !== mc) return;
      const applied = this.#applyOne(mc, argv);
      if (applied > 0) this.ctx.primary.feedRaw(this.#raw.take(applied));
      this.#apply(mc);
    };
  }

  // ---- full sync ----

  async #fullSync(replid: string, offset: number): Promise<void> {
    this.state = "sync";
    this.#phaseStart = Date.now();
    this.transferLastIo = Date.now();
    let line: string;
    for (;;) {
      line = await this.#readLine();
      if (line !== "") break;
    }
    if (line.startsWith("-")) {
      this.#log("warning", `MASTER aborted replication with an error: ${line.slice(1)}`);
      throw new LinkAborted("aborted");
    }
    if (!line.startsWith("$")) {
      this.#log(
        "warning",
        `Bad protocol from MASTER, the first byte is not '$' (we received '${line}'), are you sure the host and port are right?`,
      );
      throw new LinkAborted("protocol");
    }
    const server = this.#server;
    // diskless load (Redis: useDisklessLoad): the replica is loading while the payload
    // streams in; with swapdb and the same history it keeps serving the old dataset
    // (async loading). In every mode the payload is parsed as it arrives into databases
    // clients do not see, which replace the live ones once it is complete and sound.
    const mode = server.config.get("repl-diskless-load");
    const disklessLoad = mode === "swapdb" ||
      (mode === "on-empty-db" && server.dbs.every((db) => db.size === 0));
    const asyncLoad = disklessLoad && mode === "swapdb" && replid === this.ctx.primary.replid;
    const target = disklessLoad ? "parser" : "disk";
    if (this.ctx.load === null) {
      this.#log("warning", "Can't load the MASTER synchronization DB: no RDB loader installed");
      throw new LinkAborted("load");
    }
    if (asyncLoad) server.asyncLoading = true;
    else if (disklessLoad) server.loading = true;
    if (disklessLoad) this.#log("notice", "MASTER <-> REPLICA sync: Loading DB in memory");
    const dbs = shadowDbs(server);
    const loader = new RdbLoader(server, { replica: true, dbs, deferFunctions: true });
    let info: LoadResult;
    try {
      if (line.startsWith("$EOF:") && line.length === 45) {
        this.#log(
          "notice",
          `MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to ${target}`,
        );
        info = await this.#receive(loader, -1, binaryToBytes(line.slice(5)));
      } else {
        const size = Number(line.slice(1));
        this.#log(
          "notice",
          `MASTER <-> REPLICA sync: receiving ${size} bytes from master to ${target}`,
        );
        info = await this.#receive(loader, size, null);
      }
      for (const code of loader.functions ?? []) {
        const err = rdbFunctions.load(server, code);
        if (err !== null) throw new RdbError(`Failed loading library: ${err}`);
      }
    } catch (e) {
      const from = disklessLoad ? "socket" : "disk";
      // the link dropped mid-payload: while loading from the socket Redis reports the
      // short read of its RDB parser (and goes on)
      if (disklessLoad && e instanceof LinkAborted && e.message === "eof") {
        this.#log("warning", "Short read or OOM loading DB. Unrecoverable error, aborting now.");
        this.#log(
          "warning",
          "Internal error in RDB reading offset 0, function at rdb.c:0 -> Unexpected EOF reading RDB file. Failure loading rdb format from socket, assuming connection error, resuming operation.",
        );
        this.#log(
          "warning",
          "Failed trying to load the MASTER synchronization DB from socket, check server logs.",
        );
      }
      if (disklessLoad) {
        this.#log("notice", "MASTER <-> REPLICA sync: Discarding the half-loaded data");
      }
      if (!(e instanceof RdbError)) throw e;
      this.#log(
        "warning",
        `Failed trying to load the MASTER synchronization DB from ${from}, check server logs. (${e.message})`,
      );
      throw new LinkAborted("load");
    } finally {
      server.asyncLoading = false;
      server.loading = false;
    }
    const primary = this.ctx.primary;
    // the replication history changes: sub-replicas resync, the old backlog is useless
    this.ctx.cached = null;
    primary.disconnectReplicas();
    primary.freeBacklog();
    this.#log("notice", "MASTER <-> REPLICA sync: Flushing old data");
    installDataset(server, dbs);
    // the AOF restarts from the new dataset (Redis: restartAOFAfterSYNC)
    datasetReplaced(server);
    if (!disklessLoad) this.#log("notice", "MASTER <-> REPLICA sync: Loading DB in memory");
    primary.replid = replid;
    primary.clearReplicationId2();
    this.#server.replOffset = offset;
    this.#newMasterClient(info.replStreamDb ?? 0, offset);
    primary.createBacklog();
    this.#log("notice", "MASTER <-> REPLICA sync: Finished with success");
    // clients blocked on keys the new dataset holds are served now (Redis: beforeSleep)
    if (server.blocking.blockedCount > 0) server.blocking.handleReadyKeys();
  }

  /**
   * Receives the payload (`size` bytes, or up to the `$EOF:` mark) into the loader,
   * parsing it as it arrives. The last mark.length bytes are held back from the parser
   * until the end is known. The event loop is let run at least every LOAD_SLICE_MS.
   */
  async #receive(
    loader: RdbLoader,
    size: number,
    mark: Uint8Array | null,
  ): Promise<LoadResult> {
    this.transferSize = size;
    if (mark !== null) loader.holdBack = mark.length;
    const complete = (): boolean =>
      mark === null
        ? loader.received >= size
        : loader.received >= mark.length && loader.endsWith(mark);
    // bytes read along with the $ line
    const first = this.#takeBuffered(mark === null ? size : Infinity);
    if (first.length > 0) loader.push(first);
    this.transferRead = loader.received;
    let done = complete();
    if (done) loader.finish(mark?.length ?? 0);
    let lastTurn = performance.now();
    for (;;) {
      if (!done && loader.needsInput) {
        const region = loader.writable(READ_CHUNK);
        const room = mark === null ? region.subarray(0, size - loader.received) : region;
        loader.commit(await this.#readInto(room));
        this.transferRead = loader.received;
        done = complete();
        if (done) loader.finish(mark?.length ?? 0);
      }
      // reads that complete at once do not let other sockets be polled: a timer does
      const budget = PARSE_TURN_MS - (performance.now() - lastTurn);
      if (budget <= 0) {
        await macrotask();
        // the link may have been dropped meanwhile (REPLICAOF, CLIENT KILL, timeout)
        if (this.#stopped || this.#conn === null) throw new LinkAborted("closed");
        lastTurn = performance.now();
        continue;
      }
      const result = loader.step(budget);
      if (result !== null) {
        // a `$<size>` payload longer than its RDB: the rest is read and ignored
        while (!done) {
          const scratch = new Uint8Array(Math.min(READ_CHUNK, size - this.transferRead));
          this.transferRead += await this.#readInto(scratch);
          done = this.transferRead >= size;
        }
        return result;
      }
    }
  }

  /** One read straight into `into` (the handshake buffer must be drained first). */
  async #readInto(into: Uint8Array): Promise<number> {
    const conn = this.#conn;
    if (conn === null) throw new LinkAborted("closed");
    let n: number | null;
    try {
      n = await conn.read(into);
    } catch (e) {
      if (this.#stopped || this.#conn === null) throw new LinkAborted("closed");
      throw e;
    }
    if (n === null) {
      this.#log("verbose", "Master closed the connection");
      throw new LinkAborted("eof");
    }
    this.lastIo = this.transferLastIo = Date.now();
    this.#server.stats.netReplInputBytes += n;
    return n;
  }

  /** Takes up to `max` buffered bytes left over from line reading. */
  #takeBuffered(max: number): Uint8Array {
    const n = Math.min(max, this.#end - this.#start);
    const out = this.#buf.subarray(this.#start, this.#start + n);
    this.#start += n;
    return out;
  }

  // ---- the stream ----

  /** Sends REPLCONF ACK <applied offset> (Redis's replicationSendAck). */
  sendAck(): void {
    const conn = this.#conn;
    if (conn === null || this.state !== "connected") return;
    const bytes = encodeCommand(["REPLCONF", "ACK", String(this.reploff)]);
    this.#writeChain = this.#writeChain.then(async () => {
      let off = 0;
      while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    }).catch(() => {});
  }

  async #stream(): Promise<void> {
    const mc = this.masterClient!;
    const parser = mc.parser;
    // the initial ACK puts us online at once on a diskless primary
    this.sendAck();
    if (this.#end > this.#start) {
      const leftover = this.#buf.subarray(this.#start, this.#end);
      parser.feed(leftover);
      this.#raw.push(leftover);
      this.readReploff += leftover.length;
      this.#start = this.#end = 0;
      this.#apply(mc);
    }
    for (;;) {
      const conn = this.#conn;
      if (conn === null || this.#stopped) throw new LinkAborted("closed");
      const region = parser.writable();
      let n: number | null;
      try {
        n = await conn.read(region);
      } catch (e) {
        if (this.#stopped || this.#conn === null) throw new LinkAborted("closed");
        throw e;
      }
      if (n === null) throw new LinkAborted("eof");
      if (this.#stopped) throw new LinkAborted("closed");
      this.lastIo = Date.now();
      this.#server.stats.netReplInputBytes += n;
      parser.commit(n);
      this.#raw.push(region.subarray(0, n));
      this.readReploff += n;
      this.#apply(mc);
    }
  }

  /** Applies what the stream held while a busy script ran (the script ended). */
  resumeStream(): void {
    const mc = this.masterClient;
    if (mc !== null && !mc.closed) this.#apply(mc);
  }

  /** Executes every complete command received, then relays the applied bytes. */
  #apply(mc: Client): void {
    const parser = mc.parser;
    let applied = 0;
    // a command held by CLIENT PAUSE, or a busy script: the stream is read
    // (slave_read_repl_offset) but not applied until it ends, as in Redis
    while (mc.blocked === null && busyScriptError(this.#server) === null) {
      let argv: string[] | null;
      try {
        argv = parser.next();
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        this.#log("warning", `Protocol error from MASTER: ${e.message}`);
        this.#closeConn();
        break;
      }
      if (argv === null) break;
      applied += this.#applyOne(mc, argv);
    }
    if (applied > 0) this.ctx.primary.feedRaw(this.#raw.take(applied));
  }

  /** Executes one command of the stream; returns the bytes it applied (to relay). */
  #applyOne(mc: Client, argv: string[]): number {
    const server = this.#server;
    server.masterExecuting = true;
    try {
      processCommand(mc, argv);
    } finally {
      server.masterExecuting = false;
    }
    if (mc.reply.len > 0 && mc.reply.buf[0] === 45) this.#errorFromStream(mc);
    mc.reply.len = 0;
    // held by a pause: not applied yet; inside MULTI the offset moves only when EXEC ran
    // (Redis does the same)
    if (mc.blocked !== null || mc.multi !== null) return 0;
    const delta = mc.parser.consumed - this.#appliedConsumed;
    this.#appliedConsumed = mc.parser.consumed;
    this.reploff += delta;
    return delta;
  }

  /**
   * A command of the stream failed here: the datasets may have diverged. Logged as
   * Redis's afterErrorReply does (propagation-error-behavior panic is not honoured:
   * the replica keeps going, as with "ignore").
   */
  #errorFromStream(mc: Client): void {
    const buf = mc.reply.buf;
    let end = 1;
    while (end < mc.reply.len && buf[end] !== 13) end++;
    const msg = bytesToBinary(buf, 1, end);
    this.#server.stats.unexpectedErrorReplies++;
    const cmdname = msg.startsWith("ERR unknown command") || mc.spec === null
      ? "<unknown>"
      : fullName(mc.spec);
    this.#log(
      "warning",
      `== CRITICAL == This replica is sending an error to its master: '${msg}' after processing the command '${cmdname}'`,
    );
  }

  // ---- cron ----

  /** Once a second: ACK, and timeouts of every phase (Redis's replicationCron). */
  cron(): void {
    const timeoutMs = this.#server.config.num("repl-timeout") * 1000;
    const now = Date.now();
    if (
      (this.state === "connecting" || this.state === "handshake") &&
      now - this.#phaseStart > timeoutMs
    ) {
      this.#log("warning", "Timeout connecting to the MASTER...");
      this.#closeConn();
    } else if (this.state === "sync" && now - this.lastIo > timeoutMs) {
      this.#log(
        "warning",
        "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.",
      );
      this.#closeConn();
    } else if (this.state === "connected") {
      if (now - this.lastIo > timeoutMs) {
        this.#log("warning", "MASTER timeout: no data nor PING received...");
        this.#closeConn();
      } else this.sendAck();
    }
  }
}
