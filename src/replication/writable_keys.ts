/**
 * Keys written by clients of a writable replica (Redis: slaveKeysWithExpire and
 * expireSlaveKeys). A replica never expires the keys its primary sent (the primary's
 * DEL does), but nobody would ever delete a volatile key a client wrote on the replica
 * itself, so those are remembered and expired by the replica's own cron.
 */
import type { Server } from "../server.ts";
import type { Db } from "../store/db.ts";

/** Tracks keys modified by the replica's own clients while it is a replica. */
export class WritableReplicaKeys {
  readonly #server: Server;
  readonly #keys = new Map<Db, Set<string>>();
  #original: Server["keyModified"] | null = null;

  constructor(server: Server) {
    this.#server = server;
  }

  /**
   * Starts watching writes (becoming a replica). Server.keyModified is wrapped on the
   * instance only while the server is a replica, so a primary pays nothing for it.
   */
  start(): void {
    if (this.#original !== null) return;
    const server = this.#server;
    const original = server.keyModified;
    this.#original = original;
    server.keyModified = (db, key) => {
      original.call(server, db, key);
      if (!server.masterExecuting && server.executing > 0) {
        // only a key the command left volatile counts (Redis: rememberSlaveKeyWithExpire
        // in setExpire); the TTL is set after the change, so look once the command ran
        queueMicrotask(() => {
          if (db.dict.get(key)?.expireAt) this.#remember(db, key);
        });
      }
    };
  }

  /** Stops watching and forgets every key (promotion to primary). */
  stop(): void {
    if (this.#original === null) return;
    // the instance property goes: the class method applies again
    delete (this.#server as { keyModified?: unknown }).keyModified;
    this.#original = null;
    this.#keys.clear();
  }

  #remember(db: Db, key: string): void {
    let set = this.#keys.get(db);
    if (set === undefined) this.#keys.set(db, set = new Set());
    set.add(key);
  }

  /** Number of keys remembered (tests, INFO-like introspection). */
  get size(): number {
    let n = 0;
    for (const set of this.#keys.values()) n += set.size;
    return n;
  }

  /** Expires the remembered keys whose time has come; forgets the non-volatile ones. */
  expire(): void {
    if (this.#keys.size === 0) return;
    const server = this.#server;
    const now = Date.now();
    for (const [db, set] of this.#keys) {
      for (const key of set) {
        const e = db.dict.get(key);
        if (e === undefined || e.expireAt === 0) {
          set.delete(key);
          continue;
        }
        if (e.expireAt > now) continue;
        set.delete(key);
        db.deleteEntry(key);
        server.keyExpired(db, key);
      }
      if (set.size === 0) this.#keys.delete(db);
    }
  }
}
