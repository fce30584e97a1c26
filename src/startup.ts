/** Building a configured server from redis-server style arguments. */
import {
  applyDirectives,
  argvToConfigText,
  Config,
  ConfigError,
  type Directive,
  parseConfigText,
} from "./config.ts";
import { Server } from "./server.ts";
import { installModules } from "./modules.ts";
import { crashReport, signalShutdown } from "./commands/server.ts";
import { userDirective } from "./acl_state.ts";
import { COMMANDS } from "./commands/mod.ts";

import { REDIS_VERSION as VERSION } from "./version.ts";

const USAGE = `Usage: deno task start [/path/to/redis.conf] [options] [-]
       deno task start - (read config from stdin)
       deno task start -v or --version
       deno task start -h or --help

Examples:
       deno task start (run the server with default conf)
       deno task start /etc/redis/6379.conf
       deno task start --port 7777
       deno task start --port 7777 --replicaof 127.0.0.1 8888
       deno task start /etc/myredis.conf --loglevel verbose -
       deno task start /etc/myredis.conf --loglevel verbose`;

/** Reads the config file (with `include`s) and argv overrides into a Config. */
export function configFromArgs(args: string[]): Config {
  const { file, text } = argvToConfigText(args);
  const config = new Config();
  const directives: Directive[] = [];
  if (file !== null) {
    const path = file === "-" ? "/dev/stdin" : file;
    directives.push(...readConfigFile(path, 0));
    // absolute, as Redis reports it (INFO config_file) and rewrites it
    config.file = file === "-" ? null : Deno.realPathSync(file);
  }
  directives.push(...parseConfigText(text));
  applyDirectives(
    config,
    directives,
    (d) => userDirective(config, d) || renameDirective(config, d),
  );
  return config;
}

/** rename-command <name> <new-name>: recorded; startFromArgs applies it to the table. */
function renameDirective(config: Config, d: Directive): boolean {
  if (d.name !== "rename-command") return false;
  const fail = (msg: string): never => {
    throw new ConfigError(
      `Reading the configuration file, at line ${d.line}\n>>> '${d.text}'\n${msg}`,
    );
  };
  if (d.args.length !== 2) fail("wrong number of arguments");
  if (!COMMANDS.has(d.args[0].toLowerCase())) fail("No such command in rename-command");
  config.renameCommands.push([d.args[0].toLowerCase(), d.args[1].toLowerCase()]);
  return true;
}

/** Applies rename-command (process-wide, like Redis: the command table is global). */
function applyRenames(config: Config): void {
  for (const [from, to] of config.renameCommands) {
    const spec = COMMANDS.get(from);
    if (spec === undefined) continue;
    COMMANDS.delete(from);
    if (to === "") continue;
    if (COMMANDS.has(to)) {
      throw new ConfigError("Target command name already exists");
    }
    COMMANDS.set(to, spec);
  }
}

function readConfigFile(path: string, depth: number): Directive[] {
  if (depth > 10) throw new ConfigError("too many nested includes");
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw new ConfigError(`Fatal error, can't open config file '${path}': ${(e as Error).message}`);
  }
  const out: Directive[] = [];
  for (const d of parseConfigText(text)) {
    if (d.name === "include") {
      for (const inc of d.args) out.push(...readConfigFile(inc, depth + 1));
    } else out.push(d);
  }
  return out;
}

/** Creates a server with every module installed (not started). */
export function createServer(config: Config): Server {
  const server = new Server(config);
  installModules(server);
  return server;
}

/** Parses args, starts a server, exits non-zero with a clear message on bad config. */
export async function startFromArgs(args: string[]): Promise<Server> {
  if (args[0] === "-v" || args[0] === "--version") {
    console.log(`Redeno server v=${VERSION} (Redis ${VERSION} compatible)`);
    Deno.exit(0);
  }
  if (args[0] === "-h" || args[0] === "--help") {
    console.log(USAGE);
    Deno.exit(0);
  }
  let config: Config;
  try {
    config = configFromArgs(args);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(`\n*** FATAL CONFIG FILE ERROR (Redeno ${VERSION}) ***\n${e.message}`);
    Deno.exit(1);
  }
  try {
    applyRenames(config);
  } catch (e) {
    console.error(`\n*** FATAL CONFIG FILE ERROR (Redeno ${VERSION}) ***\n${(e as Error).message}`);
    Deno.exit(1);
  }
  const server = createServer(config);
  server.onExit = (code) => Deno.exit(code);
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(sig, () => signalShutdown(server, sig));
  }
  // a SIGABRT is a crash for Redis: bug report in the log, then the process ends
  Deno.addSignalListener("SIGABRT", () => crashReport(server, 6, 0));
  try {
    await server.start();
  } catch (e) {
    console.error(`Redeno could not start: ${(e as Error).message}`);
    Deno.exit(1);
  }
  return server;
}

/** The version Redeno reports (redis_version in INFO). */
export { REDIS_VERSION } from "./version.ts";
