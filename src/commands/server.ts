/**
 * Server commands (Redis: server.c, config.c, debug.c, slowlog.c, latency.c,
 * object.c's MEMORY): INFO, CONFIG, COMMAND, TIME, LASTSAVE, SHUTDOWN, DEBUG, MONITOR,
 * SLOWLOG, LATENCY, MEMORY. DEBUG is extensible: other modules add subcommands with
 * registerDebugSubcommand().
 */
import type { Client } from "../client.ts";
import {
  REPLY_BUFFER_PEAK_RESET_MS,
  type Server,
  ShutdownAborted,
  type ShutdownOptions,
} from "../server.ts";
import { cmd, type CommandSpec, container, fullName } from "./table.ts";
import { commands as commandCommands } from "./command.ts";
import { clientInfoString, replyHelp } from "./connection.ts";
import { ERR } from "../errors.ts";
import { parseInteger } from "../resp/bytes.ts";
import { infoText, memoryUsage } from "../info.ts";
import { ConfigError, findParam, type ParamDef, PARAMS, parseMemory } from "../config.ts";
import { globMatch } from "../store/glob.ts";
import { rewriteConfigFile } from "../config_rewrite.ts";
import { memoryUsageOfKey } from "../memory.ts";
import { REDIS_VERSION } from "../version.ts";
import { installOomScoreAdj } from "../oom_score.ts";

// ---- INFO ----

function info(c: Client, argv: string[]): void {
  c.reply.verbatim(infoText(c.server, argv.slice(1)));
}

// ---- CONFIG ----

function hasGlob(p: string): boolean {
  return /[*?[\\]/.test(p);
}

/** The value CONFIG GET prints for a parameter. */
export function configValue(server: Server, p: ParamDef): string {
  const v = server.config.get(p.name);
  if (p.name === "client-output-buffer-limit") return v.replace(" replica ", " slave ");
  return v;
}

function configGet(c: Client, argv: string[]): void {
  const found = new Map<string, ParamDef>();
  const seen = new Set<string>();
  const add = (name: string, p: ParamDef) => {
    const key = name.toLowerCase();
    if (seen.has(key)) return;
    seen.add(key);
    found.set(name, p);
  };
  for (let i = 2; i < argv.length; i++) {
    const pattern = argv[i];
    if (!hasGlob(pattern)) {
      const p = findParam(pattern);
      if (p !== undefined) add(pattern, p);
      continue;
    }
    for (const p of PARAMS) {
      if (p.hidden || p.globHidden) continue;
      for (const name of [p.name, ...(p.aliases ?? [])]) {
        if (globMatch(pattern, name, { nocase: true })) add(name, p);
      }
    }
  }
  c.reply.map(found.size);
  for (const [name, p] of found) {
    c.reply.bulk(name);
    c.reply.bulk(configValue(c.server, p));
  }
}

/** Parameters CONFIG SET refuses although the config file may set them. */
const SET_IMMUTABLE = new Set(["replicaof"]);
/** Parameters CONFIG SET refuses while loading (Redis's DENY_LOADING_CONFIG). */
const DENY_LOADING = new Set(["appendonly", "repl-diskless-load", "dir"]);

/** Protected parameters (enable-protected-configs). */
const PROTECTED = new Set(["dir", "dbfilename"]);

/** A connection from the loopback interface (or internal): "local" for enable-*-command. */
export function isLocal(c: Client): boolean {
  return c.addr.startsWith("127.") || c.addr.startsWith("[::1]") || c.conn === null;
}

function configSet(c: Client, argv: string[]): void {
  if ((argv.length - 2) % 2 !== 0) return c.error(ERR.wrongArgs("config|set"));
  const server = c.server;
  const changes: Array<{ p: ParamDef; arg: string; value: string }> = [];
  const fail = (arg: string, msg: string) =>
    c.error(`ERR CONFIG SET failed (possibly related to argument '${arg}') - ${msg}`);
  for (let i = 2; i < argv.length; i += 2) {
    const p = findParam(argv[i]);
    if (p === undefined || p.hidden) {
      return c.error(
        `ERR Unknown option or number of arguments for CONFIG SET - '${argv[i]}'`,
      );
    }
    if (p.immutable || SET_IMMUTABLE.has(p.name)) {
      return fail(argv[i], "can't set immutable config");
    }
    // Redis's DENY_LOADING_CONFIG parameters cannot change while a dataset loads
    if ((server.loading || server.asyncLoading) && DENY_LOADING.has(p.name)) {
      return c.error(ERR.loading);
    }
    if (PROTECTED.has(p.name)) {
      const mode = server.config.get("enable-protected-configs");
      if (mode === "no" || (mode === "local" && !isLocal(c))) {
        return fail(argv[i], "can't set protected config");
      }
    }
    if (changes.some((ch) => ch.p === p)) return fail(argv[i], "duplicate parameter");
    changes.push({ p, arg: argv[i], value: argv[i + 1] });
  }
  // validate everything first: nothing changes unless every value is valid
  for (const ch of changes) {
    try {
      server.config.validate(ch.p, ch.value);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      return fail(ch.arg, e.message);
    }
  }
  const old = changes.map((ch) => server.config.get(ch.p.name));
  for (const ch of changes) server.config.set(ch.p.name, ch.value);
  if (changes.some((ch) => ch.p.name === "port" || ch.p.name === "bind")) {
    try {
      server.rebind();
    } catch {
      changes.forEach((ch, i) => server.config.set(ch.p.name, old[i], true));
      try {
        server.rebind();
      } catch { /* the old addresses were ours a moment ago */ }
      const ch = changes.find((ch) => ch.p.name === "port" || ch.p.name === "bind")!;
      return fail(
        ch.arg,
        ch.p.name === "bind"
          ? "Failed to bind to specified addresses."
          : "Unable to listen on this port",
      );
    }
  }
  c.reply.simple("OK");
}

function configResetstat(c: Client): void {
  c.server.stats.reset();
  c.reply.simple("OK");
}

function configRewrite(c: Client): void {
  const file = c.server.config.file;
  if (file === null) return c.error("ERR The server is running without a config file");
  try {
    rewriteConfigFile(c.server, file);
  } catch (e) {
    c.server.log("warning", `CONFIG REWRITE failed: ${(e as Error).message}`);
    return c.error(`ERR Rewriting config file: ${(e as Error).message}`);
  }
  c.server.log("notice", "CONFIG REWRITE executed with success.");
  c.reply.simple("OK");
}

const CONFIG_HELP = [
  "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "GET <pattern>",
  "    Return parameters matching the glob-like <pattern> and their values.",
  "SET <directive> <value>",
  "    Set the configuration <directive> to <value>.",
  "RESETSTAT",
  "    Reset statistics reported by the INFO command.",
  "REWRITE",
  "    Rewrite the configuration file.",
  "HELP",
  "    Prints this help.",
];

// ---- TIME, LASTSAVE, SHUTDOWN, MONITOR ----

function time(c: Client): void {
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  c.reply.array(2);
  c.reply.bulk(String(Math.floor(us / 1e6)));
  c.reply.bulk(String(us % 1e6));
}

/** A shutdown asked by SIGTERM/SIGINT, run by the next cron tick (Redis's shutdown_asap). */
const pendingSignalShutdown = new WeakMap<Server, ShutdownOptions>();

/**
 * SIGTERM / SIGINT: schedules a shutdown with shutdown-on-sigterm / shutdown-on-sigint
 * (SHUTDOWN ABORT cancels it until it starts); a second signal exits at once.
 */
export function signalShutdown(server: Server, sig: "SIGTERM" | "SIGINT"): void {
  if (pendingSignalShutdown.has(server) || server.shuttingDown) {
    server.log("warning", "You insist... exiting now.");
    server.stop();
    server.onExit(1);
    return;
  }
  if (server.loading) {
    // Redis's whileBlockedCron: a shutdown asked while loading ends without saving
    server.log("warning", "Received shutdown signal during loading, scheduling shutdown.");
    server.shutdown({ nosave: true }).then(() => server.onExit(0), () => server.onExit(1));
    return;
  }
  server.log("warning", `Received ${sig} scheduling shutdown...`);
  const how = server.config.get(sig === "SIGTERM" ? "shutdown-on-sigterm" : "shutdown-on-sigint")
    .split(" ");
  pendingSignalShutdown.set(server, {
    save: how.includes("save"),
    nosave: how.includes("nosave"),
    now: how.includes("now"),
    force: how.includes("force"),
  });
}

/** Cron hook: runs a scheduled signal shutdown. */
function runSignalShutdown(server: Server): void {
  const opts = pendingSignalShutdown.get(server);
  if (opts === undefined || server.shuttingDown) return;
  server.shutdown(opts).then(
    () => server.onExit(0),
    () => {
      pendingSignalShutdown.delete(server);
      server.log(
        "warning",
        "SIGTERM received but errors trying to shut down the server, check the logs for more information",
      );
    },
  );
}

function shutdown(c: Client, argv: string[]): void {
  const opts: ShutdownOptions = {};
  let abort = false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i].toLowerCase();
    if (a === "nosave") opts.nosave = true;
    else if (a === "save") opts.save = true;
    else if (a === "now") opts.now = true;
    else if (a === "force") opts.force = true;
    else if (a === "abort") abort = true;
    else return c.error(ERR.syntax);
  }
  if ((opts.save && opts.nosave) || (abort && argv.length > 2)) return c.error(ERR.syntax);
  if (abort) {
    // a scheduled signal shutdown, or one waiting for its replicas (its callers fail)
    const waiting = c.server.abortShutdown();
    if (!pendingSignalShutdown.delete(c.server) && !waiting) {
      return c.error("ERR No shutdown in progress.");
    }
    c.server.log("notice", "Shutdown manually aborted.");
    return c.reply.simple("OK");
  }
  const server = c.server;
  server.log("warning", "User requested shutdown...");
  const run = server.shutdown(opts);
  // waiting for replicas: the caller is a blocked client until the shutdown ends
  // (INFO blocked_clients), as Redis's BLOCKED_SHUTDOWN
  const blocked = server.shutdownMstime !== 0 && c.conn !== null;
  if (blocked) server.blocking.block(c, { keys: [], timeoutMs: 0, kind: "shutdown" });
  run.then(
    () => server.onExit(0),
    (e) => {
      if (!(e instanceof ShutdownAborted)) {
        server.log("warning", `Errors trying to shut down the server: ${(e as Error).message}`);
      }
      if (blocked && c.blocked?.kind === "shutdown") server.blocking.unblock(c);
      c.error("ERR Errors trying to SHUTDOWN. Check logs.");
      c.scheduleFlush();
      if (blocked) c.resume();
    },
  );
}

function monitor(c: Client): void {
  if (c.multi !== null) return c.error("ERR MONITOR isn't allowed for DENY BLOCKING clients");
  if (c.isMonitor) return;
  c.isMonitor = true;
  c.server.monitors.add(c);
  c.reply.simple("OK");
}

// ---- DEBUG ----

/** A DEBUG subcommand: `argv` is the whole DEBUG command line. */
export type DebugHandler = (c: Client, argv: string[]) => void;

interface DebugSub {
  handler: DebugHandler;
  help: string[];
}

const DEBUG_SUBCOMMANDS = new Map<string, DebugSub>();

/**
 * Adds a DEBUG subcommand (persistence adds RELOAD, replication DIGEST, keys OBJECT...).
 * `help` lines are appended to DEBUG HELP.
 */
export function registerDebugSubcommand(
  name: string,
  handler: DebugHandler,
  help: string[] = [],
): void {
  DEBUG_SUBCOMMANDS.set(name.toLowerCase(), { handler, help });
}

/** Blocks the whole process for `ms`, as Redis's DEBUG SLEEP blocks its event loop. */
function sleepSync(ms: number): void {
  if (ms <= 0) return;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

registerDebugSubcommand("sleep", (c, argv) => {
  if (argv.length !== 3) return c.error(ERR.syntax);
  const secs = Number(argv[2]);
  if (!Number.isFinite(secs)) return c.error(ERR.notFloat);
  sleepSync(secs * 1000);
  c.reply.simple("OK");
}, ["SLEEP <seconds>", "    Stop the server for <seconds>. Decimals allowed."]);

registerDebugSubcommand("set-active-expire", (c, argv) => {
  if (argv.length !== 3) return c.error(ERR.syntax);
  const v = parseInteger(argv[2]);
  if (v === null) return c.error(ERR.notInteger);
  c.server.activeExpireEnabled = v !== 0;
  c.reply.simple("OK");
}, ["SET-ACTIVE-EXPIRE <0|1>", "    Setting it to 0 disables expiring keys in background."]);

/**
 * Redis's crash report (bugReportStart ... bugReportEnd) for a fatal signal, written to
 * the log; then the process exits as if killed by the signal (128 + signal). Used for
 * SIGABRT/SIGSEGV-like ends: a received SIGABRT and DEBUG SEGFAULT.
 */
export function crashReport(server: Server, signal: number, siCode: number, c?: Client): void {
  if (server.config.bool("crash-log-enabled")) {
    server.logRaw(
      "warning",
      "\n\n=== REDIS BUG REPORT START: Cut & paste starting from here ===\n",
    );
    server.log(
      "warning",
      `Redis ${REDIS_VERSION} crashed by signal: ${signal}, si_code: ${siCode}`,
    );
    const stack = (new Error().stack ?? "").split("\n").slice(1).map((l) => l.trim());
    const clients = [...server.clients.values()].map((o) => clientInfoString(o, o === c));
    const lines = [
      "",
      "------ STACK TRACE ------",
      ...stack,
      "",
      "------ INFO OUTPUT ------",
      infoText(server, ["all"]).replaceAll("\r\n", "\n"),
      "------ CLIENT LIST OUTPUT ------",
      ...clients,
    ];
    if (c !== undefined) {
      lines.push("", "------ CURRENT CLIENT INFO ------", clientInfoString(c, true));
    }
    lines.push(
      "",
      "=== REDIS BUG REPORT END. Make sure to include from START to END. ===",
      "",
      "       Please report the crash by opening an issue on github:",
      "",
      "           http://github.com/redis/redis/issues",
      "",
    );
    server.logRaw("warning", lines.join("\n"));
  }
  server.stop();
  server.onExit(128 + signal);
}

registerDebugSubcommand("config-rewrite-force-all", (c) => {
  const file = c.server.config.file;
  if (file === null) return c.error("ERR The server is running without a config file");
  try {
    rewriteConfigFile(c.server, file, true);
  } catch (e) {
    return c.error(`ERR CONFIG-REWRITE-FORCE-ALL failed: ${(e as Error).message}`);
  }
  c.reply.simple("OK");
}, [
  "CONFIG-REWRITE-FORCE-ALL",
  "    Like CONFIG REWRITE but writes all configuration options, including keywords not",
  "    listed in original configuration file or default values.",
]);

registerDebugSubcommand("pause-cron", (c, argv) => {
  if (argv.length !== 3) return c.error(ERR.syntax);
  const v = parseInteger(argv[2]);
  if (v === null) return c.error(ERR.notInteger);
  c.server.cronPaused = v !== 0;
  c.reply.simple("OK");
}, ["PAUSE-CRON <0|1>", "    Stop periodic cron job processing."]);

registerDebugSubcommand("replybuffer", (c, argv) => {
  const server = c.server;
  const what = argv.length === 4 ? argv[2].toLowerCase() : "";
  if (what === "peak-reset-time") {
    const v = argv[3].toLowerCase();
    if (v === "never") server.replyBufferPeakResetMs = -1;
    else if (v === "reset") server.replyBufferPeakResetMs = REPLY_BUFFER_PEAK_RESET_MS;
    else {
      const ms = parseInteger(argv[3]);
      if (ms === null) return c.error(ERR.notInteger);
      server.replyBufferPeakResetMs = Number(ms);
    }
  } else if (what === "resizing") {
    server.replyBufferResizing = (parseInt(argv[3], 10) || 0) !== 0;
  } else {
    return c.error(
      `ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try DEBUG HELP.`,
    );
  }
  c.reply.simple("OK");
}, [
  "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
  "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
  "    In case NEVER is provided the last observed peak will never be reset",
  "    In case RESET is provided the peak reset time will be restored to the default value",
  "REPLYBUFFER RESIZING <0|1>",
  "    Enable or disable the reply buffer resize cron job",
]);

registerDebugSubcommand("segfault", (c) => {
  crashReport(c.server, 11, 2, c);
}, ["SEGFAULT", "    Crash the server with sigsegv."]);

registerDebugSubcommand("log", (c, argv) => {
  if (argv.length !== 3) return c.error(ERR.syntax);
  c.server.log("warning", `DEBUG LOG: ${argv[2]}`);
  c.reply.simple("OK");
}, ["LOG <message>", "    Write <message> to the server log."]);

registerDebugSubcommand("jmap", (c) => c.reply.simple("OK"), [
  "JMAP",
  "    Accepted for compatibility; does nothing.",
]);

/** DEBUG PROTOCOL <type>: a sample reply of each RESP type, for client tests. */
registerDebugSubcommand("protocol", (c, argv) => {
  if (argv.length !== 3) {
    return c.error(
      `ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try DEBUG HELP.`,
    );
  }
  const r = c.reply;
  switch (argv[2].toLowerCase()) {
    case "string":
      return r.bulk("Hello World");
    case "integer":
      return r.int(12345);
    case "double":
      return r.double(3.141);
    case "bignum":
      return r.bigNumber("1234567999999999999999999999999999999");
    case "null":
      return r.nil();
    case "array":
    case "set":
      if (argv[2].toLowerCase() === "set") r.set(3);
      else r.array(3);
      for (let j = 0; j < 3; j++) r.int(j);
      return;
    case "map":
      r.map(3);
      for (let j = 0; j < 3; j++) {
        r.int(j);
        r.bool(j === 1);
      }
      return;
    case "attrib":
      // attributes are not replies: a real reply follows (RESP2 gets only that)
      if (r.resp === 3) {
        r.rawString("|1\r\n");
        r.bulk("key-popularity");
        r.array(2);
        r.bulk("key:123");
        r.int(90);
      }
      return r.bulk("Some real reply following the attribute");
    case "push":
      if (r.resp < 3) return c.error("ERR RESP2 is not supported by this command");
      r.push(2);
      r.bulk("server-cpu-usage");
      r.int(42);
      return r.bulk("Some real reply following the push reply");
    case "true":
      return r.bool(true);
    case "false":
      return r.bool(false);
    case "verbatim":
      return r.verbatim("This is a verbatim\nstring");
    default:
      return c.error(
        "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
      );
  }
}, [
  "PROTOCOL <type>",
  "    Reply with a test value of the specified type. <type> can be: string,",
  "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
  "    true, false.",
]);

// Redeno's lists have no packed/plain nodes: only the argument is checked, as Redis does
registerDebugSubcommand("quicklist-packed-threshold", (c, argv) => {
  if (argv.length !== 3) {
    return c.error(
      `ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try DEBUG HELP.`,
    );
  }
  const size = parseMemory(argv[2].replace(/^(\d+)b$/i, "$1"));
  if (size === null || size < 0 || size > 2 ** 32 - 2 ** 20) {
    return c.error("ERR argument must be a memory value bigger than 1 and smaller than 4gb");
  }
  c.reply.simple("OK");
}, [
  "QUICKLIST-PACKED-THRESHOLD <size>",
  "    Sets the threshold for elements to be inserted as plain vs packed nodes",
  "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
]);

function debug(c: Client, argv: string[]): void {
  const mode = c.server.config.get("enable-debug-command");
  if (mode === "no" || (mode === "local" && !isLocal(c))) {
    return c.error(
      `ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.`,
    );
  }
  const name = argv[1].toLowerCase();
  if (name === "help") {
    const lines = ["DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"];
    for (const sub of DEBUG_SUBCOMMANDS.values()) lines.push(...sub.help);
    lines.push("HELP", "    Prints this help.");
    return replyHelp(c, lines);
  }
  const sub = DEBUG_SUBCOMMANDS.get(name);
  if (sub === undefined) {
    return c.error(
      `ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try DEBUG HELP.`,
    );
  }
  sub.handler(c, argv);
}

// ---- SLOWLOG ----

interface SlowlogEntry {
  id: number;
  time: number;
  usec: number;
  argv: string[];
  addr: string;
  name: string;
}

const SLOWLOG_MAX_ARGC = 32;
const SLOWLOG_MAX_ARGLEN = 128;

/** The slow log of one server (Redis: slowlog.c). */
class Slowlog {
  entries: SlowlogEntry[] = [];
  nextId = 0;

  record(server: Server, c: Client, argv: string[], usec: number): void {
    if (c.spec !== null && c.spec.flags.includes("skip_slowlog")) return;
    const max = server.config.num("slowlog-max-len");
    const args: string[] = [];
    const n = Math.min(argv.length, SLOWLOG_MAX_ARGC);
    for (let i = 0; i < n; i++) {
      if (i === SLOWLOG_MAX_ARGC - 1 && argv.length > SLOWLOG_MAX_ARGC) {
        args.push(`... (${argv.length - SLOWLOG_MAX_ARGC + 1} more arguments)`);
        break;
      }
      const a = argv[i];
      args.push(
        a.length > SLOWLOG_MAX_ARGLEN
          ? `${a.slice(0, SLOWLOG_MAX_ARGLEN)}... (${a.length - SLOWLOG_MAX_ARGLEN} more bytes)`
          : a,
      );
    }
    this.entries.unshift({
      id: this.nextId++,
      time: Math.floor(Date.now() / 1000),
      usec,
      argv: args,
      addr: c.addr,
      name: c.name,
    });
    if (this.entries.length > max) this.entries.length = max;
  }
}

const slowlogs = new WeakMap<Server, Slowlog>();
function slowlogOf(server: Server): Slowlog {
  let s = slowlogs.get(server);
  if (s === undefined) slowlogs.set(server, s = new Slowlog());
  return s;
}

function slowlogGet(c: Client, argv: string[]): void {
  let count = 10;
  if (argv.length === 3) {
    const n = parseInteger(argv[2]);
    if (n === null || n < -1) return c.error("ERR count should be greater than or equal to -1");
    count = n === -1 ? Infinity : n;
  }
  const log = slowlogOf(c.server).entries;
  const n = Math.min(count, log.length);
  c.reply.array(n);
  for (let i = 0; i < n; i++) {
    const e = log[i];
    c.reply.array(6);
    c.reply.int(e.id);
    c.reply.int(e.time);
    c.reply.int(e.usec);
    c.reply.bulkArray(e.argv);
    c.reply.bulk(e.addr);
    c.reply.bulk(e.name);
  }
}

const SLOWLOG_HELP = [
  "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "GET [<count>]",
  "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
  "    Entries are made of:",
  "    id, timestamp, time in microseconds, arguments array, client IP and port,",
  "    client name",
  "LEN",
  "    Return the length of the slowlog.",
  "RESET",
  "    Reset the slowlog.",
  "HELP",
  "    Prints this help.",
];

// ---- LATENCY ----

interface LatencySample {
  time: number;
  ms: number;
}

/** Latency events of one server (Redis: latency.c), fed by slow commands. */
class LatencyMonitor {
  events = new Map<string, { samples: LatencySample[]; max: number }>();

  add(event: string, ms: number): void {
    const now = Math.floor(Date.now() / 1000);
    let e = this.events.get(event);
    if (e === undefined) this.events.set(event, e = { samples: [], max: 0 });
    e.max = Math.max(e.max, ms);
    const last = e.samples[e.samples.length - 1];
    if (last !== undefined && last.time === now) last.ms = Math.max(last.ms, ms);
    else {
      e.samples.push({ time: now, ms });
      if (e.samples.length > 160) e.samples.shift();
    }
  }
}

const latencies = new WeakMap<Server, LatencyMonitor>();
function latencyOf(server: Server): LatencyMonitor {
  let l = latencies.get(server);
  if (l === undefined) latencies.set(server, l = new LatencyMonitor());
  return l;
}

function latencyLatest(c: Client): void {
  const events = latencyOf(c.server).events;
  c.reply.array(events.size);
  for (const [name, e] of events) {
    const last = e.samples[e.samples.length - 1]!;
    c.reply.array(4);
    c.reply.bulk(name);
    c.reply.int(last.time);
    c.reply.int(last.ms);
    c.reply.int(e.max);
  }
}

function latencyHistory(c: Client, argv: string[]): void {
  const e = latencyOf(c.server).events.get(argv[2]);
  const samples = e?.samples ?? [];
  c.reply.array(samples.length);
  for (const s of samples) {
    c.reply.array(2);
    c.reply.int(s.time);
    c.reply.int(s.ms);
  }
}

function latencyReset(c: Client, argv: string[]): void {
  const events = latencyOf(c.server).events;
  if (argv.length === 2) {
    const n = events.size;
    events.clear();
    return c.reply.int(n);
  }
  let n = 0;
  for (let i = 2; i < argv.length; i++) if (events.delete(argv[i])) n++;
  c.reply.int(n);
}

function latencyDoctor(c: Client): void {
  const server = c.server;
  const events = latencyOf(server).events;
  let text: string;
  if (server.config.num("latency-monitor-threshold") === 0 && events.size === 0) {
    text =
      `I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use "CONFIG SET latency-monitor-threshold <milliseconds>." in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n`;
  } else if (events.size === 0) {
    text =
      "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep tonight.\n";
  } else {
    text = "Dave, I have observed latency spikes in this Redis instance. " +
      "You don't mind talking about it, do you Dave?\n\n";
    let i = 1;
    for (const [name, e] of events) {
      const avg = e.samples.reduce((n, s) => n + s.ms, 0) / e.samples.length;
      text += `${i++}. ${name}: ${e.samples.length} latency spikes (average ${
        Math.round(avg)
      }ms, mean deviation 0ms, period 0 sec). Worst all time event ${e.max}ms.\n`;
    }
    text += "\nI have a few advices for you:\n\n" +
      "- Check your slow log (SLOWLOG GET) for commands that take long, and the size of their arguments.\n";
  }
  c.reply.verbatim(text);
}

function latencyGraph(c: Client, argv: string[]): void {
  const e = latencyOf(c.server).events.get(argv[2]);
  if (e === undefined) return c.error(`ERR No samples available for event '${argv[2]}'`);
  const lines = e.samples.map((s) => `${s.time} ${"#".repeat(Math.min(60, s.ms))} ${s.ms}ms`);
  c.reply.verbatim(`${argv[2]} - high ${e.max} ms\n${lines.join("\n")}\n`);
}

function latencyHistogram(c: Client, argv: string[]): void {
  const server = c.server;
  const wanted = argv.length > 2 ? new Set(argv.slice(2).map((a) => a.toLowerCase())) : null;
  const out: Array<[string, number, Uint32Array]> = [];
  for (const [spec, s] of server.stats.commands) {
    const name = fullName(spec);
    if (s.calls === 0 || s.histogram === undefined) continue;
    // a container name (CLIENT) stands for all of its subcommands, as in Redis
    if (wanted !== null && !wanted.has(name) && !wanted.has(name.split("|")[0])) continue;
    out.push([name, s.calls, s.histogram]);
  }
  c.reply.map(out.length);
  for (const [name, calls, h] of out) {
    c.reply.bulk(name);
    c.reply.map(2);
    c.reply.bulk("calls");
    c.reply.int(calls);
    c.reply.bulk("histogram_usec");
    const buckets: Array<[number, number]> = [];
    let cumulative = 0;
    for (let i = 0; i < h.length; i++) {
      if (h[i] === 0) continue;
      cumulative += h[i];
      buckets.push([Math.pow(2, i), cumulative]);
    }
    c.reply.map(buckets.length);
    for (const [bound, n] of buckets) {
      c.reply.int(bound);
      c.reply.int(n);
    }
  }
}

const LATENCY_HELP = [
  "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "DOCTOR",
  "    Return a human readable latency analysis report.",
  "GRAPH <event>",
  "    Return an ASCII latency graph for the <event> class.",
  "HISTORY <event>",
  "    Return time-latency samples for the <event> class.",
  "LATEST",
  "    Return the latest latency samples for all events.",
  "RESET [<event> ...]",
  "    Reset latency data of one or more <event> classes.",
  "    (default: reset all data for all event classes)",
  "HISTOGRAM [COMMAND ...]",
  "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
  "    If no commands are specified then all histograms are replied.",
  "HELP",
  "    Prints this help.",
];

// ---- MEMORY ----

function memoryUsageCmd(c: Client, argv: string[]): void {
  let samples = 5;
  if (argv.length === 5 && argv[3].toLowerCase() === "samples") {
    const n = parseInteger(argv[4]);
    if (n === null || n < 0) return c.error(ERR.notInteger);
    samples = n === 0 ? Infinity : n;
  } else if (argv.length !== 3) return c.error(ERR.syntax);
  const e = c.db.lookupRead(argv[2]);
  if (e === undefined) return c.reply.nil();
  c.reply.int(memoryUsageOfKey(argv[2], e.value, samples));
}

function memoryStats(c: Client): void {
  const server = c.server;
  const { used, rss } = memoryUsage();
  let keys = 0;
  for (const db of server.dbs) keys += db.size;
  const r = c.reply;
  const dbs = server.dbs.filter((db) => db.size > 0);
  r.map(11 + dbs.length);
  r.bulk("peak.allocated");
  r.int(used);
  r.bulk("total.allocated");
  r.int(used);
  r.bulk("startup.allocated");
  r.int(0);
  r.bulk("replication.backlog");
  r.int(0);
  r.bulk("clients.slaves");
  r.int(0);
  r.bulk("clients.normal");
  r.int(0);
  for (const db of dbs) {
    r.bulk(`db.${db.id}`);
    r.map(2);
    r.bulk("overhead.hashtable.main");
    r.int(db.size * 72);
    r.bulk("overhead.hashtable.expires");
    r.int(db.volatileCount * 32);
  }
  r.bulk("keys.count");
  r.int(keys);
  r.bulk("keys.bytes-per-key");
  r.int(keys === 0 ? 0 : Math.floor(used / keys));
  r.bulk("dataset.bytes");
  r.int(used);
  r.bulk("fragmentation");
  r.double(rss / Math.max(1, used));
  r.bulk("fragmentation.bytes");
  r.int(Math.max(0, rss - used));
}

function memoryDoctor(c: Client): void {
  let keys = 0;
  for (const db of c.server.dbs) keys += db.size;
  // Redis calls an instance under 5 MB "empty"; the JS heap is never that small, so
  // judge by the dataset (about 100 bytes a key)
  const text = keys * 100 < 5 * 1024 * 1024
    ? "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
    : "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n";
  c.reply.verbatim(text);
}

const MEMORY_HELP = [
  "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "DOCTOR",
  "    Return memory problems reports.",
  "MALLOC-STATS",
  "    Return internal statistics report from the memory allocator.",
  "PURGE",
  "    Attempt to purge dirty pages for reclamation by the allocator.",
  "STATS",
  "    Return information about the memory usage of the server.",
  "USAGE <key> [SAMPLES <count>]",
  "    Return memory in bytes used by <key> and its value. Nested values are",
  "    sampled up to <count> times (default: 5, 0 means sample all).",
  "HELP",
  "    Prints this help.",
];

/**
 * Installs the server-core hooks: the slow log and latency monitor fed after each
 * command. Called from installModules().
 */
export function installServerCore(server: Server): void {
  server.cronHooks.push(() => runSignalShutdown(server));
  installOomScoreAdj(server);
  const slowlog = slowlogOf(server);
  const latency = latencyOf(server);
  // thresholds are read on every command: keep them as numbers
  let slowerThan = 0;
  let latencyThreshold = 0;
  const thresholds = () => {
    slowerThan = server.config.num("slowlog-log-slower-than");
    latencyThreshold = server.config.num("latency-monitor-threshold");
    // dispatch calls the hook only for commands that may be recorded
    server.slowlogMinUsec = Math.min(
      slowerThan >= 0 ? slowerThan : Infinity,
      latencyThreshold > 0 ? latencyThreshold * 1000 : Infinity,
    );
  };
  thresholds();
  server.config.onChange((name) => {
    if (name === "slowlog-log-slower-than" || name === "latency-monitor-threshold") thresholds();
  });
  server.latencyHook = (event, ms) => {
    if (latencyThreshold > 0 && ms >= latencyThreshold) latency.add(event, Math.round(ms));
  };
  server.slowlogHook = (c, argv, usec) => {
    if (slowerThan >= 0 && usec >= slowerThan) slowlog.record(server, c, argv, usec);
    if (latencyThreshold > 0 && usec >= latencyThreshold * 1000) {
      const fast = c.spec !== null && c.spec.flags.includes("fast");
      latency.add(fast ? "fast-command" : "command", Math.round(usec / 1000));
    }
  };
}

const ADMIN = "admin noscript loading stale";
const S = { categories: [] as string[] };

/** Redis's SENSITIVE_CONFIG parameters: CONFIG SET values SLOWLOG must not show. */
const SENSITIVE_CONFIGS = new Set(["requirepass", "masterauth", "masteruser"]);

/** CONFIG SET as SLOWLOG shows it (Redis redacts sensitive values, even on errors). */
function redactConfigSet(argv: string[]): string[] {
  const out = argv.slice();
  for (let j = 2; j + 1 < argv.length; j += 2) {
    if (SENSITIVE_CONFIGS.has(argv[j].toLowerCase())) out[j + 1] = "(redacted)";
  }
  return out;
}

/** The server command specs. */
export const commands: CommandSpec[] = [
  cmd("server", "info", -1, "loading stale", info, {
    ...S,
    categories: ["dangerous"],
    summary: "Get information and statistics about the server",
  }),
  container("server", "config", -2, [
    cmd("server", "get", -3, ADMIN, configGet, S),
    cmd("server", "set", -4, ADMIN, configSet, {
      ...S,
      redact: redactConfigSet,
    }),
    cmd("server", "resetstat", 2, ADMIN, configResetstat, S),
    cmd("server", "rewrite", 2, ADMIN, configRewrite, S),
    cmd("server", "help", 2, "loading stale", (c) => replyHelp(c, CONFIG_HELP), S),
  ]),
  ...commandCommands,
  cmd("server", "time", 1, "loading stale fast", time, S),
  cmd("server", "lastsave", 1, "loading stale fast", (c) => {
    c.reply.int(Math.floor(c.server.lastSave / 1000));
  }, { ...S, categories: ["admin", "dangerous"] }),
  cmd("server", "shutdown", -1, "admin noscript loading stale no_multi allow_busy", shutdown, S),
  cmd("server", "debug", -2, ADMIN, debug, S),
  cmd("server", "monitor", 1, "admin noscript loading stale", monitor, S),
  container("server", "slowlog", -2, [
    cmd("server", "get", -2, "admin loading stale", slowlogGet, S),
    cmd("server", "len", 2, "admin loading stale", (c) => {
      c.reply.int(slowlogOf(c.server).entries.length);
    }, S),
    cmd("server", "reset", 2, "admin loading stale", (c) => {
      slowlogOf(c.server).entries = [];
      c.reply.simple("OK");
    }, S),
    cmd("server", "help", 2, "loading stale", (c) => replyHelp(c, SLOWLOG_HELP), S),
  ]),
  container("server", "latency", -2, [
    cmd("server", "latest", 2, ADMIN, latencyLatest, S),
    cmd("server", "history", 3, ADMIN, latencyHistory, S),
    cmd("server", "reset", -2, ADMIN, latencyReset, S),
    cmd("server", "doctor", 2, ADMIN, latencyDoctor, S),
    cmd("server", "graph", 3, ADMIN, latencyGraph, S),
    cmd("server", "histogram", -2, ADMIN, latencyHistogram, S),
    cmd("server", "help", 2, "loading stale", (c) => replyHelp(c, LATENCY_HELP), S),
  ]),
  container("server", "memory", -2, [
    cmd("server", "usage", -3, "readonly", memoryUsageCmd, { keys: [2, 2, 1], categories: [] }),
    cmd("server", "stats", 2, "", memoryStats, S),
    cmd("server", "doctor", 2, "", memoryDoctor, S),
    cmd(
      "server",
      "malloc-stats",
      2,
      "",
      (c) => c.reply.verbatim("Stats not supported for the current allocator"),
      S,
    ),
    cmd("server", "purge", 2, "", (c) => c.reply.simple("OK"), S),
    cmd("server", "help", 2, "loading stale", (c) => replyHelp(c, MEMORY_HELP), S),
  ]),
];
