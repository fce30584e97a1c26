/**
 * XREAD and XREADGROUP (Redis: xreadCommand in t_stream.c): synchronous reads, group
 * delivery with its PEL bookkeeping and propagation, and blocking on several streams.
 */
import type { Client } from "../client.ts";
import { ERR } from "../errors.ts";
import { parseInteger } from "../resp/bytes.ts";
import {
  cmpId,
  type Consumer,
  type ConsumerGroup,
  formatId,
  incrId,
  MAX_ID,
  type Nack,
  type StreamId,
  StreamValue,
  ZERO_ID,
} from "../store/stream.ts";
import { cmd, type CommandSpec } from "./table.ts";
import {
  lookupOrCreateConsumer,
  parseId,
  propagateGroupId,
  propagateXclaim,
  readStream,
  replyEntry,
  replyRange,
} from "./stream_common.ts";

/** Entries a blocked XREAD returns when no COUNT was given (Redis's default). */
const XREAD_BLOCKED_DEFAULT_COUNT = 1000;

/** Parsed XREAD / XREADGROUP options. */
interface ReadOptions {
  /** -1 without BLOCK */
  timeoutMs: number;
  /** 0 = no limit */
  count: number;
  /** argv index of COUNT's value, 0 when not given */
  countIdx: number;
  /** argv index of the first key */
  streamsArg: number;
  nStreams: number;
  groupName: string | null;
  consumerName: string;
  noack: boolean;
}

/** Parses the options (Redis's order and errors); null after replying an error. */
function parseReadOptions(c: Client, argv: string[], group: boolean): ReadOptions | null {
  const o: ReadOptions = {
    timeoutMs: -1,
    count: 0,
    countIdx: 0,
    streamsArg: 0,
    nStreams: 0,
    groupName: null,
    consumerName: "",
    noack: false,
  };
  const fail = (msg: string) => {
    c.error(msg);
    return null;
  };
  for (let i = 1; i < argv.length; i++) {
    const more = argv.length - i - 1;
    const opt = argv[i].toLowerCase();
    if (opt === "block" && more > 0) {
      const t = parseInteger(argv[++i]);
      if (t === null) return fail("ERR timeout is not an integer or out of range");
      if (t < 0) return fail("ERR timeout is negative");
      o.timeoutMs = t;
    } else if (opt === "count" && more > 0) {
      const n = parseInteger(argv[++i]);
      if (n === null) return fail(ERR.notInteger);
      o.count = n < 0 ? 0 : n;
      o.countIdx = i;
    } else if (opt === "streams" && more > 0) {
      o.streamsArg = i + 1;
      const n = argv.length - o.streamsArg;
      // Redis 7.0 prints this text for XREADGROUP too
      if (n % 2 !== 0) {
        return fail(
          "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
        );
      }
      o.nStreams = n / 2;
      break;
    } else if (opt === "group" && more >= 2) {
      if (!group) {
        return fail(
          "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
        );
      }
      o.groupName = argv[i + 1];
      o.consumerName = argv[i + 2];
      i += 2;
    } else if (opt === "noack") {
      if (!group) {
        return fail(
          "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
        );
      }
      o.noack = true;
    } else return fail(ERR.syntax);
  }
  if (o.streamsArg === 0) return fail(ERR.syntax);
  if (group && o.groupName === null) return fail("ERR Missing GROUP option for XREADGROUP");
  return o;
}

/** One stream argument resolved: its value, group, and the ID to read after. */
interface Target {
  key: string;
  s: StreamValue | undefined;
  group: ConsumerGroup | null;
  /** ">" = the group's new entries */
  after: StreamId | ">";
}

/**
 * Looks up every stream (and group) and resolves "$" to the stream's last ID now;
 * null after replying an error.
 */
function resolveTargets(c: Client, argv: string[], o: ReadOptions): Target[] | null {
  const targets: Target[] = [];
  const group = o.groupName !== null;
  // a woken reader is served from the one key that became ready, as Redis 7.0's
  // serveClientsBlockedOnStreamKey (several streams readied by one MULTI: the first)
  const ready = c.reprocessing ? c.server.blocking.servingKey : null;
  for (let k = 0; k < o.nStreams; k++) {
    const key = argv[o.streamsArg + k];
    if (ready !== null && (key !== ready || targets.length > 0)) continue;
    const arg = argv[o.streamsArg + o.nStreams + k];
    // a woken reader ignores a key that is no longer a stream (Redis keeps it blocked)
    const s = c.reprocessing ? streamOrUndefined(c, key) : readStream(c, key);
    if (s === null) return null;
    let g: ConsumerGroup | null = null;
    if (o.groupName !== null) {
      g = s?.groups.get(o.groupName) ?? null;
      if (g === null) {
        c.error(
          !c.reprocessing
            ? `NOGROUP No such key '${key}' or consumer group '${o.groupName}' in XREADGROUP with GROUP option`
            : s === undefined
            ? "UNBLOCKED the stream key no longer exists"
            : "NOGROUP the consumer group this client was blocked on no longer exists",
        );
        return null;
      }
    }
    let after: StreamId | ">";
    if (arg === "$") {
      if (group) {
        c.error(
          "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
        );
        return null;
      }
      after = s?.lastId ?? ZERO_ID;
    } else if (arg === ">") {
      if (!group) {
        c.error(
          "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
        );
        return null;
      }
      after = ">";
    } else {
      const p = parseId(c, arg, { strict: true });
      if (p === null) return null;
      after = p.id;
    }
    targets.push({ key, s, group: g, after });
  }
  return targets;
}

function xreadGeneric(c: Client, argv: string[], group: boolean): void {
  const o = parseReadOptions(c, argv, group);
  if (o === null) return;
  const targets = resolveTargets(c, argv, o);
  if (targets === null) return;
  c.preventPropagation = true;

  // serve synchronously what can be served (Redis's rules per stream)
  type Served = { t: Target; s: StreamValue; after: StreamId; consumer: Consumer | null };
  const served: Served[] = [];
  for (const t of targets) {
    const s = t.s;
    if (s === undefined) continue;
    const last = s.entries.last()?.[0];
    if (t.group === null) {
      const after = t.after as StreamId;
      if (last !== undefined && cmpId(last, after) > 0) {
        served.push({ t, s, after, consumer: null });
      }
      continue;
    }
    // history is always served; ">" only when there are new entries
    let after: StreamId | null = null;
    if (t.after !== ">") after = t.after;
    else if (last !== undefined && cmpId(last, t.group.lastId) > 0) after = t.group.lastId;
    if (after === null) continue;
    // the consumer is created only when served (a blocked reader gets it when woken)
    const { consumer, created } = lookupOrCreateConsumer(c, t.key, t.group, o.consumerName);
    if (created && o.noack) {
      c.server.alsoPropagate(c.db.id, [
        "XGROUP",
        "CREATECONSUMER",
        t.key,
        t.group.name,
        o.consumerName,
      ]);
    }
    served.push({ t, s, after, consumer });
  }
  if (served.length > 0) {
    // RESP2: an array of [key, entries]; RESP3: a map key → entries
    if (c.reply.resp === 2) c.reply.array(served.length);
    else c.reply.map(served.length);
    for (const { t, s, after, consumer } of served) {
      if (c.reply.resp === 2) c.reply.array(2);
      c.reply.bulk(t.key);
      const start = incrId(after) ?? MAX_ID;
      if (t.group === null) replyRange(c, s, start, MAX_ID, o.count, false);
      else if (t.after !== ">") replyFromConsumerPel(c, s, start, o.count, consumer!);
      else deliverNew(c, t.key, s, t.group, consumer!, start, o.count, o.noack);
      if (t.group !== null) c.server.dirty++;
    }
    return;
  }
  if (o.timeoutMs < 0) return c.reply.nullArray();
  if (c.reprocessing) return c.server.blocking.block(c, { keys: [], timeoutMs: 0 });
  // a re-run after waking must read after the IDs resolved now, not a newer "$"
  const blockedArgv = argv.slice();
  targets.forEach((t, k) => {
    if (t.after !== ">") blockedArgv[o.streamsArg + o.nStreams + k] = formatId(t.after);
  });
  // a woken reader gets at most 1000 entries unless COUNT says otherwise (as Redis)
  const cap = String(XREAD_BLOCKED_DEFAULT_COUNT);
  if (o.countIdx === 0) blockedArgv.splice(1, 0, "COUNT", cap);
  else if (o.count === 0) blockedArgv[o.countIdx] = cap;
  c.argv = blockedArgv;
  c.server.blocking.block(c, { keys: targets.map((t) => t.key), timeoutMs: o.timeoutMs });
}

function streamOrUndefined(c: Client, key: string): StreamValue | undefined {
  const v = c.db.get(key);
  return v instanceof StreamValue ? v : undefined;
}

/** XREADGROUP with an ID: the consumer's own pending entries from start. */
function replyFromConsumerPel(
  c: Client,
  s: StreamValue,
  start: StreamId,
  count: number,
  consumer: Consumer,
): void {
  const items: Array<[StreamId, Nack]> = [];
  for (const item of consumer.pel.range(start, MAX_ID)) {
    if (count > 0 && items.length >= count) break;
    items.push(item);
  }
  c.reply.array(items.length);
  const now = c.server.now();
  for (const [id, nack] of items) {
    const fields = s.entries.get(id);
    if (fields === undefined) {
      c.reply.array(2);
      c.reply.bulk(formatId(id));
      c.reply.nullArray();
    } else {
      replyEntry(c, id, fields);
      nack.deliveryTime = now;
      nack.deliveryCount++;
    }
  }
}

/** XREADGROUP ">": delivers new entries, adds them to the PELs, propagates as Redis. */
function deliverNew(
  c: Client,
  key: string,
  s: StreamValue,
  g: ConsumerGroup,
  consumer: Consumer,
  start: StreamId,
  count: number,
  noack: boolean,
): void {
  const items: Array<[StreamId, string[]]> = [];
  for (const item of s.entries.range(start, MAX_ID)) {
    items.push(item);
    if (count > 0 && items.length === count) break;
  }
  c.reply.array(items.length);
  const now = c.server.now();
  let propagateLastId = false;
  for (const [id, fields] of items) {
    if (cmpId(id, g.lastId) > 0) {
      if (g.entriesRead !== -1 && !s.rangeHasTombstones(id, null)) g.entriesRead++;
      else if (s.entriesAdded > 0) g.entriesRead = s.estimateDistance(id);
      g.lastId = id;
      // without NOACK the XCLAIM of each entry carries the group's last ID (Redis 7.0)
      if (noack) propagateLastId = true;
    }
    replyEntry(c, id, fields);
    if (noack) continue;
    let nack = g.pel.get(id);
    if (nack === undefined) {
      nack = { deliveryTime: now, deliveryCount: 1, consumer };
      g.pel.set(id, nack);
      consumer.pel.set(id, nack);
    } else {
      nack.consumer.pel.delete(id);
      nack.consumer = consumer;
      nack.deliveryTime = now;
      nack.deliveryCount = 1;
      consumer.pel.set(id, nack);
    }
    propagateXclaim(c, key, g, formatId(id), nack);
  }
  if (propagateLastId) propagateGroupId(c, key, g);
}

function streamKeys(argv: string[]): number[] {
  for (let i = 1; i < argv.length; i++) {
    if (argv[i].toLowerCase() === "streams") {
      const n = Math.floor((argv.length - i - 1) / 2);
      return Array.from({ length: n }, (_, k) => i + 1 + k);
    }
  }
  return [];
}

/** The XREAD / XREADGROUP specs. */
export const commands: CommandSpec[] = [
  cmd(
    "stream",
    "xread",
    -4,
    "readonly blocking movablekeys",
    (c, argv) => xreadGeneric(c, argv, false),
    {
      categories: ["stream"],
      getKeys: streamKeys,
    },
  ),
  cmd(
    "stream",
    "xreadgroup",
    -7,
    "write blocking movablekeys",
    (c, argv) => xreadGeneric(c, argv, true),
    { categories: ["stream"], getKeys: streamKeys },
  ),
];
