/**
 * Connection commands (Redis: networking.c, server.c): PING, ECHO, QUIT, SELECT, HELLO,
 * RESET and the CLIENT container. AUTH lives with ACL (acl.ts); HELLO AUTH goes through
 * Server.authenticate, which the ACL module replaces.
 */
import { clientMemory, WATCHED_KEY_OVERHEAD } from "../evict.ts";
import type { Client } from "../client.ts";
import { cmd, type CommandSpec, container, fullName } from "./table.ts";
import { ERR } from "../errors.ts";
import { parseInteger } from "../resp/bytes.ts";
import { REDIS_VERSION } from "../version.ts";
import {
  clientCaching,
  clientGetredir,
  clientTracking,
  clientTrackingInfo,
  trackingFlags,
} from "../tracking.ts";

function ping(c: Client, argv: string[]): void {
  if (argv.length > 2) return c.error(ERR.wrongArgs("ping"));
  if (c.reply.resp === 2 && c.channels.size + c.patterns.size + c.shardChannels.size > 0) {
    c.reply.array(2);
    c.reply.bulk("pong");
    c.reply.bulk(argv[1] ?? "");
    return;
  }
  if (argv.length === 2) c.reply.bulk(argv[1]);
  else c.reply.simple("PONG");
}

function select(c: Client, argv: string[]): void {
  const id = parseInteger(argv[1]);
  if (id === null) return c.error(ERR.notInteger);
  if (id < 0 || id >= c.server.dbs.length) return c.error(ERR.dbIndexOutOfRange);
  c.select(c.server.dbs[id]);
  c.reply.simple("OK");
}

function quit(c: Client): void {
  c.reply.simple("OK");
  c.closeAfterReply = true;
}

/** Redis's validateClientName: printable ASCII without spaces. */
function validClientName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch < 33 || ch > 126) return false;
  }
  return true;
}

const BAD_CLIENT_NAME = "ERR Client names cannot contain spaces, newlines or special characters.";

function hello(c: Client, argv: string[]): void {
  let ver = 0;
  let next = 1;
  if (argv.length >= 2) {
    const v = parseInteger(argv[1]);
    if (v === null) return c.error("ERR Protocol version is not an integer or out of range");
    if (v < 2 || v > 3) return c.error("NOPROTO unsupported protocol version");
    ver = v;
    next = 2;
  }
  let user: string | null = null;
  let pass = "";
  let name: string | null = null;
  for (let j = next; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j].toLowerCase();
    if (opt === "auth" && more >= 2) {
      user = argv[j + 1];
      pass = argv[j + 2];
      j += 2;
    } else if (opt === "setname" && more >= 1) {
      name = argv[j + 1];
      if (!validClientName(name)) return c.error(BAD_CLIENT_NAME);
      j++;
    } else {
      return c.error(`ERR Syntax error in HELLO option '${argv[j]}'`);
    }
  }
  if (user !== null) {
    const err = c.server.authenticate(user, pass);
    if (err !== null) return c.error(err);
    c.user = user;
    c.authenticated = true;
  }
  if (!c.authenticated) {
    return c.error(
      "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
    );
  }
  if (name !== null) c.name = name;
  if (ver !== 0) c.reply.resp = ver as 2 | 3;
  const r = c.reply;
  r.map(7);
  r.bulk("server");
  r.bulk("redis");
  r.bulk("version");
  r.bulk(REDIS_VERSION);
  r.bulk("proto");
  r.int(r.resp);
  r.bulk("id");
  r.int(c.id);
  r.bulk("mode");
  r.bulk("standalone");
  r.bulk("role");
  r.bulk(c.server.isReplica ? "replica" : "master");
  r.bulk("modules");
  r.array(0);
}

/** HELLO as MONITOR and SLOWLOG show it: AUTH's username and password redacted (Redis). */
function redactHello(argv: string[]): string[] {
  const out = argv.slice();
  for (let j = 2; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j].toLowerCase();
    if (opt === "auth" && more >= 2) {
      out[j + 1] = out[j + 2] = "(redacted)";
      j += 2;
    } else if (opt === "setname" && more >= 1) j++;
    else break;
  }
  return out;
}

function reset(c: Client): void {
  const server = c.server;
  c.multi = null;
  c.multiError = false;
  server.unwatchAll(c);
  c.select(server.dbs[0]);
  c.reply.resp = 2;
  c.replyMode = "on";
  c.noEvict = false;
  c.name = "";
  if (c.isMonitor) {
    c.isMonitor = false;
    server.monitors.delete(c);
  }
  for (const hook of server.resetHooks) hook(c);
  c.channels.clear();
  c.patterns.clear();
  c.shardChannels.clear();
  c.user = "default";
  c.authenticated = server.defaultUserNoPass();
  c.parser.limits.unauthenticated = !c.authenticated;
  c.reply.simple("RESET");
}

// ---- CLIENT ----

/** The client type names CLIENT LIST / KILL accept. */
type ClientType = "normal" | "master" | "replica" | "pubsub";

function parseClientType(name: string): ClientType | null {
  const n = name.toLowerCase();
  if (n === "normal" || n === "master" || n === "pubsub") return n;
  if (n === "replica" || n === "slave") return "replica";
  return null;
}

function clientType(c: Client): ClientType {
  if (c.isMaster) return "master";
  if (c.isReplica && !c.isMonitor) return "replica";
  if (c.channels.size + c.patterns.size + c.shardChannels.size > 0) return "pubsub";
  return "normal";
}

/** Redis's CLIENT LIST flags letters. */
function clientFlags(c: Client): string {
  let f = "";
  if (c.isMonitor) f += "O";
  else if (c.isReplica) f += "S";
  if (c.isMaster) f += "M";
  if (c.channels.size + c.patterns.size + c.shardChannels.size > 0) f += "P";
  if (c.multi !== null) f += "x";
  if (c.blocked !== null) f += "b";
  if (c.tracking !== null) f += trackingFlags(c);
  if (c.dirtyCas) f += "d";
  if (c.closeAfterReply) f += "c";
  if (c.noEvict) f += "e";
  return f === "" ? "N" : f;
}

/** One CLIENT LIST / CLIENT INFO line (Redis 7.0's getClientInfoString). */
export function clientInfoString(c: Client, executing = false): string {
  const now = Date.now();
  let argvMem = 0;
  if (c.spec !== null) { for (const a of c.argv) argvMem += a.length; }
  // Redis's multiStateMemOverhead: queued arguments and WATCHed keys
  const multiMem = c.multiBytes + c.watched.length * WATCHED_KEY_OVERHEAD;
  // Redis trims the query buffer after the commands read together ran: the client
  // running CLIENT LIST / INFO still has its own command in it
  const qbuf = c.parser.pending + (executing ? c.parser.lastCommandBytes : 0);
  const qbufFree = c.parser.buf.length - c.parser.end;
  const obl = c.reply.len;
  const omem = c.pendingOutput;
  // the figure maxmemory-clients evicts by (Redis's getClientMemoryUsage)
  const totMem = clientMemory(c) + argvMem;
  const events = omem > 0 ? "rw" : "r";
  return `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=${
    c.conn === null ? -1 : c.fd
  } name=${c.name} age=${Math.floor((now - c.createdAt) / 1000)} idle=${
    Math.floor((now - c.lastInteraction) / 1000)
  } flags=${
    clientFlags(c)
  } db=${c.db.id} sub=${c.channels.size} psub=${c.patterns.size} ssub=${c.shardChannels.size} multi=${
    c.multi === null ? -1 : c.multi.length
  } qbuf=${qbuf} qbuf-free=${qbufFree} argv-mem=${argvMem} multi-mem=${multiMem} rbs=${c.reply.size} rbp=${c.reply.peak} obl=${obl} oll=0 omem=${omem} tot-mem=${totMem} events=${events} cmd=${
    c.spec === null ? "NULL" : fullName(c.spec)
  } user=${c.user} redir=${c.tracking === null ? -1 : c.tracking.redirect} resp=${c.reply.resp}`;
}

function clientId(c: Client): void {
  c.reply.int(c.id);
}

function clientSetname(c: Client, argv: string[]): void {
  const name = argv[2];
  if (!validClientName(name)) return c.error(BAD_CLIENT_NAME);
  c.name = name;
  c.reply.simple("OK");
}

function clientGetname(c: Client): void {
  if (c.name === "") c.reply.nil();
  else c.reply.bulk(c.name);
}

function clientInfo(c: Client): void {
  c.reply.verbatim(clientInfoString(c, true) + "\n");
}

function clientList(c: Client, argv: string[]): void {
  let type: ClientType | null = null;
  let ids: Set<number> | null = null;
  if (argv.length === 4 && argv[2].toLowerCase() === "type") {
    type = parseClientType(argv[3]);
    if (type === null) return c.error(`ERR Unknown client type '${argv[3]}'`);
  } else if (argv.length > 3 && argv[2].toLowerCase() === "id") {
    ids = new Set();
    for (let i = 3; i < argv.length; i++) {
      const id = parseInteger(argv[i]);
      if (id === null || id <= 0) return c.error("ERR Invalid client ID");
      ids.add(id);
    }
  } else if (argv.length !== 2) {
    return c.error(ERR.syntax);
  }
  let out = "";
  for (const other of c.server.clients.values()) {
    if (type !== null && clientType(other) !== type) continue;
    if (ids !== null && !ids.has(other.id)) continue;
    out += clientInfoString(other, other === c) + "\n";
  }
  c.reply.verbatim(out);
}

function killClient(c: Client, target: Client): void {
  if (target === c) c.closeAfterReply = true;
  else target.close();
}

function clientKill(c: Client, argv: string[]): void {
  if (argv.length === 3) {
    for (const other of c.server.clients.values()) {
      if (other.addr === argv[2]) {
        c.reply.simple("OK");
        killClient(c, other);
        return;
      }
    }
    return c.error("ERR No such client");
  }
  let id: number | null = null;
  let type: ClientType | null = null;
  let addr: string | null = null;
  let laddr: string | null = null;
  let user: string | null = null;
  let skipme = true;
  for (let i = 2; i < argv.length; i += 2) {
    const opt = argv[i].toLowerCase();
    if (i + 1 >= argv.length) return c.error(ERR.syntax);
    const value = argv[i + 1];
    if (opt === "id") {
      const n = parseInteger(value);
      if (n === null || n < 1) return c.error("ERR client-id should be greater than 0");
      id = n;
    } else if (opt === "type") {
      type = parseClientType(value);
      if (type === null) return c.error(`ERR Unknown client type '${value}'`);
    } else if (opt === "addr") addr = value;
    else if (opt === "laddr") laddr = value;
    else if (opt === "user") {
      if (!c.server.userExists(value)) return c.error(`ERR No such user '${value}'`);
      user = value;
    } else if (opt === "skipme") {
      const v = value.toLowerCase();
      if (v === "yes") skipme = true;
      else if (v === "no") skipme = false;
      else return c.error(ERR.syntax);
    } else return c.error(ERR.syntax);
  }
  const victims: Client[] = [];
  for (const other of c.server.clients.values()) {
    if (id !== null && other.id !== id) continue;
    if (type !== null && clientType(other) !== type) continue;
    if (addr !== null && other.addr !== addr) continue;
    if (laddr !== null && other.laddr !== laddr) continue;
    if (user !== null && other.user !== user) continue;
    if (other === c && skipme) continue;
    victims.push(other);
  }
  c.reply.int(victims.length);
  for (const v of victims) killClient(c, v);
}

function clientNoEvict(c: Client, argv: string[]): void {
  const v = argv[2].toLowerCase();
  if (v === "on") c.noEvict = true;
  else if (v === "off") c.noEvict = false;
  else return c.error(ERR.syntax);
  c.reply.simple("OK");
}

function clientReply(c: Client, argv: string[]): void {
  const v = argv[2].toLowerCase();
  if (v === "on") {
    c.replyMode = "on";
    c.reply.simple("OK");
  } else if (v === "off") {
    c.replyMode = "off";
  } else if (v === "skip") {
    if (c.replyMode === "on") c.replyMode = "skip-next";
  } else return c.error(ERR.syntax);
}

function clientPause(c: Client, argv: string[]): void {
  const ms = parseInteger(argv[2]);
  if (ms === null || ms < 0) return c.error("ERR timeout is not an integer or out of range");
  let writeOnly = false;
  if (argv.length === 4) {
    const mode = argv[3].toLowerCase();
    if (mode === "write") writeOnly = true;
    else if (mode !== "all") return c.error("ERR CLIENT PAUSE mode must be WRITE or ALL");
  }
  c.server.pauseClients(ms, writeOnly);
  c.reply.simple("OK");
}

function clientUnpause(c: Client): void {
  c.server.unpauseClients();
  c.reply.simple("OK");
}

function clientUnblock(c: Client, argv: string[]): void {
  const id = parseInteger(argv[2]);
  if (id === null) return c.error(ERR.notInteger);
  let asError = false;
  if (argv.length === 4) {
    const how = argv[3].toLowerCase();
    if (how === "error") asError = true;
    else if (how !== "timeout") {
      return c.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
    }
  }
  const target = c.server.clients.get(id);
  if (
    target === undefined || target.blocked === null || target.blocked.kind === "pause" ||
    target.blocked.kind === "shutdown"
  ) {
    return c.reply.int(0);
  }
  const blocking = c.server.blocking;
  if (asError) {
    const spec = target.blocked.spec;
    blocking.unblock(target);
    // the blocked command ends with an error reply: a failed call (Redis's errorstats)
    const stat = c.server.stats.commands.get(spec);
    if (stat !== undefined) stat.failed++;
    target.error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
    target.resume();
  } else {
    blocking.timeout(target);
  }
  target.scheduleFlush();
  c.reply.int(1);
}

const CLIENT_HELP = [
  "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CACHING (YES|NO)",
  "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
  "GETREDIR",
  "    Return the client ID we are redirecting to when tracking is enabled.",
  "GETNAME",
  "    Return the name of the current connection.",
  "ID",
  "    Return the ID of the current connection.",
  "INFO",
  "    Return information about the current client connection.",
  "KILL <ip:port>",
  "    Kill connection made from <ip:port>.",
  "KILL <option> <value> [<option> <value> [...]]",
  "    Kill connections. Options are:",
  "    * ADDR (<ip:port>|<unixsocket>:0)",
  "      Kill connections made from the specified address",
  "    * LADDR (<ip:port>|<unixsocket>:0)",
  "      Kill connections made to specified local address",
  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
  "      Kill connections by type.",
  "    * USER <username>",
  "      Kill connections authenticated by <username>.",
  "    * SKIPME (YES|NO)",
  "      Skip killing current connection (default: yes).",
  "LIST [options ...]",
  "    Return information about client connections. Options:",
  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
  "      Return clients of specified type.",
  "UNPAUSE",
  "    Stop the current client pause, resuming traffic.",
  "PAUSE <timeout> [WRITE|ALL]",
  "    Suspend all, or just write, clients for <timeout> milliseconds.",
  "REPLY (ON|OFF|SKIP)",
  "    Control the replies sent to the current connection.",
  "SETNAME <name>",
  "    Assign the name <name> to the current connection.",
  "UNBLOCK <clientid> [TIMEOUT|ERROR]",
  "    Unblock the specified blocked client.",
  "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
  "         [OPTIN] [OPTOUT] [NOLOOP]",
  "    Control server assisted client side caching.",
  "TRACKINGINFO",
  "    Report tracking status for the current connection.",
  "NO-EVICT (ON|OFF)",
  "    Protect current client connection from eviction.",
  "HELP",
  "    Prints this help.",
];

/** Replies with a HELP text as Redis does (an array of status lines). */
export function replyHelp(c: Client, lines: readonly string[]): void {
  c.reply.array(lines.length);
  for (const l of lines) c.reply.simple(l);
}

const CONN = { categories: ["connection"] };
const CLIENT_FLAGS = "noscript loading stale";

/** The connection command specs. */
export const commands: CommandSpec[] = [
  cmd("connection", "ping", -1, "fast", ping, {
    ...CONN,
    summary: "Ping the server",
    since: "1.0.0",
    args: [{ name: "message", type: "string", optional: true }],
  }),
  cmd("connection", "echo", 2, "loading stale fast", (c, argv) => c.reply.bulk(argv[1]), {
    ...CONN,
    summary: "Echo the given string",
    since: "1.0.0",
    args: [{ name: "message", type: "string" }],
  }),
  cmd("connection", "select", 2, "loading stale fast", select, {
    ...CONN,
    summary: "Change the selected database for the current connection",
    since: "1.0.0",
    args: [{ name: "index", type: "integer" }],
  }),
  cmd("connection", "quit", -1, "noscript loading stale fast no_auth allow_busy", quit, {
    ...CONN,
    summary: "Close the connection",
    since: "1.0.0",
  }),
  cmd("connection", "hello", -1, "noscript loading stale fast no_auth allow_busy", hello, {
    ...CONN,
    redact: redactHello,
    summary: "Handshake with Redis",
    since: "6.0.0",
    args: [{
      name: "arguments",
      type: "block",
      optional: true,
      arguments: [
        { name: "protover", type: "integer" },
        {
          name: "username_password",
          type: "block",
          token: "AUTH",
          optional: true,
          arguments: [{ name: "username", type: "string" }, { name: "password", type: "string" }],
        },
        { name: "clientname", type: "string", token: "SETNAME", optional: true },
      ],
    }],
  }),
  cmd("connection", "reset", 1, "noscript loading stale fast no_auth allow_busy", reset, {
    ...CONN,
    summary: "Reset the connection",
    since: "6.2.0",
  }),
  container("connection", "client", -2, [
    cmd("connection", "id", 2, CLIENT_FLAGS, clientId, {
      ...CONN,
      summary: "Returns the client ID for the current connection",
    }),
    cmd("connection", "setname", 3, CLIENT_FLAGS, clientSetname, {
      ...CONN,
      summary: "Set the current connection name",
      args: [{ name: "connection-name", type: "string" }],
    }),
    cmd("connection", "getname", 2, CLIENT_FLAGS, clientGetname, {
      ...CONN,
      summary: "Get the current connection name",
    }),
    cmd("connection", "info", 2, CLIENT_FLAGS, clientInfo, {
      ...CONN,
      summary: "Returns information about the current client connection.",
    }),
    cmd("connection", "list", -2, "admin " + CLIENT_FLAGS, clientList, {
      ...CONN,
      summary: "Get the list of client connections",
    }),
    cmd("connection", "kill", -3, "admin " + CLIENT_FLAGS, clientKill, {
      ...CONN,
      summary: "Kill the connection of a client",
    }),
    cmd("connection", "no-evict", 3, "admin " + CLIENT_FLAGS, clientNoEvict, {
      ...CONN,
      summary: "Set client eviction mode for the current connection",
    }),
    cmd("connection", "reply", 3, CLIENT_FLAGS, clientReply, {
      ...CONN,
      summary: "Instruct the server whether to reply to commands",
    }),
    cmd("connection", "pause", -3, "admin " + CLIENT_FLAGS, clientPause, {
      ...CONN,
      summary: "Stop processing commands from clients for some time",
    }),
    cmd("connection", "unpause", 2, "admin " + CLIENT_FLAGS, clientUnpause, {
      ...CONN,
      summary: "Resume processing of clients that were paused",
    }),
    cmd("connection", "unblock", -3, "admin " + CLIENT_FLAGS, clientUnblock, {
      ...CONN,
      summary: "Unblock a client blocked in a blocking command from a different connection",
    }),
    cmd("connection", "tracking", -3, CLIENT_FLAGS, clientTracking, {
      ...CONN,
      summary: "Enable or disable server assisted client side caching support",
    }),
    cmd("connection", "trackinginfo", 2, CLIENT_FLAGS, clientTrackingInfo, {
      ...CONN,
      summary:
        "Return information about server assisted client side caching for the current connection",
    }),
    cmd("connection", "getredir", 2, CLIENT_FLAGS, clientGetredir, {
      ...CONN,
      summary: "Get tracking notifications redirection client ID if any",
    }),
    cmd("connection", "caching", 3, CLIENT_FLAGS, clientCaching, {
      ...CONN,
      summary: "Instruct the server about tracking or not keys in the next request",
    }),
    cmd("connection", "help", 2, "loading stale", (c) => replyHelp(c, CLIENT_HELP), {
      ...CONN,
      summary: "Show helpful text about the different subcommands",
    }),
  ], { summary: "A container for client connection commands", since: "2.4.0" }),
];
