/**
 * Sorted set commands (Redis: t_zset.c): adds, scores, ranks, ranges by rank, score
 * and lex, removals, pops (blocking ones wait through server.blocking and propagate
 * as ZPOPMIN/ZPOPMAX), set algebra, random members and ZSCAN.
 */
import type { Client } from "../client.ts";
import { cmd, type CommandSpec } from "./table.ts";
import { ERR } from "../errors.ts";
import { lexLteMax, NIL, scoreLteMax, type ZNode, ZSetValue } from "../store/zset.ts";
import { globMatch } from "../store/glob.ts";
import { parseTimeoutSeconds } from "../blocking.ts";
import { formatDouble17g } from "../resp/bytes.ts";
import {
  COLL_ERR,
  longArg,
  parseCursor,
  parseLexRange,
  parseScanOptions,
  parseScoreRange,
  replyNodes,
  replyScan,
} from "./zset_args.ts";
import { zaddCommand, zrangeGeneric } from "./zset_range.ts";
import { zsetOp } from "./zset_ops.ts";

const LONG_MAX = 9223372036854775807;

/** The zset at `key` for reading: undefined if missing, null after a WRONGTYPE reply. */
export function readZset(c: Client, key: string): ZSetValue | undefined | null {
  const v = c.db.get(key);
  if (v === undefined) return undefined;
  if (!(v instanceof ZSetValue)) {
    c.error(ERR.wrongType);
    return null;
  }
  return v;
}

/** The zset at `key` about to change: undefined if missing, null after WRONGTYPE. */
export function writeZset(c: Client, key: string): ZSetValue | undefined | null {
  const e = c.db.lookupWrite(key);
  if (e === undefined) return undefined;
  if (!(e.value instanceof ZSetValue)) {
    c.error(ERR.wrongType);
    return null;
  }
  return e.value;
}

/** Deletes an emptied zset with the "del" notification; true if it was deleted. */
export function deleteIfEmpty(c: Client, key: string, z: ZSetValue): boolean {
  if (z.size !== 0) return false;
  c.db.deleteEntry(key);
  c.server.notify("g", "del", key, c.db.id);
  return true;
}

function zincrby(c: Client, argv: string[]): void {
  zaddCommand(c, ["zadd", argv[1], "incr", argv[2], argv[3]]);
}

function zscore(c: Client, argv: string[]): void {
  const z = readZset(c, argv[1]);
  if (z === null) return;
  const s = z?.score(argv[2]);
  if (s === undefined) c.reply.nil();
  else c.reply.double(s);
}

function zmscore(c: Client, argv: string[]): void {
  const z = readZset(c, argv[1]);
  if (z === null) return;
  c.reply.array(argv.length - 2);
  for (let i = 2; i < argv.length; i++) {
    const s = z?.score(argv[i]);
    if (s === undefined) c.reply.nil();
    else c.reply.double(s);
  }
}

function zcard(c: Client, argv: string[]): void {
  const z = readZset(c, argv[1]);
  if (z === null) return;
  c.reply.int(z?.size ?? 0);
}

function zcount(c: Client, argv: string[]): void {
  const range = parseScoreRange(argv[2], argv[3]);
  if (range === null) return c.error(ERR.minMaxNotFloat);
  const z = readZset(c, argv[1]);
  if (z === null) return;
  c.reply.int(z === undefined ? 0 : z.countInScoreRange(range));
}

function zlexcount(c: Client, argv: string[]): void {
  const range = parseLexRange(argv[2], argv[3]);
  if (range === null) return c.error(COLL_ERR.lexRange);
  const z = readZset(c, argv[1]);
  if (z === null) return;
  c.reply.int(z === undefined ? 0 : z.countInLexRange(range));
}

function zrankGeneric(c: Client, argv: string[], reverse: boolean): void {
  const z = readZset(c, argv[1]);
  if (z === null) return;
  const r = z?.rank(argv[2]);
  if (r === undefined) c.reply.nil();
  else c.reply.int(reverse ? z!.size - 1 - r : r);
}

function zrem(c: Client, argv: string[]): void {
  const key = argv[1];
  const z = writeZset(c, key);
  if (z === null) return;
  if (z === undefined) return c.reply.int(0);
  let deleted = 0;
  for (let i = 2; i < argv.length; i++) {
    if (z.remove(argv[i])) deleted++;
    if (z.size === 0) break;
  }
  if (deleted > 0) {
    c.modified(key, "z", "zrem");
    c.server.dirty += deleted - 1;
    deleteIfEmpty(c, key, z);
  }
  c.reply.int(deleted);
}

function zremrangeGeneric(c: Client, argv: string[], kind: "rank" | "score" | "lex"): void {
  const key = argv[1];
  let start = 0;
  let end = 0;
  let score = null;
  let lex = null;
  if (kind === "rank") {
    const a = longArg(c, argv[2]);
    if (a === null) return;
    const b = longArg(c, argv[3]);
    if (b === null) return;
    start = a;
    end = b;
  } else if (kind === "score") {
    score = parseScoreRange(argv[2], argv[3]);
    if (score === null) return c.error(ERR.minMaxNotFloat);
  } else {
    lex = parseLexRange(argv[2], argv[3]);
    if (lex === null) return c.error(COLL_ERR.lexRange);
  }
  const z = writeZset(c, key);
  if (z === null) return;
  if (z === undefined) return c.reply.int(0);
  const doomed: ZNode[] = [];
  if (kind === "rank") {
    const llen = z.size;
    if (start < 0) start += llen;
    if (end < 0) end += llen;
    if (start < 0) start = 0;
    if (start > end || start >= llen) return c.reply.int(0);
    if (end >= llen) end = llen - 1;
    let n = z.byRank(start);
    for (let i = start; i <= end && n !== NIL; i++, n = z.next(n)) doomed.push(n);
  } else if (score !== null) {
    for (let n = z.firstInScoreRange(score); n !== NIL && scoreLteMax(z.scoreOf(n), score);) {
      doomed.push(n);
      n = z.next(n);
    }
  } else if (lex !== null) {
    for (let n = z.firstInLexRange(lex); n !== NIL && lexLteMax(z.member(n), lex);) {
      doomed.push(n);
      n = z.next(n);
    }
  }
  for (const n of doomed) z.removeNode(n);
  if (doomed.length > 0) {
    c.modified(key, "z", "zremrangeby" + kind);
    c.server.dirty += doomed.length - 1;
    deleteIfEmpty(c, key, z);
  }
  c.reply.int(doomed.length);
}

/**
 * Redis's genericZpopCommand: pops from the first non-empty key of `keys`.
 * `count` -1 is the plain single pop. Returns the key and how many members were popped,
 * or null when nothing was.
 */
function zpopGeneric(
  c: Client,
  keys: string[],
  max: boolean,
  opts: { emitKey: boolean; count: number; nested: boolean; nilWhenEmpty: boolean },
): { key: string; popped: number } | null {
  let z: ZSetValue | undefined;
  let key = "";
  for (const k of keys) {
    const v = writeZset(c, k);
    if (v === null) return null;
    if (v === undefined) continue;
    z = v;
    key = k;
    break;
  }
  const r = c.reply;
  if (z === undefined) {
    if (opts.nilWhenEmpty) r.nullArray();
    else r.array(0);
    return null;
  }
  if (opts.count === 0) {
    r.array(0);
    return null;
  }
  const count = opts.count === -1 ? 1 : opts.count;
  const n = Math.min(count, z.size);
  if (!opts.nested && !opts.emitKey) r.array(n * 2);
  else if (opts.nested && !opts.emitKey) r.array(n);
  else if (!opts.nested) {
    r.array(n * 2 + 1);
    r.bulk(key);
  } else {
    r.array(2);
    r.bulk(key);
    r.array(n);
  }
  for (let i = 0; i < n; i++) {
    const node = max ? z.last() : z.first();
    if (opts.nested) r.array(2);
    r.bulk(z.member(node));
    r.double(z.scoreOf(node));
    z.removeNode(node);
  }
  c.modified(key, "z", max ? "zpopmax" : "zpopmin");
  c.server.dirty += n - 1;
  deleteIfEmpty(c, key, z);
  return { key, popped: n };
}

function zpopMinMax(c: Client, argv: string[], max: boolean): void {
  if (argv.length > 3) return c.error(ERR.syntax);
  let count = -1;
  if (argv.length === 3) {
    const v = longArg(c, argv[2], COLL_ERR.notPositive);
    if (v === null) return;
    if (v < 0) return c.error(COLL_ERR.notPositive);
    count = v;
  }
  zpopGeneric(c, [argv[1]], max, {
    emitKey: false,
    count,
    nested: c.reply.resp > 2 && count !== -1,
    nilWhenEmpty: false,
  });
}

/** BZPOPMIN/BZPOPMAX/BZMPOP: serve at once, or block on `keys`. */
function blockingZpop(
  c: Client,
  keys: string[],
  max: boolean,
  timeoutArg: string,
  count: number,
  nested: boolean,
): void {
  const timeout = parseTimeoutSeconds(timeoutArg);
  if (typeof timeout === "string") return c.error(timeout);
  for (const key of keys) {
    // a re-run after another type appeared under the key keeps waiting, as Redis does
    if (c.reprocessing && !(c.db.get(key) instanceof ZSetValue)) continue;
    const z = writeZset(c, key);
    if (z === null) return;
    if (z === undefined || z.size === 0) continue;
    const done = zpopGeneric(c, [key], max, {
      emitKey: true,
      count,
      nested,
      nilWhenEmpty: nested,
    });
    // propagated as ZPOPMIN/ZPOPMAX of the number actually popped, as Redis does
    const name = max ? "ZPOPMAX" : "ZPOPMIN";
    c.rewrite(count === -1 || done === null ? [name, key] : [name, key, String(done.popped)]);
    return;
  }
  c.server.blocking.block(c, { keys, timeoutMs: timeout });
}

function bzpopMinMax(c: Client, argv: string[], max: boolean): void {
  blockingZpop(c, argv.slice(1, -1), max, argv[argv.length - 1], -1, false);
}

/** Parses ZMPOP/BZMPOP arguments after numkeys_idx; null after an error reply. */
function parseMpop(
  c: Client,
  argv: string[],
  numkeysIdx: number,
): { keys: string[]; max: boolean; count: number } | null {
  const numkeys = longArg(c, argv[numkeysIdx], COLL_ERR.numkeys);
  if (numkeys === null) return null;
  if (numkeys < 1 || numkeys > LONG_MAX) {
    c.error(COLL_ERR.numkeys);
    return null;
  }
  const whereIdx = numkeysIdx + numkeys + 1;
  if (whereIdx >= argv.length) {
    c.error(ERR.syntax);
    return null;
  }
  const where = argv[whereIdx].toLowerCase();
  if (where !== "min" && where !== "max") {
    c.error(ERR.syntax);
    return null;
  }
  let count = -1;
  for (let j = whereIdx + 1; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (count === -1 && argv[j].toLowerCase() === "count" && more > 0) {
      j++;
      const v = longArg(c, argv[j], COLL_ERR.countNotPositive);
      if (v === null) return null;
      if (v < 1) {
        c.error(COLL_ERR.countNotPositive);
        return null;
      }
      count = v;
    } else {
      c.error(ERR.syntax);
      return null;
    }
  }
  if (count === -1) count = 1;
  return { keys: argv.slice(numkeysIdx + 1, whereIdx), max: where === "max", count };
}

function zmpop(c: Client, argv: string[]): void {
  const p = parseMpop(c, argv, 1);
  if (p === null) return;
  const done = zpopGeneric(c, p.keys, p.max, {
    emitKey: true,
    count: p.count,
    nested: true,
    nilWhenEmpty: true,
  });
  if (done !== null) {
    c.rewrite([p.max ? "ZPOPMAX" : "ZPOPMIN", done.key, String(done.popped)]);
  }
}

function bzmpop(c: Client, argv: string[]): void {
  const p = parseMpop(c, argv, 2);
  if (p === null) return;
  blockingZpop(c, p.keys, p.max, argv[1], p.count, true);
}

function zrandmember(c: Client, argv: string[]): void {
  if (argv.length === 2) {
    const z = readZset(c, argv[1]);
    if (z === null) return;
    if (z === undefined) return c.reply.nil();
    return c.reply.bulk(z.member(z.randomNode()));
  }
  const l = longArg(c, argv[2]);
  if (l === null) return;
  if (argv[2] === "-9223372036854775808") {
    return c.error(
      `ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807`,
    );
  }
  let withScores = false;
  if (argv.length > 4 || (argv.length === 4 && argv[3].toLowerCase() !== "withscores")) {
    return c.error(ERR.syntax);
  } else if (argv.length === 4) {
    withScores = true;
    if (l < -LONG_MAX / 2 || l > LONG_MAX / 2) return c.error("ERR value is out of range");
  }
  const z = readZset(c, argv[1]);
  if (z === null) return;
  if (z === undefined || l === 0) return c.reply.array(0);
  const nodes: ZNode[] = [];
  if (l < 0) {
    for (let i = 0; i < -l; i++) nodes.push(z.randomNode());
  } else if (l >= z.size) {
    // Redis walks the whole zset from its tail here (zuiNext)
    for (let n = z.last(); n !== NIL; n = z.prev(n)) nodes.push(n);
  } else {
    // partial Fisher-Yates over slot indexes: l distinct members
    const picked = new Map<number, number>();
    const size = z.size;
    for (let i = 0; i < l; i++) {
      const r = i + Math.floor(Math.random() * (size - i));
      const vi = picked.get(i) ?? i;
      const vr = picked.get(r) ?? r;
      picked.set(r, vi);
      picked.set(i, vr);
      nodes.push(z.slotNode(vr));
    }
  }
  replyNodes(c, z, nodes, withScores);
}

function zscan(c: Client, argv: string[]): void {
  const cursor = parseCursor(c, argv[2]);
  if (cursor === null) return;
  const z = readZset(c, argv[1]);
  if (z === null) return;
  if (z === undefined) return replyScan(c, 0, []);
  const opts = parseScanOptions(c, argv, 3);
  if (opts === null) return;
  const out: string[] = [];
  const visit = (n: ZNode) => {
    const member = z.member(n);
    if (opts.pattern !== null && !globMatch(opts.pattern, member)) return;
    out.push(member, formatDouble17g(z.scoreOf(n)));
  };
  if (z.listpack) {
    for (let n = z.first(); n !== NIL; n = z.next(n)) visit(n);
    return replyScan(c, 0, out);
  }
  const next = z.scan(cursor, opts.count, visit);
  replyScan(c, next, out);
}

const z = ["sortedset"];
const k1: [number, number, number] = [1, 1, 1];

function zrangeCmd(name: string, arity: number, flags: string, argStart: number, extra: {
  store?: boolean;
  type?: "rank" | "score" | "lex";
  rev?: boolean;
}): CommandSpec {
  return cmd(
    "sorted-set",
    name,
    arity,
    flags,
    (c, argv) =>
      zrangeGeneric(c, argv, {
        argStart,
        store: extra.store ? argv[1] : null,
        type: extra.type ?? "auto",
        direction: extra.rev === undefined ? "auto" : extra.rev ? "rev" : "fwd",
      }),
    { keys: extra.store ? [1, 2, 1] : k1, categories: z },
  );
}

function numkeysAt(idx: number): (argv: string[]) => number[] {
  return (argv) => {
    const n = Number(argv[idx]);
    const out: number[] = [];
    if (!Number.isInteger(n) || n < 1) return out;
    for (let i = 0; i < n && idx + 1 + i < argv.length; i++) out.push(idx + 1 + i);
    return out;
  };
}

function withDst(f: (argv: string[]) => number[]): (argv: string[]) => number[] {
  return (argv) => [1, ...f(argv)];
}

/** The sorted set command specs. */
export const commands: CommandSpec[] = [
  cmd("sorted-set", "zadd", -4, "write denyoom fast", zaddCommand, {
    keys: k1,
    categories: z,
  }),
  cmd("sorted-set", "zincrby", 4, "write denyoom fast", zincrby, { keys: k1, categories: z }),
  cmd("sorted-set", "zscore", 3, "readonly fast", zscore, { keys: k1, categories: z }),
  cmd("sorted-set", "zmscore", -3, "readonly fast", zmscore, { keys: k1, categories: z }),
  cmd("sorted-set", "zcard", 2, "readonly fast", zcard, { keys: k1, categories: z }),
  cmd("sorted-set", "zcount", 4, "readonly fast", zcount, { keys: k1, categories: z }),
  cmd("sorted-set", "zlexcount", 4, "readonly fast", zlexcount, { keys: k1, categories: z }),
  cmd("sorted-set", "zrank", 3, "readonly fast", (c, a) => zrankGeneric(c, a, false), {
    keys: k1,
    categories: z,
  }),
  cmd("sorted-set", "zrevrank", 3, "readonly fast", (c, a) => zrankGeneric(c, a, true), {
    keys: k1,
    categories: z,
  }),
  zrangeCmd("zrange", -4, "readonly", 1, {}),
  zrangeCmd("zrangestore", -5, "write denyoom", 2, { store: true }),
  zrangeCmd("zrangebyscore", -4, "readonly", 1, { type: "score", rev: false }),
  zrangeCmd("zrevrangebyscore", -4, "readonly", 1, { type: "score", rev: true }),
  zrangeCmd("zrangebylex", -4, "readonly", 1, { type: "lex", rev: false }),
  zrangeCmd("zrevrangebylex", -4, "readonly", 1, { type: "lex", rev: true }),
  zrangeCmd("zrevrange", -4, "readonly", 1, { type: "rank", rev: true }),
  cmd("sorted-set", "zrem", -3, "write fast", zrem, { keys: k1, categories: z }),
  cmd("sorted-set", "zremrangebyrank", 4, "write", (c, a) => zremrangeGeneric(c, a, "rank"), {
    keys: k1,
    categories: z,
  }),
  cmd("sorted-set", "zremrangebyscore", 4, "write", (c, a) => zremrangeGeneric(c, a, "score"), {
    keys: k1,
    categories: z,
  }),
  cmd("sorted-set", "zremrangebylex", 4, "write", (c, a) => zremrangeGeneric(c, a, "lex"), {
    keys: k1,
    categories: z,
  }),
  cmd("sorted-set", "zpopmin", -2, "write fast", (c, a) => zpopMinMax(c, a, false), {
    keys: k1,
    categories: z,
  }),
  cmd("sorted-set", "zpopmax", -2, "write fast", (c, a) => zpopMinMax(c, a, true), {
    keys: k1,
    categories: z,
  }),
  cmd("sorted-set", "zmpop", -4, "write movablekeys", zmpop, {
    getKeys: numkeysAt(1),
    categories: z,
  }),
  cmd(
    "sorted-set",
    "bzpopmin",
    -3,
    "write noscript blocking fast",
    (c, a) => bzpopMinMax(c, a, false),
    {
      keys: [1, -2, 1],
      categories: z,
    },
  ),
  cmd(
    "sorted-set",
    "bzpopmax",
    -3,
    "write noscript blocking fast",
    (c, a) => bzpopMinMax(c, a, true),
    {
      keys: [1, -2, 1],
      categories: z,
    },
  ),
  cmd("sorted-set", "bzmpop", -5, "write blocking movablekeys", bzmpop, {
    getKeys: numkeysAt(2),
    categories: z,
  }),
  cmd(
    "sorted-set",
    "zunion",
    -3,
    "readonly movablekeys",
    (c, a) => zsetOp(c, a, "union", { dst: null, numkeysIdx: 1, cardOnly: false }),
    {
      getKeys: numkeysAt(1),
      categories: z,
    },
  ),
  cmd(
    "sorted-set",
    "zinter",
    -3,
    "readonly movablekeys",
    (c, a) => zsetOp(c, a, "inter", { dst: null, numkeysIdx: 1, cardOnly: false }),
    {
      getKeys: numkeysAt(1),
      categories: z,
    },
  ),
  cmd(
    "sorted-set",
    "zdiff",
    -3,
    "readonly movablekeys",
    (c, a) => zsetOp(c, a, "diff", { dst: null, numkeysIdx: 1, cardOnly: false }),
    {
      getKeys: numkeysAt(1),
      categories: z,
    },
  ),
  cmd(
    "sorted-set",
    "zintercard",
    -3,
    "readonly movablekeys",
    (c, a) => zsetOp(c, a, "inter", { dst: null, numkeysIdx: 1, cardOnly: true }),
    {
      getKeys: numkeysAt(1),
      categories: z,
    },
  ),
  cmd(
    "sorted-set",
    "zunionstore",
    -4,
    "write denyoom movablekeys",
    (c, a) => zsetOp(c, a, "union", { dst: a[1], numkeysIdx: 2, cardOnly: false }),
    {
      keys: k1,
      getKeys: withDst(numkeysAt(2)),
      categories: z,
    },
  ),
  cmd(
    "sorted-set",
    "zinterstore",
    -4,
    "write denyoom movablekeys",
    (c, a) => zsetOp(c, a, "inter", { dst: a[1], numkeysIdx: 2, cardOnly: false }),
    {
      keys: k1,
      getKeys: withDst(numkeysAt(2)),
      categories: z,
    },
  ),
  cmd(
    "sorted-set",
    "zdiffstore",
    -4,
    "write denyoom movablekeys",
    (c, a) => zsetOp(c, a, "diff", { dst: a[1], numkeysIdx: 2, cardOnly: false }),
    {
      keys: k1,
      getKeys: withDst(numkeysAt(2)),
      categories: z,
    },
  ),
  cmd("sorted-set", "zrandmember", -2, "readonly", zrandmember, { keys: k1, categories: z }),
  cmd("sorted-set", "zscan", -3, "readonly", zscan, { keys: k1, categories: z }),
];
