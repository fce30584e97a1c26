/**
 * HyperLogLog in Redis's own string format (Redis: hyperloglog.c), so values are
 * byte-compatible with Redis: a 16-byte header ("HYLL", encoding, 3 unused bytes,
 * 8-byte little-endian cached cardinality whose top bit marks it stale), then either
 * 16384 packed 6-bit registers (dense) or run-length opcodes (sparse: ZERO, XZERO,
 * VAL). Elements are hashed with MurmurHash64A like Redis; the estimate is Ertl's
 * improved estimator that Redis 7 uses.
 */

const P = 14;
/** Number of registers. */
export const HLL_REGISTERS = 1 << P;
const P_MASK = HLL_REGISTERS - 1;
const Q = 64 - P;
const BITS = 6;
const REGISTER_MAX = (1 << BITS) - 1;
/** Header size in bytes. */
export const HLL_HDR_SIZE = 16;
/** Size of a dense HLL string. */
export const HLL_DENSE_SIZE = HLL_HDR_SIZE + ((HLL_REGISTERS * BITS + 7) >> 3);
const DENSE = 0;
const SPARSE = 1;
const VAL_MAX_VALUE = 32;
const VAL_MAX_LEN = 4;
const ZERO_MAX_LEN = 64;
const XZERO_MAX_LEN = 16384;
const ALPHA_INF = 0.721347520444481703680;

/** Error reply for a corrupt HLL, as Redis words it. */
export const INVALID_HLL_ERR = "INVALIDOBJ Corrupted HLL object detected";
/** Error reply for a string that is not an HLL. */
export const NOT_HLL_ERR = "WRONGTYPE Key is not a valid HyperLogLog string value.";

// MurmurHash64A's multiplier, as two 32-bit halves: 64-bit arithmetic is done on
// (hi, lo) pairs of uint32 because BigInt is an order of magnitude slower
const M_HI = 0xc6a4a793;
const M_LO = 0x5bd1e995;
let hashHi = 0;
let hashLo = 0;

/** High 32 bits of the unsigned 64-bit product of two uint32. */
function mulHigh32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const t0 = a0 * b0;
  const t1 = a1 * b0 + (t0 >>> 16);
  const t2 = a0 * b1 + (t1 & 0xffff);
  return (a1 * b1 + (t1 >>> 16) + (t2 >>> 16)) >>> 0;
}

/** (hi, lo) * M mod 2^64, left in hashHi/hashLo. */
function mulM(hi: number, lo: number): void {
  hashHi = (mulHigh32(lo, M_LO) + Math.imul(hi, M_LO) + Math.imul(lo, M_HI)) >>> 0;
  hashLo = Math.imul(lo, M_LO) >>> 0;
}

/**
 * Redis's MurmurHash64A over the bytes of a binary string; the 64-bit result is left
 * in hashHi/hashLo.
 */
function murmur64(s: string, seed: number): void {
  const len = s.length;
  mulM(0, len);
  let h = hashHi;
  let l = (hashLo ^ seed) >>> 0;
  const blocks = len - (len & 7);
  for (let i = 0; i < blocks; i += 8) {
    const lo = (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) |
      (s.charCodeAt(i + 3) << 24)) >>> 0;
    const hi = (s.charCodeAt(i + 4) | (s.charCodeAt(i + 5) << 8) | (s.charCodeAt(i + 6) << 16) |
      (s.charCodeAt(i + 7) << 24)) >>> 0;
    mulM(hi, lo);
    let kh = hashHi;
    let kl = (hashLo ^ (kh >>> 15)) >>> 0;
    mulM(kh, kl);
    kh = hashHi;
    kl = hashLo;
    mulM((h ^ kh) >>> 0, (l ^ kl) >>> 0);
    h = hashHi;
    l = hashLo;
  }
  const rest = len & 7;
  if (rest > 0) {
    for (let j = rest - 1; j >= 0; j--) {
      const byte = s.charCodeAt(blocks + j);
      if (j >= 4) h = (h ^ (byte << (8 * (j - 4)))) >>> 0;
      else l = (l ^ (byte << (8 * j))) >>> 0;
    }
    mulM(h, l);
    h = hashHi;
    l = hashLo;
  }
  l = (l ^ (h >>> 15)) >>> 0;
  mulM(h, l);
  h = hashHi;
  l = (hashLo ^ (h >>> 15)) >>> 0;
  hashHi = h;
  hashLo = l;
}

/** Redis's MurmurHash64A over the bytes of a binary string. */
export function murmurHash64A(s: string, seed: number): bigint {
  murmur64(s, seed);
  return (BigInt(hashHi) << 32n) | BigInt(hashLo);
}

const ctz32 = (x: number) => 31 - Math.clz32(x & -x);

/** Register index and run length ("count") of an element (Redis's hllPatLen). */
export function patLen(ele: string): [number, number] {
  murmur64(ele, 0xadc83b19);
  const index = hashLo & P_MASK;
  // the hash shifted right by P, with bit Q set so the count stops at Q + 1
  const lo = ((hashLo >>> P) | (hashHi << (32 - P))) >>> 0;
  const hi = (hashHi >>> P) | (1 << (Q - 32));
  const count = lo !== 0 ? ctz32(lo) + 1 : 32 + ctz32(hi) + 1;
  return [index, count];
}

/** A new, empty HLL string's bytes (sparse: one XZERO covering every register). */
export function createHll(): Uint8Array {
  const b = new Uint8Array(HLL_HDR_SIZE + 2);
  b.set([72, 89, 76, 76]);
  b[4] = SPARSE;
  const len = XZERO_MAX_LEN - 1;
  b[16] = (len >> 8) | 0x40;
  b[17] = len & 0xff;
  return b;
}

/** True if bytes hold a well-formed header (Redis's isHLLObjectOrReply checks). */
export function isHll(b: Uint8Array): boolean {
  if (b.length < HLL_HDR_SIZE) return false;
  if (b[0] !== 72 || b[1] !== 89 || b[2] !== 76 || b[3] !== 76) return false;
  if (b[4] > SPARSE) return false;
  if (b[4] === DENSE && b.length !== HLL_DENSE_SIZE) return false;
  return true;
}

/** Marks the cached cardinality stale. */
export function invalidateCache(b: Uint8Array): void {
  b[15] |= 0x80;
}

/** Stores a cardinality in the cache (valid). */
export function setCachedCard(b: Uint8Array, card: number): void {
  let v = card;
  for (let i = 0; i < 8; i++) {
    b[8 + i] = v % 256;
    v = Math.floor(v / 256);
  }
}

function denseGet(b: Uint8Array, off: number, reg: number): number {
  const byte = off + ((reg * BITS) >> 3);
  const fb = (reg * BITS) & 7;
  const b0 = b[byte];
  const b1 = byte + 1 < b.length ? b[byte + 1] : 0;
  return ((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX;
}

function denseSetReg(b: Uint8Array, off: number, reg: number, val: number): void {
  const byte = off + ((reg * BITS) >> 3);
  const fb = (reg * BITS) & 7;
  const fb8 = 8 - fb;
  b[byte] &= ~(REGISTER_MAX << fb);
  b[byte] |= val << fb;
  if (byte + 1 < b.length) {
    b[byte + 1] &= ~(REGISTER_MAX >> fb8);
    b[byte + 1] |= val >> fb8;
  }
}

function denseSet(b: Uint8Array, index: number, count: number): boolean {
  if (count > denseGet(b, HLL_HDR_SIZE, index)) {
    denseSetReg(b, HLL_HDR_SIZE, index, count);
    return true;
  }
  return false;
}

const isZero = (op: number) => (op & 0xc0) === 0;
const isXZero = (op: number) => (op & 0xc0) === 0x40;
const zeroLen = (op: number) => (op & 0x3f) + 1;
const xzeroLen = (b: Uint8Array, p: number) => (((b[p] & 0x3f) << 8) | b[p + 1]) + 1;
const valValue = (op: number) => ((op >> 2) & 0x1f) + 1;
const valLen = (op: number) => (op & 0x3) + 1;
const valOp = (val: number, len: number) => (((val - 1) << 2) | (len - 1)) | 0x80;

/** Sparse → dense (Redis's hllSparseToDense); null when the sparse data is corrupt. */
export function sparseToDense(b: Uint8Array): Uint8Array | null {
  if (b[4] === DENSE) return b;
  const d = new Uint8Array(HLL_DENSE_SIZE);
  d.set(b.subarray(0, HLL_HDR_SIZE));
  d[4] = DENSE;
  let idx = 0;
  let p = HLL_HDR_SIZE;
  while (p < b.length) {
    const op = b[p];
    if (isZero(op)) {
      idx += zeroLen(op);
      p++;
    } else if (isXZero(op)) {
      idx += xzeroLen(b, p);
      p += 2;
    } else {
      const len = valLen(op);
      const val = valValue(op);
      if (idx + len > HLL_REGISTERS) break;
      for (let i = 0; i < len; i++) denseSetReg(d, HLL_HDR_SIZE, idx++, val);
      p++;
    }
  }
  return idx === HLL_REGISTERS ? d : null;
}

/** Result of an add: the (possibly reallocated) bytes and 1 updated / 0 not / -1 corrupt. */
export interface HllAddResult {
  bytes: Uint8Array;
  updated: 0 | 1 | -1;
}

/** Sets register `index` to `count` if greater (Redis's hllSparseSet / hllDenseSet). */
export function hllSet(
  b: Uint8Array,
  index: number,
  count: number,
  sparseMaxBytes: number,
): HllAddResult {
  if (b[4] === DENSE) return { bytes: b, updated: denseSet(b, index, count) ? 1 : 0 };
  if (count > VAL_MAX_VALUE) return promote(b, index, count);
  // find the opcode covering `index`
  let p = HLL_HDR_SIZE;
  let first = 0;
  let prev = -1;
  let span = 0;
  const end = b.length;
  while (p < end) {
    const op = b[p];
    let oplen = 1;
    if (isZero(op)) span = zeroLen(op);
    else if (isXZero(op)) {
      span = xzeroLen(b, p);
      oplen = 2;
    } else span = valLen(op);
    if (index <= first + span - 1) break;
    prev = p;
    p += oplen;
    first += span;
  }
  if (span === 0 || p >= end) return { bytes: b, updated: -1 };
  const op = b[p];
  const zero = isZero(op);
  const xzero = isXZero(op);
  const runlen = zero ? zeroLen(op) : xzero ? xzeroLen(b, p) : valLen(op);
  if (!zero && !xzero) {
    if (valValue(op) >= count) return { bytes: b, updated: 0 };
    if (runlen === 1) {
      b[p] = valOp(count, 1);
      return { bytes: merge(b, prev), updated: 1 };
    }
  }
  if (zero && runlen === 1) {
    b[p] = valOp(count, 1);
    return { bytes: merge(b, prev), updated: 1 };
  }
  // general case: split the opcode into up to three
  const seq: number[] = [];
  const last = first + span - 1;
  const zeros = (len: number) => {
    if (len > ZERO_MAX_LEN) seq.push(((len - 1) >> 8) | 0x40, (len - 1) & 0xff);
    else seq.push(len - 1);
  };
  if (zero || xzero) {
    if (index !== first) zeros(index - first);
    seq.push(valOp(count, 1));
    if (index !== last) zeros(last - index);
  } else {
    const cur = valValue(op);
    if (index !== first) seq.push(valOp(cur, index - first));
    seq.push(valOp(count, 1));
    if (index !== last) seq.push(valOp(cur, last - index));
  }
  const oldlen = xzero ? 2 : 1;
  const delta = seq.length - oldlen;
  if (delta !== 0 && b.length + delta > sparseMaxBytes) return promote(b, index, count);
  const out = new Uint8Array(b.length + delta);
  out.set(b.subarray(0, p));
  out.set(seq, p);
  out.set(b.subarray(p + oldlen), p + seq.length);
  return { bytes: merge(out, prev), updated: 1 };
}

function promote(b: Uint8Array, index: number, count: number): HllAddResult {
  const d = sparseToDense(b);
  if (d === null) return { bytes: b, updated: -1 };
  denseSet(d, index, count);
  return { bytes: d, updated: 1 };
}

/** Merges adjacent equal VAL opcodes near the change, as Redis does after a set. */
function merge(b: Uint8Array, prev: number): Uint8Array {
  let p = prev >= 0 ? prev : HLL_HDR_SIZE;
  let end = b.length;
  let scan = 5;
  let out = b;
  while (p < end && scan-- > 0) {
    const op = out[p];
    if (isXZero(op)) {
      p += 2;
      continue;
    }
    if (isZero(op)) {
      p++;
      continue;
    }
    if (p + 1 < end && !isZero(out[p + 1]) && !isXZero(out[p + 1])) {
      const v1 = valValue(op);
      const v2 = valValue(out[p + 1]);
      if (v1 === v2) {
        const len = valLen(op) + valLen(out[p + 1]);
        if (len <= VAL_MAX_LEN) {
          out[p + 1] = valOp(v1, len);
          const shrunk = new Uint8Array(end - 1);
          shrunk.set(out.subarray(0, p));
          shrunk.set(out.subarray(p + 1, end), p);
          out = shrunk;
          end--;
          continue;
        }
      }
    }
    p++;
  }
  return out;
}

/** Adds an element; see HllAddResult. */
export function hllAdd(b: Uint8Array, ele: string, sparseMaxBytes: number): HllAddResult {
  const [index, count] = patLen(ele);
  return hllSet(b, index, count, sparseMaxBytes);
}

/** Merges an HLL's registers into `max` (max per register); false when corrupt. */
export function hllMerge(max: Uint8Array, b: Uint8Array): boolean {
  if (b[4] === DENSE) {
    // four 6-bit registers per three bytes
    for (let i = 0, p = HLL_HDR_SIZE; i < HLL_REGISTERS; i += 4, p += 3) {
      const b0 = b[p], b1 = b[p + 1], b2 = b[p + 2];
      const r0 = b0 & 63;
      const r1 = ((b0 >> 6) | (b1 << 2)) & 63;
      const r2 = ((b1 >> 4) | (b2 << 4)) & 63;
      const r3 = b2 >> 2;
      if (r0 > max[i]) max[i] = r0;
      if (r1 > max[i + 1]) max[i + 1] = r1;
      if (r2 > max[i + 2]) max[i + 2] = r2;
      if (r3 > max[i + 3]) max[i + 3] = r3;
    }
    return true;
  }
  let idx = 0;
  let p = HLL_HDR_SIZE;
  while (p < b.length) {
    const op = b[p];
    if (isZero(op)) {
      idx += zeroLen(op);
      p++;
    } else if (isXZero(op)) {
      idx += xzeroLen(b, p);
      p += 2;
    } else {
      const len = valLen(op);
      const val = valValue(op);
      if (idx + len > HLL_REGISTERS) return false;
      for (let i = 0; i < len; i++, idx++) if (val > max[idx]) max[idx] = val;
      p++;
    }
  }
  return idx === HLL_REGISTERS;
}

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let zPrime;
  let y = 1;
  let z = x;
  do {
    x *= x;
    zPrime = z;
    z += x * y;
    y += y;
  } while (zPrime !== z);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let zPrime;
  let y = 1.0;
  let z = 1 - x;
  do {
    x = Math.sqrt(x);
    zPrime = z;
    y *= 0.5;
    z -= Math.pow(1 - x, 2) * y;
  } while (zPrime !== z);
  return z / 3;
}

/**
 * Estimated cardinality of an HLL (bytes) or of raw registers (one byte each, when
 * `raw`); null when sparse data is corrupt.
 */
export function hllCount(b: Uint8Array, raw = false): number | null {
  const histo = new Float64Array(64);
  if (raw) {
    for (let i = 0; i < HLL_REGISTERS; i++) histo[b[i]]++;
  } else if (b[4] === DENSE) {
    for (let p = HLL_HDR_SIZE; p < HLL_DENSE_SIZE; p += 3) {
      const b0 = b[p], b1 = b[p + 1], b2 = b[p + 2];
      histo[b0 & 63]++;
      histo[((b0 >> 6) | (b1 << 2)) & 63]++;
      histo[((b1 >> 4) | (b2 << 4)) & 63]++;
      histo[b2 >> 2]++;
    }
  } else {
    let idx = 0;
    let p = HLL_HDR_SIZE;
    while (p < b.length) {
      const op = b[p];
      if (isZero(op)) {
        const len = zeroLen(op);
        idx += len;
        histo[0] += len;
        p++;
      } else if (isXZero(op)) {
        const len = xzeroLen(b, p);
        idx += len;
        histo[0] += len;
        p += 2;
      } else {
        const len = valLen(op);
        idx += len;
        histo[valValue(op)] += len;
        p++;
      }
    }
    if (idx !== HLL_REGISTERS) return null;
  }
  const m = HLL_REGISTERS;
  let z = m * tau((m - histo[Q + 1]) / m);
  for (let j = Q; j >= 1; --j) {
    z += histo[j];
    z *= 0.5;
  }
  z += m * sigma(histo[0] / m);
  return Math.round(ALPHA_INF * m * m / z);
}

/** Value of register `i` (PFDEBUG GETREG). */
export function registerAt(dense: Uint8Array, i: number): number {
  return denseGet(dense, HLL_HDR_SIZE, i);
}

/** PFDEBUG DECODE: the opcodes of a sparse HLL ("z:len", "Z:len", "v:value,len"). */
export function decodeSparse(b: Uint8Array): string {
  const out: string[] = [];
  let p = HLL_HDR_SIZE;
  while (p < b.length) {
    const op = b[p];
    if (isZero(op)) {
      out.push(`z:${zeroLen(op)}`);
      p++;
    } else if (isXZero(op)) {
      out.push(`Z:${xzeroLen(b, p)}`);
      p += 2;
    } else {
      out.push(`v:${valValue(op)},${valLen(op)}`);
      p++;
    }
  }
  return out.join(" ");
}

/**
 * PFSELFTEST: writes random values to every packed register and reads them back;
 * returns an error message, or null when the register code is sound.
 */
export function selfTest(cycles = 100): string | null {
  const regs = new Uint8Array(HLL_DENSE_SIZE);
  const bytes = new Uint8Array(HLL_REGISTERS);
  for (let j = 0; j < cycles; j++) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const r = Math.floor(Math.random() * 64) & REGISTER_MAX;
      bytes[i] = r;
      denseSetReg(regs, HLL_HDR_SIZE, i, r);
    }
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const v = denseGet(regs, HLL_HDR_SIZE, i);
      if (v !== bytes[i]) return `TESTFAILED Register ${i} should be ${bytes[i]} but is ${v}`;
    }
  }
  return null;
}

/** Kind names for PFDEBUG ENCODING. */
export function encodingName(b: Uint8Array): string {
  return b[4] === DENSE ? "dense" : "sparse";
}
