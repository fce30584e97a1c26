/**
 * Argument parsing and reply helpers shared by the sorted set, set, geo and SORT
 * commands: Redis's number parsers (getDoubleFromObject, strtod ranges, getLong),
 * score and lex ranges, and SSCAN/ZSCAN options.
 */
import type { Client } from "../client.ts";
import { parseFloatArg, parseInteger } from "../resp/bytes.ts";
import type {
  LexBound,
  LexRange,
  ScoreRange,
  ZNode,
  ZSetLimits,
  ZSetValue,
} from "../store/zset.ts";
import { ERR } from "../errors.ts";
import { encodingLimits } from "./encoding_limits.ts";

/** Error replies shared by the set, sorted set and geo commands (Redis's wording). */
export const COLL_ERR = {
  notPositive: "ERR value is out of range, must be positive",
  numkeys: "ERR numkeys should be greater than 0",
  negativeLimit: "ERR LIMIT can't be negative",
  lexRange: "ERR min or max not valid string range item",
  invalidCursor: "ERR invalid cursor",
  countNotPositive: "ERR count should be greater than 0",
  geoMember: "ERR could not decode requested zset member",
} as const;

/**
 * Redis's getDoubleFromObject: a full strtod parse without leading spaces; overflow
 * and underflow to zero are errors, as is NaN. Returns null when invalid.
 */
export function parseDouble(s: string): number | null {
  const small = parseSmallInteger(s);
  if (small !== null) return small;
  if (s.length === 0 || s.length > 5000 || isSpace(s.charCodeAt(0))) return null;
  const v = parseFloatArg(s);
  if (v === null) return null;
  if (!Number.isFinite(v) && !/^[+-]?inf/i.test(s)) return null; // ERANGE overflow
  if (v === 0 && /[1-9]/.test(s.replace(/e.*$/i, ""))) return null; // ERANGE underflow
  return v;
}

/**
 * The common score form, an optionally negative run of at most 15 decimal digits
 * (exact as a double, whatever leading zeros): its value without a full strtod parse.
 * Null for anything else.
 */
function parseSmallInteger(s: string): number | null {
  const n = s.length;
  if (n === 0 || n > 15) return null;
  const neg = s.charCodeAt(0) === 45;
  let i = neg ? 1 : 0;
  if (i === n) return null;
  let v = 0;
  for (; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return null;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

/** strtod as used by zslParseRange: leading spaces allowed, no range errors. */
function strtod(s: string): number | null {
  let i = 0;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  const v = parseFloatArg(s.slice(i));
  return v === null || Number.isNaN(v) ? null : v;
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** Redis's getLongLongFromObject: a canonical int64, or null. */
export function parseLong(s: string): number | null {
  return parseInteger(s);
}

/** Parses an integer argument or replies with `msg` (default: not an integer). */
export function longArg(c: Client, s: string, msg: string = ERR.notInteger): number | null {
  const v = parseInteger(s);
  if (v === null) c.error(msg);
  return v;
}

/** Parses a double argument or replies with `msg`. */
export function doubleArg(c: Client, s: string, msg: string = ERR.notFloat): number | null {
  const v = parseDouble(s);
  if (v === null) c.error(msg);
  return v;
}

function parseScoreBound(s: string): [number, boolean] | null {
  if (s.startsWith("(")) {
    const v = strtod(s.slice(1));
    return v === null ? null : [v, true];
  }
  const v = strtod(s);
  return v === null ? null : [v, false];
}

/** Redis's zslParseRange: "(" marks an exclusive bound. Null when invalid. */
export function parseScoreRange(min: string, max: string): ScoreRange | null {
  const a = parseScoreBound(min);
  const b = parseScoreBound(max);
  if (a === null || b === null) return null;
  return { min: a[0], minex: a[1], max: b[0], maxex: b[1] };
}

function parseLexBound(s: string): LexBound | null {
  if (s === "+") return { value: "", inf: 1, exclusive: false };
  if (s === "-") return { value: "", inf: -1, exclusive: false };
  if (s.startsWith("(")) return { value: s.slice(1), inf: 0, exclusive: true };
  if (s.startsWith("[")) return { value: s.slice(1), inf: 0, exclusive: false };
  return null;
}

/** Redis's zslParseLexRange: "-", "+", "[x" and "(x". Null when invalid. */
export function parseLexRange(min: string, max: string): LexRange | null {
  const a = parseLexBound(min);
  const b = parseLexBound(max);
  if (a === null || b === null) return null;
  return { min: a, max: b };
}

/** zset-max-listpack-entries / -value from the running config. */
export function zsetLimits(c: Client): ZSetLimits {
  return encodingLimits(c).zset;
}

/**
 * Replies with members and optional scores: flat in RESP2, [member, score] pairs in
 * RESP3 (as Redis 7 does for ZRANGE WITHSCORES and friends).
 */
export function replyNodes(c: Client, z: ZSetValue, nodes: ZNode[], withScores: boolean): void {
  const r = c.reply;
  if (!withScores) {
    r.array(nodes.length);
    for (const n of nodes) r.bulk(z.member(n));
    return;
  }
  if (r.resp === 2) {
    r.array(nodes.length * 2);
    for (const n of nodes) {
      r.bulk(z.member(n));
      r.double(z.scoreOf(n));
    }
    return;
  }
  r.array(nodes.length);
  for (const n of nodes) {
    r.array(2);
    r.bulk(z.member(n));
    r.double(z.scoreOf(n));
  }
}

/** Parsed SSCAN/ZSCAN/HSCAN options. */
export interface ScanOptions {
  count: number;
  /** null when every element matches */
  pattern: string | null;
}

/** Parses a SCAN cursor, replying "ERR invalid cursor" when bad. */
export function parseCursor(c: Client, s: string): number | null {
  if (!/^\d{1,20}$/.test(s) || BigInt(s) > 18446744073709551615n) {
    c.error(COLL_ERR.invalidCursor);
    return null;
  }
  return Number(s);
}

/** Parses COUNT / MATCH after the cursor (argv[from]...), replying on errors. */
export function parseScanOptions(c: Client, argv: string[], from: number): ScanOptions | null {
  let count = 10;
  let pattern: string | null = null;
  for (let i = from; i < argv.length;) {
    const left = argv.length - i;
    const opt = argv[i].toLowerCase();
    if (opt === "count" && left >= 2) {
      const v = longArg(c, argv[i + 1]);
      if (v === null) return null;
      if (v < 1) {
        c.error(ERR.syntax);
        return null;
      }
      count = v;
      i += 2;
    } else if (opt === "match" && left >= 2) {
      pattern = argv[i + 1] === "*" ? null : argv[i + 1];
      i += 2;
    } else {
      c.error(ERR.syntax);
      return null;
    }
  }
  return { count, pattern };
}

/** Replies a SCAN page: [cursor, [items...]]. */
export function replyScan(c: Client, cursor: number, items: string[]): void {
  c.reply.array(2);
  c.reply.bulk(String(cursor));
  c.reply.bulkArray(items);
}
