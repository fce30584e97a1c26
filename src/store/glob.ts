/**
 * Redis's glob-style matcher (util.c stringmatchlen), used by KEYS, SCAN MATCH,
 * PSUBSCRIBE, PUBSUB CHANNELS, CONFIG GET and ACL key patterns. Patterns and subjects
 * are binary strings. Supports `*`, `?`, `[abc]`, `[^abc]`, `[a-z]` (reversed ranges
 * too), and backslash escapes, with Redis's exact edge cases (an unterminated `[`
 * class, a trailing backslash).
 */

/** Options for globMatch(). */
export interface GlobOptions {
  /** ASCII case-insensitive matching (Redis's nocase flag) */
  nocase?: boolean;
}

/** True if `subject` matches the Redis glob `pattern`. */
export function globMatch(pattern: string, subject: string, options: GlobOptions = {}): boolean {
  // stringmatchlen("*", "") is false: an empty subject never enters the match loop
  if (pattern === "*") return subject.length > 0;
  const state = { skipLonger: false };
  return matchFrom(pattern, 0, subject, 0, options.nocase === true, state);
}

/** Redis compares bytes as C `char`, which is signed on the platforms it ships for. */
function signedByte(c: number): number {
  return c > 127 ? c - 256 : c;
}

function toLower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

function matchFrom(
  p: string,
  pi: number,
  s: string,
  si: number,
  nocase: boolean,
  state: { skipLonger: boolean },
): boolean {
  const plen = p.length;
  const slen = s.length;
  while (pi < plen && si < slen) {
    const pc = p.charCodeAt(pi);
    if (pc === 42 /* * */) {
      while (pi + 1 < plen && p.charCodeAt(pi + 1) === 42) pi++;
      if (pi + 1 === plen) return true;
      while (si < slen) {
        if (matchFrom(p, pi + 1, s, si, nocase, state)) return true;
        if (state.skipLonger) return false;
        si++;
      }
      // No match for the rest anywhere in the rest of the subject: an earlier `*`
      // taking more characters cannot help either.
      state.skipLonger = true;
      return false;
    } else if (pc === 63 /* ? */) {
      si++;
    } else if (pc === 91 /* [ */) {
      pi++;
      const not = pi < plen && p.charCodeAt(pi) === 94; /* ^ */
      if (not) pi++;
      let match = false;
      const sc = s.charCodeAt(si);
      for (;;) {
        const cc = pi < plen ? p.charCodeAt(pi) : 0;
        if (cc === 92 /* \ */ && plen - pi >= 2) {
          pi++;
          if (p.charCodeAt(pi) === sc) match = true;
        } else if (cc === 93 /* ] */) {
          break;
        } else if (pi >= plen) {
          pi--;
          break;
        } else if (plen - pi >= 3 && p.charCodeAt(pi + 1) === 45 /* - */) {
          let start = signedByte(cc);
          let end = signedByte(p.charCodeAt(pi + 2));
          let c = signedByte(sc);
          if (start > end) [start, end] = [end, start];
          if (nocase) {
            start = toLower(start);
            end = toLower(end);
            c = toLower(c);
          }
          pi += 2;
          if (c >= start && c <= end) match = true;
        } else if (nocase ? toLower(cc) === toLower(sc) : cc === sc) {
          match = true;
        }
        pi++;
      }
      if (not) match = !match;
      if (!match) return false;
      si++;
    } else {
      let lit = pc;
      if (pc === 92 /* \ */ && plen - pi >= 2) {
        pi++;
        lit = p.charCodeAt(pi);
      }
      const sc = s.charCodeAt(si);
      if (nocase ? toLower(lit) !== toLower(sc) : lit !== sc) return false;
      si++;
    }
    pi++;
    if (si === slen) {
      while (pi < plen && p.charCodeAt(pi) === 42) pi++;
      break;
    }
  }
  return pi === plen && si === slen;
}
