/**
 * List commands (Redis: t_list.c), including the blocking pops and moves, which wait
 * through server.blocking and propagate as their non-blocking forms.
 */
import type { Client } from "../client.ts";
import { cmd, type CommandSpec } from "./table.ts";
import { ERR } from "../errors.ts";
import { ListValue } from "../store/list.ts";
import { parseInteger } from "../resp/bytes.ts";
import { parseTimeoutSeconds } from "../blocking.ts";

const LONG_MAX = 9223372036854775807;

/** The list at `key` for reading: undefined if missing, null after a WRONGTYPE reply. */
function readList(c: Client, key: string): ListValue | undefined | null {
  const v = c.db.get(key);
  if (v === undefined) return undefined;
  if (!(v instanceof ListValue)) {
    c.error(ERR.wrongType);
    return null;
  }
  return v;
}

/** The list at `key` about to be changed: undefined if missing, null after WRONGTYPE. */
function writeList(c: Client, key: string): ListValue | undefined | null {
  const e = c.db.lookupWrite(key);
  if (e === undefined) return undefined;
  if (!(e.value instanceof ListValue)) {
    c.error(ERR.wrongType);
    return null;
  }
  return e.value;
}

/** Parses a C long argument, replying with Redis's error when it is not one. */
function parseLong(c: Client, arg: string): number | null {
  const n = parseInteger(arg);
  if (n === null) c.error(ERR.notInteger);
  return n;
}

/**
 * Redis's getRangeLongFromObjectOrReply: an integer within [min, max]; `msg` (when
 * given) replaces both the parse and the range error.
 */
function parseRange(
  c: Client,
  arg: string,
  min: number,
  max: number,
  msg?: string,
): number | null {
  const n = parseInteger(arg);
  if (n === null) {
    c.error(msg ?? ERR.notInteger);
    return null;
  }
  if (n < min || n > max) {
    c.error(msg ?? `ERR value is out of range, value must between ${min} and ${max}`);
    return null;
  }
  return n;
}

/** LEFT/RIGHT → true for the head; null after a syntax error. */
function parseSide(c: Client, arg: string): boolean | null {
  const s = arg.toLowerCase();
  if (s === "left") return true;
  if (s === "right") return false;
  c.error(ERR.syntax);
  return null;
}

/** Deletes an emptied list with the "del" notification. */
function deleteIfEmpty(c: Client, key: string, list: ListValue): void {
  if (list.length === 0) {
    c.db.deleteEntry(key);
    c.server.notify("g", "del", key, c.db.id);
  }
}

/**
 * A command that touched a key without changing it (LTRIM keeping everything): WATCH
 * and notifications as Redis, but nothing to propagate.
 */
function touchedUnchanged(c: Client, key: string, event: string): void {
  c.server.keyModified(c.db, key);
  c.server.notify("l", event, key, c.db.id);
}

/** A blocking command run where it may not block (MULTI, scripts, fake clients). */
function cannotBlock(c: Client): boolean {
  return c.server.inExec || c.conn === null;
}

function pushGeneric(c: Client, argv: string[], head: boolean, onlyExisting: boolean): void {
  const key = argv[1];
  let list = writeList(c, key);
  if (list === null) return;
  if (list === undefined) {
    if (onlyExisting) return c.reply.int(0);
    list = new ListValue();
    c.db.add(key, list);
  }
  for (let i = 2; i < argv.length; i++) list.push(argv[i], head);
  c.reply.int(list.length);
  c.modified(key, "l", head ? "lpush" : "rpush");
}

function lpush(c: Client, argv: string[]): void {
  pushGeneric(c, argv, true, false);
}

function rpush(c: Client, argv: string[]): void {
  pushGeneric(c, argv, false, false);
}

function lpushx(c: Client, argv: string[]): void {
  pushGeneric(c, argv, true, true);
}

function rpushx(c: Client, argv: string[]): void {
  pushGeneric(c, argv, false, true);
}

function popGeneric(c: Client, argv: string[], head: boolean): void {
  let count = -1;
  if (argv.length > 3) return c.error(ERR.wrongArgs(head ? "lpop" : "rpop"));
  if (argv.length === 3) {
    const n = parseRange(c, argv[2], 0, LONG_MAX, "ERR value is out of range, must be positive");
    if (n === null) return;
    count = n;
  }
  const key = argv[1];
  const list = writeList(c, key);
  if (list === null) return;
  if (list === undefined) return count >= 0 ? c.reply.nullArray() : c.reply.nil();
  if (count === 0) return c.reply.array(0);
  if (count < 0) {
    c.reply.bulk(list.pop(head)!);
  } else {
    const n = Math.min(count, list.length);
    c.reply.array(n);
    for (let i = 0; i < n; i++) c.reply.bulk(list.pop(head)!);
  }
  c.modified(key, "l", head ? "lpop" : "rpop");
  deleteIfEmpty(c, key, list);
}

function lpop(c: Client, argv: string[]): void {
  popGeneric(c, argv, true);
}

function rpop(c: Client, argv: string[]): void {
  popGeneric(c, argv, false);
}

function llen(c: Client, argv: string[]): void {
  const list = readList(c, argv[1]);
  if (list === null) return;
  c.reply.int(list === undefined ? 0 : list.length);
}

function lrange(c: Client, argv: string[]): void {
  let start = parseLong(c, argv[2]);
  if (start === null) return;
  let end = parseLong(c, argv[3]);
  if (end === null) return;
  const list = readList(c, argv[1]);
  if (list === null) return;
  if (list === undefined) return c.reply.array(0);
  const len = list.length;
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) return c.reply.array(0);
  if (end >= len) end = len - 1;
  c.reply.array(end - start + 1);
  list.writeRange(start, end, c.reply);
}

function lindex(c: Client, argv: string[]): void {
  const list = readList(c, argv[1]);
  if (list === null) return;
  if (list === undefined) return c.reply.nil();
  const index = parseLong(c, argv[2]);
  if (index === null) return;
  c.reply.bulkOrNil(list.at(index));
}

function lset(c: Client, argv: string[]): void {
  const key = argv[1];
  const list = writeList(c, key);
  if (list === null) return;
  if (list === undefined) return c.error(ERR.noSuchKey);
  const index = parseLong(c, argv[2]);
  if (index === null) return;
  if (!list.set(index, argv[3])) return c.error(ERR.outOfRange);
  c.reply.simple("OK");
  c.modified(key, "l", "lset");
}

function linsert(c: Client, argv: string[]): void {
  const where = argv[2].toLowerCase();
  if (where !== "before" && where !== "after") return c.error(ERR.syntax);
  const key = argv[1];
  const list = writeList(c, key);
  if (list === null) return;
  if (list === undefined) return c.reply.int(0);
  const i = list.indexOf(argv[3]);
  if (i < 0) return c.reply.int(-1);
  list.insertAt(where === "before" ? i : i + 1, argv[4]);
  c.reply.int(list.length);
  c.modified(key, "l", "linsert");
}

function lrem(c: Client, argv: string[]): void {
  const count = parseLong(c, argv[2]);
  if (count === null) return;
  const key = argv[1];
  const list = writeList(c, key);
  if (list === null) return;
  if (list === undefined) return c.reply.int(0);
  const removed = list.removeValue(argv[3], count);
  c.reply.int(removed);
  if (removed > 0) {
    c.modified(key, "l", "lrem");
    deleteIfEmpty(c, key, list);
  }
}

function ltrim(c: Client, argv: string[]): void {
  let start = parseLong(c, argv[2]);
  if (start === null) return;
  let end = parseLong(c, argv[3]);
  if (end === null) return;
  const key = argv[1];
  const list = writeList(c, key);
  if (list === null) return;
  if (list === undefined) return c.reply.simple("OK");
  const len = list.length;
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  let fromHead: number;
  let fromTail: number;
  if (start > end || start >= len) {
    fromHead = len;
    fromTail = 0;
  } else {
    if (end >= len) end = len - 1;
    fromHead = start;
    fromTail = len - end - 1;
  }
  list.trim(fromHead, fromTail);
  if (fromHead + fromTail > 0) c.modified(key, "l", "ltrim");
  else touchedUnchanged(c, key, "ltrim");
  deleteIfEmpty(c, key, list);
  c.reply.simple("OK");
}

function lpos(c: Client, argv: string[]): void {
  let rank = 1;
  let count = -1;
  let maxlen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    const more = j < argv.length - 1;
    if (opt === "rank" && more) {
      const n = parseInteger(argv[++j]);
      if (n === null) return c.error(ERR.notInteger);
      if (n === 0) {
        return c.error(
          "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
        );
      }
      // Redis negates LONG_MIN in place, which leaves it negative and matching at once:
      // it behaves as -1
      rank = argv[j] === "-9223372036854775808" ? -1 : n;
    } else if (opt === "count" && more) {
      const n = parseRange(c, argv[++j], 0, LONG_MAX, "ERR COUNT can't be negative");
      if (n === null) return;
      count = n;
    } else if (opt === "maxlen" && more) {
      const n = parseRange(c, argv[++j], 0, LONG_MAX, "ERR MAXLEN can't be negative");
      if (n === null) return;
      maxlen = n;
    } else {
      return c.error(ERR.syntax);
    }
  }
  const list = readList(c, argv[1]);
  if (list === null) return;
  if (list === undefined) return count >= 0 ? c.reply.array(0) : c.reply.nil();
  const element = argv[2];
  const len = list.length;
  const fromHead = rank > 0;
  let skip = Math.abs(rank) - 1;
  const limit = count === 0 ? Infinity : count < 0 ? 1 : count;
  const found: number[] = [];
  const scanLen = maxlen === 0 ? len : Math.min(maxlen, len);
  for (let n = 0; n < scanLen && found.length < limit; n++) {
    const index = fromHead ? n : len - 1 - n;
    if (list.at(index) !== element) continue;
    if (skip > 0) skip--;
    else found.push(index);
  }
  if (count < 0) {
    if (found.length === 0) c.reply.nil();
    else c.reply.int(found[0]);
    return;
  }
  c.reply.array(found.length);
  for (const i of found) c.reply.int(i);
}

/**
 * Moves one element from the list at `src` (which must exist) to `dst`, replying
 * with it. Returns false (after a WRONGTYPE reply) when `dst` is not a list.
 */
function moveElement(
  c: Client,
  src: string,
  dst: string,
  list: ListValue,
  fromHead: boolean,
  toHead: boolean,
): boolean {
  let target = src === dst ? list : writeList(c, dst);
  if (target === null) return false;
  const value = list.pop(fromHead)!;
  if (target === undefined) {
    target = new ListValue();
    c.db.add(dst, target);
  }
  target.push(value, toHead);
  c.reply.bulk(value);
  c.modified(dst, "l", toHead ? "lpush" : "rpush");
  c.modified(src, "l", fromHead ? "lpop" : "rpop");
  deleteIfEmpty(c, src, list);
  return true;
}

function lmoveGeneric(c: Client, src: string, dst: string, fromHead: boolean, toHead: boolean) {
  const list = writeList(c, src);
  if (list === null) return;
  if (list === undefined) return c.reply.nil();
  moveElement(c, src, dst, list, fromHead, toHead);
}

function lmove(c: Client, argv: string[]): void {
  const fromHead = parseSide(c, argv[3]);
  if (fromHead === null) return;
  const toHead = parseSide(c, argv[4]);
  if (toHead === null) return;
  lmoveGeneric(c, argv[1], argv[2], fromHead, toHead);
}

function rpoplpush(c: Client, argv: string[]): void {
  lmoveGeneric(c, argv[1], argv[2], false, true);
}

/**
 * Pops up to `count` elements of the list at `key` and replies [key, [elements]]
 * (LMPOP / BLMPOP); propagates as [LR]POP key n.
 */
function popRangeWithKey(c: Client, key: string, list: ListValue, head: boolean, count: number) {
  const n = Math.min(count, list.length);
  c.reply.array(2);
  c.reply.bulk(key);
  c.reply.array(n);
  for (let i = 0; i < n; i++) c.reply.bulk(list.pop(head)!);
  c.modified(key, "l", head ? "lpop" : "rpop");
  deleteIfEmpty(c, key, list);
  c.rewrite([head ? "LPOP" : "RPOP", key, String(n)]);
}

/** Parsed LMPOP / BLMPOP arguments after numkeys. */
interface MpopArgs {
  keys: string[];
  head: boolean;
  count: number;
}

function parseMpop(c: Client, argv: string[], numkeysIdx: number): MpopArgs | null {
  const numkeys = parseRange(
    c,
    argv[numkeysIdx],
    1,
    LONG_MAX,
    "ERR numkeys should be greater than 0",
  );
  if (numkeys === null) return null;
  const whereIdx = numkeysIdx + numkeys + 1;
  if (whereIdx >= argv.length) {
    c.error(ERR.syntax);
    return null;
  }
  const head = parseSide(c, argv[whereIdx]);
  if (head === null) return null;
  let count = -1;
  for (let j = whereIdx + 1; j < argv.length; j++) {
    if (count === -1 && argv[j].toLowerCase() === "count" && j < argv.length - 1) {
      const n = parseRange(c, argv[++j], 1, LONG_MAX, "ERR count should be greater than 0");
      if (n === null) return null;
      count = n;
    } else {
      c.error(ERR.syntax);
      return null;
    }
  }
  return { keys: argv.slice(numkeysIdx + 1, whereIdx), head, count: count === -1 ? 1 : count };
}

function lmpop(c: Client, argv: string[]): void {
  const args = parseMpop(c, argv, 1);
  if (args === null) return;
  for (const key of args.keys) {
    const list = writeList(c, key);
    if (list === null) return;
    if (list === undefined) continue;
    return popRangeWithKey(c, key, list, args.head, args.count);
  }
  c.reply.nullArray();
}

/**
 * The first non-empty list among `keys`, for a blocking command. Re-run for a woken
 * client, the key that became ready comes first (as Redis serves it), and a key of
 * another type is skipped (Redis 7.0 keeps waiting) instead of answering WRONGTYPE.
 * Returns null after an error reply.
 */
function firstList(c: Client, keys: string[]): [string, ListValue] | undefined | null {
  const ready = c.reprocessing ? c.server.blocking.servingKey : null;
  for (const key of ready !== null && keys.includes(ready) ? [ready, ...keys] : keys) {
    const e = c.db.lookupWrite(key);
    if (e === undefined) continue;
    if (!(e.value instanceof ListValue)) {
      if (c.reprocessing) continue;
      c.error(ERR.wrongType);
      return null;
    }
    return [key, e.value];
  }
  return undefined;
}

function blockingPop(c: Client, argv: string[], head: boolean): void {
  const timeoutMs = parseTimeoutSeconds(argv[argv.length - 1]);
  if (typeof timeoutMs === "string") return c.error(timeoutMs);
  const keys = argv.slice(1, -1);
  const found = firstList(c, keys);
  if (found === null) return;
  if (found === undefined) return c.server.blocking.block(c, { keys, timeoutMs });
  const [key, list] = found;
  c.reply.array(2);
  c.reply.bulk(key);
  c.reply.bulk(list.pop(head)!);
  c.modified(key, "l", head ? "lpop" : "rpop");
  deleteIfEmpty(c, key, list);
  c.rewrite([head ? "LPOP" : "RPOP", key]);
}

function blpop(c: Client, argv: string[]): void {
  blockingPop(c, argv, true);
}

function brpop(c: Client, argv: string[]): void {
  blockingPop(c, argv, false);
}

function blmpop(c: Client, argv: string[]): void {
  const args = parseMpop(c, argv, 2);
  if (args === null) return;
  const timeoutMs = parseTimeoutSeconds(argv[1]);
  if (typeof timeoutMs === "string") return c.error(timeoutMs);
  const found = firstList(c, args.keys);
  if (found === null) return;
  if (found === undefined) return c.server.blocking.block(c, { keys: args.keys, timeoutMs });
  popRangeWithKey(c, found[0], found[1], args.head, args.count);
}

/** BLMOVE / BRPOPLPUSH; `rewriteAs` builds the propagated LMOVE / RPOPLPUSH. */
function blockingMove(
  c: Client,
  argv: string[],
  fromHead: boolean,
  toHead: boolean,
  timeoutArg: string,
  rewriteAs: () => string[],
): void {
  const timeoutMs = parseTimeoutSeconds(timeoutArg);
  if (typeof timeoutMs === "string") return c.error(timeoutMs);
  const src = argv[1];
  const e = c.db.lookupWrite(src);
  const list = e?.value;
  if (list !== undefined && !(list instanceof ListValue)) {
    if (!c.reprocessing) return c.error(ERR.wrongType);
  }
  if (!(list instanceof ListValue)) {
    if (cannotBlock(c)) return c.reply.nil();
    return c.server.blocking.block(c, { keys: [src], timeoutMs });
  }
  if (moveElement(c, src, argv[2], list, fromHead, toHead)) c.rewrite(rewriteAs());
}

function blmove(c: Client, argv: string[]): void {
  const fromHead = parseSide(c, argv[3]);
  if (fromHead === null) return;
  const toHead = parseSide(c, argv[4]);
  if (toHead === null) return;
  // served at once: propagated with the client's words; served after blocking: Redis's
  // shared lowercase "left"/"right"
  const rewriteAs = () =>
    c.reprocessing
      ? ["LMOVE", argv[1], argv[2], fromHead ? "left" : "right", toHead ? "left" : "right"]
      : ["LMOVE", argv[1], argv[2], argv[3], argv[4]];
  blockingMove(c, argv, fromHead, toHead, argv[5], rewriteAs);
}

function brpoplpush(c: Client, argv: string[]): void {
  blockingMove(c, argv, false, true, argv[3], () => ["RPOPLPUSH", argv[1], argv[2]]);
}

/** Keys of LMPOP (numkeys at 1) and BLMPOP (numkeys at 2). */
function mpopKeys(numkeysIdx: number): (argv: string[]) => number[] {
  return (argv) => {
    const n = parseInteger(argv[numkeysIdx] ?? "");
    if (n === null || n < 1 || numkeysIdx + n >= argv.length) return [];
    return Array.from({ length: n }, (_, i) => numkeysIdx + 1 + i);
  };
}

const L = { categories: ["list"] };

/** The list command specs. */
export const commands: CommandSpec[] = [
  cmd("list", "lpush", -3, "write denyoom fast", lpush, { keys: [1, 1, 1], ...L }),
  cmd("list", "rpush", -3, "write denyoom fast", rpush, { keys: [1, 1, 1], ...L }),
  cmd("list", "lpushx", -3, "write denyoom fast", lpushx, { keys: [1, 1, 1], ...L }),
  cmd("list", "rpushx", -3, "write denyoom fast", rpushx, { keys: [1, 1, 1], ...L }),
  cmd("list", "lpop", -2, "write fast", lpop, { keys: [1, 1, 1], ...L }),
  cmd("list", "rpop", -2, "write fast", rpop, { keys: [1, 1, 1], ...L }),
  cmd("list", "llen", 2, "readonly fast", llen, { keys: [1, 1, 1], ...L }),
  cmd("list", "lrange", 4, "readonly", lrange, { keys: [1, 1, 1], ...L }),
  cmd("list", "lindex", 3, "readonly", lindex, { keys: [1, 1, 1], ...L }),
  cmd("list", "lset", 4, "write denyoom", lset, { keys: [1, 1, 1], ...L }),
  cmd("list", "linsert", 5, "write denyoom", linsert, { keys: [1, 1, 1], ...L }),
  cmd("list", "lrem", 4, "write", lrem, { keys: [1, 1, 1], ...L }),
  cmd("list", "ltrim", 4, "write", ltrim, { keys: [1, 1, 1], ...L }),
  cmd("list", "lpos", -3, "readonly", lpos, { keys: [1, 1, 1], ...L }),
  cmd("list", "lmove", 5, "write denyoom", lmove, { keys: [1, 2, 1], ...L }),
  cmd("list", "rpoplpush", 3, "write denyoom", rpoplpush, { keys: [1, 2, 1], ...L }),
  cmd("list", "lmpop", -4, "write movablekeys", lmpop, { getKeys: mpopKeys(1), ...L }),
  cmd("list", "blpop", -3, "write noscript blocking", blpop, { keys: [1, -2, 1], ...L }),
  cmd("list", "brpop", -3, "write noscript blocking", brpop, { keys: [1, -2, 1], ...L }),
  cmd("list", "blmove", 6, "write denyoom noscript blocking", blmove, { keys: [1, 2, 1], ...L }),
  cmd("list", "brpoplpush", 4, "write denyoom noscript blocking", brpoplpush, {
    keys: [1, 2, 1],
    ...L,
  }),
  cmd("list", "blmpop", -5, "write blocking movablekeys", blmpop, {
    getKeys: mpopKeys(2),
    ...L,
  }),
];
