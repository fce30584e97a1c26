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

/**
 * Estimates the bytes of `value`: strings exactly, collections by sampling up to
 * `samples` elements (Infinity = all) and scaling by the element count.
 */
export function memoryUsageOfKey(key: string, value: Value, samples: number): number {
  const base = ENTRY_OVERHEAD + key.length + OBJECT_OVERHEAD;
  if (typeof value === "string") return base + stringBytes(value);
  return base + estimateObject(value, samples, 0);
}

/** Walks an object graph generically (Maps, Sets, arrays, plain fields), sampling. */
function estimateObject(v: unknown, samples: number, depth: number): number {
  if (typeof v === "string") return stringBytes(v);
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return 8;
  if (v === null || v === undefined || typeof v !== "object" || depth > 4) return 0;
  const sized = v as { memoryUsage?: (samples: number) => number };
  if (typeof sized.memoryUsage === "function") return sized.memoryUsage(samples);
  let items: Iterable<unknown>;
  let count: number;
  if (v instanceof Map) {
    items = v.entries();
    count = v.size;
  } else if (v instanceof Set) {
    items = v.values();
    count = v.size;
  } else if (Array.isArray(v)) {
    items = v;
    count = v.length;
  } else if (ArrayBuffer.isView(v)) {
    return v.byteLength;
  } else {
    items = Object.values(v);
    count = -1;
  }
  let sum = 16;
  let seen = 0;
  for (const item of items) {
    if (seen >= samples) break;
    sum += estimateObject(item, samples, depth + 1);
    seen++;
  }
  if (count > seen && seen > 0) sum = 16 + ((sum - 16) / seen) * count;
  return Math.round(sum);
}
