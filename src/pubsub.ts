/**
 * Pub/Sub (Redis: pubsub.c and notify.c): the channel, pattern and shard-channel
 * registries, PUBLISH fan-out, the pubsub client output buffer limit, and keyspace
 * notifications (server.notify).
 *
 * A message for several receivers is encoded once and appended raw to every receiver's
 * output buffer, so PUBLISH costs one buffer copy per receiver and never waits for a
 * slow one; a receiver whose pending output passes `client-output-buffer-limit pubsub`
 * is disconnected, as Redis does.
 */
import type { Client } from "./client.ts";
import type { Server } from "./server.ts";
import { ReplyWriter } from "./resp/writer.ts";
import { globMatch } from "./store/glob.ts";
import { configuredFlags, NOTIFY } from "./notify_flags.ts";

/** Output limits of the pubsub client class (bytes, bytes, seconds; 0 = none). */
interface ObufLimit {
  hard: number;
  soft: number;
  softSeconds: number;
}

/** The subscription registries of one server. */
export class PubSub {
  readonly server: Server;
  readonly channels = new Map<string, Set<Client>>();
  readonly patterns = new Map<string, Set<Client>>();
  readonly shardChannels = new Map<string, Set<Client>>();
  /** notify-keyspace-events flags */
  notifyFlags = 0;
  limit: ObufLimit = { hard: 32 * 1024 * 1024, soft: 8 * 1024 * 1024, softSeconds: 60 };
  /** when each client first passed the soft limit (continuously since) */
  readonly #softSince = new Map<Client, number>();
  readonly #encoder = new ReplyWriter(256);

  constructor(server: Server) {
    this.server = server;
  }

  /** Delivers a message to channel and pattern subscribers; returns the receiver count. */
  publish(channel: string, message: string): number {
    let receivers = 0;
    const subs = this.channels.get(channel);
    if (subs !== undefined) {
      this.#deliverAll(subs, "message", null, channel, message);
      receivers += subs.size;
    }
    if (this.patterns.size > 0) {
      for (const [pattern, clients] of this.patterns) {
        if (!globMatch(pattern, channel)) continue;
        this.#deliverAll(clients, "pmessage", pattern, channel, message);
        receivers += clients.size;
      }
    }
    this.#enforceLimits();
    return receivers;
  }

  /** Delivers a message to shard channel subscribers (SPUBLISH). */
  spublish(channel: string, message: string): number {
    const subs = this.shardChannels.get(channel);
    if (subs === undefined) return 0;
    this.#deliverAll(subs, "smessage", null, channel, message);
    this.#enforceLimits();
    return subs.size;
  }

  /**
   * Appends [kind, pattern?, channel, message] to every receiver's output: written
   * straight into the output of a lone receiver (the common case), else encoded once and
   * copied to each (a RESP3 receiver gets the push type byte instead of the array's).
   */
  #deliverAll(
    receivers: Set<Client>,
    kind: string,
    pattern: string | null,
    channel: string,
    message: string,
  ): void {
    if (receivers.size <= 1) {
      for (const c of receivers) {
        if (c.closed) continue;
        const r = c.reply;
        r.push(pattern === null ? 3 : 4);
        r.bulk(kind);
        if (pattern !== null) r.bulk(pattern);
        r.bulk(channel);
        r.bulk(message);
        this.#delivered(c);
      }
      return;
    }
    const w = this.#encoder;
    w.len = 0;
    w.array(pattern === null ? 3 : 4);
    w.bulk(kind);
    if (pattern !== null) w.bulk(pattern);
    w.bulk(channel);
    w.bulk(message);
    const frame = w.buf.subarray(0, w.len);
    for (const c of receivers) {
      if (c.closed) continue;
      const r = c.reply;
      const at = r.len;
      r.raw(frame);
      if (r.resp === 3) r.buf[at] = 62; // ">": the RESP3 push form
      this.#delivered(c);
    }
  }

  #pendingClose: Client[] = [];

  /** A message was appended to a receiver's output: flush it, watch its limit. */
  #delivered(c: Client): void {
    c.scheduleFlush();
    if (this.#overLimit(c)) this.#pendingClose.push(c);
  }

  /** Redis's checkClientOutputBufferLimits for the pubsub class. */
  #overLimit(c: Client): boolean {
    const { hard, soft, softSeconds } = this.limit;
    const used = c.pendingOutput;
    if (hard > 0 && used >= hard) return true;
    if (soft > 0 && used >= soft) {
      const now = Date.now();
      const since = this.#softSince.get(c);
      if (since === undefined) {
        this.#softSince.set(c, now);
        return false;
      }
      return now - since > softSeconds * 1000;
    }
    if (this.#softSince.size > 0) this.#softSince.delete(c);
    return false;
  }

  #enforceLimits(): void {
    if (this.#pendingClose.length === 0) return;
    const victims = this.#pendingClose;
    this.#pendingClose = [];
    for (const c of victims) {
      if (c.closed) continue;
      this.server.log(
        "warning",
        `Client id=${c.id} addr=${c.addr} name=${c.name} scheduled to be closed ASAP for overcoming of output buffer limits.`,
      );
      c.close();
    }
  }

  /** Cron: subscribers over the soft limit for too long are closed even without traffic. */
  cron(): void {
    if (this.#softSince.size === 0) return;
    for (const c of this.#softSince.keys()) {
      if (c.closed) this.#softSince.delete(c);
      else if (this.#overLimit(c)) this.#pendingClose.push(c);
    }
    this.#enforceLimits();
  }

  /** Forgets a closing client's subscriptions. */
  forget(c: Client): void {
    this.#softSince.delete(c);
    for (const ch of c.channels) removeFrom(this.channels, ch, c);
    for (const p of c.patterns) removeFrom(this.patterns, p, c);
    for (const ch of c.shardChannels) removeFrom(this.shardChannels, ch, c);
    c.channels.clear();
    c.patterns.clear();
    c.shardChannels.clear();
  }

  /** Sends the keyspace notification for an event (Redis's notifyKeyspaceEvent). */
  notify(type: string, event: string, key: string, dbId: number): void {
    const flags = this.notifyFlags;
    if (flags === 0 || !(flags & (NOTIFY[type[0]] ?? 0))) return;
    if (flags & NOTIFY.K) this.publish(`__keyspace@${dbId}__:${key}`, event);
    if (flags & NOTIFY.E) this.publish(`__keyevent@${dbId}__:${event}`, key);
  }
}

function removeFrom(map: Map<string, Set<Client>>, name: string, c: Client): void {
  const set = map.get(name);
  if (set === undefined) return;
  set.delete(c);
  if (set.size === 0) map.delete(name);
}

const registries = new WeakMap<Server, PubSub>();

/** The pub/sub state of a server (created on first use). */
export function pubsubOf(server: Server): PubSub {
  let p = registries.get(server);
  if (p === undefined) {
    p = new PubSub(server);
    registries.set(server, p);
  }
  return p;
}

/** Parses the pubsub class out of the client-output-buffer-limit value. */
function parsePubsubLimit(value: string): ObufLimit | null {
  const words = value.split(" ");
  const i = words.indexOf("pubsub");
  if (i < 0) return null;
  const [hard, soft, secs] = words.slice(i + 1, i + 4).map(Number);
  return { hard, soft, softSeconds: secs };
}

/** Installs pub/sub on a server: notifications, RESET and disconnect cleanup, limits. */
export function installPubSub(server: Server): void {
  const ps = pubsubOf(server);
  const refresh = () => {
    const flags = Math.max(0, configuredFlags(server.config.get("notify-keyspace-events")));
    ps.notifyFlags = flags;
    server.notifying = flags !== 0;
    // Redis's dbAdd "new" and lookupKey "keymiss" events: hooks only when subscribed to
    // by the configuration, so the keyspace pays nothing otherwise
    const events = flags & (NOTIFY.K | NOTIFY.E);
    server.keyAdded = events && (flags & NOTIFY.n)
      ? (db, key) => {
        if (!server.loading) ps.notify("n", "new", key, db.id);
      }
      : undefined;
    server.keyMiss = events && (flags & NOTIFY.m)
      ? (db, key) => ps.notify("m", "keymiss", key, db.id)
      : undefined;
    ps.limit = parsePubsubLimit(server.config.get("client-output-buffer-limit")) ?? ps.limit;
  };
  refresh();
  server.config.onChange((name) => {
    if (name === "notify-keyspace-events" || name === "client-output-buffer-limit") refresh();
  });
  server.notify = (type, event, key, dbId) => ps.notify(type, event, key, dbId);
  server.closeHooks.push((c) => ps.forget(c));
  server.resetHooks.push((c) => ps.forget(c));
  server.cronHooks.push(() => ps.cron());
}

/** Drops every subscription of a client without replies (RESET). */
export function unsubscribeAll(c: Client): void {
  pubsubOf(c.server).forget(c);
}
