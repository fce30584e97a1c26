/**
 * Byte-string helpers. Redeno represents Redis strings (keys, values, arguments) as
 * "binary" JS strings: one UTF-16 code unit per byte, 0x00-0xFF. These functions are
 * the only conversions between bytes and such strings.
 */
import { Buffer } from "node:buffer";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Decodes bytes[start, end) to a binary string (true latin1, every byte kept). */
export function bytesToBinary(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const n = end - start;
  // short strings (keys, names, small values): one flat string straight from the bytes
  if (n <= FIXED_MAX) return FIXED[n](bytes, start);
  // Buffer's latin1 is the exact one-byte mapping (TextDecoder("latin1") is not).
  if (bytes !== lastBytes) {
    lastBytes = bytes;
    lastView = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  }
  return (lastView as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(
    start,
    end,
  );
}
let lastBytes: Uint8Array | null = null;
let lastView: Buffer | null = null;

/**
 * FIXED[n](b, s) is String.fromCharCode(b[s], ..., b[s + n - 1]) with n literal
 * arguments: V8 builds one flat one-byte string from it, several times faster than a
 * Buffer latin1 slice (a native call) and than concatenating chars (which makes ropes
 * beyond 12 chars, flattened again when hashed as a Map key).
 */
const FIXED_MAX = 32;
const FIXED: Array<(b: Uint8Array, s: number) => string> = [];
for (let n = 0; n <= FIXED_MAX; n++) {
  const args = Array.from({ length: n }, (_, i) => `b[s + ${i}]`).join(", ");
  FIXED.push(
    new Function("b", "s", `return String.fromCharCode(${args});`) as (
      b: Uint8Array,
      s: number,
    ) => string,
  );
}

/** Encodes a binary string to bytes. */
export function binaryToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  writeBinary(out, 0, s);
  return out;
}

/**
 * Writes binary string `s` into `out` at `offset` (the caller guarantees room for
 * s.length bytes). Returns the number of bytes written (always s.length).
 */
export function writeBinary(out: Uint8Array, offset: number, s: string): number {
  const n = s.length;
  if (n < 24) {
    for (let i = 0; i < n; i++) out[offset + i] = s.charCodeAt(i);
    return n;
  }
  // Native fast path for pure-ASCII strings; any byte >= 0x80 makes UTF-8 longer.
  const r = encoder.encodeInto(s, out.subarray(offset, offset + n));
  if (r.read === n && r.written === n) return n;
  for (let i = 0; i < n; i++) out[offset + i] = s.charCodeAt(i);
  return n;
}

/** UTF-8 text to a binary string (for text the server itself produces, e.g. INFO). */
export function utf8ToBinary(text: string): string {
  return bytesToBinary(encoder.encode(text));
}

/** A binary string to UTF-8 text (for log lines and file names). */
export function binaryToUtf8(s: string): string {
  return decoder.decode(binaryToBytes(s));
}

/** Redis's string2ll: strict base-10 int64 parse; null when not a canonical integer. */
export function parseInteger(s: string): number | null {
  const n = s.length;
  if (n === 0 || n > 20) return null;
  let i = 0;
  let neg = false;
  if (s.charCodeAt(0) === 45) {
    neg = true;
    i = 1;
    if (n === 1) return null;
  }
  const first = s.charCodeAt(i);
  if (first === 48) return n === i + 1 && !neg ? 0 : null; // "0" ok, "01" and "-0" not
  let v = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return null;
    v = v * 10 + c;
  }
  if (v > 9007199254740991) {
    // beyond 2^53: check int64 range with BigInt for exactness
    const b = BigInt(s);
    if (b > 9223372036854775807n || b < -9223372036854775808n) return null;
    return Number(b);
  }
  return neg ? -v : v;
}

/** Like parseInteger but returns a BigInt, for exact int64 arithmetic (INCRBY etc.). */
export function parseBigInt64(s: string): bigint | null {
  if (parseInteger(s) === null) return null;
  return BigInt(s);
}

/**
 * Redis's string2ld / strtold-style float parse for arguments (ZADD scores,
 * INCRBYFLOAT): accepts "inf", "+inf", "-inf", decimal and exponent forms; rejects
 * empty strings, spaces, and NaN.
 */
export function parseFloatArg(s: string): number | null {
  if (s.length === 0 || s.length > 5000) return null;
  const lower = s.toLowerCase();
  if (lower === "inf" || lower === "+inf" || lower === "infinity" || lower === "+infinity") {
    return Infinity;
  }
  if (lower === "-inf" || lower === "-infinity") return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) {
    // strtod also takes hex floats; Redis rejects nothing else useful here
    if (/^[+-]?0x[0-9a-f]+$/i.test(s)) return Number.parseInt(s, 16);
    return null;
  }
  const v = Number(s);
  return Number.isNaN(v) ? null : v;
}

/** C's "%.17g" formatting, which Redis 7.0 uses for RESP2 double replies. */
export function formatDouble17g(d: number): string {
  if (d === Infinity) return "inf";
  if (d === -Infinity) return "-inf";
  if (Number.isNaN(d)) return "nan";
  if (d === 0) return Object.is(d, -0) ? "-0" : "0";
  const [digits, e] = roundTo17Digits(Math.abs(d));
  const sign = d < 0 ? "-" : "";
  // %g picks the style from the exponent of the %e form with the same precision
  if (e < -4 || e >= 17) {
    const mantissa = stripZeros(digits[0] + "." + digits.slice(1));
    return sign + mantissa + "e" + (e < 0 ? "-" : "+") + String(Math.abs(e)).padStart(2, "0");
  }
  if (e < 0) return sign + stripZeros("0." + "0".repeat(-e - 1) + digits);
  const frac = digits.slice(e + 1);
  return sign + (frac === "" ? digits : stripZeros(digits.slice(0, e + 1) + "." + frac));
}

/**
 * The 17 significant digits and decimal exponent of a positive double, rounded like
 * glibc's printf: to nearest, ties to even on the exact binary value (JS's
 * toExponential breaks exact ties upwards).
 */
function roundTo17Digits(d: number): [string, number] {
  const s = d.toExponential(16);
  const at = s.indexOf("e");
  const rounded: [string, number] = [s[0] + s.slice(2, at), Number(s.slice(at + 1))];
  const t = d.toExponential(40);
  const tat = t.indexOf("e");
  const exact = t[0] + t.slice(2, tat);
  const tie = exact[17] === "5" && /^0*$/.test(exact.slice(18));
  if (tie && (exact.charCodeAt(16) - 48) % 2 === 0) {
    return [exact.slice(0, 17), Number(t.slice(tat + 1))];
  }
  return rounded;
}

function stripZeros(s: string): string {
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

/**
 * Human-friendly long-double formatting used by INCRBYFLOAT / HINCRBYFLOAT replies
 * (Redis's ld2string with LD_STR_HUMAN): no exponent, no trailing zeros.
 */
export function formatHumanDouble(d: number): string {
  if (d === Infinity) return "inf";
  if (d === -Infinity) return "-inf";
  if (Object.is(d, -0)) return "0";
  const s = String(d);
  if (!s.includes("e")) return s;
  // expand exponent notation to plain decimal
  const [mant, ex] = s.split("e");
  const e = Number(ex);
  const neg = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  const pointPos =
    (mant.replace("-", "").indexOf(".") === -1
      ? mant.replace("-", "").length
      : mant.replace("-", "").indexOf(".")) + e;
  let out: string;
  if (pointPos <= 0) out = "0." + "0".repeat(-pointPos) + digits;
  else if (pointPos >= digits.length) out = digits + "0".repeat(pointPos - digits.length);
  else out = digits.slice(0, pointPos) + "." + digits.slice(pointPos);
  return (neg ? "-" : "") + out;
}

/** Lowercases an ASCII command name (binary-string safe). */
export function lower(s: string): string {
  return s.toLowerCase();
}
