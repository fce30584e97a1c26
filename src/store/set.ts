/**
 * The set value type (Redis: t_set.c). Members sit in an array with an index map, so
 * add, remove and random access (SPOP, SRANDMEMBER) are O(1) and SCAN survives
 * removals. OBJECT ENCODING follows Redis 7.0: "intset" while every member is a
 * canonical int64 and the set is small enough, then "hashtable" for good.
 */
import type { TypedValue } from "./db.ts";
import { parseInteger } from "../resp/bytes.ts";

const DEFAULT_MAX_INTSET = 512;
/** Up to this many members, lookups scan the member array instead of the index. */
const SCAN_MAX = 8;

/** True if `s` is a member an intset can hold (canonical base-10 int64). */
export function isIntsetMember(s: string): boolean {
  return s.length <= 20 && parseInteger(s) !== null;
}

/** Orders two canonical int64 strings whose Number values are equal (beyond 2^53). */
function compareInt64(a: string, b: string): number {
  if (a === b) return 0;
  return BigInt(a) < BigInt(b) ? -1 : 1;
}

/** A set of binary strings. */
export class SetValue implements TypedValue {
  readonly type = "set" as const;
  #items: string[] = [];
  #index = new Map<string, number>();
  #sorted: string[] | null = null;
  /** true while OBJECT ENCODING reports "intset" */
  intset = true;

  /**
   * Builds a set from members, with the encoding Redis gives a loaded set: intset when
   * every member is an integer and there are at most `maxIntsetEntries`.
   */
  static from(members: Iterable<string>, maxIntsetEntries = DEFAULT_MAX_INTSET): SetValue {
    const s = new SetValue();
    let allInts = true;
    for (const m of members) {
      if (s.#index.has(m)) continue;
      if (allInts && !isIntsetMember(m)) allInts = false;
      s.#index.set(m, s.#items.length);
      s.#items.push(m);
    }
    s.intset = allInts && s.size <= maxIntsetEntries;
    return s;
  }

  /** An empty set whose encoding starts as Redis's setTypeCreate(first member). */
  static forFirstMember(member: string): SetValue {
    const s = new SetValue();
    s.intset = isIntsetMember(member);
    return s;
  }

  /** Number of members. */
  get size(): number {
    return this.#items.length;
  }

  /** "intset" or "hashtable", as OBJECT ENCODING prints. */
  encoding(): string {
    return this.intset ? "intset" : "hashtable";
  }

  /** A deep copy (same encoding). */
  clone(): SetValue {
    const s = new SetValue();
    s.#items = this.#items.slice();
    s.#index = new Map(this.#index);
    s.intset = this.intset;
    return s;
  }

  /**
   * Members. An intset yields them in ascending numeric order, as Redis does; a
   * hashtable in internal order.
   */
  *members(): IterableIterator<string> {
    yield* this.intset ? this.#sortedInts() : this.#items;
  }

  /** Members as an array (see members() for the order). */
  toArray(): string[] {
    return this.intset ? this.#sortedInts().slice() : this.#items.slice();
  }

  /** Intset members in numeric order, cached until the next change. */
  #sortedInts(): string[] {
    if (this.#sorted !== null) return this.#sorted;
    const keyed = this.#items.map((m) => [Number(m), m] as const);
    keyed.sort((a, b) => a[0] - b[0] || compareInt64(a[1], b[1]));
    return this.#sorted = keyed.map((k) => k[1]);
  }

  /**
   * The position of a member, or -1. A small set compares the members in order (like
   * Redis's intset and listpack scans): cheaper than hashing a member string just received.
   */
  #find(m: string): number {
    const items = this.#items;
    if (items.length > SCAN_MAX) return this.#index.get(m) ?? -1;
    for (let i = 0; i < items.length; i++) if (items[i] === m) return i;
    return -1;
  }

  /** True if `m` is a member. */
  has(m: string): boolean {
    return this.#find(m) >= 0;
  }

  /**
   * Adds a member; returns true if it was new. `maxIntsetEntries` drives the
   * intset → hashtable conversion.
   */
  add(m: string, maxIntsetEntries = DEFAULT_MAX_INTSET): boolean {
    if (this.#find(m) >= 0) return false;
    this.#index.set(m, this.#items.length);
    this.#items.push(m);
    this.#sorted = null;
    if (this.intset && (this.#items.length > maxIntsetEntries || !isIntsetMember(m))) {
      this.intset = false;
    }
    return true;
  }

  /** Removes a member; returns true if it was present. */
  remove(m: string): boolean {
    const i = this.#find(m);
    if (i < 0) return false;
    this.#index.delete(m);
    this.#sorted = null;
    const last = this.#items.pop()!;
    if (last !== m) {
      this.#items[i] = last;
      this.#index.set(last, i);
    }
    return true;
  }

  /** A uniformly random member. O(1). The set must not be empty. */
  random(): string {
    return this.#items[Math.floor(Math.random() * this.#items.length)];
  }

  /** Member at internal position i (0 <= i < size), for sampling without repeats. */
  at(i: number): string {
    return this.#items[i];
  }

  /**
   * One step of a hashtable-style SCAN over the internal array (visited from the end
   * down, so a removal never hides a member present for the whole scan).
   */
  scan(cursor: number, count: number, visit: (m: string) => void): number {
    let pos = cursor === 0 ? this.#items.length : Math.min(cursor - 1, this.#items.length);
    let n = 0;
    while (pos > 0 && n < count) {
      pos--;
      visit(this.#items[pos]);
      n++;
    }
    return pos === 0 ? 0 : pos + 1;
  }
}
