/** String commands (Redis: t_string.c). */
import type { Client } from "../client.ts";
import type { Entry } from "../store/db.ts";
import { cmd, type CommandSpec } from "./table.ts";
import { ERR } from "../errors.ts";
import { parseInteger, writeBinary } from "../resp/bytes.ts";
import { addLongDouble, formatLongDoubleHuman, parseLongDouble } from "../store/long_double.ts";
import { lcs, lcsTableBytes } from "../store/lcs.ts";

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** OBJECT ENCODING of a string entry, as Redis names it. */
export function stringEncoding(e: Entry): string {
  const v = e.value as string;
  if (e.raw) return "raw";
  if (!e.noInt && v.length <= 20 && parseInteger(v) !== null) return "int";
  return v.length <= 44 ? "embstr" : "raw";
}

/**
 * OBJECT REFCOUNT of a string entry: Redis shares the integers 0..9999 (refcount
 * INT_MAX), everything else has one owner.
 */
export function stringRefcount(e: Entry): number {
  if (stringEncoding(e) !== "int") return 1;
  const n = parseInteger(e.value as string)!;
  return n >= 0 && n < 10000 ? 2147483647 : 1;
}

/**
 * Reads a string key for a read command: the value, null when missing, or undefined
 * after replying WRONGTYPE.
 */
export function readString(c: Client, key: string): string | null | undefined {
  const v = c.db.get(key);
  if (v === undefined) return null;
  if (typeof v !== "string") {
    c.error(ERR.wrongType);
    return undefined;
  }
  return v;
}

/**
 * The longest JS string V8 can hold (2^29 - 24 chars): a hard cap below Redis's 512 MB
 * proto-max-bulk-len default for values built in memory.
 */
export const MAX_STRING_LENGTH = 2 ** 29 - 24;

/**
 * Checks that a write may create a string of `total` bytes (proto-max-bulk-len, and
 * what a JS string can hold); replies with the error and returns false otherwise.
 */
export function checkStringLength(c: Client, total: number): boolean {
  if (
    total > MAX_STRING_LENGTH ||
    (!c.isMaster && total > c.server.config.num("proto-max-bulk-len"))
  ) {
    c.error(ERR.stringTooLong);
    return false;
  }
  return true;
}

// ---- SET and its relatives ----

const F_NX = 1;
const F_XX = 2;
const F_GET = 4;
const F_KEEPTTL = 8;
const F_PERSIST = 16;
const F_EX = 32;
const F_PX = 64;
const F_EXAT = 128;
const F_PXAT = 256;
const F_ANY_EXPIRE = F_EX | F_PX | F_EXAT | F_PXAT;

interface ExtendedArgs {
  flags: number;
  expire: string | null;
}

/**
 * Redis's parseExtendedStringArgumentsOrReply for SET (`forGet` false) and GETEX
 * (`forGet` true). Returns null after replying with the syntax error.
 */
function parseExtendedArgs(c: Client, argv: string[], forGet: boolean): ExtendedArgs | null {
  let flags = 0;
  let expire: string | null = null;
  for (let j = forGet ? 2 : 3; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    const hasNext = j < argv.length - 1;
    const conflictsExpire = (own: number) =>
      (flags & (F_KEEPTTL | F_PERSIST)) !== 0 || (flags & (F_ANY_EXPIRE & ~own)) !== 0;
    if (opt === "nx" && !(flags & F_XX) && !forGet) flags |= F_NX;
    else if (opt === "xx" && !(flags & F_NX) && !forGet) flags |= F_XX;
    else if (opt === "get" && !forGet) flags |= F_GET;
    else if (opt === "keepttl" && !(flags & (F_PERSIST | F_ANY_EXPIRE)) && !forGet) {
      flags |= F_KEEPTTL;
    } else if (opt === "persist" && forGet && !(flags & (F_ANY_EXPIRE | F_KEEPTTL))) {
      flags |= F_PERSIST;
    } else if (opt === "ex" && !conflictsExpire(F_EX) && hasNext) {
      flags |= F_EX;
      expire = argv[++j];
    } else if (opt === "px" && !conflictsExpire(F_PX) && hasNext) {
      flags |= F_PX;
      expire = argv[++j];
    } else if (opt === "exat" && !conflictsExpire(F_EXAT) && hasNext) {
      flags |= F_EXAT;
      expire = argv[++j];
    } else if (opt === "pxat" && !conflictsExpire(F_PXAT) && hasNext) {
      flags |= F_PXAT;
      expire = argv[++j];
    } else {
      c.error(ERR.syntax);
      return null;
    }
  }
  return { flags, expire };
}

/**
 * Redis's getExpireMillisecondsOrReply: the absolute expiry in unix ms, or null after
 * replying with the error.
 */
function expireMilliseconds(c: Client, arg: string, flags: number, name: string): number | null {
  const parsed = parseInteger(arg);
  if (parsed === null) {
    c.error(ERR.notInteger);
    return null;
  }
  let ms = BigInt(arg);
  const seconds = (flags & (F_EX | F_EXAT)) !== 0;
  if (ms <= 0n || (seconds && ms > INT64_MAX / 1000n)) {
    c.error(ERR.invalidExpire(name));
    return null;
  }
  if (seconds) ms *= 1000n;
  if (flags & (F_EX | F_PX)) ms += BigInt(c.server.now());
  if (ms <= 0n || ms > INT64_MAX) {
    c.error(ERR.invalidExpire(name));
    return null;
  }
  return Number(ms);
}

/**
 * setGenericCommand: SET, SETNX, SETEX, PSETEX. `okReply`/`abortReply` let SETNX
 * answer 1/0 instead of OK/nil.
 */
function setGeneric(
  c: Client,
  argv: string[],
  flags: number,
  key: string,
  value: string,
  expire: string | null,
  replies: { ok: () => void; abort: () => void },
): void {
  const name = argv[0].toLowerCase();
  let when = 0;
  if (expire !== null) {
    const ms = expireMilliseconds(c, expire, flags, name);
    if (ms === null) return;
    when = ms;
  }
  if (flags & F_GET) {
    const old = readString(c, key);
    if (old === undefined) return;
    c.reply.bulkOrNil(old);
  }
  const found = c.db.lookupWrite(key) !== undefined;
  if ((flags & F_NX && found) || (flags & F_XX && !found)) {
    if (!(flags & F_GET)) replies.abort();
    return;
  }
  const e = c.db.set(key, value, (flags & F_KEEPTTL) !== 0);
  c.modified(key, "$", "set");
  if (expire !== null) {
    c.db.setExpire(key, e, when);
    c.rewrite(["SET", key, value, "PXAT", String(when)]);
    c.server.notify("g", "expire", key, c.db.id);
  }
  if (!(flags & F_GET)) replies.ok();
  // GET is not replicated (a rewrite to SET ... PXAT already dropped it)
  if (flags & F_GET && expire === null) {
    c.rewrite(argv.filter((a, j) => j < 3 || a.toLowerCase() !== "get"));
  }
}

function okReplies(c: Client) {
  return { ok: () => c.reply.simple("OK"), abort: () => c.reply.nil() };
}

function set(c: Client, argv: string[]): void {
  if (argv.length === 3) {
    c.db.set(argv[1], argv[2]);
    c.modified(argv[1], "$", "set");
    return c.reply.simple("OK");
  }
  const args = parseExtendedArgs(c, argv, false);
  if (args === null) return;
  setGeneric(c, argv, args.flags, argv[1], argv[2], args.expire, okReplies(c));
}

function setnx(c: Client, argv: string[]): void {
  setGeneric(c, argv, F_NX, argv[1], argv[2], null, {
    ok: () => c.reply.int(1),
    abort: () => c.reply.int(0),
  });
}

function setex(c: Client, argv: string[]): void {
  setGeneric(c, argv, F_EX, argv[1], argv[3], argv[2], okReplies(c));
}

function psetex(c: Client, argv: string[]): void {
  setGeneric(c, argv, F_PX, argv[1], argv[3], argv[2], okReplies(c));
}

function get(c: Client, argv: string[]): void {
  const v = c.db.get(argv[1]);
  if (v === undefined) c.reply.nil();
  else if (typeof v !== "string") c.error(ERR.wrongType);
  else c.reply.bulk(v);
}

function getex(c: Client, argv: string[]): void {
  const args = parseExtendedArgs(c, argv, true);
  if (args === null) return;
  const key = argv[1];
  const v = readString(c, key);
  if (v === undefined) return;
  if (v === null) return c.reply.nil();
  let when = 0;
  if (args.expire !== null) {
    const ms = expireMilliseconds(c, args.expire, args.flags, "getex");
    if (ms === null) return;
    when = ms;
  }
  c.reply.bulk(v);
  const absolute = (args.flags & (F_EXAT | F_PXAT)) !== 0;
  if (absolute && when <= c.server.now() && !c.server.isReplica && !c.server.loading) {
    c.db.delete(key);
    c.modified(key, "g", "del");
    c.rewrite([lazyExpire(c) ? "UNLINK" : "DEL", key]);
  } else if (args.expire !== null) {
    const e = c.db.lookupWrite(key)!;
    c.db.setExpire(key, e, when);
    c.rewrite(["PEXPIREAT", key, String(when)]);
    c.modified(key, "g", "expire");
  } else if (args.flags & F_PERSIST) {
    const e = c.db.lookupWrite(key)!;
    if (c.db.persist(key, e)) {
      c.rewrite(["PERSIST", key]);
      c.modified(key, "g", "persist");
    }
  }
}

/** Whether expirations are propagated as UNLINK (lazyfree-lazy-expire). */
export function lazyExpire(c: Client): boolean {
  return c.server.config.bool("lazyfree-lazy-expire");
}

function getdel(c: Client, argv: string[]): void {
  const key = argv[1];
  const v = readString(c, key);
  if (v === undefined) return;
  if (v === null) return c.reply.nil();
  c.reply.bulk(v);
  c.db.delete(key);
  c.rewrite([c.server.config.bool("lazyfree-lazy-user-del") ? "UNLINK" : "DEL", key]);
  c.modified(key, "g", "del");
}

function getset(c: Client, argv: string[]): void {
  const v = readString(c, argv[1]);
  if (v === undefined) return;
  c.reply.bulkOrNil(v);
  c.db.set(argv[1], argv[2]);
  c.modified(argv[1], "$", "set");
  c.rewrite(["SET", argv[1], argv[2]]);
}

function mget(c: Client, argv: string[]): void {
  c.reply.array(argv.length - 1);
  for (let j = 1; j < argv.length; j++) {
    const v = c.db.get(argv[j]);
    if (typeof v === "string") c.reply.bulk(v);
    else c.reply.nil();
  }
}

function msetGeneric(c: Client, argv: string[], nx: boolean): void {
  if (argv.length % 2 === 0) return c.error(ERR.wrongArgs(argv[0].toLowerCase()));
  if (nx) {
    for (let j = 1; j < argv.length; j += 2) {
      if (c.db.lookupWrite(argv[j]) !== undefined) return c.reply.int(0);
    }
  }
  for (let j = 1; j < argv.length; j += 2) {
    c.db.set(argv[j], argv[j + 1]);
    c.modified(argv[j], "$", "set");
  }
  if (nx) c.reply.int(1);
  else c.reply.simple("OK");
}

function append(c: Client, argv: string[]): void {
  const key = argv[1];
  const e = c.db.lookupWrite(key);
  let total: number;
  if (e === undefined) {
    c.db.add(key, argv[2]);
    total = argv[2].length;
  } else {
    if (typeof e.value !== "string") return c.error(ERR.wrongType);
    total = e.value.length + argv[2].length;
    if (!checkStringLength(c, total)) return;
    e.value += argv[2];
    e.raw = true;
  }
  c.modified(key, "$", "append");
  c.reply.int(total);
}

function strlen(c: Client, argv: string[]): void {
  const e = c.db.lookupRead(argv[1]);
  if (e === undefined) return c.reply.int(0);
  if (!e.holdsString()) return c.error(ERR.wrongType);
  c.reply.int(e.stringLength);
}

/** Parses a C long argument (int64 here), or replies with the error. */
function longArg(c: Client, arg: string): number | null {
  const n = parseInteger(arg);
  if (n === null) c.error(ERR.notInteger);
  return n;
}

function getrange(c: Client, argv: string[]): void {
  let start = longArg(c, argv[2]);
  if (start === null) return;
  let end = longArg(c, argv[3]);
  if (end === null) return;
  const v = readString(c, argv[1]);
  if (v === undefined) return;
  if (v === null) return c.reply.bulk("");
  const len = v.length;
  if (start < 0 && end < 0 && start > end) return c.reply.bulk("");
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) return c.reply.bulk("");
  c.reply.bulk(v.slice(start, end + 1));
}

function setrange(c: Client, argv: string[]): void {
  const key = argv[1];
  const value = argv[3];
  const offset = longArg(c, argv[2]);
  if (offset === null) return;
  if (offset < 0) return c.error("ERR offset is out of range");
  const e = c.db.lookupWrite(key);
  if (e === undefined) {
    if (value.length === 0) return c.reply.int(0);
    if (!checkStringLength(c, offset + value.length)) return;
    const created = c.db.add(key, "\0".repeat(offset) + value);
    created.raw = true;
    c.modified(key, "$", "setrange");
    return c.reply.int(offset + value.length);
  }
  if (!e.holdsString()) return c.error(ERR.wrongType);
  if (value.length === 0) return c.reply.int(e.stringLength);
  if (!checkStringLength(c, offset + value.length)) return;
  // edited in place like a bitmap: repeated SETRANGEs do not copy the whole string
  writeBinary(e.editBytes(offset + value.length), offset, value);
  e.raw = true;
  c.modified(key, "$", "setrange");
  c.reply.int(e.stringLength);
}

// ---- counters ----

function incrDecr(c: Client, key: string, incr: bigint | number): void {
  const e = c.db.lookupWrite(key);
  let current = 0;
  let currentBig: bigint | null = null;
  if (e !== undefined) {
    if (typeof e.value !== "string") return c.error(ERR.wrongType);
    const n = parseInteger(e.value);
    if (n === null) return c.error(ERR.notInteger);
    if (!Number.isSafeInteger(n)) currentBig = BigInt(e.value);
    current = n;
  }
  let result: string;
  if (currentBig === null && typeof incr === "number" && Number.isSafeInteger(current + incr)) {
    result = String(current + incr);
  } else {
    const sum = (currentBig ?? BigInt(current)) + BigInt(incr);
    if (sum > INT64_MAX || sum < INT64_MIN) return c.error(ERR.overflow);
    result = sum.toString();
  }
  if (e !== undefined) {
    e.value = result;
    e.raw = false;
    e.noInt = false;
  } else {
    c.db.add(key, result);
  }
  c.modified(key, "$", "incrby");
  c.reply.intText(result);
}

/** An int64 argument as a number when safe, else a bigint; null after an error. */
function int64Arg(c: Client, arg: string): number | bigint | null {
  const n = parseInteger(arg);
  if (n === null) {
    c.error(ERR.notInteger);
    return null;
  }
  return Number.isSafeInteger(n) ? n : BigInt(arg);
}

function incrby(c: Client, argv: string[]): void {
  const incr = int64Arg(c, argv[2]);
  if (incr !== null) incrDecr(c, argv[1], incr);
}

function decrby(c: Client, argv: string[]): void {
  const incr = int64Arg(c, argv[2]);
  if (incr === null) return;
  if (incr === INT64_MIN) return c.error("ERR decrement would overflow");
  incrDecr(c, argv[1], typeof incr === "bigint" ? -incr : -incr);
}

function incrbyfloat(c: Client, argv: string[]): void {
  const key = argv[1];
  const e = c.db.lookupWrite(key);
  let current = parseLongDouble("0")!;
  if (e !== undefined) {
    if (typeof e.value !== "string") return c.error(ERR.wrongType);
    const v = parseLongDouble(e.value);
    if (v === null) return c.error(ERR.notFloat);
    current = v;
  }
  const incr = parseLongDouble(argv[2]);
  if (incr === null) return c.error(ERR.notFloat);
  const sum = addLongDouble(current, incr);
  if (sum.inf) return c.error(ERR.incrNanInf);
  const text = formatLongDoubleHuman(sum);
  const target = e ?? c.db.add(key, text);
  target.value = text;
  target.raw = false;
  target.noInt = true;
  c.modified(key, "$", "incrbyfloat");
  c.reply.bulk(text);
  c.rewrite(["SET", key, text, "KEEPTTL"]);
}

// ---- LCS ----

function lcsCommand(c: Client, argv: string[]): void {
  const va = c.db.get(argv[1]);
  const vb = c.db.get(argv[2]);
  if (
    (va !== undefined && typeof va !== "string") || (vb !== undefined && typeof vb !== "string")
  ) {
    return c.error("ERR The specified keys must contain string values");
  }
  const a = (va ?? "") as string;
  const b = (vb ?? "") as string;
  let getidx = false;
  let getlen = false;
  let withmatchlen = false;
  let minmatchlen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    const moreargs = argv.length - 1 - j;
    if (opt === "idx") getidx = true;
    else if (opt === "len") getlen = true;
    else if (opt === "withmatchlen") withmatchlen = true;
    else if (opt === "minmatchlen" && moreargs > 0) {
      const n = int64Arg(c, argv[j + 1]);
      if (n === null) return;
      minmatchlen = Number(n) < 0 ? 0 : Number(n);
      j++;
    } else return c.error(ERR.syntax);
  }
  if (getidx && getlen) {
    return c.error("ERR If you want both the length and indexes, please just use IDX.");
  }
  if (lcsTableBytes(a.length, b.length) > c.server.config.num("proto-max-bulk-len")) {
    return c.error(
      "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
    );
  }
  const result = lcs(a, b, { walk: getidx || !getlen, minMatchLen: minmatchlen });
  if (getlen && !getidx) return c.reply.int(result.length);
  if (!getidx) return c.reply.bulk(result.text);
  c.reply.map(2);
  c.reply.bulk("matches");
  c.reply.array(result.matches.length);
  for (const m of result.matches) {
    c.reply.array(withmatchlen ? 3 : 2);
    c.reply.array(2);
    c.reply.int(m.a[0]);
    c.reply.int(m.a[1]);
    c.reply.array(2);
    c.reply.int(m.b[0]);
    c.reply.int(m.b[1]);
    if (withmatchlen) c.reply.int(m.length);
  }
  c.reply.bulk("len");
  c.reply.int(result.length);
}

const S = { categories: ["string"] };
const K1 = { keys: [1, 1, 1] as [number, number, number], ...S };
/** O(1) here although not `fast` in Redis (see CONSTANT_TIME_BIT) */
const K1_O1 = { ...K1, constantTime: true };

/** The string command specs. */
export const commands: CommandSpec[] = [
  cmd("string", "get", 2, "readonly fast", get, K1),
  cmd("string", "set", -3, "write denyoom", set, K1_O1),
  cmd("string", "setnx", 3, "write denyoom fast", setnx, K1),
  cmd("string", "setex", 4, "write denyoom", setex, K1_O1),
  cmd("string", "psetex", 4, "write denyoom", psetex, K1_O1),
  cmd("string", "getset", 3, "write denyoom fast", getset, K1),
  cmd("string", "getdel", 2, "write fast", getdel, K1),
  cmd("string", "getex", -2, "write fast", getex, K1),
  cmd("string", "mget", -2, "readonly fast", mget, { keys: [1, -1, 1], ...S }),
  cmd("string", "mset", -3, "write denyoom", (c, a) => msetGeneric(c, a, false), {
    keys: [1, -1, 2],
    ...S,
  }),
  cmd("string", "msetnx", -3, "write denyoom", (c, a) => msetGeneric(c, a, true), {
    keys: [1, -1, 2],
    ...S,
  }),
  cmd("string", "append", 3, "write denyoom fast", append, K1),
  cmd("string", "strlen", 2, "readonly fast", strlen, K1),
  cmd("string", "getrange", 4, "readonly", getrange, K1),
  cmd("string", "substr", 4, "readonly", getrange, K1),
  cmd("string", "setrange", 4, "write denyoom", setrange, K1),
  cmd("string", "incr", 2, "write denyoom fast", (c, a) => incrDecr(c, a[1], 1), K1),
  cmd("string", "decr", 2, "write denyoom fast", (c, a) => incrDecr(c, a[1], -1), K1),
  cmd("string", "incrby", 3, "write denyoom fast", incrby, K1),
  cmd("string", "decrby", 3, "write denyoom fast", decrby, K1),
  cmd("string", "incrbyfloat", 3, "write denyoom fast", incrbyfloat, K1),
  cmd("string", "lcs", -3, "readonly", lcsCommand, { keys: [1, 2, 1], ...S }),
];
