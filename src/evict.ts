/**
 * maxmemory and key eviction (Redis: evict.c). Used memory is an estimate kept
 * incrementally, not the JS heap (which does not shrink right after a delete, so
 * "evict until the heap drops" would empty the dataset): a fixed baseline, the dataset
 * (every key sized like MEMORY USAGE when it changes, summed per Db), client buffers and
 * the replication backlog. INFO's used_memory prints the same figure eviction compares
 * with `maxmemory`; replica output buffers are in used_memory but, like Redis's
 * mem_not_counted_for_evict, not in the figure eviction uses.
 *
 * Before each command (server.maxmemoryExceeded, set only while maxmemory is non-zero)
 * keys are evicted by `maxmemory-policy` until the estimate is under the limit; denyoom
 * commands get -OOM when it stays above (noeviction, or nothing left to evict).
 */
import type { Server } from "./server.ts";
import type { Client } from "./client.ts";
import type { Db, Entry } from "./store/db.ts";
import { memoryUsageOfKey, memoryUsageOfStringKey } from "./memory.ts";
import { maxmemoryClientsLimit } from "./config.ts";

/** What the process holds before any key or client (Redis 7.0 starts near 870 KB). */
export const STARTUP_MEMORY = 870 * 1024;
/** Per connected client: the client structure and its buffers' headers. */
const CLIENT_OVERHEAD = 1024;
/** Redis's EVPOOL_SIZE. */
const POOL_SIZE = 16;
/** Client buffers are summed again after this many ms (not on every command). */
const CLIENT_SCAN_MS = 5;
/** Above this many keys INFO estimates the dataset from a sample while unaccounted. */
const EXACT_SCAN_KEYS = 100_000;

type Policy =
  | "noeviction"
  | "allkeys-lru"
  | "allkeys-lfu"
  | "allkeys-random"
  | "volatile-lru"
  | "volatile-lfu"
  | "volatile-random"
  | "volatile-ttl";

/** The memory figures of INFO memory. */
export interface MemoryFigures {
  used: number;
  dataset: number;
  clientsNormal: number;
  clientsSlaves: number;
  replBacklog: number;
  notCountedForEvict: number;
}

/** Bytes one key takes in the estimate (MEMORY USAGE's figure). */
export function keyBytes(key: string, e: Entry): number {
  if (!e.holdsString()) return memoryUsageOfKey(key, e.value, 5);
  const len = e.stringLength;
  // only short strings can be integer-encoded (a rebuilt string is read only then)
  return memoryUsageOfStringKey(key, len, len <= 20 && INTEGER.test(e.value as string));
}

const INTEGER = /^-?\d+$/;

/** Bytes per WATCHed key of a client (Redis: a list node and a watchedKey). */
export const WATCHED_KEY_OVERHEAD = 56;

/**
 * Memory of a normal client (Redis's getClientMemoryUsage): query buffer, pending
 * replies, the arguments of a command being read, the MULTI queue and WATCHed keys,
 * and a fixed overhead.
 */
export function clientMemory(c: Client): number {
  return CLIENT_OVERHEAD + c.parser.buf.length + c.parser.partialArgBytes + c.reply.size +
    c.pendingOutput +
    c.multiBytes + c.watched.length * WATCHED_KEY_OVERHEAD + pubsubBytes(c) +
    (c.tracking !== null ? c.tracking.prefixes.length * TRACKING_PREFIX_OVERHEAD : 0);
}

/**
 * Redis's pubsubMemOverhead: a list node per pattern, a dict entry per channel and a
 * pointer per dict slot (a power of two at least the size).
 */
function pubsubBytes(c: Client): number {
  return c.patterns.size * 24 + dictBytes(c.channels.size) + dictBytes(c.shardChannels.size);
}

function dictBytes(n: number): number {
  return n === 0 ? 0 : n * 24 + 8 * 2 ** Math.ceil(Math.log2(Math.max(n, 4)));
}

/** Bytes per BCAST prefix of a tracking client (Redis: radix tree nodes, underestimated). */
const TRACKING_PREFIX_OVERHEAD = 64;

/**
 * Whether small integers are shared objects (OBJECT REFCOUNT): not under maxmemory with
 * an LRU/LFU policy, where every key needs its own access time (Redis's
 * tryObjectEncoding).
 */
export function sharedIntegers(server: Server): boolean {
  const policy = server.config.get("maxmemory-policy");
  return server.config.num("maxmemory") === 0 ||
    !(policy.endsWith("-lru") || policy.endsWith("-lfu"));
}

/** The eviction state of one server. */
export class Evictor {
  readonly #server: Server;
  #limit = 0;
  #policy: Policy = "noeviction";
  #samples = 5;
  #tenacity = 10;
  #ignoreOnReplica = true;
  #clientLimit = 0;
  /** accounting on: Db.memBytes are kept up to date */
  #accounting = false;
  #pool: Array<{ idle: number; key: string; db: Db }> = [];
  #nextDb = 0;
  #clientsNormal = 0;
  #clientsSlaves = 0;
  #clientsAt = -Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(server: Server) {
    this.#server = server;
    const config = server.config;
    this.#samples = config.num("maxmemory-samples");
    this.#tenacity = config.num("maxmemory-eviction-tenacity");
    this.#ignoreOnReplica = config.bool("replica-ignore-maxmemory");
    this.#setClientLimit(maxmemoryClientsLimit(config));
    this.#policy = config.get("maxmemory-policy") as Policy;
    this.#setLimit(config.num("maxmemory"));
    config.onChange((name) => {
      if (name === "maxmemory") {
        this.#setLimit(config.num("maxmemory"));
        this.#setClientLimit(maxmemoryClientsLimit(config)); // may be a percentage of it
        // Redis's updateMaxmemory: evict at once down to the new limit
        if (this.#limit > 0) this.performEvictions();
      } else if (name === "maxmemory-policy") {
        this.#policy = config.get("maxmemory-policy") as Policy;
        this.#pool = [];
      } else if (name === "maxmemory-samples") this.#samples = config.num("maxmemory-samples");
      else if (name === "maxmemory-eviction-tenacity") {
        this.#tenacity = config.num("maxmemory-eviction-tenacity");
      } else if (name === "maxmemory-clients") {
        this.#setClientLimit(maxmemoryClientsLimit(config));
      } else if (name === "replica-ignore-maxmemory") {
        this.#ignoreOnReplica = config.bool("replica-ignore-maxmemory");
      }
    });
  }

  #setLimit(limit: number): void {
    this.#limit = limit;
    const server = this.#server;
    if (limit === 0) {
      server.maxmemoryExceeded = null;
      server.keySizer = null;
      this.#accounting = false;
      return;
    }
    if (!this.#accounting) {
      for (const db of server.dbs) {
        let total = 0;
        for (const [key, e] of db.dict) {
          e.mem = keyBytes(key, e);
          total += e.mem;
        }
        db.memBytes = total;
      }
      server.keySizer = keyBytes;
      this.#accounting = true;
    }
    server.maxmemoryExceeded = () => this.performEvictions();
  }

  /** Sums client buffers (normal clients and replicas), evicting clients first. */
  #scanClients(): void {
    const server = this.#server;
    if (this.#clientLimit > 0) this.#evictClients();
    let normal = 0;
    let slaves = 0;
    for (const c of server.clients.values()) {
      if (c.isReplica && !c.isMonitor) slaves += c.pendingOutput;
      else normal += clientMemory(c);
    }
    this.#clientsNormal = normal;
    this.#clientsSlaves = slaves;
    this.#clientsAt = performance.now();
  }

  /**
   * Redis's evictClients: while normal clients use more than maxmemory-clients, the
   * biggest one not marked CLIENT NO-EVICT is closed.
   */
  #evictClients(): void {
    const server = this.#server;
    const candidates: Array<{ c: Client; bytes: number }> = [];
    let total = 0;
    for (const c of server.clients.values()) {
      if (c.isReplica || c.isMaster) continue;
      const bytes = clientMemory(c);
      c.memUsage = bytes;
      total += bytes;
      if (!c.noEvict && !c.closed) candidates.push({ c, bytes });
    }
    this.#clientsTotal = total;
    if (total <= this.#clientLimit) return;
    candidates.sort((a, b) => b.bytes - a.bytes);
    for (const { c, bytes } of candidates) {
      if (total <= this.#clientLimit) break;
      server.log("verbose", `Evicting client: id=${c.id} addr=${c.addr} tot-mem=${bytes}`);
      c.close();
      total -= bytes;
      server.stats.evictedClients++;
    }
    this.#clientsTotal = total;
  }

  /** normal clients' memory at the last scan, kept current by clientCommand() */
  #clientsTotal = 0;

  /**
   * Before each command of `c` (`now`), and after each of its reads, while
   * maxmemory-clients is set (Redis's updateClientMemUsage): its memory is measured
   * again, and when the total is over the limit the biggest clients are evicted, before
   * the command runs (Redis's evictClients in processCommand) or after a read once the
   * I/O already received is handled (Redis's beforeSleep). Returns true if `c` itself
   * is closed.
   */
  clientCommand(c: Client, now = true): boolean {
    if (c.isReplica || c.isMaster || c.conn === null) return false;
    this.#measure(c);
    // clients whose output grew from elsewhere (pub/sub, tracking, MONITOR)
    if (this.#grown.size > 0) {
      for (const other of this.#grown) if (!other.closed) this.#measure(other);
      this.#grown.clear();
    }
    if (this.#clientsTotal <= this.#clientLimit) return false;
    if (now) {
      this.#evictClients();
      return c.closed;
    }
    if (this.#evictTimer === undefined) {
      this.#evictTimer = setTimeout(() => {
        this.#evictTimer = undefined;
        if (this.#clientLimit > 0) this.#evictClients();
      }, 0);
    }
    return c.closed;
  }
  #evictTimer: ReturnType<typeof setTimeout> | undefined;

  #measure(c: Client): void {
    const bytes = clientMemory(c);
    this.#clientsTotal += bytes - c.memUsage;
    c.memUsage = bytes;
  }

  /** normal clients given output outside their own commands since the last check */
  readonly #grown = new Set<Client>();

  #setClientLimit(limit: number): void {
    this.#clientLimit = limit;
    const server = this.#server;
    server.clientEviction = limit > 0 ? (c, now) => this.clientCommand(c, now) : null;
    server.clientOutputGrew = limit > 0
      ? (c) => {
        if (!c.isReplica && !c.isMaster) this.#grown.add(c);
      }
      : null;
    this.#grown.clear();
    // measured afresh (sizes were not followed without a limit), evicting at once
    if (limit > 0) this.#evictClients();
  }

  /** A client went away: its buffers no longer count (measure again before evicting). */
  clientClosed(c: Client): void {
    this.#clientsAt = -Infinity;
    this.#grown.delete(c);
    if (!c.isReplica && !c.isMaster) this.#clientsTotal -= c.memUsage;
    c.memUsage = 0;
  }

  /** Client eviction also runs from the cron (with or without maxmemory). */
  cron(): void {
    if (this.#clientLimit > 0) this.#evictClients();
  }

  /** Bytes of the replication backlog in use. */
  #backlogBytes(): number {
    for (const sink of this.#server.sinks) {
      const backlog = (sink as { backlog?: { histlen: number } | null }).backlog;
      if (backlog !== undefined && backlog !== null) return backlog.histlen;
    }
    return 0;
  }

  /** The dataset estimate: exact while accounting, else summed (or sampled) now. */
  #dataset(): number {
    let total = 0;
    for (const db of this.#server.dbs) {
      if (this.#accounting) {
        total += db.memBytes;
        continue;
      }
      if (db.size === 0) continue;
      if (db.size <= EXACT_SCAN_KEYS) {
        for (const [key, e] of db.dict) total += keyBytes(key, e);
      } else {
        let sum = 0;
        for (let i = 0; i < 1000; i++) {
          const key = db.randomKey()!;
          sum += keyBytes(key, db.dict.get(key)!);
        }
        total += Math.round(sum / 1000 * db.size);
      }
    }
    return total;
  }

  /** INFO memory's figures (client buffers measured now). */
  figures(): MemoryFigures {
    this.#scanClients();
    return this.#figures();
  }

  #figures(): MemoryFigures {
    const dataset = this.#dataset();
    const replBacklog = this.#backlogBytes();
    const used = STARTUP_MEMORY + dataset + this.#clientsNormal + this.#clientsSlaves + replBacklog;
    return {
      used,
      dataset,
      clientsNormal: this.#clientsNormal,
      clientsSlaves: this.#clientsSlaves,
      replBacklog,
      notCountedForEvict: this.#clientsSlaves,
    };
  }

  /** The figure compared with maxmemory (used memory minus replica buffers). */
  #usedForEvict(): number {
    if (performance.now() - this.#clientsAt >= CLIENT_SCAN_MS) this.#scanClients();
    let dataset = 0;
    for (const db of this.#server.dbs) dataset += db.memBytes;
    return STARTUP_MEMORY + dataset + this.#clientsNormal + this.#backlogBytes();
  }

  /** Evictions are not run inside a command, while loading, paused, or on a replica. */
  #safe(): boolean {
    const server = this.#server;
    if (server.executing > 1 || server.inExec || server.loading) return false;
    if (server.isReplica && this.#ignoreOnReplica) return false;
    return server.pause === null;
  }

  /**
   * Redis's performEvictions: evicts keys by policy until used memory is under the
   * limit. Returns true when it stays above it (denyoom commands then get -OOM).
   */
  performEvictions(): boolean {
    if (this.#limit === 0) return false;
    if (!this.#safe()) {
      // Redis answers EVICT_OK here; a replica ignoring maxmemory accepts everything
      return false;
    }
    let used = this.#usedForEvict();
    if (used <= this.#limit) return false;
    if (this.#policy === "noeviction") return true;
    const server = this.#server;
    const start = performance.now();
    const budget = this.#timeLimitMs();
    let freed = 0;
    while (used > this.#limit) {
      const victim = this.#pick();
      if (victim === null) return true;
      const { db, key } = victim;
      const before = db.memBytes;
      db.deleteEntry(key);
      used -= before - db.memBytes;
      server.stats.evictedKeys++;
      server.keyModified(db, key);
      server.notify("e", "evicted", key, db.id);
      server.alsoPropagate(db.id, ["DEL", key]);
      server.flushPropagation();
      // check the clock every 16 keys, like Redis; past the budget, go on in a timer
      if ((++freed & 15) === 0 && performance.now() - start > budget) {
        this.#continueLater();
        return false;
      }
    }
    return false;
  }

  /** Redis's evictionTimeLimitUs from maxmemory-eviction-tenacity, in ms. */
  #timeLimitMs(): number {
    const t = this.#tenacity;
    if (t <= 10) return 0.05 * t;
    if (t < 100) return 0.5 * Math.pow(1.15, t - 10);
    return Infinity;
  }

  /** Redis's evictionTimeProc: keeps evicting from the event loop while over the limit. */
  #continueLater(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#server.shuttingDown) return;
      this.performEvictions();
    }, 0);
  }

  /** Stops the continuation timer (server stop). */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#evictTimer !== undefined) clearTimeout(this.#evictTimer);
    this.#evictTimer = undefined;
  }

  /** The next key to evict under the current policy, or null when none qualifies. */
  #pick(): { db: Db; key: string } | null {
    const policy = this.#policy;
    const volatile = policy.startsWith("volatile-");
    if (policy === "allkeys-random" || policy === "volatile-random") {
      const dbs = this.#server.dbs;
      for (let i = 0; i < dbs.length; i++) {
        const db = dbs[(this.#nextDb + i) % dbs.length];
        const key = volatile ? db.randomVolatileKey() : db.randomKey();
        if (key !== undefined) {
          this.#nextDb = (this.#nextDb + i + 1) % dbs.length;
          return { db, key };
        }
      }
      return null;
    }
    for (;;) {
      let candidates = 0;
      for (const db of this.#server.dbs) {
        const n = volatile ? db.volatileCount : db.size;
        if (n === 0) continue;
        candidates += n;
        this.#populate(db, volatile);
      }
      if (candidates === 0) return null;
      // best candidate last; skip ghosts (keys deleted since they were sampled)
      while (this.#pool.length > 0) {
        const best = this.#pool.pop()!;
        const e = best.db.dict.get(best.key);
        if (e !== undefined && (!volatile || e.expireAt !== 0)) return best;
      }
    }
  }

  /** Redis's evictionPoolPopulate: samples keys of `db` into the pool by idleness. */
  #populate(db: Db, volatile: boolean): void {
    const pool = this.#pool;
    const policy = this.#policy;
    const nowSec = this.#server.now() / 1000 | 0;
    for (let i = 0; i < this.#samples; i++) {
      const key = volatile ? db.randomVolatileKey() : db.randomKey();
      if (key === undefined) return;
      const e = db.dict.get(key)!;
      const idle = policy.endsWith("lru")
        ? nowSec - e.lru
        : policy.endsWith("lfu")
        ? 255 - e.freq
        : Number.MAX_SAFE_INTEGER - e.expireAt;
      if (pool.some((p) => p.key === key && p.db === db)) continue;
      if (pool.length >= POOL_SIZE && idle <= pool[0].idle) continue;
      let at = 0;
      while (at < pool.length && pool[at].idle < idle) at++;
      pool.splice(at, 0, { idle, key, db });
      if (pool.length > POOL_SIZE) pool.shift();
    }
  }
}

const evictors = new WeakMap<Server, Evictor>();

/** The server's evictor (created by installEviction). */
export function evictorOf(server: Server): Evictor | undefined {
  return evictors.get(server);
}

/** Installs maxmemory accounting and eviction on a server. */
export function installEviction(server: Server): void {
  const evictor = new Evictor(server);
  evictors.set(server, evictor);
  server.stopHooks.push(() => evictor.stop());
  server.cronHooks.push(() => evictor.cron());
  server.closeHooks.push((c) => evictor.clientClosed(c));
}
