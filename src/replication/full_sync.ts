/**
 * Full resynchronization (Redis: the BGSAVE-for-replication half of replication.c):
 * one point-in-time snapshot serves every replica that asks while it is prepared
 * (repl-diskless-sync-delay), sent as `$EOF:<mark>` (diskless) or `$<len>`, with the
 * stream fed meanwhile buffered once per snapshot and sent after it.
 */
import type { Client } from "../client.ts";
import { randomHex } from "../server.ts";
import type { Primary, ReplicaInfo } from "./primary.ts";

/** One snapshot being prepared for (and sent to) a group of replicas. */
export class SyncJob {
  readonly diskless: boolean;
  /** REPLCONF rdb-filter-only: a snapshot without the keys / the functions */
  readonly excludeData: boolean;
  readonly excludeFunctions: boolean;
  readonly replicas = new Set<Client>();
  started = false;
  /** the snapshot has been produced entirely */
  produced = false;
  /** replication offset the snapshot corresponds to */
  offset = 0;
  /** the stream fed since the snapshot started, for replicas not yet online */
  pending: Uint8Array[] = [];
  pendingBytes = 0;
  timer: ReturnType<typeof setTimeout> | undefined;
  constructor(diskless: boolean, excludeData: boolean, excludeFunctions: boolean) {
    this.diskless = diskless;
    this.excludeData = excludeData;
    this.excludeFunctions = excludeFunctions;
  }

  /** Whether a replica with these filters can share this job's snapshot. */
  fits(info: ReplicaInfo): boolean {
    return this.excludeData === info.excludeData &&
      this.excludeFunctions === info.excludeFunctions;
  }
}

/**
 * Lets pending I/O run. Awaiting a socket write that completes at once, or
 * setImmediate, does not: Deno resolves both without polling the sockets, so a long
 * snapshot would starve every client.
 */
function macrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** when I/O last had a chance to run during a snapshot transfer */
let lastIoTurn = 0;
/**
 * longest a transfer keeps the event loop before letting I/O run (ms): a backstop, as
 * the snapshot itself yields to the event loop every ~10 ms of work (rdb_writer), and
 * each extra timer turn costs a few ms of idle time (8 ms here made a diskless snapshot
 * of 1M keys take ~20% longer to produce)
 */
const IO_TURN_MS = 40;

/**
 * Yields to I/O when the transfer held the event loop for IO_TURN_MS: often enough
 * that clients are not starved, rarely enough that chained timers (clamped to a few
 * ms each) do not slow the transfer down.
 */
async function letIoRun(): Promise<void> {
  if (performance.now() - lastIoTurn < IO_TURN_MS) return;
  await macrotask();
  lastIoTurn = performance.now();
}

/** bytes per write while sending a disk-framed snapshot */
const SEND_CHUNK = 1 << 20;

/** The snapshots being prepared or sent, one at a time (Redis runs one child). */
export class FullSyncs {
  readonly #host: Primary;
  #jobs: SyncJob[] = [];

  constructor(host: Primary) {
    this.#host = host;
  }

  schedule(c: Client, info: ReplicaInfo): void {
    // a filtered snapshot goes to the socket when it can (Redis: req & SLAVE_REQ_RDB_MASK)
    const excludeData = info.excludeData;
    const diskless = (this.#host.server.config.bool("repl-diskless-sync") || excludeData) &&
      info.capaEof;
    // a disk snapshot still being produced can serve this replica too (Redis: CASE 1)
    const running = this.#jobs.find((j) => j.started && !j.diskless && !j.produced && j.fits(info));
    if (running !== undefined) {
      running.replicas.add(c);
      info.state = "wait_bgsave_end";
      this.#sendFullResync(c, running.offset);
      this.#host.server.log("notice", "Waiting for end of BGSAVE for SYNC");
      return;
    }
    let job = this.#jobs.find((j) => !j.started && j.diskless === diskless && j.fits(info));
    if (job !== undefined) {
      job.replicas.add(c);
      // enough replicas are waiting: no need to wait out the delay (Redis 7.0)
      const max = this.#host.server.config.num("repl-diskless-sync-max-replicas");
      if (max > 0 && job.replicas.size >= max && job.timer !== undefined) {
        clearTimeout(job.timer);
        job.timer = undefined;
        this.#startNextJob();
      }
      return;
    }
    job = new SyncJob(diskless, excludeData, info.excludeFunctions);
    job.replicas.add(c);
    this.#jobs.push(job);
    const delay = this.#host.server.config.num("repl-diskless-sync-delay");
    const max = this.#host.server.config.num("repl-diskless-sync-max-replicas");
    if (diskless && delay > 0 && !(max > 0 && job.replicas.size >= max)) {
      this.#host.server.log("notice", "Delay next BGSAVE for diskless SYNC");
      const j = job;
      job.timer = setTimeout(() => {
        j.timer = undefined;
        this.#startNextJob();
      }, delay * 1000);
    } else this.#startNextJob();
  }

  /** Starts the first waiting job when no other snapshot is being produced. */
  #startNextJob(): void {
    if (this.#jobs.some((j) => j.started && !j.produced)) return;
    const job = this.#jobs.find((j) => !j.started && j.timer === undefined);
    if (job === undefined) return;
    for (const c of job.replicas) if (c.closed) job.replicas.delete(c);
    if (job.replicas.size === 0) {
      this.#jobs.splice(this.#jobs.indexOf(job), 1);
      return this.#startNextJob();
    }
    if (this.#host.snapshot === null) {
      this.#host.server.log("warning", "Can't start a full sync: no snapshot writer installed");
      return;
    }
    job.started = true;
    job.offset = this.#host.server.replOffset;
    const replStreamDb = this.#host.relaying
      ? this.#host.relayDb()
      : this.#host.seldb === -1
      ? 0
      : this.#host.seldb;
    // the stream after the snapshot must start with a SELECT (Redis: slaveseldb = -1)
    if (!this.#host.relaying) this.#host.seldb = -1;
    for (const c of job.replicas) {
      this.#host.infoOf(c).state = "wait_bgsave_end";
      this.#sendFullResync(c, job.offset);
    }
    this.#host.server.log(
      "notice",
      `Starting BGSAVE for SYNC with target: ${job.diskless ? "replicas sockets" : "disk"}`,
    );
    // Redis forks a child for it (INFO total_forks)
    this.#host.server.stats.totalForks++;
    const iterable = this.#host.snapshot(this.#host.server, {
      replid: this.#host.replid,
      offset: job.offset,
      replStreamDb,
      excludeData: job.excludeData,
      excludeFunctions: job.excludeFunctions,
    });
    const server = this.#host.server;
    server.replSnapshots++;
    const run = job.diskless ? this.#runDiskless(job, iterable) : this.#runDisk(job, iterable);
    run.catch((e) => {
      this.#host.server.log("warning", `Full sync failed: ${(e as Error).message}`);
      for (const c of job.replicas) c.close();
    }).finally(() => {
      server.replSnapshots--;
      job.produced = true;
      this.#dropJobIfDone(job);
      this.#startNextJob();
    });
  }

  #sendFullResync(c: Client, offset: number): void {
    const info = this.#host.infoOf(c);
    // legacy SYNC gets the payload without the +FULLRESYNC line
    if (!info.prePsync) c.stream(`+FULLRESYNC ${this.#host.replid} ${offset}\r\n`);
    c.scheduleFlush();
  }

  /** Diskless: one pass over the snapshot, written to every replica of the job. */
  async #runDiskless(job: SyncJob, iterable: AsyncIterable<Uint8Array>): Promise<void> {
    const mark = randomHex(40);
    const targets = [...job.replicas];
    // the replicas stay in wait_bgsave_end during a diskless transfer, as in Redis
    for (const c of targets) c.stream(`$EOF:${mark}\r\n`);
    let live = targets;
    for await (const chunk of iterable) {
      live = live.filter((c) => !c.closed);
      if (live.length === 0) {
        this.#host.server.log(
          "warning",
          "Diskless rdb transfer, last replica dropped, killing fork child.",
        );
        break;
      }
      for (const c of live) c.stream(chunk);
      // a replica that does not take its part in repl-timeout is dropped by the cron
      // (Redis: repl_last_partial_write), so one stalled replica cannot hold the others
      await Promise.all(live.map((c) => {
        const info = this.#host.infoOf(c);
        info.partialSince = Date.now();
        return c.flush().finally(() => info.partialSince = 0);
      }));
      await letIoRun();
      const now = Date.now();
      for (const c of live) this.#host.infoOf(c).ackTime = now;
    }
    job.produced = true;
    live = live.filter((c) => !c.closed);
    if (live.length === 0) return;
    this.#host.server.log(
      "notice",
      `Diskless rdb transfer, done reading from pipe, ${live.length} replicas still up.`,
    );
    for (const c of live) {
      c.stream(mark);
      c.scheduleFlush();
      const info = this.#host.infoOf(c);
      info.state = "online";
      info.waitAck = true;
      info.ackTime = Date.now();
    }
  }

  /** Disk framing: the snapshot is produced whole, then sent with its length. */
  async #runDisk(job: SyncJob, iterable: AsyncIterable<Uint8Array>): Promise<void> {
    const parts: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of iterable) {
      parts.push(chunk);
      total += chunk.length;
      await letIoRun();
    }
    job.produced = true;
    this.#host.server.log("notice", "Background saving terminated with success");
    await Promise.all([...job.replicas].map((c) => this.#sendDisk(c, job, parts, total)));
  }

  async #sendDisk(c: Client, job: SyncJob, parts: Uint8Array[], total: number): Promise<void> {
    if (c.closed) return;
    this.#host.infoOf(c).state = "send_bulk";
    c.stream(`$${total}\r\n`);
    let queued = 0;
    for (const part of parts) {
      c.stream(part);
      queued += part.length;
      if (queued >= SEND_CHUNK) {
        queued = 0;
        await c.flush();
        await letIoRun();
        if (c.closed) return;
        this.#host.infoOf(c).ackTime = Date.now();
      }
    }
    this.putOnline(c, job);
  }

  /** The snapshot reached the replica: stream what was buffered, then go live. */
  putOnline(c: Client, job: SyncJob): void {
    const info = this.#host.infoOf(c);
    info.state = "online";
    info.ackTime = Date.now();
    for (const part of job.pending) c.stream(part);
    job.replicas.delete(c);
    this.#dropJobIfDone(job);
    c.scheduleFlush();
    this.#host.server.log(
      "notice",
      `Synchronization with replica ${this.#host.replicaName(c)} succeeded`,
    );
  }

  /** Forgets a job whose snapshot is done and whose replicas are all online or gone. */
  #dropJobIfDone(job: SyncJob): void {
    if (!job.produced || job.replicas.size > 0) return;
    job.pending = [];
    job.pendingBytes = 0;
    const i = this.#jobs.indexOf(job);
    if (i >= 0) this.#jobs.splice(i, 1);
  }

  /** Buffers stream bytes for the replicas whose snapshot started but who are not online. */
  feed(bytes: Uint8Array, hardLimit: number): void {
    for (const job of this.#jobs) {
      if (!job.started || job.replicas.size === 0) continue;
      job.pending.push(bytes.slice());
      job.pendingBytes += bytes.length;
      if (hardLimit > 0 && job.pendingBytes > hardLimit) {
        for (const c of job.replicas) this.#host.dropForObuf(c);
      }
    }
  }

  /** The first ACK after a diskless transfer: the replica loaded it, stream to it now. */
  firstAck(c: Client): void {
    const job = this.jobOf(c);
    if (job !== undefined) this.putOnline(c, job);
  }

  /** The job a replica belongs to while it syncs. */
  jobOf(c: Client): SyncJob | undefined {
    return this.#jobs.find((j) => j.replicas.has(c));
  }

  /** A replica went away. */
  clientClosed(c: Client): void {
    for (const job of [...this.#jobs]) {
      job.replicas.delete(c);
      this.#dropJobIfDone(job);
    }
  }

  /** Stops delay timers (server stop). */
  stop(): void {
    for (const job of this.#jobs) if (job.timer !== undefined) clearTimeout(job.timer);
    this.#jobs = [];
  }
}
