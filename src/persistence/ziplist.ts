/**
 * Decoders for the older compact encodings found in RDB files written by Redis 2.x-6.x:
 * ziplist, zipmap and intset. (Redeno never writes them.)
 */
import { CompactFormatError, latin1 } from "./listpack.ts";

/** Decodes a ziplist into its elements (integers as decimal strings). */
export function decodeZiplist(zl: Uint8Array): string[] {
  if (zl.length < 11) throw new CompactFormatError("ziplist too short");
  const v = new DataView(zl.buffer, zl.byteOffset, zl.byteLength);
  if (v.getUint32(0, true) !== zl.length) throw new CompactFormatError("ziplist size mismatch");
  const out: string[] = [];
  let p = 10;
  let prevStart = -1;
  let lastStart = 10;
  for (;;) {
    if (p >= zl.length) throw new CompactFormatError("ziplist terminator missing");
    if (zl[p] === 0xff) break;
    // Redis's deep checks: each prevlen is the previous entry's size
    const prevlen = zl[p] < 254 ? zl[p] : v.getUint32(p + 1, true);
    if (prevlen !== (prevStart < 0 ? 0 : p - prevStart)) {
      throw new CompactFormatError("ziplist prevlen mismatch");
    }
    prevStart = lastStart = p;
    p += zl[p] < 254 ? 1 : 5; // prevlen
    if (p >= zl.length) throw new CompactFormatError("ziplist entry out of range");
    const b = zl[p];
    const hi = b >> 6;
    if (hi === 0) {
      const n = b & 0x3f;
      out.push(latin1(zl, p + 1, p + 1 + n));
      p += 1 + n;
    } else if (hi === 1) {
      const n = ((b & 0x3f) << 8) | zl[p + 1];
      out.push(latin1(zl, p + 2, p + 2 + n));
      p += 2 + n;
    } else if (hi === 2) {
      const n = v.getUint32(p + 1, false);
      out.push(latin1(zl, p + 5, p + 5 + n));
      p += 5 + n;
    } else if (b === 0xc0) {
      out.push(String(v.getInt16(p + 1, true)));
      p += 3;
    } else if (b === 0xd0) {
      out.push(String(v.getInt32(p + 1, true)));
      p += 5;
    } else if (b === 0xe0) {
      out.push(String(v.getBigInt64(p + 1, true)));
      p += 9;
    } else if (b === 0xf0) {
      let u = zl[p + 1] | (zl[p + 2] << 8) | (zl[p + 3] << 16);
      if (u >= 0x800000) u -= 0x1000000;
      out.push(String(u));
      p += 4;
    } else if (b === 0xfe) {
      out.push(String(v.getInt8(p + 1)));
      p += 2;
    } else if (b >= 0xf1 && b <= 0xfd) {
      out.push(String((b & 0x0f) - 1));
      p += 1;
    } else {
      throw new CompactFormatError(`bad ziplist entry encoding 0x${b.toString(16)}`);
    }
    if (p > zl.length - 1) throw new CompactFormatError("ziplist entry out of range");
  }
  if (p !== zl.length - 1) throw new CompactFormatError("ziplist terminator misplaced");
  const count = v.getUint16(8, true);
  if (count !== 0xffff && count !== out.length) {
    throw new CompactFormatError("ziplist count mismatch");
  }
  if (out.length > 0 && v.getUint32(4, true) !== lastStart) {
    throw new CompactFormatError("ziplist tail offset mismatch");
  }
  return out;
}

/** Decodes a zipmap (Redis < 2.6 small hashes) into field/value pairs. */
export function decodeZipmap(zm: Uint8Array): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const v = new DataView(zm.buffer, zm.byteOffset, zm.byteLength);
  let p = 1;
  const readLen = (): number => {
    const b = zm[p];
    if (b === undefined) throw new CompactFormatError("zipmap truncated");
    if (b < 254) {
      p += 1;
      return b;
    }
    if (b === 254) {
      const n = v.getUint32(p + 1, true);
      p += 5;
      return n;
    }
    return -1; // 255: end
  };
  for (;;) {
    const klen = readLen();
    if (klen < 0) break;
    const key = latin1(zm, p, p + klen);
    p += klen;
    const vlen = readLen();
    if (vlen < 0) throw new CompactFormatError("zipmap value missing");
    const free = zm[p++];
    const value = latin1(zm, p, p + vlen);
    p += vlen + free;
    out.push([key, value]);
  }
  return out;
}

/** Decodes an intset into its members as decimal strings. */
export function decodeIntset(is: Uint8Array): string[] {
  if (is.length < 8) throw new CompactFormatError("intset too short");
  const v = new DataView(is.buffer, is.byteOffset, is.byteLength);
  const enc = v.getUint32(0, true);
  const n = v.getUint32(4, true);
  if ((enc !== 2 && enc !== 4 && enc !== 8) || 8 + n * enc !== is.length) {
    throw new CompactFormatError("intset size mismatch");
  }
  const out: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const at = 8 + i * enc;
    out[i] = enc === 2
      ? String(v.getInt16(at, true))
      : enc === 4
      ? String(v.getInt32(at, true))
      : String(v.getBigInt64(at, true));
  }
  return out;
}
