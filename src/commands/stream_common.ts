/**
 * Helpers shared by the stream commands (streams.ts, stream_groups.ts): key lookup with
 * type checks, Redis's ID parsers, entry replies, and the consumer-group propagation
 * forms (Redis's streamPropagateXCLAIM / streamPropagateGroupID).
 */
import type { Client } from "../client.ts";
import { ERR } from "../errors.ts";
import { parseInteger } from "../resp/bytes.ts";
import type { Entry } from "../store/db.ts";
import {
  Consumer,
  type ConsumerGroup,
  decrId,
  formatId,
  incrId,
  MAX_ID,
  type Nack,
  parseU64,
  type StreamId,
  StreamValue,
  ZERO_ID,
} from "../store/stream.ts";

/** Redis's invalid stream ID error. */
export const INVALID_ID = "ERR Invalid stream ID specified as stream command argument";

/**
 * The stream at key for reading: undefined when missing, null after replying WRONGTYPE.
 */
export function readStream(c: Client, key: string): StreamValue | undefined | null {
  const v = c.db.get(key);
  if (v === undefined) return undefined;
  if (!(v instanceof StreamValue)) {
    c.error(ERR.wrongType);
    return null;
  }
  return v;
}

/** Like readStream, for a key about to be modified (copy-on-write aware). */
export function writeStream(c: Client, key: string): StreamValue | undefined | null {
  const e: Entry | undefined = c.db.lookupWrite(key);
  if (e === undefined) return undefined;
  if (!(e.value instanceof StreamValue)) {
    c.error(ERR.wrongType);
    return null;
  }
  return e.value;
}

/** Result of parsing an ID: the ID and whether its sequence part was given ("ms-*"). */
export interface ParsedId {
  id: StreamId;
  seqGiven: boolean;
}

/**
 * Redis's streamGenericParseIDOrReply: "-" / "+" (unless strict), "ms", "ms-seq", and
 * "ms-*" when allowStar. Replies with the error (when reply) and returns null if invalid.
 */
export function parseId(
  c: Client | null,
  arg: string,
  opts: { missingSeq?: "min" | "max"; strict?: boolean; allowStar?: boolean } = {},
): ParsedId | null {
  const invalid = () => {
    if (c !== null) c.error(INVALID_ID);
    return null;
  };
  if (arg.length > 127) return invalid();
  if (arg === "-" || arg === "+") {
    if (opts.strict) return invalid();
    return { id: arg === "-" ? ZERO_ID : MAX_ID, seqGiven: true };
  }
  const dash = arg.indexOf("-");
  const ms = parseU64(dash < 0 ? arg : arg.slice(0, dash));
  if (ms === null) return invalid();
  if (dash < 0) {
    return { id: { ms, seq: opts.missingSeq === "max" ? MAX_ID.seq : 0 }, seqGiven: true };
  }
  const rest = arg.slice(dash + 1);
  if (opts.allowStar && rest === "*") return { id: { ms, seq: 0 }, seqGiven: false };
  const seq = parseU64(rest);
  if (seq === null) return invalid();
  return { id: { ms, seq }, seqGiven: true };
}

/** A range bound: "(" exclusive forms, incomplete IDs, "-" and "+" (Redis's XRANGE rules). */
export function parseRangeStart(c: Client, arg: string): StreamId | null {
  if (arg.length > 1 && arg[0] === "(") {
    const p = parseId(c, arg.slice(1), { strict: true });
    if (p === null) return null;
    const next = incrId(p.id);
    if (next === null) {
      c.error("ERR invalid start ID for the interval");
      return null;
    }
    return next;
  }
  return parseId(c, arg)?.id ?? null;
}

/** The end bound of a range (missing sequence means the largest). */
export function parseRangeEnd(c: Client, arg: string): StreamId | null {
  if (arg.length > 1 && arg[0] === "(") {
    const p = parseId(c, arg.slice(1), { strict: true, missingSeq: "max" });
    if (p === null) return null;
    const prev = decrId(p.id);
    if (prev === null) {
      c.error("ERR invalid end ID for the interval");
      return null;
    }
    return prev;
  }
  return parseId(c, arg, { missingSeq: "max" })?.id ?? null;
}

/** Parses a signed 64-bit integer argument, replying `msg` (default Redis's) if invalid. */
export function parseLong(c: Client, arg: string, msg: string = ERR.notInteger): number | null {
  const v = parseInteger(arg);
  if (v === null) c.error(msg.startsWith("ERR ") ? msg : "ERR " + msg);
  return v;
}

/** Replies one entry: [id, [field, value, ...]]. */
export function replyEntry(c: Client, id: StreamId, fields: string[]): void {
  c.reply.array(2);
  replyId(c, id);
  c.reply.bulkArray(fields);
}

/** Decimal digits of a non-negative safe integer. */
function digitCount(v: number): number {
  let n = 1;
  if (v >= 1e8) {
    v = Math.floor(v / 1e8);
    n = 9;
  }
  let small = v | 0;
  while (small >= 10) {
    small = (small / 10) | 0;
    n++;
  }
  return n;
}

/**
 * Writes the decimal digits of non-negative safe integer `v` ending before `end`, in
 * int32 arithmetic (a double's % is a C call): the low 8 digits, then the high ones.
 */
function writeDigits(b: Uint8Array, end: number, v: number): void {
  let low: number;
  if (v >= 1e8) {
    const high = Math.floor(v / 1e8);
    low = (v - high * 1e8) | 0;
    for (let k = 0; k < 8; k++) {
      const q = (low / 10) | 0;
      b[--end] = 48 + low - q * 10;
      low = q;
    }
    // below 2^53, the high part has at most 8 digits too
    low = high | 0;
  } else low = v | 0;
  do {
    const q = (low / 10) | 0;
    b[--end] = 48 + low - q * 10;
    low = q;
  } while (low > 0);
}

/**
 * Replies an ID as a bulk string ("ms-seq"), its digits written straight into the
 * reply buffer: no string to format, and none to encode back to bytes.
 */
export function replyId(c: Client, id: StreamId): void {
  const ms = id.ms;
  const seq = id.seq;
  if (typeof ms !== "number" || typeof seq !== "number") return c.reply.bulk(formatId(id));
  const msLen = digitCount(ms);
  const n = msLen + 1 + digitCount(seq);
  const w = c.reply;
  // "$" + at most 2 length digits (n <= 33) + CRLF + the ID + CRLF
  w.ensure(n + 7);
  const b = w.buf;
  let p = w.len;
  b[p++] = 36;
  if (n >= 10) b[p++] = 48 + ((n / 10) | 0);
  b[p++] = 48 + (n % 10);
  b[p++] = 13;
  b[p++] = 10;
  writeDigits(b, p + msLen, ms);
  b[p + msLen] = 45;
  p += n;
  writeDigits(b, p, seq);
  b[p++] = 13;
  b[p++] = 10;
  w.len = p;
}

/** Looks up a consumer, creating it (with the xgroup-createconsumer event) if missing. */
export function lookupOrCreateConsumer(
  c: Client,
  key: string,
  group: ConsumerGroup,
  name: string,
): { consumer: Consumer; created: boolean } {
  const now = c.server.now();
  const found = group.consumers.get(name);
  if (found !== undefined) {
    found.seenTime = now;
    return { consumer: found, created: false };
  }
  const consumer = new Consumer(name, now);
  group.consumers.set(name, consumer);
  c.server.dirty++;
  c.server.notify("t", "xgroup-createconsumer", key, c.db.id);
  return { consumer, created: true };
}

/**
 * Propagates a pending entry's state as Redis 7.0 does: XCLAIM key group consumer 0 id
 * TIME ms RETRYCOUNT n FORCE JUSTID LASTID group-last-id.
 */
export function propagateXclaim(
  c: Client,
  key: string,
  group: ConsumerGroup,
  id: string,
  nack: Nack,
): void {
  c.server.alsoPropagate(c.db.id, [
    "XCLAIM",
    key,
    group.name,
    nack.consumer.name,
    "0",
    id,
    "TIME",
    String(nack.deliveryTime),
    "RETRYCOUNT",
    String(nack.deliveryCount),
    "FORCE",
    "JUSTID",
    "LASTID",
    formatId(group.lastId),
  ]);
}

/** Propagates a group's last delivered ID: XGROUP SETID key group id ENTRIESREAD n. */
export function propagateGroupId(c: Client, key: string, group: ConsumerGroup): void {
  c.server.alsoPropagate(c.db.id, [
    "XGROUP",
    "SETID",
    key,
    group.name,
    formatId(group.lastId),
    "ENTRIESREAD",
    String(group.entriesRead),
  ]);
}

/** Removes a pending entry from its group and owner. */
export function dropNack(group: ConsumerGroup, id: StreamId, nack: Nack): void {
  group.pel.delete(id);
  nack.consumer.pel.delete(id);
}

/** Replies entries start..end (count 0 = all) as an array. */
export function replyRange(
  c: Client,
  s: StreamValue,
  start: StreamId,
  end: StreamId,
  count: number,
  rev: boolean,
): void {
  const items: Array<[StreamId, string[]]> = [];
  for (const item of s.entries.range(start, end, rev)) {
    items.push(item);
    if (count > 0 && items.length === count) break;
  }
  c.reply.array(items.length);
  for (const [id, fields] of items) replyEntry(c, id, fields);
}

/** Replies a HELP text as Redis does (status lines). */
export function replyHelp(c: Client, lines: string[]): void {
  c.reply.array(lines.length);
  for (const l of lines) c.reply.simple(l);
}
