/**
 * The replication module: a server's role (primary, or replica of host:port), role
 * changes (REPLICAOF, FAILOVER), the write and stale-data guards, INFO replication and
 * ROLE. The two halves of the protocol live in primary.ts and replica.ts.
 */
import type { Client } from "../client.ts";
import type { Server } from "../server.ts";
import type { CommandSpec } from "../commands/table.ts";
import { ERR } from "../errors.ts";
import { rdbSnapshot } from "../persistence/rdb_writer.ts";
import { loadRdb, RdbDecoder } from "../persistence/rdb_reader.ts";
import { OP } from "../persistence/rdb_format.ts";
import { Primary } from "./primary.ts";
import { WritableReplicaKeys } from "./writable_keys.ts";
import { debugDigest, debugDigestValue } from "./digest.ts";
import { registerDebugSubcommand } from "../commands/server.ts";
import { registerReplicationDebug } from "./debug.ts";
import { type LinkContext, type LoadFn, MasterLink, type PsyncPoint } from "./replica.ts";

/** Redis's failover_state names (INFO master_failover_state). */
export type FailoverState = "no-failover" | "waiting-for-sync" | "failover-in-progress";

/** The replication state of one server. */
export class Replication implements LinkContext {
  readonly server: Server;
  readonly primary: Primary;
  /** keys written by our own clients while we are a (writable) replica */
  readonly writableKeys: WritableReplicaKeys;
  /** the link to our primary while we are a replica */
  link: MasterLink | null = null;
  /** master_host / master_port while we are a replica */
  masterHost: string | null = null;
  masterPort = 0;
  load: LoadFn | null = (server, bytes) => loadRdb(server, bytes, { replica: true });
  cached: PsyncPoint | null = null;
  psyncFailover = false;
  failoverState: FailoverState = "no-failover";
  #failoverTarget: { host: string; port: number } | null = null;
  #failoverEnd = 0;
  #failoverForce = false;
  #lastCron = 0;

  constructor(server: Server) {
    this.server = server;
    this.primary = new Primary(server);
    this.writableKeys = new WritableReplicaKeys(server);
    this.primary.snapshot = (s, opts) => rdbSnapshot(s, opts);
    this.primary.relayDb = () => this.link?.masterClient?.db.id ?? this.cached?.db ?? 0;
    this.primary.canServeSync = () => this.masterHost === null || this.link?.state === "connected";
    // the write guard runs for every write: its parameters are read when they change
    const refresh = () => {
      const cfg = server.config;
      this.#minReplicasToWrite = cfg.num("min-replicas-max-lag") > 0
        ? cfg.num("min-replicas-to-write")
        : 0;
      this.#replicaReadOnly = cfg.bool("replica-read-only");
    };
    refresh();
    server.config.onChange((name) => {
      if (
        name === "min-replicas-to-write" || name === "min-replicas-max-lag" ||
        name === "replica-read-only"
      ) refresh();
    });
  }

  /** min-replicas-to-write, 0 when off (also when min-replicas-max-lag is 0) */
  #minReplicasToWrite = 0;
  #replicaReadOnly = true;

  /** True while this server replicates from a primary. */
  get isReplica(): boolean {
    return this.masterHost !== null;
  }

  /**
   * Redis's replicationSetMaster: become (or switch to being) a replica of host:port.
   * A former primary keeps its own history as the PSYNC starting point.
   */
  setMaster(host: string, port: number, opts: { synthesizeCache?: boolean } = {}): void {
    const wasPrimary = this.masterHost === null && (opts.synthesizeCache ?? true);
    this.#stopLink();
    this.masterHost = host;
    this.masterPort = port;
    this.server.isReplica = true;
    this.primary.relaying = true;
    this.writableKeys.start();
    this.#unblockForRoleChange();
    // sub-replicas must learn about the new history; they can PSYNC with us again
    this.primary.disconnectReplicas();
    if (wasPrimary) {
      this.server.log(
        "notice",
        "Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.",
      );
      this.cached = {
        replid: this.primary.replid,
        offset: this.server.replOffset,
        db: this.primary.seldb === -1 ? 0 : this.primary.seldb,
      };
    }
    this.link = new MasterLink(this, host, port);
    this.link.start();
  }

  /** Redis's replicationUnsetMaster: promotion to primary (REPLICAOF NO ONE, FAILOVER). */
  unsetMaster(): void {
    if (this.masterHost === null) return;
    this.server.log("notice", "Connection with master lost.");
    this.#stopLink();
    this.masterHost = null;
    this.masterPort = 0;
    this.cached = null;
    this.server.isReplica = false;
    this.primary.relaying = false;
    this.writableKeys.stop();
    // the inherited history becomes replid2, so former siblings can continue with us
    this.primary.shiftReplicationId();
    this.primary.disconnectReplicas();
    this.primary.seldb = -1;
  }

  #stopLink(): void {
    const link = this.link;
    if (link === null) return;
    this.link = null;
    void link.stop();
  }

  /** Blocked clients are told the instance changed role, then closed (as Redis does). */
  #unblockForRoleChange(): void {
    for (const c of this.server.clients.values()) {
      const state = c.blocked;
      // postponed (CLIENT PAUSE) commands start over later: not affected
      if (state === null || state.kind === "pause") continue;
      this.server.blocking.unblock(c);
      c.error(
        "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)",
      );
      c.closeAfterReply = true;
      c.scheduleFlush();
      c.resume();
    }
  }

  onConnected(): void {
    if (this.failoverState === "failover-in-progress") {
      this.server.log("notice", "Failover target accepted the PSYNC: failover complete.");
      this.#clearFailover();
    }
  }

  onPsyncRejected(): void {
    if (this.failoverState === "failover-in-progress") {
      this.abortFailover("Failover target rejected psync request");
    }
  }

  // ---- guards ----

  /** -NOREPLICAS and -READONLY (Redis's processCommand order). */
  writeGuard(c: Client): string | null {
    if (this.masterHost === null) {
      const toWrite = this.#minReplicasToWrite;
      if (toWrite > 0 && this.primary.goodReplicas() < toWrite) return ERR.noReplicas;
      return null;
    }
    if (this.#replicaReadOnly && !c.isMaster) return ERR.readOnly;
    return null;
  }

  /** -MASTERDOWN for commands without the stale flag while the link is down. */
  staleGuard(c: Client, spec: CommandSpec): string | null {
    void spec;
    if (
      this.masterHost !== null && this.link?.state !== "connected" && !c.isMaster &&
      !this.server.config.bool("replica-serve-stale-data")
    ) return ERR.masterDown;
    return null;
  }

  // ---- FAILOVER ----

  /** Starts a coordinated failover (FAILOVER command, arguments already checked). */
  startFailover(target: { host: string; port: number } | null, timeoutMs: number, force: boolean) {
    this.#failoverTarget = target;
    this.#failoverEnd = timeoutMs > 0 ? Date.now() + timeoutMs : 0;
    this.#failoverForce = force;
    this.failoverState = "waiting-for-sync";
    this.server.log(
      "notice",
      target !== null
        ? `FAILOVER requested to ${target.host}:${target.port}.`
        : "FAILOVER requested to any replica.",
    );
    // writes wait while the target catches up (Redis pauses them too)
    this.server.pauseClients(2147483647, true);
    this.primary.requestAcks();
    queueMicrotask(() => this.#updateFailover());
  }

  /** FAILOVER ABORT or a failed attempt. */
  abortFailover(reason: string): void {
    if (this.failoverState === "no-failover") return;
    const target = this.#failoverTarget;
    this.server.log(
      "notice",
      `FAILOVER to ${target ? `${target.host}:${target.port}` : "any replica"} aborted: ${reason}`,
    );
    if (this.failoverState === "failover-in-progress") this.unsetMaster();
    this.#clearFailover();
  }

  #clearFailover(): void {
    this.failoverState = "no-failover";
    this.#failoverTarget = null;
    this.#failoverEnd = 0;
    this.#failoverForce = false;
    this.psyncFailover = false;
    this.server.unpauseClients();
  }

  /** Redis's updateFailoverStatus. */
  #updateFailover(): void {
    if (this.failoverState !== "waiting-for-sync") return;
    const now = Date.now();
    if (this.#failoverEnd !== 0 && this.#failoverEnd <= now) {
      if (this.#failoverForce && this.#failoverTarget !== null) {
        const t = this.#failoverTarget;
        this.server.log(
          "notice",
          `FAILOVER to ${t.host}:${t.port} time out exceeded, failing over.`,
        );
        this.#handOver(t);
      } else this.abortFailover("Replica never caught up before timeout");
      return;
    }
    const offset = this.server.replOffset;
    let target = this.#failoverTarget;
    if (target === null) {
      const row = this.primary.replicaRows().find((r) =>
        r.state === "online" && r.offset === offset
      );
      if (row !== undefined) target = { host: row.ip, port: row.port };
    } else {
      const c = this.primary.findReplica(target.host, target.port);
      const row = c &&
        this.primary.replicaRows().find((r) => r.ip === target!.host && r.port === target!.port);
      if (row === undefined || row.offset !== offset) target = null;
    }
    if (target !== null) {
      this.server.log(
        "notice",
        `Failover target ${target.host}:${target.port} is synced, failing over.`,
      );
      this.#handOver(target);
    }
    // no new GETACK here: each one moves the offset the target has to reach; the
    // replicas' ACK every second reports the final offset
  }

  #handOver(target: { host: string; port: number }): void {
    this.#failoverTarget = target;
    this.failoverState = "failover-in-progress";
    this.psyncFailover = true;
    this.setMaster(target.host, target.port);
  }

  /** A PSYNC ... FAILOVER reached us: promote if it names our primary's history. */
  failoverRequest(c: Client, replid: string): boolean {
    if (replid !== this.primary.replid) {
      c.error("ERR PSYNC FAILOVER replid must match my replid.");
      return false;
    }
    this.unsetMaster();
    this.server.log("notice", `MASTER MODE enabled (failover request from '${c.addr}')`);
    return true;
  }

  // ---- cron ----

  /** Runs every server cron tick; the replication cron proper runs once a second. */
  tick(): void {
    if (this.failoverState === "waiting-for-sync") this.#updateFailover();
    if (this.masterHost !== null && this.server.activeExpireEnabled) this.writableKeys.expire();
    const now = Date.now();
    if (now - this.#lastCron < 1000) return;
    this.#lastCron = now;
    this.link?.cron();
    this.primary.cron();
  }

  /** Server stop: close the link and timers. */
  stop(): void {
    this.#stopLink();
    this.writableKeys.stop();
    this.primary.stop();
  }

  // ---- observability ----

  /** INFO replication, field by field as Redis 7.0 prints it. */
  infoLines(): string[] {
    const server = this.server;
    const p = this.primary;
    const lines: string[] = [];
    const link = this.link;
    if (this.masterHost === null) {
      lines.push("role:master");
    } else {
      const now = Date.now();
      const connected = link?.state === "connected";
      const mc = link?.masterClient ?? null;
      lines.push(
        "role:slave",
        `master_host:${this.masterHost}`,
        `master_port:${this.masterPort}`,
        `master_link_status:${connected ? "up" : "down"}`,
        `master_last_io_seconds_ago:${connected ? Math.floor((now - link!.lastIo) / 1000) : -1}`,
        `master_sync_in_progress:${link?.state === "sync" ? 1 : 0}`,
        `slave_read_repl_offset:${
          mc !== null ? link!.readReploff : this.cached !== null ? this.cached.offset : 1
        }`,
        `slave_repl_offset:${
          mc !== null ? link!.reploff : this.cached !== null ? this.cached.offset : 1
        }`,
      );
      if (link?.state === "sync") {
        const size = link.transferSize;
        const read = link.transferRead;
        const perc = size > 0 ? (read / size) * 100 : 0;
        lines.push(
          `master_sync_total_bytes:${size}`,
          `master_sync_read_bytes:${read}`,
          `master_sync_left_bytes:${size - read}`,
          `master_sync_perc:${perc.toFixed(2)}`,
          `master_sync_last_io_seconds_ago:${Math.floor((now - link.transferLastIo) / 1000)}`,
        );
      }
      if (!connected) {
        const since = link?.downSince ?? 0;
        lines.push(
          `master_link_down_since_seconds:${since ? Math.floor((now - since) / 1000) : -1}`,
        );
      }
      lines.push(
        `slave_priority:${server.config.num("replica-priority")}`,
        `slave_read_only:${server.config.bool("replica-read-only") ? 1 : 0}`,
        `replica_announced:${server.config.bool("replica-announced") ? 1 : 0}`,
      );
    }
    const rows = p.replicaRows();
    lines.push(`connected_slaves:${rows.length}`);
    const toWrite = server.config.num("min-replicas-to-write");
    if (toWrite > 0 && server.config.num("min-replicas-max-lag") > 0) {
      lines.push(`min_slaves_good_slaves:${p.goodReplicas()}`);
    }
    rows.forEach((r, i) => {
      const state = r.state === "wait_bgsave_start" || r.state === "wait_bgsave_end"
        ? "wait_bgsave"
        : r.state;
      lines.push(
        `slave${i}:ip=${r.ip},port=${r.port},state=${state},offset=${r.offset},lag=${r.lag}`,
      );
    });
    const backlog = p.backlog;
    lines.push(
      `master_failover_state:${this.failoverState}`,
      `master_replid:${p.replid}`,
      `master_replid2:${p.replid2}`,
      `master_repl_offset:${server.replOffset}`,
      `second_repl_offset:${p.secondReplidOffset}`,
      `repl_backlog_active:${backlog !== null ? 1 : 0}`,
      `repl_backlog_size:${backlog?.size ?? server.config.num("repl-backlog-size")}`,
      `repl_backlog_first_byte_offset:${backlog?.offset ?? 0}`,
      `repl_backlog_histlen:${backlog?.histlen ?? 0}`,
    );
    return lines;
  }

  /** ROLE, exactly as Redis replies. */
  role(c: Client): void {
    const r = c.reply;
    if (this.masterHost === null) {
      const rows = this.primary.replicaRows().filter((row) => row.state === "online");
      r.array(3);
      r.bulk("master");
      r.int(this.server.replOffset);
      r.array(rows.length);
      for (const row of rows) {
        r.array(3);
        r.bulk(row.ip);
        r.bulk(String(row.port));
        r.bulk(String(row.offset));
      }
      return;
    }
    const link = this.link;
    const state = link === null ? "connect" : link.state === "handshake" ? "handshake" : link.state;
    r.array(5);
    r.bulk("slave");
    r.bulk(this.masterHost);
    r.int(this.masterPort);
    r.bulk(state);
    r.int(link?.masterClient ? link.reploff : -1);
  }

  /** The repl-id / repl-offset / repl-stream-db an RDB saved now should carry, or null. */
  saveInfo(): { replid: string; offset: number; replStreamDb: number } | null {
    const p = this.primary;
    if (this.masterHost === null) {
      if (p.backlog === null) return null;
      return {
        replid: p.replid,
        offset: this.server.replOffset,
        replStreamDb: p.seldb === -1 ? 0 : p.seldb,
      };
    }
    const mc = this.link?.masterClient;
    if (mc) return { replid: p.replid, offset: this.link!.reploff, replStreamDb: mc.db.id };
    if (this.cached !== null) {
      return {
        replid: this.cached.replid,
        offset: this.cached.offset,
        replStreamDb: this.cached.db,
      };
    }
    return null;
  }

  /** A primary's start-up RDB carried replication info: it becomes replid2 / offset. */
  restoreAsPrimary(info: { replid: string; offset: number }): void {
    const p = this.primary;
    p.replid2 = info.replid;
    p.secondReplidOffset = info.offset + 1;
    this.server.replOffset = info.offset;
    p.createBacklog();
  }

  /**
   * An RDB loaded at startup carried replication info: as Redis 4+, a replica uses it to
   * PSYNC from where it stopped (setMaster then synthesizes the cached master from it).
   */
  restoreFromRdb(info: { replid?: string; offset?: number; replStreamDb?: number }): void {
    if (info.replid === undefined || info.offset === undefined || info.replid.length !== 40) return;
    if (/^0+$/.test(info.replid)) return;
    this.primary.replid = info.replid;
    this.server.replOffset = info.offset;
    this.primary.seldb = info.replStreamDb ?? 0;
  }
}

const states = new WeakMap<Server, Replication>();

/** The replication state of a server (created by installReplication). */
export function replicationOf(server: Server): Replication {
  let r = states.get(server);
  if (r === undefined) {
    r = new Replication(server);
    states.set(server, r);
  }
  return r;
}

/** Installs replication on a server: sink, hooks, guards, INFO section, start-up role. */
export function installReplication(server: Server): void {
  const repl = replicationOf(server);
  registerDebugSubcommand("digest", debugDigest, [
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
  ]);
  registerDebugSubcommand("digest-value", debugDigestValue, [
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
  ]);
  registerReplicationDebug();
  server.rdbSaveInfo = () => repl.saveInfo();
  server.cronHooks.push(() => repl.tick());
  server.closeHooks.push((c) => {
    if (c.isMaster) repl.link?.masterClientClosed(c);
    else repl.primary.clientClosed(c);
  });
  server.stopHooks.push(() => repl.stop());
  // replicas catch up before anything else happens on shutdown (Redis 7.0)
  server.shutdownHooks.unshift((opts) => repl.primary.beforeShutdown(opts.now === true));
  server.infoSections.set("replication", () => repl.infoLines());
  const previousWrite = server.writeGuard;
  server.writeGuard = (c, spec) => {
    const denied = previousWrite !== null ? previousWrite(c, spec) : null;
    return denied ?? repl.writeGuard(c);
  };
  server.busyEndHooks.push(() => repl.link?.resumeStream());
  const previousStale = server.staleGuard;
  server.staleGuard = (c, spec) => {
    const denied = previousStale !== null ? previousStale(c, spec) : null;
    return denied ?? repl.staleGuard(c, spec);
  };
  // a primary restarting from an RDB with replication info keeps that history as its
  // secondary one, so its former replicas can continue with a partial resync (Redis
  // 7.0's loadDataFromDisk); set before the load, which feeds DELs of expired keys
  server.startHooks.unshift(() => {
    if (server.config.get("replicaof") === "" && !server.config.bool("appendonly")) {
      const info = readRdbReplInfo(server);
      if (info !== null) repl.restoreAsPrimary(info);
    }
    return Promise.resolve();
  });
  // a replica from the start loads its RDB keeping logically expired keys
  if (server.config.get("replicaof") !== "") server.isReplica = true;
  server.startHooks.push(() => {
    const replicaof = server.config.get("replicaof");
    if (replicaof !== "") {
      const [host, port] = replicaof.split(" ");
      const info = server.config.bool("appendonly") ? null : readRdbReplInfo(server);
      if (info !== null) repl.restoreFromRdb(info);
      repl.setMaster(host, Number(port), { synthesizeCache: info !== null });
    }
    return Promise.resolve();
  });
}

/** The repl-id / repl-offset / repl-stream-db aux fields of `dir/dbfilename`, if any. */
function readRdbReplInfo(
  server: Server,
): { replid: string; offset: number; replStreamDb: number } | null {
  const dir = server.config.get("dir");
  const name = server.config.get("dbfilename");
  // the aux fields come first: the head of the file is enough
  let bytes = new Uint8Array(64 * 1024);
  try {
    const file = Deno.openSync(dir.endsWith("/") ? dir + name : `${dir}/${name}`);
    try {
      let got = 0;
      for (;;) {
        const n = file.readSync(bytes.subarray(got));
        if (n === null || n === 0) break;
        got += n;
        if (got === bytes.length) break;
      }
      bytes = bytes.subarray(0, got);
    } finally {
      file.close();
    }
  } catch {
    return null;
  }
  const aux = new Map<string, string>();
  try {
    const d = new RdbDecoder(bytes, 9);
    while (d.pos < bytes.length && bytes[d.pos] === OP.AUX) {
      d.pos++;
      const k = d.string();
      aux.set(k, d.string());
    }
  } catch {
    return null;
  }
  const replid = aux.get("repl-id");
  const offset = Number(aux.get("repl-offset"));
  if (replid === undefined || replid.length !== 40 || !Number.isSafeInteger(offset)) return null;
  if (/^0+$/.test(replid)) return null;
  return { replid, offset, replStreamDb: Number(aux.get("repl-stream-db") ?? 0) };
}
