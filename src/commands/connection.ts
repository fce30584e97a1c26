/** Connection commands: PING, ECHO, QUIT, SELECT, HELLO, RESET, AUTH, CLIENT. */
import type { Client } from "../client.ts";
import { cmd, type CommandSpec } from "./table.ts";
import { ERR } from "../errors.ts";
import { parseInteger } from "../resp/bytes.ts";

function ping(c: Client, argv: string[]): void {
  if (argv.length > 2) return c.error(ERR.wrongArgs("ping"));
  if (c.reply.resp === 2 && c.channels.size + c.patterns.size + c.shardChannels.size > 0) {
    c.reply.array(2);
    c.reply.bulk("pong");
    c.reply.bulk(argv[1] ?? "");
    return;
  }
  if (argv.length === 2) c.reply.bulk(argv[1]);
  else c.reply.simple("PONG");
}

function select(c: Client, argv: string[]): void {
  const id = parseInteger(argv[1]);
  if (id === null) return c.error(ERR.notInteger);
  if (id < 0 || id >= c.server.dbs.length) return c.error(ERR.dbIndexOutOfRange);
  c.select(c.server.dbs[id]);
  c.reply.simple("OK");
}

function quit(c: Client): void {
  c.reply.simple("OK");
  c.closeAfterReply = true;
}

/** The connection command specs. */
export const commands: CommandSpec[] = [
  cmd("connection", "ping", -1, "fast", ping, { categories: ["connection"] }),
  cmd("connection", "echo", 2, "fast", (c, argv) => c.reply.bulk(argv[1]), {
    categories: ["connection"],
  }),
  cmd("connection", "select", 2, "loading stale fast", select, { categories: ["connection"] }),
  cmd("connection", "quit", -1, "allow_busy noscript loading stale fast no_auth", quit, {
    categories: ["connection"],
  }),
];
