/**
 * ACL users and rules (Redis: acl.c): users with passwords (stored as SHA-256 hex only),
 * selectors of commands, key and channel patterns, and the descriptor strings of
 * ACL LIST and GETUSER.
 */
import { createHash } from "node:crypto";
import type { CommandSpec } from "./commands/table.ts";
import {
  type AclCommand,
  allCommands,
  asciiLower,
  CATEGORIES,
  commandTree,
  lookupAclCommand,
} from "./acl_catalog.ts";
import { splitArgs } from "./resp/parser.ts";
import { globMatch } from "./store/glob.ts";

/** Key pattern permissions (%R~, %W~, ~). */
export const KEY_READ = 1;
export const KEY_WRITE = 2;
const KEY_ALL = 3;

/** A rule that ACLSetUser refuses; the message is Redis's ACLSetUserStringError text. */
export class AclRuleError extends Error {}

/** Redis's rule error messages. */
export const RULE_ERRORS = {
  unknown: "Unknown command or category name in ACL",
  syntax: "Syntax error",
  keysAfterAll: "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid " +
    "and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
  channelsAfterAll:
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and " +
    "does not have any effect. Try 'resetchannels' to start with an empty list of channels",
  noSuchPassword: "The password you are trying to remove from the user does not exist",
  badHash:
    "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
  duplicateUser: "Duplicate user found. A user can only be defined once in config files",
  firstArgOfSub: "Allowing first-arg of a subcommand is not supported",
} as const;

/** SHA-256 hex of a binary-string password (Redis: ACLHashPassword). */
export function hashPassword(password: string): string {
  return createHash("sha256").update(Buffer.from(password, "latin1")).digest("hex");
}

function isValidHash(h: string): boolean {
  return /^[0-9a-f]{64}$/.test(h);
}

/** True if `s` has whitespace or NUL (not allowed in user names and patterns). */
export function hasSpaces(s: string): boolean {
  return /[ \t\n\v\f\r\0]/.test(s);
}

// ---- selectors ----

interface KeyPattern {
  pattern: string;
  flags: number;
}

/** A set of command, key and channel permissions (Redis: aclSelector). */
export class Selector {
  readonly root: boolean;
  allKeys = false;
  allChannels = false;
  /** fast path: every command allowed (cleared by any removal) */
  allCommands = false;
  /** Redis's reserved "future commands" bit: set by +@all, cleared only by -@all */
  future = false;
  allowed = new Set<CommandSpec>();
  firstArgs = new Map<CommandSpec, string[]>();
  keys: KeyPattern[] = [];
  channels: string[] = [];

  constructor(root: boolean, allChannelsByDefault: boolean) {
    this.root = root;
    this.allChannels = allChannelsByDefault;
  }

  /** A deep copy. */
  clone(): Selector {
    const s = new Selector(this.root, this.allChannels);
    s.allKeys = this.allKeys;
    s.allCommands = this.allCommands;
    s.future = this.future;
    s.allowed = new Set(this.allowed);
    for (const [k, v] of this.firstArgs) s.firstArgs.set(k, [...v]);
    s.keys = this.keys.map((k) => ({ ...k }));
    s.channels = [...this.channels];
    return s;
  }

  /** Allows or blocks a command, and with a container all its subcommands. */
  changePerm(cmd: AclCommand, allow: boolean): void {
    this.#setBit(cmd.spec, allow);
    this.firstArgs.delete(cmd.spec);
    for (const sub of cmd.subs) this.#setBit(sub.spec, allow);
  }

  #setBit(spec: CommandSpec, allow: boolean): void {
    if (allow) this.allowed.add(spec);
    else {
      this.allowed.delete(spec);
      this.allCommands = false;
    }
  }

  /** Applies +@category / -@category. */
  setCategory(category: string, allow: boolean): void {
    for (const cmd of allCommands()) {
      if (cmd.categories.has(category)) this.changePerm(cmd, allow);
    }
  }

  /** Applies one selector rule (Redis: ACLSetSelector); throws AclRuleError. */
  apply(op: string): void {
    const lop = asciiLower(op);
    if (lop === "allkeys" || op === "~*") {
      this.allKeys = true;
      this.keys = [];
    } else if (lop === "resetkeys") {
      this.allKeys = false;
      this.keys = [];
    } else if (lop === "allchannels" || op === "&*") {
      this.allChannels = true;
      this.channels = [];
    } else if (lop === "resetchannels") {
      this.allChannels = false;
      this.channels = [];
    } else if (lop === "allcommands" || lop === "+@all") {
      for (const c of allCommands()) this.allowed.add(c.spec);
      this.allCommands = true;
      this.future = true;
      this.firstArgs.clear();
    } else if (lop === "nocommands" || lop === "-@all") {
      this.allowed.clear();
      this.allCommands = false;
      this.future = false;
      this.firstArgs.clear();
    } else if (op[0] === "~" || op[0] === "%") {
      this.#addKeyPattern(op);
    } else if (op[0] === "&") {
      if (this.allChannels) throw new AclRuleError(RULE_ERRORS.channelsAfterAll);
      const pattern = op.slice(1);
      if (hasSpaces(pattern)) throw new AclRuleError(RULE_ERRORS.syntax);
      if (!this.channels.includes(pattern)) this.channels.push(pattern);
      this.allChannels = false;
    } else if (op[0] === "+" && op[1] !== "@") {
      this.#allowCommand(op.slice(1));
    } else if (op[0] === "-" && op[1] !== "@") {
      const cmd = lookupAclCommand(op.slice(1));
      if (cmd === undefined) throw new AclRuleError(RULE_ERRORS.unknown);
      this.changePerm(cmd, false);
    } else if ((op[0] === "+" || op[0] === "-") && op[1] === "@") {
      const category = asciiLower(op.slice(2));
      if (!(CATEGORIES as readonly string[]).includes(category)) {
        throw new AclRuleError(RULE_ERRORS.unknown);
      }
      this.setCategory(category, op[0] === "+");
    } else {
      throw new AclRuleError(RULE_ERRORS.syntax);
    }
  }

  #addKeyPattern(op: string): void {
    if (this.allKeys) throw new AclRuleError(RULE_ERRORS.keysAfterAll);
    let flags = 0;
    let offset = 1;
    if (op[0] === "%") {
      for (; offset < op.length; offset++) {
        const ch = op[offset].toUpperCase();
        if (ch === "R" && !(flags & KEY_READ)) flags |= KEY_READ;
        else if (ch === "W" && !(flags & KEY_WRITE)) flags |= KEY_WRITE;
        else if (op[offset] === "~") {
          offset++;
          break;
        } else throw new AclRuleError(RULE_ERRORS.syntax);
      }
      if (flags === 0) throw new AclRuleError(RULE_ERRORS.syntax);
    } else {
      flags = KEY_ALL;
    }
    const pattern = op.slice(offset);
    if (hasSpaces(pattern)) throw new AclRuleError(RULE_ERRORS.syntax);
    const existing = this.keys.find((k) => k.pattern === pattern);
    if (existing) existing.flags |= flags;
    else this.keys.push({ pattern, flags });
    this.allKeys = false;
  }

  #allowCommand(name: string): void {
    const bar = name.lastIndexOf("|");
    if (bar < 0) {
      const cmd = lookupAclCommand(name);
      if (cmd === undefined) throw new AclRuleError(RULE_ERRORS.unknown);
      this.changePerm(cmd, true);
      return;
    }
    const cmd = lookupAclCommand(name.slice(0, bar));
    if (cmd === undefined) throw new AclRuleError(RULE_ERRORS.unknown);
    if (cmd.spec.parent !== undefined) throw new AclRuleError(RULE_ERRORS.firstArgOfSub);
    const sub = name.slice(bar + 1);
    if (sub === "") throw new AclRuleError(RULE_ERRORS.syntax);
    if (cmd.subs.length > 0) {
      const subcmd = lookupAclCommand(name);
      if (subcmd === undefined) throw new AclRuleError(RULE_ERRORS.unknown);
      this.changePerm(subcmd, true);
      return;
    }
    // "+select|0": a first argument allowed for an otherwise blocked command
    const list = this.firstArgs.get(cmd.spec) ?? [];
    if (!list.some((a) => asciiLower(a) === asciiLower(sub))) list.push(sub);
    this.firstArgs.set(cmd.spec, list);
  }

  /** Whether this selector lets `key` be used with the given access flags. */
  checkKey(key: string, flags: number): boolean {
    if (this.allKeys) return true;
    for (const p of this.keys) {
      if ((p.flags & flags) !== flags) continue;
      if (globMatch(p.pattern, key)) return true;
    }
    return false;
  }

  /** Whether `channel` matches the channel patterns (literally for PSUBSCRIBE patterns). */
  checkChannel(channel: string, literal: boolean): boolean {
    if (this.allChannels) return true;
    return channelAllowed(this.channels, channel, literal);
  }

  /** The key patterns as GETUSER shows them ("~*" or "~a %R~b"). */
  keysDescription(): string {
    if (this.allKeys) return "~*";
    return this.keys.map(patternString).join(" ");
  }

  /** The channel patterns as GETUSER shows them. */
  channelsDescription(): string {
    if (this.allChannels) return "&*";
    return this.channels.map((c) => "&" + c).join(" ");
  }

  /** Keys, channels and command rules, as in ACL LIST (Redis: ACLDescribeSelector). */
  describe(): string {
    let res = "";
    if (this.allKeys) res += "~* ";
    else for (const k of this.keys) res += patternString(k) + " ";
    if (this.allChannels) res += "&* ";
    else {
      res += "resetchannels ";
      for (const c of this.channels) res += "&" + c + " ";
    }
    return res + this.describeCommands();
  }

  /**
   * The command rules needed to rebuild this selector's command set, starting with +@all
   * or -@all and then the best fitting categories, then single commands (Redis:
   * ACLDescribeSelectorCommandRules).
   */
  describeCommands(): string {
    const additive = !this.future;
    const fake = new Selector(false, false);
    fake.apply(additive ? "-@all" : "+@all");
    const rules: string[] = [additive ? "-@all" : "+@all"];
    const temp = new Selector(false, false);
    temp.allowed = new Set(this.allowed);
    const applied = new Set<string>();
    const commands = allCommands();
    for (;;) {
      let best: string | null = null;
      let mindiff = Number.MAX_SAFE_INTEGER;
      let maxsame = 0;
      for (const category of CATEGORIES) {
        if (applied.has(category)) continue;
        let on = 0;
        let off = 0;
        for (const c of commands) {
          if (!c.categories.has(category)) continue;
          if (temp.allowed.has(c.spec)) on++;
          else off++;
        }
        const diff = additive ? off : on;
        const same = additive ? on : off;
        if (same > diff && (diff < mindiff || (diff === mindiff && same > maxsame))) {
          best = category;
          mindiff = diff;
          maxsame = same;
        }
      }
      if (best === null) break;
      fake.setCategory(best, additive);
      temp.setCategory(best, !additive);
      rules.push((additive ? "+@" : "-@") + best);
      applied.add(best);
    }
    this.#describeSingleCommands(fake, rules, commandTree());
    return rules.join(" ");
  }

  #describeSingleCommands(fake: Selector, rules: string[], commands: AclCommand[]): void {
    for (const cmd of commands) {
      const userBit = this.allowed.has(cmd.spec);
      if (userBit !== fake.allowed.has(cmd.spec)) {
        rules.push((userBit ? "+" : "-") + cmd.name);
        fake.changePerm(cmd, userBit);
      }
      if (cmd.subs.length > 0) this.#describeSingleCommands(fake, rules, cmd.subs);
      const firstArgs = this.firstArgs.get(cmd.spec);
      if (!userBit && firstArgs) { for (const a of firstArgs) rules.push(`+${cmd.name}|${a}`); }
    }
  }
}

function patternString(k: KeyPattern): string {
  const prefix = k.flags === KEY_ALL ? "~" : k.flags === KEY_READ ? "%R~" : "%W~";
  return prefix + k.pattern;
}

/** Whether a channel matches one of the patterns (compared literally for PSUBSCRIBE). */
export function channelAllowed(patterns: string[], channel: string, literal: boolean): boolean {
  for (const p of patterns) {
    if (literal ? p === channel : globMatch(p, channel)) return true;
  }
  return false;
}

// ---- users ----

/** An ACL user (Redis: struct user). Passwords are SHA-256 hex digests. */
export class User {
  readonly name: string;
  enabled = false;
  nopass = false;
  /** "sanitize-payload" / "skip-sanitize-payload" flag, or none */
  sanitize: "" | "sanitize-payload" | "skip-sanitize-payload" = "";
  passwords: string[] = [];
  selectors: Selector[];

  constructor(name: string, allChannelsByDefault: boolean) {
    this.name = name;
    this.selectors = [new Selector(true, allChannelsByDefault)];
  }

  /** The root selector: the permissions given outside parentheses. */
  get root(): Selector {
    return this.selectors[0];
  }

  /** Copies another user's rules (not its name). */
  copyFrom(src: User): void {
    this.enabled = src.enabled;
    this.nopass = src.nopass;
    this.sanitize = src.sanitize;
    this.passwords = [...src.passwords];
    this.selectors = src.selectors.map((s) => s.clone());
  }

  /** Whether the root selector allows everything (the fast path of the check). */
  get unrestricted(): boolean {
    const r = this.selectors[0];
    return r.allCommands && r.allKeys && r.allChannels;
  }

  /**
   * Applies one rule (Redis: ACLSetUser). `allChannelsByDefault` is acl-pubsub-default.
   * Throws AclRuleError with Redis's message.
   */
  apply(op: string, allChannelsByDefault: boolean): void {
    if (op === "") return;
    const lop = asciiLower(op);
    if (lop === "on") this.enabled = true;
    else if (lop === "off") this.enabled = false;
    else if (lop === "skip-sanitize-payload") this.sanitize = "skip-sanitize-payload";
    else if (lop === "sanitize-payload") this.sanitize = "sanitize-payload";
    else if (lop === "nopass") {
      this.nopass = true;
      this.passwords = [];
    } else if (lop === "resetpass") {
      this.nopass = false;
      this.passwords = [];
    } else if (op[0] === ">" || op[0] === "#") {
      const hash = op[0] === ">" ? hashPassword(op.slice(1)) : op.slice(1);
      if (op[0] === "#" && !isValidHash(hash)) throw new AclRuleError(RULE_ERRORS.badHash);
      if (!this.passwords.includes(hash)) this.passwords.push(hash);
      this.nopass = false;
    } else if (op[0] === "<" || op[0] === "!") {
      const hash = op[0] === "<" ? hashPassword(op.slice(1)) : op.slice(1);
      if (op[0] === "!" && !isValidHash(hash)) throw new AclRuleError(RULE_ERRORS.badHash);
      const i = this.passwords.indexOf(hash);
      if (i < 0) throw new AclRuleError(RULE_ERRORS.noSuchPassword);
      this.passwords.splice(i, 1);
    } else if (op[0] === "(" && op[op.length - 1] === ")") {
      const selector = new Selector(false, allChannelsByDefault);
      for (const rule of splitArgs(op.slice(1, -1)) ?? []) selector.apply(rule);
      this.selectors.push(selector);
    } else if (lop === "clearselectors") {
      this.selectors.length = 1;
    } else if (lop === "reset") {
      this.apply("resetpass", allChannelsByDefault);
      this.apply("resetkeys", allChannelsByDefault);
      this.apply("resetchannels", allChannelsByDefault);
      if (allChannelsByDefault) this.apply("allchannels", allChannelsByDefault);
      this.enabled = false;
      this.sanitize = "sanitize-payload";
      this.selectors.length = 1;
      this.apply("-@all", allChannelsByDefault);
    } else {
      this.root.apply(op);
    }
  }

  /** The user's rules as ACL LIST prints them after "user <name> ". */
  describe(): string {
    let res = "";
    if (this.enabled) res += "on ";
    else res += "off ";
    if (this.nopass) res += "nopass ";
    if (this.sanitize !== "") res += this.sanitize + " ";
    for (const p of this.passwords) res += "#" + p + " ";
    for (const s of this.selectors) {
      res += s.root ? s.describe() : ` (${s.describe()})`;
    }
    return res;
  }

  /** The flags GETUSER lists, in Redis's order. */
  flags(): string[] {
    const out = [this.enabled ? "on" : "off"];
    if (this.nopass) out.push("nopass");
    if (this.sanitize !== "") out.push(this.sanitize);
    return out;
  }

  /** Whether `password` authenticates this user (disabled users never authenticate). */
  checkPassword(password: string): boolean {
    if (!this.enabled) return false;
    if (this.nopass) return true;
    const hashed = hashPassword(password);
    let ok = false;
    for (const p of this.passwords) ok = timingSafeEqual(p, hashed) || ok;
    return ok;
  }
}

function timingSafeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Merges selector rules split over several arguments ("(~a" "+get)") into one, as
 * Redis's ACLMergeSelectorArguments. Returns the index of an unclosed "(" on error.
 */
export function mergeSelectorArgs(args: string[]): string[] | { unmatched: number } {
  const out: string[] = [];
  let open = -1;
  let selector = "";
  for (let j = 0; j < args.length; j++) {
    const op = args[j];
    if (op[0] === "(" && op[op.length - 1] !== ")") {
      selector = op;
      open = j;
      continue;
    }
    if (open !== -1) {
      selector += " " + op;
      if (op[op.length - 1] === ")") {
        open = -1;
        out.push(selector);
      }
      continue;
    }
    out.push(op);
  }
  return open !== -1 ? { unmatched: open } : out;
}
