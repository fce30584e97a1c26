/**
 * The command table is data (Redis: the redisCommand table). Each family module exports
 * its specs; behaviour that applies to many commands (propagation, -READONLY, MULTI
 * queueing, ACL categories) is derived from the flags, never re-checked by handlers.
 */
import type { Client } from "../client.ts";

/** A command handler: reads argv (binary strings; argv[0] is the name as sent). */
export type Handler = (c: Client, argv: string[]) => void;

/** Redis 7 command flags (as COMMAND INFO prints them). */
export type CommandFlag =
  | "write"
  | "readonly"
  | "denyoom"
  | "admin"
  | "pubsub"
  | "noscript"
  | "blocking"
  | "loading"
  | "stale"
  | "skip_monitor"
  | "skip_slowlog"
  | "fast"
  | "no_auth"
  | "may_replicate"
  | "no_mandatory_keys"
  | "no_multi"
  | "movablekeys"
  | "allow_busy"
  | "no_async_loading"
  | "asking";

/** Bits of CommandSpec.bits: the flags dispatch tests on every command, precomputed. */
export const FLAG_BITS: Record<CommandFlag, number> = {
  write: 1,
  readonly: 1 << 1,
  denyoom: 1 << 2,
  admin: 1 << 3,
  pubsub: 1 << 4,
  noscript: 1 << 5,
  blocking: 1 << 6,
  loading: 1 << 7,
  stale: 1 << 8,
  skip_monitor: 1 << 9,
  skip_slowlog: 1 << 10,
  fast: 1 << 11,
  no_auth: 1 << 12,
  may_replicate: 1 << 13,
  no_mandatory_keys: 1 << 14,
  no_multi: 1 << 15,
  movablekeys: 1 << 16,
  allow_busy: 1 << 17,
  no_async_loading: 1 << 18,
  asking: 1 << 19,
};

/**
 * Not a Redis flag (never printed): a command Redeno runs in O(1) although Redis does not
 * flag it `fast` (SET and its variants are O(N) in Redis only because freeing a big old
 * value is; the garbage collector does that here). Dispatch times such commands like fast
 * ones inside a pipeline.
 */
export const CONSTANT_TIME_BIT = 1 << 30;

/** One command (or subcommand) of the table. */
export interface CommandSpec {
  /** lowercase name; for subcommands the subcommand part only ("get") */
  name: string;
  /** Redis arity: positive = exact argc, negative = at least -arity */
  arity: number;
  flags: CommandFlag[];
  /** `flags` as FLAG_BITS (set by cmd(); dispatch tests these instead of the array) */
  bits: number;
  firstKey: number;
  lastKey: number;
  step: number;
  /** ACL categories beyond those derived from flags, e.g. ["string"] */
  categories: string[];
  /** the COMMAND DOCS group: string, generic, list, server, connection, ... */
  group: string;
  handler: Handler;
  /** container commands (CONFIG, CLIENT, ...) dispatch on argv[1] */
  subcommands?: Map<string, CommandSpec>;
  /** set on subcommands: the container's name */
  parent?: string;
  /** keys of commands whose key positions cannot be described by first/last/step */
  getKeys?: (argv: string[]) => number[];
  /** one-line description for COMMAND DOCS */
  summary?: string;
  since?: string;
  complexity?: string;
  /** argument names for COMMAND DOCS (redis-cli hints) */
  args?: DocArg[];
  /** argv as MONITOR and SLOWLOG show it, secrets replaced (Redis: redacted arguments) */
  redact?: (argv: string[]) => string[];
  /**
   * The flag bits this call runs with when they depend on its arguments (Redis's
   * getCommandFlags: EVAL and FCALL take the flags their script declares)
   */
  runtimeBits?: (c: Client, argv: string[]) => number;
}

/** A COMMAND DOCS argument description (a subset of Redis's fields). */
export interface DocArg {
  name: string;
  type:
    | "string"
    | "integer"
    | "double"
    | "key"
    | "pattern"
    | "unix-time"
    | "pure-token"
    | "oneof"
    | "block";
  token?: string;
  optional?: boolean;
  multiple?: boolean;
  arguments?: DocArg[];
}

/** Options for cmd(): everything but name, arity, flags and handler. */
export interface CmdOptions {
  keys?: [number, number, number];
  categories?: string[];
  getKeys?: (argv: string[]) => number[];
  summary?: string;
  since?: string;
  complexity?: string;
  args?: DocArg[];
  redact?: (argv: string[]) => string[];
  runtimeBits?: (c: Client, argv: string[]) => number;
  /** sets CONSTANT_TIME_BIT */
  constantTime?: boolean;
}

/**
 * Declares a command. `flags` is a space-separated list of CommandFlag.
 * Keys default to none; pass `keys: [first, last, step]`.
 */
export function cmd(
  group: string,
  name: string,
  arity: number,
  flags: string,
  handler: Handler,
  options: CmdOptions = {},
): CommandSpec {
  const [firstKey, lastKey, step] = options.keys ?? [0, 0, 0];
  const list = flags.split(" ").filter((f) => f !== "") as CommandFlag[];
  return {
    name,
    arity,
    flags: list,
    bits: list.reduce((b, f) => b | (FLAG_BITS[f] ?? 0), 0) |
      (options.constantTime ? CONSTANT_TIME_BIT : 0),
    firstKey,
    lastKey,
    step,
    categories: options.categories ?? [],
    group,
    handler,
    ...(options.getKeys ? { getKeys: options.getKeys } : {}),
    ...(options.summary ? { summary: options.summary } : {}),
    ...(options.since ? { since: options.since } : {}),
    ...(options.complexity ? { complexity: options.complexity } : {}),
    ...(options.args ? { args: options.args } : {}),
    ...(options.redact ? { redact: options.redact } : {}),
    ...(options.runtimeBits ? { runtimeBits: options.runtimeBits } : {}),
  };
}

/**
 * Declares a container command (CONFIG, CLIENT, OBJECT, ...) whose handler dispatches
 * to its subcommands. Unknown subcommands get Redis's error.
 */
export function container(
  group: string,
  name: string,
  arity: number,
  subcommands: CommandSpec[],
  options: CmdOptions = {},
): CommandSpec {
  const map = new Map<string, CommandSpec>();
  for (const s of subcommands) {
    s.parent = name;
    map.set(s.name, s);
  }
  const spec = cmd(group, name, arity, "", () => {}, options);
  spec.subcommands = map;
  return spec;
}

/** The full name Redis uses in errors and COMMAND output: "get", "config|get". */
export function fullName(spec: CommandSpec): string {
  return spec.parent ? `${spec.parent}|${spec.name}` : spec.name;
}

/** Redis's ACL categories, in Redis's order (ACL CAT, descriptors, COMMAND INFO). */
export const CATEGORIES = [
  "keyspace",
  "read",
  "write",
  "set",
  "sortedset",
  "list",
  "hash",
  "string",
  "bitmap",
  "hyperloglog",
  "geo",
  "stream",
  "pubsub",
  "admin",
  "fast",
  "slow",
  "blocking",
  "dangerous",
  "connection",
  "transaction",
  "scripting",
] as const;

/** ACL categories of a command: derived from flags plus its own. */
export function aclCategories(spec: CommandSpec): string[] {
  const out = new Set<string>();
  const f = spec.flags;
  if (f.includes("write")) out.add("write");
  if (f.includes("readonly") && !spec.categories.includes("scripting")) out.add("read");
  if (f.includes("admin")) {
    out.add("admin");
    out.add("dangerous");
  }
  if (f.includes("pubsub")) out.add("pubsub");
  if (f.includes("fast")) out.add("fast");
  if (f.includes("blocking")) out.add("blocking");
  if (!f.includes("fast")) out.add("slow");
  for (const c of spec.categories) out.add(c);
  return [...out];
}

/** Key positions of argv for a command (COMMAND GETKEYS, ACL key checks, WATCH...). */
export function commandKeys(spec: CommandSpec, argv: string[]): number[] {
  if (spec.getKeys) return spec.getKeys(argv);
  if (spec.firstKey === 0) return [];
  const last = spec.lastKey < 0 ? argv.length + spec.lastKey : spec.lastKey;
  const out: number[] = [];
  for (let i = spec.firstKey; i <= last && i < argv.length; i += spec.step) out.push(i);
  return out;
}
