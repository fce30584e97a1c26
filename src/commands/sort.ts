/**
 * SORT and SORT_RO (Redis: sort.c) over lists, sets and sorted sets: numeric or ALPHA
 * order, BY patterns (a pattern without "*" means no sorting), GET patterns ("#" and
 * "key*->field" hash fields), LIMIT, ASC/DESC and STORE (as a list).
 */
import type { Client } from "../client.ts";
import { cmd, type CommandSpec } from "./table.ts";
import { ERR } from "../errors.ts";
import type { Db } from "../store/db.ts";
import { ListValue } from "../store/list.ts";
import { HashValue } from "../store/hash.ts";
import { SetValue } from "../store/set.ts";
import { NIL, ZSetValue } from "../store/zset.ts";
import { longArg } from "./zset_args.ts";
import { parseFloatArg } from "../resp/bytes.ts";

/** One element being sorted, with its numeric score or comparison string. */
interface SortItem {
  value: string;
  score: number;
  cmp: string | null;
}

/** Redis's lookupKeyByPattern: "#" is the element; "*" is replaced; "->f" reads a hash. */
function lookupByPattern(db: Db, pattern: string, subst: string): string | null {
  if (pattern === "#") return subst;
  const star = pattern.indexOf("*");
  if (star < 0) return null;
  const arrow = pattern.indexOf("->", star + 1);
  let field: string | null = null;
  let keyPattern = pattern;
  if (arrow >= 0 && arrow + 2 < pattern.length) {
    field = pattern.slice(arrow + 2);
    keyPattern = pattern.slice(0, arrow);
  }
  const key = keyPattern.slice(0, star) + subst + keyPattern.slice(star + 1);
  const v = db.get(key);
  if (v === undefined) return null;
  if (field !== null) return v instanceof HashValue ? v.get(field) ?? null : null;
  return typeof v === "string" ? v : null;
}

/** strtod over a whole string, as SORT's numeric mode parses; null when not a number. */
function sortScore(s: string): number | null {
  let i = 0;
  while (
    i < s.length && (s.charCodeAt(i) === 32 || (s.charCodeAt(i) >= 9 && s.charCodeAt(i) <= 13))
  ) {
    i++;
  }
  if (i === s.length) return i === 0 ? 0 : null;
  const v = parseFloatArg(s.slice(i));
  if (v === null || Number.isNaN(v)) return null;
  if (!Number.isFinite(v) && !/^[+-]?inf/i.test(s.slice(i))) return null;
  return v;
}

function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortGeneric(c: Client, argv: string[], readonly: boolean): void {
  let desc = false, alpha = false, dontsort = false;
  let limitStart = 0, limitCount = -1;
  let sortBy: string | null = null;
  let storeKey: string | null = null;
  const gets: string[] = [];
  for (let j = 2; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const opt = argv[j].toLowerCase();
    if (opt === "asc") desc = false;
    else if (opt === "desc") desc = true;
    else if (opt === "alpha") alpha = true;
    else if (opt === "limit" && left >= 2) {
      const a = longArg(c, argv[j + 1]);
      if (a === null) return;
      const b = longArg(c, argv[j + 2]);
      if (b === null) return;
      limitStart = a;
      limitCount = b;
      j += 2;
    } else if (!readonly && opt === "store" && left >= 1) {
      storeKey = argv[++j];
    } else if (opt === "by" && left >= 1) {
      sortBy = argv[++j];
      if (!sortBy.includes("*")) dontsort = true;
      else if (!c.server.fullKeyReadAccess(c)) {
        return c.error("ERR BY option of SORT denied due to insufficient ACL permissions.");
      }
    } else if (opt === "get" && left >= 1) {
      if (!c.server.fullKeyReadAccess(c)) {
        return c.error("ERR GET option of SORT denied due to insufficient ACL permissions.");
      }
      gets.push(argv[++j]);
    } else {
      return c.error(ERR.syntax);
    }
  }
  const v = c.db.get(argv[1]);
  if (
    v !== undefined && !(v instanceof ListValue) && !(v instanceof SetValue) &&
    !(v instanceof ZSetValue)
  ) return c.error(ERR.wrongType);
  const sortval = v ?? new ListValue();

  // a set has no order of its own: sort it when storing, or for a script, so replicas
  // and scripts see the same order (Redis forces ALPHA there)
  if (dontsort && sortval instanceof SetValue && (storeKey !== null || c.isScript)) {
    dontsort = false;
    alpha = true;
    sortBy = null;
  }
  let vectorlen = sortval instanceof ListValue ? sortval.length : sortval.size;
  let start = limitStart < 0 ? 0 : limitStart;
  let end = limitCount < 0 ? vectorlen - 1 : start + limitCount - 1;
  if (start >= vectorlen) {
    start = vectorlen - 1;
    end = vectorlen - 2;
  }
  if (end >= vectorlen) end = vectorlen - 1;
  const direct = !(sortval instanceof SetValue) && dontsort;
  if (direct && (start !== 0 || end !== vectorlen - 1)) vectorlen = end - start + 1;

  const vector: SortItem[] = [];
  const item = (value: string): SortItem => ({ value, score: 0, cmp: null });
  if (sortval instanceof ListValue && dontsort) {
    if (end >= start) {
      const len = sortval.length;
      for (let i = 0; i < vectorlen; i++) {
        const idx = desc ? len - start - 1 - i : start + i;
        if (idx < 0 || idx >= len) break;
        vector.push(item(sortval.at(idx)!));
      }
      end -= start;
      start = 0;
    }
  } else if (sortval instanceof ListValue) {
    for (let i = 0; i < sortval.length; i++) vector.push(item(sortval.at(i)!));
  } else if (sortval instanceof SetValue) {
    for (const m of sortval.members()) vector.push(item(m));
  } else if (dontsort) {
    const len = sortval.size;
    let n = desc ? sortval.byRank(len - 1 - start) : sortval.byRank(start);
    for (let i = 0; i < vectorlen && n !== NIL; i++) {
      vector.push(item(sortval.member(n)));
      n = desc ? sortval.prev(n) : sortval.next(n);
    }
    end -= start;
    start = 0;
  } else {
    for (const [m] of sortval.entries()) vector.push(item(m));
  }

  let conversionError = false;
  if (!dontsort) {
    for (const it of vector) {
      let by: string | null = it.value;
      if (sortBy !== null) {
        by = lookupByPattern(c.db, sortBy, it.value);
        if (by === null) continue;
      }
      if (alpha) {
        if (sortBy !== null) it.cmp = by;
      } else {
        const s = sortScore(by);
        if (s === null) conversionError = true;
        else it.score = s;
      }
    }
    const byPattern = sortBy !== null;
    vector.sort((a, b) => {
      let cmp: number;
      if (!alpha) {
        cmp = a.score > b.score ? 1 : a.score < b.score ? -1 : compareBytes(a.value, b.value);
      } else if (byPattern) {
        if (a.cmp === null || b.cmp === null) {
          cmp = a.cmp === b.cmp ? 0 : a.cmp === null ? -1 : 1;
        } else cmp = compareBytes(a.cmp, b.cmp);
      } else cmp = compareBytes(a.value, b.value);
      return desc ? -cmp : cmp;
    });
  }

  const outputLen = gets.length > 0 ? gets.length * (end - start + 1) : end - start + 1;
  if (conversionError) return c.error("ERR One or more scores can't be converted into double");
  if (storeKey === null) {
    c.reply.array(Math.max(outputLen, 0));
    for (let j = start; j <= end; j++) {
      const it = vector[j];
      if (gets.length === 0) c.reply.bulk(it.value);
      for (const g of gets) c.reply.bulkOrNil(lookupByPattern(c.db, g, it.value));
    }
    return;
  }
  const out = new ListValue();
  for (let j = start; j <= end; j++) {
    const it = vector[j];
    if (gets.length === 0) out.pushTail(it.value);
    for (const g of gets) out.pushTail(lookupByPattern(c.db, g, it.value) ?? "");
  }
  if (outputLen > 0) {
    c.db.set(storeKey, out);
    c.modified(storeKey, "l", "sortstore");
    c.server.dirty += outputLen - 1;
  } else if (c.db.delete(storeKey)) {
    c.modified(storeKey, "g", "del");
  }
  c.reply.int(Math.max(outputLen, 0));
}

/**
 * Key positions of SORT: the sorted key and the last STORE destination (Redis's
 * sortGetKeys: a STORE argument is not skipped, so it is scanned as an option too).
 */
function sortKeys(argv: string[]): number[] {
  let store = -1;
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i].toLowerCase();
    if (a === "limit") i += 2;
    else if (a === "store" && i + 1 < argv.length) store = i + 1;
    else if (a === "by" || a === "get") i++;
  }
  return store < 0 ? [1] : [1, store];
}

/** The SORT command specs. */
export const commands: CommandSpec[] = [
  cmd("generic", "sort", -2, "write denyoom movablekeys", (c, a) => sortGeneric(c, a, false), {
    keys: [1, 1, 1],
    getKeys: sortKeys,
    categories: ["set", "sortedset", "list", "dangerous"],
  }),
  cmd("generic", "sort_ro", -2, "readonly movablekeys", (c, a) => sortGeneric(c, a, true), {
    keys: [1, 1, 1],
    categories: ["set", "sortedset", "list", "dangerous"],
  }),
];
