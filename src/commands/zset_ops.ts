/**
 * Sorted set algebra (Redis: zunionInterDiffGenericCommand in t_zset.c): ZUNION,
 * ZINTER, ZDIFF, their STORE forms and ZINTERCARD. Plain sets are accepted as inputs
 * with every score 1.
 */
import type { Client } from "../client.ts";
import { ERR } from "../errors.ts";
import { NIL, type ZNode, ZSetValue } from "../store/zset.ts";
import { SetValue } from "../store/set.ts";
import { COLL_ERR, doubleArg, longArg, replyNodes, zsetLimits } from "./zset_args.ts";

/** A source of ZUNION/ZINTER/ZDIFF: a zset, a plain set (scores 1) or nothing. */
interface OpSource {
  z: ZSetValue | SetValue | undefined;
  weight: number;
}

function sourceSize(s: OpSource): number {
  return s.z === undefined ? 0 : s.z.size;
}

function sourceScore(s: OpSource, member: string): number | undefined {
  if (s.z === undefined) return undefined;
  if (s.z instanceof SetValue) return s.z.has(member) ? 1 : undefined;
  return s.z.score(member);
}

function* sourceEntries(s: OpSource): IterableIterator<[string, number]> {
  if (s.z === undefined) return;
  if (s.z instanceof SetValue) {
    for (const m of s.z.members()) yield [m, 1];
  } else yield* s.z.entries();
}

function aggregate(kind: string, a: number, b: number): number {
  if (kind === "sum") {
    const v = a + b;
    return Number.isNaN(v) ? 0 : v;
  }
  if (kind === "min") return b < a ? b : a;
  return b > a ? b : a;
}

function weighted(w: number, s: number): number {
  const v = w * s;
  return Number.isNaN(v) ? 0 : v;
}

/**
 * Redis's zunionInterDiffGenericCommand for ZUNION[STORE], ZINTER[STORE],
 * ZDIFF[STORE] and ZINTERCARD.
 */
export function zsetOp(
  c: Client,
  argv: string[],
  op: "union" | "inter" | "diff",
  opts: { dst: string | null; numkeysIdx: number; cardOnly: boolean },
): void {
  const name = argv[0].toLowerCase();
  const setnum = longArg(c, argv[opts.numkeysIdx]);
  if (setnum === null) return;
  if (setnum < 1) {
    return c.error(`ERR at least 1 input key is needed for '${name}' command`);
  }
  if (setnum > argv.length - (opts.numkeysIdx + 1)) return c.error(ERR.syntax);
  const srcs: OpSource[] = [];
  let j = opts.numkeysIdx + 1;
  for (let i = 0; i < setnum; i++, j++) {
    const v = c.db.get(argv[j]);
    if (v !== undefined && !(v instanceof ZSetValue) && !(v instanceof SetValue)) {
      return c.error(ERR.wrongType);
    }
    srcs.push({ z: v as ZSetValue | SetValue | undefined, weight: 1 });
  }
  let agg = "sum";
  let withScores = false;
  let limit = 0;
  while (j < argv.length) {
    const remaining = argv.length - j;
    const opt = argv[j].toLowerCase();
    if (op !== "diff" && !opts.cardOnly && remaining >= setnum + 1 && opt === "weights") {
      j++;
      for (let i = 0; i < setnum; i++, j++) {
        const w = doubleArg(c, argv[j], "ERR weight value is not a float");
        if (w === null) return;
        srcs[i].weight = w;
      }
    } else if (op !== "diff" && !opts.cardOnly && remaining >= 2 && opt === "aggregate") {
      const a = argv[j + 1].toLowerCase();
      if (a !== "sum" && a !== "min" && a !== "max") return c.error(ERR.syntax);
      agg = a;
      j += 2;
    } else if (opts.dst === null && !opts.cardOnly && opt === "withscores") {
      withScores = true;
      j++;
    } else if (opts.cardOnly && remaining >= 2 && opt === "limit") {
      const l = longArg(c, argv[j + 1], COLL_ERR.negativeLimit);
      if (l === null) return;
      if (l < 0) return c.error(COLL_ERR.negativeLimit);
      limit = l;
      j += 2;
    } else {
      return c.error(ERR.syntax);
    }
  }

  const result = new ZSetValue();
  result.listpack = false;
  if (op === "inter") {
    const sorted = srcs.slice().sort((a, b) => sourceSize(a) - sourceSize(b));
    if (sourceSize(sorted[0]) > 0) {
      let card = 0;
      for (const [member, s0] of sourceEntries(sorted[0])) {
        let score = weighted(sorted[0].weight, s0);
        let ok = true;
        for (let k = 1; k < sorted.length; k++) {
          const s = sourceScore(sorted[k], member);
          if (s === undefined) {
            ok = false;
            break;
          }
          score = aggregate(agg, score, weighted(sorted[k].weight, s));
        }
        if (!ok) continue;
        if (opts.cardOnly) {
          card++;
          if (limit !== 0 && card >= limit) break;
        } else result.add(member, score);
      }
      if (opts.cardOnly) return c.reply.int(card);
    }
  } else if (op === "union") {
    const sorted = srcs.slice().sort((a, b) => sourceSize(a) - sourceSize(b));
    for (const src of sorted) {
      for (const [member, s] of sourceEntries(src)) {
        const score = weighted(src.weight, s);
        const cur = result.score(member);
        result.add(member, cur === undefined ? score : aggregate(agg, cur, score));
      }
    }
  } else {
    for (const [member, s] of sourceEntries(srcs[0])) {
      let found = false;
      for (let k = 1; k < srcs.length && !found; k++) {
        found = sourceScore(srcs[k], member) !== undefined;
      }
      if (!found) result.add(member, s);
    }
  }
  if (opts.cardOnly) return c.reply.int(result.size);

  if (opts.dst !== null) {
    const dst = opts.dst;
    if (result.size > 0) {
      const lim = zsetLimits(c);
      let maxLen = 0;
      for (let n = result.first(); n !== NIL; n = result.next(n)) {
        const len = result.member(n).length;
        if (len > maxLen) maxLen = len;
      }
      result.listpack = result.size <= lim.maxEntries && maxLen <= lim.maxValue;
      c.db.set(dst, result);
      c.modified(dst, "z", name);
    } else if (c.db.delete(dst)) {
      c.modified(dst, "g", "del");
    }
    return c.reply.int(result.size);
  }
  const nodes: ZNode[] = [];
  for (let n = result.first(); n !== NIL; n = result.next(n)) nodes.push(n);
  replyNodes(c, result, nodes, withScores);
}
