/**
 * The primary side of replication (Redis: the master half of replication.c): the
 * replication stream and its backlog, replica links (handshake state, full and partial
 * resync, ACKs), snapshots shared by every replica that asks while one is prepared,
 * WAIT, and the periodic work (PINGs, keep-alives, timeouts, backlog TTL).
 */
import type { Client } from "../client.ts";
import type { PropagationSink, Server } from "../server.ts";
import { randomHex } from "../server.ts";
import { encodeCommand } from "../resp/writer.ts";
import { Backlog } from "./backlog.ts";
import { FullSyncs } from "./full_sync.ts";

/** Redis's replica states as INFO prints them (SLAVE_STATE_*). */
export type ReplicaState = "wait_bgsave_start" | "wait_bgsave_end" | "send_bulk" | "online";

/** What the primary knows about one connection that is, or is becoming, a replica. */
export interface ReplicaInfo {
  /** null until PSYNC / SYNC made the connection a replica */
  state: ReplicaState | null;
  /** REPLCONF listening-port */
  listeningPort: number;
  /** REPLCONF ip-address (replica-announce-ip) */
  announcedIp: string;
  capaEof: boolean;
  capaPsync2: boolean;
  /** Redis: repl_ack_off / repl_ack_time (ms) */
  ackOff: number;
  ackTime: number;
  /** connected with the legacy SYNC: no ACKs expected */
  prePsync: boolean;
  /** when the output buffer first passed the soft limit (0 = below it) */
  softLimitSince: number;
  /**
   * after a diskless transfer the stream waits for the replica's first ACK, so the EOF
   * mark is the last thing it reads (Redis: repl_start_cmd_stream_on_ack)
   */
  waitAck: boolean;
  /** when a diskless transfer write to this replica started and is still pending (0: none) */
  partialSince: number;
  /**
   * REPLCONF rdb-filter-only: the snapshot leaves out the keys, and the functions unless
   * included (Redis's SLAVE_REQ_RDB_EXCLUDE_DATA / _FUNCTIONS: `redis-cli --replica`
   * asks for neither, `redis-cli --functions-rdb` for the functions)
   */
  excludeData: boolean;
  excludeFunctions: boolean;
}

/** Produces an RDB snapshot of the dataset as it is when called. */
export type SnapshotFn = (
  server: Server,
  opts: {
    replid: string;
    offset: number;
    replStreamDb: number;
    excludeData?: boolean;
    excludeFunctions?: boolean;
  },
) => AsyncIterable<Uint8Array>;

const ZERO_REPLID = "0000000000000000000000000000000000000000";
const PING = encodeCommand(["PING"]);
const GETACK = encodeCommand(["REPLCONF", "GETACK", "*"]);
const NEWLINE = new Uint8Array([10]);

/** A client blocked in WAIT. */
interface Waiter {
  c: Client;
  offset: number;
  numreplicas: number;
}

/** Replication state of a server acting as a source of a stream (primary or relay). */
export class Primary implements PropagationSink {
  /** PropagationSink: the replication stream also carries PUBLISH */
  readonly replication = true;
  readonly server: Server;
  /** Redis: replid / replid2 / second_replid_offset */
  replid = randomHex(40);
  replid2 = ZERO_REPLID;
  secondReplidOffset = -1;
  backlog: Backlog | null = null;
  /** connections that are replicas (any state) */
  readonly replicas = new Set<Client>();
  /** produces snapshots (the persistence module's rdbSnapshot) */
  snapshot: SnapshotFn | null = null;
  /** the db selected in the stream (Redis: slaveseldb); -1 forces a SELECT */
  seldb = -1;
  #relaying = false;
  /** the db of the relayed stream, for snapshots made for sub-replicas */
  relayDb: () => number = () => 0;
  /** whether a replica may sync now (a relay needs its own link up) */
  canServeSync: () => boolean = () => true;
  #info = new WeakMap<Client, ReplicaInfo>();
  #fullSyncs = new FullSyncs(this);
  #noReplicasSince = Date.now();
  #waiters: Waiter[] = [];
  #ackRequested = false;
  /**
   * Redis's replication_cron_loops. Loop 0 (a PING when replicas exist) happens at server
   * start in Redis, before any replica can attach; counting it as done keeps a first cron
   * tick delayed by a busy event loop from pinging fresh replicas at a random moment.
   */
  #cronLoops = 1;
  #flushScheduled = false;
  #obufLimits = { hard: 0, soft: 0, softSeconds: 0 };

  constructor(server: Server) {
    this.server = server;
    this.#readObufLimits();
    server.config.onChange((name) => {
      if (name === "client-output-buffer-limit") this.#readObufLimits();
      if (name === "repl-backlog-size" && this.backlog !== null) {
        this.backlog.resize(server.config.num("repl-backlog-size"));
      }
    });
  }

  #readObufLimits(): void {
    const words = this.server.config.get("client-output-buffer-limit").split(" ");
    const i = words.indexOf("replica");
    if (i < 0) return;
    this.#obufLimits = {
      hard: Number(words[i + 1]),
      soft: Number(words[i + 2]),
      softSeconds: Number(words[i + 3]),
    };
  }

  /** The per-connection replication info (created on first use, e.g. REPLCONF). */
  infoOf(c: Client): ReplicaInfo {
    let info = this.#info.get(c);
    if (info === undefined) {
      info = {
        state: null,
        listeningPort: 0,
        announcedIp: "",
        capaEof: false,
        capaPsync2: false,
        ackOff: 0,
        ackTime: Date.now(),
        prePsync: false,
        softLimitSince: 0,
        waitAck: false,
        partialSince: 0,
        excludeData: false,
        excludeFunctions: false,
      };
      this.#info.set(c, info);
    }
    return info;
  }

  /** Redis's replicationGetSlaveName: "ip:port" of a replica. */
  replicaName(c: Client): string {
    const info = this.infoOf(c);
    const ip = this.replicaIp(c);
    return info.listeningPort ? `${ip}:${info.listeningPort}` : `${ip}:<unknown-replica-port>`;
  }

  /** The address a replica is known by (announced, or the peer address). */
  replicaIp(c: Client): string {
    const info = this.infoOf(c);
    if (info.announcedIp !== "") return info.announcedIp;
    const addr = c.addr;
    const colon = addr.lastIndexOf(":");
    const host = colon < 0 ? addr : addr.slice(0, colon);
    return host.startsWith("[") ? host.slice(1, -1) : host;
  }

  // ---- replication ids ----

  /** Redis's changeReplicationId: a new random history id. */
  changeReplicationId(): void {
    this.replid = randomHex(40);
  }

  /** Redis's clearReplicationId2. */
  clearReplicationId2(): void {
    this.replid2 = ZERO_REPLID;
    this.secondReplidOffset = -1;
  }

  /**
   * Redis's shiftReplicationId: the current history becomes the secondary one (valid
   * up to the current offset), and a new history starts.
   */
  shiftReplicationId(): void {
    this.replid2 = this.replid;
    this.secondReplidOffset = this.server.replOffset + 1;
    this.changeReplicationId();
    this.server.log(
      "notice",
      `Setting secondary replication ID to ${this.replid2}, valid up to offset: ${this.secondReplidOffset}. New replication ID is ${this.replid}`,
    );
  }

  /** true while the server is itself a replica: the stream is relayed, not generated */
  get relaying(): boolean {
    return this.#relaying;
  }

  set relaying(on: boolean) {
    this.#relaying = on;
    this.#updateSink();
  }

  /** Creates the backlog (its first byte is the next one of the stream). */
  createBacklog(): void {
    this.backlog = new Backlog(this.server.config.num("repl-backlog-size"), this.server.replOffset);
    // a new history: the next command carries a SELECT
    this.seldb = -1;
    this.#updateSink();
  }

  /** Frees the backlog. */
  freeBacklog(): void {
    this.backlog = null;
    this.#updateSink();
  }

  /**
   * The primary listens to propagation only while it has a stream to feed (a backlog,
   * hence replicas or recent ones), so a standalone server encodes nothing for it.
   */
  #updateSink(): void {
    const sinks = this.server.sinks;
    const i = sinks.indexOf(this);
    const want = this.backlog !== null && !this.#relaying;
    if (want && i < 0) sinks.push(this);
    else if (!want && i >= 0) sinks.splice(i, 1);
  }

  // ---- the stream ----

  /** PropagationSink: a command executed here, for database `dbId`. */
  feed(dbId: number, command: Uint8Array): void {
    if (this.relaying) return;
    if (this.backlog === null && this.replicas.size === 0) return;
    if (dbId !== this.seldb) {
      this.feedRaw(encodeCommand(["SELECT", String(dbId)]));
      this.seldb = dbId;
    }
    this.feedRaw(command);
  }

  /**
   * Appends bytes to the stream: the backlog, the offset, online replicas, and the
   * pending stream of snapshots in progress. `bytes` is only borrowed.
   */
  feedRaw(bytes: Uint8Array): void {
    if (this.backlog === null) {
      if (this.replicas.size === 0) return;
      this.createBacklog();
    }
    this.backlog!.append(bytes);
    this.server.replOffset += bytes.length;
    this.#fullSyncs.feed(bytes, this.#obufLimits.hard);
    for (const c of this.replicas) {
      const info = this.#info.get(c)!;
      if (info.state !== "online" || info.waitAck) continue;
      c.stream(bytes);
      this.#checkObuf(c, info);
    }
    this.#scheduleReplicaFlush();
  }

  /**
   * Replica output is written once per event-loop turn for every command fed in that
   * turn (Redis writes replica buffers in beforeSleep), not once per client chunk.
   */
  #scheduleReplicaFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      for (const c of this.replicas) if (c.reply.len > 0) c.scheduleFlush();
    });
  }

  #checkObuf(c: Client, info: ReplicaInfo): void {
    const { hard, soft, softSeconds } = this.#obufLimits;
    const used = c.pendingOutput;
    if (hard > 0 && used > hard) return this.dropForObuf(c);
    if (soft > 0 && used > soft) {
      const now = Date.now();
      if (info.softLimitSince === 0) info.softLimitSince = now;
      else if (now - info.softLimitSince > softSeconds * 1000) this.dropForObuf(c);
    } else info.softLimitSince = 0;
  }

  /** Closes a replica whose output buffer passed its limit (logged like Redis). */
  dropForObuf(c: Client): void {
    if (c.closed) return;
    this.server.log(
      "warning",
      `Client id=${c.id} addr=${c.addr} laddr=${c.laddr} name=${c.name} flags=S omem=${c.pendingOutput} scheduled to be closed ASAP for overcoming of output buffer limits.`,
    );
    queueMicrotask(() => c.close());
  }

  // ---- handshake commands ----

  /** REPLCONF ACK from a replica. */
  ack(c: Client, offset: number): void {
    const info = this.#info.get(c);
    if (info === undefined || info.state === null) return;
    if (offset > info.ackOff) info.ackOff = offset;
    info.ackTime = Date.now();
    if (info.waitAck) {
      info.waitAck = false;
      this.#fullSyncs.firstAck(c);
    }
    if (this.#waiters.length > 0) this.#serveWaiters();
  }

  /**
   * PSYNC / SYNC (Redis's syncCommand): partial resync when possible, otherwise a full
   * resync that starts (or joins) a snapshot.
   */
  sync(c: Client, argv: string[]): void {
    const info = this.infoOf(c);
    if (info.state !== null) return; // already a replica: ignored, as Redis does
    if (!this.canServeSync()) {
      return c.error("NOMASTERLINK Can't SYNC while not connected with my master");
    }
    const isPsync = argv[0].toLowerCase() === "psync";
    let offset = -1;
    if (isPsync) {
      const n = Number(argv[2]);
      if (!/^-?\d+$/.test(argv[2]) || !Number.isSafeInteger(n)) {
        this.server.log(
          "notice",
          `Replica ${this.replicaName(c)} asks for synchronization but with a wrong offset`,
        );
        return c.error("ERR value is not an integer or out of range");
      }
      offset = n;
    }
    this.server.log("notice", `Replica ${this.replicaName(c)} asks for synchronization`);
    if (isPsync) {
      if (this.#tryPartial(c, info, argv[1], offset)) {
        this.server.stats.syncPartialOk++;
        return;
      }
      if (argv[1] !== "?") this.server.stats.syncPartialErr++;
    } else info.prePsync = true;
    this.server.stats.syncFull++;
    this.#addReplica(c, info, "wait_bgsave_start");
    if (this.replicas.size === 1 && this.backlog === null) {
      this.changeReplicationId();
      this.clearReplicationId2();
      this.createBacklog();
      this.server.log(
        "notice",
        `Replication backlog created, my new replication IDs are '${this.replid}' and '${this.replid2}'`,
      );
    }
    this.#fullSyncs.schedule(c, info);
  }

  #addReplica(c: Client, info: ReplicaInfo, state: ReplicaState): void {
    info.state = state;
    info.ackTime = Date.now();
    c.isReplica = true;
    this.replicas.add(c);
  }

  /** Redis's masterTryPartialResynchronization. */
  #tryPartial(c: Client, info: ReplicaInfo, replid: string, offset: number): boolean {
    const log = (msg: string) => this.server.log("notice", msg);
    if (
      replid !== this.replid && (replid !== this.replid2 || offset > this.secondReplidOffset)
    ) {
      if (replid === "?") log(`Full resync requested by replica ${this.replicaName(c)}`);
      else if (replid !== this.replid && replid !== this.replid2) {
        log(
          `Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '${replid}', my replication IDs are '${this.replid}' and '${this.replid2}')`,
        );
      } else {
        log(
          `Partial resynchronization not accepted: Requested offset for second ID was ${offset}, but I can reply up to ${this.secondReplidOffset}`,
        );
      }
      return false;
    }
    if (this.backlog === null || !this.backlog.covers(offset)) {
      log(
        `Unable to partial resync with replica ${
          this.replicaName(c)
        } for lack of backlog (Replica request was: ${offset}).`,
      );
      if (offset > this.server.replOffset) {
        this.server.log(
          "warning",
          `Warning: replica ${
            this.replicaName(c)
          } tried to PSYNC with an offset that is greater than the master replication offset.`,
        );
      }
      return false;
    }
    this.#addReplica(c, info, "online");
    c.stream(info.capaPsync2 ? `+CONTINUE ${this.replid}\r\n` : "+CONTINUE\r\n");
    const data = this.backlog.readFrom(offset);
    c.stream(data);
    c.scheduleFlush();
    log(
      `Partial resynchronization request from ${
        this.replicaName(c)
      } accepted. Sending ${data.length} bytes of backlog starting from offset ${offset}.`,
    );
    return true;
  }

  /** A connection closed: forget it if it was a replica. */
  clientClosed(c: Client): void {
    const info = this.#info.get(c);
    if (info === undefined || info.state === null) return;
    this.replicas.delete(c);
    this.#fullSyncs.clientClosed(c);
    if (info.state === "online") {
      this.server.log("notice", `Connection with replica ${this.replicaName(c)} lost.`);
    }
    if (this.replicas.size === 0) this.#noReplicasSince = Date.now();
    if (this.#waiters.length > 0) this.#serveWaiters();
  }

  /** Closes every replica connection (they reconnect and resync by themselves). */
  disconnectReplicas(): void {
    for (const c of [...this.replicas]) c.close();
  }

  // ---- WAIT ----

  /** How many online replicas acknowledged `offset`. */
  countAcks(offset: number): number {
    let n = 0;
    for (const c of this.replicas) {
      const info = this.#info.get(c)!;
      if (info.state === "online" && info.ackOff >= offset) n++;
    }
    return n;
  }

  /** WAIT: blocks `c` until `numreplicas` acknowledged its last write, or the timeout. */
  wait(c: Client, numreplicas: number, timeoutMs: number): void {
    const offset = c.woff;
    const acks = this.countAcks(offset);
    if (acks >= numreplicas || c.multi !== null || this.server.inExec) {
      c.reply.int(acks);
      return;
    }
    this.server.blocking.block(c, {
      keys: [],
      timeoutMs,
      kind: "wait",
      onTimeout: (blocked) => blocked.reply.int(this.countAcks(offset)),
    });
    if (c.blocked === null) return;
    this.#waiters.push({ c, offset, numreplicas });
    this.requestAcks();
  }

  /** Asks every replica for an ACK, once per event-loop turn. */
  requestAcks(): void {
    if (this.#ackRequested) return;
    this.#ackRequested = true;
    queueMicrotask(() => {
      this.#ackRequested = false;
      if (this.replicas.size > 0 && !this.relaying) this.feedRaw(GETACK);
    });
  }

  #serveWaiters(): void {
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      const c = w.c;
      if (c.closed || c.blocked === null || c.blocked.kind !== "wait") continue;
      const acks = this.countAcks(w.offset);
      if (acks >= w.numreplicas) {
        this.server.blocking.unblock(c);
        c.reply.int(acks);
        c.scheduleFlush();
        c.resume();
      } else still.push(w);
    }
    this.#waiters = still;
  }

  /** Replicas that are online and acknowledged within min-replicas-max-lag seconds. */
  goodReplicas(): number {
    const maxLag = this.server.config.num("min-replicas-max-lag");
    const now = Date.now();
    let n = 0;
    for (const c of this.replicas) {
      const info = this.#info.get(c)!;
      if (info.state === "online" && Math.floor((now - info.ackTime) / 1000) <= maxLag) n++;
    }
    return n;
  }

  // ---- cron (once per second) ----

  /** Redis's replicationCron, primary half. */
  cron(): void {
    const server = this.server;
    const config = server.config;
    const period = Math.max(1, config.num("repl-ping-replica-period"));
    if (this.#cronLoops % period === 0 && this.replicas.size > 0 && !this.relaying) {
      this.feedRaw(PING);
    }
    this.#cronLoops++;
    for (const c of this.replicas) {
      const info = this.#info.get(c)!;
      const presync = info.state === "wait_bgsave_start" ||
        (info.state === "wait_bgsave_end" && !this.#fullSyncs.jobOf(c)?.diskless);
      if (presync && !c.closed) {
        c.stream(NEWLINE);
        c.scheduleFlush();
      }
    }
    const timeoutMs = config.num("repl-timeout") * 1000;
    const now = Date.now();
    for (const c of [...this.replicas]) {
      const info = this.#info.get(c)!;
      const stalled = info.state === "send_bulk"
        ? now - info.ackTime > timeoutMs
        : info.state === "wait_bgsave_end" && info.partialSince !== 0 &&
          now - info.partialSince > timeoutMs;
      if (stalled) {
        server.log("warning", `Disconnecting timedout replica (full sync): ${this.replicaName(c)}`);
        c.close();
        continue;
      }
      if (info.state !== "online" || info.prePsync) continue;
      if (now - info.ackTime > timeoutMs) {
        server.log(
          "warning",
          `Disconnecting timedout replica (streaming sync): ${this.replicaName(c)}`,
        );
        c.close();
      }
    }
    const ttl = config.num("repl-backlog-ttl");
    if (
      this.replicas.size === 0 && ttl > 0 && this.backlog !== null && !this.relaying &&
      now - this.#noReplicasSince > ttl * 1000
    ) {
      this.changeReplicationId();
      this.clearReplicationId2();
      this.freeBacklog();
      server.log(
        "notice",
        `Replication backlog freed after ${ttl} seconds without connected replicas.`,
      );
    }
    if (this.#waiters.length > 0) this.#serveWaiters();
  }

  // ---- shutdown ----

  /**
   * Redis 7.0's SHUTDOWN / SIGTERM wait: unless NOW, with shutdown-timeout > 0 and
   * replicas that have not acknowledged the whole stream, writes are paused, replicas
   * are asked for an ACK, and shutdown waits until they all caught up or the timeout
   * passed; lagging ones are logged. Pending replica output is flushed either way.
   */
  async beforeShutdown(now: boolean): Promise<void> {
    const server = this.server;
    const timeoutMs = server.config.num("shutdown-timeout") * 1000;
    const target = server.replOffset;
    if (!now && timeoutMs > 0 && !this.#caughtUp(target)) {
      server.pauseClients(timeoutMs, true);
      if (!this.relaying) this.requestAcks();
      server.log("notice", "Waiting for replicas before shutting down.");
      const deadline = Date.now() + timeoutMs;
      while (!this.#caughtUp(target) && Date.now() < deadline && !server.shutdownAborted) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    if (server.shutdownAborted) return;
    // Redis's finishShutdown: lagging replicas are named, then how many are in sync
    let inSync = 0;
    for (const c of this.replicas) {
      const info = this.#info.get(c)!;
      if (info.ackOff >= target) {
        inSync++;
        continue;
      }
      server.log(
        "warning",
        `Lagging replica ${this.replicaName(c)} reported offset ${
          target - info.ackOff
        } behind master, lag=${
          Math.floor((Date.now() - info.ackTime) / 1000)
        }, state=${info.state}.`,
      );
    }
    if (this.replicas.size > 0) {
      server.log(
        "notice",
        `${inSync} of ${this.replicas.size} replicas are in sync when shutting down.`,
      );
    }
    // best effort: the replicas get what is still buffered for them
    const flushes = [...this.replicas].map((c) => c.flush().catch(() => {}));
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(flushes),
      new Promise((resolve) => timer = setTimeout(resolve, 100)),
    ]);
    clearTimeout(timer);
  }

  #caughtUp(offset: number): boolean {
    for (const c of this.replicas) {
      const info = this.#info.get(c)!;
      if (info.ackOff < offset) return false;
    }
    return true;
  }

  /** Stops timers and snapshots (server stop). */
  stop(): void {
    this.#fullSyncs.stop();
  }

  // ---- observability ----

  /** INFO slaveN lines and ROLE entries: every replica with its state. */
  replicaRows(): Array<
    { ip: string; port: number; state: ReplicaState; offset: number; lag: number }
  > {
    const out = [];
    const now = Date.now();
    for (const c of this.replicas) {
      const info = this.#info.get(c)!;
      if (info.state === null) continue;
      out.push({
        ip: this.replicaIp(c),
        port: info.listeningPort,
        state: info.state,
        offset: info.ackOff,
        lag: info.state === "online" ? Math.floor((now - info.ackTime) / 1000) : 0,
      });
    }
    return out;
  }

  /** A replica connection by its announced address (FAILOVER TO). */
  findReplica(host: string, port: number): Client | undefined {
    for (const c of this.replicas) {
      if (this.replicaIp(c) === host && this.infoOf(c).listeningPort === port) return c;
    }
    return undefined;
  }
}
