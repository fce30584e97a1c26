/**
 * The sorted set value type (Redis: t_zset.c). Scores are looked up in a Map; order is
 * kept by a skip list with spans (Redis's zskiplist), so rank, by-rank access and
 * range starts are O(log n). Nodes also sit in a slot array for O(1) random access
 * (ZRANDMEMBER) and a SCAN that survives removals. Ties are ordered by member bytes.
 */
import type { TypedValue } from "./db.ts";

const MAX_LEVEL = 32;
/** Up to this many members, lookups scan the member array instead of the dict. */
const SCAN_MAX = 8;

/**
 * A skip list node's handle: its offset in the set's record buffer. 0 is the header,
 * which is never a successor or predecessor, so 0 also stands for "no node".
 */
export type ZNode = number;
/** The "no node" handle. */
export const NIL: ZNode = 0;

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

// A node's record, in int32 units from its handle (always even, so the score is an
// aligned float64): score (2 ints), prev handle, slot, level, unused, then per level
// the forward handle and the span. Records live in one ArrayBuffer per set: a search
// touches one record per visited node (Redis's zskiplistNode with its level array
// inline), with no JS object, boxed double or separate level array to chase.
const PREV = 2;
const SLOT = 3;
const LEVEL = 4;
const LV = 6;
const HEADER_SIZE = LV + 2 * MAX_LEVEL;

function recordSize(level: number): number {
  return LV + 2 * level;
}

// scratch arrays for insert/delete (never held across calls)
const update = new Int32Array(MAX_LEVEL);
const rankAt = new Float64Array(MAX_LEVEL);

/** A sorted set: members with double scores, ordered by (score, member bytes). */
export class ZSetValue implements TypedValue {
  readonly type = "zset" as const;
  #dict = new Map<string, ZNode>();
  #buf = new ArrayBuffer(4 * (HEADER_SIZE + 8 * recordSize(1)));
  #rec = new Int32Array(this.#buf);
  #scores = new Float64Array(this.#buf);
  /** first unused int32 of the buffer */
  #top = HEADER_SIZE;
  /** freed records by level, reused before the buffer grows */
  #free: number[][] = [];
  #tail: ZNode = NIL;
  #level = 1;
  /**
   * Node handles by slot, dense 0..size-1, for O(1) random access (ZRANDMEMBER) and a
   * SCAN that survives removals; the members by the same slot.
   */
  #slots = new Int32Array(8);
  #members: string[] = [];
  /** true while OBJECT ENCODING reports "listpack" (Redis converts only one way) */
  listpack = true;

  constructor() {
    this.#rec[LEVEL] = MAX_LEVEL;
  }

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
    for (let n = this.first(); n !== NIL; n = this.next(n)) z.add(this.member(n), this.scoreOf(n));
    z.listpack = this.listpack;
    return z;
  }

  /** (member, score) pairs in (score, member) order. */
  *entries(): IterableIterator<[string, number]> {
    for (let n = this.first(); n !== NIL; n = this.next(n)) {
      yield [this.member(n), this.scoreOf(n)];
    }
  }

  /**
   * The node of a member, or undefined. A small set compares the members in slot order
   * (like Redis's listpack scan): cheaper than hashing a member string just received.
   */
  #find(member: string): ZNode | undefined {
    const members = this.#members;
    if (members.length > SCAN_MAX) return this.#dict.get(member);
    for (let i = 0; i < members.length; i++) if (members[i] === member) return this.#slots[i];
    return undefined;
  }

  /** Score of a member, or undefined. O(1). */
  score(member: string): number | undefined {
    const n = this.#find(member);
    return n === undefined ? undefined : this.#scores[n >> 1];
  }

  /** True if the member is present. */
  has(member: string): boolean {
    return this.#find(member) !== undefined;
  }

  /** Node of a member, or NIL. */
  node(member: string): ZNode {
    return this.#find(member) ?? NIL;
  }

  /** The member of a node. */
  member(n: ZNode): string {
    return this.#members[this.#rec[n + SLOT]];
  }

  /** The score of a node. */
  scoreOf(n: ZNode): number {
    return this.#scores[n >> 1];
  }

  /** The next node in (score, member) order, or NIL. */
  next(n: ZNode): ZNode {
    return this.#rec[n + LV];
  }

  /** The previous node in (score, member) order, or NIL. */
  prev(n: ZNode): ZNode {
    return this.#rec[n + PREV];
  }

  /** First node in order, or NIL. */
  first(): ZNode {
    return this.#rec[LV];
  }

  /** Last node in order, or NIL. */
  last(): ZNode {
    return this.#tail;
  }

  /**
   * Before adding a new member of length `memberLen`: converts to skiplist when the
   * listpack would exceed its limits, as Redis's zsetAdd does before inserting (so the
   * new member is stored the skiplist way, a -0 score kept).
   */
  checkGrow(memberLen: number, limits: ZSetLimits): void {
    if (this.listpack && (this.size + 1 > limits.maxEntries || memberLen > limits.maxValue)) {
      this.listpack = false;
    }
  }

  /** Adds a new member or changes the score of an existing one. */
  add(member: string, score: number): void {
    // a listpack stores an integral score as an integer, so -0 reads back as 0
    if (score === 0 && this.listpack) score = 0;
    const existing = this.#find(member);
    if (existing !== undefined) {
      this.#updateScore(existing, member, score);
      return;
    }
    this.#addNew(member, score);
  }

  /** Adds a member the caller knows is absent (one dict lookup less than add()). */
  addNew(member: string, score: number): void {
    if (score === 0 && this.listpack) score = 0;
    this.#addNew(member, score);
  }

  #addNew(member: string, score: number): void {
    const slot = this.#dict.size;
    if (slot === this.#slots.length) {
      const grown = new Int32Array(slot * 2);
      grown.set(this.#slots);
      this.#slots = grown;
    }
    const node = this.#insert(score, member, slot);
    this.#slots[slot] = node;
    this.#members.push(member);
    this.#dict.set(member, node);
  }

  /** Removes a member; returns true if it was present. */
  remove(member: string): boolean {
    const node = this.#find(member);
    if (node === undefined) return false;
    this.#removeNode(node, member);
    return true;
  }

  /** Removes a node obtained from this set (its handle is invalid afterwards). */
  removeNode(node: ZNode): void {
    this.#removeNode(node, this.member(node));
  }

  #removeNode(node: ZNode, member: string): void {
    const rec = this.#rec;
    const slot = rec[node + SLOT];
    this.#delete(node);
    this.#dict.delete(member);
    const last = this.#dict.size;
    const members = this.#members;
    if (slot !== last) {
      const moved = this.#slots[last];
      this.#slots[slot] = moved;
      members[slot] = members[last];
      rec[moved + SLOT] = slot;
    }
    members.pop();
    this.#release(node);
  }

  #updateScore(node: ZNode, member: string, score: number): void {
    const rec = this.#rec;
    const scores = this.#scores;
    const prev = rec[node + PREV];
    const next = rec[node + LV];
    if (
      (prev === NIL || scores[prev >> 1] < score ||
        (scores[prev >> 1] === score && this.member(prev) < member)) &&
      (next === NIL || score < scores[next >> 1] ||
        (score === scores[next >> 1] && member < this.member(next)))
    ) {
      scores[node >> 1] = score;
      return;
    }
    const slot = rec[node + SLOT];
    this.#delete(node);
    this.#release(node);
    const fresh = this.#insert(score, member, slot);
    this.#slots[slot] = fresh;
    this.#dict.set(member, fresh);
  }

  /** A record for a node of `level` levels (may grow the buffer: re-read the views). */
  #alloc(level: number): ZNode {
    const reuse = this.#free[level];
    if (reuse !== undefined && reuse.length > 0) return reuse.pop()!;
    const at = this.#top;
    const end = at + recordSize(level);
    if (end > this.#rec.length) {
      const buf = new ArrayBuffer(Math.max(end, this.#rec.length * 2) * 4);
      const rec = new Int32Array(buf);
      rec.set(this.#rec.subarray(0, at));
      this.#buf = buf;
      this.#rec = rec;
      this.#scores = new Float64Array(buf);
    }
    this.#top = end;
    return at;
  }

  #release(node: ZNode): void {
    const level = this.#rec[node + LEVEL];
    (this.#free[level] ??= []).push(node);
  }

  /** True when the node sorts before (score, member). */
  #before(n: ZNode, score: number, member: string): boolean {
    const s = this.#scores[n >> 1];
    return s < score || (s === score && this.member(n) < member);
  }

  #insert(score: number, member: string, slot: number): ZNode {
    const level = randomLevel();
    const node = this.#alloc(level);
    const rec = this.#rec;
    const scores = this.#scores;
    const members = this.#members;
    let x = 0;
    for (let i = this.#level - 1; i >= 0; i--) {
      rankAt[i] = i === this.#level - 1 ? 0 : rankAt[i + 1];
      let p = x + LV + 2 * i;
      let n = rec[p];
      while (n !== NIL) {
        const ns = scores[n >> 1];
        if (!(ns < score || (ns === score && members[rec[n + SLOT]] < member))) break;
        rankAt[i] += rec[p + 1];
        x = n;
        p = x + LV + 2 * i;
        n = rec[p];
      }
      update[i] = x;
    }
    if (level > this.#level) {
      for (let i = this.#level; i < level; i++) {
        rankAt[i] = 0;
        update[i] = 0;
        rec[LV + 2 * i + 1] = this.#dict.size;
      }
      this.#level = level;
    }
    scores[node >> 1] = score;
    rec[node + SLOT] = slot;
    rec[node + LEVEL] = level;
    for (let i = 0; i < level; i++) {
      const u = update[i] + LV + 2 * i;
      const p = node + LV + 2 * i;
      rec[p] = rec[u];
      rec[u] = node;
      rec[p + 1] = rec[u + 1] - (rankAt[0] - rankAt[i]);
      rec[u + 1] = rankAt[0] - rankAt[i] + 1;
    }
    for (let i = level; i < this.#level; i++) rec[update[i] + LV + 2 * i + 1]++;
    rec[node + PREV] = update[0];
    const after = rec[node + LV];
    if (after !== NIL) rec[after + PREV] = node;
    else this.#tail = node;
    return node;
  }

  /** Unlinks a node from every level (Redis's zslDeleteNode after the search). */
  #delete(target: ZNode): void {
    const rec = this.#rec;
    const score = this.#scores[target >> 1];
    const member = this.member(target);
    let x = 0;
    for (let i = this.#level - 1; i >= 0; i--) {
      let n = rec[x + LV + 2 * i];
      while (n !== NIL && n !== target && this.#before(n, score, member)) {
        x = n;
        n = rec[x + LV + 2 * i];
      }
      update[i] = x;
    }
    for (let i = 0; i < this.#level; i++) {
      const u = update[i] + LV + 2 * i;
      if (rec[u] === target) {
        rec[u + 1] += rec[target + LV + 2 * i + 1] - 1;
        rec[u] = rec[target + LV + 2 * i];
      } else {
        rec[u + 1]--;
      }
    }
    const after = rec[target + LV];
    if (after !== NIL) rec[after + PREV] = rec[target + PREV];
    else this.#tail = rec[target + PREV];
    while (this.#level > 1 && rec[LV + 2 * (this.#level - 1)] === NIL) this.#level--;
  }

  /** 0-based rank of a member in ascending order, or undefined. O(log n). */
  rank(member: string): number | undefined {
    const node = this.#find(member);
    if (node === undefined) return undefined;
    const rec = this.#rec;
    const score = this.#scores[node >> 1];
    let x = 0;
    let rank = 0;
    for (let i = this.#level - 1; i >= 0; i--) {
      let n = rec[x + LV + 2 * i];
      while (n !== NIL && (n === node || this.#before(n, score, member))) {
        rank += rec[x + LV + 2 * i + 1];
        x = n;
        if (x === node) return rank - 1;
        n = rec[x + LV + 2 * i];
      }
    }
    return rank - 1;
  }

  /** Node at 0-based ascending rank, or NIL. O(log n). */
  byRank(rank: number): ZNode {
    if (rank < 0 || rank >= this.size) return NIL;
    const rec = this.#rec;
    const target = rank + 1;
    let x = 0;
    let traversed = 0;
    for (let i = this.#level - 1; i >= 0; i--) {
      let p = x + LV + 2 * i;
      while (rec[p] !== NIL && traversed + rec[p + 1] <= target) {
        traversed += rec[p + 1];
        x = rec[p];
        p = x + LV + 2 * i;
      }
      if (traversed === target) return x;
    }
    return NIL;
  }

  /** First node inside the score range, or NIL. */
  firstInScoreRange(r: ScoreRange): ZNode {
    if (scoreRangeEmpty(r)) return NIL;
    const tail = this.#tail;
    const scores = this.#scores;
    if (tail === NIL || !scoreGteMin(scores[tail >> 1], r)) return NIL;
    if (!scoreLteMax(scores[this.first() >> 1], r)) return NIL;
    const rec = this.#rec;
    let x = 0;
    for (let i = this.#level - 1; i >= 0; i--) {
      let n = rec[x + LV + 2 * i];
      while (n !== NIL && !scoreGteMin(scores[n >> 1], r)) {
        x = n;
        n = rec[x + LV + 2 * i];
      }
    }
    const n = rec[x + LV];
    return scoreLteMax(scores[n >> 1], r) ? n : NIL;
  }

  /** Last node inside the score range, or NIL. */
  lastInScoreRange(r: ScoreRange): ZNode {
    if (scoreRangeEmpty(r)) return NIL;
    const tail = this.#tail;
    const scores = this.#scores;
    if (tail === NIL || !scoreGteMin(scores[tail >> 1], r)) return NIL;
    if (!scoreLteMax(scores[this.first() >> 1], r)) return NIL;
    const rec = this.#rec;
    let x = 0;
    for (let i = this.#level - 1; i >= 0; i--) {
      let n = rec[x + LV + 2 * i];
      while (n !== NIL && scoreLteMax(scores[n >> 1], r)) {
        x = n;
        n = rec[x + LV + 2 * i];
      }
    }
    return scoreGteMin(scores[x >> 1], r) ? x : NIL;
  }

  /**
   * First node inside the lex range, or NIL. A listpack is scanned linearly like
   * Redis's zzlFirstInLexRange (results differ from a descent when scores differ).
   */
  firstInLexRange(r: LexRange): ZNode {
    if (lexRangeEmpty(r)) return NIL;
    const tail = this.#tail;
    if (tail === NIL || !lexGteMin(this.member(tail), r)) return NIL;
    if (!lexLteMax(this.member(this.first()), r)) return NIL;
    if (this.listpack) {
      for (let n = this.first(); n !== NIL; n = this.next(n)) {
        const m = this.member(n);
        if (lexGteMin(m, r)) return lexLteMax(m, r) ? n : NIL;
      }
      return NIL;
    }
    const rec = this.#rec;
    let x = 0;
    for (let i = this.#level - 1; i >= 0; i--) {
      let n = rec[x + LV + 2 * i];
      while (n !== NIL && !lexGteMin(this.member(n), r)) {
        x = n;
        n = rec[x + LV + 2 * i];
      }
    }
    const n = rec[x + LV];
    return lexLteMax(this.member(n), r) ? n : NIL;
  }

  /** Last node inside the lex range, or NIL (listpack: a linear scan from the tail). */
  lastInLexRange(r: LexRange): ZNode {
    if (lexRangeEmpty(r)) return NIL;
    const tail = this.#tail;
    if (tail === NIL || !lexGteMin(this.member(tail), r)) return NIL;
    if (!lexLteMax(this.member(this.first()), r)) return NIL;
    if (this.listpack) {
      for (let n = tail; n !== NIL; n = this.prev(n)) {
        const m = this.member(n);
        if (lexLteMax(m, r)) return lexGteMin(m, r) ? n : NIL;
      }
      return NIL;
    }
    const rec = this.#rec;
    let x = 0;
    for (let i = this.#level - 1; i >= 0; i--) {
      let n = rec[x + LV + 2 * i];
      while (n !== NIL && lexLteMax(this.member(n), r)) {
        x = n;
        n = rec[x + LV + 2 * i];
      }
    }
    return lexGteMin(this.member(x), r) ? x : NIL;
  }

  /** Number of members in the score range. O(log n). */
  countInScoreRange(r: ScoreRange): number {
    const a = this.firstInScoreRange(r);
    if (a === NIL) return 0;
    const b = this.lastInScoreRange(r);
    return this.rank(this.member(b))! - this.rank(this.member(a))! + 1;
  }

  /** Number of members in the lex range. O(log n) (listpack: linear, like Redis). */
  countInLexRange(r: LexRange): number {
    const a = this.firstInLexRange(r);
    if (a === NIL) return 0;
    if (this.listpack) {
      let count = 0;
      for (let n = a; n !== NIL && lexLteMax(this.member(n), r); n = this.next(n)) count++;
      return count;
    }
    const b = this.lastInLexRange(r);
    return this.rank(this.member(b))! - this.rank(this.member(a))! + 1;
  }

  /** A uniformly random node. O(1). The set must not be empty. */
  randomNode(): ZNode {
    return this.#slots[Math.floor(Math.random() * this.size)];
  }

  /** Node at a slot (for sampling without repeats), or NIL. */
  slotNode(i: number): ZNode {
    return i >= 0 && i < this.size ? this.#slots[i] : NIL;
  }

  /**
   * One step of a hashtable-style SCAN over the slot array (visited from the end
   * down, so a removal never hides a member present for the whole scan).
   */
  scan(cursor: number, count: number, visit: (n: ZNode) => void): number {
    const size = this.size;
    let pos = cursor === 0 ? size : Math.min(cursor - 1, size);
    let n = 0;
    while (pos > 0 && n < count) {
      pos--;
      visit(this.#slots[pos]);
      n++;
    }
    return pos === 0 ? 0 : pos + 1;
  }
}
