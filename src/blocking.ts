/**
 * One mechanism for every blocking command (Redis: blocked.c). A client blocked on keys
 * is re-run, in FIFO order per key, when one of its keys becomes ready; its handler
 * either serves it (and it is unblocked) or calls block() again, which keeps its place.
 */
import type { BlockState, Client } from "./client.ts";
import type { Db } from "./store/db.ts";
import type { Server } from "./server.ts";
import { call } from "./dispatch.ts";
import { parseLongDouble } from "./store/long_double.ts";

/** Options for Blocking.block(). */
export interface BlockOptions {
  /** keys (in the client's db) that wake the client; empty for WAIT-like blocks */
  keys: string[];
  /** 0 = forever */
  timeoutMs: number;
  /** reply on timeout; default is the null array */
  onTimeout?: (c: Client) => void;
  kind?: BlockState["kind"];
}

/**
 * Parses a blocking timeout argument in seconds to ms, or returns Redis's error. Like
 * Redis 7.0's getTimeoutFromObjectOrReply: a long double (fractions, exponents, hex),
 * rounded up to whole ms; a value whose ms do not fit a long long (including inf)
 * wraps negative, so Redis calls it negative too.
 */
export function parseTimeoutSeconds(arg: string): number | string {
  const ld = parseLongDouble(arg);
  if (ld === null) return "ERR timeout is not a float or out of range";
  if (ld.inf) return "ERR timeout is negative";
  const seconds = (ld.neg ? -1 : 1) * Number(ld.mant) * Math.pow(2, ld.exp);
  // a positive value too small for a double still waits at least 1 ms, as ceill does
  const ms = ld.mant !== 0n && seconds === 0 ? (ld.neg ? 0 : 1) : Math.ceil(seconds * 1000);
  if (ms < 0 || ms >= 9223372036854775807) return "ERR timeout is negative";
  return ms === 0 ? 0 : ms;
}

/** setTimeout's longest delay; longer timeouts are re-armed in steps. */
const MAX_TIMER_MS = 2147483647;

/** The registry of blocked clients. */
export class Blocking {
  readonly server: Server;
  #byKey = new Map<Db, Map<string, Client[]>>();
  #ready: Array<{ db: Db; key: string }> = [];
  #readySet = new Set<string>();
  /** clients blocked on anything */
  blockedCount = 0;
  #stillBlocked = false;
  /** set while a served client is unblocked after its re-run */
  #serving = false;
  #servingKey: string | null = null;

  constructor(server: Server) {
    this.server = server;
  }

  /**
   * Blocks the current command of `c`. Inside MULTI/EXEC (or for clients that cannot
   * block) the timeout reply is given at once, as Redis does.
   */
  block(c: Client, options: BlockOptions): void {
    if (c.reprocessing) {
      this.#stillBlocked = true;
      return;
    }
    const onTimeout = options.onTimeout;
    // clients without a connection answer at once, but the master link can be paused
    if (this.server.inExec || (c.conn === null && !(c.isMaster && options.kind === "pause"))) {
      if (onTimeout) onTimeout(c);
      else c.reply.nullArray();
      return;
    }
    const state: BlockState = {
      keys: options.keys,
      db: c.db,
      spec: c.spec!,
      argv: c.argv,
      timer: undefined,
      onTimeout,
      kind: options.kind ?? "keys",
    };
    c.blocked = state;
    this.blockedCount++;
    // a blocked command is propagated when it is served, not now
    c.preventPropagation = true;
    for (const key of options.keys) {
      let perDb = this.#byKey.get(c.db);
      if (!perDb) this.#byKey.set(c.db, perDb = new Map());
      const list = perDb.get(key);
      if (list) list.push(c);
      else perDb.set(key, [c]);
    }
    if (options.timeoutMs > 0) this.#armTimer(c, state, Date.now() + options.timeoutMs);
  }

  #armTimer(c: Client, state: BlockState, deadline: number): void {
    const delay = deadline - Date.now();
    if (delay > MAX_TIMER_MS) {
      state.timer = setTimeout(() => this.#armTimer(c, state, deadline), MAX_TIMER_MS);
    } else {
      state.timer = setTimeout(() => this.timeout(c), Math.max(0, delay));
    }
  }

  /** Times out a blocked client: sends its timeout reply and unblocks it. */
  timeout(c: Client): void {
    const state = c.blocked;
    if (state === null) return;
    this.unblock(c);
    if (state.onTimeout) state.onTimeout(c);
    else c.reply.nullArray();
    c.resume();
  }

  /**
   * True when the command that just ran on `c` left it waiting (it blocked, or a re-run
   * found nothing to serve). Redis counts a blocked command in its stats once, when it
   * is served (by the re-run) or ends otherwise (unblock()), so call() skips it now.
   */
  leftWaiting(c: Client): boolean {
    return c.blocked !== null && (!c.reprocessing || this.#stillBlocked);
  }

  /** Removes a client from every wait list (it stays unserved). */
  unblock(c: Client): void {
    const state = c.blocked;
    if (state === null) return;
    // served by a re-run: call() counted it; postponed by a pause: it has not run yet
    if (!this.#serving && !c.closed && state.kind !== "pause") {
      this.server.stats.called(state.spec, 0, false);
    }
    if (state.timer !== undefined) clearTimeout(state.timer);
    const perDb = this.#byKey.get(state.db);
    for (const key of state.keys) {
      const list = perDb?.get(key);
      if (!list) continue;
      const i = list.indexOf(c);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) perDb!.delete(key);
    }
    c.blocked = null;
    this.blockedCount--;
  }

  /**
   * While a blocked command is re-run: the ready key that woke it. Redis serves a client
   * blocked on several keys from the key that became ready, not its first key.
   */
  get servingKey(): string | null {
    return this.#servingKey;
  }

  /** True if some client waits on `key` in `db`. */
  hasWaiters(db: Db, key: string): boolean {
    return this.#byKey.get(db)?.has(key) ?? false;
  }

  /** A key was created or grew: queue the clients waiting on it to be re-run. */
  keyReady(db: Db, key: string): void {
    const perDb = this.#byKey.get(db);
    if (perDb === undefined || !perDb.has(key)) return;
    const id = db.id + ":" + key;
    if (this.#readySet.has(id)) return;
    this.#readySet.add(id);
    this.#ready.push({ db, key });
  }

  /** Serves clients blocked on ready keys (after each command, like Redis). */
  handleReadyKeys(): void {
    // the command that readied the keys is propagated before the pops it allows
    this.server.flushPropagation();
    if (this.#ready.length === 0) return;
    // Redis's updateCachedTime: a key that expired while the command ran (EXEC with
    // DEBUG SLEEP) is seen expired by the re-run, which then keeps waiting
    const server = this.server;
    server.cachedNow = Math.floor(server.wallOffset + server.readClock());
    while (this.#ready.length > 0) {
      const ready = this.#ready;
      this.#ready = [];
      this.#readySet.clear();
      for (const { db, key } of ready) {
        const waiting = this.#byKey.get(db)?.get(key);
        if (!waiting) continue;
        // a key signalled because it was deleted (a stream: XREADGROUP readers get an
        // error) wakes every waiter; a key that exists stops once it is consumed
        const existed = db.dict.has(key);
        for (const c of [...waiting]) {
          if (c.blocked === null || c.closed) continue;
          if (!this.#rerun(c, key)) continue;
          // each served client is its own execution unit, as Redis's afterCommand()
          this.server.flushPropagation();
          if (existed && !db.dict.has(key)) break;
        }
      }
      this.server.flushPropagation();
    }
  }

  /** Re-runs a blocked client's command; returns true if it was served. */
  #rerun(c: Client, key: string): boolean {
    const state = c.blocked!;
    const savedDb = c.db;
    c.db = state.db;
    c.reprocessing = true;
    this.#stillBlocked = false;
    this.#servingKey = key;
    try {
      call(c, state.spec, state.argv);
    } finally {
      c.reprocessing = false;
      this.#servingKey = null;
    }
    if (this.#stillBlocked) {
      c.db = savedDb;
      return false;
    }
    this.#serving = true;
    try {
      this.unblock(c);
    } finally {
      this.#serving = false;
    }
    c.resume();
    c.scheduleFlush();
    return true;
  }

  /** Forgets a closed client. */
  clientClosed(c: Client): void {
    if (c.blocked !== null) this.unblock(c);
  }
}
