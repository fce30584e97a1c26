/**
 * RDB writer (Redis: rdb.c rdbSave*): serializes values in encodings Redis 7.0 loads,
 * and produces whole-dataset snapshots incrementally with copy-on-write by key, so the
 * server keeps serving clients while a snapshot (BGSAVE, full sync) is written.
 */
import type { Server } from "../server.ts";
import type { Entry, Value } from "../store/db.ts";
import type { ListValue } from "../store/list.ts";
import type { HashValue } from "../store/hash.ts";
import type { SetValue } from "../store/set.ts";
import type { ZSetValue } from "../store/zset.ts";
import type { StreamId, StreamModel, StreamValue } from "../store/stream.ts";
import { Crc64 } from "./crc64.ts";
import { ListpackBuilder } from "./listpack.ts";
import {
  formatG17,
  OP,
  QUICKLIST_NODE_PACKED,
  RDB_VERSION,
  RdbEncoder,
  rdbFunctions,
  T,
} from "./rdb_format.ts";

const REDIS_VERSION = "7.0.15";
/** list nodes: at most this many elements / bytes per listpack (list-max-listpack-size -2) */
const LIST_NODE_ENTRIES = 128;
const LIST_NODE_BYTES = 8192;
/** stream nodes (stream-node-max-entries default) */
const STREAM_NODE_ENTRIES = 100;
const STREAM_NODE_BYTES = 4096;

/** The RDB object type byte Redeno writes for a value. */
export function rdbTypeOf(value: Value): number {
  if (typeof value === "string") return T.STRING;
  switch (value.type) {
    case "list":
      return T.LIST_QUICKLIST_2;
    // small values in Redis's compact encodings, so DUMP bytes match Redis's
    case "set":
      return value.encoding() === "intset" ? T.SET_INTSET : T.SET;
    case "zset":
      return value.encoding() === "listpack" ? T.ZSET_LISTPACK : T.ZSET_2;
    case "hash":
      return value.encoding() === "listpack" ? T.HASH_LISTPACK : T.HASH;
    case "stream":
      return T.STREAM_LISTPACKS_2;
  }
}

/** Writes a value's payload (without the type byte). */
export function writeValue(enc: RdbEncoder, value: Value): void {
  if (typeof value === "string") return enc.string(value);
  switch (value.type) {
    case "list":
      return writeList(enc, value as ListValue);
    case "hash":
      return writeHash(enc, value as HashValue);
    case "stream":
      return writeStream(enc, (value as StreamValue).toModel());
    case "set":
      return writeSet(enc, value as SetValue);
    case "zset":
      return writeZset(enc, value as ZSetValue);
  }
}

function writeSet(enc: RdbEncoder, set: SetValue): void {
  if (set.encoding() === "intset") return enc.stringBytes(encodeIntset(set.members()));
  enc.len(set.size);
  for (const m of set.members()) enc.string(m);
}

/** Redis's intset: encoding width, length, then the sorted integers, little-endian. */
function encodeIntset(members: Iterable<string>): Uint8Array {
  const ints = [...members].map((m) => BigInt(m)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let width = 2;
  for (const v of ints) {
    if (v < -2147483648n || v > 2147483647n) width = 8;
    else if ((v < -32768n || v > 32767n) && width < 4) width = 4;
  }
  const out = new Uint8Array(8 + ints.length * width);
  const view = new DataView(out.buffer);
  view.setUint32(0, width, true);
  view.setUint32(4, ints.length, true);
  ints.forEach((v, i) => {
    const at = 8 + i * width;
    if (width === 2) view.setInt16(at, Number(v), true);
    else if (width === 4) view.setInt32(at, Number(v), true);
    else view.setBigInt64(at, v, true);
  });
  return out;
}

function writeZset(enc: RdbEncoder, zset: ZSetValue): void {
  if (zset.encoding() === "listpack") {
    const b = new ListpackBuilder();
    for (const [m, score] of zset.entries()) {
      b.append(m);
      b.append(formatG17(score)); // Redis's d2string (%.17g)
    }
    return enc.stringBytes(b.finish());
  }
  enc.len(zset.size);
  for (const [m, score] of zset.entries()) {
    enc.string(m);
    enc.doubleBin(score);
  }
}

function writeList(enc: RdbEncoder, list: ListValue): void {
  // RDB_TYPE_LIST_QUICKLIST_2: node count, then (container, listpack) per node
  const nodes: Uint8Array[] = [];
  let b = new ListpackBuilder();
  for (const item of list.values()) {
    if (
      b.count >= LIST_NODE_ENTRIES || (b.count > 0 && b.byteSize + item.length > LIST_NODE_BYTES)
    ) {
      nodes.push(b.finish());
      b = new ListpackBuilder();
    }
    b.append(item);
  }
  if (b.count > 0) nodes.push(b.finish());
  enc.len(nodes.length);
  for (const lp of nodes) {
    enc.len(QUICKLIST_NODE_PACKED);
    enc.stringBytes(lp);
  }
}

function writeHash(enc: RdbEncoder, hash: HashValue): void {
  if (hash.encoding() === "listpack") {
    const b = new ListpackBuilder();
    for (const [f, v] of hash.entries()) {
      b.append(f);
      b.append(v);
    }
    return enc.stringBytes(b.finish());
  }
  enc.len(hash.size);
  for (const [f, v] of hash.entries()) {
    enc.string(f);
    enc.string(v);
  }
}

function big(p: number | bigint): bigint {
  return typeof p === "bigint" ? p : BigInt(p);
}

function rawId(id: StreamId): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, big(id.ms), false);
  v.setBigUint64(8, big(id.seq), false);
  return out;
}

function idDiff(a: number | bigint, b: number | bigint): string | number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return BigInt.asIntN(64, big(a) - big(b)).toString();
}

function appendNum(b: ListpackBuilder, v: string | number): void {
  if (typeof v === "number") b.appendInt(v);
  else b.append(v);
}

function sameFields(master: string[], fields: string[]): boolean {
  if (fields.length !== master.length * 2) return false;
  for (let i = 0; i < master.length; i++) if (fields[i * 2] !== master[i]) return false;
  return true;
}

/** RDB_TYPE_STREAM_LISTPACKS_2 payload (what Redis 7.0 writes). */
export function writeStream(enc: RdbEncoder, m: StreamModel): void {
  const nodes: Array<{ key: Uint8Array; lp: Uint8Array }> = [];
  const entries = m.entries;
  let i = 0;
  while (i < entries.length) {
    const first = entries[i];
    const masterFields: string[] = [];
    for (let f = 0; f < first.fields.length; f += 2) masterFields.push(first.fields[f]);
    let end = i;
    let bytes = 0;
    while (end < entries.length && end - i < STREAM_NODE_ENTRIES) {
      const f = entries[end].fields;
      let sz = 0;
      for (const s of f) sz += s.length + 3;
      if (end > i && bytes + sz > STREAM_NODE_BYTES) break;
      bytes += sz;
      end++;
    }
    const b = new ListpackBuilder();
    b.appendInt(end - i); // count
    b.appendInt(0); // deleted
    b.appendInt(masterFields.length);
    for (const f of masterFields) b.append(f);
    b.appendInt(0); // master entry terminator
    for (let k = i; k < end; k++) {
      const e = entries[k];
      const same = sameFields(masterFields, e.fields);
      b.appendInt(same ? 2 : 0); // flags: SAMEFIELDS
      appendNum(b, idDiff(e.id.ms, first.id.ms));
      appendNum(b, idDiff(e.id.seq, first.id.seq));
      const n = e.fields.length / 2;
      if (same) {
        for (let f = 1; f < e.fields.length; f += 2) b.append(e.fields[f]);
        b.appendInt(n + 3);
      } else {
        b.appendInt(n);
        for (const s of e.fields) b.append(s);
        b.appendInt(n * 2 + 4);
      }
    }
    nodes.push({ key: rawId(first.id), lp: b.finish() });
    i = end;
  }
  enc.len(nodes.length);
  for (const n of nodes) {
    enc.stringBytes(n.key);
    enc.stringBytes(n.lp);
  }
  enc.len(m.length);
  enc.lenBig(big(m.lastId.ms));
  enc.lenBig(big(m.lastId.seq));
  enc.lenBig(big(m.firstId.ms));
  enc.lenBig(big(m.firstId.seq));
  enc.lenBig(big(m.maxDeletedEntryId.ms));
  enc.lenBig(big(m.maxDeletedEntryId.seq));
  enc.len(m.entriesAdded);
  enc.len(m.groups.length);
  for (const g of m.groups) {
    enc.string(g.name);
    enc.lenBig(big(g.lastDeliveredId.ms));
    enc.lenBig(big(g.lastDeliveredId.seq));
    enc.lenBig(g.entriesRead < 0 ? 0xffffffffffffffffn : BigInt(g.entriesRead));
    enc.len(g.pel.length);
    for (const p of g.pel) {
      enc.bytes(rawId(p.id));
      enc.millis(p.deliveryTime);
      enc.len(p.deliveryCount);
    }
    enc.len(g.consumers.length);
    for (const c of g.consumers) {
      enc.string(c.name);
      enc.millis(c.seenTime);
      enc.len(c.pel.length);
      for (const id of c.pel) enc.bytes(rawId(id));
    }
  }
}

/** What Redis stores per key for its eviction policy: LRU idle time, LFU counter, none. */
export type EvictionInfo = "idle" | "freq" | null;

/** The eviction info a snapshot writes under the current maxmemory-policy (as Redis). */
export function evictionInfoFor(server: Server): EvictionInfo {
  const policy = server.config.get("maxmemory-policy");
  return policy.endsWith("-lru") ? "idle" : policy.endsWith("-lfu") ? "freq" : null;
}

/** Writes one key/value record: optional expiry, type, key, value. */
export function writeRecord(
  enc: RdbEncoder,
  key: string,
  entry: Entry,
  evictionInfo: EvictionInfo = null,
): void {
  if (entry.expireAt !== 0) {
    enc.byte(OP.EXPIRETIME_MS);
    enc.millis(entry.expireAt);
  }
  if (evictionInfo === "idle") {
    enc.byte(OP.IDLE);
    enc.len(Math.max(0, Math.floor(Date.now() / 1000) - entry.lru));
  } else if (evictionInfo === "freq") {
    enc.byte(OP.FREQ);
    enc.byte(Math.min(255, entry.freq));
  }
  enc.byte(rdbTypeOf(entry.value));
  enc.string(key);
  writeValue(enc, entry.value);
}

/**
 * A DUMP payload: type byte, value, RDB version (2 bytes LE), CRC64 (8 bytes LE) of
 * everything before it.
 */
export function dumpPayload(value: Value, compress = true): Uint8Array {
  const enc = new RdbEncoder(compress, 256);
  enc.byte(rdbTypeOf(value));
  writeValue(enc, value);
  enc.byte(RDB_VERSION & 0xff);
  enc.byte(RDB_VERSION >> 8);
  const crc = new Crc64();
  crc.update(enc.view());
  enc.bytes(crc.digestBytes());
  return enc.view().slice();
}

// ---------------------------------------------------------------------------------
// Snapshots with copy-on-write by key

/** Options of rdbSnapshot. */
export interface SnapshotOptions {
  /** replication id and offset stored in the repl-id / repl-offset aux fields */
  replid?: string;
  offset?: number;
  /** repl-stream-db aux field (default 0) */
  replStreamDb?: number;
  /** written as the aof-base aux field (1 for an AOF base file) */
  aofBase?: boolean;
  /** no keys / no functions (REPLCONF rdb-filter-only) */
  excludeData?: boolean;
  excludeFunctions?: boolean;
}

/** Per-database state of a running snapshot: keys changed before they were written. */
interface DictState {
  /** a pre-serialized record (the key as it was at snapshot start), or null (absent) */
  saved: Map<string, Uint8Array | null>;
}

/** One running snapshot. */
class Snapshot {
  readonly dicts = new Map<Map<string, Entry>, DictState>();
  readonly compress: boolean;
  readonly evictionInfo: EvictionInfo;
  constructor(compress: boolean, evictionInfo: EvictionInfo) {
    this.compress = compress;
    this.evictionInfo = evictionInfo;
  }

  /** beforeKeyChange: saves the key's current record unless already saved. */
  capture(dict: Map<string, Entry>, key: string, entry: Entry | undefined): void {
    const st = this.dicts.get(dict);
    if (st === undefined || st.saved.has(key)) return;
    if (entry === undefined) {
      st.saved.set(key, null);
      return;
    }
    const enc = new RdbEncoder(this.compress, 64 + key.length);
    writeRecord(enc, key, entry, this.evictionInfo);
    st.saved.set(key, enc.view());
  }
}

const running = new WeakMap<Server, Set<Snapshot>>();

function register(server: Server, snap: Snapshot): void {
  let set = running.get(server);
  if (set === undefined) {
    set = new Set();
    running.set(server, set);
  }
  set.add(snap);
  const active = set;
  server.beforeKeyChange = (db, key, entry) => {
    for (const s of active) s.capture(db.dict, key, entry);
  };
  server.cowActive = true;
}

function unregister(server: Server, snap: Snapshot): void {
  const set = running.get(server);
  if (set === undefined) return;
  set.delete(snap);
  if (set.size === 0) {
    server.cowActive = false;
    server.beforeKeyChange = undefined;
  }
}

/**
 * Yields to the event loop so clients are served between snapshot slices. (In Deno,
 * setImmediate and MessageChannel callbacks run before pending socket I/O is polled;
 * a timer lets reads and writes through.)
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

const SLICE_MS = 10;
const CHUNK_BYTES = 256 * 1024;

/** A snapshot in progress: chunks, with `null` marking a point to yield to the loop. */
type SnapshotSteps = Generator<Uint8Array | null, void, void>;

/**
 * Starts a point-in-time snapshot of the dataset and returns its steps: RDB byte
 * chunks, and `null` wherever ~10 ms of work were done (the async form yields to the
 * event loop there; SAVE ignores them). The final chunk is the CRC64.
 */
function startSnapshot(
  server: Server,
  opts: SnapshotOptions,
): { steps: SnapshotSteps; cancel: () => void; takeDelay: () => number } {
  const compress = server.config.bool("rdbcompression");
  // rdb-key-save-delay (µs per key, a test aid): owed time, slept at the next yield
  const keyDelayUs = server.config.num("rdb-key-save-delay");
  let delayUs = 0;
  const snap = new Snapshot(compress, evictionInfoFor(server));
  const dbs = (opts.excludeData ? [] : server.dbs).map((db) => {
    const dict = db.dict;
    snap.dicts.set(dict, { saved: new Map() });
    return { id: db.id, dict, keys: db.keyList().slice(), expires: db.volatileCount };
  });
  register(server, snap);
  const ctime = Math.floor(Date.now() / 1000);

  function* steps(): SnapshotSteps {
    const crc = new Crc64();
    const enc = new RdbEncoder(compress, CHUNK_BYTES + 4096);
    const out = (): Uint8Array => {
      const chunk = enc.take();
      crc.update(chunk);
      return chunk;
    };
    try {
      const header = `REDIS${String(RDB_VERSION).padStart(4, "0")}`;
      for (let i = 0; i < header.length; i++) enc.byte(header.charCodeAt(i));
      enc.aux("redis-ver", REDIS_VERSION);
      enc.aux("redis-bits", "64");
      enc.aux("ctime", String(ctime));
      enc.aux("used-mem", String(Deno.memoryUsage().rss));
      if (opts.replid !== undefined) {
        enc.aux("repl-stream-db", String(opts.replStreamDb ?? 0));
        enc.aux("repl-id", opts.replid);
        enc.aux("repl-offset", String(opts.offset ?? 0));
      }
      enc.aux("aof-base", opts.aofBase ? "1" : "0");
      for (const code of opts.excludeFunctions ? [] : rdbFunctions.codes(server)) {
        enc.byte(OP.FUNCTION2);
        enc.string(code);
      }
      let sliceStart = performance.now();
      for (const db of dbs) {
        const st = snap.dicts.get(db.dict)!;
        if (db.keys.length === 0) {
          snap.dicts.delete(db.dict);
          continue;
        }
        enc.byte(OP.SELECTDB);
        enc.len(db.id);
        enc.byte(OP.RESIZEDB);
        enc.len(db.keys.length);
        enc.len(db.expires);
        const keys = db.keys;
        for (let i = 0; i < keys.length; i++) {
          const key = keys[i];
          const saved = st.saved.get(key);
          if (saved !== undefined) {
            if (saved !== null) enc.bytes(saved);
          } else {
            const e = db.dict.get(key);
            if (e !== undefined) writeRecord(enc, key, e, snap.evictionInfo);
          }
          if (keyDelayUs > 0) {
            delayUs += keyDelayUs;
            if (delayUs >= 1000) {
              if (enc.pos > 0) yield out();
              yield null;
            }
          } else if ((i & 63) === 63) {
            if (enc.pos >= CHUNK_BYTES) yield out();
            if (performance.now() - sliceStart > SLICE_MS) {
              yield null;
              sliceStart = performance.now();
            }
          }
        }
        // this database is written: changes to it no longer need copying
        snap.dicts.delete(db.dict);
      }
      enc.byte(OP.EOF);
      yield out();
      // rdbchecksum no: a zero checksum, which loaders skip
      yield server.config.bool("rdbchecksum") ? crc.digestBytes() : new Uint8Array(8);
    } finally {
      unregister(server, snap);
    }
  }
  const takeDelay = () => {
    const ms = delayUs / 1000;
    delayUs = 0;
    return ms;
  };
  return { steps: steps(), cancel: () => unregister(server, snap), takeDelay };
}

/**
 * The dataset as RDB bytes, in chunks, as it was when this function was called.
 * Writing is incremental: the iterator yields to the event loop between slices of
 * ~10 ms, and a key about to change (Db.lookupWrite) before it was written is
 * serialized first (copy-on-write by key). Keys added after the call are not included;
 * FLUSHALL and SWAPDB are covered because each database's dict object is captured at
 * the start. Several snapshots may run at once (each keeps its own copy-on-write
 * state). The iterable must be consumed to the end (or left early with `break` /
 * `return()`) so that copy-on-write stops.
 */
export function rdbSnapshot(
  server: Server,
  opts: SnapshotOptions & { signal?: AbortSignal } = {},
): RdbSnapshot {
  const { steps, cancel, takeDelay } = startSnapshot(server, opts);
  const signal = opts.signal;
  async function* generate(): AsyncGenerator<Uint8Array> {
    try {
      for (const step of steps) {
        if (step === null) {
          const ms = takeDelay();
          await (ms >= 1 ? sleepUnlessAborted(ms, signal) : yieldToEventLoop());
          signal?.throwIfAborted();
        } else yield step;
      }
    } finally {
      steps.return();
      cancel();
    }
  }
  return { [Symbol.asyncIterator]: generate, cancel };
}

/** Sleeps `ms`, or less when `signal` aborts (a killed save stops at once). */
function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener("abort", done);
  });
}

/** A running snapshot: iterate it for the bytes, or cancel() it if it will not be read. */
export interface RdbSnapshot extends AsyncIterable<Uint8Array> {
  /** stops copy-on-write for a snapshot that will not be (fully) iterated */
  cancel(): void;
}

/** The whole dataset as one RDB image, synchronously (SAVE, DEBUG RELOAD, tests). */
export function rdbBytesSync(server: Server, opts: SnapshotOptions = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const step of startSnapshot(server, opts).steps) if (step !== null) parts.push(step);
  return concat(parts);
}

/** Concatenates byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function tempPath(path: string): string {
  const slash = path.lastIndexOf("/");
  const dir = slash >= 0 ? path.slice(0, slash + 1) : "";
  return `${dir}temp-${Deno.pid}-${Math.floor(Math.random() * 1e9)}.rdb`;
}

/** Options of saveRdbFile: the snapshot's, plus a signal that abandons the save. */
export interface SaveOptions extends SnapshotOptions {
  /** aborting stops writing, removes the temp file and rejects (SHUTDOWN kills BGSAVE) */
  signal?: AbortSignal;
}

/**
 * Writes a snapshot to `path` as Redis does, without blocking the server: a temp file
 * in the same directory, fsync, then an atomic rename.
 */
export async function saveRdbFile(
  server: Server,
  path: string,
  opts: SaveOptions = {},
): Promise<void> {
  // the snapshot's point in time is now, before any await
  const snapshot = rdbSnapshot(server, opts);
  const tmp = tempPath(path);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  } catch (e) {
    snapshot.cancel();
    throw e;
  }
  try {
    for await (const chunk of snapshot) {
      opts.signal?.throwIfAborted();
      let off = 0;
      while (off < chunk.length) off += await file.write(chunk.subarray(off));
    }
    opts.signal?.throwIfAborted();
    await file.sync();
  } catch (e) {
    file.close();
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  file.close();
  await Deno.rename(tmp, path);
}

/** Like saveRdbFile, synchronously (SAVE, SHUTDOWN). */
export function saveRdbFileSync(server: Server, path: string, opts: SnapshotOptions = {}): void {
  const tmp = tempPath(path);
  const file = Deno.openSync(tmp, { write: true, create: true, truncate: true });
  try {
    for (const step of startSnapshot(server, opts).steps) {
      if (step === null) continue;
      let off = 0;
      while (off < step.length) off += file.writeSync(step.subarray(off));
    }
    file.syncSync();
  } catch (e) {
    file.close();
    try {
      Deno.removeSync(tmp);
    } catch { /* already gone */ }
    throw e;
  }
  file.close();
  Deno.renameSync(tmp, path);
}
