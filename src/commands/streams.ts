/**
 * Stream commands (Redis: t_stream.c): XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM,
 * XSETID, XREAD, XREADGROUP and XINFO. The consumer group commands are in
 * stream_groups.ts; the value type is store/stream.ts.
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
  isZeroId,
  MAX_ID,
  type Nack,
  type StreamId,
  StreamValue,
  U64_MAX,
  ZERO_ID,
} from "../store/stream.ts";
import { cmd, type CommandSpec, container } from "./table.ts";
import {
  lookupOrCreateConsumer,
  parseId,
  parseRangeEnd,
  parseRangeStart,
  propagateGroupId,
  propagateXclaim,
  readStream,
  replyEntry,
  writeStream,
} from "./stream_common.ts";
import { commands as groupCommands } from "./stream_groups.ts";

/** Trimming options of XADD and XTRIM (Redis's streamAddTrimArgs). */
interface TrimArgs {
  strategy: "none" | "maxlen" | "minid";
  maxlen: number;
  minid: StreamId;
  approx: boolean;
  limit: number;
  /** argv index of the threshold (MAXLEN count or MINID id) */
  argIdx: number;
  noMkstream: boolean;
  id: StreamId | null;
  seqGiven: boolean;
}

/**
 * Parses XADD/XTRIM options (Redis's streamParseAddOrTrimArgsOrReply). Returns the
 * argv index where the ID is (XADD), or -1 after replying an error.
 */
function parseAddOrTrim(c: Client, argv: string[], xadd: boolean, args: TrimArgs): number {
  let i = 2;
  let limitGiven = false;
  for (; i < argv.length; i++) {
    if (xadd && argv[i] === "*") break;
    const more = argv.length - 1 - i;
    const opt = argv[i].toLowerCase();
    if ((opt === "maxlen" || opt === "minid") && more > 0) {
      if (args.strategy !== "none") {
        c.error("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
        return -1;
      }
      args.approx = false;
      const next = argv[i + 1];
      if (more >= 2 && next === "~") {
        args.approx = true;
        i++;
      } else if (more >= 2 && next === "=") i++;
      if (opt === "maxlen") {
        const n = parseInteger(argv[i + 1]);
        if (n === null) {
          c.error(ERR.notInteger);
          return -1;
        }
        if (n < 0) {
          c.error("ERR The MAXLEN argument must be >= 0.");
          return -1;
        }
        args.maxlen = n;
      } else {
        const p = parseId(c, argv[i + 1], { strict: true });
        if (p === null) return -1;
        args.minid = p.id;
      }
      i++;
      args.strategy = opt;
      args.argIdx = i;
    } else if (opt === "limit" && more > 0) {
      const n = parseInteger(argv[i + 1]);
      if (n === null) {
        c.error(ERR.notInteger);
        return -1;
      }
      if (n < 0) {
        c.error("ERR The LIMIT argument must be >= 0.");
        return -1;
      }
      args.limit = n;
      limitGiven = true;
      i++;
    } else if (xadd && opt === "nomkstream") {
      args.noMkstream = true;
    } else if (xadd) {
      const p = parseId(c, argv[i], { strict: true, allowStar: true });
      if (p === null) return -1;
      args.id = p.id;
      args.seqGiven = p.seqGiven;
      break;
    } else {
      c.error(ERR.syntax);
      return -1;
    }
  }
  if (limitGiven && args.strategy === "none") {
    c.error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
    return -1;
  }
  if (!xadd && args.strategy === "none") {
    c.error("ERR syntax error, XTRIM must be called with a trimming strategy");
    return -1;
  }
  if (c.isMaster || c.conn === null) {
    // replicated and AOF commands were rewritten to exact trimming: never limit them
    args.limit = 0;
  } else if (limitGiven) {
    if (!args.approx) {
      c.error("ERR syntax error, LIMIT cannot be used without the special ~ option");
      return -1;
    }
  } else if (args.approx) {
    const maxEntries = c.server.config.num("stream-node-max-entries");
    args.limit = 100 * maxEntries;
    if (args.limit <= 0 || args.limit > 10000) args.limit = 10000;
  } else args.limit = 0;
  return i;
}

function newTrimArgs(): TrimArgs {
  return {
    strategy: "none",
    maxlen: 0,
    minid: ZERO_ID,
    approx: false,
    limit: 0,
    argIdx: 0,
    noMkstream: false,
    id: null,
    seqGiven: true,
  };
}

/** Redis's streamTrim: removes entries by MAXLEN or MINID; returns how many. */
function trimStream(s: StreamValue, args: TrimArgs): number {
  if (args.strategy === "none") return 0;
  let deleted = 0;
  const idx = s.entries;
  while (idx.size > 0) {
    if (args.strategy === "maxlen" && s.length <= args.maxlen) break;
    const entries = idx.firstChunkSize();
    if (args.limit > 0 && deleted + entries > args.limit) break;
    const removeNode = args.strategy === "maxlen"
      ? s.length - entries >= args.maxlen
      : cmpId(idx.firstChunkLastId()!, args.minid) < 0;
    if (removeNode) {
      idx.removeFirstChunk();
      deleted += entries;
      continue;
    }
    if (args.approx) break;
    // trim inside the first chunk, entry by entry
    while (idx.size > 0) {
      if (
        args.strategy === "maxlen"
          ? s.length <= args.maxlen
          : cmpId(idx.first()![0], args.minid) >= 0
      ) {
        break;
      }
      idx.removeFirst();
      deleted++;
    }
    break;
  }
  if (deleted > 0) s.updateFirstId();
  return deleted;
}

/** Rewrites an approximate trim to the exact form that reproduces its result. */
function rewriteTrim(argv: string[], s: StreamValue, args: TrimArgs): void {
  argv[args.argIdx - 1] = "=";
  argv[args.argIdx] = args.strategy === "maxlen"
    ? String(s.length)
    : formatId(s.entries.first()?.[0] ?? MAX_ID);
}

/** The next auto-generated ID (Redis's streamNextID): the ms clock, never backwards. */
function nextAutoId(c: Client, last: StreamId): StreamId {
  const ms = c.server.now();
  if (ms > last.ms) return { ms, seq: 0 };
  return incrId(last)!;
}

function xadd(c: Client, argv: string[]): void {
  const args = newTrimArgs();
  const idPos = parseAddOrTrim(c, argv, true, args);
  if (idPos < 0) return;
  const fieldPos = idPos + 1;
  const nFields = argv.length - fieldPos;
  if (nFields < 2 || nFields % 2 === 1) return c.error(ERR.wrongArgs("xadd"));
  if (args.id !== null && args.seqGiven && isZeroId(args.id)) {
    return c.error("ERR The ID specified in XADD must be greater than 0-0");
  }
  const key = argv[1];
  let s = writeStream(c, key);
  if (s === null) return;
  if (s === undefined) {
    if (args.noMkstream) return c.reply.nil();
    s = new StreamValue();
    c.db.add(key, s);
  }
  if (s.lastId.ms === U64_MAX && s.lastId.seq === U64_MAX) {
    return c.error("ERR The stream has exhausted the last possible ID, unable to add more items");
  }
  let id: StreamId;
  if (args.id === null) id = nextAutoId(c, s.lastId);
  else if (!args.seqGiven) {
    if (args.id.ms === s.lastId.ms) {
      if (s.lastId.seq === U64_MAX) return c.error(ID_TOO_SMALL);
      id = incrId(s.lastId)!;
    } else id = args.id;
  } else id = args.id;
  if (cmpId(id, s.lastId) <= 0) return c.error(ID_TOO_SMALL);
  const config = c.server.config;
  s.append(
    id,
    argv.slice(fieldPos),
    config.num("stream-node-max-entries"),
    config.num("stream-node-max-bytes"),
  );
  const idText = formatId(id);
  c.reply.bulk(idText);
  c.modified(key, "t", "xadd");
  const out = argv.slice();
  if (args.strategy !== "none") {
    if (trimStream(s, args) > 0) c.server.notify("t", "xtrim", key, c.db.id);
    if (args.approx) rewriteTrim(out, s, args);
  }
  if (args.id === null || !args.seqGiven) out[idPos] = idText;
  c.rewrite(out);
  c.server.keyReady(c.db, key);
}

const ID_TOO_SMALL =
  "ERR The ID specified in XADD is equal or smaller than the target stream top item";

function xrangeGeneric(c: Client, argv: string[], rev: boolean): void {
  const startArg = rev ? argv[3] : argv[2];
  const endArg = rev ? argv[2] : argv[3];
  const start = parseRangeStart(c, startArg);
  if (start === null) return;
  const end = parseRangeEnd(c, endArg);
  if (end === null) return;
  let count = -1;
  for (let j = 4; j < argv.length; j++) {
    if (argv[j].toLowerCase() === "count" && j + 1 < argv.length) {
      const n = parseInteger(argv[j + 1]);
      if (n === null) return c.error(ERR.notInteger);
      count = n < 0 ? 0 : n;
      j++;
    } else return c.error(ERR.syntax);
  }
  const s = readStream(c, argv[1]);
  if (s === null) return;
  if (s === undefined) return c.reply.array(0);
  if (count === 0) return c.reply.nullArray();
  replyRange(c, s, start, end, count < 0 ? 0 : count, rev);
}

/** Replies entries start..end (count 0 = all) as an array. */
function replyRange(
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

function xlen(c: Client, argv: string[]): void {
  const s = readStream(c, argv[1]);
  if (s === null) return;
  c.reply.int(s?.length ?? 0);
}

function xdel(c: Client, argv: string[]): void {
  const key = argv[1];
  const s = writeStream(c, key);
  if (s === null) return;
  if (s === undefined) return c.reply.int(0);
  const ids: StreamId[] = [];
  for (let j = 2; j < argv.length; j++) {
    const p = parseId(c, argv[j], { strict: true });
    if (p === null) return;
    ids.push(p.id);
  }
  let deleted = 0;
  for (const id of ids) {
    if (s.entries.delete(id)) {
      if (cmpId(id, s.maxDeletedId) > 0) s.maxDeletedId = id;
      deleted++;
    }
  }
  if (deleted > 0) {
    s.updateFirstId();
    c.modified(key, "t", "xdel");
  }
  c.reply.int(deleted);
}

function xtrim(c: Client, argv: string[]): void {
  const key = argv[1];
  const args = newTrimArgs();
  if (parseAddOrTrim(c, argv, false, args) < 0) return;
  const s = writeStream(c, key);
  if (s === null) return;
  if (s === undefined) return c.reply.int(0);
  const deleted = trimStream(s, args);
  if (deleted > 0) {
    c.modified(key, "t", "xtrim");
    if (args.approx) {
      const out = argv.slice();
      rewriteTrim(out, s, args);
      c.rewrite(out);
    }
  }
  c.reply.int(deleted);
}

function xsetid(c: Client, argv: string[]): void {
  const p = parseId(c, argv[2], { strict: true });
  if (p === null) return;
  const id = p.id;
  let entriesAdded = -1;
  let maxDeleted = ZERO_ID;
  for (let i = 3; i < argv.length; i += 2) {
    const opt = argv[i].toLowerCase();
    const more = i + 1 < argv.length;
    if (opt === "entriesadded" && more) {
      const n = parseInteger(argv[i + 1]);
      if (n === null) return c.error(ERR.notInteger);
      if (n < 0) return c.error("ERR entries_added must be positive");
      entriesAdded = n;
    } else if (opt === "maxdeletedid" && more) {
      const m = parseId(c, argv[i + 1], { strict: true });
      if (m === null) return;
      if (cmpId(id, m.id) < 0) {
        return c.error(
          "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
        );
      }
      maxDeleted = m.id;
    } else return c.error(ERR.syntax);
  }
  const key = argv[1];
  const s = writeStream(c, key);
  if (s === null) return;
  if (s === undefined) return c.error(ERR.noSuchKey);
  if (s.length > 0) {
    if (cmpId(id, s.entries.last()![0]) < 0) {
      return c.error("ERR The ID specified in XSETID is smaller than the target stream top item");
    }
    if (entriesAdded !== -1 && s.length > entriesAdded) {
      return c.error(
        "ERR The entries_added specified in XSETID is smaller than the target stream length",
      );
    }
  }
  if (cmpId(id, s.maxDeletedId) < 0) {
    return c.error("ERR The ID specified in XSETID is smaller than current max_deleted_entry_id");
  }
  s.lastId = id;
  if (entriesAdded !== -1) s.entriesAdded = entriesAdded;
  if (!isZeroId(maxDeleted)) s.maxDeletedId = maxDeleted;
  c.reply.simple("OK");
  c.modified(key, "t", "xsetid");
}

// ---- XREAD / XREADGROUP ----

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

// ---- XINFO ----

function xinfoStream(c: Client, argv: string[]): void {
  const s = readStream(c, argv[2]);
  if (s === null) return;
  if (s === undefined) return c.error(ERR.noSuchKey);
  const syntax = () =>
    c.error(
      `ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try XINFO HELP.`,
    );
  const optc = argv.length - 3;
  const full = optc > 0;
  let count = 10;
  if (full) {
    if (optc !== 1 && optc !== 3) return syntax();
    if (argv[3].toLowerCase() !== "full") return syntax();
    if (optc === 3) {
      if (argv[4].toLowerCase() !== "count") return syntax();
      const n = parseInteger(argv[5]);
      if (n === null) return c.error(ERR.notInteger);
      count = n < 0 ? 10 : n;
    }
  }
  const r = c.reply;
  r.map(full ? 9 : 10);
  r.bulk("length");
  r.int(s.length);
  r.bulk("radix-tree-keys");
  r.int(s.entries.chunks.length);
  r.bulk("radix-tree-nodes");
  r.int(s.entries.chunks.length === 0 ? 1 : s.entries.chunks.length * 2);
  r.bulk("last-generated-id");
  r.bulk(formatId(s.lastId));
  r.bulk("max-deleted-entry-id");
  r.bulk(formatId(s.maxDeletedId));
  r.bulk("entries-added");
  r.int(s.entriesAdded);
  r.bulk("recorded-first-entry-id");
  r.bulk(formatId(s.firstId));
  if (!full) {
    r.bulk("groups");
    r.int(s.groups.size);
    const first = s.entries.first();
    const last = s.entries.last();
    r.bulk("first-entry");
    if (first) replyEntry(c, first[0], first[1]);
    else r.nil();
    r.bulk("last-entry");
    if (last) replyEntry(c, last[0], last[1]);
    else r.nil();
    return;
  }
  r.bulk("entries");
  replyRange(c, s, ZERO_ID, MAX_ID, count, false);
  r.bulk("groups");
  const groups = s.sortedGroups();
  r.array(groups.length);
  for (const g of groups) {
    r.map(7);
    r.bulk("name");
    r.bulk(g.name);
    r.bulk("last-delivered-id");
    r.bulk(formatId(g.lastId));
    r.bulk("entries-read");
    if (g.entriesRead === -1) r.nil();
    else r.int(g.entriesRead);
    r.bulk("lag");
    const lag = s.groupLag(g);
    if (lag === null) r.nil();
    else r.int(lag);
    r.bulk("pel-count");
    r.int(g.pel.size);
    r.bulk("pending");
    const pel = takeN(g.pel.entries(), count);
    r.array(pel.length);
    for (const [id, nack] of pel) {
      r.array(4);
      r.bulk(formatId(id));
      r.bulk(nack.consumer.name);
      r.int(nack.deliveryTime);
      r.int(nack.deliveryCount);
    }
    r.bulk("consumers");
    const consumers = g.sortedConsumers();
    r.array(consumers.length);
    for (const cons of consumers) {
      r.map(4);
      r.bulk("name");
      r.bulk(cons.name);
      r.bulk("seen-time");
      r.int(cons.seenTime);
      r.bulk("pel-count");
      r.int(cons.pel.size);
      r.bulk("pending");
      const own = takeN(cons.pel.entries(), count);
      r.array(own.length);
      for (const [id, nack] of own) {
        r.array(3);
        r.bulk(formatId(id));
        r.int(nack.deliveryTime);
        r.int(nack.deliveryCount);
      }
    }
  }
}

function takeN<T>(it: Iterable<T>, count: number): T[] {
  const out: T[] = [];
  for (const x of it) {
    if (count > 0 && out.length >= count) break;
    out.push(x);
  }
  return out;
}

function xinfoGroups(c: Client, argv: string[]): void {
  const s = readStream(c, argv[2]);
  if (s === null) return;
  if (s === undefined) return c.error(ERR.noSuchKey);
  const groups = s.sortedGroups();
  c.reply.array(groups.length);
  for (const g of groups) {
    c.reply.map(6);
    c.reply.bulk("name");
    c.reply.bulk(g.name);
    c.reply.bulk("consumers");
    c.reply.int(g.consumers.size);
    c.reply.bulk("pending");
    c.reply.int(g.pel.size);
    c.reply.bulk("last-delivered-id");
    c.reply.bulk(formatId(g.lastId));
    c.reply.bulk("entries-read");
    if (g.entriesRead === -1) c.reply.nil();
    else c.reply.int(g.entriesRead);
    c.reply.bulk("lag");
    const lag = s.groupLag(g);
    if (lag === null) c.reply.nil();
    else c.reply.int(lag);
  }
}

function xinfoConsumers(c: Client, argv: string[]): void {
  const s = readStream(c, argv[2]);
  if (s === null) return;
  if (s === undefined) return c.error(ERR.noSuchKey);
  const g = s.groups.get(argv[3]);
  if (g === undefined) {
    return c.error(`NOGROUP No such consumer group '${argv[3]}' for key name '${argv[2]}'`);
  }
  const consumers = g.sortedConsumers();
  const now = c.server.now();
  c.reply.array(consumers.length);
  for (const cons of consumers) {
    c.reply.map(3);
    c.reply.bulk("name");
    c.reply.bulk(cons.name);
    c.reply.bulk("pending");
    c.reply.int(cons.pel.size);
    c.reply.bulk("idle");
    c.reply.int(Math.max(0, now - cons.seenTime));
  }
}

const XINFO_HELP = [
  "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CONSUMERS <key> <groupname>",
  "    Show consumers of <groupname>.",
  "GROUPS <key>",
  "    Show the stream consumer groups.",
  "STREAM <key> [FULL [COUNT <count>]",
  "    Show information about the stream.",
  "HELP",
  "    Prints this help.",
];

/** Replies a HELP text as Redis does (status lines). */
export function replyHelp(c: Client, lines: string[]): void {
  c.reply.array(lines.length);
  for (const l of lines) c.reply.simple(l);
}

/** The stream command specs. */
export const commands: CommandSpec[] = [
  cmd("stream", "xadd", -5, "write denyoom fast", xadd, {
    keys: [1, 1, 1],
    categories: ["stream"],
  }),
  cmd("stream", "xrange", -4, "readonly", (c, argv) => xrangeGeneric(c, argv, false), {
    keys: [1, 1, 1],
    categories: ["stream"],
  }),
  cmd("stream", "xrevrange", -4, "readonly", (c, argv) => xrangeGeneric(c, argv, true), {
    keys: [1, 1, 1],
    categories: ["stream"],
  }),
  cmd("stream", "xlen", 2, "readonly fast", xlen, { keys: [1, 1, 1], categories: ["stream"] }),
  cmd("stream", "xdel", -3, "write fast", xdel, { keys: [1, 1, 1], categories: ["stream"] }),
  cmd("stream", "xtrim", -4, "write", xtrim, { keys: [1, 1, 1], categories: ["stream"] }),
  cmd("stream", "xsetid", -3, "write denyoom fast", xsetid, {
    keys: [1, 1, 1],
    categories: ["stream"],
  }),
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
  container("stream", "xinfo", -2, [
    cmd("stream", "stream", -3, "readonly", xinfoStream, {
      keys: [2, 2, 1],
      categories: ["stream"],
    }),
    cmd("stream", "groups", 3, "readonly", xinfoGroups, {
      keys: [2, 2, 1],
      categories: ["stream"],
    }),
    cmd("stream", "consumers", 4, "readonly", xinfoConsumers, {
      keys: [2, 2, 1],
      categories: ["stream"],
    }),
    cmd("stream", "help", 2, "loading stale", (c) => replyHelp(c, XINFO_HELP), {
      categories: ["stream"],
    }),
  ]),
  ...groupCommands,
];
