/**
 * The COMMAND container (Redis: commandCommand and friends in server.c): the command
 * table as data for clients. Docs, key specs and tips are Redis 7.0's own (docs.ts);
 * names, arity, flags, key positions and ACL categories come from Redeno's table.
 */
import type { Client } from "../client.ts";
import { COMMANDS } from "./mod.ts";
import {
  aclCategories,
  CATEGORIES,
  cmd,
  commandKeys,
  type CommandSpec,
  container,
  fullName,
} from "./table.ts";
import { COMMAND_DOCS, COMMAND_KEY_SPECS, type DocNode } from "./docs.ts";
import type { ReplyWriter } from "../resp/writer.ts";
import { globMatch } from "../store/glob.ts";
import { ERR } from "../errors.ts";

/** Writes a tagged-JSON docs node (see docs.ts) as a reply. */
export function writeDocNode(r: ReplyWriter, node: DocNode): void {
  if (node === null) return r.nil();
  if (typeof node === "string") return r.bulk(node);
  if (typeof node === "number") return r.int(node);
  if (Array.isArray(node)) {
    r.array(node.length);
    for (const n of node) writeDocNode(r, n);
    return;
  }
  if ("%" in node) {
    r.map(node["%"].length);
    for (const [k, v] of node["%"]) {
      writeDocNode(r, k);
      writeDocNode(r, v);
    }
    return;
  }
  if ("~" in node) {
    r.set(node["~"].length);
    for (const n of node["~"]) writeDocNode(r, n);
    return;
  }
  r.simple(node["+"]);
}

function sortedCategories(spec: CommandSpec): string[] {
  const cats = aclCategories(spec);
  const known = CATEGORIES.filter((c) => cats.includes(c));
  return [...known, ...cats.filter((c) => !(CATEGORIES as readonly string[]).includes(c))];
}

/** Key specs derived from first/last/step when Redis's own are unknown. */
function derivedKeySpecs(r: ReplyWriter, spec: CommandSpec): void {
  if (spec.firstKey === 0) return r.array(0);
  r.array(1);
  r.map(3);
  r.bulk("flags");
  const flags = spec.flags.includes("write") ? ["RW", "update"] : ["RO", "access"];
  r.set(flags.length);
  for (const f of flags) r.simple(f);
  r.bulk("begin_search");
  r.map(2);
  r.bulk("type");
  r.bulk("index");
  r.bulk("spec");
  r.map(1);
  r.bulk("index");
  r.int(spec.firstKey);
  r.bulk("find_keys");
  r.map(2);
  r.bulk("type");
  r.bulk("range");
  r.bulk("spec");
  r.map(3);
  r.bulk("lastkey");
  r.int(spec.lastKey < 0 ? spec.lastKey : spec.lastKey - spec.firstKey);
  r.bulk("keystep");
  r.int(spec.step);
  r.bulk("limit");
  r.int(0);
}

/** One COMMAND / COMMAND INFO entry (10 fields, subcommands nested). */
function writeCommandInfo(r: ReplyWriter, spec: CommandSpec): void {
  const name = fullName(spec);
  r.array(10);
  r.bulk(name);
  r.int(spec.arity);
  // Redis 7.0 hides may_replicate on purpose
  const flags = spec.flags.filter((f) => f !== "may_replicate");
  r.set(flags.length);
  for (const f of flags) r.simple(f);
  r.int(spec.firstKey);
  r.int(spec.lastKey);
  r.int(spec.step);
  const cats = sortedCategories(spec);
  r.set(cats.length);
  for (const cat of cats) r.simple("@" + cat);
  const real = COMMAND_KEY_SPECS[name];
  if (real !== undefined) {
    writeDocNode(r, real[0]);
    writeDocNode(r, real[1]);
  } else {
    r.set(0);
    derivedKeySpecs(r, spec);
  }
  const subs = spec.subcommands ? [...spec.subcommands.values()] : [];
  r.array(subs.length);
  for (const s of subs) writeCommandInfo(r, s);
}

function lookupByFullName(name: string): CommandSpec | undefined {
  const lower = name.toLowerCase();
  const bar = lower.indexOf("|");
  if (bar < 0) return COMMANDS.get(lower);
  return COMMANDS.get(lower.slice(0, bar))?.subcommands?.get(lower.slice(bar + 1));
}

function commandAll(c: Client): void {
  c.reply.array(COMMANDS.size);
  for (const spec of COMMANDS.values()) writeCommandInfo(c.reply, spec);
}

function commandCount(c: Client): void {
  c.reply.int(COMMANDS.size);
}

function commandInfo(c: Client, argv: string[]): void {
  if (argv.length === 2) return commandAll(c);
  c.reply.array(argv.length - 2);
  for (let i = 2; i < argv.length; i++) {
    const spec = lookupByFullName(argv[i]);
    if (spec === undefined) c.reply.nullArray();
    else writeCommandInfo(c.reply, spec);
  }
}

/** Docs of a command Redis does not know: what Redeno's table says about it. */
function writeOwnDocs(r: ReplyWriter, spec: CommandSpec): void {
  const subs = spec.subcommands ? [...spec.subcommands.values()] : [];
  const fields = 4 + (subs.length > 0 ? 1 : 0);
  r.map(fields);
  r.bulk("summary");
  r.bulk(spec.summary ?? "");
  r.bulk("since");
  r.bulk(spec.since ?? "7.0.0");
  r.bulk("group");
  r.bulk(spec.group);
  r.bulk("complexity");
  r.bulk(spec.complexity ?? "");
  if (subs.length > 0) {
    r.bulk("subcommands");
    r.map(subs.length);
    for (const s of subs) {
      r.bulk(fullName(s));
      writeOwnDocs(r, s);
    }
  }
}

function writeDocs(r: ReplyWriter, spec: CommandSpec): void {
  const real = COMMAND_DOCS[spec.name];
  if (real !== undefined) writeDocNode(r, real);
  else writeOwnDocs(r, spec);
}

function commandDocs(c: Client, argv: string[]): void {
  const specs: CommandSpec[] = [];
  if (argv.length === 2) specs.push(...COMMANDS.values());
  else {
    for (let i = 2; i < argv.length; i++) {
      const spec = COMMANDS.get(argv[i].toLowerCase());
      if (spec !== undefined) specs.push(spec);
    }
  }
  c.reply.map(specs.length);
  for (const spec of specs) {
    c.reply.bulk(spec.name);
    writeDocs(c.reply, spec);
  }
}

function commandList(c: Client, argv: string[]): void {
  let filter: ((spec: CommandSpec) => boolean) | null = null;
  if (argv.length === 5 && argv[2].toLowerCase() === "filterby") {
    const kind = argv[3].toLowerCase();
    const arg = argv[4];
    if (kind === "module") filter = () => false;
    else if (kind === "aclcat") {
      const cat = arg.toLowerCase();
      filter = (s) => aclCategories(s).includes(cat);
    } else if (kind === "pattern") {
      filter = (s) => globMatch(arg, fullName(s), { nocase: true });
    } else return c.error(ERR.syntax);
  } else if (argv.length !== 2) return c.error(ERR.syntax);
  const names: string[] = [];
  for (const spec of COMMANDS.values()) {
    if (filter === null || filter(spec)) names.push(spec.name);
    for (const sub of spec.subcommands?.values() ?? []) {
      if (filter !== null && filter(sub)) names.push(fullName(sub));
      else if (filter === null) names.push(fullName(sub));
    }
  }
  c.reply.bulkArray(names);
}

/** Resolves argv[2..] of GETKEYS to keys, or replies with Redis's error. */
function getKeysOf(c: Client, argv: string[]): { spec: CommandSpec; keys: number[] } | null {
  const args = argv.slice(2);
  let spec = COMMANDS.get(args[0].toLowerCase());
  if (spec?.subcommands !== undefined && args.length > 1) {
    spec = spec.subcommands.get(args[1].toLowerCase()) ?? spec;
  }
  if (spec === undefined) {
    c.error("ERR Invalid command specified");
    return null;
  }
  if ((spec.arity > 0 && spec.arity !== args.length) || args.length < -spec.arity) {
    c.error("ERR Invalid number of arguments specified for command");
    return null;
  }
  const keys = commandKeys(spec, args);
  if (keys.length === 0 && spec.flags.includes("no_mandatory_keys")) return { spec, keys };
  if (keys.length === 0) {
    c.error(
      spec.firstKey === 0 && spec.getKeys === undefined
        ? "ERR The command has no key arguments"
        : "ERR Invalid arguments specified for command",
    );
    return null;
  }
  return { spec, keys };
}

function commandGetKeys(c: Client, argv: string[]): void {
  const found = getKeysOf(c, argv);
  if (found === null) return;
  c.reply.array(found.keys.length);
  for (const k of found.keys) c.reply.bulk(argv[2 + k]);
}

/** A field of a tagged-JSON map node, or undefined. */
function field(node: DocNode | undefined, name: string): DocNode | undefined {
  if (node === null || typeof node !== "object" || !("%" in node)) return undefined;
  return node["%"].find(([k]) => k === name)?.[1];
}

function nodeText(node: DocNode | undefined): string {
  if (typeof node === "string") return node;
  if (node !== null && typeof node === "object" && "+" in node) return node["+"];
  return "";
}

function nodeItems(node: DocNode | undefined): DocNode[] {
  if (Array.isArray(node)) return node;
  if (node !== null && typeof node === "object" && "~" in node) return node["~"];
  return [];
}

/** Argument positions one Redis key spec covers in `args` (name at 0). */
function keySpecPositions(ks: DocNode, args: string[]): number[] {
  const begin = field(ks, "begin_search");
  const bspec = field(begin, "spec");
  let start: number;
  if (nodeText(field(begin, "type")) === "index") start = field(bspec, "index") as number;
  else {
    const keyword = nodeText(field(bspec, "keyword")).toLowerCase();
    const from = field(bspec, "startfrom") as number;
    const found = from >= 0
      ? args.findIndex((a, i) => i >= from && a.toLowerCase() === keyword)
      : args.findLastIndex((a, i) => i <= args.length + from && a.toLowerCase() === keyword);
    if (found < 0) return [];
    start = found + 1;
  }
  const find = field(ks, "find_keys");
  const fspec = field(find, "spec");
  const out: number[] = [];
  if (nodeText(field(find, "type")) === "keynum") {
    const n = Number(args[start + (field(fspec, "keynumidx") as number)]);
    const step = field(fspec, "keystep") as number;
    const first = start + (field(fspec, "firstkey") as number);
    for (let i = 0; i < n; i++) out.push(first + i * step);
    return out;
  }
  const lastkey = field(fspec, "lastkey") as number;
  const step = field(fspec, "keystep") as number;
  const last = lastkey >= 0 ? start + lastkey : args.length + lastkey;
  for (let p = start; p <= last && p < args.length; p += step) out.push(p);
  return out;
}

/** Key flags that depend on the arguments (key specs marked variable_flags). */
function variableKeyFlags(spec: CommandSpec, args: string[]): string[] | null {
  const words = args.map((a) => a.toLowerCase());
  if (spec.name === "set") {
    return words.includes("get", 3) ? ["RW", "access", "update"] : ["OW", "update"];
  }
  if (spec.name === "bitfield") {
    const writes = words.some((w, i) => i >= 2 && (w === "set" || w === "incrby"));
    return writes ? ["RW", "access", "update"] : ["RO", "access"];
  }
  return null;
}

/** The access flags Redis's key specs give the key at `pos`, or ones derived from flags. */
function keyFlags(spec: CommandSpec, args: string[], pos: number): string[] {
  const variable = variableKeyFlags(spec, args);
  if (variable !== null) return variable;
  // SORT's STORE destination (Redis's sortGetKeys flags it OW update)
  if (spec.name === "sort" && pos > 1) return ["OW", "update"];
  const specs = nodeItems(COMMAND_KEY_SPECS[fullName(spec)]?.[1]);
  for (const ks of specs) {
    if (keySpecPositions(ks, args).includes(pos)) {
      return nodeItems(field(ks, "flags")).map(nodeText);
    }
  }
  return spec.flags.includes("write") ? ["RW", "update"] : ["RO", "access"];
}

function commandGetKeysAndFlags(c: Client, argv: string[]): void {
  const found = getKeysOf(c, argv);
  if (found === null) return;
  const args = argv.slice(2);
  c.reply.array(found.keys.length);
  for (const k of found.keys) {
    const flags = keyFlags(found.spec, args, k);
    c.reply.array(2);
    c.reply.bulk(argv[2 + k]);
    c.reply.set(flags.length);
    for (const f of flags) c.reply.simple(f);
  }
}

const COMMAND_HELP = [
  "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "(no subcommand)",
  "    Return details about all Redis commands.",
  "COUNT",
  "    Return the total number of commands in this Redis server.",
  "LIST",
  "    Return a list of all commands in this Redis server.",
  "INFO [<command-name> ...]",
  "    Return details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "DOCS [<command-name> ...]",
  "    Return documentation details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "GETKEYS <full-command>",
  "    Return the keys from a full Redis command.",
  "GETKEYSANDFLAGS <full-command>",
  "    Return the keys and the access flags from a full Redis command.",
  "HELP",
  "    Prints this help.",
];

const F = "loading stale";
const SERVER = { categories: ["connection"] };

function commandContainer(): CommandSpec {
  const spec = container("server", "command", -1, [
    cmd("server", "count", 2, F, commandCount, SERVER),
    cmd("server", "info", -2, F, commandInfo, SERVER),
    cmd("server", "docs", -2, F, commandDocs, SERVER),
    cmd("server", "list", -2, F, commandList, SERVER),
    cmd("server", "getkeys", -4, F, commandGetKeys, SERVER),
    cmd("server", "getkeysandflags", -4, F, commandGetKeysAndFlags, SERVER),
    cmd("server", "help", 2, F, (c) => {
      c.reply.array(COMMAND_HELP.length);
      for (const l of COMMAND_HELP) c.reply.simple(l);
    }, SERVER),
  ], { categories: ["connection"] });
  spec.flags.push("loading", "stale");
  spec.handler = commandAll;
  return spec;
}

/** The COMMAND spec. */
export const commands: CommandSpec[] = [commandContainer()];
