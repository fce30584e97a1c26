/**
 * The list value type (Redis: quicklist.c / t_list.c's listType* API): a deque of binary
 * strings kept in a power-of-two ring buffer, so push and pop at either end are O(1)
 * and index access is O(1).
 */
import type { TypedValue } from "./db.ts";

const MIN_CAPACITY = 8;

/** A Redis list: binary strings, head (index 0) to tail. */
export class ListValue implements TypedValue {
  readonly type = "list" as const;
  #buf: Array<string | undefined>;
  #head = 0;
  #len = 0;
  #mask: number;

  constructor(capacity = MIN_CAPACITY) {
    let cap = MIN_CAPACITY;
    while (cap < capacity) cap *= 2;
    this.#buf = new Array(cap);
    this.#mask = cap - 1;
  }

  /** A list holding `items` in order (head first). */
  static from(items: Iterable<string>): ListValue {
    const arr = Array.isArray(items) ? items as string[] : [...items];
    const list = new ListValue(arr.length);
    for (let i = 0; i < arr.length; i++) list.#buf[i] = arr[i];
    list.#len = arr.length;
    return list;
  }

  /** Number of elements. */
  get length(): number {
    return this.#len;
  }

  /**
   * OBJECT ENCODING. Redis 7.0 always stores lists as quicklists (the listpack list
   * encoding arrived in 7.2), whatever list-max-listpack-size says.
   */
  encoding(): string {
    return "quicklist";
  }

  #grow(): void {
    const old = this.#buf;
    const cap = old.length * 2;
    const next: Array<string | undefined> = new Array(cap);
    for (let i = 0; i < this.#len; i++) next[i] = old[(this.#head + i) & this.#mask];
    this.#buf = next;
    this.#head = 0;
    this.#mask = cap - 1;
  }

  /** Adds an element before the head. */
  pushHead(value: string): void {
    if (this.#len === this.#buf.length) this.#grow();
    this.#head = (this.#head - 1) & this.#mask;
    this.#buf[this.#head] = value;
    this.#len++;
  }

  /** Adds an element after the tail. */
  pushTail(value: string): void {
    if (this.#len === this.#buf.length) this.#grow();
    this.#buf[(this.#head + this.#len) & this.#mask] = value;
    this.#len++;
  }

  /** Removes and returns the head element (undefined when empty). */
  popHead(): string | undefined {
    if (this.#len === 0) return undefined;
    const v = this.#buf[this.#head];
    this.#buf[this.#head] = undefined;
    this.#head = (this.#head + 1) & this.#mask;
    this.#len--;
    this.#maybeShrink();
    return v;
  }

  /** Removes and returns the tail element (undefined when empty). */
  popTail(): string | undefined {
    if (this.#len === 0) return undefined;
    const i = (this.#head + this.#len - 1) & this.#mask;
    const v = this.#buf[i];
    this.#buf[i] = undefined;
    this.#len--;
    this.#maybeShrink();
    return v;
  }

  /** Pushes at the head (`head` true) or the tail. */
  push(value: string, head: boolean): void {
    if (head) this.pushHead(value);
    else this.pushTail(value);
  }

  /** Pops from the head (`head` true) or the tail. */
  pop(head: boolean): string | undefined {
    return head ? this.popHead() : this.popTail();
  }

  // a list that shrank far below its capacity gives memory back
  #maybeShrink(): void {
    const cap = this.#buf.length;
    if (cap > 1024 && this.#len < cap >> 3) this.#rebuild([...this.values()]);
  }

  /** Element at `index` (0 = head, negative counts from the tail), or undefined. */
  at(index: number): string | undefined {
    if (index < 0) index += this.#len;
    if (index < 0 || index >= this.#len) return undefined;
    return this.#buf[(this.#head + index) & this.#mask];
  }

  /** Replaces the element at `index` (negative from the tail); false when out of range. */
  set(index: number, value: string): boolean {
    if (index < 0) index += this.#len;
    if (index < 0 || index >= this.#len) return false;
    this.#buf[(this.#head + index) & this.#mask] = value;
    return true;
  }

  /** Elements head to tail. */
  *values(): IterableIterator<string> {
    for (let i = 0; i < this.#len; i++) yield this.#buf[(this.#head + i) & this.#mask]!;
  }

  /** Elements from index `start` to `end` inclusive (both already within range). */
  range(start: number, end: number): string[] {
    const out: string[] = new Array(Math.max(0, end - start + 1));
    for (let i = start; i <= end; i++) out[i - start] = this.#buf[(this.#head + i) & this.#mask]!;
    return out;
  }

  /**
   * Hands the elements from index `start` to `end` inclusive (both within range), head
   * to tail, to `out.bulk` (a reply writer): no intermediate array.
   */
  writeRange(start: number, end: number, out: { bulk(s: string): void }): void {
    const buf = this.#buf;
    const mask = this.#mask;
    const head = this.#head;
    for (let i = start; i <= end; i++) out.bulk(buf[(head + i) & mask]!);
  }

  /** Index of the first element equal to `value`, or -1. */
  indexOf(value: string): number {
    for (let i = 0; i < this.#len; i++) {
      if (this.#buf[(this.#head + i) & this.#mask] === value) return i;
    }
    return -1;
  }

  /** Inserts `value` so that it ends up at position `index` (0..length). O(n). */
  insertAt(index: number, value: string): void {
    if (index === 0) return this.pushHead(value);
    if (index === this.#len) return this.pushTail(value);
    const items = [...this.values()];
    items.splice(index, 0, value);
    this.#rebuild(items);
  }

  /**
   * Removes up to `count` elements equal to `value` (count 0 = all; negative = scanning
   * from the tail, as LREM). Returns how many were removed.
   */
  removeValue(value: string, count: number): number {
    const items = [...this.values()];
    const limit = count === 0 ? Infinity : Math.abs(count);
    let removed = 0;
    if (count >= 0) {
      const kept: string[] = [];
      for (const it of items) {
        if (it === value && removed < limit) removed++;
        else kept.push(it);
      }
      if (removed > 0) this.#rebuild(kept);
    } else {
      const kept: string[] = [];
      for (let i = items.length - 1; i >= 0; i--) {
        if (items[i] === value && removed < limit) removed++;
        else kept.push(items[i]);
      }
      if (removed > 0) this.#rebuild(kept.reverse());
    }
    return removed;
  }

  /** Removes `fromHead` elements at the head and `fromTail` at the tail. */
  trim(fromHead: number, fromTail: number): void {
    if (fromHead + fromTail >= this.#len) {
      this.#rebuild([]);
      return;
    }
    for (let i = 0; i < fromHead; i++) {
      this.#buf[this.#head] = undefined;
      this.#head = (this.#head + 1) & this.#mask;
    }
    this.#len -= fromHead;
    for (let i = 0; i < fromTail; i++) {
      this.#buf[(this.#head + this.#len - 1) & this.#mask] = undefined;
      this.#len--;
    }
    this.#maybeShrink();
  }

  #rebuild(items: string[]): void {
    let cap = MIN_CAPACITY;
    while (cap < items.length) cap *= 2;
    const buf: Array<string | undefined> = new Array(cap);
    for (let i = 0; i < items.length; i++) buf[i] = items[i];
    this.#buf = buf;
    this.#head = 0;
    this.#len = items.length;
    this.#mask = cap - 1;
  }

  /** An independent copy (snapshots, COPY). */
  clone(): ListValue {
    return ListValue.from([...this.values()]);
  }
}
