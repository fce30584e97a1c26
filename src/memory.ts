/**
 * Approximate memory accounting for MEMORY USAGE (Redis: objectComputeSize). Values
 * live in the JS heap, so the figure is an estimate in Redis's spirit: key and value
 * bytes plus per-object overheads, sampling the elements of large collections.
 */
import type { Value } from "./store/db.ts";

/** Bytes of a dict entry plus the key's string header (Redis's dictEntry + sds). */
const ENTRY_OVERHEAD = 24 + 16;
/** An object header (robj), as Redis counts it. */
const OBJECT_OVERHEAD = 16;

/** Bytes a string takes: an embedded or raw sds, or nothing extra for small integers. */
function stringBytes(s: string): number {
  if (s.length <= 20 && /^-?\d+$/.test(s)) return 8;
  return s.length + (s.length <= 44 ? 3 : 9);
}

/** MEMORY USAGE of a string key from its value's length (`integer`: int-encodable). */
export function memoryUsageOfStringKey(key: string, length: number, integer: boolean): number {
  return ENTRY_OVERHEAD + key.length + OBJECT_OVERHEAD +
    (integer ? 8 : length + (length <= 44 ? 3 : 9));
}

/**
 * Estimates the bytes of `value`: strings exactly, collections by sampling up to
 * `samples` elements (Infinity = all) and scaling by the element count. Value types may
 * answer for themselves with a `memoryUsage(samples)` method.
 */
export function memoryUsageOfKey(key: string, value: Value, samples: number): number {
  const base = ENTRY_OVERHEAD + key.length + OBJECT_OVERHEAD;
  if (typeof value === "string") return base + stringBytes(value);
  return base + estimateObject(value, samples);
}

/** A collection value as MEMORY USAGE sees it: a size and a way to sample elements. */
interface Sizable {
  size?: number;
  length?: number;
  entries?: () => Iterable<unknown>;
  values?: () => Iterable<unknown>;
  members?: () => Iterable<unknown>;
  memoryUsage?: (samples: number) => number;
}

/** Bytes of one element: its strings and numbers plus a per-element overhead. */
function elementBytes(item: unknown): number {
  if (typeof item === "string") return 16 + stringBytes(item);
  if (typeof item === "number" || typeof item === "bigint") return 16 + 8;
  if (Array.isArray(item)) return item.reduce((n: number, x) => n + elementBytes(x), 0);
  return 64;
}

/**
 * Estimates a collection (list, hash, set, zset, stream) from its element count and a
 * sample of its first `samples` elements, like Redis's objectComputeSize.
 */
function estimateObject(v: unknown, samples: number): number {
  const value = v as Sizable;
  if (typeof value.memoryUsage === "function") return value.memoryUsage(samples);
  const count = typeof value.size === "number"
    ? value.size
    : typeof value.length === "number"
    ? value.length
    : 0;
  const iterable = typeof value.entries === "function"
    ? value.entries()
    : typeof value.values === "function"
    ? value.values()
    : typeof value.members === "function"
    ? value.members()
    : null;
  if (iterable === null || count === 0) return 64;
  let sum = 0;
  let seen = 0;
  for (const item of iterable) {
    if (seen >= samples) break;
    sum += elementBytes(item);
    seen++;
  }
  return 64 + Math.round((sum / Math.max(1, seen)) * count);
}
