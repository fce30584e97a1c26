/**
 * The keyspace of one database (Redis: db.c): keys, values, expiry, lazy expiration,
 * WATCH invalidation and the blocking "key ready" signal. Keys are binary strings.
 *
 * Every command that reads a key uses lookupRead(); every command that is about to
 * change a key (in place or by replacing it) uses lookupWrite() first, which expires
 * it if needed and lets a running snapshot save the old version (copy-on-write).
 */

import { bytesToBinary, writeBinary } from "../resp/bytes.ts";

/** A non-string value type (list, hash, set, zset, stream). */
export interface TypedValue {
  /** The name TYPE prints. */
  readonly type: "list" | "hash" | "set" | "zset" | "stream";
  /** The name OBJECT ENCODING prints. */
  encoding(): string;
}

/** A stored value: a binary string for the string type, an object otherwise. */
export type Value = string | TypedValue;

/** One key's slot in the keyspace. */
export class Entry {
  #value: Value;
  /**
   * A mutable byte image of a string value that bit commands edit in place; the string
   * is rebuilt from it on the next read, so SETBIT on a big bitmap costs O(1) instead
   * of copying the whole (immutable) JS string.
   */
  #bytes: Uint8Array | null = null;
  #length = 0;
  /** the bytes changed since #value was last built */
  #stale = false;
  /** absolute unix ms, 0 = no expiry */
  expireAt = 0;
  /** position in Db.#keys (for RANDOMKEY and SCAN) */
  slot = -1;
  /** position in Db.#volatile, -1 when no expiry */
  vslot = -1;
  /** last access, seconds (OBJECT IDLETIME) */
  lru: number;
  /**
   * access frequency counter (OBJECT FREQ under LFU policies): Redis's logarithmic
   * counter, starting at LFU_INIT_VAL (5)
   */
  freq = 5;
  /** set when an APPEND/SETRANGE made a raw string (OBJECT ENCODING) */
  raw = false;
  /** set when a numeric string is stored unencoded (INCRBYFLOAT results: "embstr") */
  noInt = false;
  /** bytes this key counts for in Db.memBytes (maintained only under maxmemory) */
  mem = 0;
  constructor(value: Value, now: number) {
    this.#value = value;
    this.lru = now;
  }

  /** The stored value (a string edited through editBytes() is rebuilt first). */
  get value(): Value {
    if (this.#stale) {
      this.#value = bytesToBinary(this.#bytes!, 0, this.#length);
      this.#stale = false;
    }
    return this.#value;
  }

  set value(v: Value) {
    this.#value = v;
    this.#bytes = null;
    this.#stale = false;
  }

  /** True when the value is a string (without rebuilding an edited one). */
  holdsString(): boolean {
    return typeof this.#value === "string";
  }

  /** Length in bytes of a string value (without rebuilding an edited one). */
  get stringLength(): number {
    return this.#stale ? this.#length : (this.#value as string).length;
  }

  /** Byte `i` of a string value, 0 past its end (without rebuilding an edited one). */
  byteAt(i: number): number {
    if (this.#stale) return i < this.#length ? this.#bytes![i] : 0;
    const s = this.#value as string;
    return i < s.length ? s.charCodeAt(i) : 0;
  }

  /**
   * The bytes of a string value for editing in place, zero-padded to at least
   * `minLength` bytes. The caller must write only inside the returned view; the
   * string value is rebuilt from it when next read.
   */
  editBytes(minLength: number): Uint8Array {
    if (this.#bytes === null) {
      const s = this.#value as string;
      const length = Math.max(minLength, s.length);
      this.#bytes = new Uint8Array(length + (length >> 3) + 16);
      writeBinary(this.#bytes, 0, s);
      this.#length = s.length;
    }
    if (minLength > this.#length) {
      if (minLength > this.#bytes.length) {
        const grown = new Uint8Array(Math.max(minLength, this.#bytes.length * 2));
        grown.set(this.#bytes.subarray(0, this.#length));
        this.#bytes = grown;
      }
      this.#length = minLength;
    }
    this.#stale = true;
    return this.#bytes.subarray(0, this.#length);
  }
}

/** What a Db needs from the server around it. */
export interface KeyspaceHost {
  /** true on a replica: keys are never expired locally, only hidden */
  readonly isReplica: boolean;
  /**
   * non-null during CLIENT PAUSE: reads hide expired keys without deleting them, so the
   * dataset stays static (Redis: checkClientPauseTimeoutAndReturnIfPaused)
   */
  readonly pause?: unknown;
  /**
   * true while a command from our primary runs on a replica: logically expired keys
   * are not hidden from it (Redis: expireIfNeeded exempts the master client)
   */
  readonly masterExecuting?: boolean;
  /** current unix time in ms (cached per command like Redis's mstime cache) */
  now(): number;
  /**
   * true under an LFU maxmemory-policy: only then do accesses update the LFU counter
   * (Redis's updateLFU runs only with MAXMEMORY_FLAG_LFU)
   */
  readonly lfuPolicy?: boolean;
  /** a key expired: propagate DEL, notify "expired", count it */
  keyExpired(db: Db, key: string): void;
  /** a key is about to change; snapshots copy it first */
  beforeKeyChange?(db: Db, key: string, entry: Entry | undefined): void;
  /** WATCH bookkeeping: the key changed */
  keyModified(db: Db, key: string): void;
  /** blocking bookkeeping: the key was created (lists, zsets, streams can serve) */
  keyReady(db: Db, key: string): void;
  /** a key was created (the "new" keyspace notification), when the host wants it */
  keyAdded?(db: Db, key: string): void;
  /** a read found no key (the "keymiss" keyspace notification), when the host wants it */
  keyMiss?(db: Db, key: string): void;
  /** true while some snapshot needs beforeKeyChange calls */
  readonly cowActive: boolean;
  /**
   * maxmemory accounting (src/evict.ts): sizes a key for Db.memBytes, or null when
   * memory is not accounted
   */
  readonly keySizer?: ((key: string, e: Entry) => number) | null;
  /** keyspace_hits / keyspace_misses counters (INFO stats), when the host keeps them */
  readonly stats?: { keyspaceHits: number; keyspaceMisses: number };
}

function isStream(v: Value): boolean {
  return typeof v !== "string" && v.type === "stream";
}

/** One numbered database. */
export class Db {
  readonly id: number;
  readonly host: KeyspaceHost;
  dict = new Map<string, Entry>();
  #keys: string[] = [];
  #volatile: string[] = [];
  /** clients WATCHing each key (values are opaque to the keyspace) */
  watched = new Map<string, Set<{ dirtyCas: boolean }>>();
  /** avg_ttl estimate for INFO keyspace */
  avgTtl = 0;
  /** sum of Entry.mem: the dataset's bytes while maxmemory accounting is on */
  memBytes = 0;

  constructor(id: number, host: KeyspaceHost) {
    this.id = id;
    this.host = host;
  }

  /** Number of keys (including logically expired ones not yet removed). */
  get size(): number {
    return this.dict.size;
  }

  /** Number of keys with an expiry. */
  get volatileCount(): number {
    return this.#volatile.length;
  }

  /**
   * Entry for reading: undefined when missing or logically expired. Counts
   * keyspace_hits / keyspace_misses and updates the access time, like Redis's
   * lookupKeyRead.
   */
  lookupRead(key: string): Entry | undefined {
    const e = this.dict.get(key);
    const stats = this.host.stats;
    if (e === undefined) {
      if (stats) stats.keyspaceMisses++;
      this.host.keyMiss?.(this, key);
      return undefined;
    }
    if (e.expireAt !== 0 && e.expireAt <= this.host.now() && !this.host.masterExecuting) {
      if (stats) stats.keyspaceMisses++;
      if (!this.host.isReplica && !this.host.pause) this.#expire(key);
      this.host.keyMiss?.(this, key);
      return undefined;
    }
    if (stats) stats.keyspaceHits++;
    this.#touch(e);
    return e;
  }

  /**
   * Records an access (Redis: lookupKey without NOTOUCH): the LRU clock, and under an
   * LFU policy the LFU counter.
   */
  #touch(e: Entry): void {
    e.lru = this.host.now() / 1000 | 0;
    // LFULogIncr with lfu-log-factor 10 (decay over time is not modelled)
    if (
      this.host.lfuPolicy === true && e.freq < 255 &&
      (e.freq <= 5 || Math.random() * ((e.freq - 5) * 10 + 1) < 1)
    ) e.freq++;
  }

  /** Value for reading, or undefined. */
  get(key: string): Value | undefined {
    return this.lookupRead(key)?.value;
  }

  /** Entry for writing: expires the key if due, and notifies snapshots. */
  lookupWrite(key: string): Entry | undefined {
    const e = this.dict.get(key);
    if (e !== undefined && e.expireAt !== 0 && e.expireAt <= this.host.now()) {
      // a replica keeps the key for its primary's commands, but a write by one of its
      // own clients (writable replica) expires it (Redis: EXPIRE_FORCE_DELETE_EXPIRED)
      if (!this.host.masterExecuting) {
        this.#expire(key);
        if (this.host.cowActive) this.host.beforeKeyChange?.(this, key, undefined);
        return undefined;
      }
    }
    if (this.host.cowActive) this.host.beforeKeyChange?.(this, key, e);
    if (e !== undefined) this.#touch(e);
    return e;
  }

  /** True if the key exists (and is not logically expired). */
  exists(key: string): boolean {
    return this.lookupRead(key) !== undefined;
  }

  /**
   * Sets key to value (Redis's setKey): replaces any old value and clears the expiry
   * unless keepTtl. Signals blocked clients when a collection is created. WATCH
   * invalidation, dirty counting and notifications are the command's job
   * (Client.modified), as in Redis.
   */
  set(key: string, value: Value, keepTtl = false): Entry {
    const e = this.lookupWrite(key);
    if (e !== undefined) {
      if (!e.holdsString() && isStream(e.value)) this.host.keyReady(this, key);
      e.value = value;
      e.raw = false;
      e.noInt = false;
      if (!keepTtl && e.expireAt !== 0) this.#clearExpire(key, e);
      return e;
    }
    return this.add(key, value);
  }

  /** Adds a key that the caller knows does not exist (after lookupWrite). */
  add(key: string, value: Value): Entry {
    const e = this.#insert(key, value);
    if (typeof value !== "string") this.host.keyReady(this, key);
    this.host.keyAdded?.(this, key);
    return e;
  }

  #insert(key: string, value: Value): Entry {
    const e = new Entry(value, this.host.now() / 1000 | 0);
    e.slot = this.#keys.length;
    this.#keys.push(key);
    this.dict.set(key, e);
    const sizer = this.host.keySizer;
    if (sizer) this.memBytes += e.mem = sizer(key, e);
    return e;
  }

  /** Deletes a key; returns true if it existed (and was not logically expired). */
  delete(key: string): boolean {
    const e = this.lookupWrite(key);
    if (e === undefined) return false;
    this.#remove(key, e);
    return true;
  }

  /** Removes a key unconditionally (no expiry check, no notifications). */
  #remove(key: string, e: Entry): void {
    if (e.vslot >= 0) this.#clearExpire(key, e);
    const last = this.#keys.pop()!;
    if (last !== key) {
      this.#keys[e.slot] = last;
      this.dict.get(last)!.slot = e.slot;
    }
    this.dict.delete(key);
    this.memBytes -= e.mem;
    // clients blocked in XREADGROUP on a deleted stream are woken to get an error
    if (!e.holdsString() && isStream(e.value)) this.host.keyReady(this, key);
  }

  /** Removes a key whose value the caller already checked (e.g. an emptied list). */
  deleteEntry(key: string): void {
    const e = this.dict.get(key);
    if (e !== undefined) this.#remove(key, e);
  }

  #expire(key: string): void {
    const e = this.dict.get(key)!;
    this.#remove(key, e);
    this.host.keyExpired(this, key);
  }

  /** Sets an absolute expiry in unix ms on an existing key. */
  setExpire(key: string, e: Entry, at: number): void {
    e.expireAt = at;
    if (e.vslot < 0) {
      e.vslot = this.#volatile.length;
      this.#volatile.push(key);
    }
  }

  /** Removes the expiry of an existing key; true if it had one. */
  persist(key: string, e: Entry): boolean {
    if (e.expireAt === 0) return false;
    this.#clearExpire(key, e);
    return true;
  }

  #clearExpire(key: string, e: Entry): void {
    e.expireAt = 0;
    const last = this.#volatile.pop()!;
    if (last !== key) {
      this.#volatile[e.vslot] = last;
      this.dict.get(last)!.vslot = e.vslot;
    }
    e.vslot = -1;
  }

  /** A random key (may be logically expired; RANDOMKEY retries), or undefined. */
  randomKey(): string | undefined {
    if (this.#keys.length === 0) return undefined;
    return this.#keys[Math.floor(Math.random() * this.#keys.length)];
  }

  /** A random key with an expiry, for the active expire cycle. */
  randomVolatileKey(): string | undefined {
    if (this.#volatile.length === 0) return undefined;
    return this.#volatile[Math.floor(Math.random() * this.#volatile.length)];
  }

  /**
   * One step of SCAN. Keys are visited from the end of the slot array down; removal
   * moves the last key into the freed slot, so a key present for the whole scan is
   * always returned (possibly twice), as SCAN guarantees.
   */
  scan(cursor: number, count: number, visit: (key: string) => void): number {
    let pos = cursor === 0 ? this.#keys.length : Math.min(cursor - 1, this.#keys.length);
    let n = 0;
    while (pos > 0 && n < count) {
      pos--;
      visit(this.#keys[pos]);
      n++;
    }
    return pos === 0 ? 0 : pos + 1;
  }

  /** All keys (KEYS, DEBUG, snapshots): the live slot array, not a copy. */
  keyList(): readonly string[] {
    return this.#keys;
  }

  /** Removes every key. Returns how many there were. */
  clear(): number {
    const n = this.dict.size;
    this.dict = new Map();
    this.#keys = [];
    this.#volatile = [];
    this.memBytes = 0;
    return n;
  }

  /** Active expiry: samples keys with a TTL and removes expired ones. */
  activeExpireCycle(deadline: number): number {
    let expired = 0;
    const now = this.host.now();
    for (;;) {
      if (this.#volatile.length === 0) return expired;
      let sampled = 0;
      let hits = 0;
      let ttlSum = 0;
      let ttlN = 0;
      for (; sampled < 20 && this.#volatile.length > 0; sampled++) {
        const key = this.randomVolatileKey()!;
        const e = this.dict.get(key)!;
        if (e.expireAt <= now) {
          this.#expire(key);
          hits++;
          expired++;
        } else {
          ttlSum += e.expireAt - now;
          ttlN++;
        }
      }
      if (ttlN > 0) {
        const avg = ttlSum / ttlN;
        this.avgTtl = this.avgTtl === 0 ? avg : (this.avgTtl / 50) * 49 + avg / 50;
      }
      // keep going while more than 10% of the sample was expired, within the time slice
      if (hits * 10 <= sampled || performance.now() > deadline) return expired;
    }
  }

  /** Swaps the contents of two databases (SWAPDB). Watchers stay with their db. */
  swapWith(other: Db): void {
    [this.dict, other.dict] = [other.dict, this.dict];
    [this.#keys, other.#keys] = [other.#keys, this.#keys];
    [this.#volatile, other.#volatile] = [other.#volatile, this.#volatile];
    [this.avgTtl, other.avgTtl] = [other.avgTtl, this.avgTtl];
    [this.memBytes, other.memBytes] = [other.memBytes, this.memBytes];
  }
}
