/** String commands (Redis: t_string.c). */
import type { Client } from "../client.ts";
import { cmd, type CommandSpec } from "./table.ts";
import { ERR } from "../errors.ts";

function get(c: Client, argv: string[]): void {
  const v = c.db.get(argv[1]);
  if (v === undefined) c.reply.nil();
  else if (typeof v !== "string") c.error(ERR.wrongType);
  else c.reply.bulk(v);
}

function set(c: Client, argv: string[]): void {
  if (argv.length !== 3) return c.error(ERR.syntax);
  c.db.set(argv[1], argv[2]);
  c.modified(argv[1], "$", "set");
  c.reply.simple("OK");
}

/** The string command specs. */
export const commands: CommandSpec[] = [
  cmd("string", "get", 2, "readonly fast", get, { keys: [1, 1, 1], categories: ["string"] }),
  cmd("string", "set", -3, "write denyoom", set, { keys: [1, 1, 1], categories: ["string"] }),
];
