/**
 * The ACL permission check (Redis: ACLCheckAllUserCommandPerm and friends): whether a
 * user's selectors allow a command, its keys (with the read/write access Redis's key
 * specs declare) and its Pub/Sub channels.
 */
import type { Client } from "./client.ts";
import { commandKeys, type CommandSpec, fullName } from "./commands/table.ts";
import { KEY_SPEC_FLAGS } from "./acl_tables.ts";
import { asciiLower } from "./acl_catalog.ts";
import { channelAllowed, KEY_READ, KEY_WRITE, type Selector, type User } from "./acl.ts";

/** Results of a permission check (Redis's ACL_* codes: higher wins when reporting). */
export const ACL_OK = 0;
export const DENIED_CMD = 1;
export const DENIED_KEY = 2;
export const DENIED_AUTH = 3;
export const DENIED_CHANNEL = 4;

/** The outcome of a permission check: the result code and the argv index at fault. */
export interface CheckResult {
  result: number;
  index: number;
}

/** The access flags ACL requires for the key at `pos` of argv (Redis's key spec flags). */
function keyFlags(spec: CommandSpec, argv: string[], pos: number): number {
  const name = fullName(spec);
  if (name === "set") {
    for (let i = 3; i < argv.length; i++) {
      if (asciiLower(argv[i]) === "get") return KEY_READ | KEY_WRITE;
    }
    return KEY_WRITE;
  }
  if (name === "bitfield") return bitfieldKeyFlags(argv);
  const specs = KEY_SPEC_FLAGS.get(name);
  if (specs === undefined) {
    return spec.flags.includes("write")
      ? KEY_WRITE
      : spec.flags.includes("readonly")
      ? KEY_READ
      : 0;
  }
  let chosen = specs[0];
  if (specs.length > 1) {
    const prev = pos > 0 ? argv[pos - 1].toUpperCase() : "";
    const byKeyword = specs.find((s) => s.keyword !== null && s.keyword === prev);
    if (byKeyword) chosen = byKeyword;
    else {
      for (const s of specs) if (s.keyword === null && s.index <= pos) chosen = s;
    }
  }
  return (chosen.read ? KEY_READ : 0) | (chosen.write ? KEY_WRITE : 0);
}

/** BITFIELD reads only when every operation is a GET (Redis: bitfieldGetKeys). */
function bitfieldKeyFlags(argv: string[]): number {
  for (let i = 2; i < argv.length; i++) {
    const remaining = argv.length - i - 1;
    const op = asciiLower(argv[i]);
    if (op === "get" && remaining >= 2) i += 2;
    else if (op === "overflow" && remaining >= 1) i += 1;
    else return KEY_READ | KEY_WRITE;
  }
  return KEY_READ;
}

/** Commands whose "keys" are shard channels (NOT_KEY key specs): no key check. */
const NOT_KEY_COMMANDS = new Set(["spublish", "ssubscribe", "sunsubscribe"]);

/** Where the number of keys is, for commands whose key specs count keys (keynum). */
const NUMKEYS_INDEX: Record<string, number> = {
  zunionstore: 2,
  zinterstore: 2,
  zdiffstore: 2,
  zunion: 1,
  zinter: 1,
  zdiff: 1,
  zintercard: 1,
  sintercard: 1,
  lmpop: 1,
  zmpop: 1,
  blmpop: 2,
  bzmpop: 2,
  eval: 2,
  evalsha: 2,
  eval_ro: 2,
  evalsha_ro: 2,
  fcall: 2,
  fcall_ro: 2,
};

/**
 * Key positions as Redis's ACL sees them: a command whose key specs do not fit the
 * arguments (a bad key count, PFMERGE without sources) has no keys, the command then
 * failing on its own syntax error (Redis: getKeysFromCommandWithSpecs).
 */
function keysOf(spec: CommandSpec, argv: string[]): number[] {
  const name = fullName(spec);
  if (NOT_KEY_COMMANDS.has(name)) return [];
  const numkeysIndex = NUMKEYS_INDEX[name];
  if (numkeysIndex !== undefined) {
    const n = /^-?\d+$/.test(argv[numkeysIndex] ?? "") ? Number(argv[numkeysIndex]) : 0;
    if (n < 1 || n > argv.length - numkeysIndex - 1) return [];
  }
  if (name === "pfmerge" && argv.length < 3) return [];
  try {
    return commandKeys(spec, argv);
  } catch {
    return [];
  }
}

const CHANNEL_COMMANDS = new Set(["publish", "spublish", "subscribe", "ssubscribe", "psubscribe"]);

function checkSelector(
  sel: Selector,
  spec: CommandSpec,
  argv: string[],
  keyCache: { keys: number[] | null },
): CheckResult {
  if (!sel.allCommands && !spec.flags.includes("no_auth") && !sel.allowed.has(spec)) {
    const firstArgs = sel.firstArgs.get(spec);
    const idx = spec.parent !== undefined ? 2 : 1;
    if (
      argv.length < 2 || firstArgs === undefined || argv[idx] === undefined ||
      !firstArgs.some((a) => asciiLower(a) === asciiLower(argv[idx]))
    ) return { result: DENIED_CMD, index: 0 };
  }
  if (!sel.allKeys && (spec.firstKey !== 0 || spec.getKeys !== undefined)) {
    keyCache.keys ??= keysOf(spec, argv);
    for (const pos of keyCache.keys) {
      if (pos >= argv.length) continue;
      if (!sel.checkKey(argv[pos], keyFlags(spec, argv, pos))) {
        return { result: DENIED_KEY, index: pos };
      }
    }
  }
  if (!sel.allChannels && spec.parent === undefined && CHANNEL_COMMANDS.has(spec.name)) {
    const literal = spec.name === "psubscribe";
    const last = spec.name.endsWith("publish") ? 1 : argv.length - 1;
    for (let j = 1; j <= last && j < argv.length; j++) {
      if (!sel.checkChannel(argv[j], literal)) return { result: DENIED_CHANNEL, index: j };
    }
  }
  return { result: ACL_OK, index: 0 };
}

/**
 * Checks whether `user` may run the command (Redis: ACLCheckAllUserCommandPerm): OK if
 * any selector allows it; otherwise the most relevant denial.
 */
export function checkCommandPerm(user: User, spec: CommandSpec, argv: string[]): CheckResult {
  if (user.unrestricted) return { result: ACL_OK, index: 0 };
  let relevant = DENIED_CMD;
  let lastIndex = 0;
  const cache = { keys: null };
  for (const sel of user.selectors) {
    const r = checkSelector(sel, spec, argv, cache);
    if (r.result === ACL_OK) return r;
    if (r.result > relevant || (r.result === relevant && r.index > lastIndex)) {
      relevant = r.result;
      lastIndex = r.index;
    }
  }
  return { result: relevant, index: lastIndex };
}

/**
 * Whether a selector that allows the command can read every key (Redis:
 * ACLUserCheckCmdWithUnrestrictedKeyAccess with CMD_KEY_ACCESS, for SORT BY / GET).
 */
export function hasUnrestrictedReadAccess(user: User, spec: CommandSpec, argv: string[]): boolean {
  if (user.unrestricted) return true;
  const cache = { keys: null };
  for (const sel of user.selectors) {
    if (checkSelector(sel, spec, argv, cache).result !== ACL_OK) continue;
    if (sel.allKeys) return true;
    if (sel.keys.some((k) => k.pattern === "*" && (k.flags & KEY_READ) !== 0)) return true;
  }
  return false;
}

/**
 * Whether a subscribed client of `original` would lose channels under `updated`'s rules
 * (Redis: ACLKillPubsubClientsIfNeeded): returns a predicate over clients, or null when
 * no client can be affected.
 */
export function pubsubRevocation(updated: User, original: User): ((c: Client) => boolean) | null {
  if (updated.selectors.some((s) => s.allChannels)) return null;
  const upcoming = updated.selectors.flatMap((s) => s.channels);
  // an original selector with all channels means the new list cannot be a superset
  const superset = original.selectors.every((s) =>
    !s.allChannels && s.channels.every((ch) => upcoming.includes(ch))
  );
  if (superset) return null;
  return (c: Client) => {
    for (const p of c.patterns) if (!channelAllowed(upcoming, p, true)) return true;
    for (const ch of c.channels) if (!channelAllowed(upcoming, ch, false)) return true;
    for (const ch of c.shardChannels) if (!channelAllowed(upcoming, ch, false)) return true;
    return false;
  };
}
