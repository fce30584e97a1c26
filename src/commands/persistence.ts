/**
 * Persistence commands (Redis: rdb.c saveCommand/bgsaveCommand, aof.c
 * bgrewriteaofCommand, cluster.c dumpCommand/restoreCommand, debug.c DEBUG RELOAD).
 * LASTSAVE lives in server.ts and reads server.lastSave, which saves update.
 */
import type { Client } from "../client.ts";
import { cmd, type CommandSpec } from "./table.ts";
import { ERR } from "../errors.ts";
import { binaryToBytes, bytesToBinary, parseInteger } from "../resp/bytes.ts";
import { persistenceOf } from "../persistence/mod.ts";
import { dumpPayload } from "../persistence/rdb_writer.ts";
import { materialize, parseDumpPayload } from "../persistence/rdb_reader.ts";
import { registerDebugSubcommand } from "./server.ts";
import { flushFunctionLibraries } from "../scripting/mod.ts";

function save(c: Client): void {
  const rdb = persistenceOf(c.server).rdb;
  c.preventPropagation = true;
  if (rdb.bgsave !== null) return c.error("ERR Background save already in progress");
  const err = rdb.saveSync();
  if (err !== null) return c.error("ERR");
  c.reply.simple("OK");
}

function bgsave(c: Client, argv: string[]): void {
  const rdb = persistenceOf(c.server).rdb;
  let schedule = false;
  if (argv.length > 1) {
    if (argv.length === 2 && argv[1].toLowerCase() === "schedule") schedule = true;
    else return c.error(ERR.syntax);
  }
  if (rdb.bgsave !== null) return c.error("ERR Background save already in progress");
  if (rdb.aofRewriteRunning() || c.server.inExec) {
    if (schedule || c.server.inExec) {
      rdb.scheduled = true;
      return c.reply.simple("Background saving scheduled");
    }
    return c.error(
      "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
    );
  }
  rdb.startBgsave();
  c.reply.simple("Background saving started");
}

function bgrewriteaof(c: Client): void {
  const { rdb, aof } = persistenceOf(c.server);
  if (aof.rewriting) {
    return c.error("ERR Background append only file rewriting already in progress");
  }
  if (rdb.bgsave !== null || c.server.inExec) {
    aof.rewriteScheduled = true;
    return c.reply.simple("Background append only file rewriting scheduled");
  }
  aof.rewrite();
  c.reply.simple("Background append only file rewriting started");
}

function dump(c: Client, argv: string[]): void {
  const value = c.db.get(argv[1]);
  if (value === undefined) return c.reply.nil();
  const payload = dumpPayload(value, c.server.config.bool("rdbcompression"));
  c.reply.bulk(bytesToBinary(payload));
}

function restore(c: Client, argv: string[]): void {
  const key = argv[1];
  let replace = false;
  let absttl = false;
  let idle = -1;
  let freq = -1;
  for (let j = 4; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    const additional = argv.length - j - 1;
    if (opt === "replace") replace = true;
    else if (opt === "absttl") absttl = true;
    else if (opt === "idletime" && additional >= 1 && freq === -1) {
      const v = parseInteger(argv[j + 1]);
      if (v === null) return c.error(ERR.notInteger);
      if (v < 0) return c.error("ERR Invalid IDLETIME value, must be >= 0");
      idle = v;
      j++;
    } else if (opt === "freq" && additional >= 1 && idle === -1) {
      const v = parseInteger(argv[j + 1]);
      if (v === null) return c.error(ERR.notInteger);
      if (v < 0 || v > 255) return c.error("ERR Invalid FREQ value, must be >= 0 and <= 255");
      freq = v;
      j++;
    } else return c.error(ERR.syntax);
  }
  if (!replace && c.db.lookupWrite(key) !== undefined) {
    return c.error("BUSYKEY Target key name already exists.");
  }
  let ttl = parseInteger(argv[2]);
  if (ttl === null) return c.error(ERR.notInteger);
  if (ttl < 0) return c.error("ERR Invalid TTL value, must be >= 0");
  let value;
  try {
    const loaded = parseDumpPayload(binaryToBytes(argv[3]), skipChecksum);
    if (loaded === null) return c.error("ERR DUMP payload version or checksum are wrong");
    value = materialize(c.server, loaded);
  } catch (e) {
    // Redis's rdbReportCorruptRDB line (sanitization failures say "integrity check failed")
    const msg = (e as Error).message;
    const what = CORRUPT_NAMES[binaryToBytes(argv[3].slice(0, 1))[0]] ?? "Payload";
    c.server.log(
      "warning",
      `Internal error in RDB reading offset 0, function at rdb.c:0 -> ${what} integrity check failed. (${msg})`,
    );
    return c.error("ERR Bad data format");
  }
  if (value === null) return c.error("ERR Bad data format");
  const now = c.server.now();
  let deleted = false;
  if (replace) deleted = c.db.delete(key);
  if (ttl !== 0 && !absttl) ttl += now;
  if (ttl !== 0 && ttl <= now && !c.server.isReplica && !c.isMaster) {
    if (deleted) {
      c.rewrite([c.server.config.bool("lazyfree-lazy-server-del") ? "UNLINK" : "DEL", key]);
      c.modified(key, "g", "del");
    }
    return c.reply.simple("OK");
  }
  c.db.lookupWrite(key);
  const e = c.db.add(key, value);
  if (ttl !== 0) {
    c.db.setExpire(key, e, ttl);
    if (!absttl) {
      const rewritten = argv.slice();
      rewritten[2] = String(ttl);
      rewritten.push("ABSTTL");
      c.rewrite(rewritten);
    }
  }
  if (idle >= 0) e.lru = Math.floor(now / 1000) - idle;
  if (freq >= 0) e.freq = freq;
  c.modified(key, "g", "restore");
  c.reply.simple("OK");
}

registerDebugSubcommand("reload", (c, argv) => {
  let save = true;
  let flush = true;
  let merge = false;
  for (let j = 2; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    if (opt === "merge") merge = true;
    else if (opt === "nosave") save = false;
    else if (opt === "noflush") flush = false;
    else return c.error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
  }
  const server = c.server;
  const rdb = persistenceOf(server).rdb;
  c.preventPropagation = true;
  if (save && rdb.saveSync() !== null) return c.error("ERR");
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(rdb.path);
  } catch {
    return c.error("ERR Error trying to load the RDB dump");
  }
  if (flush) {
    // Redis's emptyData(): the keys and the function libraries
    for (const db of server.dbs) db.clear();
    server.tracking?.flush();
    flushFunctionLibraries(server);
  }
  try {
    // without MERGE a function library already there fails the load (Redis's
    // RDBFLAGS_ALLOW_DUP is for MERGE only)
    rdb.loadBytes(bytes, merge);
  } catch (e) {
    server.log("warning", (e as Error).message);
    return c.error("ERR Error trying to load the RDB dump");
  }
  server.log("warning", "DB reloaded by DEBUG RELOAD");
  c.reply.simple("OK");
}, [
  "RELOAD [option ...]",
  "    Save the RDB on disk and reload it back to memory. Available <option> values:",
  "    * MERGE: Merge the content of the RDB file with the current dataset.",
  "    * NOFLUSH: Do not empty the dataset before loading the RDB.",
  "    * NOSAVE: Do not save the RDB before loading it back.",
]);

registerDebugSubcommand("loadaof", (c) => {
  const { aof } = persistenceOf(c.server);
  c.preventPropagation = true;
  try {
    // as Redis: the files on disk are loaded even when appendonly is off, and the
    // dataset is emptied first, functions included (emptyData)
    flushFunctionLibraries(c.server);
    aof.reload();
  } catch (e) {
    c.server.log("warning", (e as Error).message);
    return c.error("ERR Error loading the AOF, check server logs.");
  }
  c.server.log("notice", "Append Only File loaded by DEBUG LOADAOF");
  c.reply.simple("OK");
}, ["LOADAOF", "    Flush the AOF buffers on disk and reload the AOF in memory."]);

registerDebugSubcommand("aof-flush-sleep", (c, argv) => {
  if (argv.length !== 3) return c.error(ERR.syntax);
  const us = parseInteger(argv[2]);
  if (us === null) return c.error(ERR.notInteger);
  persistenceOf(c.server).aof.flushSleepUs = Math.max(0, us);
  c.reply.simple("OK");
}, [
  "AOF-FLUSH-SLEEP <microsec>",
  "    Server will sleep before flushing the AOF, this is used for testing.",
]);

/** Redis's rdbReportCorruptRDB subjects, by RDB type byte. */
const CORRUPT_NAMES: Record<number, string> = {
  0: "String",
  1: "List",
  2: "Set",
  3: "Zset",
  4: "Hash",
  5: "Zset",
  9: "Zipmap",
  10: "List ziplist",
  11: "Intset",
  12: "Zset ziplist",
  13: "Hash ziplist",
  14: "Quicklist ziplist",
  15: "Stream listpack",
  16: "Hash listpack",
  17: "Zset listpack",
  18: "Quicklist listpack",
  19: "Stream listpack",
  20: "Set listpack",
  21: "Stream listpack",
};

/** DEBUG SET-SKIP-CHECKSUM-VALIDATION: RESTORE skips the payload's CRC (a test aid). */
let skipChecksum = false;
registerDebugSubcommand("set-skip-checksum-validation", (c, argv) => {
  if (argv.length !== 3) return c.error(ERR.syntax);
  const v = parseInteger(argv[2]);
  if (v === null) return c.error(ERR.notInteger);
  skipChecksum = v !== 0;
  c.reply.simple("OK");
}, [
  "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
  "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
]);

/** The persistence command specs. */
export const commands: CommandSpec[] = [
  cmd("server", "save", 1, "admin noscript no_async_loading no_multi", save),
  cmd("server", "bgsave", -1, "admin noscript no_async_loading", bgsave),
  cmd("server", "bgrewriteaof", 1, "admin noscript no_async_loading", bgrewriteaof),
  cmd("generic", "dump", 2, "readonly", dump, {
    keys: [1, 1, 1],
    categories: ["keyspace"],
  }),
  cmd("generic", "restore", -4, "write denyoom", restore, {
    keys: [1, 1, 1],
    categories: ["keyspace", "dangerous"],
  }),
];
