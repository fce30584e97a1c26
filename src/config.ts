/**
 * Configuration: one table of parameters with Redis's names, aliases, defaults and
 * validation. Read from a redis.conf file, then `--name value ...` argv overrides,
 * then CONFIG GET / SET / REWRITE at run time.
 */
import { splitArgs } from "./resp/parser.ts";
import { keyspaceEventsFlagsToString, keyspaceEventsStringToFlags } from "./notify_flags.ts";

/** A config error: the message Redis would print for the value. */
export class ConfigError extends Error {}

type Kind = "bool" | "int" | "memory" | "enum" | "string" | "special";

/** One parameter's definition. */
export interface ParamDef {
  name: string;
  aliases?: string[];
  kind: Kind;
  default: string;
  /** allowed values for enums */
  values?: string[];
  /** inclusive range for numbers */
  min?: number;
  max?: number;
  /** can only be set at startup */
  immutable?: boolean;
  /** takes several words (save, replicaof, client-output-buffer-limit) */
  multiArg?: boolean;
  /** custom parse for "special": returns the canonical stored form or throws */
  parse?: (value: string) => string;
  /** hidden from CONFIG GET globs, and from CONFIG SET (config-file-only, deprecated) */
  hidden?: boolean;
  /** Redis's HIDDEN_CONFIG: settable and readable by name, but left out of globs */
  globHidden?: boolean;
}

const MB = 1024 * 1024;
const GB = 1024 * MB;
const LLMAX = Number.MAX_SAFE_INTEGER;

function int(
  name: string,
  def: number,
  min: number,
  max: number,
  extra: Partial<ParamDef> = {},
): ParamDef {
  return { name, kind: "int", default: String(def), min, max, ...extra };
}
function mem(name: string, def: number, extra: Partial<ParamDef> = {}): ParamDef {
  return { name, kind: "memory", default: String(def), min: 0, max: LLMAX, ...extra };
}
function bool(name: string, def: boolean, extra: Partial<ParamDef> = {}): ParamDef {
  return { name, kind: "bool", default: def ? "yes" : "no", ...extra };
}
/** maxmemory-clients: a memory value or a percentage (of maxmemory) up to 100%. */
function parseMemoryOrPercent(value: string): string {
  if (value.endsWith("%")) {
    const body = value.slice(0, -1);
    if (!/^\d+$/.test(body)) {
      throw new ConfigError("argument must be a memory or percent value");
    }
    if (Number(body) > 100) {
      throw new ConfigError("percentage argument must be less or equal to 100");
    }
    return `${Number(body)}%`;
  }
  const n = parseMemory(value);
  if (n === null || n < 0) throw new ConfigError("argument must be a memory or percent value");
  return String(n);
}

/** maxmemory-clients in bytes (a percentage is of maxmemory); 0 means no limit. */
export function maxmemoryClientsLimit(config: Config): number {
  const v = config.get("maxmemory-clients");
  if (!v.endsWith("%")) return Number(v);
  return Math.floor(config.num("maxmemory") * Number(v.slice(0, -1)) / 100);
}

const PROC_TITLE_VARS = [
  "title",
  "listen-addr",
  "server-mode",
  "port",
  "tls-port",
  "unixsocket",
  "config-file",
];

/** proc-title-template: only Redis's {variables}, balanced, not empty once expanded. */
function parseProcTitleTemplate(value: string): string {
  const rest = value.replace(/\{([a-z-]+)\}/g, (m, v) => PROC_TITLE_VARS.includes(v) ? "x" : m);
  if (/[{}]/.test(rest) || rest.trim() === "") {
    throw new ConfigError("template format is invalid or contains unknown variables");
  }
  return value;
}

const SHUTDOWN_FLAGS = ["save", "nosave", "now", "force"];

/** shutdown-on-sigterm / shutdown-on-sigint: "default" or SAVE|NOSAVE, NOW, FORCE. */
function parseShutdownFlags(value: string): string {
  const words = value.toLowerCase().split(" ").filter((w) => w !== "");
  if (words.length === 0) {
    throw new ConfigError(
      "argument(s) must be one of the following: default, save, nosave, now, force",
    );
  }
  for (const w of words) {
    if (w !== "default" && !SHUTDOWN_FLAGS.includes(w)) {
      throw new ConfigError(
        "argument(s) must be one of the following: default, save, nosave, now, force",
      );
    }
  }
  if (words.includes("save") && words.includes("nosave")) {
    throw new ConfigError("shutdown options SAVE and NOSAVE can't be used simultaneously");
  }
  const flags = SHUTDOWN_FLAGS.filter((f) => words.includes(f));
  return flags.length === 0 ? "default" : flags.join(" ");
}

/** oom-score-adj-values: three integers in [-2000, 2000] (master, replica, child). */
function parseOomValues(value: string): string {
  const words = value.split(" ").filter((w) => w !== "");
  if (words.length !== 3) throw new ConfigError("wrong number of arguments");
  for (const w of words) {
    if (!/^-?\d+$/.test(w) || Math.abs(Number(w)) > 2000) {
      throw new ConfigError(
        "Invalid oom-score-adj-values, elements must be between -2000 and 2000.",
      );
    }
  }
  return words.map(Number).join(" ");
}

/** latency-tracking-info-percentiles: numbers in [0, 100], stored as Redis prints them. */
function parsePercentiles(value: string): string {
  const out: string[] = [];
  for (const w of value.split(" ").filter((x) => x !== "")) {
    const n = Number(w);
    if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(w) || !Number.isFinite(n)) {
      throw new ConfigError("Invalid latency-tracking-info-percentiles parameters");
    }
    if (n < 0 || n > 100) {
      throw new ConfigError(
        "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
      );
    }
    out.push(String(n));
  }
  return out.join(" ");
}

function str(name: string, def: string, extra: Partial<ParamDef> = {}): ParamDef {
  return { name, kind: "string", default: def, ...extra };
}
function enm(name: string, def: string, values: string[], extra: Partial<ParamDef> = {}) {
  return { name, kind: "enum" as const, default: def, values, ...extra };
}

function parseSave(v: string): string {
  const words = v.split(" ").filter((w) => w !== "");
  if (words.length === 0) return "";
  if (words.length % 2 !== 0) throw new ConfigError("Invalid save parameters");
  for (const w of words) {
    if (!/^\d+$/.test(w)) throw new ConfigError("Invalid save parameters");
  }
  return words.join(" ");
}

const OBUF_CLASSES = ["normal", "replica", "slave", "pubsub"];
function parseObufLimits(v: string, current: string): string {
  const words = v.split(" ").filter((w) => w !== "");
  if (words.length % 4 !== 0) {
    throw new ConfigError("Wrong number of arguments in buffer limit configuration.");
  }
  const limits = new Map(
    current.split(" ").reduce<[string, string][]>((acc, w, i, all) => {
      if (i % 4 === 0) acc.push([w, all.slice(i + 1, i + 4).join(" ")]);
      return acc;
    }, []),
  );
  for (let i = 0; i < words.length; i += 4) {
    let cls = words[i].toLowerCase();
    if (!OBUF_CLASSES.includes(cls)) {
      throw new ConfigError("Invalid client class specified in buffer limit configuration.");
    }
    if (cls === "slave") cls = "replica";
    const hard = parseMemory(words[i + 1]);
    const soft = parseMemory(words[i + 2]);
    const secs = Number(words[i + 3]);
    if (hard === null || soft === null || !/^\d+$/.test(words[i + 3])) {
      throw new ConfigError(
        "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
      );
    }
    limits.set(cls, `${hard} ${soft} ${secs}`);
  }
  return ["normal", "replica", "pubsub"].map((c) => `${c} ${limits.get(c)}`).join(" ");
}

function parseReplicaof(v: string): string {
  const words = v.split(" ").filter((w) => w !== "");
  if (words.length === 0) return "";
  if (words.length !== 2) throw new ConfigError("wrong number of arguments");
  if (words[0].toLowerCase() === "no" && words[1].toLowerCase() === "one") return "";
  if (!/^\d+$/.test(words[1]) || Number(words[1]) > 65535) {
    throw new ConfigError("Invalid master port");
  }
  return `${words[0]} ${words[1]}`;
}

function parseNotify(v: string): string {
  const flags = keyspaceEventsStringToFlags(v);
  if (flags === -1) throw new ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
  return keyspaceEventsFlagsToString(flags);
}

/** The parameter table (Redis 7.0 names and defaults). */
export const PARAMS: ParamDef[] = [
  // network
  int("port", 6379, 0, 65535),
  // redis.conf's shipped default: loopback only (protected-mode also keeps non-loopback
  // clients out while there is no password, if bind is widened)
  str("bind", "127.0.0.1 -::1", { multiArg: true }),
  // accepted for compatibility: Deno cannot choose the source address of a connection
  str("bind-source-addr", ""),
  bool("protected-mode", true),
  int("tcp-backlog", 511, 0, 65535, { immutable: true }),
  int("timeout", 0, 0, 2147483647),
  int("tcp-keepalive", 300, 0, 2147483647),
  str("unixsocket", "", { immutable: true }),
  int("maxclients", 10000, 1, 2147483647),
  int("databases", 16, 1, 2147483647, { immutable: true }),
  int("hz", 10, 0, 2147483647),
  bool("dynamic-hz", true),
  // general
  bool("daemonize", false, { immutable: true }),
  // Redis's test aid (exit instead of abort on a panic): accepted, Redeno does not panic
  bool("use-exit-on-panic", false, { immutable: true, hidden: true }),
  str("pidfile", "", { immutable: true }),
  enm("loglevel", "notice", ["debug", "verbose", "notice", "warning"]),
  str("logfile", "", { immutable: true }),
  str("requirepass", ""),
  str("masterauth", ""),
  str("masteruser", ""),
  str("aclfile", "", { immutable: true }),
  int("acllog-max-len", 128, 0, 2147483647),
  enm("acl-pubsub-default", "resetchannels", ["allchannels", "resetchannels"]),
  str("notify-keyspace-events", "", { kind: "special", parse: parseNotify }),
  mem("proto-max-bulk-len", 512 * MB, { min: 1024 * 1024 }),
  mem("client-query-buffer-limit", GB, { min: 1024 * 1024 }),
  {
    name: "client-output-buffer-limit",
    kind: "special",
    multiArg: true,
    default: "normal 0 0 0 replica 268435456 67108864 60 pubsub 33554432 8388608 60",
  },
  // memory
  mem("maxmemory", 0),
  enm("maxmemory-policy", "noeviction", [
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
  ]),
  int("maxmemory-samples", 5, 1, 64),
  int("maxmemory-eviction-tenacity", 10, 0, 100),
  // bytes, or a percentage of maxmemory ("10%"): read it with maxmemoryClientsLimit()
  mem("maxmemory-clients", 0, { kind: "special", parse: parseMemoryOrPercent }),
  int("lfu-log-factor", 10, 0, 2147483647),
  int("lfu-decay-time", 1, 0, 2147483647),
  int("active-expire-effort", 1, 1, 10),
  bool("lazyfree-lazy-eviction", false),
  bool("lazyfree-lazy-expire", false),
  bool("lazyfree-lazy-server-del", false),
  bool("lazyfree-lazy-user-del", false),
  bool("lazyfree-lazy-user-flush", false),
  // encodings
  int("hash-max-listpack-entries", 512, 0, LLMAX, { aliases: ["hash-max-ziplist-entries"] }),
  int("hash-max-listpack-value", 64, 0, LLMAX, { aliases: ["hash-max-ziplist-value"] }),
  int("list-max-listpack-size", -2, -5, 2147483647, { aliases: ["list-max-ziplist-size"] }),
  int("list-compress-depth", 0, 0, 2147483647),
  int("set-max-intset-entries", 512, 0, LLMAX),
  int("zset-max-listpack-entries", 128, 0, LLMAX, { aliases: ["zset-max-ziplist-entries"] }),
  int("zset-max-listpack-value", 64, 0, LLMAX, { aliases: ["zset-max-ziplist-value"] }),
  int("hll-sparse-max-bytes", 3000, 0, LLMAX),
  int("stream-node-max-bytes", 4096, 0, LLMAX),
  int("stream-node-max-entries", 100, 0, LLMAX),
  bool("activerehashing", true),
  // persistence
  str("dir", "./", { kind: "special" }),
  str("dbfilename", "dump.rdb"),
  str("save", "3600 1 300 100 60 10000", { kind: "special", multiArg: true, parse: parseSave }),
  bool("stop-writes-on-bgsave-error", true),
  bool("rdbcompression", true),
  bool("rdbchecksum", true),
  bool("rdb-del-sync-files", false),
  bool("sanitize-dump-payload", false, {
    kind: "enum",
    values: ["no", "yes", "clients"],
    default: "no",
  }),
  bool("appendonly", false),
  str("appendfilename", "appendonly.aof", { immutable: true }),
  str("appenddirname", "appendonlydir", { immutable: true }),
  enm("appendfsync", "everysec", ["always", "everysec", "no"]),
  bool("no-appendfsync-on-rewrite", false),
  int("auto-aof-rewrite-percentage", 100, 0, 2147483647),
  mem("auto-aof-rewrite-min-size", 64 * MB),
  bool("aof-load-truncated", true),
  bool("aof-use-rdb-preamble", true),
  bool("aof-timestamp-enabled", false),
  // Redis's debug config: history AOF files are kept until it is turned off again
  bool("aof-disable-auto-gc", false),
  // replication
  str("replicaof", "", {
    kind: "special",
    multiArg: true,
    parse: parseReplicaof,
    aliases: ["slaveof"],
  }),
  bool("replica-read-only", true, { aliases: ["slave-read-only"] }),
  bool("replica-serve-stale-data", true, { aliases: ["slave-serve-stale-data"] }),
  bool("replica-lazy-flush", false, { aliases: ["slave-lazy-flush"] }),
  mem("repl-backlog-size", MB, { min: 1 }),
  int("repl-backlog-ttl", 3600, 0, 2147483647),
  int("repl-timeout", 60, 1, 2147483647),
  int("repl-ping-replica-period", 10, 1, 2147483647, { aliases: ["repl-ping-slave-period"] }),
  bool("repl-diskless-sync", true),
  int("repl-diskless-sync-delay", 5, 0, 2147483647),
  int("repl-diskless-sync-max-replicas", 0, 0, 2147483647),
  enm("repl-diskless-load", "disabled", ["disabled", "on-empty-db", "swapdb"]),
  bool("repl-disable-tcp-nodelay", false),
  int("min-replicas-to-write", 0, 0, 2147483647, { aliases: ["min-slaves-to-write"] }),
  int("min-replicas-max-lag", 10, 0, 2147483647, { aliases: ["min-slaves-max-lag"] }),
  str("replica-announce-ip", "", { aliases: ["slave-announce-ip"] }),
  int("replica-announce-port", 0, 0, 65535, { aliases: ["slave-announce-port"] }),
  bool("replica-announced", true),
  int("replica-priority", 100, 0, 2147483647, { aliases: ["slave-priority"] }),
  bool("replica-ignore-maxmemory", true, { aliases: ["slave-ignore-maxmemory"] }),
  int("shutdown-timeout", 10, 0, 2147483647),
  str("shutdown-on-sigterm", "default", {
    kind: "special",
    multiArg: true,
    parse: parseShutdownFlags,
  }),
  str("shutdown-on-sigint", "default", {
    kind: "special",
    multiArg: true,
    parse: parseShutdownFlags,
  }),
  // debugging aids of Redis's test suite: per-key delays of snapshots and loading (µs)
  int("rdb-key-save-delay", 0, -2147483648, 2147483647, { globHidden: true }),
  int("key-load-delay", 0, -2147483648, 2147483647, { globHidden: true }),
  int("loading-process-events-interval-bytes", 2 * MB, 1024, 2147483647, { globHidden: true }),
  int("watchdog-period", 0, 0, 2147483647, { globHidden: true }),
  // slow log, latency
  int("slowlog-log-slower-than", 10000, -1, LLMAX),
  int("slowlog-max-len", 128, 0, 2147483647),
  int("latency-monitor-threshold", 0, 0, LLMAX),
  bool("latency-tracking", true),
  str("latency-tracking-info-percentiles", "50 99 99.9", {
    multiArg: true,
    kind: "special",
    parse: parsePercentiles,
  }),
  // misc accepted for compatibility
  bool("lua-replicate-commands", true, { hidden: true }),
  int("lua-time-limit", 5000, 0, LLMAX, { aliases: ["busy-reply-threshold"] }),
  enm("supervised", "no", ["upstart", "systemd", "auto", "no"], { immutable: true }),
  bool("always-show-logo", false, { immutable: true }),
  bool("set-proc-title", true, { immutable: true }),
  // accepted and validated; Deno cannot change the process title
  str("proc-title-template", "{title} {listen-addr} {server-mode}", {
    kind: "special",
    parse: parseProcTitleTemplate,
  }),
  bool("crash-log-enabled", true),
  bool("crash-memcheck-enabled", true),
  enm("oom-score-adj", "no", ["no", "yes", "relative", "absolute"]),
  str("oom-score-adj-values", "0 200 800", {
    kind: "special",
    multiArg: true,
    parse: parseOomValues,
  }),
  bool("syslog-enabled", false, { immutable: true }),
  // Redis's default: DEBUG refused unless enabled in the configuration
  bool("enable-debug-command", false, {
    kind: "enum",
    values: ["no", "yes", "local"],
    default: "no",
    immutable: true,
  }),
  str("enable-protected-configs", "no", {
    kind: "enum",
    values: ["no", "yes", "local"],
    immutable: true,
  }),
  str("enable-module-command", "no", {
    kind: "enum",
    values: ["no", "yes", "local"],
    immutable: true,
  }),
  int("tracking-table-max-keys", 1000000, 0, LLMAX),
  enm("propagation-error-behavior", "ignore", ["ignore", "panic", "panic-on-replicas"]),
  bool("jemalloc-bg-thread", true),
  int("io-threads", 1, 1, 128, { immutable: true }),
];

const byName = new Map<string, ParamDef>();
for (const p of PARAMS) {
  byName.set(p.name, p);
  for (const a of p.aliases ?? []) byName.set(a, p);
}

/** Looks a parameter up by name or alias (case-insensitive). */
export function findParam(name: string): ParamDef | undefined {
  return byName.get(name.toLowerCase());
}

/** Parses a memory value like "1gb", "100mb", "512k", "1024" to bytes, or null. */
export function parseMemory(v: string): number | null {
  const m = /^(-?\d+)([kmg]b?)?$/i.exec(v);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = (m[2] ?? "").toLowerCase();
  const mul = unit === "k"
    ? 1000
    : unit === "kb"
    ? 1024
    : unit === "m"
    ? 1000 * 1000
    : unit === "mb"
    ? MB
    : unit === "g"
    ? 1000 * 1000 * 1000
    : unit === "gb"
    ? GB
    : 1;
  return n * mul;
}

/**
 * The `dir` parameter: Redis chdirs into it. Redeno keeps the process directory (several
 * servers may share one process in tests) and stores the absolute path instead, so
 * `dir` + `dbfilename` always names the file Redis would use.
 */
function resolveDir(value: string): string {
  let path = value;
  if (!path.startsWith("/")) {
    const base = Deno.cwd();
    path = path === "" || path === "." || path === "./" ? base : `${base}/${path}`;
  }
  try {
    if (!Deno.statSync(path).isDirectory) throw new ConfigError("Not a directory");
    return Deno.realPathSync(path);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    if (e instanceof Deno.errors.NotFound) throw new ConfigError("No such file or directory");
    throw new ConfigError((e as Error).message);
  }
}

/** Listener called after a parameter changes (name is the canonical name). */
export type ConfigListener = (name: string, value: string) => void;

/** The live configuration. */
export class Config {
  #values = new Map<string, string>();
  #listeners: ConfigListener[] = [];
  /** the config file this server was started with, for CONFIG REWRITE */
  file: string | null = null;
  /** rename-command directives [old, new] ("" disables), applied by the process at start */
  renameCommands: Array<[string, string]> = [];

  constructor() {
    for (const p of PARAMS) this.#values.set(p.name, p.name === "dir" ? Deno.cwd() : p.default);
  }

  /** Registers a listener for changes (at startup and from CONFIG SET). */
  onChange(fn: ConfigListener): void {
    this.#listeners.push(fn);
  }

  /** The stored (canonical) string form of a parameter. */
  get(name: string): string {
    const v = this.#values.get(name);
    if (v === undefined) throw new Error(`unknown config ${name}`);
    return v;
  }

  /** A numeric parameter (int or memory). */
  num(name: string): number {
    return Number(this.get(name));
  }

  /** A yes/no parameter. */
  bool(name: string): boolean {
    return this.get(name) === "yes";
  }

  /**
   * Validates and sets a parameter from its textual value(s). Throws ConfigError with
   * Redis's message. `startup` allows immutable parameters.
   */
  set(name: string, value: string, startup = false): void {
    const p = findParam(name);
    if (p === undefined) throw new ConfigError("Bad directive or wrong number of arguments");
    if (p.immutable && !startup) throw new ConfigError("can't set immutable config");
    const canonical = this.validate(p, value);
    this.#values.set(p.name, canonical);
    for (const fn of this.#listeners) fn(p.name, canonical);
  }

  /** Returns the canonical stored form of `value` for `p`, or throws ConfigError. */
  validate(p: ParamDef, value: string): string {
    switch (p.kind) {
      case "bool": {
        const v = value.toLowerCase();
        if (v !== "yes" && v !== "no") throw new ConfigError("argument must be 'yes' or 'no'");
        return v;
      }
      case "int": {
        if (!/^-?\d+$/.test(value)) {
          throw new ConfigError("argument couldn't be parsed into an integer");
        }
        return this.#range(p, Number(value));
      }
      case "memory": {
        const n = parseMemory(value);
        if (n === null) throw new ConfigError("argument must be a memory value");
        return this.#range(p, n);
      }
      case "enum": {
        const v = value.toLowerCase();
        if (!p.values!.includes(v)) {
          throw new ConfigError(
            `argument(s) must be one of the following: ${p.values!.join(", ")}`,
          );
        }
        return v;
      }
      case "string":
        return value;
      case "special":
        if (p.name === "client-output-buffer-limit") {
          return parseObufLimits(value, this.get(p.name));
        }
        if (p.name === "dir") return resolveDir(value);
        return p.parse ? p.parse(value) : value;
    }
  }

  #range(p: ParamDef, n: number): string {
    if ((p.min !== undefined && n < p.min) || (p.max !== undefined && n > p.max)) {
      throw new ConfigError(
        p.kind === "memory" && n < 0
          ? "argument must be a memory value"
          : `argument must be between ${p.min} and ${p.max} inclusive`,
      );
    }
    return String(n);
  }

  /** Parameter names (canonical and alias) matching a glob, with their values. */
  entries(): Array<[string, ParamDef]> {
    const out: Array<[string, ParamDef]> = [];
    for (const p of PARAMS) {
      out.push([p.name, p]);
      for (const a of p.aliases ?? []) out.push([a, p]);
    }
    return out;
  }
}

/** One directive of a config file: its line number, name and arguments. */
export interface Directive {
  line: number;
  text: string;
  name: string;
  args: string[];
}

/** Splits redis.conf text into directives. Throws ConfigError on bad quoting. */
export function parseConfigText(text: string): Directive[] {
  const out: Directive[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "" || line.startsWith("#")) continue;
    const words = splitArgs(line);
    if (words === null) {
      throw new ConfigError(
        `Reading the configuration file, at line ${
          i + 1
        }\n>>> '${line}'\nUnbalanced quotes in configuration line`,
      );
    }
    if (words.length === 0) continue;
    out.push({ line: i + 1, text: line, name: words[0].toLowerCase(), args: words.slice(1) });
  }
  return out;
}

/**
 * Turns redis-server style argv into config text, following redis-server's main():
 * an optional config file first (or "-" for stdin), then `--name` starts a new line and
 * the following words are its values, quoted (so `--save "3600 1 300 100"` and
 * `--replicaof localhost 6379` both work). An argument after an option that has no
 * value yet is always a value, even when it starts with "--"; a bare `--save` before
 * another option, or last, means `save ""`.
 */
export function argvToConfigText(args: string[]): { file: string | null; text: string } {
  let file: string | null = null;
  let i = 0;
  if (args.length > 0 && (args[0] === "-" || !args[0].startsWith("-"))) {
    file = args[0];
    i = 1;
  }
  const lines: string[] = [];
  let current: string[] | null = null;
  // whether the current option already has a value (redis-server's handled_last_config_arg)
  let hasValue = true;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === "-" && i === args.length - 1 && file === null) {
      file = "-";
      continue;
    }
    if (hasValue && a.startsWith("--")) {
      if (current) lines.push(current.join(" "));
      current = [a.slice(2)];
      const words = splitArgs(a) ?? [a];
      hasValue = words.length > 1;
      if (!hasValue && a.toLowerCase() === "--save") {
        const next = args[i + 1];
        if (next === undefined || next.startsWith("--")) {
          current.push('""');
          hasValue = true;
        }
      }
    } else {
      // like redis-server, words before the first --option start a line of their own
      // ("loglevel verbose" reads as the directive)
      if (current === null) current = [];
      current.push(quote(a));
      hasValue = true;
    }
  }
  if (current) lines.push(current.join(" "));
  return { file, text: lines.join("\n") };
}

function quote(s: string): string {
  return '"' + s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n") + '"';
}

/** Applies directives to a config (startup). Throws ConfigError naming the line. */
export function applyDirectives(
  config: Config,
  directives: Directive[],
  special: (d: Directive) => boolean = () => false,
): void {
  let saveSeen = false;
  for (const d of directives) {
    if (special(d)) continue;
    const p = findParam(d.name);
    try {
      if (p === undefined) throw new ConfigError("Bad directive or wrong number of arguments");
      let args = d.args;
      // a single-value parameter takes exactly one argument (multi-argument ones check
      // their own values)
      if (!p.multiArg && (args.length > 1 || (args.length === 0 && p.kind !== "string"))) {
        throw new ConfigError("wrong number of arguments");
      }
      if (p.multiArg && args.length === 1) args = args[0].split(" ").filter((w) => w !== "");
      let value = args.join(" ");
      // Redis: the first "save" replaces the built-in points, later ones add to them
      // ("save ''" clears them all)
      if (p.name === "save") {
        if (saveSeen && value !== "" && config.get("save") !== "") {
          value = `${config.get("save")} ${value}`;
        }
        saveSeen = true;
      }
      config.set(p.name, value, true);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      throw new ConfigError(
        `Reading the configuration file, at line ${d.line}\n>>> '${d.text}'\n${e.message}`,
      );
    }
  }
}
