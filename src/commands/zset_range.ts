/**
 * ZADD (shared with ZINCRBY and GEOADD) and the one range engine behind ZRANGE,
 * ZRANGESTORE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX and
 * ZREVRANGE (Redis: zaddGenericCommand and zrangeGenericCommand in t_zset.c).
 */
import type { Client } from "../client.ts";
import { ERR } from "../errors.ts";
import {
  lexGteMin,
  lexLteMax,
  type LexRange,
  NIL,
  scoreGteMin,
  scoreLteMax,
  type ScoreRange,
  type ZNode,
  ZSetValue,
} from "../store/zset.ts";
import {
  COLL_ERR,
  longArg,
  parseDouble,
  parseLexRange,
  parseScoreRange,
  replyNodes,
  zsetLimits,
} from "./zset_args.ts";

/**
 * ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member ... (also ZINCRBY, rewritten as
 * ZADD INCR, and GEOADD, rewritten as ZADD with geohash scores).
 */
export function zaddCommand(c: Client, argv: string[]): void {
  const key = argv[1];
  let nx = false, xx = false, gt = false, lt = false, ch = false, incr = false;
  let scoreIdx = 2;
  for (; scoreIdx < argv.length; scoreIdx++) {
    const arg = argv[scoreIdx];
    // options are 2-4 letters: a score (digits, sign, "inf") ends them without lowercasing
    const first = arg.charCodeAt(0) | 0x20;
    if (arg.length > 4 || first < 97 || first > 122) break;
    const opt = arg.toLowerCase();
    if (opt === "nx") nx = true;
    else if (opt === "xx") xx = true;
    else if (opt === "ch") ch = true;
    else if (opt === "incr") incr = true;
    else if (opt === "gt") gt = true;
    else if (opt === "lt") lt = true;
    else break;
  }
  let elements = argv.length - scoreIdx;
  if (elements % 2 !== 0 || elements === 0) return c.error(ERR.syntax);
  elements /= 2;
  if (nx && xx) return c.error("ERR XX and NX options at the same time are not compatible");
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    return c.error("ERR GT, LT, and/or NX options at the same time are not compatible");
  }
  if (incr && elements > 1) {
    return c.error("ERR INCR option supports a single increment-element pair");
  }
  const scores: number[] = new Array(elements);
  let maxLen = 0;
  for (let j = 0; j < elements; j++) {
    const s = parseDouble(argv[scoreIdx + j * 2]);
    if (s === null) return c.error(ERR.notFloat);
    scores[j] = s;
    const len = argv[scoreIdx + j * 2 + 1].length;
    if (len > maxLen) maxLen = len;
  }
  const e = c.db.lookupWrite(key);
  let z: ZSetValue;
  let added = 0, updated = 0, processed = 0;
  let score = 0;
  const limits = zsetLimits(c);
  if (e === undefined) {
    if (xx) return replyZadd(c, incr, ch, 0, 0, 0, 0);
    z = ZSetValue.create(elements, maxLen, limits);
    c.db.add(key, z);
  } else if (!(e.value instanceof ZSetValue)) {
    return c.error(ERR.wrongType);
  } else z = e.value;

  let failed = false;
  for (let j = 0; j < elements; j++) {
    score = scores[j];
    const member = argv[scoreIdx + j * 2 + 1];
    const cur = z.score(member);
    if (cur !== undefined) {
      if (nx) continue;
      if (incr) {
        score += cur;
        if (Number.isNaN(score)) {
          c.error("ERR resulting score is not a number (NaN)");
          failed = true;
          break;
        }
      }
      if ((lt && score >= cur) || (gt && score <= cur)) continue;
      processed++;
      if (score !== cur) {
        z.add(member, score);
        updated++;
      }
    } else if (!xx) {
      z.checkGrow(member.length, limits);
      z.addNew(member, score);
      added++;
      processed++;
    }
  }
  if (added + updated > 0) {
    c.modified(key, "z", incr ? "zincr" : "zadd");
    c.server.dirty += added + updated - 1;
  }
  if (z.size === 0) c.db.deleteEntry(key);
  if (!failed) replyZadd(c, incr, ch, added, updated, processed, score);
}

function replyZadd(
  c: Client,
  incr: boolean,
  ch: boolean,
  added: number,
  updated: number,
  processed: number,
  score: number,
): void {
  if (incr) {
    if (processed > 0) c.reply.double(score);
    else c.reply.nil();
  } else c.reply.int(ch ? added + updated : added);
}

/** How zrangeGeneric reads its arguments (fixed by the legacy commands). */
export interface ZRangeOptions {
  /** index of the source key in argv */
  argStart: number;
  /** destination key for ZRANGESTORE */
  store: string | null;
  type: "auto" | "rank" | "score" | "lex";
  direction: "auto" | "fwd" | "rev";
}

/** Redis's zrangeGenericCommand: parse, look up, collect, then reply or store. */
export function zrangeGeneric(c: Client, argv: string[], o: ZRangeOptions): void {
  const key = argv[o.argStart];
  let minIdx = o.argStart + 1;
  let maxIdx = o.argStart + 2;
  let withScores = false;
  let offset = 0;
  let limit = -1;
  let type = o.type;
  let direction = o.direction;
  for (let j = o.argStart + 3; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const opt = argv[j].toLowerCase();
    if (o.store === null && opt === "withscores") withScores = true;
    else if (opt === "limit" && left >= 2) {
      const a = longArg(c, argv[j + 1]);
      if (a === null) return;
      const b = longArg(c, argv[j + 2]);
      if (b === null) return;
      offset = a;
      limit = b;
      j += 2;
    } else if (direction === "auto" && opt === "rev") direction = "rev";
    else if (type === "auto" && opt === "bylex") type = "lex";
    else if (type === "auto" && opt === "byscore") type = "score";
    else return c.error(ERR.syntax);
  }
  if (direction === "auto") direction = "fwd";
  if (type === "auto") type = "rank";
  if (limit !== -1 && type === "rank") {
    return c.error(
      "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
    );
  }
  if (withScores && type === "lex") {
    return c.error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
  }
  const rev = direction === "rev";
  if (rev && type !== "rank") [minIdx, maxIdx] = [maxIdx, minIdx];

  let start = 0, end = 0;
  let score: ScoreRange | null = null;
  let lex: LexRange | null = null;
  if (type === "rank") {
    const a = longArg(c, argv[minIdx]);
    if (a === null) return;
    const b = longArg(c, argv[maxIdx]);
    if (b === null) return;
    start = a;
    end = b;
  } else if (type === "score") {
    score = parseScoreRange(argv[minIdx], argv[maxIdx]);
    if (score === null) return c.error(ERR.minMaxNotFloat);
  } else {
    lex = parseLexRange(argv[minIdx], argv[maxIdx]);
    if (lex === null) return c.error(COLL_ERR.lexRange);
  }

  const v = c.db.get(key);
  if (v !== undefined && !(v instanceof ZSetValue)) return c.error(ERR.wrongType);
  const nodes: ZNode[] = [];
  if (v !== undefined) {
    if (type === "rank") collectByRank(v, start, end, rev, nodes);
    else if (score !== null) collectByScore(v, score, rev, offset, limit, nodes);
    else collectByLex(v, lex!, rev, offset, limit, nodes);
  }
  if (o.store === null) return replyNodes(c, v!, nodes, withScores);

  const dst = o.store;
  if (nodes.length > 0) {
    const limits = zsetLimits(c);
    const out = ZSetValue.create(nodes.length, 0, limits);
    for (const n of nodes) {
      const member = v!.member(n);
      out.checkGrow(member.length, limits);
      out.add(member, v!.scoreOf(n));
    }
    c.db.set(dst, out);
    c.modified(dst, "z", "zrangestore");
  } else if (c.db.delete(dst)) {
    c.modified(dst, "g", "del");
  }
  c.reply.int(nodes.length);
}

function collectByRank(z: ZSetValue, start: number, end: number, rev: boolean, out: ZNode[]) {
  const llen = z.size;
  if (start < 0) start += llen;
  if (end < 0) end += llen;
  if (start < 0) start = 0;
  if (start > end || start >= llen) return;
  if (end >= llen) end = llen - 1;
  let n = rev ? z.byRank(llen - 1 - start) : z.byRank(start);
  for (let i = start; i <= end && n !== NIL; i++) {
    out.push(n);
    n = rev ? z.prev(n) : z.next(n);
  }
}

function collectByScore(
  z: ZSetValue,
  r: ScoreRange,
  rev: boolean,
  offset: number,
  limit: number,
  out: ZNode[],
): void {
  const first = rev ? z.lastInScoreRange(r) : z.firstInScoreRange(r);
  const inside = (x: ZNode) => rev ? scoreGteMin(z.scoreOf(x), r) : scoreLteMax(z.scoreOf(x), r);
  collectInRange(z, first, inside, rev, offset, limit, out);
}

function collectByLex(
  z: ZSetValue,
  r: LexRange,
  rev: boolean,
  offset: number,
  limit: number,
  out: ZNode[],
): void {
  const first = rev ? z.lastInLexRange(r) : z.firstInLexRange(r);
  const inside = (x: ZNode) => rev ? lexGteMin(z.member(x), r) : lexLteMax(z.member(x), r);
  collectInRange(z, first, inside, rev, offset, limit, out);
}

/**
 * Walks from `first` (the range's first node in walk order) while `inside` holds,
 * skipping `offset` nodes and collecting at most `limit` (negative = all).
 */
function collectInRange(
  z: ZSetValue,
  first: ZNode,
  inside: (n: ZNode) => boolean,
  rev: boolean,
  offset: number,
  limit: number,
  out: ZNode[],
): void {
  if (offset < 0 || (offset > 0 && offset >= z.size)) return;
  let n = first;
  while (n !== NIL && offset > 0) {
    if (!inside(n)) return;
    offset--;
    n = rev ? z.prev(n) : z.next(n);
  }
  while (n !== NIL && limit !== 0 && inside(n)) {
    out.push(n);
    limit--;
    n = rev ? z.prev(n) : z.next(n);
  }
}
