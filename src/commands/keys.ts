/** Generic keyspace commands (Redis: db.c and expire.c). */
import { sharedIntegers } from "../evict.ts";
import type { Client } from "../client.ts";
import type { Server } from "../server.ts";
import type { Db, Entry, TypedValue, Value } from "../store/db.ts";
import { StreamValue } from "../store/stream.ts";
import { cmd, type CommandSpec, container } from "./table.ts";
import { ERR } from "../errors.ts";
import { parseInteger } from "../resp/bytes.ts";
import { globMatch } from "../store/glob.ts";
import { persistenceOf } from "../persistence/mod.ts";
import { lazyExpire, stringEncoding, stringRefcount } from "./strings.ts";

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/**
 * A key's entry without touching access time or keyspace stats (Redis's
 * LOOKUP_NOTOUCH|LOOKUP_NOSTATS); an expired key is removed (on a primary) and hidden.
 */
export function peekEntry(db: Db, key: string): Entry | undefined {
  const e = db.dict.get(key);
  if (e === undefined) return undefined;
  if (e.expireAt !== 0 && e.expireAt <= db.host.now()) {
    if (!db.host.isReplica) db.lookupWrite(key);
    return undefined;
  }
  return e;
}

/**
 * A read that counts keyspace hits/misses but leaves the access time and LFU counter
 * alone (Redis's LOOKUP_NOTOUCH: EXISTS, TYPE, TTL...).
 */
function lookupNoTouch(db: Db, key: string): Entry | undefined {
  const before = db.dict.get(key);
  if (before === undefined) return db.lookupRead(key);
  const { lru, freq } = before;
  const e = db.lookupRead(key);
  if (e !== undefined) {
    e.lru = lru;
    e.freq = freq;
  }
  return e;
}

/** True if the key exists but its TTL has passed (Redis's keyIsExpired). */
function isExpired(db: Db, e: Entry): boolean {
  return e.expireAt !== 0 && e.expireAt <= db.host.now();
}

/** The TYPE name of a value. */
export function typeName(v: Value): string {
  return typeof v === "string" ? "string" : v.type;
}

/**
 * A deep copy of a value for COPY: strings are immutable, collections must implement
 * `clone()`. Returns null for a value type that cannot be copied.
 */
function cloneValue(v: Value): Value | null {
  if (typeof v === "string") return v;
  const withClone = v as Value & { clone?: () => Value };
  return typeof withClone.clone === "function" ? withClone.clone() : null;
}

/** Parses a database index argument; replies with Redis's errors and returns null. */
function dbArg(c: Client, arg: string): Db | null {
  const id = parseInteger(arg);
  if (id === null || id < -2147483648 || id > 2147483647) {
    c.error(ERR.notInteger);
    return null;
  }
  const db = c.server.dbs[id];
  if (id < 0 || db === undefined) {
    c.error(ERR.dbIndexOutOfRange);
    return null;
  }
  return db;
}

/** Redis's LAZYFREE_THRESHOLD: values costlier to free are freed in the background. */
const LAZYFREE_THRESHOLD = 64;

/**
 * Redis's lazyfreeGetFreeEffort: about how many allocations freeing the value takes
 * (compact encodings are one; list nodes and stream nodes are estimated from lengths).
 */
function freeEffort(server: Server, e: Entry): number {
  if (e.holdsString()) return 1;
  const v = e.value as TypedValue & { size?: number; length?: number };
  if (v instanceof StreamValue) {
    const nodes = Math.ceil(v.length / Math.max(1, server.config.num("stream-node-max-entries")));
    const first = v.sortedGroups()[0];
    return nodes + (first === undefined ? 0 : v.groups.size * (1 + first.pel.size));
  }
  if (v.type === "list") return Math.ceil((v.length ?? 0) / 128);
  const encoding = v.encoding();
  return encoding === "hashtable" || encoding === "skiplist" ? v.size ?? 1 : 1;
}

/**
 * Counts a value deleted by UNLINK (or DEL under lazyfree-lazy-user-del) that Redis
 * would free in the background (INFO lazyfreed_objects).
 */
function countLazyFree(server: Server, e: Entry): void {
  if (freeEffort(server, e) > LAZYFREE_THRESHOLD) server.stats.lazyfreedObjects++;
}

function delGeneric(c: Client, argv: string[], lazy: boolean): void {
  let n = 0;
  for (let j = 1; j < argv.length; j++) {
    const e = lazy ? c.db.dict.get(argv[j]) : undefined;
    if (c.db.delete(argv[j])) {
      if (e !== undefined) countLazyFree(c.server, e);
      c.modified(argv[j], "g", "del");
      n++;
    }
  }
  c.reply.int(n);
}

function exists(c: Client, argv: string[]): void {
  let n = 0;
  for (let j = 1; j < argv.length; j++) if (lookupNoTouch(c.db, argv[j]) !== undefined) n++;
  c.reply.int(n);
}

function type(c: Client, argv: string[]): void {
  const e = lookupNoTouch(c.db, argv[1]);
  c.reply.simple(e === undefined ? "none" : typeName(e.value));
}

function keys(c: Client, argv: string[]): void {
  const pattern = argv[1];
  const all = pattern === "*";
  const db = c.db;
  const out: string[] = [];
  for (const key of db.keyList()) {
    if (!all && !globMatch(pattern, key)) continue;
    if (isExpired(db, db.dict.get(key)!)) continue;
    out.push(key);
  }
  c.reply.bulkArray(out);
}

/**
 * SCAN and RANDOMKEY may lazily expire any number of keys: run directly (not in
 * MULTI/EXEC or a script), those DELs are propagated unwrapped (Redis's
 * CMD_TOUCHES_ARBITRARY_KEYS).
 */
function propagateArbitraryExpiries(c: Client): void {
  const server = c.server;
  if (!server.inExec && server.executing === 1) server.flushPropagation(false);
}

/** Parses a SCAN cursor like Redis's strtoul-based parseScanCursorOrReply. */
export function parseScanCursor(c: Client, arg: string): number | null {
  if (!/^[+-]?\d*$/.test(arg) || (arg.length > 0 && !/\d/.test(arg))) {
    c.error("ERR invalid cursor");
    return null;
  }
  if (arg === "") return 0;
  let v = BigInt(arg);
  if (v > 18446744073709551615n || v < -18446744073709551615n) {
    c.error("ERR invalid cursor");
    return null;
  }
  if (v < 0n) v += 18446744073709551616n;
  return Number(v);
}

function scan(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(c, argv[1]);
  if (cursor === null) return;
  let count = 10;
  let pattern: string | null = null;
  let typeFilter: string | null = null;
  for (let i = 2; i < argv.length;) {
    const opt = argv[i].toLowerCase();
    const remaining = argv.length - i;
    if (opt === "count" && remaining >= 2) {
      const n = parseInteger(argv[i + 1]);
      if (n === null) return c.error(ERR.notInteger);
      if (n < 1) return c.error(ERR.syntax);
      count = n;
    } else if (opt === "match" && remaining >= 2) {
      pattern = argv[i + 1];
      if (pattern === "*") pattern = null;
    } else if (opt === "type" && remaining >= 2) {
      typeFilter = argv[i + 1].toLowerCase();
    } else {
      return c.error(ERR.syntax);
    }
    i += 2;
  }
  const db = c.db;
  const visited: string[] = [];
  const next = db.scan(cursor, count, (key) => visited.push(key));
  const out: string[] = [];
  for (const key of visited) {
    if (pattern !== null && !globMatch(pattern, key)) continue;
    const e = db.dict.get(key);
    if (e === undefined) continue;
    if (typeFilter !== null && typeName(e.value) !== typeFilter) continue;
    if (peekEntry(db, key) === undefined) continue;
    out.push(key);
  }
  propagateArbitraryExpiries(c);
  c.reply.array(2);
  c.reply.bulk(String(next));
  c.reply.bulkArray(out);
}

function randomkey(c: Client): void {
  randomKeyReply(c);
  propagateArbitraryExpiries(c);
}

function randomKeyReply(c: Client): void {
  const db = c.db;
  const allVolatile = db.size === db.volatileCount;
  for (let tries = 100;;) {
    const key = db.randomKey();
    if (key === undefined) return c.reply.nil();
    const e = db.dict.get(key)!;
    if (isExpired(db, e)) {
      // a replica cannot remove expired keys: when every key may be expired, give up
      // after some tries and return one anyway (as Redis does)
      if (allVolatile && db.host.isReplica && --tries === 0) return c.reply.bulk(key);
      if (!db.host.isReplica) db.lookupWrite(key);
      continue;
    }
    return c.reply.bulk(key);
  }
}

function renameGeneric(c: Client, argv: string[], nx: boolean): void {
  const [, src, dst] = argv;
  const e = c.db.lookupWrite(src);
  if (e === undefined) return c.error(ERR.noSuchKey);
  if (src === dst) return nx ? c.reply.int(0) : c.reply.simple("OK");
  const { value, raw, noInt, expireAt } = e;
  if (c.db.lookupWrite(dst) !== undefined) {
    if (nx) return c.reply.int(0);
    c.db.delete(dst);
  }
  c.db.delete(src);
  const moved = c.db.add(dst, value);
  moved.raw = raw;
  moved.noInt = noInt;
  if (expireAt !== 0) c.db.setExpire(dst, moved, expireAt);
  // one change for Redis's dirty counter, two keys touched and notified
  c.modified(src, "g", "rename_from");
  touched(c, dst, "rename_to", c.db);
  if (nx) c.reply.int(1);
  else c.reply.simple("OK");
}

function copy(c: Client, argv: string[]): void {
  const [, src, dst] = argv;
  let target = c.db;
  let replace = false;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    if (opt === "replace") replace = true;
    else if (opt === "db" && j + 1 < argv.length) {
      const db = dbArg(c, argv[++j]);
      if (db === null) return;
      target = db;
    } else return c.error(ERR.syntax);
  }
  if (target === c.db && src === dst) return c.error(ERR.sameObject);
  const e = c.db.lookupRead(src);
  if (e === undefined) return c.reply.int(0);
  const existing = target.lookupWrite(dst);
  if (existing !== undefined && !replace) return c.reply.int(0);
  const value = cloneValue(e.value);
  if (value === null) return c.error(`ERR COPY is not supported for ${typeName(e.value)} values`);
  if (existing !== undefined) target.delete(dst);
  const created = target.add(dst, value);
  created.raw = e.raw;
  created.noInt = e.noInt;
  if (e.expireAt !== 0) target.setExpire(dst, created, e.expireAt);
  c.modified(dst, "g", "copy_to", target);
  c.reply.int(1);
}

function move(c: Client, argv: string[]): void {
  const key = argv[1];
  const target = dbArg(c, argv[2]);
  if (target === null) return;
  if (target === c.db) return c.error(ERR.sameObject);
  const e = c.db.lookupWrite(key);
  if (e === undefined) return c.reply.int(0);
  if (target.lookupWrite(key) !== undefined) return c.reply.int(0);
  const { value, raw, noInt, expireAt } = e;
  c.db.delete(key);
  const moved = target.add(key, value);
  moved.raw = raw;
  moved.noInt = noInt;
  if (expireAt !== 0) target.setExpire(key, moved, expireAt);
  c.modified(key, "g", "move_from");
  touched(c, key, "move_to", target);
  c.reply.int(1);
}

/** A key changed as part of a command already counted once in `dirty`. */
function touched(c: Client, key: string, event: string, db: Db): void {
  c.server.keyModified(db, key);
  c.server.notify("g", event, key, db.id);
}

/** A WATCHing client as the keyspace sees it (db.watched holds the clients). */
interface Watcher {
  dirtyCas: boolean;
  watched: Array<{ db: Db; key: string; expired?: boolean }>;
}

/**
 * Marks dirty the clients watching keys of `emptied` that exist there or in
 * `replacedWith`: FLUSHDB/FLUSHALL empty a db, SWAPDB replaces its contents (Redis's
 * touchAllWatchedKeysInDb). A key that was already expired when watched, or is
 * replaced by an expired key, is no logical change.
 */
export function touchAllWatchedKeys(emptied: Db, replacedWith?: Db): void {
  for (const [key, watchers] of emptied.watched) {
    const existsInEmptied = emptied.dict.has(key);
    const replacement = replacedWith?.dict.get(key);
    if (!existsInEmptied && replacement === undefined) continue;
    const replacementExpired = replacement !== undefined && isExpired(replacedWith!, replacement);
    for (const w of watchers as Set<Watcher>) {
      const wk = w.watched.find((k) => k.db === emptied && k.key === key);
      if (wk?.expired) {
        // an expired key now deleted, or still expired: no change
        if (replacement === undefined) {
          wk.expired = false;
          continue;
        }
        if (replacementExpired) continue;
      } else if (!existsInEmptied && replacementExpired) {
        // a missing key replaced with an expired one
        if (wk !== undefined) wk.expired = true;
        continue;
      }
      w.dirtyCas = true;
    }
  }
}

function swapdb(c: Client, argv: string[]): void {
  const a = parseInteger(argv[1]);
  if (a === null || a < -2147483648 || a > 2147483647) {
    return c.error("ERR invalid first DB index");
  }
  const b = parseInteger(argv[2]);
  if (b === null || b < -2147483648 || b > 2147483647) {
    return c.error("ERR invalid second DB index");
  }
  const dbs = c.server.dbs;
  if (a < 0 || b < 0 || a >= dbs.length || b >= dbs.length) {
    return c.error(ERR.dbIndexOutOfRange);
  }
  if (a !== b) {
    const da = dbs[a];
    const db = dbs[b];
    touchAllWatchedKeys(da, db);
    touchAllWatchedKeys(db, da);
    // clients blocked on keys that leave (streams: UNBLOCKED) or arrive are re-run
    signalBlockedKeys(c.server, da);
    signalBlockedKeys(c.server, db);
    da.swapWith(db);
    signalBlockedKeys(c.server, da);
    signalBlockedKeys(c.server, db);
  }
  c.server.dirty++;
  c.reply.simple("OK");
}

function touch(c: Client, argv: string[]): void {
  let n = 0;
  for (let j = 1; j < argv.length; j++) if (c.db.lookupRead(argv[j]) !== undefined) n++;
  c.reply.int(n);
}

/**
 * Parses FLUSHDB/FLUSHALL's optional ASYNC|SYNC: whether the flush is lazy (ASYNC, or
 * lazyfree-lazy-user-flush without SYNC), or null after a syntax error.
 */
function flushArgs(c: Client, argv: string[]): { lazy: boolean } | null {
  if (argv.length > 2) {
    c.error(ERR.syntax);
    return null;
  }
  if (argv.length === 2) {
    const mode = argv[1].toLowerCase();
    if (mode !== "async" && mode !== "sync") {
      c.error(ERR.syntax);
      return null;
    }
    return { lazy: mode === "async" };
  }
  return { lazy: c.server.config.bool("lazyfree-lazy-user-flush") };
}

/** Empties one database, invalidating WATCH on its existing keys. */
export function flushDb(server: Server, db: Db): number {
  touchAllWatchedKeys(db);
  server.tracking?.flush();
  signalBlockedKeys(server, db);
  return db.clear();
}

/**
 * Queues every key of `db` that blocked clients wait on to be re-checked after the
 * command (Redis's scanDatabaseForReadyKeys / scanDatabaseForDeletedStreams).
 */
function signalBlockedKeys(server: Server, db: Db): void {
  const blocking = server.blocking;
  if (blocking.blockedCount === 0) return;
  for (const key of db.keyList()) {
    if (blocking.hasWaiters(db, key)) server.keyReady(db, key);
  }
}

/** Propagates the running command even when it changed nothing (an empty FLUSHALL). */
function forcePropagation(c: Client, argv: string[]): void {
  c.server.alsoPropagate(c.db.id, argv);
  c.preventPropagation = true;
}

function flushdb(c: Client, argv: string[]): void {
  const args = flushArgs(c, argv);
  if (args === null) return;
  const n = flushDb(c.server, c.db);
  c.server.dirty += n;
  // a database emptied in the background counts each key (Redis's emptyDbAsync)
  if (args.lazy) c.server.stats.lazyfreedObjects += n;
  forcePropagation(c, argv);
  c.reply.simple("OK");
}

function flushall(c: Client, argv: string[]): void {
  const args = flushArgs(c, argv);
  if (args === null) return;
  let n = 0;
  for (const db of c.server.dbs) n += flushDb(c.server, db);
  c.server.dirty += n;
  if (args.lazy) c.server.stats.lazyfreedObjects += n;
  // like Redis, an instance with save points saves the empty dataset at once, so a
  // restart does not bring the flushed keys back
  const rdb = persistenceOf(c.server).rdb;
  rdb.abortBgsave(); // Redis's killRDBChild: the snapshot would hold the flushed keys
  if (rdb.savePoints().length > 0) rdb.saveSync();
  forcePropagation(c, argv);
  c.reply.simple("OK");
}

// ---- expiry ----

const EXP_NX = 1;
const EXP_XX = 2;
const EXP_GT = 4;
const EXP_LT = 8;

/** Redis's expireGenericCommand. `base` is 0 for *AT forms; `unitMs` 1000 for seconds. */
function expireGeneric(c: Client, argv: string[], base: number, unitMs: number): void {
  const key = argv[1];
  const name = argv[0].toLowerCase();
  let flags = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    if (opt === "nx") flags |= EXP_NX;
    else if (opt === "xx") flags |= EXP_XX;
    else if (opt === "gt") flags |= EXP_GT;
    else if (opt === "lt") flags |= EXP_LT;
    else return c.error(`ERR Unsupported option ${argv[j]}`);
  }
  if (flags & EXP_NX && flags & (EXP_XX | EXP_GT | EXP_LT)) {
    return c.error("ERR NX and XX, GT or LT options at the same time are not compatible");
  }
  if (flags & EXP_GT && flags & EXP_LT) {
    return c.error("ERR GT and LT options at the same time are not compatible");
  }
  if (parseInteger(argv[2]) === null) return c.error(ERR.notInteger);
  let when = BigInt(argv[2]);
  if (unitMs === 1000) {
    if (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n) {
      return c.error(ERR.invalidExpire(name));
    }
    when *= 1000n;
  }
  if (when > INT64_MAX - BigInt(base)) return c.error(ERR.invalidExpire(name));
  when += BigInt(base);
  const e = c.db.lookupWrite(key);
  if (e === undefined) return c.reply.int(0);
  const whenMs = Number(when);
  if (flags) {
    const current = e.expireAt === 0 ? -1 : e.expireAt;
    if (flags & EXP_NX && current !== -1) return c.reply.int(0);
    if (flags & EXP_XX && current === -1) return c.reply.int(0);
    if (flags & EXP_GT && (current === -1 || whenMs <= current)) return c.reply.int(0);
    if (flags & EXP_LT && current !== -1 && whenMs >= current) return c.reply.int(0);
  }
  if (whenMs <= c.server.now() && !c.server.loading && !c.server.isReplica) {
    c.db.delete(key);
    c.rewrite([lazyExpire(c) ? "UNLINK" : "DEL", key]);
    c.modified(key, "g", "del");
    return c.reply.int(1);
  }
  c.db.setExpire(key, e, whenMs);
  c.reply.int(1);
  if (name !== "pexpireat" || base !== 0 || unitMs !== 1) {
    c.rewrite(["PEXPIREAT", key, when.toString(), ...argv.slice(3)]);
  }
  c.modified(key, "g", "expire");
}

/**
 * An integer reply that prints every digit: expiry times near the int64 limit exceed
 * 2^53, where String(n) would switch to "9223372036854776000".
 */
function exactInt(n: number): number | bigint {
  return Number.isSafeInteger(n) ? n : BigInt(n);
}

function ttlGeneric(c: Client, argv: string[], ms: boolean): void {
  const e = lookupNoTouch(c.db, argv[1]);
  if (e === undefined) return c.reply.int(-2);
  if (e.expireAt === 0) return c.reply.int(-1);
  let ttl = e.expireAt - c.server.now();
  if (ttl < 0) ttl = 0;
  c.reply.int(exactInt(ms ? ttl : Math.floor((ttl + 500) / 1000)));
}

function expiretimeGeneric(c: Client, argv: string[], ms: boolean): void {
  const e = lookupNoTouch(c.db, argv[1]);
  if (e === undefined) return c.reply.int(-2);
  if (e.expireAt === 0) return c.reply.int(-1);
  c.reply.int(exactInt(ms ? e.expireAt : Math.floor(e.expireAt / 1000)));
}

function persist(c: Client, argv: string[]): void {
  const e = c.db.lookupWrite(argv[1]);
  if (e === undefined || !c.db.persist(argv[1], e)) return c.reply.int(0);
  c.modified(argv[1], "g", "persist");
  c.reply.int(1);
}

// ---- OBJECT ----

const LFU_IDLE_ERROR =
  "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
const NOT_LFU_ERROR =
  "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

const OBJECT_HELP = [
  "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "ENCODING <key>",
  "    Return the kind of internal representation used in order to store the value",
  "    associated with a <key>.",
  "FREQ <key>",
  "    Return the access frequency index of the <key>. The returned integer is",
  "    proportional to the logarithm of the recent access frequency of the key.",
  "IDLETIME <key>",
  "    Return the idle time of the <key>, that is the approximated number of",
  "    seconds elapsed since the last access to the key.",
  "REFCOUNT <key>",
  "    Return the number of references of the value associated with the specified",
  "    <key>.",
  "HELP",
  "    Prints this help.",
];

/** OBJECT's lookup: no access-time update, counted in keyspace stats; null replied. */
function objectLookup(c: Client, key: string): Entry | undefined {
  const e = peekEntry(c.db, key);
  if (e === undefined) {
    c.server.stats.keyspaceMisses++;
    c.reply.nil();
  } else c.server.stats.keyspaceHits++;
  return e;
}

function isLfu(c: Client): boolean {
  return c.server.config.get("maxmemory-policy").includes("lfu");
}

function objectEncoding(c: Client, argv: string[]): void {
  const e = objectLookup(c, argv[2]);
  if (e === undefined) return;
  c.reply.bulk(typeof e.value === "string" ? stringEncoding(e) : e.value.encoding());
}

function objectRefcount(c: Client, argv: string[]): void {
  const e = objectLookup(c, argv[2]);
  if (e === undefined) return;
  const refcount = typeof e.value === "string" ? stringRefcount(e) : 1;
  // Redis stops sharing integers under an LRU/LFU maxmemory-policy (src/evict.ts)
  c.reply.int(refcount > 1 && !sharedIntegers(c.server) ? 1 : refcount);
}

function objectIdletime(c: Client, argv: string[]): void {
  const e = objectLookup(c, argv[2]);
  if (e === undefined) return;
  if (isLfu(c)) return c.error(LFU_IDLE_ERROR);
  c.reply.int(Math.max(0, Math.floor(Date.now() / 1000) - e.lru));
}

function objectFreq(c: Client, argv: string[]): void {
  const e = objectLookup(c, argv[2]);
  if (e === undefined) return;
  if (!isLfu(c)) return c.error(NOT_LFU_ERROR);
  c.reply.int(e.freq);
}

function objectHelp(c: Client): void {
  c.reply.array(OBJECT_HELP.length);
  for (const line of OBJECT_HELP) c.reply.simple(line);
}

const G = { categories: ["keyspace"] };
const K1 = { keys: [1, 1, 1] as [number, number, number], ...G };
const KALL = { keys: [1, -1, 1] as [number, number, number], ...G };
const K2 = { keys: [2, 2, 1] as [number, number, number], ...G };

/** The generic keyspace command specs. */
export const commands: CommandSpec[] = [
  cmd(
    "generic",
    "del",
    -2,
    "write",
    (c, a) => delGeneric(c, a, c.server.config.bool("lazyfree-lazy-user-del")),
    KALL,
  ),
  cmd("generic", "unlink", -2, "write fast", (c, a) => delGeneric(c, a, true), KALL),
  cmd("generic", "exists", -2, "readonly fast", exists, KALL),
  cmd("generic", "type", 2, "readonly fast", type, K1),
  cmd("generic", "keys", 2, "readonly", keys, { categories: ["keyspace", "dangerous"] }),
  cmd("generic", "scan", -2, "readonly", scan, G),
  cmd("generic", "randomkey", 1, "readonly", randomkey, G),
  cmd("generic", "rename", 3, "write", (c, a) => renameGeneric(c, a, false), {
    keys: [1, 2, 1],
    ...G,
  }),
  cmd("generic", "renamenx", 3, "write fast", (c, a) => renameGeneric(c, a, true), {
    keys: [1, 2, 1],
    ...G,
  }),
  cmd("generic", "copy", -3, "write denyoom", copy, { keys: [1, 2, 1], ...G }),
  cmd("generic", "move", 3, "write fast", move, K1),
  cmd("server", "swapdb", 3, "write fast", swapdb, { categories: ["keyspace", "dangerous"] }),
  cmd("generic", "touch", -2, "readonly fast", touch, KALL),
  cmd("server", "dbsize", 1, "readonly fast", (c) => c.reply.int(c.db.size), G),
  cmd("server", "flushdb", -1, "write", flushdb, { categories: ["keyspace", "dangerous"] }),
  cmd("server", "flushall", -1, "write", flushall, { categories: ["keyspace", "dangerous"] }),
  cmd(
    "generic",
    "expire",
    -3,
    "write fast",
    (c, a) => expireGeneric(c, a, c.server.now(), 1000),
    K1,
  ),
  cmd("generic", "pexpire", -3, "write fast", (c, a) => expireGeneric(c, a, c.server.now(), 1), K1),
  cmd("generic", "expireat", -3, "write fast", (c, a) => expireGeneric(c, a, 0, 1000), K1),
  cmd("generic", "pexpireat", -3, "write fast", (c, a) => expireGeneric(c, a, 0, 1), K1),
  cmd("generic", "ttl", 2, "readonly fast", (c, a) => ttlGeneric(c, a, false), K1),
  cmd("generic", "pttl", 2, "readonly fast", (c, a) => ttlGeneric(c, a, true), K1),
  cmd("generic", "expiretime", 2, "readonly fast", (c, a) => expiretimeGeneric(c, a, false), K1),
  cmd("generic", "pexpiretime", 2, "readonly fast", (c, a) => expiretimeGeneric(c, a, true), K1),
  cmd("generic", "persist", 2, "write fast", persist, K1),
  container("generic", "object", -2, [
    cmd("generic", "encoding", 3, "readonly", objectEncoding, K2),
    cmd("generic", "help", 2, "loading stale", objectHelp, G),
    cmd("generic", "freq", 3, "readonly", objectFreq, K2),
    cmd("generic", "idletime", 3, "readonly", objectIdletime, K2),
    cmd("generic", "refcount", 3, "readonly", objectRefcount, K2),
  ]),
];
