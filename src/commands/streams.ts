/**
 * Stream commands (Redis: t_stream.c): XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM and
 * XSETID here; XREAD / XREADGROUP in stream_read.ts, XINFO in stream_info.ts, the
 * consumer group commands in stream_groups.ts. The value type is store/stream.ts.
 */
import type { Client } from "../client.ts";
import { ERR } from "../errors.ts";
import { parseInteger } from "../resp/bytes.ts";
import {
  cmpId,
  formatId,
  incrId,
  isZeroId,
  MAX_ID,
  type StreamId,
  StreamValue,
  U64_MAX,
  ZERO_ID,
} from "../store/stream.ts";
import { cmd, type CommandSpec } from "./table.ts";
import { encodingLimits } from "./encoding_limits.ts";
import {
  parseId,
  parseRangeEnd,
  parseRangeStart,
  readStream,
  replyId,
  replyRange,
  writeStream,
} from "./stream_common.ts";
import { commands as groupCommands } from "./stream_groups.ts";
import { commands as readCommands } from "./stream_read.ts";
import { commands as infoCommands } from "./stream_info.ts";

/** True when `arg` is `lower` in any case (an option name, compared without lowercasing). */
function isWord(arg: string, lower: string): boolean {
  if (arg.length !== lower.length) return false;
  for (let i = 0; i < arg.length; i++) {
    if ((arg.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

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
    const arg = argv[i];
    const opt = isWord(arg, "maxlen")
      ? "maxlen"
      : isWord(arg, "minid")
      ? "minid"
      : isWord(arg, "limit")
      ? "limit"
      : isWord(arg, "nomkstream")
      ? "nomkstream"
      : "";
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
    const maxEntries = encodingLimits(c).streamNodeMaxEntries;
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
      : idx.firstChunkEndsBelow(args.minid);
    if (removeNode) {
      idx.removeFirstChunk();
      deleted += entries;
      continue;
    }
    if (args.approx) break;
    // trim inside the first chunk, entry by entry
    while (idx.size > 0) {
      if (
        args.strategy === "maxlen" ? s.length <= args.maxlen : !idx.firstIdBelow(args.minid)
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
    : formatId(s.entries.firstId() ?? MAX_ID);
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
  const limits = encodingLimits(c);
  s.append(id, argv.slice(fieldPos), limits.streamNodeMaxEntries, limits.streamNodeMaxBytes);
  replyId(c, id);
  c.modified(key, "t", "xadd");
  if (args.strategy !== "none" && trimStream(s, args) > 0) {
    c.server.notify("t", "xtrim", key, c.db.id);
  }
  // the deterministic form (the ID, exact trimming) matters only when something is fed
  // the command: no replica, no AOF, nothing to build
  if (c.server.sinks.length > 0) {
    const out = argv.slice();
    if (args.approx) rewriteTrim(out, s, args);
    if (args.id === null || !args.seqGiven) out[idPos] = formatId(id);
    c.rewrite(out);
  }
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
  ...readCommands,
  ...infoCommands,
  ...groupCommands,
];
