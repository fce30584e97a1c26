/**
 * The maxmemory limit for commands that may grow memory (Redis: evict.c's
 * performEvictions as seen by processCommand): when used memory (the JS heap plus
 * external buffers, as INFO's used_memory) is above `maxmemory` under the
 * `noeviction` policy, denyoom commands (and EXEC of a queue holding one) get -OOM.
 * The eviction policies do not evict keys: under them the limit is not enforced.
 */
import v8 from "node:v8";
import type { Server } from "./server.ts";

/** How long a heap measurement is reused (it costs microseconds: not per command). */
const MEASURE_EVERY_MS = 1;

/** Installs the maxmemory check on a server. */
export function installMaxmemory(server: Server): void {
  const config = server.config;
  let limit = config.num("maxmemory");
  let noeviction = config.get("maxmemory-policy") === "noeviction";
  config.onChange((name) => {
    if (name === "maxmemory") limit = config.num("maxmemory");
    else if (name === "maxmemory-policy") {
      noeviction = config.get("maxmemory-policy") === "noeviction";
    }
  });
  let measuredAt = -Infinity;
  let used = 0;
  server.maxmemoryExceeded = () => {
    if (limit === 0 || !noeviction) return false;
    const now = performance.now();
    if (now - measuredAt >= MEASURE_EVERY_MS) {
      const heap = v8.getHeapStatistics();
      used = heap.used_heap_size + heap.external_memory;
      measuredAt = now;
    }
    return used > limit;
  };
}
