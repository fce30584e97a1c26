/** ACL and AUTH commands (Redis: acl.c aclCommand and authCommand). */
import type { Client } from "../client.ts";
import { cmd, type CommandSpec, container, fullName } from "./table.ts";
import { COMMANDS } from "./mod.ts";
import { ERR } from "../errors.ts";
import { parseInteger } from "../resp/bytes.ts";
import { AclRuleError, hasSpaces, mergeSelectorArgs, type Selector } from "../acl.ts";
import { asciiLower, CATEGORIES, commandsInCategory } from "../acl_catalog.ts";
import {
  ACL_OK,
  checkCommandPerm,
  DENIED_AUTH,
  DENIED_CHANNEL,
  DENIED_CMD,
  DENIED_KEY,
} from "../acl_check.ts";
import { aclOf } from "../acl_state.ts";

function auth(c: Client, argv: string[]): void {
  if (argv.length > 3) return c.error(ERR.syntax);
  const acl = aclOf(c.server);
  let username = "default";
  let password = argv[1];
  if (argv.length === 2) {
    if (acl.defaultUser.nopass) {
      return c.error(
        "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
      );
    }
  } else {
    username = argv[1];
    password = argv[2];
  }
  const err = acl.authenticate(c, username, password);
  if (err !== null) return c.error(err);
  c.reply.simple("OK");
}

function setuser(c: Client, argv: string[]): void {
  const name = argv[2];
  if (hasSpaces(name)) return c.error("ERR Usernames can't contain spaces or null characters");
  const merged = mergeSelectorArgs(argv.slice(3));
  if (!Array.isArray(merged)) {
    return c.error(
      `ERR Unmatched parenthesis in acl selector starting at '${argv[merged.unmatched + 3]}'.`,
    );
  }
  try {
    aclOf(c.server).setUser(name, merged, c);
  } catch (e) {
    if (!(e instanceof AclRuleError)) throw e;
    return c.error(`ERR Error in ACL SETUSER modifier ${e.message}`);
  }
  c.reply.simple("OK");
}

function deluser(c: Client, argv: string[]): void {
  for (let j = 2; j < argv.length; j++) {
    if (argv[j] === "default") return c.error("ERR The 'default' user cannot be removed");
  }
  const acl = aclOf(c.server);
  let deleted = 0;
  for (let j = 2; j < argv.length; j++) if (acl.deleteUser(argv[j], c)) deleted++;
  c.reply.int(deleted);
}

function describeSelectorFields(c: Client, s: Selector): void {
  c.reply.bulk("commands");
  c.reply.bulk(s.describeCommands());
  c.reply.bulk("keys");
  c.reply.bulk(s.keysDescription());
  c.reply.bulk("channels");
  c.reply.bulk(s.channelsDescription());
}

function getuser(c: Client, argv: string[]): void {
  const u = aclOf(c.server).users.get(argv[2]);
  if (u === undefined) return c.reply.nil();
  const r = c.reply;
  r.map(6);
  r.bulk("flags");
  const flags = u.flags();
  r.set(flags.length);
  for (const f of flags) r.bulk(f);
  r.bulk("passwords");
  r.bulkArray(u.passwords);
  describeSelectorFields(c, u.root);
  r.bulk("selectors");
  r.array(u.selectors.length - 1);
  for (const s of u.selectors.slice(1)) {
    r.map(3);
    describeSelectorFields(c, s);
  }
}

function list(c: Client): void {
  c.reply.bulkArray(aclOf(c.server).sortedUsers().map((u) => `user ${u.name} ${u.describe()}`));
}

function users(c: Client): void {
  c.reply.bulkArray(aclOf(c.server).sortedUsers().map((u) => u.name));
}

function whoami(c: Client): void {
  c.reply.bulk(c.user);
}

function subcommandSyntaxError(c: Client, argv: string[]): void {
  c.error(
    `ERR unknown subcommand or wrong number of arguments for '${
      argv[1].slice(0, 128)
    }'. Try ACL HELP.`,
  );
}

function cat(c: Client, argv: string[]): void {
  if (argv.length > 3) return subcommandSyntaxError(c, argv);
  if (argv.length === 2) return c.reply.bulkArray(CATEGORIES);
  const category = asciiLower(argv[2]);
  if (!(CATEGORIES as readonly string[]).includes(category)) {
    return c.error(`ERR Unknown category '${argv[2].slice(0, 128)}'`);
  }
  c.reply.bulkArray(commandsInCategory(category));
}

const GENPASS_MAX_BITS = 4096;

function genpass(c: Client, argv: string[]): void {
  if (argv.length > 3) return subcommandSyntaxError(c, argv);
  let bits = 256;
  if (argv.length === 3) {
    const n = parseInteger(argv[2]);
    if (n === null) return c.error(ERR.notInteger);
    bits = n;
  }
  if (bits <= 0 || bits > GENPASS_MAX_BITS) {
    return c.error(
      `ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to ${GENPASS_MAX_BITS}`,
    );
  }
  const chars = Math.floor((bits + 3) / 4);
  const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil(chars / 2)));
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  c.reply.bulk(hex.slice(0, chars));
}

const REASONS: Record<number, string> = {
  [DENIED_CMD]: "command",
  [DENIED_KEY]: "key",
  [DENIED_CHANNEL]: "channel",
  [DENIED_AUTH]: "auth",
};

function log(c: Client, argv: string[]): void {
  if (argv.length > 3) return subcommandSyntaxError(c, argv);
  const acl = aclOf(c.server);
  let count = 10;
  if (argv.length === 3) {
    if (asciiLower(argv[2]) === "reset") {
      acl.log = [];
      return c.reply.simple("OK");
    }
    const n = parseInteger(argv[2]);
    if (n === null) return c.error(ERR.notInteger);
    count = Math.max(0, n);
  }
  const entries = acl.log.slice(0, count);
  const now = Date.now();
  const r = c.reply;
  r.array(entries.length);
  for (const e of entries) {
    r.map(7);
    r.bulk("count");
    r.int(e.count);
    r.bulk("reason");
    r.bulk(REASONS[e.reason] ?? "unknown");
    r.bulk("context");
    r.bulk(e.context);
    r.bulk("object");
    r.bulk(e.object);
    r.bulk("username");
    r.bulk(e.username);
    r.bulk("age-seconds");
    r.double((now - e.ctime) / 1000);
    r.bulk("client-info");
    r.bulk(e.clientInfo);
  }
}

/** Redis's lookupCommand(argv): the command, or its subcommand when it has some. */
function lookupArgv(argv: string[]): CommandSpec | undefined {
  const base = COMMANDS.get(asciiLower(argv[0]));
  if (base === undefined || argv.length === 1 || base.subcommands === undefined) return base;
  return base.subcommands.get(asciiLower(argv[1]));
}

function dryrun(c: Client, argv: string[]): void {
  const user = aclOf(c.server).users.get(argv[2]);
  if (user === undefined) return c.error(`ERR User '${argv[2]}' not found`);
  const args = argv.slice(3);
  const spec = lookupArgv(args);
  if (spec === undefined) return c.error(`ERR Command '${argv[3]}' not found`);
  if ((spec.arity > 0 && spec.arity !== args.length) || args.length < -spec.arity) {
    return c.error(ERR.wrongArgs(fullName(spec)));
  }
  const { result, index } = checkCommandPerm(user, spec, args);
  if (result === ACL_OK) return c.reply.simple("OK");
  if (result === DENIED_CMD) {
    c.reply.bulk(`This user has no permissions to run the '${fullName(spec)}' command`);
  } else if (result === DENIED_KEY) {
    c.reply.bulk(`This user has no permissions to access the '${args[index]}' key`);
  } else {
    c.reply.bulk(`This user has no permissions to access the '${args[index]}' channel`);
  }
}

const NO_ACLFILE =
  "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

function load(c: Client): void {
  const path = c.server.config.get("aclfile");
  if (path === "") return c.error(NO_ACLFILE);
  const errors = aclOf(c.server).loadFile(path, c);
  if (errors !== null) return c.error("ERR " + errors);
  c.reply.simple("OK");
}

function save(c: Client): void {
  const path = c.server.config.get("aclfile");
  if (path === "") return c.error(NO_ACLFILE);
  if (!aclOf(c.server).saveFile(path)) {
    return c.error(
      "ERR There was an error trying to save the ACLs. Please check the server logs for more information",
    );
  }
  c.reply.simple("OK");
}

const HELP = [
  "CAT [<category>]",
  "    List all commands that belong to <category>, or all command categories",
  "    when no category is specified.",
  "DELUSER <username> [<username> ...]",
  "    Delete a list of users.",
  "DRYRUN <username> <command> [<arg> ...]",
  "    Returns whether the user can execute the given command without executing the command.",
  "GETUSER <username>",
  "    Get the user's details.",
  "GENPASS [<bits>]",
  "    Generate a secure 256-bit user password. The optional `bits` argument can",
  "    be used to specify a different size.",
  "LIST",
  "    Show users details in config file format.",
  "LOAD",
  "    Reload users from the ACL file.",
  "LOG [<count> | RESET]",
  "    Show the ACL log entries.",
  "SAVE",
  "    Save the current config to the ACL file.",
  "SETUSER <username> <attribute> [<attribute> ...]",
  "    Create or modify a user with the specified attributes.",
  "USERS",
  "    List all the registered usernames.",
  "WHOAMI",
  "    Return the current connection username.",
  "HELP",
  "    Prints this help.",
];

function help(c: Client): void {
  c.reply.array(HELP.length + 1);
  c.reply.simple("ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
  for (const line of HELP) c.reply.simple(line);
}

const ADMIN = "admin noscript loading stale";

/** Replaces every argument from `from` on with "(redacted)" (MONITOR, SLOWLOG). */
function redactFrom(from: number): (argv: string[]) => string[] {
  return (argv) => argv.map((a, i) => i < from ? a : "(redacted)");
}
const PLAIN = "noscript loading stale";

/** The ACL and AUTH command specs. */
export const commands: CommandSpec[] = [
  cmd("connection", "auth", -2, "noscript loading stale fast no_auth allow_busy", auth, {
    categories: ["connection"],
    summary: "Authenticate to the server",
    redact: redactFrom(1),
    since: "1.0.0",
  }),
  container("server", "acl", -2, [
    cmd("server", "cat", -2, PLAIN, cat, {
      summary: "List the ACL categories or the commands inside a category",
    }),
    cmd("server", "deluser", -3, ADMIN, deluser, {
      summary: "Remove the specified ACL users and the associated rules",
    }),
    cmd("server", "dryrun", -4, ADMIN, dryrun, {
      summary:
        "Returns whether the user can execute the given command without executing the command.",
    }),
    cmd("server", "genpass", -2, PLAIN, genpass, {
      summary: "Generate a pseudorandom secure password to use for ACL users",
    }),
    cmd("server", "getuser", 3, ADMIN, getuser, {
      summary: "Get the rules for a specific ACL user",
    }),
    cmd("server", "help", 2, "loading stale", help, {
      summary: "Show helpful text about the different subcommands",
    }),
    cmd("server", "list", 2, ADMIN, list, {
      summary: "List the current ACL rules in ACL config file format",
    }),
    cmd("server", "load", 2, ADMIN, load, {
      summary: "Reload the ACLs from the configured ACL file",
    }),
    cmd("server", "log", -2, ADMIN, log, {
      summary: "List latest events denied because of ACLs in place",
    }),
    cmd("server", "save", 2, ADMIN, save, {
      summary: "Save the current ACL rules in the configured ACL file",
    }),
    cmd("server", "setuser", -3, ADMIN, setuser, {
      summary: "Modify or create the rules for a specific ACL user",
      redact: redactFrom(2),
    }),
    cmd("server", "users", 2, ADMIN, users, {
      summary: "List the username of all the configured ACL rules",
    }),
    cmd("server", "whoami", 2, PLAIN, whoami, {
      summary: "Return the name of the user associated to the current connection",
    }),
  ], { summary: "A container for Access List Control commands", since: "6.0.0" }),
];
