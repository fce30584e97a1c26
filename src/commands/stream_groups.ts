/**
 * Stream consumer group commands (Redis: t_stream.c): XGROUP, XACK, XPENDING, XCLAIM
 * and XAUTOCLAIM. Claims propagate in Redis 7.0's idempotent XCLAIM form.
 */
import type { Client } from "../client.ts";
import { ERR } from "../errors.ts";
import { parseInteger } from "../resp/bytes.ts";
import {
  cmpId,
  type Consumer,
  ConsumerGroup,
  formatId,
  INVALID_ENTRIES_READ,
  MAX_ID,
  type Nack,
  type StreamId,
  StreamValue,
  ZERO_ID,
} from "../store/stream.ts";
import { cmd, type CommandSpec, container } from "./table.ts";
import {
  dropNack,
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

const NEED_KEY =
  "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";

function subSyntax(c: Client, argv: string[]): void {
  c.error(`ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try XGROUP HELP.`);
}

function noGroup(c: Client, key: string, group: string): void {
  c.error(`NOGROUP No such consumer group '${group}' for key name '${key}'`);
}

/** Parses ENTRIESREAD's value; replies and returns null when invalid. */
function parseEntriesRead(c: Client, arg: string): number | null {
  const n = parseInteger(arg);
  if (n === null) {
    c.error(ERR.notInteger);
    return null;
  }
  if (n < 0 && n !== INVALID_ENTRIES_READ) {
    c.error("ERR value for ENTRIESREAD must be positive or -1");
    return null;
  }
  return n;
}

function xgroupCreate(c: Client, argv: string[]): void {
  let mkstream = false;
  let entriesRead = INVALID_ENTRIES_READ;
  for (let i = 5; i < argv.length;) {
    const opt = argv[i].toLowerCase();
    if (opt === "mkstream") {
      mkstream = true;
      i++;
    } else if (opt === "entriesread" && i + 1 < argv.length) {
      const n = parseEntriesRead(c, argv[i + 1]);
      if (n === null) return;
      entriesRead = n;
      i += 2;
    } else return subSyntax(c, argv);
  }
  const key = argv[2];
  let s = writeStream(c, key);
  if (s === null) return;
  if (s === undefined && !mkstream) return c.error(NEED_KEY);
  if (argv.length > 8) return subSyntax(c, argv);
  let id: StreamId;
  if (argv[4] === "$") id = s?.lastId ?? ZERO_ID;
  else {
    const p = parseId(c, argv[4], { strict: true });
    if (p === null) return;
    id = p.id;
  }
  if (s === undefined) {
    s = new StreamValue();
    c.db.add(key, s);
    c.server.keyModified(c.db, key);
  }
  if (s.groups.has(argv[3])) return c.error("BUSYGROUP Consumer Group name already exists");
  s.groups.set(argv[3], new ConsumerGroup(argv[3], id, entriesRead));
  c.reply.simple("OK");
  c.server.dirty++;
  c.server.notify("t", "xgroup-create", key, c.db.id);
}

/** The stream and group named in argv[2], argv[3]; null after replying an error. */
function streamAndGroup(
  c: Client,
  argv: string[],
): [StreamValue, ConsumerGroup | undefined] | null {
  const s = writeStream(c, argv[2]);
  if (s === null) return null;
  if (s === undefined) {
    c.error(NEED_KEY);
    return null;
  }
  return [s, s.groups.get(argv[3])];
}

function xgroupSetid(c: Client, argv: string[]): void {
  const found = streamAndGroup(c, argv);
  if (found === null) return;
  const [s, g] = found;
  if (g === undefined) return noGroup(c, argv[2], argv[3]);
  if (argv.length !== 5 && argv.length !== 7) return subSyntax(c, argv);
  let id: StreamId;
  if (argv[4] === "$") id = s.lastId;
  else {
    const p = parseId(c, argv[4]);
    if (p === null) return;
    id = p.id;
  }
  let entriesRead = INVALID_ENTRIES_READ;
  if (argv.length === 7) {
    if (argv[5].toLowerCase() !== "entriesread") return subSyntax(c, argv);
    const n = parseEntriesRead(c, argv[6]);
    if (n === null) return;
    entriesRead = n;
  }
  g.lastId = id;
  g.entriesRead = entriesRead;
  c.reply.simple("OK");
  c.server.dirty++;
  c.server.notify("t", "xgroup-setid", argv[2], c.db.id);
}

function xgroupDestroy(c: Client, argv: string[]): void {
  const found = streamAndGroup(c, argv);
  if (found === null) return;
  const [s, g] = found;
  if (g === undefined) return c.reply.int(0);
  s.groups.delete(g.name);
  c.reply.int(1);
  c.server.dirty++;
  c.server.notify("t", "xgroup-destroy", argv[2], c.db.id);
  c.server.keyReady(c.db, argv[2]);
}

function xgroupCreateConsumer(c: Client, argv: string[]): void {
  const found = streamAndGroup(c, argv);
  if (found === null) return;
  const g = found[1];
  if (g === undefined) return noGroup(c, argv[2], argv[3]);
  if (g.consumers.has(argv[4])) return c.reply.int(0);
  lookupOrCreateConsumer(c, argv[2], g, argv[4]);
  c.reply.int(1);
}

function xgroupDelConsumer(c: Client, argv: string[]): void {
  const found = streamAndGroup(c, argv);
  if (found === null) return;
  const g = found[1];
  if (g === undefined) return noGroup(c, argv[2], argv[3]);
  const consumer = g.consumers.get(argv[4]);
  let pending = 0;
  if (consumer !== undefined) {
    pending = consumer.pel.size;
    for (const [id] of [...consumer.pel.entries()]) g.pel.delete(id);
    g.consumers.delete(consumer.name);
  }
  c.reply.int(pending);
  c.server.dirty++;
  c.server.notify("t", "xgroup-delconsumer", argv[2], c.db.id);
}

const XGROUP_HELP = [
  "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CREATE <key> <groupname> <id|$> [option]",
  "    Create a new consumer group. Options are:",
  "    * MKSTREAM",
  "      Create the empty stream if it does not exist.",
  "    * ENTRIESREAD entries_read",
  "      Set the group's entries_read counter (internal use).",
  "CREATECONSUMER <key> <groupname> <consumer>",
  "    Create a new consumer in the specified group.",
  "DELCONSUMER <key> <groupname> <consumer>",
  "    Remove the specified consumer.",
  "DESTROY <key> <groupname>",
  "    Remove the specified group.",
  "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
  "    Set the current group ID and entries_read counter.",
  "HELP",
  "    Prints this help.",
];

function xack(c: Client, argv: string[]): void {
  const s = readStream(c, argv[1]);
  if (s === null) return;
  const g = s?.groups.get(argv[2]);
  if (g === undefined) return c.reply.int(0);
  const ids: StreamId[] = [];
  for (let j = 3; j < argv.length; j++) {
    const p = parseId(c, argv[j], { strict: true });
    if (p === null) return;
    ids.push(p.id);
  }
  let acked = 0;
  for (const id of ids) {
    const nack = g.pel.get(id);
    if (nack === undefined) continue;
    dropNack(g, id, nack);
    acked++;
    c.server.dirty++;
  }
  c.reply.int(acked);
}

function xpending(c: Client, argv: string[]): void {
  const justInfo = argv.length === 3;
  if (argv.length !== 3 && (argv.length < 6 || argv.length > 9)) return c.error(ERR.syntax);
  let start = ZERO_ID;
  let end = MAX_ID;
  let count = 0;
  let minIdle = 0;
  let consumerName: string | null = null;
  if (argv.length >= 6) {
    let at = 3;
    if (argv[3].toLowerCase() === "idle") {
      const n = parseInteger(argv[4]);
      if (n === null) return c.error(ERR.notInteger);
      minIdle = n;
      if (argv.length < 8) return c.error(ERR.syntax);
      at += 2;
    }
    const n = parseInteger(argv[at + 2]);
    if (n === null) return c.error(ERR.notInteger);
    count = n < 0 ? 0 : n;
    const st = parseRangeStart(c, argv[at]);
    if (st === null) return;
    const en = parseRangeEnd(c, argv[at + 1]);
    if (en === null) return;
    start = st;
    end = en;
    if (at + 3 < argv.length) consumerName = argv[at + 3];
  }
  const s = readStream(c, argv[1]);
  if (s === null) return;
  const g = s?.groups.get(argv[2]);
  if (g === undefined) {
    return c.error(`NOGROUP No such key '${argv[1]}' or consumer group '${argv[2]}'`);
  }
  const r = c.reply;
  if (justInfo) {
    r.array(4);
    r.int(g.pel.size);
    if (g.pel.size === 0) {
      r.nil();
      r.nil();
      r.nullArray();
      return;
    }
    r.bulk(formatId(g.pel.first()![0]));
    r.bulk(formatId(g.pel.last()![0]));
    const owners = g.sortedConsumers().filter((x) => x.pel.size > 0);
    r.array(owners.length);
    for (const o of owners) {
      r.array(2);
      r.bulk(o.name);
      r.bulk(String(o.pel.size));
    }
    return;
  }
  let pel = g.pel;
  if (consumerName !== null) {
    const cons = g.consumers.get(consumerName);
    if (cons === undefined) return r.array(0);
    pel = cons.pel;
  }
  const now = c.server.now();
  const out: Array<[StreamId, Nack]> = [];
  if (count > 0) {
    for (const [id, nack] of pel.range(start, end)) {
      if (minIdle !== 0 && now - nack.deliveryTime < minIdle) continue;
      out.push([id, nack]);
      if (out.length >= count) break;
    }
  }
  r.array(out.length);
  for (const [id, nack] of out) {
    r.array(4);
    r.bulk(formatId(id));
    r.bulk(nack.consumer.name);
    r.int(Math.max(0, now - nack.deliveryTime));
    r.int(nack.deliveryCount);
  }
}

/** Moves a pending entry to `consumer` (XCLAIM/XAUTOCLAIM bookkeeping). */
function assignNack(id: StreamId, nack: Nack, consumer: Consumer): void {
  if (nack.consumer === consumer) return;
  nack.consumer?.pel.delete(id);
  nack.consumer = consumer;
  consumer.pel.set(id, nack);
}

function claimNoGroup(c: Client, argv: string[]): void {
  c.error(`NOGROUP No such key '${argv[1]}' or consumer group '${argv[2]}'`);
}

function xclaim(c: Client, argv: string[]): void {
  const s = readStream(c, argv[1]);
  if (s === null) return;
  const g = s?.groups.get(argv[2]);
  if (s === undefined || g === undefined) return claimNoGroup(c, argv);
  const minIdleArg = parseInteger(argv[4]);
  if (minIdleArg === null) return c.error("ERR Invalid min-idle-time argument for XCLAIM");
  const minIdle = Math.max(0, minIdleArg);
  const ids: Array<{ id: StreamId; text: string }> = [];
  let j = 5;
  for (; j < argv.length; j++) {
    const p = parseId(null, argv[j], { strict: true });
    if (p === null) break;
    ids.push({ id: p.id, text: argv[j] });
  }
  const now = c.server.now();
  let deliveryTime = -1;
  let retryCount = -1;
  let force = false;
  let justId = false;
  let lastId = ZERO_ID;
  for (; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j].toLowerCase();
    if (opt === "force") force = true;
    else if (opt === "justid") justId = true;
    else if (opt === "idle" && more > 0) {
      const n = parseInteger(argv[++j]);
      if (n === null) return c.error("ERR Invalid IDLE option argument for XCLAIM");
      deliveryTime = now - n;
    } else if (opt === "time" && more > 0) {
      const n = parseInteger(argv[++j]);
      if (n === null) return c.error("ERR Invalid TIME option argument for XCLAIM");
      deliveryTime = n;
    } else if (opt === "retrycount" && more > 0) {
      const n = parseInteger(argv[++j]);
      if (n === null) return c.error("ERR Invalid RETRYCOUNT option argument for XCLAIM");
      retryCount = n;
    } else if (opt === "lastid" && more > 0) {
      const p = parseId(c, argv[++j], { strict: true });
      if (p === null) return;
      lastId = p.id;
    } else return c.error(`ERR Unrecognized XCLAIM option '${argv[j]}'`);
  }
  let propagateLastId = false;
  if (cmpId(lastId, g.lastId) > 0) {
    g.lastId = lastId;
    propagateLastId = true;
  }
  if (deliveryTime === -1 || deliveryTime < 0 || deliveryTime > now) deliveryTime = now;
  let consumer: Consumer | null = null;
  const claimed: Array<[StreamId, string[] | null]> = [];
  for (const { id, text } of ids) {
    let nack = g.pel.get(id);
    const fields = s.entries.get(id);
    if (fields === undefined) {
      if (nack !== undefined) {
        propagateXclaim(c, argv[1], g, text, nack);
        propagateLastId = false;
        c.server.dirty++;
        dropNack(g, id, nack);
      }
      continue;
    }
    let fresh = false;
    if (force && nack === undefined) {
      nack = { deliveryTime: now, deliveryCount: 1, consumer: null as unknown as Consumer };
      g.pel.set(id, nack);
      fresh = true;
    }
    if (nack === undefined) continue;
    if (!fresh && minIdle > 0 && now - nack.deliveryTime < minIdle) continue;
    consumer ??= lookupOrCreateConsumer(c, argv[1], g, argv[3]).consumer;
    nack.deliveryTime = deliveryTime;
    if (retryCount >= 0) nack.deliveryCount = retryCount;
    else if (!justId) nack.deliveryCount++;
    assignNack(id, nack, consumer);
    claimed.push([id, justId ? null : fields]);
    propagateXclaim(c, argv[1], g, text, nack);
    propagateLastId = false;
    c.server.dirty++;
  }
  if (propagateLastId) {
    propagateGroupId(c, argv[1], g);
    c.server.dirty++;
  }
  c.reply.array(claimed.length);
  for (const [id, fields] of claimed) {
    if (fields === null) c.reply.bulk(formatId(id));
    else replyEntry(c, id, fields);
  }
  c.preventPropagation = true;
}

function xautoclaim(c: Client, argv: string[]): void {
  const minIdleArg = parseInteger(argv[4]);
  if (minIdleArg === null) return c.error("ERR Invalid min-idle-time argument for XAUTOCLAIM");
  const minIdle = Math.max(0, minIdleArg);
  const start = parseRangeStart(c, argv[5]);
  if (start === null) return;
  let count = 100;
  let justId = false;
  for (let j = 6; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    if (opt === "count" && j + 1 < argv.length) {
      const n = parseInteger(argv[j + 1]);
      if (n === null || n < 1 || n > Math.floor(9223372036854775807 / 16)) {
        return c.error("ERR COUNT must be > 0");
      }
      count = n;
      j++;
    } else if (opt === "justid") justId = true;
    else return c.error(ERR.syntax);
  }
  const s = readStream(c, argv[1]);
  if (s === null) return;
  const g = s?.groups.get(argv[2]);
  if (s === undefined || g === undefined) return claimNoGroup(c, argv);
  let attempts = count * 10;
  const scan: Array<[StreamId, Nack]> = [];
  for (const item of g.pel.range(start, MAX_ID)) {
    scan.push(item);
    if (scan.length > attempts) break;
  }
  const now = c.server.now();
  let consumer: Consumer | null = null;
  const claimed: Array<[StreamId, string[] | null]> = [];
  const deleted: StreamId[] = [];
  let k = 0;
  while (attempts-- > 0 && count > 0 && k < scan.length) {
    const [id, nack] = scan[k++];
    const fields = s.entries.get(id);
    if (fields === undefined) {
      propagateXclaim(c, argv[1], g, formatId(id), nack);
      c.server.dirty++;
      dropNack(g, id, nack);
      deleted.push(id);
      count--;
      continue;
    }
    if (minIdle > 0 && now - nack.deliveryTime < minIdle) continue;
    consumer ??= lookupOrCreateConsumer(c, argv[1], g, argv[3]).consumer;
    nack.deliveryTime = now;
    if (!justId) nack.deliveryCount++;
    assignNack(id, nack, consumer);
    claimed.push([id, justId ? null : fields]);
    count--;
    propagateXclaim(c, argv[1], g, formatId(id), nack);
    c.server.dirty++;
  }
  const next = scan[k]?.[0] ?? ZERO_ID;
  c.reply.array(3);
  c.reply.bulk(formatId(next));
  c.reply.array(claimed.length);
  for (const [id, fields] of claimed) {
    if (fields === null) c.reply.bulk(formatId(id));
    else replyEntry(c, id, fields);
  }
  c.reply.array(deleted.length);
  for (const id of deleted) c.reply.bulk(formatId(id));
  c.preventPropagation = true;
}

/** The consumer group command specs. */
export const commands: CommandSpec[] = [
  container("stream", "xgroup", -2, [
    cmd("stream", "create", -5, "write denyoom", xgroupCreate, {
      keys: [2, 2, 1],
      categories: ["stream"],
    }),
    cmd("stream", "setid", -5, "write", xgroupSetid, { keys: [2, 2, 1], categories: ["stream"] }),
    cmd("stream", "destroy", 4, "write", xgroupDestroy, {
      keys: [2, 2, 1],
      categories: ["stream"],
    }),
    cmd("stream", "createconsumer", 5, "write denyoom", xgroupCreateConsumer, {
      keys: [2, 2, 1],
      categories: ["stream"],
    }),
    cmd("stream", "delconsumer", 5, "write", xgroupDelConsumer, {
      keys: [2, 2, 1],
      categories: ["stream"],
    }),
    cmd("stream", "help", 2, "loading stale", (c) => {
      c.reply.array(XGROUP_HELP.length);
      for (const l of XGROUP_HELP) c.reply.simple(l);
    }, { categories: ["stream"] }),
  ]),
  cmd("stream", "xack", -4, "write fast", xack, { keys: [1, 1, 1], categories: ["stream"] }),
  cmd("stream", "xpending", -3, "readonly", xpending, { keys: [1, 1, 1], categories: ["stream"] }),
  cmd("stream", "xclaim", -6, "write fast", xclaim, { keys: [1, 1, 1], categories: ["stream"] }),
  cmd("stream", "xautoclaim", -6, "write fast", xautoclaim, {
    keys: [1, 1, 1],
    categories: ["stream"],
  }),
];
