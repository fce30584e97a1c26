/** Hash commands (Redis: t_hash.c). */
import type { Client } from "../client.ts";
import { cmd, type CommandSpec } from "./table.ts";
import { ERR } from "../errors.ts";
import { type HashLimits, HashValue } from "../store/hash.ts";
import { parseBigInt64, parseInteger } from "../resp/bytes.ts";
import { globMatch } from "../store/glob.ts";
import { encodingLimits } from "./encoding_limits.ts";
import {
  addLongDouble,
  formatLongDoubleHuman,
  isInfinite,
  parseLongDouble,
} from "../store/long_double.ts";

const LONG_MAX_N = 9223372036854775807n;
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** The hash at `key` for reading: undefined if missing, null after a WRONGTYPE reply. */
function readHash(c: Client, key: string): HashValue | undefined | null {
  const v = c.db.get(key);
  if (v === undefined) return undefined;
  if (!(v instanceof HashValue)) {
    c.error(ERR.wrongType);
    return null;
  }
  return v;
}

/** The hash at `key` about to be changed: undefined if missing, null after WRONGTYPE. */
function writeHash(c: Client, key: string): HashValue | undefined | null {
  const e = c.db.lookupWrite(key);
  if (e === undefined) return undefined;
  if (!(e.value instanceof HashValue)) {
    c.error(ERR.wrongType);
    return null;
  }
  return e.value;
}

/** The hash at `key`, created when missing; null after WRONGTYPE. */
function writeOrCreateHash(c: Client, key: string): HashValue | null {
  const h = writeHash(c, key);
  if (h === null) return null;
  if (h !== undefined) return h;
  const created = new HashValue();
  c.db.add(key, created);
  return created;
}

function limits(c: Client): HashLimits {
  return encodingLimits(c).hash;
}

/** Sets field/value pairs from argv[2..]; returns how many fields were new. */
function setPairs(c: Client, h: HashValue, argv: string[]): number {
  let added = 0;
  let longest = 0;
  for (let i = 2; i < argv.length; i += 2) {
    if (h.set(argv[i], argv[i + 1])) added++;
    if (argv[i].length > longest) longest = argv[i].length;
    if (argv[i + 1].length > longest) longest = argv[i + 1].length;
  }
  if (h.isListpack) h.applyLimits(limits(c), longest);
  return added;
}

function hsetGeneric(c: Client, argv: string[], name: string): HashValue | null {
  if (argv.length % 2 === 1) {
    c.error(ERR.wrongArgs(name));
    return null;
  }
  const h = writeOrCreateHash(c, argv[1]);
  if (h === null) return null;
  return h;
}

function hset(c: Client, argv: string[]): void {
  const h = hsetGeneric(c, argv, "hset");
  if (h === null) return;
  c.reply.int(setPairs(c, h, argv));
  c.modified(argv[1], "h", "hset");
}

function hmset(c: Client, argv: string[]): void {
  const h = hsetGeneric(c, argv, "hmset");
  if (h === null) return;
  setPairs(c, h, argv);
  c.reply.simple("OK");
  c.modified(argv[1], "h", "hset");
}

function hsetnx(c: Client, argv: string[]): void {
  const h = writeHash(c, argv[1]);
  if (h === null) return;
  if (h !== undefined && h.has(argv[2])) return c.reply.int(0);
  setPairs(c, h ?? writeOrCreateHash(c, argv[1])!, argv);
  c.reply.int(1);
  c.modified(argv[1], "h", "hset");
}

function hget(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === null) return;
  c.reply.bulkOrNil(h?.get(argv[2]));
}

function hmget(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === null) return;
  c.reply.array(argv.length - 2);
  for (let i = 2; i < argv.length; i++) c.reply.bulkOrNil(h?.get(argv[i]));
}

function hgetall(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === null) return;
  if (h === undefined) return c.reply.map(0);
  c.reply.map(h.size);
  for (const [f, v] of h.entries()) {
    c.reply.bulk(f);
    c.reply.bulk(v);
  }
}

function hkeys(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === null) return;
  if (h === undefined) return c.reply.array(0);
  c.reply.array(h.size);
  for (const f of h.keys()) c.reply.bulk(f);
}

function hvals(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === null) return;
  if (h === undefined) return c.reply.array(0);
  c.reply.array(h.size);
  for (const v of h.values()) c.reply.bulk(v);
}

function hdel(c: Client, argv: string[]): void {
  const key = argv[1];
  const h = writeHash(c, key);
  if (h === null) return;
  if (h === undefined) return c.reply.int(0);
  let deleted = 0;
  for (let i = 2; i < argv.length; i++) {
    if (h.delete(argv[i])) deleted++;
    if (h.size === 0) break;
  }
  c.reply.int(deleted);
  if (deleted > 0) {
    c.modified(key, "h", "hdel");
    if (h.size === 0) {
      c.db.deleteEntry(key);
      c.server.notify("g", "del", key, c.db.id);
    }
  }
}

function hexists(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === null) return;
  c.reply.int(h?.has(argv[2]) ? 1 : 0);
}

function hlen(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === null) return;
  c.reply.int(h?.size ?? 0);
}

function hstrlen(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]);
  if (h === null) return;
  c.reply.int(h?.get(argv[2])?.length ?? 0);
}

function hincrby(c: Client, argv: string[]): void {
  const incr = parseBigInt64(argv[3]);
  if (incr === null) return c.error(ERR.notInteger);
  const key = argv[1];
  const h = writeHash(c, key);
  if (h === null) return;
  const old = h?.get(argv[2]);
  let current = 0n;
  if (old !== undefined) {
    const v = parseBigInt64(old);
    if (v === null) return c.error("ERR hash value is not an integer");
    current = v;
  }
  const next = current + incr;
  if (next > INT64_MAX || next < INT64_MIN) return c.error(ERR.overflow);
  const text = next.toString();
  setPairs(c, h ?? writeOrCreateHash(c, key)!, ["", "", argv[2], text]);
  c.reply.int(next);
  c.modified(key, "h", "hincrby");
}

function hincrbyfloat(c: Client, argv: string[]): void {
  const incr = parseLongDouble(argv[3]);
  if (incr === null) return c.error(ERR.notFloat);
  if (isInfinite(incr)) return c.error("ERR value is NaN or Infinity");
  const key = argv[1];
  const h = writeHash(c, key);
  if (h === null) return;
  const old = h?.get(argv[2]);
  let current = incr;
  if (old !== undefined) {
    const v = parseLongDouble(old);
    if (v === null) return c.error("ERR hash value is not a float");
    current = addLongDouble(v, incr);
  }
  if (isInfinite(current)) return c.error(ERR.incrNanInf);
  const text = formatLongDoubleHuman(current);
  setPairs(c, h ?? writeOrCreateHash(c, key)!, ["", "", argv[2], text]);
  c.reply.bulk(text);
  c.modified(key, "h", "hincrbyfloat");
  c.rewrite(["HSET", key, argv[2], text]);
}

/** Replies with one field, and its value when asked (RESP3: a [field, value] pair). */
function replyPair(c: Client, h: HashValue, field: string, withValues: boolean): void {
  if (withValues && c.reply.resp === 3) c.reply.array(2);
  c.reply.bulk(field);
  if (withValues) c.reply.bulk(h.get(field)!);
}

function hrandfield(c: Client, argv: string[]): void {
  if (argv.length === 2) {
    const h = readHash(c, argv[1]);
    if (h === null) return;
    if (h === undefined) return c.reply.nil();
    return c.reply.bulk(h.randomField());
  }
  const big = parseBigInt64(argv[2]);
  if (big === null) return c.error(ERR.notInteger);
  if (big < -LONG_MAX_N) {
    return c.error(
      `ERR value is out of range, value must between ${-LONG_MAX_N} and ${LONG_MAX_N}`,
    );
  }
  let withValues = false;
  if (argv.length > 4 || (argv.length === 4 && argv[3].toLowerCase() !== "withvalues")) {
    return c.error(ERR.syntax);
  }
  if (argv.length === 4) {
    withValues = true;
    if (big < -LONG_MAX_N / 2n || big > LONG_MAX_N / 2n) {
      return c.error("ERR value is out of range");
    }
  }
  const l = Number(big);
  const h = readHash(c, argv[1]);
  if (h === null) return;
  if (h === undefined || l === 0) return c.reply.array(0);
  const flat = withValues && c.reply.resp === 2;
  const count = Math.abs(l);
  // negative count: independent draws, repetitions allowed
  if (l < 0 || count === 1) {
    c.reply.array(flat ? count * 2 : count);
    for (let i = 0; i < count; i++) replyPair(c, h, h.randomField(), withValues);
    return;
  }
  if (count >= h.size) {
    c.reply.array(flat ? h.size * 2 : h.size);
    for (const f of h.keys()) replyPair(c, h, f, withValues);
    return;
  }
  const fields = h.randomDistinctFields(count);
  c.reply.array(flat ? count * 2 : count);
  for (const f of fields) replyPair(c, h, f, withValues);
}

/** Redis's parseScanCursorOrReply: an unsigned long (strtoul), or null after the error. */
function parseCursor(c: Client, arg: string): number | null {
  const m = /^([+-]?)(\d+)$/.exec(arg);
  if (arg === "") return 0;
  if (m === null || BigInt(m[2]) > 18446744073709551615n) {
    c.error("ERR invalid cursor");
    return null;
  }
  const v = BigInt(m[2]);
  const wrapped = m[1] === "-" && v !== 0n ? 18446744073709551616n - v : v;
  return Number(wrapped);
}

function hscan(c: Client, argv: string[]): void {
  const cursor = parseCursor(c, argv[2]);
  if (cursor === null) return;
  const h = readHash(c, argv[1]);
  if (h === null) return;
  if (h === undefined) {
    c.reply.array(2);
    c.reply.bulk("0");
    c.reply.array(0);
    return;
  }
  let count = 10;
  let pattern: string | null = null;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    const more = j < argv.length - 1;
    if (opt === "count" && more) {
      const n = parseInteger(argv[++j]);
      if (n === null) return c.error(ERR.notInteger);
      if (n < 1) return c.error(ERR.syntax);
      count = n;
    } else if (opt === "match" && more) {
      pattern = argv[++j];
      // "*" matches everything: skip the per-element test, as Redis does
      if (pattern === "*") pattern = null;
    } else {
      return c.error(ERR.syntax);
    }
  }
  const out: string[] = [];
  let next = 0;
  if (h.isListpack) {
    for (const [f, v] of h.entries()) out.push(f, v);
  } else {
    next = h.scan(cursor, count, (f, v) => out.push(f, v));
  }
  c.reply.array(2);
  c.reply.bulk(String(next));
  if (pattern === null) return c.reply.bulkArray(out);
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2) {
    if (globMatch(pattern, out[i])) kept.push(out[i], out[i + 1]);
  }
  c.reply.bulkArray(kept);
}

const H = { categories: ["hash"] };

/** The hash command specs. */
export const commands: CommandSpec[] = [
  cmd("hash", "hset", -4, "write denyoom fast", hset, { keys: [1, 1, 1], ...H }),
  cmd("hash", "hmset", -4, "write denyoom fast", hmset, { keys: [1, 1, 1], ...H }),
  cmd("hash", "hsetnx", 4, "write denyoom fast", hsetnx, { keys: [1, 1, 1], ...H }),
  cmd("hash", "hget", 3, "readonly fast", hget, { keys: [1, 1, 1], ...H }),
  cmd("hash", "hmget", -3, "readonly fast", hmget, { keys: [1, 1, 1], ...H }),
  cmd("hash", "hgetall", 2, "readonly", hgetall, { keys: [1, 1, 1], ...H }),
  cmd("hash", "hkeys", 2, "readonly", hkeys, { keys: [1, 1, 1], ...H }),
  cmd("hash", "hvals", 2, "readonly", hvals, { keys: [1, 1, 1], ...H }),
  cmd("hash", "hdel", -3, "write fast", hdel, { keys: [1, 1, 1], ...H }),
  cmd("hash", "hexists", 3, "readonly fast", hexists, { keys: [1, 1, 1], ...H }),
  cmd("hash", "hlen", 2, "readonly fast", hlen, { keys: [1, 1, 1], ...H }),
  cmd("hash", "hstrlen", 3, "readonly fast", hstrlen, { keys: [1, 1, 1], ...H }),
  cmd("hash", "hincrby", 4, "write denyoom fast", hincrby, { keys: [1, 1, 1], ...H }),
  cmd("hash", "hincrbyfloat", 4, "write denyoom fast", hincrbyfloat, { keys: [1, 1, 1], ...H }),
  cmd("hash", "hrandfield", -2, "readonly", hrandfield, { keys: [1, 1, 1], ...H }),
  cmd("hash", "hscan", -3, "readonly", hscan, { keys: [1, 1, 1], ...H }),
];
