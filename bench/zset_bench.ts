/**
 * Sorted set micro-benchmark: ZADD (insert + remove of a fresh member), ZRANK and a
 * 10-element ZRANGE by rank on ZSetValue at 10k, 100k and 1M members. Times should
 * grow with log n (a few tens of percent per 10x), not with n.
 *
 *   deno bench bench/zset_bench.ts
 */
import { NIL, ZSetValue } from "../src/store/zset.ts";

const SIZES = [10_000, 100_000, 1_000_000];

function build(n: number): ZSetValue {
  const z = new ZSetValue();
  z.listpack = false;
  for (let i = 0; i < n; i++) z.add(`member:${i}`, (i * 7919) % n);
  return z;
}

let seed = 1;
function rnd(n: number): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
}

for (const n of SIZES) {
  const z = build(n);
  let fresh = 0;
  Deno.bench({ name: `ZADD+ZREM n=${n}`, group: "zadd", baseline: n === SIZES[0] }, () => {
    const m = `fresh:${fresh++}`;
    z.add(m, rnd(n) + 0.5);
    z.remove(m);
  });
  Deno.bench({ name: `ZRANK n=${n}`, group: "zrank", baseline: n === SIZES[0] }, () => {
    z.rank(`member:${rnd(n)}`);
  });
  Deno.bench({ name: `ZRANGE 10 n=${n}`, group: "zrange", baseline: n === SIZES[0] }, () => {
    let node = z.byRank(rnd(n - 10));
    for (let i = 0; i < 10 && node !== NIL; i++) node = z.next(node);
  });
  Deno.bench({ name: `ZSCORE n=${n}`, group: "zscore", baseline: n === SIZES[0] }, () => {
    z.score(`member:${rnd(n)}`);
  });
}
