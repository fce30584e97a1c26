/**
 * x87 80-bit `long double` arithmetic, exact enough to reproduce what Redis prints for
 * INCRBYFLOAT and HINCRBYFLOAT: Redis parses both operands with strtold, adds them in
 * long double and prints with "%.17Lf" minus trailing zeros (ld2string LD_STR_HUMAN).
 * Doing the same in JS doubles prints "0.30000000000000004" where Redis prints "0.3",
 * and "12345.6789" where Redis prints "12345.67889999999999961".
 *
 * A value is sign * mant * 2^exp with a 64-bit significand, rounded to nearest-even
 * like the x87 unit. Subnormals are not modelled (values below ~1e-4931).
 */

/** A finite long double, or an infinity. */
export interface LongDouble {
  neg: boolean;
  /** significand, 2^63 <= mant < 2^64, or 0 */
  mant: bigint;
  exp: number;
  inf: boolean;
}

const TWO63 = 1n << 63n;
const TWO64 = 1n << 64n;
/** largest binary exponent of the top significand bit */
const MAX_TOP_EXP = 16383;

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

const INF: LongDouble = { neg: false, mant: 0n, exp: 0, inf: true };

/** Rounds the positive rational num/den to a 64-bit significand (nearest, ties even). */
function round(neg: boolean, num: bigint, den: bigint): LongDouble {
  if (num === 0n) return { neg, mant: 0n, exp: 0, inf: false };
  let e = bitLength(num) - bitLength(den) - 64;
  for (;;) {
    const n = e < 0 ? num << BigInt(-e) : num;
    const d = e > 0 ? den << BigInt(e) : den;
    let q = n / d;
    if (q >= TWO64) {
      e++;
      continue;
    }
    if (q < TWO63) {
      e--;
      continue;
    }
    const r2 = (n - q * d) * 2n;
    if (r2 > d || (r2 === d && (q & 1n) === 1n)) q++;
    if (q === TWO64) {
      q = TWO63;
      e++;
    }
    if (e + 63 > MAX_TOP_EXP) return { ...INF, neg };
    return { neg, mant: q, exp: e, inf: false };
  }
}

/**
 * Parses like Redis's string2ld (strtold, whole string, no leading space, no NaN,
 * no overflow or underflow). Returns null when Redis would reject the value.
 */
export function parseLongDouble(s: string): LongDouble | null {
  if (s.length === 0 || s.length >= 5 * 1024) return null;
  const m = /^([+-]?)(?:(\d+)\.?(\d*)|\.(\d+))(?:[eE]([+-]?\d+))?$/.exec(s);
  if (m === null) {
    const inf = /^([+-]?)inf(inity)?$/i.exec(s);
    if (inf !== null) return { ...INF, neg: inf[1] === "-" };
    const hex = /^([+-]?)0x([0-9a-f]*)\.?([0-9a-f]*)(?:p([+-]?\d+))?$/i.exec(s);
    if (hex === null || hex[2] + hex[3] === "") return null;
    const digits = BigInt("0x" + (hex[2] + hex[3] || "0"));
    const exp2 = Number(hex[4] ?? "0") - 4 * hex[3].length;
    const r = exp2 >= 0
      ? round(hex[1] === "-", digits << BigInt(exp2), 1n)
      : round(hex[1] === "-", digits, 1n << BigInt(-exp2));
    return r.inf ? null : r;
  }
  const neg = m[1] === "-";
  const intPart = m[2] ?? "";
  const frac = m[2] !== undefined ? m[3] : m[4];
  const digits = (intPart + frac).replace(/^0+/, "");
  if (digits === "") return { neg, mant: 0n, exp: 0, inf: false };
  const exp10 = Number(m[5] ?? "0") - frac.length;
  // far outside the long double range: overflow or underflow, both rejected
  if (exp10 + digits.length > 4940 || exp10 + digits.length < -4940) return null;
  const d = BigInt(digits);
  const r = exp10 >= 0
    ? round(neg, d * 10n ** BigInt(exp10), 1n)
    : round(neg, d, 10n ** BigInt(-exp10));
  return r.inf ? null : r;
}

/** a + b in long double (an infinite operand gives an infinity). */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble {
  if (a.inf || b.inf) {
    if (a.inf && b.inf && a.neg !== b.neg) return { neg: false, mant: 0n, exp: 0, inf: true };
    return a.inf ? a : b;
  }
  if (a.mant === 0n) return b;
  if (b.mant === 0n) return a;
  const emin = Math.min(a.exp, b.exp);
  const va = a.mant << BigInt(a.exp - emin);
  const vb = b.mant << BigInt(b.exp - emin);
  const sum = (a.neg ? -va : va) + (b.neg ? -vb : vb);
  const neg = sum < 0n;
  const abs = neg ? -sum : sum;
  if (abs === 0n) return { neg: false, mant: 0n, exp: 0, inf: false };
  return emin >= 0 ? round(neg, abs << BigInt(emin), 1n) : round(neg, abs, 1n << BigInt(-emin));
}

/** The long double of an integer (exact for int64). */
export function longDoubleFromInt(n: bigint): LongDouble {
  return round(n < 0n, n < 0n ? -n : n, 1n);
}

/**
 * Redis's ld2string(LD_STR_HUMAN): "%.17Lf" with trailing zeros (and a trailing dot)
 * removed, and "-0" printed as "0". Infinities print as "inf" / "-inf".
 */
export function formatLongDoubleHuman(v: LongDouble): string {
  if (v.inf) return v.neg ? "-inf" : "inf";
  const scale = 10n ** 17n;
  let q: bigint;
  if (v.exp >= 0) {
    q = (v.mant << BigInt(v.exp)) * scale;
  } else {
    const num = v.mant * scale;
    const den = 1n << BigInt(-v.exp);
    q = num / den;
    const r2 = (num - q * den) * 2n;
    if (r2 > den || (r2 === den && (q & 1n) === 1n)) q++;
  }
  let digits = q.toString().padStart(18, "0");
  digits = digits.slice(0, -17) + "." + digits.slice(-17);
  digits = digits.replace(/0+$/, "").replace(/\.$/, "");
  if (digits === "0") return "0";
  return (v.neg ? "-" : "") + digits;
}

/** True for an infinity (INCRBYFLOAT refuses to store it). */
export function isInfinite(v: LongDouble): boolean {
  return v.inf;
}
