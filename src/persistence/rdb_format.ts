/**
 * RDB format constants and the byte-level encoder (Redis: rdb.h, rdb.c's rdbSave*
 * primitives): length encoding, string encodings (raw, integer, LZF), doubles, times.
 */
import { parseInteger, writeBinary } from "../resp/bytes.ts";
import { lzfCompress } from "./lzf.ts";
import type { Server } from "../server.ts";

/** RDB version Redeno writes (Redis 7.0). */
export const RDB_VERSION = 10;
/** Newest RDB version Redeno reads (Redis 7.4). */
export const RDB_MAX_READ_VERSION = 12;

/** Object types. */
export const T = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  MODULE_PRE_GA: 6,
  MODULE_2: 7,
  HASH_ZIPMAP: 9,
  LIST_ZIPLIST: 10,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: 19,
  SET_LISTPACK: 20,
  STREAM_LISTPACKS_3: 21,
} as const;

/** Opcodes. */
export const OP = {
  FUNCTION2: 245,
  FUNCTION_PRE_GA: 246,
  MODULE_AUX: 247,
  IDLE: 248,
  FREQ: 249,
  AUX: 250,
  RESIZEDB: 251,
  EXPIRETIME_MS: 252,
  EXPIRETIME: 253,
  SELECTDB: 254,
  EOF: 255,
} as const;

/** quicklist 2 node containers */
export const QUICKLIST_NODE_PLAIN = 1;
export const QUICKLIST_NODE_PACKED = 2;

/**
 * Function libraries in RDB files (RDB_OPCODE_FUNCTION2 records): the scripting
 * module's code list and loader, wired by installPersistence.
 */
export const rdbFunctions = {
  /** the code of every function library to save */
  codes: (_server: Server): string[] => [],
  /** loads one library's code (replacing one of the same name unless `replace` is false); null, or the error */
  load: (_server: Server, _code: string, _replace = true): string | null =>
    "functions are not supported",
};

/** `%.17g`, as Redis's rioWriteBulkDouble formats a score. */
export function formatG17(d: number): string {
  if (Number.isNaN(d)) return "nan";
  if (!Number.isFinite(d)) return d > 0 ? "inf" : "-inf";
  if (d === 0) return Object.is(d, -0) ? "-0" : "0";
  const exp = Number(d.toExponential(16).split("e")[1]);
  const strip = (s: string) => s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
  if (exp < -4 || exp >= 17) {
    const [m, e] = d.toExponential(16).split("e");
    const n = Math.abs(Number(e));
    return `${strip(m)}e${Number(e) < 0 ? "-" : "+"}${n < 10 ? "0" : ""}${n}`;
  }
  return strip(d.toFixed(16 - exp));
}

/** A malformed or truncated RDB payload. */
export class RdbError extends Error {}

const MIN_CHUNK = 64 * 1024;

/** Appends RDB primitives to a growable byte buffer. */
export class RdbEncoder {
  buf: Uint8Array;
  pos = 0;
  #view: DataView;
  /** compress strings longer than 20 bytes with LZF (rdbcompression) */
  compress: boolean;

  constructor(compress = true, size = MIN_CHUNK) {
    this.buf = new Uint8Array(size);
    this.#view = new DataView(this.buf.buffer);
    this.compress = compress;
  }

  /** Makes room for n more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.#view = new DataView(next.buffer);
  }

  /** Hands out the bytes written so far and starts a fresh buffer. */
  take(): Uint8Array {
    const out = this.buf.subarray(0, this.pos);
    this.buf = new Uint8Array(Math.max(MIN_CHUNK, this.pos < MIN_CHUNK ? MIN_CHUNK : this.pos));
    this.#view = new DataView(this.buf.buffer);
    this.pos = 0;
    return out;
  }

  /** The bytes written so far (a view; valid until the next write). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A length (6, 14, 32 or 64 bit form). */
  len(n: number): void {
    this.ensure(9);
    if (n < 64) {
      this.buf[this.pos++] = n;
    } else if (n < 16384) {
      this.buf[this.pos++] = 0x40 | (n >> 8);
      this.buf[this.pos++] = n & 0xff;
    } else if (n <= 0xffffffff) {
      this.buf[this.pos++] = 0x80;
      this.#view.setUint32(this.pos, n, false);
      this.pos += 4;
    } else {
      this.buf[this.pos++] = 0x81;
      this.#view.setBigUint64(this.pos, BigInt(n), false);
      this.pos += 8;
    }
  }

  /** A 64-bit length given as a BigInt (stream ids). */
  lenBig(n: bigint): void {
    if (n <= 0xffffffffn) return this.len(Number(n));
    this.ensure(9);
    this.buf[this.pos++] = 0x81;
    this.#view.setBigUint64(this.pos, n, false);
    this.pos += 8;
  }

  /** A string: integer-encoded when possible, LZF-compressed when long, else raw. */
  string(s: string): void {
    const n = s.length;
    if (n <= 11 && n > 0) {
      const v = parseInteger(s);
      if (v !== null && v >= -2147483648 && v <= 2147483647) return this.#int(v);
    }
    if (this.compress && n > 20) {
      const raw = new Uint8Array(n);
      writeBinary(raw, 0, s);
      if (this.#lzf(raw)) return;
      this.len(n);
      this.bytes(raw);
      return;
    }
    this.len(n);
    this.ensure(n);
    this.pos += writeBinary(this.buf, this.pos, s);
  }

  /** A string given as bytes (listpacks, ziplists); compressed when long. */
  stringBytes(b: Uint8Array): void {
    if (this.compress && b.length > 20 && this.#lzf(b)) return;
    this.len(b.length);
    this.bytes(b);
  }

  #lzf(raw: Uint8Array): boolean {
    const c = lzfCompress(raw, raw.length - 4 - 1);
    if (c === null) return false;
    this.byte(0xc3);
    this.len(c.length);
    this.len(raw.length);
    this.bytes(c);
    return true;
  }

  #int(v: number): void {
    this.ensure(5);
    if (v >= -128 && v <= 127) {
      this.buf[this.pos++] = 0xc0;
      this.#view.setInt8(this.pos++, v);
    } else if (v >= -32768 && v <= 32767) {
      this.buf[this.pos++] = 0xc1;
      this.#view.setInt16(this.pos, v, true);
      this.pos += 2;
    } else {
      this.buf[this.pos++] = 0xc2;
      this.#view.setInt32(this.pos, v, true);
      this.pos += 4;
    }
  }

  /** A binary double (ZSET_2 scores). */
  doubleBin(d: number): void {
    this.ensure(8);
    this.#view.setFloat64(this.pos, d, true);
    this.pos += 8;
  }

  /** Unix ms, 8 bytes little endian. */
  millis(ms: number): void {
    this.ensure(8);
    this.#view.setBigInt64(this.pos, BigInt(ms), true);
    this.pos += 8;
  }

  /** An AUX field. */
  aux(key: string, value: string): void {
    this.byte(OP.AUX);
    this.string(key);
    this.string(value);
  }
}
