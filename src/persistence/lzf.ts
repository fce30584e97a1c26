/**
 * LZF compression (liblzf, the format Redis uses for compressed RDB strings).
 *
 * Stream format: a control byte `ctrl`; if ctrl < 32 it is followed by ctrl+1 literal
 * bytes; otherwise it is a back reference of length (ctrl >> 5) + 2 (7 meaning "add the
 * next byte") at distance ((ctrl & 0x1f) << 8 | next byte) + 1.
 */

const HLOG = 14;
const HSIZE = 1 << HLOG;
const MAX_LIT = 32;
const MAX_OFF = 1 << 13;
const MAX_LEN = 264; // (7 + 255) + 2

/**
 * Positions of 3-byte sequences, stored as `position + base`: each call takes a fresh
 * base, so entries of earlier calls (< base) read as empty without clearing the table.
 */
const htab = new Int32Array(HSIZE);
let base = 0;

/**
 * Compresses `input` into at most `maxOut` bytes (greedy matching on a 3-byte hash, as
 * liblzf). Returns the compressed bytes, or null when they would not fit (the caller
 * then stores the data uncompressed, as Redis does).
 */
export function lzfCompress(input: Uint8Array, maxOut: number): Uint8Array | null {
  const n = input.length;
  if (n < 4 || maxOut <= 0) return null;
  const out = new Uint8Array(maxOut + MAX_LIT + 4);
  if (base + n + 1 >= 0x7fffffff) {
    htab.fill(0);
    base = 0;
  }
  base += 1;
  const start = base;
  base += n;
  let op = 0;
  let litStart = -1; // position of the open literal run's control byte
  let lit = 0;
  let ip = 0;
  while (ip < n) {
    if (op > maxOut) return null;
    if (ip + 2 < n) {
      const h = ((input[ip] << 16 | input[ip + 1] << 8 | input[ip + 2]) * 2654435761 >>> 0) >>>
        (32 - HLOG);
      const stored = htab[h];
      htab[h] = ip + start;
      const ref = stored >= start ? stored - start : -1;
      if (
        ref >= 0 && ip - ref - 1 < MAX_OFF && input[ref] === input[ip] &&
        input[ref + 1] === input[ip + 1] && input[ref + 2] === input[ip + 2]
      ) {
        let len = 3;
        const maxlen = Math.min(n - ip, MAX_LEN);
        while (len < maxlen && input[ref + len] === input[ip + len]) len++;
        if (lit > 0) {
          out[litStart] = lit - 1;
          lit = 0;
        }
        const off = ip - ref - 1;
        const l = len - 2;
        if (l < 7) {
          out[op++] = (l << 5) | (off >>> 8);
        } else {
          out[op++] = (7 << 5) | (off >>> 8);
          out[op++] = l - 7;
        }
        out[op++] = off & 0xff;
        ip += len;
        continue;
      }
    }
    if (lit === 0) litStart = op++;
    out[op++] = input[ip++];
    if (++lit === MAX_LIT) {
      out[litStart] = lit - 1;
      lit = 0;
    }
  }
  if (lit > 0) out[litStart] = lit - 1;
  if (op > maxOut) return null;
  return out.subarray(0, op);
}

/** Decompresses an LZF stream into exactly `outLen` bytes; throws on corrupt input. */
export function lzfDecompress(input: Uint8Array, outLen: number): Uint8Array {
  const out = new Uint8Array(outLen);
  let ip = 0;
  let op = 0;
  const inLen = input.length;
  while (ip < inLen) {
    let ctrl = input[ip++];
    if (ctrl < 32) {
      ctrl++;
      if (op + ctrl > outLen || ip + ctrl > inLen) throw new Error("LZF: corrupt literal run");
      out.set(input.subarray(ip, ip + ctrl), op);
      op += ctrl;
      ip += ctrl;
    } else {
      let len = ctrl >>> 5;
      let ref = op - ((ctrl & 0x1f) << 8) - 1;
      if (len === 7) {
        if (ip >= inLen) throw new Error("LZF: truncated back reference");
        len += input[ip++];
      }
      if (ip >= inLen) throw new Error("LZF: truncated back reference");
      ref -= input[ip++];
      len += 2;
      if (op + len > outLen || ref < 0) throw new Error("LZF: corrupt back reference");
      for (let i = 0; i < len; i++) out[op++] = out[ref++];
    }
  }
  if (op !== outLen) throw new Error("LZF: decompressed length mismatch");
  return out;
}
