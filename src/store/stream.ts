/**
 * The stream value type (Redis: t_stream.c / stream.h): entries kept in order of their
 * IDs in a list of small sorted chunks (Redis keeps listpacks in a radix tree), so that
 * appending, seeking to an ID and reading a small range cost O(log n) at any size.
 * Consumer groups keep their pending entries lists in the same structure.
 *
 * IDs are two unsigned 64-bit parts. Each part is a JS number while it is a safe
 * integer and a bigint beyond (so "18446744073709551615-18446744073709551615" is
 * exact); the normal form makes `===` equality valid, and `<` compares mixed parts
 * exactly.
 */
import type { TypedValue } from "./db.ts";

/** One part of a stream ID: a safe integer as a number, anything larger as a bigint. */
export type IdPart = number | bigint;

/** A stream entry ID (ms-seq). Treated as immutable. */
export interface StreamId {
  readonly ms: IdPart;
  readonly seq: IdPart;
}

/** 2^64 - 1, the largest value of an ID part. */
export const U64_MAX = 18446744073709551615n;
/** 0-0 */
export const ZERO_ID: StreamId = { ms: 0, seq: 0 };
/** The largest ID (what "+" means). */
export const MAX_ID: StreamId = { ms: U64_MAX, seq: U64_MAX };

/** A part in normal form (number when safe). */
export function normPart(v: bigint): IdPart {
  return v <= 9007199254740991n ? Number(v) : v;
}

function incPart(p: IdPart): IdPart {
  if (typeof p === "number" && p < 9007199254740991) return p + 1;
  return normPart(BigInt(p) + 1n);
}

function decPart(p: IdPart): IdPart {
  if (typeof p === "number") return p - 1;
  return normPart(p - 1n);
}

/** Compares two IDs: negative, 0 or positive. */
export function cmpId(a: StreamId, b: StreamId): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

/** True for 0-0. */
export function isZeroId(id: StreamId): boolean {
  return id.ms === 0 && id.seq === 0;
}

/** The "ms-seq" text of an ID. */
export function formatId(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

/** The next ID (Redis's streamIncrID), or null past the largest ID. */
export function incrId(id: StreamId): StreamId | null {
  if (id.seq === U64_MAX) {
    if (id.ms === U64_MAX) return null;
    return { ms: incPart(id.ms), seq: 0 };
  }
  return { ms: id.ms, seq: incPart(id.seq) };
}

/** The previous ID (Redis's streamDecrID), or null before 0-0. */
export function decrId(id: StreamId): StreamId | null {
  if (id.seq === 0) {
    if (id.ms === 0) return null;
    return { ms: decPart(id.ms), seq: normPart(U64_MAX) };
  }
  return { ms: id.ms, seq: decPart(id.seq) };
}

/** Parses an unsigned 64-bit part like Redis's string2ull; null when invalid. */
export function parseU64(s: string): IdPart | null {
  if (/^(0|[1-9][0-9]{0,15})$/.test(s)) return Number(s);
  // strtoull fallback: leading spaces, a sign, leading zeros; negative values wrap
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/.exec(s);
  if (m === null) return null;
  let v = BigInt(m[2]);
  if (v > U64_MAX) return null;
  if (m[1] === "-") {
    // string2ll accepts canonical negatives first and Redis rejects them
    if (/^-[1-9][0-9]*$/.test(s) && v <= 9223372036854775808n) return null;
    v = v === 0n ? 0n : (1n << 64n) - v;
  }
  return normPart(v);
}

const CHUNK_SPLIT = 128;

/** One node of an IdIndex (for streams: one Redis listpack node). */
export interface Chunk<V> {
  ids: StreamId[];
  vals: V[];
  /** entries ever appended to this chunk (Redis counts deleted ones for node fullness) */
  appended: number;
  /** the listpack size Redis would have for this node (stream-node-max-bytes) */
  bytes: number;
  /** stream nodes: the master entry (first ID and its field names) */
  master?: { id: StreamId; fields: string[] };
}

/** A position in an IdIndex. */
interface Pos {
  c: number;
  i: number;
}

/**
 * An ordered map from stream IDs to values, stored as a list of sorted chunks.
 * Lookups and inserts binary-search the chunk list, then the chunk.
 */
export class IdIndex<V> {
  chunks: Chunk<V>[] = [];
  size = 0;

  /** The first position whose ID is >= id (c === chunks.length when none). */
  #lowerBound(id: StreamId): Pos {
    const chunks = this.chunks;
    let lo = 0;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const ids = chunks[mid].ids;
      if (cmpId(ids[ids.length - 1], id) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo === chunks.length) return { c: lo, i: 0 };
    const ids = chunks[lo].ids;
    let a = 0;
    let b = ids.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (cmpId(ids[mid], id) < 0) a = mid + 1;
      else b = mid;
    }
    return { c: lo, i: a };
  }

  /** The value stored at id, or undefined. */
  get(id: StreamId): V | undefined {
    const p = this.#lowerBound(id);
    const chunk = this.chunks[p.c];
    if (chunk === undefined || cmpId(chunk.ids[p.i], id) !== 0) return undefined;
    return chunk.vals[p.i];
  }

  /** True when id is present. */
  has(id: StreamId): boolean {
    return this.get(id) !== undefined;
  }

  /** The smallest ID and its value. */
  first(): [StreamId, V] | undefined {
    const c = this.chunks[0];
    return c === undefined ? undefined : [c.ids[0], c.vals[0]];
  }

  /** The largest ID and its value. */
  last(): [StreamId, V] | undefined {
    const c = this.chunks[this.chunks.length - 1];
    return c === undefined ? undefined : [c.ids[c.ids.length - 1], c.vals[c.vals.length - 1]];
  }

  /** Appends an entry whose ID is larger than every stored ID, in a new chunk if full. */
  append(id: StreamId, v: V): void {
    const chunk = this.chunks[this.chunks.length - 1];
    if (chunk === undefined || chunk.ids.length >= CHUNK_SPLIT) this.pushChunk().ids.push(id);
    else chunk.ids.push(id);
    const last = this.chunks[this.chunks.length - 1];
    last.vals.push(v);
    last.appended++;
    this.size++;
  }

  /** Starts a new last chunk (the next append goes there). */
  pushChunk(): Chunk<V> {
    const chunk: Chunk<V> = { ids: [], vals: [], appended: 0, bytes: 0 };
    this.chunks.push(chunk);
    return chunk;
  }

  /** Inserts or replaces the value at id. Returns true when it was inserted. */
  set(id: StreamId, v: V): boolean {
    const lastChunk = this.chunks[this.chunks.length - 1];
    if (lastChunk === undefined || cmpId(lastChunk.ids[lastChunk.ids.length - 1], id) < 0) {
      this.append(id, v);
      return true;
    }
    const p = this.#lowerBound(id);
    const chunk = this.chunks[p.c];
    if (cmpId(chunk.ids[p.i], id) === 0) {
      chunk.vals[p.i] = v;
      return false;
    }
    chunk.ids.splice(p.i, 0, id);
    chunk.vals.splice(p.i, 0, v);
    chunk.appended++;
    this.size++;
    if (chunk.ids.length > CHUNK_SPLIT * 2) {
      const half = chunk.ids.length >>> 1;
      const right: Chunk<V> = {
        ids: chunk.ids.splice(half),
        vals: chunk.vals.splice(half),
        appended: 0,
        bytes: 0,
      };
      right.appended = right.ids.length;
      chunk.appended = chunk.ids.length;
      this.chunks.splice(p.c + 1, 0, right);
    }
    return true;
  }

  /** Removes id; returns true when it was present. */
  delete(id: StreamId): boolean {
    const p = this.#lowerBound(id);
    const chunk = this.chunks[p.c];
    if (chunk === undefined || cmpId(chunk.ids[p.i], id) !== 0) return false;
    this.#removeAt(p);
    return true;
  }

  #removeAt(p: Pos): void {
    const chunk = this.chunks[p.c];
    if (chunk.ids.length === 1) this.chunks.splice(p.c, 1);
    else if (p.i === 0) {
      chunk.ids.shift();
      chunk.vals.shift();
    } else {
      chunk.ids.splice(p.i, 1);
      chunk.vals.splice(p.i, 1);
    }
    this.size--;
  }

  /** Removes the first entry (trimming). */
  removeFirst(): void {
    if (this.chunks.length > 0) this.#removeAt({ c: 0, i: 0 });
  }

  /** Number of entries in the first chunk (approximate trimming removes whole chunks). */
  firstChunkSize(): number {
    return this.chunks[0]?.ids.length ?? 0;
  }

  /** The last ID of the first chunk. */
  firstChunkLastId(): StreamId | undefined {
    const c = this.chunks[0];
    return c === undefined ? undefined : c.ids[c.ids.length - 1];
  }

  /** Removes the whole first chunk. */
  removeFirstChunk(): void {
    const c = this.chunks.shift();
    if (c !== undefined) this.size -= c.ids.length;
  }

  /** Iterates entries with start <= id <= end, ascending (or descending when rev). */
  *range(start: StreamId, end: StreamId, rev = false): Generator<[StreamId, V]> {
    if (cmpId(start, end) > 0) return;
    if (!rev) {
      let { c, i } = this.#lowerBound(start);
      while (c < this.chunks.length) {
        const chunk = this.chunks[c];
        if (i >= chunk.ids.length) {
          c++;
          i = 0;
          continue;
        }
        const id = chunk.ids[i];
        if (cmpId(id, end) > 0) return;
        yield [id, chunk.vals[i]];
        // the consumer may have deleted the yielded entry: re-seek past it
        if (chunk.ids[i] !== id || this.chunks[c] !== chunk) {
          const next = incrId(id);
          if (next === null) return;
          ({ c, i } = this.#lowerBound(next));
        } else i++;
      }
      return;
    }
    const after = incrId(end);
    let c: number;
    let i: number;
    if (after === null) {
      c = this.chunks.length - 1;
      i = c >= 0 ? this.chunks[c].ids.length - 1 : -1;
    } else {
      ({ c, i } = this.#lowerBound(after));
      i--;
    }
    while (c >= 0) {
      const chunk = this.chunks[c];
      if (chunk === undefined || i < 0) {
        c--;
        i = c >= 0 ? this.chunks[c].ids.length - 1 : -1;
        continue;
      }
      const id = chunk.ids[i];
      if (cmpId(id, start) < 0) return;
      yield [id, chunk.vals[i]];
      i--;
    }
  }

  /** Every entry in order. */
  *entries(): Generator<[StreamId, V]> {
    for (const chunk of this.chunks) {
      for (let i = 0; i < chunk.ids.length; i++) yield [chunk.ids[i], chunk.vals[i]];
    }
  }
}

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

/** Bytes of a listpack string element (strings that are integers are stored as such). */
function lpStrSize(s: string): number {
  if (s.length > 0 && s.length <= 20 && /^-?(0|[1-9][0-9]*)$/.test(s)) {
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

/** Listpack bytes of one entry relative to its node's master entry. */
function entrySize(
  id: StreamId,
  fields: string[],
  master: { id: StreamId; fields: string[] },
): number {
  const m = master.fields;
  let same = m.length === fields.length;
  for (let i = 0; same && i < fields.length; i += 2) same = m[i] === fields[i];
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
    node.ids.push(id);
    node.vals.push(fields);
    node.appended++;
    idx.size++;
    if (this.entries.size === 1) this.firstId = id;
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
    this.firstId = this.entries.first()?.[0] ?? ZERO_ID;
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
