/**
 * The stream value type (Redis: t_stream.c / stream.h): entries in an IdIndex whose
 * chunks are Redis's listpack nodes (filled by the same byte and entry limits, so
 * approximate trimming removes what Redis removes), consumer groups with their pending
 * entries lists, and the plain-data model used by RDB save/load.
 */
import type { TypedValue } from "./db.ts";
import {
  cmpId,
  formatId,
  IdIndex,
  type IdPart,
  isZeroId,
  MAX_ID,
  type StreamId,
  ZERO_ID,
} from "./stream_index.ts";

export * from "./stream_index.ts";
/** A pending entry (Redis's streamNACK): delivered, not yet acknowledged. */
export interface Nack {
  /** unix ms of the last delivery */
  deliveryTime: number;
  deliveryCount: number;
  consumer: Consumer;
}

/** A consumer of a group. */
export class Consumer {
  readonly name: string;
  /** unix ms of the last interaction (XINFO CONSUMERS idle) */
  seenTime: number;
  /** this consumer's pending entries (shared Nack objects with the group PEL) */
  readonly pel = new IdIndex<Nack>();
  constructor(name: string, seenTime: number) {
    this.name = name;
    this.seenTime = seenTime;
  }
}

/** Redis's SCG_INVALID_ENTRIES_READ */
export const INVALID_ENTRIES_READ = -1;

/** A consumer group. */
export class ConsumerGroup {
  readonly name: string;
  lastId: StreamId;
  /** logical read counter, or INVALID_ENTRIES_READ */
  entriesRead: number;
  readonly pel = new IdIndex<Nack>();
  readonly consumers = new Map<string, Consumer>();
  constructor(name: string, lastId: StreamId, entriesRead: number) {
    this.name = name;
    this.lastId = lastId;
    this.entriesRead = entriesRead;
  }

  /** Consumers sorted by name (Redis keeps them in a radix tree). */
  sortedConsumers(): Consumer[] {
    return [...this.consumers.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0
    );
  }
}

/**
 * Plain-data form of a stream, for RDB save/load (Redis 7.0 RDB_TYPE_STREAM_LISTPACKS_2
 * fields). IDs are StreamId ({ms, seq}; parts are numbers, or bigints above 2^53).
 */
export interface StreamModel {
  /** entries in ID order: fields is the flat field/value list */
  entries: Array<{ id: StreamId; fields: string[] }>;
  /** number of entries (equals entries.length) */
  length: number;
  lastId: StreamId;
  /** entries ever added (XINFO entries-added) */
  entriesAdded: number;
  maxDeletedEntryId: StreamId;
  /** recorded first entry ID (0-0 when empty) */
  firstId: StreamId;
  groups: Array<{
    name: string;
    lastDeliveredId: StreamId;
    /** -1 when unknown */
    entriesRead: number;
    /**
     * the group PEL in ID order; consumer is the owner's name (optional on input: the
     * consumers' pel lists give the owners, as in the RDB format)
     */
    pel: Array<{ id: StreamId; deliveryTime: number; deliveryCount: number; consumer?: string }>;
    /** consumers sorted by name; pel lists the IDs each one owns (all in the group PEL) */
    consumers: Array<{ name: string; seenTime: number; pel: StreamId[] }>;
  }>;
}

/** Bytes of a listpack integer element (encoding plus back-length). */
function lpIntSize(v: number): number {
  if (v >= 0 && v <= 127) return 2;
  if (v >= -4096 && v <= 4095) return 3;
  if (v >= -32768 && v <= 32767) return 4;
  if (v >= -8388608 && v <= 8388607) return 5;
  if (v >= -2147483648 && v <= 2147483647) return 6;
  return 10;
}

function backlenSize(l: number): number {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

/** True for what Redis's string2ll accepts: a canonical base-10 integer ("-0" is not). */
function isCanonicalInteger(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 20) return false;
  let i = s.charCodeAt(0) === 45 ? 1 : 0;
  if (i === n) return false;
  if (s.charCodeAt(i) === 48) return n === 1;
  for (; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
  }
  return true;
}

/** Bytes of a listpack string element (strings that are integers are stored as such). */
function lpStrSize(s: string): number {
  if (isCanonicalInteger(s)) {
    const n = Number(s);
    if (Number.isSafeInteger(n)) return lpIntSize(n);
    if (BigInt(s) >= -9223372036854775808n && BigInt(s) <= 9223372036854775807n) return 10;
  }
  const l = s.length;
  const enc = (l < 64 ? 1 : l < 4096 ? 2 : 5) + l;
  return enc + backlenSize(enc);
}

function partDiff(a: IdPart, b: IdPart): number {
  return typeof a === "number" && typeof b === "number" ? a - b : Number(BigInt(a) - BigInt(b));
}

/** Sum of the lengths of fields and values (Redis's totelelen). */
function payloadLength(fields: string[]): number {
  let n = 0;
  for (const f of fields) n += f.length;
  return n;
}

/** Listpack bytes of a new node holding only its master entry. */
function masterEntrySize(fields: string[]): number {
  let n = 7 + lpIntSize(1) + lpIntSize(0) + lpIntSize(fields.length / 2) + lpIntSize(0);
  for (let i = 0; i < fields.length; i += 2) n += lpStrSize(fields[i]);
  return n;
}

/**
 * Listpack bytes of one entry relative to its node's master entry. When the entry has
 * the master's field names, `fields` is made to share the master's name strings (the
 * entry's own copies are garbage at once instead of being kept, like Redis's
 * SAMEFIELDS entries that store no names).
 */
function entrySize(
  id: StreamId,
  fields: string[],
  master: { id: StreamId; fields: string[] },
): number {
  const m = master.fields;
  let same = m.length === fields.length;
  for (let i = 0; same && i < fields.length; i += 2) same = m[i] === fields[i];
  if (same && m !== fields) { for (let i = 0; i < fields.length; i += 2) fields[i] = m[i]; }
  let n = lpIntSize(same ? 2 : 0) + lpIntSize(partDiff(id.ms, master.id.ms)) +
    lpIntSize(partDiff(id.seq, master.id.seq));
  if (!same) n += lpIntSize(fields.length / 2);
  for (let i = 0; i < fields.length; i += 2) {
    if (!same) n += lpStrSize(fields[i]);
    n += lpStrSize(fields[i + 1]);
  }
  const lpCount = 3 + fields.length / 2 + (same ? 0 : 1 + fields.length / 2);
  return n + lpIntSize(lpCount);
}

/** A stream (TYPE "stream", OBJECT ENCODING "stream"). */
export class StreamValue implements TypedValue {
  readonly type = "stream" as const;
  readonly entries = new IdIndex<string[]>();
  lastId: StreamId = ZERO_ID;
  entriesAdded = 0;
  maxDeletedId: StreamId = ZERO_ID;
  /** recorded first entry ID, 0-0 when empty */
  firstId: StreamId = ZERO_ID;
  readonly groups = new Map<string, ConsumerGroup>();

  /** OBJECT ENCODING */
  encoding(): string {
    return "stream";
  }

  /** Number of entries. */
  get length(): number {
    return this.entries.size;
  }

  /** Appends an entry with an ID larger than lastId. */
  append(id: StreamId, fields: string[], maxEntries: number, maxBytes: number): void {
    // node fullness as Redis's streamAppendItem decides it, in listpack bytes
    const nodeMax = maxBytes === 0 || maxBytes > 1 << 30 ? 1 << 30 : maxBytes;
    const idx = this.entries;
    let node = idx.chunks[idx.chunks.length - 1];
    if (
      node === undefined || node.master === undefined ||
      node.bytes + payloadLength(fields) >= nodeMax ||
      (maxEntries > 0 && node.appended >= maxEntries)
    ) {
      node = idx.pushChunk();
      node.master = { id, fields };
      node.bytes = masterEntrySize(fields);
    }
    node.bytes += entrySize(id, fields, node.master!);
    idx.appendTo(node, id, fields);
    if (idx.size === 1) this.firstId = id;
    this.lastId = id;
    this.entriesAdded++;
  }

  /** Deletes one entry (XDEL); true if it existed. */
  delete(id: StreamId): boolean {
    if (!this.entries.delete(id)) return false;
    if (cmpId(id, this.maxDeletedId) > 0) this.maxDeletedId = id;
    this.updateFirstId();
    return true;
  }

  /** Recomputes the recorded first ID after removals. */
  updateFirstId(): void {
    this.firstId = this.entries.firstId() ?? ZERO_ID;
  }

  /** Consumer groups sorted by name. */
  sortedGroups(): ConsumerGroup[] {
    return [...this.groups.values()].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  }

  /** Redis's streamRangeHasTombstones. */
  rangeHasTombstones(start: StreamId | null, end: StreamId | null): boolean {
    if (this.length === 0 || isZeroId(this.maxDeletedId)) return false;
    if (cmpId(this.firstId, this.maxDeletedId) > 0) return false;
    const s = start ?? ZERO_ID;
    const e = end ?? MAX_ID;
    return cmpId(s, this.maxDeletedId) <= 0 && cmpId(this.maxDeletedId, e) <= 0;
  }

  /** Redis's streamEstimateDistanceFromFirstEverEntry. */
  estimateDistance(id: StreamId): number {
    if (this.entriesAdded === 0) return 0;
    if (this.length === 0 && cmpId(id, this.lastId) < 1) return this.entriesAdded;
    const cmpLast = cmpId(id, this.lastId);
    if (cmpLast === 0) return this.entriesAdded;
    if (cmpLast > 0) return INVALID_ENTRIES_READ;
    const cmpFirst = cmpId(id, this.firstId);
    if (isZeroId(this.maxDeletedId) || cmpId(this.maxDeletedId, this.firstId) < 0) {
      if (cmpFirst < 0) return this.entriesAdded - this.length;
      if (cmpFirst === 0) return this.entriesAdded - this.length + 1;
    }
    return INVALID_ENTRIES_READ;
  }

  /** The consumer group lag (XINFO GROUPS), or null when it cannot be known. */
  groupLag(g: ConsumerGroup): number | null {
    if (this.entriesAdded === 0) return 0;
    if (g.entriesRead !== INVALID_ENTRIES_READ && !this.rangeHasTombstones(g.lastId, null)) {
      return this.entriesAdded - g.entriesRead;
    }
    const read = this.estimateDistance(g.lastId);
    return read === INVALID_ENTRIES_READ ? null : this.entriesAdded - read;
  }

  /**
   * MEMORY USAGE estimate in Redis's terms (objectComputeSize): the listpack bytes of up
   * to `samples` nodes scaled to all nodes, radix tree nodes, and consumer group PELs.
   */
  memoryUsage(samples: number): number {
    const chunks = this.entries.chunks;
    let bytes = 16 + 88 + chunks.length * 2 * 24;
    let sampled = 0;
    let lp = 0;
    for (; sampled < chunks.length && sampled < samples; sampled++) lp += chunks[sampled].bytes;
    bytes += sampled === 0 ? 0 : chunks.length <= sampled ? lp : (lp / sampled) * chunks.length;
    for (const g of this.groups.values()) {
      bytes += 48 + g.pel.size * (24 + 40);
      for (const cons of g.consumers.values()) bytes += 48 + cons.name.length + cons.pel.size * 40;
    }
    return Math.round(bytes);
  }

  /** A deep copy (DEBUG, COPY, snapshots). */
  clone(): StreamValue {
    return StreamValue.fromModel(this.toModel());
  }

  /** The plain-data form (see StreamModel). */
  toModel(): StreamModel {
    const entries: StreamModel["entries"] = [];
    for (const [id, fields] of this.entries.entries()) entries.push({ id, fields: [...fields] });
    return {
      entries,
      length: entries.length,
      lastId: this.lastId,
      entriesAdded: this.entriesAdded,
      maxDeletedEntryId: this.maxDeletedId,
      firstId: this.firstId,
      groups: this.sortedGroups().map((g) => ({
        name: g.name,
        lastDeliveredId: g.lastId,
        entriesRead: g.entriesRead,
        pel: [...g.pel.entries()].map(([id, n]) => ({
          id,
          deliveryTime: n.deliveryTime,
          deliveryCount: n.deliveryCount,
          consumer: n.consumer.name,
        })),
        consumers: g.sortedConsumers().map((c) => ({
          name: c.name,
          seenTime: c.seenTime,
          pel: [...c.pel.entries()].map(([id]) => id),
        })),
      })),
    };
  }

  /** Rebuilds a stream from its plain-data form. */
  static fromModel(m: StreamModel): StreamValue {
    const s = new StreamValue();
    for (const e of m.entries) {
      s.append(e.id, [...e.fields], 100, 4096);
    }
    s.lastId = m.lastId;
    s.entriesAdded = m.entriesAdded;
    s.maxDeletedId = m.maxDeletedEntryId;
    s.firstId = m.firstId;
    for (const gm of m.groups) {
      const g = new ConsumerGroup(gm.name, gm.lastDeliveredId, gm.entriesRead);
      s.groups.set(g.name, g);
      const nacks = new Map<string, Nack>();
      const pending: Array<[StreamId, Nack]> = [];
      for (const p of gm.pel) {
        const nack = { deliveryTime: p.deliveryTime, deliveryCount: p.deliveryCount } as Nack;
        nacks.set(formatId(p.id), nack);
        pending.push([p.id, nack]);
        if (p.consumer !== undefined) {
          let owner = g.consumers.get(p.consumer);
          if (owner === undefined) {
            owner = new Consumer(p.consumer, p.deliveryTime);
            g.consumers.set(owner.name, owner);
          }
          nack.consumer = owner;
        }
      }
      for (const cm of gm.consumers) {
        let c = g.consumers.get(cm.name);
        if (c === undefined) {
          c = new Consumer(cm.name, cm.seenTime);
          g.consumers.set(c.name, c);
        }
        c.seenTime = cm.seenTime;
        for (const id of cm.pel) {
          const nack = nacks.get(formatId(id));
          if (nack !== undefined) nack.consumer = c;
        }
      }
      for (const [id, nack] of pending) {
        if (nack.consumer === undefined) continue;
        g.pel.set(id, nack);
        nack.consumer.pel.set(id, nack);
      }
    }
    return s;
  }
}
