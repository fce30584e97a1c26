/** MULTI/EXEC/DISCARD/WATCH/UNWATCH (Redis: multi.c). */
import type { Client } from "../client.ts";
import { cmd, type CommandSpec } from "./table.ts";
import { ERR } from "../errors.ts";
import { call } from "../dispatch.ts";
import { peekEntry } from "./keys.ts";

function multi(c: Client): void {
  if (c.multi !== null) return c.error("ERR MULTI calls can not be nested");
  c.multi = [];
  c.multiError = false;
  c.reply.simple("OK");
}

/** Leaves MULTI state and forgets watched keys (Redis's discardTransaction). */
function discardTransaction(c: Client): void {
  c.multi = null;
  c.multiError = false;
  c.server.unwatchAll(c);
}

function discard(c: Client): void {
  if (c.multi === null) return c.error("ERR DISCARD without MULTI");
  discardTransaction(c);
  c.reply.simple("OK");
}

/**
 * True if a watched key expired after WATCH (Redis 7 aborts EXEC then, even if no
 * command touched the key). Keys already expired at WATCH time do not count.
 */
function watchedKeyExpired(c: Client): boolean {
  const now = c.server.now();
  for (const w of c.watched) {
    if (w.expired) continue;
    const e = w.db.dict.get(w.key);
    if (e !== undefined && e.expireAt !== 0 && e.expireAt <= now) return true;
  }
  return false;
}

function exec(c: Client): void {
  const queue = c.multi;
  if (queue === null) return c.error("ERR EXEC without MULTI");
  const server = c.server;
  if (!c.dirtyCas && watchedKeyExpired(c)) c.dirtyCas = true;
  if (c.multiError || c.dirtyCas) {
    if (c.multiError) c.error(ERR.execAbort);
    else c.reply.nullArray();
    discardTransaction(c);
    return;
  }
  server.unwatchAll(c);
  c.multi = null;
  c.reply.array(queue.length);
  const wasInExec = server.inExec;
  server.inExec = true;
  try {
    for (const q of queue) {
      // ACL rules may have changed since queueing; the check knows it runs in EXEC
      // (server.inExec) and words its NOPERM error like Redis does there
      const denied = server.aclCheck?.(c, q.spec, q.argv) ?? null;
      if (denied !== null) {
        c.error(denied);
        continue;
      }
      call(c, q.spec, q.argv);
    }
  } finally {
    server.inExec = wasInExec;
  }
  // the queued commands were propagated one by one (wrapped in MULTI/EXEC by the
  // propagation point when there is more than one); EXEC itself is not
  c.preventPropagation = true;
  c.commandFailed = false;
}

function watch(c: Client, argv: string[]): void {
  if (c.multi !== null) return c.error("ERR WATCH inside MULTI is not allowed");
  // no point in watching more once the transaction is bound to fail
  if (c.dirtyCas) return c.reply.simple("OK");
  const db = c.db;
  for (let j = 1; j < argv.length; j++) {
    const key = argv[j];
    if (c.watched.some((w) => w.db === db && w.key === key)) continue;
    // A key already expired is removed now (on a primary), so that its later removal
    // is not mistaken for a change; on a replica it is flagged instead.
    const expired = peekEntry(db, key) === undefined && db.dict.has(key);
    let watchers = db.watched.get(key);
    if (watchers === undefined) db.watched.set(key, watchers = new Set());
    watchers.add(c);
    c.watched.push({ db, key, expired });
  }
  c.reply.simple("OK");
}

function unwatch(c: Client): void {
  c.server.unwatchAll(c);
  c.reply.simple("OK");
}

const T = { categories: ["transaction"] };

/** The transaction command specs. */
export const commands: CommandSpec[] = [
  cmd("transactions", "multi", 1, "noscript loading stale fast allow_busy", multi, T),
  cmd("transactions", "exec", 1, "noscript loading stale skip_slowlog", exec, T),
  cmd("transactions", "discard", 1, "noscript loading stale fast allow_busy", discard, T),
  cmd("transactions", "watch", -2, "noscript loading stale fast allow_busy", watch, {
    keys: [1, -1, 1],
    ...T,
  }),
  cmd("transactions", "unwatch", 1, "noscript loading stale fast allow_busy", unwatch, T),
];
