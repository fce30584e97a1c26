/**
 * The commands ACL rules and categories refer to (Redis: the original command table as
 * acl.c sees it): every command and subcommand Redeno implements, with its categories
 * (derived from its flags, plus those Redis declares), and the Redis 7.0 commands Redeno
 * lacks, so that rules naming them are accepted and category sizes match Redis's.
 */
import { COMMANDS } from "./commands/mod.ts";
import { aclCategories, CATEGORIES, cmd, type CommandSpec, fullName } from "./commands/table.ts";

export { CATEGORIES };
import { EXPLICIT_CATEGORIES, REDIS_COMMAND_CATEGORIES } from "./acl_tables.ts";

/** A command or subcommand as ACL rules see it. */
export interface AclCommand {
  spec: CommandSpec;
  name: string;
  categories: Set<string>;
  subs: AclCommand[];
}

let topCommands: AclCommand[] | null = null;
let everyCommand: AclCommand[] = [];
const byFullName = new Map<string, AclCommand>();

/** The top-level commands, each with its subcommands (built once, on first use). */
export function commandTree(): AclCommand[] {
  if (topCommands !== null) return topCommands;
  const make = (spec: CommandSpec): AclCommand => {
    const name = fullName(spec);
    const categories = new Set(aclCategories(spec));
    for (const c of EXPLICIT_CATEGORIES.get(name) ?? []) categories.add(c);
    const entry: AclCommand = { spec, name, categories, subs: [] };
    byFullName.set(entry.name, entry);
    everyCommand.push(entry);
    if (spec.subcommands) {
      for (const sub of spec.subcommands.values()) {
        entry.subs.push(make(sub));
      }
    }
    return entry;
  };
  everyCommand = [];
  const top = [...COMMANDS.values()].map(make);
  // Redis commands Redeno does not implement still exist for ACL rules, as in Redis
  for (const [name, categories] of REDIS_COMMAND_CATEGORIES) {
    if (byFullName.has(name)) continue;
    const bar = name.indexOf("|");
    const parent = bar < 0 ? undefined : byFullName.get(name.slice(0, bar));
    if (bar >= 0 && parent === undefined) continue;
    const spec = cmd("unknown", bar < 0 ? name : name.slice(bar + 1), 0, "", () => {});
    if (parent !== undefined) spec.parent = parent.name;
    const entry: AclCommand = { spec, name, categories: new Set(categories), subs: [] };
    byFullName.set(name, entry);
    everyCommand.push(entry);
    if (parent !== undefined) parent.subs.push(entry);
    else top.push(entry);
  }
  topCommands = top;
  return topCommands;
}

/** Every command and subcommand, containers before their subcommands. */
export function allCommands(): AclCommand[] {
  commandTree();
  return everyCommand;
}

/**
 * Looks a command up by ACL name like Redis's ACLLookupCommand: "get" or "config|get"
 * (one level of subcommands), case-insensitively.
 */
export function lookupAclCommand(name: string): AclCommand | undefined {
  commandTree();
  const parts = name.split("|");
  if (parts.length > 2) return undefined;
  const base = byFullName.get(asciiLower(parts[0]));
  if (base === undefined || base.spec.parent !== undefined || parts.length === 1) return base;
  if (base.subs.length === 0) return undefined;
  return byFullName.get(base.name + "|" + asciiLower(parts[1]));
}

/** Every command and subcommand name in a category (ACL CAT <category>). */
export function commandsInCategory(category: string): string[] {
  return allCommands().filter((c) => c.categories.has(category)).map((c) => c.name);
}

/** ASCII-only lowercasing, like C's tolower in strcasecmp. */
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}
