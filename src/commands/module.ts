/**
 * MODULE as a redis-server 7.0 without loadable modules answers it: LIST is empty, LOAD
 * and LOADEX fail as a module that cannot be loaded does, UNLOAD finds no such module,
 * and LOAD, LOADEX and UNLOAD are protected by enable-module-command (default "no").
 */
import type { Client } from "../client.ts";
import { cmd, type CommandSpec, container } from "./table.ts";
import { replyHelp } from "./connection.ts";
import { isLocal } from "./server.ts";

const HELP = [
  "MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "LIST",
  "    Return a list of loaded modules.",
  "LOAD <path> [<arg> ...]",
  "    Load a module library from <path>, passing to it any optional arguments.",
  "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
  "    Load a module library from <path>, while passing it module configurations and optional arguments.",
  "UNLOAD <name>",
  "    Unload a module.",
  "HELP",
  "    Prints this help.",
];

/** Redis's protected-action check for MODULE LOAD / LOADEX / UNLOAD. */
function allowed(c: Client): boolean {
  const mode = c.server.config.get("enable-module-command");
  if (mode === "yes" || (mode === "local" && isLocal(c))) return true;
  c.error(
    `ERR MODULE command not allowed. If the enable-module-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.`,
  );
  return false;
}

function load(c: Client, argv: string[]): void {
  if (!allowed(c)) return;
  c.server.log(
    "warning",
    `Module ${argv[2]} failed to load: Redeno cannot load native Redis modules`,
  );
  c.error("ERR Error loading the extension. Please check the server logs.");
}

function unload(c: Client): void {
  if (!allowed(c)) return;
  c.error("ERR Error unloading module: no such module with that name");
}

const ADMIN = "admin noscript no_async_loading";

/** The MODULE command specs. */
export const commands: CommandSpec[] = [
  container("server", "module", -2, [
    cmd("server", "help", 2, "loading stale", (c) => replyHelp(c, HELP)),
    cmd("server", "list", 2, "admin noscript", (c) => c.reply.array(0)),
    cmd("server", "load", -3, ADMIN, load),
    cmd("server", "loadex", -3, ADMIN, load),
    cmd("server", "unload", 3, ADMIN, unload),
  ]),
];
