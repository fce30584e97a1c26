/**
 * The sorted set value type (Redis: t_zset.c). Scores are looked up in a Map; order is
 * kept by a skip list with spans (Redis's zskiplist), so rank, by-rank access and
 * range starts are O(log n). Nodes also sit in a slot array for O(1) random access
 * (ZRANDMEMBER) and a SCAN that survives removals. Ties are ordered by member bytes.
 */
import type { TypedValue } from "./db.ts";

const MAX_LEVEL = 32;

/** One skip list node: a member with its score. */
export class ZNode {
  readonly member: string;
  score: number;
  /** per level, interleaved: forward node at 2*i, span at 2*i+1 (one array per node) */
  lv: Array<ZNode | number | null>;
  prev: ZNode | null = null;
  /** index in the slot array (-1 for the header) */
  slot = -1;

  constructor(member: string, score: number, level: number) {
    this.member = member;
    this.score = score;
    const lv: Array<ZNode | number | null> = [];
    for (let i = 0; i < level; i++) lv.push(null, 0);
    this.lv = lv;
  }

  /** The next node in (score, member) order, or null. */
  get forward(): ZNode | null {
    return this.lv[0] as ZNode | null;
  }
}

/** A score range (Redis's zrangespec). */
export interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

/** A lexicographic range bound: a member, or -inf ("-") / +inf ("+"). */
export interface LexBound {
  value: string;
  /** -1 for "-", 1 for "+", 0 for a member bound */
  inf: -1 | 0 | 1;
  exclusive: boolean;
}

/** A lexicographic range (Redis's zlexrangespec). */
export interface LexRange {
  min: LexBound;
  max: LexBound;
}

/** Encoding thresholds (zset-max-listpack-entries / -value). */
export interface ZSetLimits {
  maxEntries: number;
  maxValue: number;
}

const DEFAULT_LIMITS: ZSetLimits = { maxEntries: 128, maxValue: 64 };

function fwd(x: ZNode, i: number): ZNode | null {
  return x.lv[i << 1] as ZNode | null;
}

function spanOf(x: ZNode, i: number): number {
  return x.lv[(i << 1) + 1] as number;
}

function setFwd(x: ZNode, i: number, n: ZNode | null): void {
  x.lv[i << 1] = n;
}

function setSpan(x: ZNode, i: number, span: number): void {
  x.lv[(i << 1) + 1] = span;
}

function before(aScore: number, aMember: string, b: ZNode): boolean {
  return aScore < b.score || (aScore === b.score && aMember < b.member);
}

/** True if `v` is above the range minimum. */
export function scoreGteMin(v: number, r: ScoreRange): boolean {
  return r.minex ? v > r.min : v >= r.min;
}

/** True if `v` is below the range maximum. */
export function scoreLteMax(v: number, r: ScoreRange): boolean {
  return r.maxex ? v < r.max : v <= r.max;
}

/** True if `v` is above the lex minimum. */
export function lexGteMin(v: string, r: LexRange): boolean {
  const b = r.min;
  if (b.inf !== 0) return b.inf < 0;
  return b.exclusive ? v > b.value : v >= b.value;
}

/** True if `v` is below the lex maximum. */
export function lexLteMax(v: string, r: LexRange): boolean {
  const b = r.max;
  if (b.inf !== 0) return b.inf > 0;
  return b.exclusive ? v < b.value : v <= b.value;
}

function lexCompareBounds(a: LexBound, b: LexBound): number {
  if (a.inf !== 0 || b.inf !== 0) {
    if (a.inf === b.inf) return 0;
    return a.inf !== 0 ? a.inf : -b.inf;
  }
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** True when no value can be inside the score range. */
export function scoreRangeEmpty(r: ScoreRange): boolean {
  return r.min > r.max || (r.min === r.max && (r.minex || r.maxex));
}

/** True when no value can be inside the lex range. */
export function lexRangeEmpty(r: LexRange): boolean {
  const cmp = lexCompareBounds(r.min, r.max);
  return cmp > 0 || (cmp === 0 && (r.min.exclusive || r.max.exclusive));
}

function randomLevel(): number {
  let level = 1;
  while (level < MAX_LEVEL && Math.random() < 0.25) level++;
  return level;
}

// scratch arrays for insert/delete (never held across calls)
const update: ZNode[] = new Array(MAX_LEVEL);
const rankAt: number[] = new Array(MAX_LEVEL).fill(0);

/** A sorted set: members with double scores, ordered by (score, member bytes). */
export class ZSetValue implements TypedValue {
  readonly type = "zset" as const;
  #dict = new Map<string, ZNode>();
  #header = new ZNode("", 0, MAX_LEVEL);
  #tail: ZNode | null = null;
  #level = 1;
  #slots: ZNode[] = [];
  /** true while OBJECT ENCODING reports "listpack" (Redis converts only one way) */
  listpack = true;

  /**
   * Builds a sorted set from (member, score) pairs, choosing the encoding as Redis does
   * when loading: listpack if small enough under `limits`, else skiplist.
   */
  static from(entries: Iterable<[string, number]>, limits: ZSetLimits = DEFAULT_LIMITS): ZSetValue {
    const z = new ZSetValue();
    z.listpack = false;
    let maxLen = 0;
    for (const [member, score] of entries) {
      z.add(member, score);
      if (member.length > maxLen) maxLen = member.length;
    }
    z.listpack = z.size <= limits.maxEntries && maxLen <= limits.maxValue;
    return z;
  }

  /** An empty sorted set with the encoding Redis picks for `sizeHint` members. */
  static create(sizeHint: number, maxLenHint: number, limits: ZSetLimits): ZSetValue {
    const z = new ZSetValue();
    z.listpack = limits.maxEntries !== 0 && sizeHint <= limits.maxEntries &&
      maxLenHint <= limits.maxValue;
    return z;
  }

  /** Number of members. */
  get size(): number {
    return this.#dict.size;
  }

  /** "listpack" or "skiplist", as OBJECT ENCODING prints. */
  encoding(): string {
    return this.listpack ? "listpack" : "skiplist";
  }

  /** A deep copy (same encoding). */
  clone(): ZSetValue {
    const z = new ZSetValue();
    z.listpack = false;
    for (let n = this.first(); n !== null; n = n.forward) z.add(n.member, n.score);
    z.listpack = this.listpack;
    return z;
  }

  /** (member, score) pairs in (score, member) order. */
  *entries(): IterableIterator<[string, number]> {
    for (let n = this.first(); n !== null; n = n.forward) yield [n.member, n.score];
  }

  /** Score of a member, or undefined. O(1). */
  score(member: string): number | undefined {
    return this.#dict.get(member)?.score;
  }

  /** True if the member is present. */
  has(member: string): boolean {
    return this.#dict.has(member);
  }

  /** Node of a member, or undefined. */
  node(member: string): ZNode | undefined {
    return this.#dict.get(member);
  }

  /** First node in order, or null. */
  first(): ZNode | null {
    return this.#header.forward;
  }

  /** Last node in order, or null. */
  last(): ZNode | null {
    return this.#tail;
  }

  /**
   * After adding a member of length `memberLen`, converts to skiplist when the
   * listpack limits are exceeded (Redis checks before inserting).
   */
  checkGrow(memberLen: number, limits: ZSetLimits): void {
    if (this.listpack && (this.size > limits.maxEntries || memberLen > limits.maxValue)) {
      this.listpack = false;
    }
  }

  /** Adds a new member or changes the score of an existing one. */
  add(member: string, score: number): void {
    // a listpack stores an integral score as an integer, so -0 reads back as 0
    if (score === 0 && this.listpack) score = 0;
    const existing = this.#dict.get(member);
    if (existing !== undefined) {
      this.#updateScore(existing, score);
      return;
    }
    const node = this.#insert(score, member);
    node.slot = this.#slots.length;
    this.#slots.push(node);
    this.#dict.set(member, node);
  }

  /** Removes a member; returns true if it was present. */
  remove(member: string): boolean {
    const node = this.#dict.get(member);
    if (node === undefined) return false;
    this.#removeNode(node);
    return true;
  }

  /** Removes a node obtained from this set. */
  removeNode(node: ZNode): void {
    this.#removeNode(node);
  }

  #removeNode(node: ZNode): void {
    this.#delete(node.score, node.member);
    this.#dict.delete(node.member);
    const last = this.#slots.pop()!;
    if (last !== node) {
      this.#slots[node.slot] = last;
      last.slot = node.slot;
    }
  }

  #updateScore(node: ZNode, score: number): void {
    const prev = node.prev;
    const next = node.forward;
    if (
      (prev === null || prev.score < score ||
        (prev.score === score && prev.member < node.member)) &&
      (next === null || score < next.score || (score === next.score && node.member < next.member))
    ) {
      node.score = score;
      return;
    }
    this.#delete(node.score, node.member);
    const fresh = this.#insert(score, node.member);
    fresh.slot = node.slot;
    this.#slots[node.slot] = fresh;
    this.#dict.set(node.member, fresh);
  }

  #insert(score: number, member: string): ZNode {
    const header = this.#header;
    let x = header;
    for (let i = this.#level - 1; i >= 0; i--) {
      rankAt[i] = i === this.#level - 1 ? 0 : rankAt[i + 1];
      let n = fwd(x, i);
      while (n !== null && (n.score < score || (n.score === score && n.member < member))) {
        rankAt[i] += spanOf(x, i);
        x = n;
        n = fwd(x, i);
      }
      update[i] = x;
    }
    const level = randomLevel();
    if (level > this.#level) {
      for (let i = this.#level; i < level; i++) {
        rankAt[i] = 0;
        update[i] = header;
        setSpan(header, i, this.#dict.size);
      }
      this.#level = level;
    }
    const node = new ZNode(member, score, level);
    for (let i = 0; i < level; i++) {
      const u = update[i];
      setFwd(node, i, fwd(u, i));
      setFwd(u, i, node);
      setSpan(node, i, spanOf(u, i) - (rankAt[0] - rankAt[i]));
      setSpan(u, i, rankAt[0] - rankAt[i] + 1);
    }
    for (let i = level; i < this.#level; i++) setSpan(update[i], i, spanOf(update[i], i) + 1);
    node.prev = update[0] === header ? null : update[0];
    const after = node.forward;
    if (after !== null) after.prev = node;
    else this.#tail = node;
    return node;
  }

  #delete(score: number, member: string): void {
    let x = this.#header;
    for (let i = this.#level - 1; i >= 0; i--) {
      let n = fwd(x, i);
      while (n !== null && (n.score < score || (n.score === score && n.member < member))) {
        x = n;
        n = fwd(x, i);
      }
      update[i] = x;
    }
    const target = x.forward!;
    for (let i = 0; i < this.#level; i++) {
      const u = update[i];
      if (fwd(u, i) === target) {
        setSpan(u, i, spanOf(u, i) + spanOf(target, i) - 1);
        setFwd(u, i, fwd(target, i));
      } else {
        setSpan(u, i, spanOf(u, i) - 1);
      }
    }
    const after = target.forward;
    if (after !== null) after.prev = target.prev;
    else this.#tail = target.prev;
    while (this.#level > 1 && fwd(this.#header, this.#level - 1) === null) this.#level--;
  }

  /** 0-based rank of a member in ascending order, or undefined. O(log n). */
  rank(member: string): number | undefined {
    const node = this.#dict.get(member);
    if (node === undefined) return undefined;
    let x = this.#header;
    let rank = 0;
    for (let i = this.#level - 1; i >= 0; i--) {
      let n = fwd(x, i);
      while (n !== null && (n === node || before(n.score, n.member, node))) {
        rank += spanOf(x, i);
        x = n;
        if (x === node) return rank - 1;
        n = fwd(x, i);
      }
    }
    return rank - 1;
  }

  /** Node at 0-based ascending rank, or null. O(log n). */
  byRank(rank: number): ZNode | null {
    if (rank < 0 || rank >= this.size) return null;
    const target = rank + 1;
    let x = this.#header;
    let traversed = 0;
    for (let i = this.#level - 1; i >= 0; i--) {
      while (fwd(x, i) !== null && traversed + spanOf(x, i) <= target) {
        traversed += spanOf(x, i);
        x = fwd(x, i)!;
      }
      if (traversed === target) return x;
    }
    return null;
  }

  /** First node inside the score range, or null. */
  firstInScoreRange(r: ScoreRange): ZNode | null {
    if (scoreRangeEmpty(r)) return null;
    const tail = this.#tail;
    if (tail === null || !scoreGteMin(tail.score, r)) return null;
    if (!scoreLteMax(this.#header.forward!.score, r)) return null;
    let x = this.#header;
    for (let i = this.#level - 1; i >= 0; i--) {
      while (fwd(x, i) !== null && !scoreGteMin(fwd(x, i)!.score, r)) x = fwd(x, i)!;
    }
    const n = x.forward!;
    return scoreLteMax(n.score, r) ? n : null;
  }

  /** Last node inside the score range, or null. */
  lastInScoreRange(r: ScoreRange): ZNode | null {
    if (scoreRangeEmpty(r)) return null;
    const tail = this.#tail;
    if (tail === null || !scoreGteMin(tail.score, r)) return null;
    if (!scoreLteMax(this.#header.forward!.score, r)) return null;
    let x = this.#header;
    for (let i = this.#level - 1; i >= 0; i--) {
      while (fwd(x, i) !== null && scoreLteMax(fwd(x, i)!.score, r)) x = fwd(x, i)!;
    }
    return scoreGteMin(x.score, r) ? x : null;
  }

  /**
   * First node inside the lex range, or null. A listpack is scanned linearly like
   * Redis's zzlFirstInLexRange (results differ from a descent when scores differ).
   */
  firstInLexRange(r: LexRange): ZNode | null {
    if (lexRangeEmpty(r)) return null;
    const tail = this.#tail;
    if (tail === null || !lexGteMin(tail.member, r)) return null;
    if (!lexLteMax(this.#header.forward!.member, r)) return null;
    if (this.listpack) {
      for (let n = this.#header.forward; n !== null; n = n.forward) {
        if (lexGteMin(n.member, r)) return lexLteMax(n.member, r) ? n : null;
      }
      return null;
    }
    let x = this.#header;
    for (let i = this.#level - 1; i >= 0; i--) {
      while (fwd(x, i) !== null && !lexGteMin(fwd(x, i)!.member, r)) x = fwd(x, i)!;
    }
    const n = x.forward!;
    return lexLteMax(n.member, r) ? n : null;
  }

  /** Last node inside the lex range, or null (listpack: a linear scan from the tail). */
  lastInLexRange(r: LexRange): ZNode | null {
    if (lexRangeEmpty(r)) return null;
    const tail = this.#tail;
    if (tail === null || !lexGteMin(tail.member, r)) return null;
    if (!lexLteMax(this.#header.forward!.member, r)) return null;
    if (this.listpack) {
      for (let n: ZNode | null = tail; n !== null; n = n.prev) {
        if (lexLteMax(n.member, r)) return lexGteMin(n.member, r) ? n : null;
      }
      return null;
    }
    let x = this.#header;
    for (let i = this.#level - 1; i >= 0; i--) {
      while (fwd(x, i) !== null && lexLteMax(fwd(x, i)!.member, r)) x = fwd(x, i)!;
    }
    return lexGteMin(x.member, r) ? x : null;
  }

  /** Number of members in the score range. O(log n). */
  countInScoreRange(r: ScoreRange): number {
    const a = this.firstInScoreRange(r);
    if (a === null) return 0;
    const b = this.lastInScoreRange(r)!;
    return this.rank(b.member)! - this.rank(a.member)! + 1;
  }

  /** Number of members in the lex range. O(log n) (listpack: linear, like Redis). */
  countInLexRange(r: LexRange): number {
    const a = this.firstInLexRange(r);
    if (a === null) return 0;
    if (this.listpack) {
      let count = 0;
      for (let n: ZNode | null = a; n !== null && lexLteMax(n.member, r); n = n.forward) count++;
      return count;
    }
    const b = this.lastInLexRange(r)!;
    return this.rank(b.member)! - this.rank(a.member)! + 1;
  }

  /** A uniformly random node. O(1). The set must not be empty. */
  randomNode(): ZNode {
    return this.#slots[Math.floor(Math.random() * this.#slots.length)];
  }

  /** Node at a slot (for sampling without repeats), or undefined. */
  slotNode(i: number): ZNode | undefined {
    return this.#slots[i];
  }

  /**
   * One step of a hashtable-style SCAN over the slot array (visited from the end
   * down, so a removal never hides a member present for the whole scan).
   */
  scan(cursor: number, count: number, visit: (n: ZNode) => void): number {
    let pos = cursor === 0 ? this.#slots.length : Math.min(cursor - 1, this.#slots.length);
    let n = 0;
    while (pos > 0 && n < count) {
      pos--;
      visit(this.#slots[pos]);
      n++;
    }
    return pos === 0 ? 0 : pos + 1;
  }
}
