/** Replication commands (Redis: replication.c): REPLICAOF, ROLE, WAIT, REPLCONF, PSYNC, FAILOVER. */
import type { Client } from "../client.ts";
import { cmd, type CommandSpec } from "./table.ts";
import { ERR } from "../errors.ts";
import { parseInteger } from "../resp/bytes.ts";
import { replicationOf } from "../replication/mod.ts";

function replicaof(c: Client, argv: string[]): void {
  const repl = replicationOf(c.server);
  if (repl.failoverState !== "no-failover") {
    return c.error("ERR REPLICAOF not allowed while failing over.");
  }
  if (argv[1].toLowerCase() === "no" && argv[2].toLowerCase() === "one") {
    if (repl.isReplica) {
      repl.unsetMaster();
      c.server.log("notice", `MASTER MODE enabled (user request from 'id=${c.id} addr=${c.addr}')`);
      c.server.config.set("replicaof", "");
    }
    return c.reply.simple("OK");
  }
  if (c.isReplica) return c.error("ERR Command is not valid when client is a replica.");
  const port = parseInteger(argv[2]);
  if (port === null || port < 0 || port > 65535) return c.error("ERR Invalid master port");
  if (
    repl.masterHost !== null && repl.masterHost.toLowerCase() === argv[1].toLowerCase() &&
    repl.masterPort === port
  ) {
    c.server.log(
      "notice",
      "REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.",
    );
    return c.reply.simple("OK Already connected to specified master");
  }
  repl.setMaster(argv[1], port);
  c.server.config.set("replicaof", `${argv[1]} ${port}`);
  c.server.log(
    "notice",
    `REPLICAOF ${argv[1]}:${port} enabled (user request from 'id=${c.id} addr=${c.addr}')`,
  );
  c.reply.simple("OK");
}

function role(c: Client): void {
  replicationOf(c.server).role(c);
}

function wait(c: Client, argv: string[]): void {
  const repl = replicationOf(c.server);
  if (repl.isReplica) {
    return c.error(
      "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.",
    );
  }
  const numreplicas = parseInteger(argv[1]);
  if (numreplicas === null) return c.error(ERR.notInteger);
  const timeout = parseInteger(argv[2]);
  if (timeout === null) return c.error("ERR timeout is not an integer or out of range");
  if (timeout < 0) return c.error("ERR timeout is negative");
  repl.primary.wait(c, numreplicas, timeout);
}

function replconf(c: Client, argv: string[]): void {
  if (argv.length % 2 === 0) return c.error(ERR.syntax);
  const repl = replicationOf(c.server);
  const primary = repl.primary;
  for (let j = 1; j < argv.length; j += 2) {
    const option = argv[j].toLowerCase();
    const value = argv[j + 1];
    if (option === "listening-port") {
      const port = parseInteger(value);
      if (port === null) return c.error(ERR.notInteger);
      primary.infoOf(c).listeningPort = port;
    } else if (option === "ip-address") {
      if (value.length >= 46) {
        return c.error(
          `ERR REPLCONF ip-address provided by replica instance is too long: ${value.length} bytes`,
        );
      }
      primary.infoOf(c).announcedIp = value;
    } else if (option === "capa") {
      const capa = value.toLowerCase();
      if (capa === "eof") primary.infoOf(c).capaEof = true;
      else if (capa === "psync2") primary.infoOf(c).capaPsync2 = true;
    } else if (option === "ack") {
      // no reply, ever: the replica's stream of ACKs is not a conversation
      if (!c.isReplica) return;
      const offset = parseInteger(value);
      if (offset !== null) primary.ack(c, offset);
      return;
    } else if (option === "getack") {
      if (c.isMaster) repl.link?.sendAck();
      return;
    } else if (option === "rdb-filter-only") {
      // include filters: by default nothing is included; "functions" adds the functions
      const info = primary.infoOf(c);
      let functions = false;
      for (const f of value.split(" ").filter((f) => f !== "")) {
        if (f.toLowerCase() !== "functions") {
          return c.error(`ERR Unsupported rdb-filter-only option: ${f}`);
        }
        functions = true;
      }
      info.excludeData = true;
      info.excludeFunctions = !functions;
    } else if (option === "rdb-only") {
      // accepted for compatibility: the replica just stops after the snapshot
      if (value !== "0" && value !== "1") return c.error(ERR.syntax);
    } else {
      return c.error(`ERR Unrecognized REPLCONF option: ${argv[j]}`);
    }
  }
  c.reply.simple("OK");
}

function sync(c: Client, argv: string[]): void {
  const repl = replicationOf(c.server);
  if (c.isReplica) return;
  if (
    argv.length > 3 && argv[0].toLowerCase() === "psync" && argv[3].toLowerCase() === "failover"
  ) {
    if (!repl.failoverRequest(c, argv[1])) return;
  }
  repl.primary.sync(c, argv);
}

function failover(c: Client, argv: string[]): void {
  const repl = replicationOf(c.server);
  if (argv.length === 2 && argv[1].toLowerCase() === "abort") {
    if (repl.failoverState === "no-failover") return c.error("ERR No failover in progress.");
    repl.abortFailover("Failover manually aborted");
    return c.reply.simple("OK");
  }
  let timeoutMs = 0;
  let force = false;
  let target: { host: string; port: number } | null = null;
  for (let j = 1; j < argv.length; j++) {
    const arg = argv[j].toLowerCase();
    if (arg === "timeout" && j + 1 < argv.length && timeoutMs === 0) {
      const t = parseInteger(argv[j + 1]);
      if (t === null) return c.error(ERR.notInteger);
      if (t <= 0) return c.error("ERR FAILOVER timeout must be greater than 0");
      timeoutMs = t;
      j++;
    } else if (arg === "to" && j + 2 < argv.length && target === null) {
      const port = parseInteger(argv[j + 2]);
      if (port === null) return c.error(ERR.notInteger);
      target = { host: argv[j + 1], port };
      j += 2;
    } else if (arg === "force" && !force) {
      force = true;
    } else return c.error(ERR.syntax);
  }
  if (repl.failoverState !== "no-failover") return c.error("ERR FAILOVER already in progress.");
  if (repl.isReplica) return c.error("ERR FAILOVER is not valid when server is a replica.");
  if (repl.primary.replicas.size === 0) return c.error("ERR FAILOVER requires connected replicas.");
  if (force && (timeoutMs === 0 || target === null)) {
    return c.error(
      "ERR FAILOVER with force option requires both a timeout and target HOST and IP.",
    );
  }
  if (target !== null) {
    const replica = repl.primary.findReplica(target.host, target.port);
    if (replica === undefined) {
      return c.error("ERR FAILOVER target HOST and PORT is not a replica.");
    }
    if (repl.primary.infoOf(replica).state !== "online") {
      return c.error("ERR FAILOVER target replica is not online.");
    }
  }
  repl.startFailover(target, timeoutMs, force);
  c.reply.simple("OK");
}

const ADMIN = { categories: ["admin", "dangerous"] };

/** The replication command specs. */
export const commands: CommandSpec[] = [
  cmd("server", "replicaof", 3, "admin noscript stale no_async_loading", replicaof, ADMIN),
  cmd("server", "slaveof", 3, "admin noscript stale no_async_loading", replicaof, ADMIN),
  cmd("server", "role", 1, "noscript loading stale fast", role, ADMIN),
  cmd("generic", "wait", 3, "noscript", wait, { categories: ["connection"] }),
  cmd("server", "replconf", -1, "admin noscript loading stale allow_busy", replconf, ADMIN),
  cmd("server", "psync", -3, "admin noscript no_async_loading no_multi", sync, ADMIN),
  cmd("server", "sync", 1, "admin noscript no_async_loading no_multi", sync, ADMIN),
  cmd("server", "failover", -1, "admin noscript stale", failover, ADMIN),
];
