/**
 * Redis's CRC-64 (Jones polynomial 0xad93d23594c935a9, reflected input and output,
 * initial value 0, no final xor): the checksum at the end of RDB files and DUMP
 * payloads. crc64("123456789") = 0xe9c6d914c4b8d9ca.
 *
 * The 64-bit state is kept as two 32-bit halves so no BigInt is needed per byte;
 * slicing-by-8 tables keep it fast enough for whole-dataset files.
 */

const TABLES = 8;
const lo = new Uint32Array(256 * TABLES);
const hi = new Uint32Array(256 * TABLES);

(function buildTables() {
  // reflected polynomial 0x95ac9329ac4bc9b5
  const polyHi = 0x95ac9329;
  const polyLo = 0xac4bc9b5;
  for (let n = 0; n < 256; n++) {
    let cl = n;
    let ch = 0;
    for (let k = 0; k < 8; k++) {
      const bit = cl & 1;
      cl = ((cl >>> 1) | (ch << 31)) >>> 0;
      ch = ch >>> 1;
      if (bit) {
        cl = (cl ^ polyLo) >>> 0;
        ch = (ch ^ polyHi) >>> 0;
      }
    }
    lo[n] = cl;
    hi[n] = ch;
  }
  for (let t = 1; t < TABLES; t++) {
    for (let n = 0; n < 256; n++) {
      const pl = lo[(t - 1) * 256 + n];
      const ph = hi[(t - 1) * 256 + n];
      const idx = pl & 0xff;
      lo[t * 256 + n] = (((pl >>> 8) | (ph << 24)) ^ lo[idx]) >>> 0;
      hi[t * 256 + n] = ((ph >>> 8) ^ hi[idx]) >>> 0;
    }
  }
})();

/** An incremental CRC-64 (Redis's flavour). */
export class Crc64 {
  #lo = 0;
  #hi = 0;

  /** Feeds bytes. */
  update(data: Uint8Array): void {
    let cl = this.#lo;
    let ch = this.#hi;
    const n = data.length;
    let i = 0;
    for (; i + 8 <= n; i += 8) {
      const a = cl ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
      const b = ch ^
        (data[i + 4] | (data[i + 5] << 8) | (data[i + 6] << 16) | (data[i + 7] << 24));
      cl = (lo[1792 + (a & 0xff)] ^ lo[1536 + ((a >>> 8) & 0xff)] ^
        lo[1280 + ((a >>> 16) & 0xff)] ^ lo[1024 + (a >>> 24)] ^
        lo[768 + (b & 0xff)] ^ lo[512 + ((b >>> 8) & 0xff)] ^
        lo[256 + ((b >>> 16) & 0xff)] ^ lo[b >>> 24]) >>> 0;
      ch = (hi[1792 + (a & 0xff)] ^ hi[1536 + ((a >>> 8) & 0xff)] ^
        hi[1280 + ((a >>> 16) & 0xff)] ^ hi[1024 + (a >>> 24)] ^
        hi[768 + (b & 0xff)] ^ hi[512 + ((b >>> 8) & 0xff)] ^
        hi[256 + ((b >>> 16) & 0xff)] ^ hi[b >>> 24]) >>> 0;
    }
    for (; i + 4 <= n; i += 4) {
      cl ^= data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
      const l = lo[768 + (cl & 0xff)] ^ lo[512 + ((cl >>> 8) & 0xff)] ^
        lo[256 + ((cl >>> 16) & 0xff)] ^ lo[cl >>> 24];
      const h = hi[768 + (cl & 0xff)] ^ hi[512 + ((cl >>> 8) & 0xff)] ^
        hi[256 + ((cl >>> 16) & 0xff)] ^ hi[cl >>> 24];
      cl = (l ^ ch) >>> 0;
      ch = h >>> 0;
    }
    for (; i < n; i++) {
      const idx = (cl ^ data[i]) & 0xff;
      cl = (((cl >>> 8) | (ch << 24)) ^ lo[idx]) >>> 0;
      ch = ((ch >>> 8) ^ hi[idx]) >>> 0;
    }
    this.#lo = cl >>> 0;
    this.#hi = ch >>> 0;
  }

  /** The checksum as 8 little-endian bytes (how RDB and DUMP store it). */
  digestBytes(): Uint8Array {
    const out = new Uint8Array(8);
    const v = new DataView(out.buffer);
    v.setUint32(0, this.#lo, true);
    v.setUint32(4, this.#hi, true);
    return out;
  }

  /** The checksum as a BigInt. */
  digest(): bigint {
    return (BigInt(this.#hi) << 32n) | BigInt(this.#lo);
  }
}

/** CRC-64 of a byte array, as 8 little-endian bytes. */
export function crc64Bytes(data: Uint8Array): Uint8Array {
  const c = new Crc64();
  c.update(data);
  return c.digestBytes();
}
