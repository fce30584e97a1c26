/**
 * The persistence module: RDB snapshots and the append-only file, attached to a
 * server through its hooks (start: load; cron: save points, AOF fsync and rewrites;
 * shutdown: final save; INFO persistence; MISCONF write guard).
 */
import type { Server } from "../server.ts";
import { RdbState } from "./rdb.ts";
import { AofState } from "./aof.ts";
import { rdbFunctions } from "./rdb_format.ts";
import { functionLibraryCodes, loadFunctionLibrary } from "../scripting/mod.ts";

/** Persistence state of a server. */
export interface Persistence {
  rdb: RdbState;
  aof: AofState;
}

const states = new WeakMap<Server, Persistence>();

/** The persistence state of a server (installed by installPersistence). */
export function persistenceOf(server: Server): Persistence {
  let p = states.get(server);
  if (p === undefined) {
    const rdb = new RdbState(server);
    const aof = new AofState(server, rdb);
    rdb.aofRewriteRunning = () => aof.rewriting;
    p = { rdb, aof };
    states.set(server, p);
  }
  return p;
}

const MISCONF_RDB =
  "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/** Installs RDB and AOF persistence on a server. */
export function installPersistence(server: Server): void {
  const { rdb, aof } = persistenceOf(server);
  rdbFunctions.codes = functionLibraryCodes;
  rdbFunctions.load = loadFunctionLibrary;
  server.startHooks.push(async () => {
    // as Redis: with appendonly yes the AOF is the source of truth, the RDB is ignored
    try {
      if (server.config.bool("appendonly")) await aof.loadAtStart();
      else await rdb.loadAtStart();
    } catch (e) {
      // Redis logs the reason (the log, not stderr, is what operators and tests read)
      server.log("warning", (e as Error).message);
      if (!server.config.bool("appendonly")) {
        server.log("warning", "Terminating server after rdb file reading failure.");
      }
      throw e;
    }
  });
  server.cronHooks.push(() => {
    rdb.cron();
    aof.cron();
  });
  server.stopHooks.push(() => aof.close());
  server.config.onChange((name) => {
    if (name === "aof-disable-auto-gc" && !server.config.bool(name) && aof.on) aof.gcHistory();
    if (name !== "appendonly") return;
    if (server.config.bool("appendonly")) aof.start();
    else aof.stop();
  });
  server.shutdownHooks.push(async (opts) => {
    const wantSave = opts.save || (!opts.nosave && rdb.savePoints().length > 0);
    if (rdb.bgsave !== null) {
      server.log("warning", "There is a child saving an .rdb. Killing it!");
      await rdb.killBgsave();
    }
    if (aof.rewriting) {
      // the first rewrite after appendonly yes: the AOF does not hold the dataset yet
      if (aof.waitingFirstRewrite && !opts.force) {
        server.log("warning", "Writing initial AOF, can't exit.");
        throw new Error("Errors trying to SHUTDOWN. Check logs.");
      }
      if (aof.waitingFirstRewrite) server.log("warning", "Writing initial AOF. Exit anyway.");
      server.log("warning", "There is a child rewriting the AOF. Killing it!");
      aof.killRewrite();
    }
    if (aof.on) {
      server.log("notice", "Calling fsync() on the AOF file.");
      aof.flushSync();
    }
    if (!wantSave) return;
    server.log("notice", "Saving the final RDB snapshot before exiting.");
    const err = rdb.saveSync();
    if (err !== null && !opts.force) {
      server.log("warning", "Error trying to save the DB, can't exit.");
      throw new Error("Errors trying to SHUTDOWN. Check logs.");
    }
  });
  server.infoSections.set("persistence", () => [...rdb.infoLines(), ...aof.infoLines()]);
  const previous = server.writeGuard;
  server.writeGuard = (c, spec) => {
    const denied = previous !== null ? previous(c, spec) : null;
    if (denied !== null) return denied;
    if (
      !rdb.lastBgsaveOk && server.config.bool("stop-writes-on-bgsave-error") &&
      rdb.savePoints().length > 0
    ) return MISCONF_RDB;
    if (aof.on && !aof.lastWriteOk) {
      return `MISCONF Errors writing to the AOF file: ${aof.lastWriteError}`;
    }
    return null;
  };
}

/**
 * The dataset was replaced outside commands (a replica's full sync loaded an RDB):
 * with appendonly on, the AOF restarts from the new dataset (a rewrite), as Redis's
 * restartAOFAfterSYNC, so a restart does not replay the old history.
 */
export function datasetReplaced(server: Server): void {
  const { aof } = persistenceOf(server);
  if (!aof.on) return;
  if (aof.rewriting) aof.rewriteScheduled = true;
  else aof.rewrite();
}
