/**
 * The `notify-keyspace-events` classes (Redis: notify.c keyspaceEventsStringToFlags and
 * keyspaceEventsFlagsToString), shared by the config table and the notifier.
 */

/** Bit for each class character. */
export const NOTIFY: Record<string, number> = {
  K: 1 << 0,
  E: 1 << 1,
  g: 1 << 2,
  $: 1 << 3,
  l: 1 << 4,
  s: 1 << 5,
  h: 1 << 6,
  z: 1 << 7,
  x: 1 << 8,
  e: 1 << 9,
  t: 1 << 10,
  m: 1 << 11,
  d: 1 << 12,
  n: 1 << 13,
};

/** "A": every data class except key-miss and new-key events. */
export const NOTIFY_ALL = NOTIFY.g | NOTIFY.$ | NOTIFY.l | NOTIFY.s | NOTIFY.h | NOTIFY.z |
  NOTIFY.x | NOTIFY.e | NOTIFY.t | NOTIFY.d;

/** Parses a class string; -1 when it holds an unknown character. */
export function keyspaceEventsStringToFlags(classes: string): number {
  let flags = 0;
  for (const ch of classes) {
    if (ch === "A") flags |= NOTIFY_ALL;
    else if (NOTIFY[ch] !== undefined) flags |= NOTIFY[ch];
    else return -1;
  }
  return flags;
}

/** The last flags turned into a canonical string, and that string (see configuredFlags). */
let lastFlags = 0;
let lastCanonical = "";

/**
 * The flags behind a canonical config value. The canonical form of "AnKE" is "AKE", as in
 * Redis, but the server keeps the `n` bit: the value just produced by
 * keyspaceEventsFlagsToString (CONFIG SET / config file parsing) maps back to its flags.
 */
export function configuredFlags(canonical: string): number {
  if (canonical === lastCanonical) return lastFlags;
  return keyspaceEventsStringToFlags(canonical);
}

/** The canonical class string CONFIG GET shows (e.g. "AKE", "glxE"). */
export function keyspaceEventsFlagsToString(flags: number): string {
  const out = flagsToString(flags);
  lastFlags = flags;
  lastCanonical = out;
  return out;
}

function flagsToString(flags: number): string {
  let out = "";
  if ((flags & NOTIFY_ALL) === NOTIFY_ALL) out += "A";
  else {
    for (const ch of "g$lshzxetdn") if (flags & NOTIFY[ch]) out += ch;
  }
  if (flags & NOTIFY.K) out += "K";
  if (flags & NOTIFY.E) out += "E";
  if (flags & NOTIFY.m) out += "m";
  return out;
}
