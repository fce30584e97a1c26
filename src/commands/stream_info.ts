/** XINFO STREAM [FULL], XINFO GROUPS, XINFO CONSUMERS and XINFO HELP (Redis 7.0 fields). */
import type { Client } from "../client.ts";
import { ERR } from "../errors.ts";
import { parseInteger } from "../resp/bytes.ts";
import { formatId, MAX_ID, ZERO_ID } from "../store/stream.ts";
import { cmd, type CommandSpec, container } from "./table.ts";
import { readStream, replyEntry, replyHelp, replyRange } from "./stream_common.ts";

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

/** The XINFO container spec. */
export const commands: CommandSpec[] = [
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
];
