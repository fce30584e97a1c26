/**
 * DEBUG subcommands the replication tests rely on (Redis: debug.c): POPULATE fills a
 * database with keys quickly (not propagated, as in Redis: replicas get the keys by a
 * full sync), REPLICATE feeds an arbitrary command to the replication stream only.
 */
import type { Client } from "../client.ts";
import { registerDebugSubcommand } from "../commands/server.ts";
import { ERR } from "../errors.ts";
import { parseInteger } from "../resp/bytes.ts";
import { encodeCommand } from "../resp/writer.ts";
import { replicationOf } from "./mod.ts";

/** DEBUG POPULATE <count> [<prefix>] [<size>] (Redis 7.0's exact keys and values). */
function populate(c: Client, argv: string[]): void {
  if (argv.length < 3 || argv.length > 5) return c.error(ERR.syntax);
  const count = parseInteger(argv[2]);
  if (count === null) return c.error(ERR.notInteger);
  if (count < 0) return c.error("ERR count must be greater than or equal to 0");
  let size = 0;
  if (argv.length === 5) {
    const n = parseInteger(argv[4]);
    if (n === null) return c.error(ERR.notInteger);
    size = n;
  }
  const prefix = argv.length >= 4 ? argv[3] : "key";
  const db = c.db;
  const server = c.server;
  for (let j = 0; j < count; j++) {
    const key = `${prefix}:${j}`;
    if (db.lookupWrite(key) !== undefined) continue;
    let value = `value:${j}`;
    // a sized value is the prefix of "value:<j>" padded with zero bytes
    if (size > 0) {
      value = size <= value.length
        ? value.slice(0, size)
        : value + "\0".repeat(size - value.length);
    }
    db.add(key, value);
    server.keyModified(db, key);
  }
  c.reply.simple("OK");
}

/** DEBUG REPLICATE <command...>: sent to the replicas (and backlog), not executed. */
function replicate(c: Client, argv: string[]): void {
  if (argv.length < 3) return c.error(ERR.syntax);
  const primary = replicationOf(c.server).primary;
  if (!primary.relaying) primary.feedRaw(encodeCommand(argv.slice(2)));
  c.reply.simple("OK");
}

/** Registers POPULATE and REPLICATE in the DEBUG command. */
export function registerReplicationDebug(): void {
  registerDebugSubcommand("populate", populate, [
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
  ]);
  registerDebugSubcommand("replicate", replicate, [
    "REPLICATE <command> [<arg> ...]",
    "    Feed the replication stream with a command that is not executed here.",
  ]);
}
