/**
 * Client-side caching (Redis: tracking.c): CLIENT TRACKING state per client, the
 * invalidation table of keys read by tracking clients, BCAST prefixes, and the
 * invalidation messages (RESP3 push, or Pub/Sub messages on `__redis__:invalidate` for
 * a RESP2 client that redirects to a subscribed connection).
 */
import type { Client } from "./client.ts";
import type { Server } from "./server.ts";
import { commandKeys, type CommandSpec, FLAG_BITS } from "./commands/table.ts";
import { ERR } from "./errors.ts";

/** The tracking state of one client (Redis: the CLIENT_TRACKING_* flags). */
export interface ClientTracking {
  /** client id invalidations go to (0 = this client) */
  redirect: number;
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  /** CLIENT CACHING YES|NO was given for the next command (or transaction) */
  caching: boolean;
  /** the redirect client went away */
  brokenRedir: boolean;
  /** BCAST prefixes, sorted like Redis's radix tree */
  prefixes: string[];
}

/** One BCAST prefix: keys modified since the last broadcast (→ who modified them) and its clients. */
interface BcastState {
  keys: Map<string, Client | null>;
  clients: Set<Client>;
}

/** A remembered key: ids of the clients that may cache it, and its place in `#keyList`. */
interface TrackedKey {
  ids: Set<number>;
  index: number;
}

const TRACKING_CHANNEL = "__redis__:invalidate";
const B_PUBSUB = FLAG_BITS.pubsub;
/** read-only script commands: only the commands the script runs are tracked */
const SCRIPT_RO = new Set(["eval_ro", "evalsha_ro", "fcall_ro"]);

/** The server-wide tracking tables (Redis: TrackingTable, PrefixTable). */
export class Tracking {
  readonly #server: Server;
  /** clients with tracking on */
  readonly clients = new Set<Client>();
  readonly #table = new Map<string, TrackedKey>();
  /** the table's keys, for random eviction */
  #keyList: string[] = [];
  totalItems = 0;
  readonly prefixes = new Map<string, BcastState>();
  /** the client whose command is running (Redis's server.current_client) */
  current: Client | null = null;
  /** invalidations for the running client, sent after its reply (null = flush) */
  #pending: Array<string | null> = [];
  #broadcastScheduled = false;
  /** a flush invalidation was sent in this event-loop turn (FLUSHALL flushes each db) */
  #flushSent = false;
  #evictionRounds = 0;

  constructor(server: Server) {
    this.#server = server;
  }

  get totalKeys(): number {
    return this.#table.size;
  }

  /** CLIENT TRACKING ON with validated options (Redis: enableTracking). */
  enable(
    c: Client,
    redirect: number,
    opts: Omit<ClientTracking, "redirect" | "caching" | "brokenRedir" | "prefixes">,
    prefixes: string[],
  ): void {
    let t = c.tracking;
    if (t === null) {
      t = {
        redirect,
        bcast: false,
        optin: false,
        optout: false,
        noloop: false,
        caching: false,
        brokenRedir: false,
        prefixes: [],
      };
      c.tracking = t;
      this.clients.add(c);
    }
    t.redirect = redirect;
    t.brokenRedir = false;
    t.bcast = opts.bcast;
    t.optin = opts.optin;
    t.optout = opts.optout;
    t.noloop = opts.noloop;
    if (opts.bcast) {
      if (prefixes.length === 0) this.#addPrefix(c, t, "");
      for (const p of prefixes) this.#addPrefix(c, t, p);
    }
  }

  #addPrefix(c: Client, t: ClientTracking, prefix: string): void {
    let bs = this.prefixes.get(prefix);
    if (bs === undefined) {
      bs = { keys: new Map(), clients: new Set() };
      this.prefixes.set(prefix, bs);
    }
    if (bs.clients.has(c)) return;
    bs.clients.add(c);
    t.prefixes.push(prefix);
    t.prefixes.sort();
  }

  /** CLIENT TRACKING OFF, RESET, disconnect (Redis: disableTracking). */
  disable(c: Client): void {
    const t = c.tracking;
    if (t === null) return;
    for (const p of t.prefixes) {
      const bs = this.prefixes.get(p);
      if (bs === undefined) continue;
      bs.clients.delete(c);
      if (bs.clients.size === 0) this.prefixes.delete(p);
    }
    c.tracking = null;
    this.clients.delete(c);
  }

  /**
   * A read-only command ran: remembers its keys for a tracking client, or, for a
   * command a script ran, the keys the script declared (Redis's call()).
   */
  afterRead(c: Client, spec: CommandSpec, argv: string[]): void {
    if (c.tracking !== null) {
      if (!SCRIPT_RO.has(spec.name)) this.#rememberKeys(c, spec, argv);
      return;
    }
    const caller = this.current;
    if (c.conn === null && caller !== null && caller !== c && caller.tracking !== null) {
      if (caller.spec !== null) this.#rememberKeys(caller, caller.spec, caller.argv);
    }
  }

  /** Remembers the keys a read-only command fetched (Redis: trackingRememberKeys). */
  #rememberKeys(c: Client, spec: CommandSpec, argv: string[]): void {
    const t = c.tracking!;
    if (t.bcast || (t.optin && !t.caching) || (t.optout && t.caching)) return;
    if ((spec.bits & B_PUBSUB) !== 0) return;
    for (const pos of commandKeys(spec, argv)) {
      const key = argv[pos];
      let entry = this.#table.get(key);
      if (entry === undefined) {
        entry = { ids: new Set(), index: this.#keyList.length };
        this.#table.set(key, entry);
        this.#keyList.push(key);
      }
      if (!entry.ids.has(c.id)) {
        entry.ids.add(c.id);
        this.totalItems++;
      }
    }
  }

  /** A key changed: invalidates it for the clients that read it (Redis: trackingInvalidateKey). */
  invalidateKey(key: string, bcast = true): void {
    if (bcast && this.prefixes.size > 0) this.#rememberKeyToBroadcast(key);
    const entry = this.#table.get(key);
    if (entry === undefined) return;
    const clients = this.#server.clients;
    for (const id of entry.ids) {
      const target = clients.get(id);
      if (target === undefined || target.tracking === null || target.tracking.bcast) continue;
      if (target === this.current) {
        if (target.tracking.noloop) continue;
        // after the command's reply, not interleaved with it
        this.#pending.push(key);
      } else this.#send(target, [key]);
    }
    this.totalItems -= entry.ids.size;
    this.#removeKey(key, entry);
  }

  #removeKey(key: string, entry: TrackedKey): void {
    this.#table.delete(key);
    const last = this.#keyList.pop()!;
    if (last !== key) {
      this.#keyList[entry.index] = last;
      this.#table.get(last)!.index = entry.index;
    }
  }

  #rememberKeyToBroadcast(key: string): void {
    let hit = false;
    for (const [prefix, bs] of this.prefixes) {
      if (prefix.length > key.length || !key.startsWith(prefix)) continue;
      // Redis's raxInsert overwrites: the last client that modified the key
      bs.keys.delete(key);
      bs.keys.set(key, this.current);
      hit = true;
    }
    if (hit && !this.#broadcastScheduled) {
      this.#broadcastScheduled = true;
      // Redis broadcasts in beforeSleep: once per event-loop turn, after the replies
      queueMicrotask(() => this.broadcast());
    }
  }

  /** Sends the keys modified under each BCAST prefix (Redis: trackingBroadcastInvalidationMessages). */
  broadcast(): void {
    this.#broadcastScheduled = false;
    // in prefix order, like Redis's radix tree
    const order = this.prefixes.size > 1 ? [...this.prefixes.keys()].sort() : this.prefixes.keys();
    for (const prefix of order) {
      const bs = this.prefixes.get(prefix)!;
      if (bs.keys.size === 0) continue;
      const keys = [...bs.keys.keys()].sort();
      for (const c of bs.clients) {
        if (c.closed) continue;
        if (c.tracking!.noloop) {
          const own = keys.filter((k) => bs.keys.get(k) !== c);
          if (own.length > 0) this.#send(c, own);
        } else this.#send(c, keys);
      }
      bs.keys = new Map();
    }
  }

  /** FLUSHALL / FLUSHDB: a null invalidation to every tracking client; the table empties. */
  flush(): void {
    if (this.#flushSent) return;
    this.#flushSent = true;
    queueMicrotask(() => this.#flushSent = false);
    for (const c of this.clients) {
      if (c === this.current) this.#pending.push(null);
      else this.#send(c, null);
    }
    this.#table.clear();
    this.#keyList = [];
    this.totalItems = 0;
  }

  /** After a top-level command: invalidations for the client itself, CLIENT CACHING reset, table limit. */
  afterCommand(c: Client, spec: CommandSpec): void {
    this.current = null;
    if (this.#pending.length > 0) {
      const pending = this.#pending;
      this.#pending = [];
      if (c.tracking !== null && !c.closed) {
        if (c.replyMode !== "on") c.pushing = true;
        for (const key of pending) this.#send(c, key === null ? null : [key]);
      }
    }
    const t = c.tracking;
    if (t !== null && t.caching && c.multi === null && spec.parent !== "client") {
      t.caching = false;
    }
    this.limitUsedSlots();
  }

  /** Keeps the table within tracking-table-max-keys (Redis: trackingLimitUsedSlots). */
  limitUsedSlots(): void {
    const max = this.#server.config.num("tracking-table-max-keys");
    if (max === 0 || this.#table.size <= max) {
      this.#evictionRounds = 0;
      return;
    }
    let effort = 100 * (this.#evictionRounds + 1);
    while (effort-- > 0 && this.#table.size > 0) {
      const key = this.#keyList[Math.floor(Math.random() * this.#keyList.length)]!;
      this.invalidateKey(key, false);
      if (this.#table.size <= max) {
        this.#evictionRounds = 0;
        return;
      }
    }
    this.#evictionRounds++;
  }

  /** Writes one invalidation for `c` (Redis: sendTrackingMessage); keys null = flush. */
  #send(c: Client, keys: string[] | null): void {
    const t = c.tracking!;
    let target = c;
    let redirected = false;
    if (t.redirect !== 0) {
      const redir = this.#server.clients.get(t.redirect);
      if (redir === undefined || redir.closed) {
        t.brokenRedir = true;
        if (c.reply.resp === 3) {
          c.reply.push(2);
          c.reply.bulk("tracking-redir-broken");
          c.reply.int(t.redirect);
          c.scheduleFlush();
        }
        return;
      }
      target = redir;
      redirected = true;
    }
    const r = target.reply;
    if (r.resp === 3) {
      r.push(2);
      r.bulk("invalidate");
    } else if (
      redirected && target.channels.size + target.patterns.size + target.shardChannels.size > 0
    ) {
      r.array(3);
      r.bulk("message");
      r.bulk(TRACKING_CHANNEL);
    } else return;
    if (keys === null) r.rawString(c.reply.resp === 3 ? "_\r\n" : "$-1\r\n");
    else {
      r.array(keys.length);
      for (const k of keys) r.bulk(k);
    }
    target.scheduleFlush();
  }
}

/** The server's tracking tables, created when a client first enables tracking. */
export function trackingOf(server: Server): Tracking {
  if (server.tracking === null) server.tracking = new Tracking(server);
  return server.tracking;
}

/** Installs the hooks: disconnect and RESET turn tracking off; the cron bounds the table. */
export function installTracking(server: Server): void {
  server.closeHooks.push((c) => server.tracking?.disable(c));
  server.resetHooks.push((c) => server.tracking?.disable(c));
  server.cronHooks.push(() => {
    if (server.tracking !== null && server.tracking.clients.size > 0) {
      server.tracking.limitUsedSlots();
    }
  });
}

/** CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]. */
export function clientTracking(c: Client, argv: string[]): void {
  let redirect = 0;
  const opts = { bcast: false, optin: false, optout: false, noloop: false };
  const prefixes: string[] = [];
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    const more = j < argv.length - 1;
    if (opt === "redirect" && more) {
      j++;
      if (redirect !== 0) return c.error("ERR A client can only redirect to a single other client");
      if (!/^-?\d+$/.test(argv[j]) || !Number.isSafeInteger(Number(argv[j]))) {
        return c.error(ERR.notInteger);
      }
      redirect = Number(argv[j]);
      const target = c.server.clients.get(redirect);
      if (target === undefined || target.closed) {
        return c.error("ERR The client ID you want redirect to does not exist");
      }
    } else if (opt === "bcast") opts.bcast = true;
    else if (opt === "optin") opts.optin = true;
    else if (opt === "optout") opts.optout = true;
    else if (opt === "noloop") opts.noloop = true;
    else if (opt === "prefix" && more) prefixes.push(argv[++j]);
    else return c.error(ERR.syntax);
  }
  const mode = argv[2].toLowerCase();
  if (mode === "on") {
    const t = c.tracking;
    if (!opts.bcast && prefixes.length > 0) {
      return c.error("ERR PREFIX option requires BCAST mode to be enabled");
    }
    if (t !== null && t.bcast !== opts.bcast) {
      return c.error(
        "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.",
      );
    }
    if (opts.bcast && (opts.optin || opts.optout)) {
      return c.error("ERR OPTIN and OPTOUT are not compatible with BCAST");
    }
    if (opts.optin && opts.optout) {
      return c.error("ERR You can't specify both OPTIN mode and OPTOUT mode");
    }
    if (t !== null && ((opts.optin && t.optout) || (opts.optout && t.optin))) {
      return c.error(
        "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.",
      );
    }
    if (opts.bcast) {
      const collision = prefixCollision(t?.prefixes ?? [], prefixes);
      if (collision !== null) return c.error(collision);
    }
    trackingOf(c.server).enable(c, redirect, opts, prefixes);
  } else if (mode === "off") {
    c.server.tracking?.disable(c);
  } else return c.error(ERR.syntax);
  c.reply.simple("OK");
}

/** Whether one prefix starts the other (Redis: stringCheckPrefix). */
function overlaps(a: string, b: string): boolean {
  const n = Math.min(a.length, b.length);
  return a.slice(0, n) === b.slice(0, n);
}

/** Redis's checkPrefixCollisionsOrReply: the error, or null. */
function prefixCollision(existing: string[], prefixes: string[]): string | null {
  for (let i = 0; i < prefixes.length; i++) {
    for (const old of existing) {
      if (overlaps(old, prefixes[i])) {
        return `ERR Prefix '${
          prefixes[i]
        }' overlaps with an existing prefix '${old}'. Prefixes for a single client must not overlap.`;
      }
    }
    for (let j = i + 1; j < prefixes.length; j++) {
      if (overlaps(prefixes[i], prefixes[j])) {
        return `ERR Prefix '${prefixes[i]}' overlaps with another provided prefix '${
          prefixes[j]
        }'. Prefixes for a single client must not overlap.`;
      }
    }
  }
  return null;
}

/** CLIENT CACHING YES|NO. */
export function clientCaching(c: Client, argv: string[]): void {
  const t = c.tracking;
  if (t === null) {
    return c.error(
      "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
    );
  }
  const opt = argv[2].toLowerCase();
  if (opt === "yes") {
    if (!t.optin) {
      return c.error(
        "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
      );
    }
  } else if (opt === "no") {
    if (!t.optout) {
      return c.error(
        "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
      );
    }
  } else return c.error(ERR.syntax);
  t.caching = true;
  c.reply.simple("OK");
}

/** CLIENT GETREDIR. */
export function clientGetredir(c: Client): void {
  c.reply.int(c.tracking === null ? -1 : c.tracking.redirect);
}

/** CLIENT TRACKINGINFO: flags, redirect, prefixes (Redis 7.0's reply shape). */
export function clientTrackingInfo(c: Client): void {
  const t = c.tracking;
  const flags = [t === null ? "off" : "on"];
  if (t !== null) {
    if (t.bcast) flags.push("bcast");
    if (t.optin) flags.push("optin");
    if (t.optin && t.caching) flags.push("caching-yes");
    if (t.optout) flags.push("optout");
    if (t.optout && t.caching) flags.push("caching-no");
    if (t.noloop) flags.push("noloop");
    if (t.brokenRedir) flags.push("broken_redirect");
  }
  const r = c.reply;
  r.map(3);
  r.bulk("flags");
  r.set(flags.length);
  for (const f of flags) r.bulk(f);
  r.bulk("redirect");
  r.int(t === null ? -1 : t.redirect);
  r.bulk("prefixes");
  const prefixes = t?.prefixes ?? [];
  r.array(prefixes.length);
  for (const p of prefixes) r.bulk(p);
}

/** CLIENT LIST flag letters for tracking (t, R, B). */
export function trackingFlags(c: Client): string {
  const t = c.tracking;
  if (t === null) return "";
  return "t" + (t.brokenRedir ? "R" : "") + (t.bcast ? "B" : "");
}
