/**
 * Stream IDs and the ordered index that stores streams and pending entries lists: a
 * list of small sorted chunks (Redis keeps listpacks in a radix tree), so appending,
 * seeking to an ID and reading a small range cost O(log n) at any size.
 *
 * IDs are two unsigned 64-bit parts. Each part is a JS number while it is a safe
 * integer and a bigint beyond (so "18446744073709551615-18446744073709551615" is
 * exact); the normal form makes `===` equality valid, and `<` compares mixed parts
 * exactly.
 */
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
  // up to 15 digits is below 2^53: exact as a number
  if (/^(0|[1-9][0-9]{0,14})$/.test(s)) return Number(s);
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

/**
 * One node of an IdIndex (for streams: one Redis listpack node). IDs are kept as two
 * parallel arrays of parts (unboxed doubles while they are numbers), so storing an
 * entry allocates no ID object: StreamIds are built when read.
 */
export interface Chunk<V> {
  ms: IdPart[];
  seq: IdPart[];
  vals: V[];
  /** entries ever appended to this chunk (Redis counts deleted ones for node fullness) */
  appended: number;
  /** the listpack size Redis would have for this node (stream-node-max-bytes) */
  bytes: number;
  /** stream nodes: the master entry (first ID and its field names) */
  master?: { id: StreamId; fields: string[] };
}

function newChunk<V>(): Chunk<V> {
  return { ms: [], seq: [], vals: [], appended: 0, bytes: 0 };
}

/** Compares the ID at position i of a chunk with id: negative, 0 or positive. */
function cmpAt<V>(chunk: Chunk<V>, i: number, id: StreamId): number {
  const ms = chunk.ms[i];
  if (ms !== id.ms) return ms < id.ms ? -1 : 1;
  const seq = chunk.seq[i];
  if (seq !== id.seq) return seq < id.seq ? -1 : 1;
  return 0;
}

/** The ID at position i of a chunk. */
function idAt<V>(chunk: Chunk<V>, i: number): StreamId {
  return { ms: chunk.ms[i], seq: chunk.seq[i] };
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
  /** bumped by every insert in the middle and every removal (range() re-seeks then) */
  #layout = 0;

  /** The first position whose ID is >= id (c === chunks.length when none). */
  #lowerBound(id: StreamId): Pos {
    const chunks = this.chunks;
    let lo = 0;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = chunks[mid];
      if (cmpAt(chunk, chunk.ms.length - 1, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo === chunks.length) return { c: lo, i: 0 };
    const chunk = chunks[lo];
    let a = 0;
    let b = chunk.ms.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (cmpAt(chunk, mid, id) < 0) a = mid + 1;
      else b = mid;
    }
    return { c: lo, i: a };
  }

  /** The value stored at id, or undefined. */
  get(id: StreamId): V | undefined {
    const p = this.#lowerBound(id);
    const chunk = this.chunks[p.c];
    if (chunk === undefined || cmpAt(chunk, p.i, id) !== 0) return undefined;
    return chunk.vals[p.i];
  }

  /** True when id is present. */
  has(id: StreamId): boolean {
    return this.get(id) !== undefined;
  }

  /** The smallest ID and its value. */
  first(): [StreamId, V] | undefined {
    const c = this.chunks[0];
    return c === undefined ? undefined : [idAt(c, 0), c.vals[0]];
  }

  /** The smallest ID. */
  firstId(): StreamId | undefined {
    const c = this.chunks[0];
    return c === undefined ? undefined : idAt(c, 0);
  }

  /** The largest ID and its value. */
  last(): [StreamId, V] | undefined {
    const c = this.chunks[this.chunks.length - 1];
    if (c === undefined) return undefined;
    const i = c.ms.length - 1;
    return [idAt(c, i), c.vals[i]];
  }

  /** Appends an entry whose ID is larger than every stored ID, in a new chunk if full. */
  append(id: StreamId, v: V): void {
    let chunk = this.chunks[this.chunks.length - 1];
    if (chunk === undefined || chunk.ms.length >= CHUNK_SPLIT) chunk = this.pushChunk();
    this.appendTo(chunk, id, v);
  }

  /** Appends an entry to the last chunk (the caller chose or started it). */
  appendTo(chunk: Chunk<V>, id: StreamId, v: V): void {
    chunk.ms.push(id.ms);
    chunk.seq.push(id.seq);
    chunk.vals.push(v);
    chunk.appended++;
    this.size++;
  }

  /** Starts a new last chunk (the next append goes there). */
  pushChunk(): Chunk<V> {
    const chunk = newChunk<V>();
    this.chunks.push(chunk);
    return chunk;
  }

  /** Inserts or replaces the value at id. Returns true when it was inserted. */
  set(id: StreamId, v: V): boolean {
    const lastChunk = this.chunks[this.chunks.length - 1];
    if (lastChunk === undefined || cmpAt(lastChunk, lastChunk.ms.length - 1, id) < 0) {
      this.append(id, v);
      return true;
    }
    const p = this.#lowerBound(id);
    const chunk = this.chunks[p.c];
    if (cmpAt(chunk, p.i, id) === 0) {
      chunk.vals[p.i] = v;
      return false;
    }
    chunk.ms.splice(p.i, 0, id.ms);
    chunk.seq.splice(p.i, 0, id.seq);
    chunk.vals.splice(p.i, 0, v);
    chunk.appended++;
    this.size++;
    this.#layout++;
    if (chunk.ms.length > CHUNK_SPLIT * 2) {
      const half = chunk.ms.length >>> 1;
      const right: Chunk<V> = {
        ms: chunk.ms.splice(half),
        seq: chunk.seq.splice(half),
        vals: chunk.vals.splice(half),
        appended: 0,
        bytes: 0,
      };
      right.appended = right.ms.length;
      chunk.appended = chunk.ms.length;
      this.chunks.splice(p.c + 1, 0, right);
    }
    return true;
  }

  /** Removes id; returns true when it was present. */
  delete(id: StreamId): boolean {
    const p = this.#lowerBound(id);
    const chunk = this.chunks[p.c];
    if (chunk === undefined || cmpAt(chunk, p.i, id) !== 0) return false;
    this.#removeAt(p);
    return true;
  }

  #removeAt(p: Pos): void {
    const chunk = this.chunks[p.c];
    this.#layout++;
    if (chunk.ms.length === 1) this.chunks.splice(p.c, 1);
    else if (p.i === 0) {
      chunk.ms.shift();
      chunk.seq.shift();
      chunk.vals.shift();
    } else {
      chunk.ms.splice(p.i, 1);
      chunk.seq.splice(p.i, 1);
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
    return this.chunks[0]?.ms.length ?? 0;
  }

  /** True when the last ID of the first chunk is below id (MINID trimming). */
  firstChunkEndsBelow(id: StreamId): boolean {
    const c = this.chunks[0];
    return c !== undefined && cmpAt(c, c.ms.length - 1, id) < 0;
  }

  /** True when the first ID is below id (MINID trimming). */
  firstIdBelow(id: StreamId): boolean {
    const c = this.chunks[0];
    return c !== undefined && cmpAt(c, 0, id) < 0;
  }

  /** Removes the whole first chunk. */
  removeFirstChunk(): void {
    const c = this.chunks.shift();
    if (c !== undefined) {
      this.size -= c.ms.length;
      this.#layout++;
    }
  }

  /** Iterates entries with start <= id <= end, ascending (or descending when rev). */
  *range(start: StreamId, end: StreamId, rev = false): Generator<[StreamId, V]> {
    if (cmpId(start, end) > 0) return;
    if (!rev) {
      let { c, i } = this.#lowerBound(start);
      while (c < this.chunks.length) {
        const chunk = this.chunks[c];
        if (i >= chunk.ms.length) {
          c++;
          i = 0;
          continue;
        }
        if (cmpAt(chunk, i, end) > 0) return;
        const id = idAt(chunk, i);
        const layout = this.#layout;
        yield [id, chunk.vals[i]];
        // the consumer may have changed the index (deleted the yielded entry): re-seek
        if (this.#layout !== layout) {
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
      i = c >= 0 ? this.chunks[c].ms.length - 1 : -1;
    } else {
      ({ c, i } = this.#lowerBound(after));
      i--;
    }
    while (c >= 0) {
      const chunk = this.chunks[c];
      if (chunk === undefined || i < 0) {
        c--;
        i = c >= 0 ? this.chunks[c].ms.length - 1 : -1;
        continue;
      }
      if (cmpAt(chunk, i, start) < 0) return;
      yield [idAt(chunk, i), chunk.vals[i]];
      i--;
    }
  }

  /** Every entry in order. */
  *entries(): Generator<[StreamId, V]> {
    for (const chunk of this.chunks) {
      for (let i = 0; i < chunk.ms.length; i++) yield [idAt(chunk, i), chunk.vals[i]];
    }
  }
}
