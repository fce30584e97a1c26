/**
 * RDB persistence orchestration (Redis: rdb.c rdbSave/rdbSaveBackground/rdbLoad and
 * the save-point part of serverCron): SAVE, BGSAVE, save points, load at start, save
 * at shutdown, INFO persistence's rdb fields and the MISCONF write guard.
 */
import type { Server } from "../server.ts";
import { binaryToUtf8 } from "../resp/bytes.ts";
import { RdbError } from "./rdb_format.ts";
import { loadRdb, loadRdbAsync, type LoadResult } from "./rdb_reader.ts";
import { saveRdbFile, saveRdbFileSync, type SnapshotOptions } from "./rdb_writer.ts";

/** How long a failed BGSAVE waits before save points may retry (Redis: 5 s). */
const BGSAVE_RETRY_DELAY_MS = 5000;

/** RDB state of one server (Redis's server.rdb_* and dirty bookkeeping). */
export class RdbState {
  readonly server: Server;
  lastBgsaveOk = true;
  lastBgsaveTry = 0;
  /** seconds the last BGSAVE took, -1 before the first */
  lastBgsaveTimeSec = -1;
  saves = 0;
  /** the running BGSAVE, if any */
  bgsave: Promise<boolean> | null = null;
  bgsaveStart = 0;
  /** keys processed / total of the running save (INFO current_save_keys_*) */
  currentKeysTotal = 0;
  /** a BGSAVE SCHEDULE waiting for the AOF rewrite to end */
  scheduled = false;
  lastLoadKeysLoaded = 0;
  lastLoadKeysExpired = 0;
  /** set by the AOF module: true while a rewrite runs (BGSAVE is then scheduled) */
  aofRewriteRunning: () => boolean = () => false;
  /** called after a BGSAVE ends (the AOF module starts a scheduled rewrite) */
  readonly afterBgsave: Array<() => void> = [];

  constructor(server: Server) {
    this.server = server;
  }

  /** Replication aux fields for a saved RDB (so a restarted replica can PSYNC). */
  #saveInfo(): SnapshotOptions {
    return this.server.rdbSaveInfo() ?? {};
  }

  /** `<dir>/<dbfilename>` */
  get path(): string {
    const dir = this.server.config.get("dir");
    const name = this.server.config.get("dbfilename");
    return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
  }

  /** Save points as [seconds, changes] pairs. */
  savePoints(): Array<[number, number]> {
    const words = this.server.config.get("save").split(" ").filter((w) => w !== "");
    const out: Array<[number, number]> = [];
    for (let i = 0; i + 1 < words.length; i += 2) {
      out.push([Number(words[i]), Number(words[i + 1])]);
    }
    return out;
  }

  /** SAVE: a blocking save. Returns an error message or null. */
  saveSync(): string | null {
    const before = this.server.dirty;
    try {
      saveRdbFileSync(this.server, this.path, this.#saveInfo());
    } catch (e) {
      this.server.log(
        "warning",
        `Failed opening the temp RDB file (in server root dir ${
          this.server.config.get("dir")
        }) for saving: ${(e as Error).message}`,
      );
      return (e as Error).message;
    }
    this.server.log("notice", "DB saved on disk");
    this.server.dirty -= before;
    this.server.lastSave = Date.now();
    this.lastBgsaveOk = true;
    this.saves++;
    return null;
  }

  #abortBgsave: (() => void) | null = null;

  /** Abandons a running BGSAVE (its temp file is removed), as SHUTDOWN kills the child. */
  async killBgsave(): Promise<void> {
    const running = this.bgsave;
    if (running === null) return;
    this.#abortBgsave?.();
    await running;
  }

  /**
   * Kills a running BGSAVE without waiting (Redis's killRDBChild on FLUSHALL): it ends
   * soon, its temp file removed, and rdb_last_bgsave_status is left as it was.
   */
  abortBgsave(): void {
    if (this.bgsave === null) return;
    this.#killed = true;
    this.#abortBgsave?.();
  }
  #killed = false;

  /** Starts a BGSAVE. Returns false when one is already running. */
  startBgsave(): boolean {
    if (this.bgsave !== null) return false;
    const server = this.server;
    const before = server.dirty;
    // Redis forks a child here (INFO total_forks)
    server.stats.totalForks++;
    this.bgsaveStart = Date.now();
    this.lastBgsaveTry = this.bgsaveStart;
    this.currentKeysTotal = server.dbs.reduce((n, db) => n + db.size, 0);
    server.log("notice", `Background saving started`);
    const abort = new AbortController();
    this.#abortBgsave = () => abort.abort(new Error("killed by SHUTDOWN"));
    this.bgsave = saveRdbFile(server, this.path, { ...this.#saveInfo(), signal: abort.signal })
      .then(
        () => {
          server.log("notice", "Background saving terminated with success");
          server.dirty = Math.max(0, server.dirty - before);
          this.server.lastSave = Date.now();
          this.lastBgsaveOk = true;
          this.saves++;
          return true;
        },
        (e) => {
          if (this.#killed) {
            server.log("warning", "Background saving terminated by signal 10");
          } else {
            server.log("warning", `Background saving error: ${(e as Error).message}`);
            this.lastBgsaveOk = false;
          }
          return false;
        },
      ).finally(() => {
        this.lastBgsaveTimeSec = Math.round((Date.now() - this.bgsaveStart) / 1000);
        this.bgsave = null;
        this.#abortBgsave = null;
        this.#killed = false;
        this.currentKeysTotal = 0;
        for (const fn of this.afterBgsave) fn();
      });
    return true;
  }

  /** serverCron's save-point check (and scheduled BGSAVE). */
  cron(): void {
    if (this.bgsave !== null || this.aofRewriteRunning()) return;
    if (this.scheduled) {
      this.scheduled = false;
      this.startBgsave();
      return;
    }
    const now = Date.now();
    const dirty = this.server.dirty;
    for (const [secs, changes] of this.savePoints()) {
      if (
        dirty >= changes && now - this.server.lastSave >= secs * 1000 &&
        (this.lastBgsaveOk || now - this.lastBgsaveTry > BGSAVE_RETRY_DELAY_MS)
      ) {
        this.server.log("notice", `${changes} changes in ${secs} seconds. Saving...`);
        this.startBgsave();
        return;
      }
    }
  }

  /**
   * Loads dir/dbfilename if it exists, serving LOADING to clients meanwhile. Throws
   * RdbError (startup aborts) when the file is corrupt.
   */
  async loadAtStart(): Promise<LoadResult | null> {
    let bytes: Uint8Array;
    try {
      // read at once: a small dataset then loads before any client is served
      bytes = Deno.readFileSync(this.path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw new RdbError(`Fatal error loading the DB: ${(e as Error).message}. Exiting.`);
    }
    const server = this.server;
    const start = performance.now();
    const wasLoading = server.loading;
    server.loading = true;
    try {
      return this.#loaded(await loadRdbAsync(server, bytes, { replica: server.isReplica }), start);
    } catch (e) {
      throw this.#loadError(e);
    } finally {
      server.loading = wasLoading;
    }
  }

  /** Loads an RDB image into the (empty) dataset at once (DEBUG RELOAD). */
  loadBytes(bytes: Uint8Array, allowDuplicates = true): LoadResult {
    const server = this.server;
    const start = performance.now();
    const wasLoading = server.loading;
    server.loading = true;
    try {
      const opts = { replica: server.isReplica, allowDuplicates };
      return this.#loaded(loadRdb(server, bytes, opts), start);
    } catch (e) {
      throw this.#loadError(e);
    } finally {
      server.loading = wasLoading;
    }
  }

  /** Records a finished load, with Redis's log lines. */
  #loaded(r: LoadResult, start: number): LoadResult {
    this.lastLoadKeysLoaded = r.keys;
    this.lastLoadKeysExpired = r.expiredSkipped;
    this.server.log(
      "notice",
      `Done loading RDB, keys loaded: ${r.keys}, keys expired: ${r.expiredSkipped}.`,
    );
    this.server.log(
      "notice",
      `DB loaded from disk: ${((performance.now() - start) / 1000).toFixed(3)} seconds`,
    );
    return r;
  }

  #loadError(e: unknown): unknown {
    if (!(e instanceof RdbError)) return e;
    return new RdbError(`Error loading RDB file ${binaryToUtf8(this.path)}: ${e.message}`);
  }

  /** INFO persistence: the loading and rdb_* fields. */
  infoLines(): string[] {
    const inProgress = this.bgsave !== null;
    return [
      `loading:${this.server.loading ? 1 : 0}`,
      // replication's repl-diskless-load swapdb sets it (read structurally: the field
      // lands in server.ts with that work)
      `async_loading:${
        (this.server as unknown as { asyncLoading?: boolean }).asyncLoading ? 1 : 0
      }`,
      "current_cow_peak:0",
      "current_cow_size:0",
      "current_cow_size_age:0",
      "current_fork_perc:0.00",
      "current_save_keys_processed:0",
      `current_save_keys_total:${this.currentKeysTotal}`,
      `rdb_changes_since_last_save:${this.server.dirty}`,
      `rdb_bgsave_in_progress:${inProgress || this.server.replSnapshots > 0 ? 1 : 0}`,
      `rdb_last_save_time:${Math.floor(this.server.lastSave / 1000)}`,
      `rdb_last_bgsave_status:${this.lastBgsaveOk ? "ok" : "err"}`,
      `rdb_last_bgsave_time_sec:${this.lastBgsaveTimeSec}`,
      `rdb_current_bgsave_time_sec:${
        inProgress ? Math.round((Date.now() - this.bgsaveStart) / 1000) : -1
      }`,
      `rdb_saves:${this.saves}`,
      "rdb_last_cow_size:0",
      `rdb_last_load_keys_expired:${this.lastLoadKeysExpired}`,
      `rdb_last_load_keys_loaded:${this.lastLoadKeysLoaded}`,
    ];
  }
}
