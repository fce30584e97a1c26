/**
 * The hash value type (Redis: t_hash.c's hashType* API). Fields and values are binary
 * strings kept in insertion order (like Redis's listpack encoding). A slot array beside
 * the map gives O(1) random fields (HRANDFIELD) and a SCAN cursor that never misses a
 * field present for the whole scan (HSCAN), the way Db does for keys.
 */
import type { TypedValue } from "./db.ts";

/** The listpack limits (hash-max-listpack-entries / hash-max-listpack-value). */
export interface HashLimits {
  maxEntries: number;
  maxValue: number;
}

/** Up to this many fields, lookups scan the field array instead of the map. */
const SCAN_MAX = 8;

interface Slot {
  value: string;
  /** position in the slot array */
  pos: number;
}

/** A Redis hash. */
export class HashValue implements TypedValue {
  readonly type = "hash" as const;
  #map = new Map<string, Slot>();
  #fields: string[] = [];
  /** the slots by position (aligned with #fields) */
  #slotList: Slot[] = [];
  #listpack = true;

  /**
   * The slot of a field, or undefined. A small hash compares the fields in slot order
   * (like Redis's listpack scan): cheaper than hashing a field string just received.
   */
  #find(field: string): Slot | undefined {
    const fields = this.#fields;
    if (fields.length > SCAN_MAX) return this.#map.get(field);
    for (let i = 0; i < fields.length; i++) if (fields[i] === field) return this.#slotList[i];
    return undefined;
  }

  /**
   * A hash holding `entries` (later duplicates overwrite earlier ones). With `limits`
   * it takes the encoding Redis would give it; without, it stays "listpack".
   */
  static from(entries: Iterable<[string, string]>, limits?: HashLimits): HashValue {
    const h = new HashValue();
    let longest = 0;
    for (const [f, v] of entries) {
      h.set(f, v);
      if (f.length > longest) longest = f.length;
      if (v.length > longest) longest = v.length;
    }
    if (limits !== undefined) h.applyLimits(limits, longest);
    return h;
  }

  /** Number of fields. */
  get size(): number {
    return this.#map.size;
  }

  /** OBJECT ENCODING: "listpack" while small, "hashtable" once past the limits. */
  encoding(): string {
    return this.#listpack ? "listpack" : "hashtable";
  }

  /** True while the hash would be a listpack in Redis (small scans return everything). */
  get isListpack(): boolean {
    return this.#listpack;
  }

  /**
   * Converts to "hashtable" when the hash has more fields than `maxEntries`, or when
   * `longest` (the longest field or value just written) exceeds `maxValue`. Redis never
   * converts back.
   */
  applyLimits(limits: HashLimits, longest: number): void {
    if (!this.#listpack) return;
    if (this.#map.size > limits.maxEntries || longest > limits.maxValue) this.#listpack = false;
  }

  /** Forces the "hashtable" encoding (e.g. loading an RDB hash stored as a dict). */
  convertToHashtable(): void {
    this.#listpack = false;
  }

  /** The value of `field`, or undefined. */
  get(field: string): string | undefined {
    return this.#find(field)?.value;
  }

  /** True if `field` exists. */
  has(field: string): boolean {
    return this.#find(field) !== undefined;
  }

  /** Sets `field`; returns true if it was new. */
  set(field: string, value: string): boolean {
    const found = this.#find(field);
    if (found !== undefined) {
      found.value = value;
      return false;
    }
    const slot = { value, pos: this.#fields.length };
    this.#map.set(field, slot);
    this.#fields.push(field);
    this.#slotList.push(slot);
    return true;
  }

  /** Removes `field`; returns true if it existed. */
  delete(field: string): boolean {
    const slot = this.#find(field);
    if (slot === undefined) return false;
    const last = this.#fields.pop()!;
    const lastSlot = this.#slotList.pop()!;
    if (lastSlot !== slot) {
      this.#fields[slot.pos] = last;
      this.#slotList[slot.pos] = lastSlot;
      lastSlot.pos = slot.pos;
    }
    this.#map.delete(field);
    return true;
  }

  /** [field, value] pairs in insertion order. */
  *entries(): IterableIterator<[string, string]> {
    for (const [f, slot] of this.#map) yield [f, slot.value];
  }

  /** Fields in insertion order. */
  keys(): IterableIterator<string> {
    return this.#map.keys();
  }

  /** Values in insertion order. */
  *values(): IterableIterator<string> {
    for (const slot of this.#map.values()) yield slot.value;
  }

  /** A uniformly random field (the hash must not be empty). */
  randomField(): string {
    return this.#fields[Math.floor(Math.random() * this.#fields.length)];
  }

  /** `count` distinct random fields (count < size), in no particular order. */
  randomDistinctFields(count: number): string[] {
    const n = this.#fields.length;
    if (count * 3 > n) {
      // partial Fisher-Yates over a copy: cheap when count is a large share of the hash
      const copy = this.#fields.slice();
      for (let i = 0; i < count; i++) {
        const j = i + Math.floor(Math.random() * (n - i));
        const t = copy[i];
        copy[i] = copy[j];
        copy[j] = t;
      }
      copy.length = count;
      return copy;
    }
    const picked = new Set<string>();
    while (picked.size < count) picked.add(this.randomField());
    return [...picked];
  }

  /**
   * One HSCAN step over the slot array, visiting up to `count` fields. Fields are
   * visited from the end down; removal moves the last field into the freed slot, so a
   * field present for the whole scan is always returned. Returns the next cursor (0 =
   * done).
   */
  scan(cursor: number, count: number, visit: (field: string, value: string) => void): number {
    const fields = this.#fields;
    let pos = cursor === 0 ? fields.length : Math.min(cursor - 1, fields.length);
    let n = 0;
    while (pos > 0 && n < count) {
      pos--;
      visit(fields[pos], this.#slotList[pos].value);
      n++;
    }
    return pos === 0 ? 0 : pos + 1;
  }

  /** An independent copy with the same encoding (snapshots, COPY). */
  clone(): HashValue {
    const h = new HashValue();
    for (const [f, slot] of this.#map) h.set(f, slot.value);
    h.#listpack = this.#listpack;
    return h;
  }
}
