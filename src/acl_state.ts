/**
 * The ACL state of one server (Redis: the Users tree, DefaultUser, ACLLog): users, the
 * permission check hook run before every command, authentication, the ACL log, the
 * `aclfile` and the `user` lines of redis.conf.
 */
import type { Client } from "./client.ts";
import type { Server } from "./server.ts";
import { type CommandSpec, fullName } from "./commands/table.ts";
import { type Config, ConfigError, type Directive } from "./config.ts";
import { clientInfoString } from "./commands/connection.ts";
import { ERR } from "./errors.ts";
import { runningScript } from "./scripting/engine.ts";
import { AclRuleError, hasSpaces, mergeSelectorArgs, RULE_ERRORS, User } from "./acl.ts";
import {
  ACL_OK,
  checkCommandPerm,
  DENIED_AUTH,
  DENIED_CHANNEL,
  DENIED_CMD,
  DENIED_KEY,
  hasUnrestrictedReadAccess,
  pubsubRevocation,
} from "./acl_check.ts";

const LOG_GROUPING_MS = 60000;

/** One ACL LOG entry (Redis 7.0 fields). */
export interface AclLogEntry {
  count: number;
  reason: number;
  context: "toplevel" | "multi" | "lua" | "module";
  object: string;
  username: string;
  ctime: number;
  clientInfo: string;
}

/** The ACL state of a server. */
export class Acl {
  readonly server: Server;
  users = new Map<string, User>();
  readonly defaultUser: User;
  /** newest first */
  log: AclLogEntry[] = [];
  /** the client whose command is being checked / run (for AUTH failures from HELLO) */
  current: Client | null = null;

  constructor(server: Server) {
    this.server = server;
    this.defaultUser = createDefaultUser(this.allChannelsByDefault());
    this.users.set("default", this.defaultUser);
  }

  /** acl-pubsub-default: whether new users get every channel. */
  allChannelsByDefault(): boolean {
    return this.server.config.get("acl-pubsub-default") === "allchannels";
  }

  /** Sorted user names (Redis keeps users in a radix tree). */
  sortedUsers(): User[] {
    return [...this.users.keys()].sort().map((n) => this.users.get(n)!);
  }

  /** Applies rules to a new or existing user atomically; throws AclRuleError. */
  setUser(name: string, rules: string[], current: Client | null): void {
    const existing = this.users.get(name);
    const temp = new User(name, this.allChannelsByDefault());
    if (existing) temp.copyFrom(existing);
    for (const rule of rules) {
      try {
        temp.apply(rule, this.allChannelsByDefault());
      } catch (e) {
        if (e instanceof AclRuleError) throw new AclRuleError(`'${rule}': ${e.message}`);
        throw e;
      }
    }
    if (existing) {
      const revoked = pubsubRevocation(temp, existing);
      if (revoked !== null) {
        for (const c of [...this.server.clients.values()]) {
          if (c.user === name && subscribed(c) && revoked(c)) closeClient(c, current);
        }
      }
      existing.copyFrom(temp);
    } else {
      const user = new User(name, this.allChannelsByDefault());
      user.copyFrom(temp);
      this.users.set(name, user);
    }
  }

  /** Deletes a user and disconnects its clients. */
  deleteUser(name: string, current: Client | null): boolean {
    if (!this.users.delete(name)) return false;
    this.killClientsOf(new Set([name]), current);
    return true;
  }

  /** Disconnects clients authenticated as one of `names` (Redis: ACLFreeUserAndKillClients). */
  killClientsOf(names: Set<string>, current: Client | null): void {
    for (const c of [...this.server.clients.values()]) {
      if (!names.has(c.user)) continue;
      c.user = "default";
      c.authenticated = false;
      closeClient(c, current);
    }
  }

  /** Checks user and password; on success the client is authenticated as that user. */
  authenticate(c: Client | null, username: string, password: string): string | null {
    const user = this.users.get(username);
    if (user !== undefined && user.checkPassword(password)) {
      if (c !== null) {
        c.user = username;
        c.authenticated = true;
        c.parser.limits.unauthenticated = false;
      }
      return null;
    }
    if (c !== null) this.addLog(c, DENIED_AUTH, c.argv[0] ?? "auth", username);
    return ERR.wrongPass;
  }

  /** The permission check dispatch runs before each command: an error or null. */
  check(c: Client, spec: CommandSpec, argv: string[]): string | null {
    this.current = c;
    // "default" always names defaultUser (it cannot be deleted): no Map lookup for it
    const user = c.user === "default"
      ? this.defaultUser
      : this.users.get(c.user) ?? this.defaultUser;
    if (user.unrestricted) return null;
    const { result, index } = checkCommandPerm(user, spec, argv);
    if (result === ACL_OK) return null;
    const object = result === DENIED_CMD ? fullName(spec) : argv[index];
    // a command called by a script is logged for the script's caller, in the lua context
    const script = c.conn === null ? runningScript() : null;
    if (script !== null && script.fake === c) {
      this.addLog(script.caller, result, object, user.name, undefined, "lua");
      return `ERR The user executing the script ${scriptAclMessage(result)}`;
    } else {
      this.addLog(c, result, object, user.name, fullName(spec));
    }
    return this.server.inExec ? execNoPermMessage(result) : noPermMessage(result, spec);
  }

  /** Adds (or merges into a recent similar) ACL log entry (Redis: addACLLogEntry). */
  addLog(
    c: Client,
    reason: number,
    object: string,
    username: string,
    cmd?: string,
    ctx?: AclLogEntry["context"],
  ): void {
    let info = clientInfoString(c);
    const name = cmd ?? (c.argv[0] ?? "").toLowerCase();
    info = info.replace(/ cmd=\S* /, ` cmd=${name} `);
    const now = Date.now();
    const context = ctx ?? (c.multi !== null || this.server.inExec ? "multi" : "toplevel");
    for (let i = 0; i < this.log.length && i < 10; i++) {
      const e = this.log[i];
      if (
        e.reason === reason && e.context === context && Math.abs(now - e.ctime) <=
          LOG_GROUPING_MS &&
        e.object === object && e.username === username
      ) {
        e.count++;
        e.ctime = now;
        e.clientInfo = info;
        this.log.splice(i, 1);
        this.log.unshift(e);
        return;
      }
    }
    this.log.unshift({ count: 1, reason, context, object, username, ctime: now, clientInfo: info });
    const max = this.server.config.num("acllog-max-len");
    if (this.log.length > max) this.log.length = max;
  }

  /** The ACL file text (Redis: ACLSaveToFile's content). */
  fileText(): string {
    let out = "";
    for (const u of this.sortedUsers()) out += `user ${u.name} ${u.describe()}\n`;
    return out;
  }

  /**
   * Replaces every user with the content of the ACL file (Redis: ACLLoadFromFile). On any
   * error nothing changes and the errors are returned as one line.
   */
  loadFile(path: string, current: Client | null): string | null {
    let text: string;
    try {
      text = Deno.readTextFileSync(this.#resolve(path));
    } catch (e) {
      return `Error loading ACLs, opening file '${path}': ${strerror(e)}`;
    }
    const allChannels = this.allChannelsByDefault();
    const users = new Map<string, User>();
    let errors = "";
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
      const linenum = i + 1;
      if (line === "") continue;
      const argv = line.split(" ");
      if (argv[0] !== "user" || argv.length < 2) {
        errors += `${path}:${linenum} should start with user keyword followed by the username. `;
        continue;
      }
      if (hasSpaces(argv[1])) {
        errors += `'${path}:${linenum}: username '${argv[1]}' contains invalid characters. `;
        continue;
      }
      if (users.has(argv[1])) {
        errors += `WARNING: Duplicate user '${argv[1]}' found on line ${linenum}. `;
        continue;
      }
      const user = new User(argv[1], allChannels);
      users.set(argv[1], user);
      const merged = mergeSelectorArgs(argv.slice(2));
      if (!Array.isArray(merged)) {
        errors += `${path}:${linenum}: Unmatched parenthesis in selector definition.`;
        continue;
      }
      for (const rule of merged) {
        try {
          user.apply(rule.replace(/^[\t\r\n]+|[\t\r\n]+$/g, ""), allChannels);
        } catch (e) {
          if (!(e instanceof AclRuleError)) throw e;
          errors += `${path}:${linenum}: ${e.message}. `;
        }
      }
    }
    if (errors !== "") {
      return errors +
        "WARNING: ACL errors detected, no change to the previously active ACL rules was performed";
    }
    const newDefault = users.get("default") ?? createDefaultUser(allChannels);
    this.defaultUser.copyFrom(newDefault);
    users.set("default", this.defaultUser);
    const old = new Set([...this.users.keys()].filter((n) => n !== "default"));
    this.users = users;
    this.killClientsOf(old, current);
    return null;
  }

  /**
   * A relative aclfile is relative to `dir` (Redis chdirs to `dir` while reading its
   * configuration, before it loads the ACL file).
   */
  #resolve(path: string): string {
    if (path.startsWith("/")) return path;
    return `${this.server.config.get("dir")}/${path}`;
  }

  /** Writes the ACL file atomically (temp file + rename); false on I/O error. */
  saveFile(path: string): boolean {
    path = this.#resolve(path);
    const tmp = `${path}.tmp-${Deno.pid}-${Date.now()}`;
    try {
      Deno.writeTextFileSync(tmp, this.fileText(), { mode: 0o644 });
      Deno.renameSync(tmp, path);
      return true;
    } catch (e) {
      this.server.log("warning", `Writing ACL file for ACL SAVE: ${strerror(e)}`);
      try {
        Deno.removeSync(tmp);
      } catch { /* never created */ }
      return false;
    }
  }

  /** Loads the `user` lines of redis.conf (Redis: ACLLoadConfiguredUsers). */
  loadConfiguredUsers(lines: string[][]): void {
    for (const [name, ...rules] of lines) {
      if (hasSpaces(name)) throw new Error("Spaces not allowed in ACL usernames");
      let user = this.users.get(name);
      if (user === undefined) {
        user = new User(name, this.allChannelsByDefault());
        this.users.set(name, user);
      } else {
        user.apply("reset", this.allChannelsByDefault());
      }
      for (const rule of rules) {
        try {
          user.apply(rule, this.allChannelsByDefault());
        } catch (e) {
          if (!(e instanceof AclRuleError)) throw e;
          throw new Error(
            `Error loading ACL rule '${rule}' for the user named '${name}': ${e.message}`,
          );
        }
      }
      if (!user.enabled) {
        this.server.log(
          "notice",
          `The user '${name}' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error.`,
        );
      }
    }
  }
}

function createDefaultUser(allChannels: boolean): User {
  const u = new User("default", allChannels);
  for (const rule of ["+@all", "~*", "&*", "on", "nopass"]) u.apply(rule, allChannels);
  return u;
}

function subscribed(c: Client): boolean {
  return c.channels.size + c.patterns.size + c.shardChannels.size > 0;
}

/** Closes a client now, or after its reply when it is the one running the command. */
function closeClient(c: Client, current: Client | null): void {
  if (c === current) c.closeAfterReply = true;
  else c.close();
}

/** Redis 7.0's getAclErrorMessage (the end of a script's ACL error). */
function scriptAclMessage(result: number): string {
  if (result === DENIED_CMD) return "can't run this command or subcommand";
  if (result === DENIED_KEY) {
    return "can't access at least one of the keys mentioned in the command arguments";
  }
  if (result === DENIED_CHANNEL) return "can't publish to the channel mentioned in the command";
  return "lacking the permissions for the command";
}

/** Redis 7.0's NOPERM error for a denied command. */
function noPermMessage(result: number, spec: CommandSpec): string {
  if (result === DENIED_KEY) {
    return "NOPERM this user has no permissions to access one of the keys used as arguments";
  }
  if (result === DENIED_CHANNEL) {
    return "NOPERM this user has no permissions to access one of the channels used as arguments";
  }
  return `NOPERM this user has no permissions to run the '${fullName(spec)}' command`;
}

/** Redis 7.0's error for a queued command the ACL no longer allows at EXEC time. */
function execNoPermMessage(result: number): string {
  const reason = result === DENIED_KEY
    ? "no permission to touch the specified keys"
    : result === DENIED_CHANNEL
    ? "no permission to access one of the channels used as arguments"
    : "no permission to execute the command or subcommand";
  return "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: " +
    reason;
}

function strerror(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "No such file or directory";
  if (e instanceof Deno.errors.PermissionDenied) return "Permission denied";
  if (e instanceof Deno.errors.IsADirectory) return "Is a directory";
  return (e as Error).message;
}

// ---- wiring ----

const states = new WeakMap<Server, Acl>();
const configuredUsers = new WeakMap<Config, string[][]>();

/** The ACL state of a server (created by installAcl). */
export function aclOf(server: Server): Acl {
  const acl = states.get(server);
  if (acl === undefined) throw new Error("ACL module not installed");
  return acl;
}

/**
 * The `user` lines CONFIG REWRITE writes when there is no aclfile (Redis:
 * rewriteConfigUserOption): every user, sorted by name; null without the ACL module.
 */
export function configUserLines(server: Server): string[] | null {
  const acl = states.get(server);
  if (acl === undefined) return null;
  return acl.sortedUsers().map((u) => `user ${u.name} ${u.describe()}`);
}

/**
 * Config-file hook for `user <name> <rules...>` lines (Redis: ACLAppendUserForLoading):
 * validates the rules and keeps the line for loading at start. Returns false for other
 * directives. Throws ConfigError with the line, as a bad config line does.
 */
export function userDirective(config: Config, d: Directive): boolean {
  if (d.name !== "user" || d.args.length < 1) return false;
  const lines = configuredUsers.get(config) ?? [];
  configuredUsers.set(config, lines);
  const fail = (msg: string): never => {
    throw new ConfigError(`at line ${d.line}\n>>> '${d.text}'\n${msg}`);
  };
  const name = d.args[0];
  if (lines.some((l) => l[0] === name)) {
    fail(`Error in user declaration '${name}': ${RULE_ERRORS.duplicateUser}`);
  }
  const merged = mergeSelectorArgs(d.args.slice(1));
  if (!Array.isArray(merged)) {
    return fail(`Error in user declaration '${d.args[merged.unmatched + 1]}': Syntax error`);
  }
  const fake = new User("__fakeuser:0__", false);
  for (const rule of merged) {
    try {
      fake.apply(rule, false);
    } catch (e) {
      if (!(e instanceof AclRuleError)) throw e;
      if (e.message !== RULE_ERRORS.unknown) {
        fail(`Error in user declaration '${rule}': ${e.message}`);
      }
    }
  }
  lines.push([name, ...merged]);
  return true;
}

/** Installs ACL on a server: users, the permission check, AUTH/HELLO, requirepass. */
export function installAcl(server: Server): void {
  const acl = new Acl(server);
  states.set(server, acl);
  const applyRequirepass = (value: string) => {
    acl.defaultUser.apply("resetpass", false);
    acl.defaultUser.apply(value === "" ? "nopass" : ">" + value, false);
  };
  if (server.config.get("requirepass") !== "") applyRequirepass(server.config.get("requirepass"));
  server.config.onChange((name, value) => {
    if (name === "requirepass") applyRequirepass(value);
  });
  server.aclCheck = (c, spec, argv) => acl.check(c, spec, argv);
  server.fullKeyReadAccess = (c) =>
    c.spec === null ||
    hasUnrestrictedReadAccess(acl.users.get(c.user) ?? acl.defaultUser, c.spec, c.argv);
  server.defaultUserNoPass = () => acl.defaultUser.enabled && acl.defaultUser.nopass;
  server.authenticate = (user, pass) => acl.authenticate(acl.current, user, pass);
  server.userExists = (name) => acl.users.has(name);
  server.closeHooks.push((c) => {
    if (acl.current === c) acl.current = null;
  });
  server.startHooks.push(() => {
    const lines = configuredUsers.get(server.config) ?? [];
    const aclfile = server.config.get("aclfile");
    if (aclfile !== "" && lines.length > 0) {
      throw new Error(
        "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.",
      );
    }
    acl.loadConfiguredUsers(lines);
    if (aclfile !== "") {
      const errors = acl.loadFile(aclfile, null);
      if (errors !== null) {
        throw new Error(`Aborting Redis startup because of ACL errors: ${errors}`);
      }
    }
    return Promise.resolve();
  });
}
