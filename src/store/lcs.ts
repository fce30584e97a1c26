/**
 * Longest common subsequence of two byte strings, computed like Redis's LCS command
 * (t_string.c lcsCommand): the dynamic-programming table, then a walk back from the
 * end that yields the subsequence and its matching ranges, last range first.
 */

/** One matching range: [aStart, aEnd] in the first string, [bStart, bEnd] in the second. */
export interface LcsMatch {
  a: [number, number];
  b: [number, number];
  length: number;
}

/** The result of lcs(). */
export interface LcsResult {
  /** length of the longest common subsequence */
  length: number;
  /** the subsequence itself (only when asked for) */
  text: string;
  /** matching ranges of at least `minMatchLen` bytes (only when asked for) */
  matches: LcsMatch[];
}

/** Options for lcs(). */
export interface LcsOptions {
  /** walk the table back for the text and the ranges (false: length only) */
  walk?: boolean;
  /** ranges shorter than this are left out (0 keeps all) */
  minMatchLen?: number;
}

/** Bytes of the table lcs() needs for strings of these lengths (Redis's limit check). */
export function lcsTableBytes(aLength: number, bLength: number): number {
  return (aLength + 1) * (bLength + 1) * 4;
}

/** Computes the LCS of `a` and `b` (binary strings). */
export function lcs(a: string, b: string, options: LcsOptions = {}): LcsResult {
  const alen = a.length;
  const blen = b.length;
  const w = blen + 1;
  const table = new Uint32Array((alen + 1) * w);
  for (let i = 1; i <= alen; i++) {
    const ac = a.charCodeAt(i - 1);
    for (let j = 1; j <= blen; j++) {
      if (ac === b.charCodeAt(j - 1)) table[i * w + j] = table[(i - 1) * w + j - 1] + 1;
      else {
        const l1 = table[(i - 1) * w + j];
        const l2 = table[i * w + j - 1];
        table[i * w + j] = l1 > l2 ? l1 : l2;
      }
    }
  }
  const length = table[alen * w + blen];
  if (options.walk === false) return { length, text: "", matches: [] };
  const minMatchLen = options.minMatchLen ?? 0;
  const result: string[] = new Array(length);
  const matches: LcsMatch[] = [];
  let idx = length;
  // arangeStart === alen means "no range open"
  let arangeStart = alen;
  let arangeEnd = 0;
  let brangeStart = 0;
  let brangeEnd = 0;
  let i = alen;
  let j = blen;
  while (i > 0 && j > 0) {
    let emit = false;
    if (a.charCodeAt(i - 1) === b.charCodeAt(j - 1)) {
      result[idx - 1] = a[i - 1];
      if (arangeStart === alen) {
        arangeStart = i - 1;
        arangeEnd = i - 1;
        brangeStart = j - 1;
        brangeEnd = j - 1;
      } else if (arangeStart === i && brangeStart === j) {
        arangeStart--;
        brangeStart--;
      } else {
        emit = true;
      }
      if (arangeStart === 0 || brangeStart === 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      if (table[(i - 1) * w + j] > table[i * w + j - 1]) i--;
      else j--;
      if (arangeStart !== alen) emit = true;
    }
    if (emit) {
      const matchLen = arangeEnd - arangeStart + 1;
      if (minMatchLen === 0 || matchLen >= minMatchLen) {
        matches.push({
          a: [arangeStart, arangeEnd],
          b: [brangeStart, brangeEnd],
          length: matchLen,
        });
      }
      arangeStart = alen;
    }
  }
  return { length, text: result.join(""), matches };
}
