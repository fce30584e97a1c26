/**
 * Listpack (Redis 7 compact encoding) encoder and decoder. Elements are binary strings;
 * canonical integers are stored in integer form, as Redis does.
 *
 * Layout: total bytes (u32 LE), element count (u16 LE, 65535 = unknown), entries,
 * 0xFF. Each entry: encoding+data, then its length as a reversed varint ("backlen").
 */
import { parseInteger, writeBinary } from "../resp/bytes.ts";

/** Thrown when compact-encoded data is malformed. */
export class CompactFormatError extends Error {}

/** Builds one listpack. */
export class ListpackBuilder {
  #buf = new Uint8Array(256);
  #pos = 6;
  #count = 0;

  /** Number of elements appended. */
  get count(): number {
    return this.#count;
  }

  /** Bytes used so far (an estimate of the final size). */
  get byteSize(): number {
    return this.#pos + 1;
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
  }

  /** Appends an element, integer-encoded when it is a canonical int64. */
  append(s: string): void {
    const v = s.length <= 20 ? parseInteger(s) : null;
    if (v !== null && Number.isSafeInteger(v)) this.appendInt(v);
    else if (v !== null) this.#appendInt64(BigInt(s));
    else this.appendString(s);
  }

  /** Appends a safe integer. */
  appendInt(v: number): void {
    this.#ensure(16);
    const buf = this.#buf;
    const start = this.#pos;
    let p = start;
    if (v >= 0 && v <= 127) {
      buf[p++] = v;
    } else if (v >= -4096 && v <= 4095) {
      const u = v < 0 ? v + 8192 : v;
      buf[p++] = 0xc0 | (u >> 8);
      buf[p++] = u & 0xff;
    } else if (v >= -32768 && v <= 32767) {
      buf[p++] = 0xf1;
      buf[p++] = v & 0xff;
      buf[p++] = (v >> 8) & 0xff;
    } else if (v >= -8388608 && v <= 8388607) {
      buf[p++] = 0xf2;
      buf[p++] = v & 0xff;
      buf[p++] = (v >> 8) & 0xff;
      buf[p++] = (v >> 16) & 0xff;
    } else if (v >= -2147483648 && v <= 2147483647) {
      buf[p++] = 0xf3;
      new DataView(buf.buffer).setInt32(p, v, true);
      p += 4;
    } else {
      buf[p++] = 0xf4;
      new DataView(buf.buffer).setBigInt64(p, BigInt(v), true);
      p += 8;
    }
    this.#pos = p;
    this.#backlen(p - start);
  }

  #appendInt64(v: bigint): void {
    this.#ensure(16);
    const start = this.#pos;
    this.#buf[this.#pos++] = 0xf4;
    new DataView(this.#buf.buffer).setBigInt64(this.#pos, v, true);
    this.#pos += 8;
    this.#backlen(this.#pos - start);
  }

  /** Appends a string element (never integer-encoded). */
  appendString(s: string): void {
    const n = s.length;
    this.#ensure(n + 16);
    const buf = this.#buf;
    const start = this.#pos;
    let p = start;
    if (n < 64) {
      buf[p++] = 0x80 | n;
    } else if (n < 4096) {
      buf[p++] = 0xe0 | (n >> 8);
      buf[p++] = n & 0xff;
    } else {
      buf[p++] = 0xf0;
      new DataView(buf.buffer).setUint32(p, n, true);
      p += 4;
    }
    p += writeBinary(buf, p, s);
    this.#pos = p;
    this.#backlen(p - start);
  }

  #backlen(l: number): void {
    const buf = this.#buf;
    let p = this.#pos;
    if (l <= 127) {
      buf[p++] = l;
    } else if (l < 16383) {
      buf[p++] = l >> 7;
      buf[p++] = (l & 127) | 128;
    } else if (l < 2097151) {
      buf[p++] = l >> 14;
      buf[p++] = ((l >> 7) & 127) | 128;
      buf[p++] = (l & 127) | 128;
    } else if (l < 268435455) {
      buf[p++] = l >> 21;
      buf[p++] = ((l >> 14) & 127) | 128;
      buf[p++] = ((l >> 7) & 127) | 128;
      buf[p++] = (l & 127) | 128;
    } else {
      buf[p++] = Math.floor(l / 268435456);
      buf[p++] = ((l >> 21) & 127) | 128;
      buf[p++] = ((l >> 14) & 127) | 128;
      buf[p++] = ((l >> 7) & 127) | 128;
      buf[p++] = (l & 127) | 128;
    }
    this.#pos = p;
    this.#count++;
  }

  /** The finished listpack bytes. */
  finish(): Uint8Array {
    this.#ensure(1);
    this.#buf[this.#pos++] = 0xff;
    const out = this.#buf.subarray(0, this.#pos);
    const v = new DataView(out.buffer, out.byteOffset);
    v.setUint32(0, this.#pos, true);
    v.setUint16(4, this.#count > 65535 ? 65535 : this.#count, true);
    return out;
  }
}

/** Encodes elements as one listpack. */
export function encodeListpack(items: Iterable<string>): Uint8Array {
  const b = new ListpackBuilder();
  for (const s of items) b.append(s);
  return b.finish();
}

/** Decodes a listpack into its elements (integers as decimal strings). */
export function decodeListpack(lp: Uint8Array): string[] {
  if (lp.length < 7) throw new CompactFormatError("listpack too short");
  const v = new DataView(lp.buffer, lp.byteOffset, lp.byteLength);
  const total = v.getUint32(0, true);
  if (total !== lp.length) throw new CompactFormatError("listpack size mismatch");
  const out: string[] = [];
  let p = 6;
  const end = total - 1;
  while (p < end) {
    const b = lp[p];
    const start = p;
    if (b < 0x80) {
      out.push(String(b));
      p += 1;
    } else if (b < 0xc0) {
      const n = b & 0x3f;
      out.push(latin1(lp, p + 1, p + 1 + n));
      p += 1 + n;
    } else if (b < 0xe0) {
      let u = ((b & 0x1f) << 8) | lp[p + 1];
      if (u >= 4096) u -= 8192;
      out.push(String(u));
      p += 2;
    } else if (b < 0xf0) {
      const n = ((b & 0x0f) << 8) | lp[p + 1];
      out.push(latin1(lp, p + 2, p + 2 + n));
      p += 2 + n;
    } else if (b === 0xf0) {
      const n = v.getUint32(p + 1, true);
      out.push(latin1(lp, p + 5, p + 5 + n));
      p += 5 + n;
    } else if (b === 0xf1) {
      out.push(String(v.getInt16(p + 1, true)));
      p += 3;
    } else if (b === 0xf2) {
      let u = lp[p + 1] | (lp[p + 2] << 8) | (lp[p + 3] << 16);
      if (u >= 0x800000) u -= 0x1000000;
      out.push(String(u));
      p += 4;
    } else if (b === 0xf3) {
      out.push(String(v.getInt32(p + 1, true)));
      p += 5;
    } else if (b === 0xf4) {
      out.push(String(v.getBigInt64(p + 1, true)));
      p += 9;
    } else {
      throw new CompactFormatError(`bad listpack entry encoding 0x${b.toString(16)}`);
    }
    const l = p - start;
    p += l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
    if (p > end) throw new CompactFormatError("listpack entry overflows");
  }
  if (lp[end] !== 0xff) throw new CompactFormatError("listpack terminator missing");
  return out;
}

/** Bytes [start, end) as a binary string. */
export function latin1(b: Uint8Array, start: number, end: number): string {
  if (end > b.length) throw new CompactFormatError("entry overflows its container");
  let s = "";
  if (end - start < 64) {
    for (let i = start; i < end; i++) s += String.fromCharCode(b[i]);
    return s;
  }
  const CH = 8192;
  for (let i = start; i < end; i += CH) {
    s += String.fromCharCode.apply(
      null,
      b.subarray(i, Math.min(end, i + CH)) as unknown as number[],
    );
  }
  return s;
}
