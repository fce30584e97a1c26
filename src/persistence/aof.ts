/**
 * The append-only file (Redis 7 multi-part AOF; Redis: aof.c): a propagation sink that
 * appends every write in RESP to the current incremental file, fsync policies, replay
 * at start, BGREWRITEAOF (new base from a copy-on-write snapshot plus a new incr file,
 * manifest switched atomically) and the automatic rewrite.
 *
 * `appendfsync always` without an await per command: commands append to a buffer;
 * before any client's replies are written (server.replyBarrier) the buffer is written
 * and fdatasync'ed once for everything that accumulated in that event-loop turn, and
 * the replies go out only when that batch is durable.
 */
import type { PropagationSink, Server } from "../server.ts";
import { encodeCommand } from "../resp/writer.ts";
import { rdbToAofCommands } from "./aof_rewrite.ts";
import { binaryToUtf8 } from "../resp/bytes.ts";
import type { RdbState } from "./rdb.ts";
import { concat, rdbBytesSync, rdbSnapshot } from "./rdb_writer.ts";
import {
  type AofManifest,
  baseFileName,
  emptyManifest,
  formatManifest,
  incrFileName,
  ManifestError,
  parseManifest,
} from "./aof_manifest.ts";
import { AofLoadError, loadAofFile, type LoadSteps, runAsync, runSync } from "./aof_load.ts";

/** AOF state of one server. */
export class AofState implements PropagationSink {
  readonly server: Server;
  readonly rdb: RdbState;
  /** appendonly is on (the sink is installed) */
  on = false;
  manifest: AofManifest = emptyManifest();
  #file: Deno.FsFile | null = null;
  #retired: Deno.FsFile[] = [];
  /** the commands not yet written: #pending[0, #pendingBytes) */
  #pending = new Uint8Array(64 * 1024);
  #pendingBytes = 0;
  #lastDb = -1;
  #lastTimestamp = 0;
  /** bytes accepted / written to the file / known durable (monotonic counters) */
  #appended = 0;
  #written = 0;
  #durable = 0;
  #waiters: Array<{ target: number; resolve: () => void }> = [];
  /** the pending batched write (everysec / no) */
  #batchWrite: Promise<void> | null = null;
  #syncScheduled = false;
  #syncing = false;
  #lastFsync = Date.now();
  /** sizes for INFO and the automatic rewrite */
  baseSize = 0;
  incrSize = 0;
  rewriteBaseSize = 0;
  rewriting = false;
  rewriteStart = 0;
  rewriteScheduled = false;
  lastRewriteTimeSec = -1;
  lastRewriteOk = true;
  rewrites = 0;
  rewriteFailures = 0;
  lastWriteOk = true;
  lastWriteError = "";

  constructor(server: Server, rdb: RdbState) {
    this.server = server;
    this.rdb = rdb;
  }

  get #cfg() {
    return this.server.config;
  }

  /** `<dir>/<appenddirname>` */
  get dirPath(): string {
    const dir = this.#cfg.get("dir");
    const sub = this.#cfg.get("appenddirname");
    return dir.endsWith("/") ? dir + sub : `${dir}/${sub}`;
  }

  #path(name: string): string {
    return `${this.dirPath}/${name}`;
  }

  get #manifestName(): string {
    return `${this.#cfg.get("appendfilename")}.manifest`;
  }

  // ---- sink ----

  /** PropagationSink: appends a command (with SELECT when the db changes). */
  feed(dbId: number, command: Uint8Array): void {
    if (this.#cfg.bool("aof-timestamp-enabled")) {
      // Redis's "#TS:<unix seconds>" annotation, once per second with writes
      const sec = Math.floor(Date.now() / 1000);
      if (sec > this.#lastTimestamp) {
        this.#lastTimestamp = sec;
        this.#push(new TextEncoder().encode(`#TS:${sec}\r\n`));
      }
    }
    if (dbId !== this.#lastDb) {
      this.#push(encodeCommand(["SELECT", String(dbId)]));
      this.#lastDb = dbId;
    }
    this.#push(command);
  }

  /** DEBUG AOF-FLUSH-SLEEP <microseconds> */
  flushSleepUs = 0;

  /** Appends a command (copied: propagation lends its bytes). */
  #push(b: Uint8Array): void {
    const need = this.#pendingBytes + b.length;
    if (need > this.#pending.length) {
      const grown = new Uint8Array(Math.max(need, this.#pending.length * 2));
      grown.set(this.#pending.subarray(0, this.#pendingBytes));
      this.#pending = grown;
    }
    this.#pending.set(b, this.#pendingBytes);
    this.#pendingBytes = need;
    this.#appended += b.length;
  }

  /** Writes buffered commands to the incr file (no fsync). */
  writePending(): void {
    if (this.#pendingBytes === 0 || this.#file === null) return;
    if (this.flushSleepUs > 0) {
      // DEBUG AOF-FLUSH-SLEEP: Redis's test aid, a blocking sleep before each flush
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, this.flushSleepUs / 1000);
    }
    const data = this.#pending.subarray(0, this.#pendingBytes);
    try {
      let off = 0;
      while (off < data.length) off += this.#file.writeSync(data.subarray(off));
    } catch (e) {
      if (this.lastWriteOk) {
        this.server.log("warning", `Error writing to the AOF file: ${(e as Error).message}`);
      }
      this.lastWriteOk = false;
      this.lastWriteError = (e as Error).message;
      return;
    }
    this.lastWriteOk = true;
    // a burst's big buffer is not kept
    if (this.#pending.length > 1 << 20) this.#pending = new Uint8Array(64 * 1024);
    this.incrSize += this.#pendingBytes;
    this.#written += this.#pendingBytes;
    this.#pendingBytes = 0;
  }

  /** server.replyBarrier: null when replies may go out now. */
  barrier(): Promise<void> | null {
    if (this.#appended === this.#durable) return null;
    const policy = this.#cfg.get("appendfsync");
    if (policy !== "always") {
      if (this.#pendingBytes === 0) return null;
      // one write for every client whose commands ran in this turn (their read
      // continuations are already queued ahead of this microtask)
      this.#batchWrite ??= new Promise((resolve) =>
        queueMicrotask(() => {
          this.#batchWrite = null;
          this.writePending();
          resolve();
        })
      );
      return this.#batchWrite;
    }
    const target = this.#appended;
    return new Promise((resolve) => {
      this.#waiters.push({ target, resolve });
      this.#scheduleSync();
    });
  }

  #scheduleSync(): void {
    if (this.#syncScheduled || this.#syncing) return;
    this.#syncScheduled = true;
    // joins every client served in this event-loop turn into one write + fsync
    setImmediate(() => {
      this.#syncScheduled = false;
      this.#sync();
    });
  }

  async #sync(): Promise<void> {
    if (this.#syncing) return;
    this.#syncing = true;
    try {
      this.writePending();
      const target = this.#written;
      const file = this.#file;
      if (file !== null && target > this.#durable) {
        try {
          await file.syncData();
        } catch (e) {
          this.server.log("warning", `Error syncing the AOF file: ${(e as Error).message}`);
        }
      }
      if (target > this.#durable) this.#durable = target;
      this.#lastFsync = Date.now();
      if (!this.lastWriteOk) {
        // the write failed: the replies go out (later writes get MISCONF) rather than
        // waiting forever; Redis exits in this case
        for (const w of this.#waiters.splice(0)) w.resolve();
      }
      this.#release();
    } finally {
      this.#syncing = false;
    }
    if (this.#waiters.length > 0) this.#scheduleSync();
    this.#closeRetired();
  }

  #release(): void {
    if (this.#waiters.length === 0) return;
    const ready = this.#waiters.filter((w) => w.target <= this.#durable);
    this.#waiters = this.#waiters.filter((w) => w.target > this.#durable);
    for (const w of ready) w.resolve();
  }

  /** Writes and fsyncs everything now, synchronously (shutdown, file switch). */
  flushSync(): void {
    this.writePending();
    if (this.#file !== null && this.#written > this.#durable) {
      try {
        this.#file.syncDataSync();
      } catch { /* reported by the next write */ }
    }
    this.#durable = this.#written;
    if (this.#pendingBytes === 0) this.#durable = this.#appended;
    this.#release();
  }

  #closeRetired(): void {
    if (this.#syncing) return;
    for (const f of this.#retired.splice(0)) {
      try {
        f.close();
      } catch { /* closed */ }
    }
  }

  /** serverCron: everysec fsync, scheduled and automatic rewrites. */
  cron(): void {
    if (this.on) {
      this.writePending();
      const policy = this.#cfg.get("appendfsync");
      if (
        policy === "everysec" && this.#written > this.#durable && !this.#syncing &&
        Date.now() - this.#lastFsync >= 1000
      ) {
        this.#sync();
      } else if (policy === "no") {
        this.#durable = this.#written;
      }
    }
    if (this.rewriting || this.rdb.bgsave !== null) return;
    if (this.rewriteScheduled) {
      this.rewriteScheduled = false;
      this.#firstRewrite();
      return;
    }
    const pct = this.#cfg.num("auto-aof-rewrite-percentage");
    const size = this.baseSize + this.incrSize;
    if (this.on && pct > 0 && size > this.#cfg.num("auto-aof-rewrite-min-size")) {
      const base = this.rewriteBaseSize > 0 ? this.rewriteBaseSize : 1;
      const growth = Math.floor((size - base) * 100 / base);
      if (growth >= pct) {
        this.server.log("notice", `Starting automatic rewriting of AOF on ${growth}% growth`);
        this.rewrite();
      }
    }
  }

  // ---- files ----

  #writeFileSync(name: string, data: Uint8Array): void {
    const tmp = this.#path(`temp-${name}`);
    const f = Deno.openSync(tmp, { write: true, create: true, truncate: true });
    try {
      let off = 0;
      while (off < data.length) off += f.writeSync(data.subarray(off));
      f.syncSync();
    } finally {
      f.close();
    }
    Deno.renameSync(tmp, this.#path(name));
  }

  #persistManifest(): void {
    this.#writeFileSync(
      this.#manifestName,
      new TextEncoder().encode(formatManifest(this.manifest)),
    );
    try {
      const d = Deno.openSync(this.dirPath, { read: true });
      try {
        d.syncSync();
      } finally {
        d.close();
      }
    } catch { /* directories cannot be fsynced on every platform */ }
  }

  #fileSize(name: string): number {
    try {
      return Deno.statSync(this.#path(name)).size;
    } catch {
      return 0;
    }
  }

  /** Opens a new incr file and makes it the write target (the manifest lists it). */
  #openNewIncr(): void {
    this.writePending();
    const seq = this.manifest.incrSeq + 1;
    const name = incrFileName(this.#cfg.get("appendfilename"), seq);
    const f = Deno.openSync(this.#path(name), { write: true, create: true, append: true });
    this.#switchFile(f);
    this.manifest.incr.push({ name, seq, type: "i" });
    this.manifest.incrSeq = seq;
    this.#persistManifest();
  }

  #switchFile(f: Deno.FsFile | null): void {
    if (this.#file !== null) {
      try {
        if (this.#written > this.#durable) this.#file.syncDataSync();
      } catch { /* reported by writes */ }
      this.#durable = this.#written;
      this.#release();
      this.#retired.push(this.#file);
      this.#closeRetired();
    }
    this.#file = f;
    this.#lastDb = -1;
  }

  /**
   * Loads the AOF at startup (when appendonly is yes), or creates the first base and
   * incr files. Throws with a clear message when the AOF is corrupt.
   */
  async loadAtStart(): Promise<void> {
    Deno.mkdirSync(this.dirPath, { recursive: true });
    const manifestPath = this.#path(this.#manifestName);
    let text: string | null = null;
    try {
      text = Deno.readTextFileSync(manifestPath);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    if (text === null && this.#upgradeSingleFile()) {
      text = formatManifest(this.manifest);
    }
    if (text === null) {
      this.server.log("notice", "Creating AOF base file on server start");
      this.manifest = emptyManifest();
      this.#writeBaseSync();
      this.#openNewIncr();
      this.#enable();
      return;
    }
    try {
      this.manifest = parseManifest(text);
      // an upgrade interrupted before the rename: the manifest names the old file,
      // still in the server dir (Redis's third upgrade case)
      const base = this.manifest.base;
      const name = this.#cfg.get("appendfilename");
      if (base !== null && base.name === name && this.manifest.incr.length === 0) {
        let inAofDir = true;
        try {
          Deno.statSync(this.#path(name));
        } catch {
          inAofDir = false;
        }
        if (!inAofDir && this.#upgradeSingleFile()) text = formatManifest(this.manifest);
      }
    } catch (e) {
      if (e instanceof ManifestError) throw new AofLoadError(e.message);
      throw e;
    }
    await runAsync(this.#replayAll());
    if (this.manifest.incr.length === 0) {
      this.#openNewIncr();
    } else {
      const last = this.manifest.incr[this.manifest.incr.length - 1];
      this.#switchFile(Deno.openSync(this.#path(last.name), { write: true, append: true }));
    }
    this.#enable();
  }

  /** The manifest on disk, or an empty one when there is none (or it is unreadable). */
  #readManifest(): AofManifest {
    try {
      return parseManifest(Deno.readTextFileSync(this.#path(this.#manifestName)));
    } catch {
      return emptyManifest();
    }
  }

  /** DEBUG LOADAOF: flushes the AOF, empties the dataset and replays the files. */
  reload(): void {
    this.flushSync();
    const manifest = parseManifest(Deno.readTextFileSync(this.#path(this.#manifestName)));
    if (this.on) this.manifest = manifest;
    else {
      // AOF off (Redis still loads the files): replay them without adopting them
      const own = this.manifest;
      this.manifest = manifest;
      try {
        for (const db of this.server.dbs) db.clear();
        this.server.tracking?.flush();
        runSync(this.#replayAll());
      } finally {
        this.manifest = own;
      }
      return;
    }
    for (const db of this.server.dbs) db.clear();
    // Redis's emptyData: tracking clients get a null (flush) invalidation
    this.server.tracking?.flush();
    runSync(this.#replayAll());
  }

  /**
   * Redis < 7 kept one `<dir>/<appendfilename>` file: as Redis 7 does, it becomes the
   * base of a new manifest (moved into the AOF directory). True if one was found.
   */
  #upgradeSingleFile(): boolean {
    const name = this.#cfg.get("appendfilename");
    const dir = this.#cfg.get("dir");
    const old = dir.endsWith("/") ? dir + name : `${dir}/${name}`;
    try {
      Deno.statSync(old);
    } catch {
      return false;
    }
    this.server.log("notice", `Upgrading the old-style AOF ${name} to the multi-part format`);
    Deno.renameSync(old, this.#path(name));
    this.manifest = emptyManifest();
    this.manifest.base = { name, seq: 1, type: "b" };
    this.manifest.baseSeq = 1;
    this.#persistManifest();
    return true;
  }

  /** Replays the base and incr files of the manifest (steps: see runSync/runAsync). */
  *#replayAll(): LoadSteps<void> {
    const server = this.server;
    const files = [...(this.manifest.base ? [this.manifest.base] : []), ...this.manifest.incr];
    const sinks = server.sinks.splice(0);
    const wasLoading = server.loading;
    server.loading = true;
    const start = performance.now();
    try {
      this.baseSize = 0;
      this.incrSize = 0;
      for (let i = 0; i < files.length; i++) {
        const f = files[i];
        const path = this.#path(f.name);
        let bytes: Uint8Array;
        try {
          bytes = Deno.readFileSync(path);
        } catch (e) {
          throw new AofLoadError(
            e instanceof Deno.errors.NotFound
              ? `The append log file ${
                binaryToUtf8(f.name)
              } doesn't exist: No such file or directory`
              : `Fatal error: can't open the append log file ${binaryToUtf8(f.name)} for reading: ${
                (e as Error).message
              }`,
          );
        }
        const r = yield* loadAofFile(server, bytes, {
          name: f.name,
          isLast: i === files.length - 1,
        });
        if (r.truncated) {
          Deno.truncateSync(path, r.validBytes);
          server.log(
            "warning",
            `AOF ${f.name} loaded anyway because aof-load-truncated is enabled`,
          );
        }
        if (f.type === "b") this.baseSize = r.validBytes;
        else this.incrSize += r.validBytes;
        server.log(
          "notice",
          `DB loaded from ${f.type === "b" ? "base" : "incr"} file ${f.name}: ${
            ((performance.now() - start) / 1000).toFixed(3)
          } seconds`,
        );
      }
    } finally {
      server.sinks.push(...sinks);
      server.loading = wasLoading;
    }
    server.dirty = 0;
    this.rewriteBaseSize = this.baseSize + this.incrSize;
  }

  #writeBaseSync(): void {
    const seq = this.manifest.baseSeq + 1;
    const rdbBase = this.#cfg.bool("aof-use-rdb-preamble");
    const name = baseFileName(this.#cfg.get("appendfilename"), seq, rdbBase);
    const image = rdbBytesSync(this.server, { aofBase: true });
    const data = rdbBase ? image : concat(
      rdbToAofCommands(this.server, image, this.#cfg.bool("aof-timestamp-enabled")),
    );
    this.#writeFileSync(name, data);
    if (this.manifest.base !== null) {
      this.manifest.history.push({ ...this.manifest.base, type: "h" });
    }
    this.manifest.base = { name, seq, type: "b" };
    this.manifest.baseSeq = seq;
    this.baseSize = data.length;
  }

  #enable(): void {
    this.on = true;
    if (!this.server.sinks.includes(this)) this.server.sinks.push(this);
    this.server.replyBarrier = () => this.barrier();
  }

  /**
   * true from CONFIG SET appendonly yes until its first rewrite succeeds (Redis's
   * AOF_WAIT_REWRITE): the AOF does not hold the dataset yet, so shutdown refuses
   */
  waitingFirstRewrite = false;

  /** CONFIG SET appendonly yes: starts logging and writes a base of the dataset. */
  start(): void {
    if (this.on) return;
    Deno.mkdirSync(this.dirPath, { recursive: true });
    this.manifest = this.#readManifest();
    this.#enable();
    this.waitingFirstRewrite = true;
    // Redis's startAppendOnly: the base is written now, or by the cron once a BGSAVE or
    // the transaction that turned the AOF on is over
    if (this.rdb.bgsave !== null) {
      this.rewriteScheduled = true;
      this.server.log(
        "warning",
        "AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.",
      );
    } else if (this.server.inExec) {
      this.rewriteScheduled = true;
      this.server.log(
        "warning",
        "AOF was enabled during a transaction. An AOF background was scheduled to start when possible.",
      );
    } else this.#firstRewrite();
  }

  /** A rewrite that, when it succeeds, ends the wait for the AOF's first base. */
  #firstRewrite(): void {
    this.rewrite().then((ok) => {
      if (ok) this.waitingFirstRewrite = false;
    });
  }

  /** Deletes the history files of the manifest (Redis's aofDelHistoryFiles). */
  gcHistory(): void {
    if (this.manifest.history.length === 0) return;
    for (const h of this.manifest.history) {
      try {
        Deno.removeSync(this.#path(h.name));
      } catch { /* already gone */ }
    }
    this.manifest.history = [];
    this.#persistManifest();
  }

  #killRewrite: (() => void) | null = null;
  #rewriteKilled = false;

  /** Kills a running rewrite (its temp file removed), as Redis's killAppendOnlyChild. */
  killRewrite(): void {
    if (!this.rewriting || this.#killRewrite === null) return;
    this.server.log("notice", "Killing running AOF rewrite child");
    this.#rewriteKilled = true;
    this.#killRewrite();
  }

  /** CONFIG SET appendonly no: flushes and stops logging. */
  stop(): void {
    if (!this.on) return;
    this.waitingFirstRewrite = false;
    this.killRewrite();
    this.flushSync();
    this.on = false;
    const i = this.server.sinks.indexOf(this);
    if (i >= 0) this.server.sinks.splice(i, 1);
    this.server.replyBarrier = null;
    this.#switchFile(null);
  }

  /** Closes files (server stop). */
  close(): void {
    this.flushSync();
    this.#switchFile(null);
    this.#closeRetired();
  }

  /**
   * BGREWRITEAOF: a new incr file receives writes from now on, a new base is written
   * from a point-in-time snapshot, then the manifest switches to them atomically and
   * the old files are deleted. Resolves true on success.
   */
  async rewrite(): Promise<boolean> {
    if (this.rewriting) return false;
    this.rewriting = true;
    this.rewriteStart = Date.now();
    const server = this.server;
    // Redis forks a child here (INFO total_forks)
    server.stats.totalForks++;
    server.log("notice", "Background append only file rewriting started");
    try {
      Deno.mkdirSync(this.dirPath, { recursive: true });
      if (!this.on) this.manifest = this.#readManifest();
      const oldIncr = this.manifest.incr.slice();
      if (this.on) this.#openNewIncr();
      // same instant as the incr switch: the base holds exactly what precedes it
      const abort = new AbortController();
      this.#killRewrite = () => abort.abort(new Error("killed"));
      const snapshot = rdbSnapshot(server, { aofBase: true, signal: abort.signal });
      const seq = this.manifest.baseSeq + 1;
      // aof-use-rdb-preamble no: the base holds commands (Redis's rewriteAppendOnlyFileRio)
      const rdbBase = server.config.bool("aof-use-rdb-preamble");
      const name = baseFileName(server.config.get("appendfilename"), seq, rdbBase);
      const tmp = this.#path(`temp-rewriteaof-bg-${Deno.pid}.aof`);
      let f: Deno.FsFile;
      try {
        f = await Deno.open(tmp, { write: true, create: true, truncate: true });
      } catch (e) {
        snapshot.cancel();
        throw e;
      }
      let size = 0;
      try {
        const image: Uint8Array[] = [];
        for await (const chunk of snapshot) {
          abort.signal.throwIfAborted();
          if (!rdbBase) {
            image.push(chunk);
            continue;
          }
          let off = 0;
          while (off < chunk.length) off += await f.write(chunk.subarray(off));
          size += chunk.length;
        }
        abort.signal.throwIfAborted();
        if (!rdbBase) {
          const timestamps = server.config.bool("aof-timestamp-enabled");
          for (const cmd of rdbToAofCommands(server, concat(image), timestamps)) {
            let off = 0;
            while (off < cmd.length) off += await f.write(cmd.subarray(off));
            size += cmd.length;
          }
        }
        await f.sync();
      } catch (e) {
        f.close();
        await Deno.remove(tmp).catch(() => {});
        throw e;
      }
      f.close();
      await Deno.rename(tmp, this.#path(name));
      // Redis adds each to the head of its history list: the base first, then the incrs
      const history = [
        ...oldIncr.map((i) => ({ ...i, type: "h" as const })).reverse(),
        ...(this.manifest.base ? [{ ...this.manifest.base, type: "h" as const }] : []),
        ...this.manifest.history,
      ];
      this.manifest = {
        base: { name, seq, type: "b" },
        incr: this.manifest.incr.filter((i) => !oldIncr.includes(i)),
        history,
        baseSeq: seq,
        incrSeq: this.manifest.incrSeq,
      };
      this.#persistManifest();
      if (!server.config.bool("aof-disable-auto-gc")) this.gcHistory();
      this.baseSize = size;
      this.incrSize = this.manifest.incr.reduce((n, i) => n + this.#fileSize(i.name), 0);
      this.rewriteBaseSize = this.baseSize + this.incrSize;
      this.lastRewriteOk = true;
      this.rewrites++;
      this.rewriteFailures = 0;
      server.log("notice", "Background AOF rewrite finished successfully");
      return true;
    } catch (e) {
      if (this.#rewriteKilled) {
        this.#rewriteKilled = false;
        return false;
      }
      server.log("warning", `Background AOF rewrite failed: ${(e as Error).message}`);
      this.lastRewriteOk = false;
      this.rewriteFailures++;
      return false;
    } finally {
      this.lastRewriteTimeSec = Math.round((Date.now() - this.rewriteStart) / 1000);
      this.rewriting = false;
      this.#killRewrite = null;
    }
  }

  /** INFO persistence: the aof_* fields. */
  infoLines(): string[] {
    const lines = [
      `aof_enabled:${this.on ? 1 : 0}`,
      `aof_rewrite_in_progress:${this.rewriting ? 1 : 0}`,
      `aof_rewrite_scheduled:${this.rewriteScheduled ? 1 : 0}`,
      `aof_last_rewrite_time_sec:${this.lastRewriteTimeSec}`,
      `aof_current_rewrite_time_sec:${
        this.rewriting ? Math.round((Date.now() - this.rewriteStart) / 1000) : -1
      }`,
      `aof_last_bgrewrite_status:${this.lastRewriteOk ? "ok" : "err"}`,
      `aof_rewrites:${this.rewrites}`,
      `aof_rewrites_consecutive_failures:${this.rewriteFailures}`,
      `aof_last_write_status:${this.lastWriteOk ? "ok" : "err"}`,
      "aof_last_cow_size:0",
      "module_fork_in_progress:0",
      "module_fork_last_cow_size:0",
    ];
    if (this.on) {
      lines.push(
        `aof_current_size:${this.baseSize + this.incrSize}`,
        `aof_base_size:${this.baseSize}`,
        `aof_pending_rewrite:${this.rewriteScheduled ? 1 : 0}`,
        `aof_buffer_length:${this.#pendingBytes}`,
        `aof_pending_bio_fsync:${this.#syncing ? 1 : 0}`,
        "aof_delayed_fsync:0",
      );
    }
    return lines;
  }
}
