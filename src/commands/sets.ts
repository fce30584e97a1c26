/**
 * Set commands (Redis: t_set.c). SPOP propagates as SREM (or DEL when it empties the
 * set), as Redis 7.0 does.
 */
import type { Client } from "../client.ts";
import { cmd, type CommandSpec } from "./table.ts";
import { ERR } from "../errors.ts";
import { SetValue } from "../store/set.ts";
import { globMatch } from "../store/glob.ts";
import { encodingLimits } from "./encoding_limits.ts";
import { COLL_ERR, longArg, parseCursor, parseScanOptions, replyScan } from "./zset_args.ts";

/** The set at `key` for reading: undefined if missing, null after a WRONGTYPE reply. */
export function readSet(c: Client, key: string): SetValue | undefined | null {
  const v = c.db.get(key);
  if (v === undefined) return undefined;
  if (!(v instanceof SetValue)) {
    c.error(ERR.wrongType);
    return null;
  }
  return v;
}

/** The set at `key` about to change: undefined if missing, null after WRONGTYPE. */
function writeSet(c: Client, key: string): SetValue | undefined | null {
  const e = c.db.lookupWrite(key);
  if (e === undefined) return undefined;
  if (!(e.value instanceof SetValue)) {
    c.error(ERR.wrongType);
    return null;
  }
  return e.value;
}

function maxIntset(c: Client): number {
  return encodingLimits(c).setMaxIntset;
}

/** Deletes an emptied set with the "del" notification; true if deleted. */
function deleteIfEmpty(c: Client, key: string, s: SetValue): boolean {
  if (s.size !== 0) return false;
  c.db.deleteEntry(key);
  c.server.notify("g", "del", key, c.db.id);
  return true;
}

function sadd(c: Client, argv: string[]): void {
  const key = argv[1];
  let s = writeSet(c, key);
  if (s === null) return;
  if (s === undefined) {
    s = SetValue.forFirstMember(argv[2]);
    c.db.add(key, s);
  }
  const max = maxIntset(c);
  let added = 0;
  for (let i = 2; i < argv.length; i++) if (s.add(argv[i], max)) added++;
  if (added > 0) {
    c.modified(key, "s", "sadd");
    c.server.dirty += added - 1;
  }
  c.reply.int(added);
}

function srem(c: Client, argv: string[]): void {
  const key = argv[1];
  const s = writeSet(c, key);
  if (s === null) return;
  if (s === undefined) return c.reply.int(0);
  let deleted = 0;
  for (let i = 2; i < argv.length; i++) {
    if (s.remove(argv[i])) deleted++;
    if (s.size === 0) break;
  }
  if (deleted > 0) {
    c.modified(key, "s", "srem");
    c.server.dirty += deleted - 1;
    deleteIfEmpty(c, key, s);
  }
  c.reply.int(deleted);
}

function smove(c: Client, argv: string[]): void {
  const [, srcKey, dstKey, member] = argv;
  const src = writeSet(c, srcKey);
  if (src === null) return;
  const dstValue = c.db.lookupWrite(dstKey)?.value;
  if (src === undefined) return c.reply.int(0);
  if (dstValue !== undefined && !(dstValue instanceof SetValue)) return c.error(ERR.wrongType);
  if (src === dstValue) return c.reply.int(src.has(member) ? 1 : 0);
  if (!src.remove(member)) return c.reply.int(0);
  c.modified(srcKey, "s", "srem");
  deleteIfEmpty(c, srcKey, src);
  let dst = dstValue;
  if (dst === undefined) {
    dst = SetValue.forFirstMember(member);
    c.db.add(dstKey, dst);
  }
  if (dst.add(member, maxIntset(c))) c.modified(dstKey, "s", "sadd");
  c.reply.int(1);
}

function sismember(c: Client, argv: string[]): void {
  const s = readSet(c, argv[1]);
  if (s === null) return;
  c.reply.int(s?.has(argv[2]) ? 1 : 0);
}

function smismember(c: Client, argv: string[]): void {
  const s = readSet(c, argv[1]);
  if (s === null) return;
  c.reply.array(argv.length - 2);
  for (let i = 2; i < argv.length; i++) c.reply.int(s?.has(argv[i]) ? 1 : 0);
}

function scard(c: Client, argv: string[]): void {
  const s = readSet(c, argv[1]);
  if (s === null) return;
  c.reply.int(s?.size ?? 0);
}

function smembers(c: Client, argv: string[]): void {
  const s = readSet(c, argv[1]);
  if (s === null) return;
  replySet(c, s === undefined ? [] : s.toArray());
}

function replySet(c: Client, items: string[]): void {
  c.reply.set(items.length);
  for (const m of items) c.reply.bulk(m);
}

function spop(c: Client, argv: string[]): void {
  const key = argv[1];
  if (argv.length > 3) return c.error(ERR.syntax);
  if (argv.length === 3) return spopWithCount(c, argv);
  const s = writeSet(c, key);
  if (s === null) return;
  if (s === undefined) return c.reply.nil();
  const m = s.random();
  s.remove(m);
  c.modified(key, "s", "spop");
  c.rewrite(["SREM", key, m]);
  deleteIfEmpty(c, key, s);
  c.reply.bulk(m);
}

function spopWithCount(c: Client, argv: string[]): void {
  const key = argv[1];
  const count = longArg(c, argv[2], COLL_ERR.notPositive);
  if (count === null) return;
  if (count < 0) return c.error(COLL_ERR.notPositive);
  const s = writeSet(c, key);
  if (s === null) return;
  if (s === undefined || count === 0) return replySet(c, []);
  if (count >= s.size) {
    const size = s.size;
    replySet(c, s.toArray());
    c.db.deleteEntry(key);
    c.modified(key, "s", "spop");
    c.server.dirty += size - 1;
    c.server.notify("g", "del", key, c.db.id);
    c.rewrite(["DEL", key]);
    return;
  }
  const popped: string[] = [];
  for (let i = 0; i < count; i++) {
    const m = s.random();
    s.remove(m);
    popped.push(m);
    c.server.alsoPropagate(c.db.id, ["SREM", key, m]);
  }
  // popping most of a set, Redis builds a fresh set of the survivors (SPOP_MOVE_STRATEGY_MUL)
  if (count * 5 > s.size + count) {
    c.db.lookupWrite(key)!.value = SetValue.from(s.toArray(), maxIntset(c));
  }
  c.modified(key, "s", "spop");
  c.server.dirty += count - 1;
  c.preventPropagation = true;
  replySet(c, popped);
}

function srandmember(c: Client, argv: string[]): void {
  if (argv.length > 3) return c.error(ERR.syntax);
  if (argv.length === 2) {
    const s = readSet(c, argv[1]);
    if (s === null) return;
    if (s === undefined) return c.reply.nil();
    return c.reply.bulk(s.random());
  }
  const l = longArg(c, argv[2]);
  if (l === null) return;
  if (argv[2] === "-9223372036854775808") {
    return c.error(
      `ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807`,
    );
  }
  const s = readSet(c, argv[1]);
  if (s === null) return;
  if (s === undefined || l === 0) return c.reply.array(0);
  const out: string[] = [];
  if (l < 0) {
    for (let i = 0; i < -l; i++) out.push(s.random());
  } else if (l >= s.size) {
    out.push(...s.toArray());
  } else {
    // partial Fisher-Yates over positions: l distinct members
    const swapped = new Map<number, number>();
    for (let i = 0; i < l; i++) {
      const r = i + Math.floor(Math.random() * (s.size - i));
      const vi = swapped.get(i) ?? i;
      const vr = swapped.get(r) ?? r;
      swapped.set(r, vi);
      swapped.set(i, vr);
      out.push(s.at(vr));
    }
  }
  c.reply.bulkArray(out);
}

/** Reads the sets at `keys`; null after a WRONGTYPE reply. Missing keys are undefined. */
function readSets(c: Client, keys: string[]): Array<SetValue | undefined> | null {
  const out: Array<SetValue | undefined> = [];
  for (const k of keys) {
    const v = c.db.get(k);
    if (v !== undefined && !(v instanceof SetValue)) {
      c.error(ERR.wrongType);
      return null;
    }
    out.push(v);
  }
  return out;
}

/** Stores a computed set at `dst` (or deletes it when empty) and replies its size. */
function storeResult(c: Client, dst: string, result: SetValue, event: string): void {
  if (result.size > 0) {
    c.db.set(dst, result);
    c.modified(dst, "s", event);
  } else if (c.db.delete(dst)) {
    c.modified(dst, "g", "del");
  }
  c.reply.int(result.size);
}

function sinterGeneric(
  c: Client,
  keys: string[],
  opts: { dst: string | null; cardOnly: boolean; limit: number },
): void {
  const sets = readSets(c, keys);
  if (sets === null) return;
  const result = new SetValue();
  if (sets.some((s) => s === undefined)) {
    if (opts.dst !== null) return storeResult(c, opts.dst, result, "sinterstore");
    if (opts.cardOnly) return c.reply.int(0);
    return replySet(c, []);
  }
  const sorted = (sets as SetValue[]).slice().sort((a, b) => a.size - b.size);
  const max = maxIntset(c);
  let card = 0;
  for (const m of sorted[0].members()) {
    let all = true;
    for (let k = 1; k < sorted.length && all; k++) all = sorted[k].has(m);
    if (!all) continue;
    if (opts.cardOnly) {
      card++;
      if (opts.limit !== 0 && card === opts.limit) break;
    } else result.add(m, max);
  }
  if (opts.cardOnly) return c.reply.int(card);
  if (opts.dst !== null) return storeResult(c, opts.dst, result, "sinterstore");
  replySet(c, result.toArray());
}

function sunionDiffGeneric(
  c: Client,
  keys: string[],
  dst: string | null,
  op: "union" | "diff",
): void {
  const sets = readSets(c, keys);
  if (sets === null) return;
  const max = maxIntset(c);
  const result = new SetValue();
  if (op === "union") {
    for (const s of sets) if (s !== undefined) { for (const m of s.members()) result.add(m, max); }
  } else if (sets[0] !== undefined && !sets.slice(1).includes(sets[0])) {
    for (const m of sets[0].members()) {
      if (!sets.some((s, i) => i > 0 && s !== undefined && s.has(m))) result.add(m, max);
    }
  }
  if (dst !== null) {
    return storeResult(c, dst, result, op === "union" ? "sunionstore" : "sdiffstore");
  }
  replySet(c, result.toArray());
}

function sintercard(c: Client, argv: string[]): void {
  const numkeys = longArg(c, argv[1], COLL_ERR.numkeys);
  if (numkeys === null) return;
  if (numkeys < 1) return c.error(COLL_ERR.numkeys);
  if (numkeys > argv.length - 2) {
    return c.error("ERR Number of keys can't be greater than number of args");
  }
  let limit = 0;
  for (let j = 2 + numkeys; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (argv[j].toLowerCase() === "limit" && more > 0) {
      j++;
      const l = longArg(c, argv[j], COLL_ERR.negativeLimit);
      if (l === null) return;
      if (l < 0) return c.error(COLL_ERR.negativeLimit);
      limit = l;
    } else return c.error(ERR.syntax);
  }
  sinterGeneric(c, argv.slice(2, 2 + numkeys), { dst: null, cardOnly: true, limit });
}

function sscan(c: Client, argv: string[]): void {
  const cursor = parseCursor(c, argv[2]);
  if (cursor === null) return;
  const s = readSet(c, argv[1]);
  if (s === null) return;
  if (s === undefined) return replyScan(c, 0, []);
  const opts = parseScanOptions(c, argv, 3);
  if (opts === null) return;
  const out: string[] = [];
  const visit = (m: string) => {
    if (opts.pattern === null || globMatch(opts.pattern, m)) out.push(m);
  };
  if (s.intset) {
    for (const m of s.members()) visit(m);
    return replyScan(c, 0, out);
  }
  replyScan(c, s.scan(cursor, opts.count, visit), out);
}

const cat = ["set"];
const k1: [number, number, number] = [1, 1, 1];
const all: [number, number, number] = [1, -1, 1];

function sintercardKeys(argv: string[]): number[] {
  const n = Number(argv[1]);
  const out: number[] = [];
  if (!Number.isInteger(n) || n < 1) return out;
  for (let i = 0; i < n && 2 + i < argv.length; i++) out.push(2 + i);
  return out;
}

/** The set command specs. */
export const commands: CommandSpec[] = [
  cmd("set", "sadd", -3, "write denyoom fast", sadd, { keys: k1, categories: cat }),
  cmd("set", "srem", -3, "write fast", srem, { keys: k1, categories: cat }),
  cmd("set", "smove", 4, "write fast", smove, { keys: [1, 2, 1], categories: cat }),
  cmd("set", "sismember", 3, "readonly fast", sismember, { keys: k1, categories: cat }),
  cmd("set", "smismember", -3, "readonly fast", smismember, { keys: k1, categories: cat }),
  cmd("set", "scard", 2, "readonly fast", scard, { keys: k1, categories: cat }),
  cmd("set", "smembers", 2, "readonly", smembers, { keys: k1, categories: cat }),
  cmd("set", "spop", -2, "write fast", spop, { keys: k1, categories: cat }),
  cmd("set", "srandmember", -2, "readonly", srandmember, { keys: k1, categories: cat }),
  cmd(
    "set",
    "sinter",
    -2,
    "readonly",
    (c, a) => sinterGeneric(c, a.slice(1), { dst: null, cardOnly: false, limit: 0 }),
    {
      keys: all,
      categories: cat,
    },
  ),
  cmd("set", "sintercard", -3, "readonly movablekeys", sintercard, {
    getKeys: sintercardKeys,
    categories: cat,
  }),
  cmd(
    "set",
    "sinterstore",
    -3,
    "write denyoom",
    (c, a) => sinterGeneric(c, a.slice(2), { dst: a[1], cardOnly: false, limit: 0 }),
    {
      keys: all,
      categories: cat,
    },
  ),
  cmd("set", "sunion", -2, "readonly", (c, a) => sunionDiffGeneric(c, a.slice(1), null, "union"), {
    keys: all,
    categories: cat,
  }),
  cmd(
    "set",
    "sunionstore",
    -3,
    "write denyoom",
    (c, a) => sunionDiffGeneric(c, a.slice(2), a[1], "union"),
    { keys: all, categories: cat },
  ),
  cmd("set", "sdiff", -2, "readonly", (c, a) => sunionDiffGeneric(c, a.slice(1), null, "diff"), {
    keys: all,
    categories: cat,
  }),
  cmd(
    "set",
    "sdiffstore",
    -3,
    "write denyoom",
    (c, a) => sunionDiffGeneric(c, a.slice(2), a[1], "diff"),
    { keys: all, categories: cat },
  ),
  cmd("set", "sscan", -3, "readonly", sscan, { keys: k1, categories: cat }),
];
