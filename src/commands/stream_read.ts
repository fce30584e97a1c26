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

function xreadGeneric(c: Client, argv: string[], group: boolean): void {
  let timeoutMs = -1;
  let count = 0;
  let countIdx = 0;
  let streamsArg = 0;
  let nStreams = 0;
  let groupName: string | null = null;
  let consumerName = "";
  let noack = false;
  for (let i = 1; i < argv.length; i++) {
    const more = argv.length - i - 1;
    const o = argv[i].toLowerCase();
    if (o === "block" && more > 0) {
      i++;
      const t = parseInteger(argv[i]);
      if (t === null) return c.error("ERR timeout is not an integer or out of range");
      if (t < 0) return c.error("ERR timeout is negative");
      timeoutMs = t;
    } else if (o === "count" && more > 0) {
      i++;
      const n = parseInteger(argv[i]);
      if (n === null) return c.error(ERR.notInteger);
      count = n < 0 ? 0 : n;
      countIdx = i;
    } else if (o === "streams" && more > 0) {
      streamsArg = i + 1;
      nStreams = argv.length - streamsArg;
      if (nStreams % 2 !== 0) {
        // Redis 7.0 prints this text for XREADGROUP too
        return c.error(
          "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
        );
      }
      nStreams /= 2;
      break;
    } else if (o === "group" && more >= 2) {
      if (!group) {
        return c.error(
          "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
        );
      }
      groupName = argv[i + 1];
      consumerName = argv[i + 2];
      i += 2;
    } else if (o === "noack") {
      if (!group) {
        return c.error(
          "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
        );
      }
      noack = true;
    } else return c.error(ERR.syntax);
  }
  if (streamsArg === 0) return c.error(ERR.syntax);
  if (group && groupName === null) return c.error("ERR Missing GROUP option for XREADGROUP");

  // resolve IDs ("$" → last ID now, ">" → new messages for the group)
  const ids: Array<StreamId | ">"> = [];
  const groups: Array<ConsumerGroup | null> = [];
  const streams: Array<StreamValue | undefined> = [];
  for (let k = 0; k < nStreams; k++) {
    const key = argv[streamsArg + k];
    const arg = argv[streamsArg + nStreams + k];
    // a woken reader ignores a key that is no longer a stream (Redis keeps it blocked)
    const s = c.reprocessing ? streamOrUndefined(c, key) : readStream(c, key);
    if (s === null) return;
    streams.push(s);
    let g: ConsumerGroup | null = null;
    if (groupName !== null) {
      g = s?.groups.get(groupName) ?? null;
      if (g === null && c.reprocessing) {
        return c.error(
          s === undefined
            ? "UNBLOCKED the stream key no longer exists"
            : "NOGROUP the consumer group this client was blocked on no longer exists",
        );
      }
      if (g === null) {
        return c.error(
          `NOGROUP No such key '${key}' or consumer group '${groupName}' in XREADGROUP with GROUP option`,
        );
      }
    }
    groups.push(g);
    if (arg === "$") {
      if (group) {
        return c.error(
          "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
        );
      }
      ids.push(s?.lastId ?? ZERO_ID);
      continue;
    }
    if (arg === ">") {
      if (!group) {
        return c.error(
          "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
        );
      }
      ids.push(">");
      continue;
    }
    const p = parseId(c, arg, { strict: true });
    if (p === null) return;
    ids.push(p.id);
  }

  // serve synchronously what can be served
  type Served = { key: string; s: StreamValue; after: StreamId; k: number; history: boolean };
  const served: Served[] = [];
  const consumers: Array<Consumer | null> = [];
  for (let k = 0; k < nStreams; k++) {
    const key = argv[streamsArg + k];
    const s = streams[k];
    consumers.push(null);
    if (s === undefined) continue;
    const g = groups[k];
    const want = ids[k];
    if (g !== null) {
      const { consumer, created } = lookupOrCreateConsumer(c, key, g, consumerName);
      consumers[k] = consumer;
      if (created && noack) {
        c.server.alsoPropagate(c.db.id, ["XGROUP", "CREATECONSUMER", key, g.name, consumerName]);
      }
      if (want !== ">") served.push({ key, s, after: want, k, history: true });
      else if (s.length > 0 && cmpId(s.entries.last()![0], g.lastId) > 0) {
        served.push({ key, s, after: g.lastId, k, history: false });
      }
    } else if (s.length > 0 && cmpId(s.entries.last()![0], want as StreamId) > 0) {
      served.push({ key, s, after: want as StreamId, k, history: false });
    }
  }
  c.preventPropagation = true;
  if (served.length > 0) {
    // RESP2: an array of [key, entries]; RESP3: a map key → entries
    if (c.reply.resp === 2) c.reply.array(served.length);
    else c.reply.map(served.length);
    for (const sv of served) {
      if (c.reply.resp === 2) c.reply.array(2);
      c.reply.bulk(sv.key);
      const start = incrId(sv.after) ?? MAX_ID;
      const g = groups[sv.k];
      if (g === null) replyRange(c, sv.s, start, MAX_ID, count, false);
      else if (sv.history) replyFromConsumerPel(c, sv.s, start, count, consumers[sv.k]!);
      else deliverNew(c, sv.key, sv.s, g, consumers[sv.k]!, start, count, noack);
      if (g !== null) c.server.dirty++;
    }
    return;
  }
  if (timeoutMs >= 0) {
    // a re-run after waking must read after the IDs resolved now, not a newer "$"
    const blockedArgv = argv.slice();
    for (let k = 0; k < nStreams; k++) {
      const id = ids[k];
      if (id !== ">") blockedArgv[streamsArg + nStreams + k] = formatId(id);
    }
    // a woken reader gets at most 1000 entries unless COUNT says otherwise (as Redis)
    if (countIdx === 0) blockedArgv.splice(1, 0, "COUNT", String(XREAD_BLOCKED_DEFAULT_COUNT));
    else if (count === 0) blockedArgv[countIdx] = String(XREAD_BLOCKED_DEFAULT_COUNT);
    c.argv = blockedArgv;
    c.server.blocking.block(c, {
      keys: argv.slice(streamsArg, streamsArg + nStreams),
      timeoutMs,
    });
    return;
  }
  c.reply.nullArray();
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
      propagateLastId = true;
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
