/**
 * RDB reader (Redis: rdb.c rdbLoad*): versions 1 to 12, every encoding real Redis
 * writes (plain, ziplist, listpack, intset, zipmap, quicklist 1 and 2, stream
 * listpacks 1-3), aux fields, module aux and functions (skipped with a log line),
 * checksum verification.
 */
import type { Server } from "../server.ts";
import type { Db, Value } from "../store/db.ts";
import { bytesToBinary } from "../resp/bytes.ts";
import { ListValue } from "../store/list.ts";
import { HashValue } from "../store/hash.ts";
import { normPart, type StreamId, type StreamModel, StreamValue } from "../store/stream.ts";
import { Crc64 } from "./crc64.ts";
import { lzfDecompress } from "./lzf.ts";
import { CompactFormatError, decodeListpack } from "./listpack.ts";
import { decodeIntset, decodeZiplist, decodeZipmap } from "./ziplist.ts";
import {
  OP,
  QUICKLIST_NODE_PLAIN,
  RDB_MAX_READ_VERSION,
  RdbError,
  rdbFunctions,
  T,
} from "./rdb_format.ts";
import { makeSet, makeZset } from "./typed.ts";

/** A value as read from the file, before it becomes a keyspace value. */
export type LoadedValue =
  | { kind: "string"; value: string }
  | { kind: "list"; items: string[] }
  | { kind: "set"; members: string[] }
  | { kind: "zset"; entries: Array<[string, number]> }
  | { kind: "hash"; entries: Array<[string, string]> }
  | { kind: "stream"; model: StreamModel; estimateEntriesRead: boolean };

/** Work between two yields of a load at start (clients get LOADING in between). */
export const LOAD_SLICE_MS = 50;

const SHORT_READ = "Short read or OOM loading DB. Unrecoverable error, aborting now.";

/**
 * Thrown (as the NEED_MORE singleton) by a decoder in partial mode when a read runs
 * past the bytes received so far: not an error, the record is retried with more bytes.
 */
class NeedMore {}
const NEED_MORE = new NeedMore();

/** Reads RDB primitives from a byte array. */
export class RdbDecoder {
  readonly buf: Uint8Array;
  pos: number;
  /**
   * The bytes are a prefix of a stream still arriving: reading past them throws
   * NEED_MORE (with `wanted` set to the end of the failed read) instead of a short-read
   * RdbError.
   */
  partial = false;
  wanted = 0;
  readonly #view: DataView;

  constructor(buf: Uint8Array, pos = 0) {
    this.buf = buf;
    this.pos = pos;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  #need(n: number): void {
    if (this.pos + n > this.buf.length) {
      if (!this.partial) throw new RdbError(SHORT_READ);
      this.wanted = this.pos + n;
      throw NEED_MORE;
    }
  }

  byte(): number {
    this.#need(1);
    return this.buf[this.pos++];
  }

  raw(n: number): Uint8Array {
    this.#need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A length, or the encoding type (with `encoded` set) for special strings. */
  #lenOrEnc(): { len: number; big?: bigint; encoded: boolean } {
    const b = this.byte();
    const t = b >> 6;
    if (t === 0) return { len: b & 0x3f, encoded: false };
    if (t === 1) return { len: ((b & 0x3f) << 8) | this.byte(), encoded: false };
    if (t === 3) return { len: b & 0x3f, encoded: true };
    if (b === 0x80) {
      this.#need(4);
      const v = this.#view.getUint32(this.pos, false);
      this.pos += 4;
      return { len: v, encoded: false };
    }
    if (b === 0x81) {
      this.#need(8);
      const v = this.#view.getBigUint64(this.pos, false);
      this.pos += 8;
      return { len: Number(v), big: v, encoded: false };
    }
    throw new RdbError(`Unknown length encoding ${b} in rdbLoadLen()`);
  }

  /** A length as a number. */
  len(): number {
    const r = this.#lenOrEnc();
    if (r.encoded) throw new RdbError("Unexpected encoded string where a length was expected");
    return r.len;
  }

  /** A length as a BigInt (exact for 64-bit values). */
  lenBig(): bigint {
    const r = this.#lenOrEnc();
    if (r.encoded) throw new RdbError("Unexpected encoded string where a length was expected");
    return r.big ?? BigInt(r.len);
  }

  /** A string as bytes (decoding integer and LZF forms). */
  stringBytes(): Uint8Array {
    const r = this.#lenOrEnc();
    if (!r.encoded) return this.raw(r.len);
    switch (r.len) {
      case 0:
      case 1:
      case 2: {
        const s = this.#encodedInt(r.len);
        const out = new Uint8Array(s.length);
        for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
        return out;
      }
      case 3: {
        const clen = this.len();
        const len = this.len();
        const c = this.raw(clen);
        try {
          return lzfDecompress(c, len);
        } catch (e) {
          throw new RdbError(`Invalid LZF compressed string: ${(e as Error).message}`);
        }
      }
      default:
        throw new RdbError(`Unknown RDB string encoding type ${r.len}`);
    }
  }

  #encodedInt(kind: number): string {
    if (kind === 0) {
      this.#need(1);
      return String(this.#view.getInt8(this.pos++));
    }
    if (kind === 1) {
      this.#need(2);
      const v = this.#view.getInt16(this.pos, true);
      this.pos += 2;
      return String(v);
    }
    this.#need(4);
    const v = this.#view.getInt32(this.pos, true);
    this.pos += 4;
    return String(v);
  }

  /** A string as a binary string. */
  string(): string {
    // fast path: a plain string with a 6- or 14-bit length (keys and most values),
    // read without the length record
    const buf = this.buf;
    let p = this.pos;
    if (p < buf.length) {
      const b = buf[p];
      const t = b >> 6;
      let n = -1;
      if (t === 0) {
        n = b & 0x3f;
        p += 1;
      } else if (t === 1 && p + 1 < buf.length) {
        n = ((b & 0x3f) << 8) | buf[p + 1];
        p += 2;
      }
      if (n >= 0 && p + n <= buf.length) {
        this.pos = p + n;
        return bytesToBinary(buf, p, p + n);
      }
    }
    return this.#stringSlow();
  }

  #stringSlow(): string {
    const save = this.pos;
    const r = this.#lenOrEnc();
    if (r.encoded && r.len <= 2) return this.#encodedInt(r.len);
    if (!r.encoded) {
      this.#need(r.len);
      const s = bytesToBinary(this.buf, this.pos, this.pos + r.len);
      this.pos += r.len;
      return s;
    }
    this.pos = save;
    const b = this.stringBytes();
    return bytesToBinary(b, 0, b.length);
  }

  /** Old-style ascii double (RDB_TYPE_ZSET). */
  doubleAscii(): number {
    const n = this.byte();
    if (n === 253) return NaN;
    if (n === 254) return Infinity;
    if (n === 255) return -Infinity;
    return Number(bytesToBinary(this.raw(n)));
  }

  /** Binary double, 8 bytes LE. */
  doubleBin(): number {
    this.#need(8);
    const v = this.#view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Unix ms, 8 bytes LE. */
  millis(): number {
    this.#need(8);
    const v = this.#view.getBigInt64(this.pos, true);
    this.pos += 8;
    return Number(v);
  }

  /** Unix seconds, 4 bytes LE (old EXPIRETIME). */
  seconds(): number {
    this.#need(4);
    const v = this.#view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
}

function compact<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CompactFormatError || e instanceof RangeError) {
      throw new RdbError(`Corrupt ${what}: ${(e as Error).message}`);
    }
    throw e;
  }
}

function pairs(items: string[]): Array<[string, string]> {
  if (items.length % 2 !== 0) throw new RdbError("Corrupt hash: odd number of elements");
  const out: Array<[string, string]> = [];
  for (let i = 0; i < items.length; i += 2) out.push([items[i], items[i + 1]]);
  return out;
}

function scored(items: string[]): Array<[string, number]> {
  if (items.length % 2 !== 0) throw new RdbError("Corrupt zset: odd number of elements");
  const out: Array<[string, number]> = [];
  for (let i = 0; i < items.length; i += 2) {
    const score = parseScore(items[i + 1]);
    out.push([items[i], score]);
  }
  return out;
}

/** A score as Redis writes it in a listpack/ziplist (d2string: "inf", "-inf", digits). */
function parseScore(s: string): number {
  const lower = s.toLowerCase();
  const v = lower === "inf" || lower === "+inf"
    ? Infinity
    : lower === "-inf"
    ? -Infinity
    : Number(s);
  if (Number.isNaN(v)) throw new RdbError("Corrupt zset: bad score");
  return v;
}

function idFromRaw(b: Uint8Array): StreamId {
  if (b.length !== 16) throw new RdbError("Stream node key entry is not the size of a stream ID");
  const v = new DataView(b.buffer, b.byteOffset, 16);
  return { ms: normPart(v.getBigUint64(0, false)), seq: normPart(v.getBigUint64(8, false)) };
}

function addPart(base: number | bigint, diff: string): number | bigint {
  if (typeof base === "number") {
    const d = Number(diff);
    const r = base + d;
    if (Number.isSafeInteger(d) && Number.isSafeInteger(r)) return r;
  }
  return normPart(BigInt.asUintN(64, BigInt(base) + BigInt(diff)));
}

function readStreamId(d: RdbDecoder): StreamId {
  return { ms: normPart(d.lenBig()), seq: normPart(d.lenBig()) };
}

function readStream(d: RdbDecoder, type: number): LoadedValue {
  const entries: StreamModel["entries"] = [];
  const nodes = d.len();
  for (let n = 0; n < nodes; n++) {
    const master = idFromRaw(d.stringBytes());
    const items = compact("stream listpack", () => decodeListpack(d.stringBytes()));
    if (items.length === 0) throw new RdbError("Empty listpack inside stream");
    let p = 0;
    const next = (): string => {
      const v = items[p++];
      if (v === undefined) throw new RdbError("Corrupt stream listpack: truncated entry");
      return v;
    };
    next(); // count
    next(); // deleted
    const nMaster = Number(next());
    const masterFields: string[] = [];
    for (let i = 0; i < nMaster; i++) masterFields.push(next());
    next(); // master terminator
    while (p < items.length) {
      const flags = Number(next());
      const ms = addPart(master.ms, next());
      const seq = addPart(master.seq, next());
      const fields: string[] = [];
      if (flags & 2) {
        for (let i = 0; i < nMaster; i++) fields.push(masterFields[i], next());
      } else {
        const nf = Number(next());
        for (let i = 0; i < nf * 2; i++) fields.push(next());
      }
      next(); // lp-count
      if (!(flags & 1)) entries.push({ id: { ms, seq }, fields });
    }
  }
  const length = d.len();
  const lastId = readStreamId(d);
  let firstId: StreamId = entries[0]?.id ?? { ms: 0, seq: 0 };
  let maxDeletedEntryId: StreamId = { ms: 0, seq: 0 };
  let entriesAdded = length;
  if (type >= T.STREAM_LISTPACKS_2) {
    firstId = readStreamId(d);
    maxDeletedEntryId = readStreamId(d);
    entriesAdded = d.len();
  }
  const groups: StreamModel["groups"] = [];
  const ngroups = d.len();
  for (let g = 0; g < ngroups; g++) {
    const name = d.string();
    const lastDeliveredId = readStreamId(d);
    let entriesRead = -1;
    if (type >= T.STREAM_LISTPACKS_2) {
      const v = d.lenBig();
      entriesRead = v >= 0x8000000000000000n ? -1 : Number(v);
    }
    const pelCount = d.len();
    const pel: StreamModel["groups"][number]["pel"] = [];
    const owner = new Map<string, string>();
    for (let i = 0; i < pelCount; i++) {
      const id = idFromRaw(d.raw(16));
      const deliveryTime = d.millis();
      const deliveryCount = d.len();
      pel.push({ id, deliveryTime, deliveryCount, consumer: "" });
    }
    const consumers: StreamModel["groups"][number]["consumers"] = [];
    const nconsumers = d.len();
    for (let c = 0; c < nconsumers; c++) {
      const cname = d.string();
      const seenTime = d.millis();
      if (type >= T.STREAM_LISTPACKS_3) d.millis(); // active-time (7.2)
      const n = d.len();
      const ids: StreamId[] = [];
      for (let i = 0; i < n; i++) {
        const id = idFromRaw(d.raw(16));
        ids.push(id);
        owner.set(`${id.ms}-${id.seq}`, cname);
      }
      consumers.push({ name: cname, seenTime, pel: ids });
    }
    for (const p of pel) {
      const o = owner.get(`${p.id.ms}-${p.id.seq}`);
      if (o === undefined) throw new RdbError("Stream PEL entry without a consumer");
      p.consumer = o;
    }
    groups.push({ name, lastDeliveredId, entriesRead, pel, consumers });
  }
  return {
    kind: "stream",
    model: { entries, length, lastId, entriesAdded, maxDeletedEntryId, firstId, groups },
    estimateEntriesRead: type < T.STREAM_LISTPACKS_2,
  };
}

/** Skips a module value's opcodes up to its EOF marker. */
function skipModuleOpcodes(d: RdbDecoder): void {
  for (;;) {
    const op = d.len();
    if (op === 0) return;
    if (op === 1 || op === 2) d.len();
    else if (op === 3) d.raw(4);
    else if (op === 4) d.raw(8);
    else if (op === 5) d.stringBytes();
    else throw new RdbError(`Unknown module opcode ${op}`);
  }
}

const MODULE_CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** The 9-character module name encoded in a module type id. */
function moduleName(id: bigint): string {
  let name = "";
  const bits = id >> 10n;
  for (let i = 8; i >= 0; i--) name += MODULE_CHARSET[Number((bits >> BigInt(6 * i)) & 63n)];
  return name;
}

/** Reads one value of RDB object type `type`. */
export function readValue(d: RdbDecoder, type: number): LoadedValue {
  switch (type) {
    case T.STRING:
      return { kind: "string", value: d.string() };
    case T.LIST: {
      const n = d.len();
      const items: string[] = new Array(n);
      for (let i = 0; i < n; i++) items[i] = d.string();
      return { kind: "list", items };
    }
    case T.SET: {
      const n = d.len();
      const members: string[] = new Array(n);
      for (let i = 0; i < n; i++) members[i] = d.string();
      return { kind: "set", members };
    }
    case T.ZSET:
    case T.ZSET_2: {
      const n = d.len();
      const entries: Array<[string, number]> = new Array(n);
      for (let i = 0; i < n; i++) {
        const m = d.string();
        const score = type === T.ZSET_2 ? d.doubleBin() : d.doubleAscii();
        if (Number.isNaN(score)) throw new RdbError("Zset with NAN score detected");
        entries[i] = [m, score];
      }
      return { kind: "zset", entries };
    }
    case T.HASH: {
      const n = d.len();
      const entries: Array<[string, string]> = new Array(n);
      for (let i = 0; i < n; i++) entries[i] = [d.string(), d.string()];
      return { kind: "hash", entries };
    }
    case T.HASH_ZIPMAP:
      return { kind: "hash", entries: compact("zipmap", () => decodeZipmap(d.stringBytes())) };
    case T.LIST_ZIPLIST:
      return { kind: "list", items: compact("ziplist", () => decodeZiplist(d.stringBytes())) };
    case T.SET_INTSET:
      return { kind: "set", members: compact("intset", () => decodeIntset(d.stringBytes())) };
    case T.SET_LISTPACK:
      return { kind: "set", members: compact("listpack", () => decodeListpack(d.stringBytes())) };
    case T.ZSET_ZIPLIST:
      return {
        kind: "zset",
        entries: scored(compact("ziplist", () => decodeZiplist(d.stringBytes()))),
      };
    case T.ZSET_LISTPACK:
      return {
        kind: "zset",
        entries: scored(compact("listpack", () => decodeListpack(d.stringBytes()))),
      };
    case T.HASH_ZIPLIST:
      return {
        kind: "hash",
        entries: pairs(compact("ziplist", () => decodeZiplist(d.stringBytes()))),
      };
    case T.HASH_LISTPACK:
      return {
        kind: "hash",
        entries: pairs(compact("listpack", () => decodeListpack(d.stringBytes()))),
      };
    case T.LIST_QUICKLIST:
    case T.LIST_QUICKLIST_2: {
      const nodes = d.len();
      const items: string[] = [];
      for (let i = 0; i < nodes; i++) {
        if (type === T.LIST_QUICKLIST_2) {
          const container = d.len();
          if (container === QUICKLIST_NODE_PLAIN) {
            items.push(d.string());
            continue;
          }
          for (const s of compact("listpack", () => decodeListpack(d.stringBytes()))) items.push(s);
        } else {
          for (const s of compact("ziplist", () => decodeZiplist(d.stringBytes()))) items.push(s);
        }
      }
      return { kind: "list", items };
    }
    case T.STREAM_LISTPACKS:
    case T.STREAM_LISTPACKS_2:
    case T.STREAM_LISTPACKS_3:
      return readStream(d, type);
    case T.MODULE_2: {
      const id = d.lenBig();
      throw new RdbError(
        `The RDB file contains module data I can't load: no matching module '${moduleName(id)}'`,
      );
    }
    default:
      throw new RdbError(`Unknown RDB encoding type ${type}`);
  }
}

/** Turns a loaded value into a keyspace value (null for empty collections). */
export function materialize(server: Server, v: LoadedValue): Value | null {
  const cfg = server.config;
  switch (v.kind) {
    case "string":
      return v.value;
    case "list":
      return v.items.length === 0 ? null : ListValue.from(v.items);
    case "hash":
      return v.entries.length === 0 ? null : HashValue.from(v.entries, {
        maxEntries: cfg.num("hash-max-listpack-entries"),
        maxValue: cfg.num("hash-max-listpack-value"),
      });
    case "set":
      return v.members.length === 0 ? null : makeSet(server, v.members);
    case "zset":
      return v.entries.length === 0 ? null : makeZset(server, v.entries);
    case "stream": {
      const s = StreamValue.fromModel(v.model);
      if (v.estimateEntriesRead) {
        for (const g of s.groups.values()) g.entriesRead = s.estimateDistance(g.lastId);
      }
      return s;
    }
  }
}

/** What loadRdb found besides the keys. */
export interface LoadResult {
  version: number;
  /** repl-id / repl-offset / repl-stream-db aux fields, when present */
  replid?: string;
  offset?: number;
  replStreamDb?: number;
  /** aof-base aux: the file is an AOF base */
  aofBase: boolean;
  /** every aux field as read */
  aux: Map<string, string>;
  keys: number;
  expiredSkipped: number;
  /** bytes consumed (the RDB may be followed by AOF commands in an old preamble file) */
  bytesRead: number;
}

/** Options of loadRdb. */
export interface LoadOptions {
  /** a replica loads keys whose expiry has passed (the primary will DEL them) */
  replica?: boolean;
  /** an AOF base/preamble: expired keys are loaded (the AOF tail decides), as Redis */
  aofPreamble?: boolean;
  /**
   * false: a function library that already exists fails the load (DEBUG RELOAD NOFLUSH
   * without MERGE; Redis loads with RDBFLAGS_ALLOW_DUP otherwise)
   */
  allowDuplicates?: boolean;
}

/** Options of an RdbLoader. */
export interface LoaderOptions extends LoadOptions {
  /**
   * The databases to load into (default: server.dbs). Databases that clients do not
   * see (a replica's full sync) should have a host that fires no wake-ups.
   */
  dbs?: readonly Db[];
  /**
   * Function libraries are collected in `functions` instead of being loaded into the
   * server at once (the caller loads them when it installs the loaded dataset).
   */
  deferFunctions?: boolean;
}

/** Phases of an RdbLoader. */
const enum Phase {
  Header,
  Records,
  Checksum,
  Done,
}

/** The smallest free space writable() hands out. */
const MIN_WRITABLE = 64 * 1024;

/**
 * An RDB load that can run on a payload still arriving (a replica's full sync) as well
 * as on a whole file. Bytes are appended with writable()/commit() or push(); step()
 * parses the complete records received so far, for a bounded time. A record (one key,
 * or one opcode) is parsed atomically: when it runs past the bytes received, the
 * loader rewinds to its start and waits until the bytes available from there have at
 * least doubled (or the stream ended), so a huge key costs O(n) overall. The CRC64 is
 * computed on the records as they are parsed.
 */
export class RdbLoader {
  readonly #server: Server;
  readonly #dbs: readonly Db[];
  readonly #skipExpired: boolean;
  /** collected function libraries when deferred, else null */
  readonly functions: string[] | null;
  #buf: Uint8Array = new Uint8Array(0);
  /** stream offset of #buf[0] */
  #base = 0;
  /** index in #buf of the next byte to parse */
  #start = 0;
  /** index in #buf past the last byte received */
  #end = 0;
  /** index in #buf up to which the CRC was fed */
  #crcPos = 0;
  readonly #crc: Crc64 | null;
  #ended = false;
  /** bytes at the end withheld from parsing (a `$EOF:` mark may be among them) */
  holdBack = 0;
  /** stream offset the parse limit must reach before the pending record is retried */
  #retryAt = 0;
  #phase = Phase.Header;
  readonly #result: LoadResult = {
    version: 0,
    aofBase: false,
    aux: new Map(),
    keys: 0,
    expiredSkipped: 0,
    bytesRead: 0,
  };
  readonly #now = Date.now();
  readonly #emptyAtStart: boolean[];
  readonly #allowDuplicates: boolean;
  #db: Db;
  #expireAt = 0;
  #idle = -1;
  #freq = -1;

  constructor(server: Server, opts: LoaderOptions = {}) {
    this.#server = server;
    this.#dbs = opts.dbs ?? server.dbs;
    this.#db = this.#dbs[0];
    this.#emptyAtStart = this.#dbs.map((db) => db.size === 0);
    this.#skipExpired = !opts.replica && !opts.aofPreamble;
    this.functions = opts.deferFunctions ? [] : null;
    this.#allowDuplicates = opts.allowDuplicates ?? true;
    this.#crc = server.config.bool("rdbchecksum") ? new Crc64() : null;
  }

  /** A loader over a whole payload (used in place, not copied). */
  static ofBytes(server: Server, bytes: Uint8Array, opts: LoaderOptions = {}): RdbLoader {
    const loader = new RdbLoader(server, opts);
    loader.#buf = bytes;
    loader.#end = bytes.length;
    loader.#ended = true;
    return loader;
  }

  /** Bytes received so far. */
  get received(): number {
    return this.#base + this.#end;
  }

  /** Free space to read into (at least `min` bytes); commit() what was written. */
  writable(min = MIN_WRITABLE): Uint8Array {
    if (this.#buf.length - this.#end < min) {
      // parsed bytes are dropped (after the CRC took them), live ones moved to the front
      this.#feedCrc();
      const live = this.#end - this.#start;
      let size = Math.max(this.#buf.length, MIN_WRITABLE * 4);
      while (size - live < min || size < live * 2) size *= 2;
      const next = size === this.#buf.length ? this.#buf : new Uint8Array(size);
      if (next === this.#buf) next.copyWithin(0, this.#start, this.#end);
      else next.set(this.#buf.subarray(this.#start, this.#end), 0);
      this.#buf = next;
      this.#base += this.#start;
      this.#end = live;
      this.#start = 0;
      this.#crcPos = 0;
    }
    return this.#buf.subarray(this.#end);
  }

  /** Adds the first n bytes of the last writable() region to the stream. */
  commit(n: number): void {
    this.#end += n;
  }

  /** Appends bytes (copied). */
  push(bytes: Uint8Array): void {
    this.writable(bytes.length).set(bytes);
    this.commit(bytes.length);
  }

  /** True when the last received bytes equal `tail` (held back from parsing). */
  endsWith(tail: Uint8Array): boolean {
    const from = this.#end - tail.length;
    if (from < this.#start) return false;
    for (let i = 0; i < tail.length; i++) if (this.#buf[from + i] !== tail[i]) return false;
    return true;
  }

  /** The stream is complete; its last `trailing` bytes are not part of the RDB. */
  finish(trailing = 0): void {
    this.#end -= trailing;
    this.holdBack = 0;
    this.#ended = true;
  }

  /** True when step() cannot progress before more bytes arrive. */
  get needsInput(): boolean {
    if (this.#ended) return false;
    const limit = this.#end - this.holdBack;
    return limit <= this.#start || this.#base + limit < this.#retryAt;
  }

  #feedCrc(): void {
    if (this.#crc !== null && this.#crcPos < this.#start) {
      this.#crc.update(this.#buf.subarray(this.#crcPos, this.#start));
    }
    this.#crcPos = this.#start;
  }

  /**
   * Parses for about `budgetMs`: the result once the RDB is complete, or null (more
   * bytes needed, see needsInput, or the time is up). Throws RdbError on a corrupt
   * payload, or a truncated one after finish().
   */
  step(budgetMs: number): LoadResult | null {
    if (this.needsInput) return null;
    const limit = this.#ended ? this.#end : this.#end - this.holdBack;
    const d = new RdbDecoder(this.#buf.subarray(0, limit), this.#start);
    d.partial = !this.#ended;
    let record = d.pos;
    try {
      if (this.#phase === Phase.Header) {
        this.#header(d);
        record = d.pos;
      }
      if (this.#phase === Phase.Records) {
        this.#records(d, budgetMs, () => record = d.pos);
        record = d.pos;
      }
      if (this.#phase === Phase.Checksum) {
        this.#start = record;
        this.#feedCrc();
        this.#checksum(d);
        record = d.pos;
      }
    } catch (e) {
      if (e !== NEED_MORE) throw e;
      const avail = limit - record;
      this.#retryAt = this.#base + record + Math.max(2 * avail, d.wanted - record);
      d.pos = record;
    }
    this.#start = record;
    if (this.#phase !== Phase.Done) {
      this.#feedCrc();
      return null;
    }
    this.#result.bytesRead = this.#base + record;
    return this.#result;
  }

  #header(d: RdbDecoder): void {
    const bytes = d.buf;
    if (bytes.length < 9) {
      if (d.partial) {
        d.wanted = 9;
        throw NEED_MORE;
      }
      throw new RdbError("Wrong signature trying to load DB from file");
    }
    if (bytesToBinary(bytes, 0, 5) !== "REDIS") {
      throw new RdbError("Wrong signature trying to load DB from file");
    }
    const version = Number(bytesToBinary(bytes, 5, 9));
    if (!Number.isInteger(version) || version < 1 || version > RDB_MAX_READ_VERSION) {
      throw new RdbError(`Can't handle RDB format version ${bytesToBinary(bytes, 5, 9)}`);
    }
    this.#result.version = version;
    d.pos = 9;
    this.#phase = Phase.Records;
  }

  /** key-load-delay owed but not slept yet (µs) */
  #owedDelayUs = 0;

  #keyDelay(us: number): void {
    this.#owedDelayUs += us > 0 ? us : Math.random() * -us < 1 ? 1 : 0;
    if (this.#owedDelayUs < 1000) return;
    const ms = Math.floor(this.#owedDelayUs / 1000);
    this.#owedDelayUs -= ms * 1000;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  }

  /** Parses records up to EOF or the time budget; `done` marks each completed record. */
  #records(d: RdbDecoder, budgetMs: number, done: () => void): void {
    const server = this.#server;
    const result = this.#result;
    const dbs = this.#dbs;
    const emptyAtStart = this.#emptyAtStart;
    const skipExpired = this.#skipExpired;
    const now = this.#now;
    let db = this.#db;
    let expireAt = this.#expireAt;
    let idle = this.#idle;
    let freq = this.#freq;
    const sliceStart = performance.now();
    // key-load-delay (µs per key, a test aid to make loads slow; negative: sleep 1 µs
    // with probability 1/-n), slept in whole milliseconds as it adds up
    const keyDelayUs = server.config.num("key-load-delay");
    // every key gets the same creation time without a clock read per key
    server.cachedNow = now;
    server.executing++;
    try {
      for (;;) {
        const type = d.byte();
        switch (type) {
          case OP.EXPIRETIME:
            expireAt = d.seconds() * 1000;
            break;
          case OP.EXPIRETIME_MS:
            expireAt = d.millis();
            break;
          case OP.FREQ:
            freq = d.byte();
            break;
          case OP.IDLE:
            idle = d.len();
            break;
          case OP.EOF:
            this.#phase = this.#result.version >= 5 ? Phase.Checksum : Phase.Done;
            return;
          case OP.SELECTDB: {
            const id = d.len();
            if (id >= dbs.length) {
              throw new RdbError(
                `FATAL: Data file was created with a Redis server configured to handle more than ${dbs.length} databases. Exiting`,
              );
            }
            db = dbs[id];
            break;
          }
          case OP.RESIZEDB:
            d.len();
            d.len();
            break;
          case OP.AUX: {
            const k = d.string();
            const v = d.string();
            result.aux.set(k, v);
            if (k === "repl-id") result.replid = v;
            else if (k === "repl-offset") result.offset = Number(v);
            else if (k === "repl-stream-db") result.replStreamDb = Number(v);
            else if (k === "aof-base" || k === "aof-preamble") result.aofBase = v !== "0";
            break;
          }
          case OP.MODULE_AUX: {
            const id = d.lenBig();
            const whenOp = d.len();
            d.len(); // when
            if (whenOp !== 2) throw new RdbError("bad when_opcode in module aux data");
            skipModuleOpcodes(d);
            server.log("warning", `Skipping module aux data of unknown module '${moduleName(id)}'`);
            break;
          }
          case OP.FUNCTION2: {
            const code = d.string();
            if (this.functions !== null) this.functions.push(code);
            else {
              const err = rdbFunctions.load(server, code, this.#allowDuplicates);
              if (err !== null) throw new RdbError(`Failed loading library: ${err}`);
            }
            break;
          }
          case OP.FUNCTION_PRE_GA:
            throw new RdbError("Pre-release function format not supported");
          default: {
            const key = d.string();
            const value = type === T.STRING ? d.string() : materialize(server, readValue(d, type));
            const at = expireAt;
            expireAt = 0;
            if (value === null) {
              server.log("warning", `rdbLoadObject skipping empty key: ${key}`);
              idle = freq = -1;
              break;
            }
            if (skipExpired && at !== 0 && at < now) {
              result.expiredSkipped++;
              // a primary restarting with a backlog tells its replicas (Redis: RDBFLAGS_FEED_REPL)
              if (server.sinks.length > 0) {
                server.alsoPropagate(db.id, ["DEL", key]);
                server.flushPropagation();
              }
              idle = freq = -1;
              break;
            }
            // a database empty when the load began cannot hold the key yet (an RDB has no
            // duplicates): one hash lookup less per key
            const before = db.dict.size;
            const e = emptyAtStart[db.id] === true || db.dict.get(key) === undefined
              ? db.add(key, value)
              : db.set(key, value);
            if (db.dict.size === before && emptyAtStart[db.id] === true) {
              throw new RdbError(`RDB has duplicated key '${key}' in DB ${db.id}`);
            }
            if (at !== 0) db.setExpire(key, e, at);
            if (idle >= 0) e.lru = Math.floor(now / 1000) - idle;
            if (freq >= 0) e.freq = freq;
            idle = freq = -1;
            result.keys++;
            if (keyDelayUs !== 0) this.#keyDelay(keyDelayUs);
            if ((result.keys & 255) === 0 && performance.now() - sliceStart > budgetMs) {
              done();
              return;
            }
            break;
          }
        }
        done();
      }
    } finally {
      server.executing--;
      this.#db = db;
      this.#expireAt = expireAt;
      this.#idle = idle;
      this.#freq = freq;
    }
  }

  #checksum(d: RdbDecoder): void {
    const expected = d.raw(8);
    const crc = this.#crc;
    if (crc !== null && expected.some((b) => b !== 0)) {
      const got = crc.digestBytes();
      if (got.some((b, i) => b !== expected[i])) {
        this.#server.log(
          "warning",
          `Wrong RDB checksum expected: (${hex(got)}) got (${hex(expected)}). Aborting now.`,
        );
        throw new RdbError(
          `Internal error in RDB reading offset 0, function at rdb.c:0 -> RDB CRC error`,
        );
      }
    }
    this.#phase = Phase.Done;
  }
}

/**
 * Loads an RDB image into server.dbs (the caller empties them first when needed).
 * Throws RdbError with a clear message on a truncated or corrupt file or a checksum
 * mismatch; keys read before the error stay loaded (the caller decides what to do).
 */
export function loadRdb(server: Server, bytes: Uint8Array, opts: LoadOptions = {}): LoadResult {
  const steps = loadRdbSteps(server, bytes, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * Like loadRdb, yielding to the event loop every ~50 ms so that clients connected
 * meanwhile get LOADING replies (server.loading is set) instead of waiting.
 */
export async function loadRdbAsync(
  server: Server,
  bytes: Uint8Array,
  opts: LoadOptions = {},
): Promise<LoadResult> {
  const steps = loadRdbSteps(server, bytes, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** The load, as steps: it yields (nothing) between slices of ~50 ms of work. */
export function* loadRdbSteps(
  server: Server,
  bytes: Uint8Array,
  opts: LoadOptions,
): Generator<void, LoadResult, void> {
  const loader = RdbLoader.ofBytes(server, bytes, opts);
  for (;;) {
    const r = loader.step(LOAD_SLICE_MS);
    if (r !== null) return r;
    yield;
  }
}

function hex(b: Uint8Array): string {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v.toString(16);
}

/**
 * Decodes a DUMP payload (type, value, version, CRC64) into a loaded value; null when
 * the version or checksum is wrong.
 */
export function parseDumpPayload(payload: Uint8Array, skipChecksum = false): LoadedValue | null {
  if (payload.length < 10) return null;
  const footer = payload.length - 10;
  const version = payload[footer] | (payload[footer + 1] << 8);
  if (version > RDB_MAX_READ_VERSION) return null;
  if (!skipChecksum) {
    const crc = new Crc64();
    crc.update(payload.subarray(0, footer + 2));
    const got = crc.digestBytes();
    const expected = payload.subarray(footer + 2);
    if (got.some((b, i) => b !== expected[i])) return null;
  }
  const d = new RdbDecoder(payload.subarray(0, footer));
  const type = d.byte();
  const v = readValue(d, type);
  if (d.pos !== footer) throw new RdbError("Bad data format");
  checkDuplicates(v);
  return v;
}

/** Redis refuses duplicate set members, hash fields and zset members in a payload. */
function checkDuplicates(v: LoadedValue): void {
  let names: string[] | null = null;
  if (v.kind === "set") names = v.members;
  else if (v.kind === "hash" || v.kind === "zset") names = v.entries.map((e) => e[0]);
  if (names !== null && new Set(names).size !== names.length) {
    throw new RdbError(`Corrupt ${v.kind}: duplicate records, integrity check failed`);
  }
}
