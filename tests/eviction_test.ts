import assert from "node:assert/strict";
import {
  HAVE_REDIS,
  onRedenoThenRedis,
  parseInfo,
  type Reply,
  RespClient,
  RespError,
  startRealRedis,
  waitFor,
  withRedeno,
} from "./helpers.ts";

/** INFO fields of the given section. */
async function info(c: RespClient, section: string): Promise<Map<string, string>> {
  return parseInfo(await c.call("INFO", section) as string);
}

async function usedMemory(c: RespClient): Promise<number> {
  return Number((await info(c, "memory")).get("used_memory"));
}

async function evictedKeys(c: RespClient): Promise<number> {
  return Number((await info(c, "stats")).get("evicted_keys"));
}

/** Starts a server and a client; the callback gets both, and they are always stopped. */
const withServer = withRedeno;

/** Sets maxmemory to the current usage plus `headroom` bytes under `policy`. */
async function limitAbove(c: RespClient, policy: string, headroom: number): Promise<number> {
  const limit = await usedMemory(c) + headroom;
  await c.call("CONFIG", "SET", "maxmemory-policy", policy);
  await c.call("CONFIG", "SET", "maxmemory", String(limit));
  return limit;
}

/**
 * Waits until used_memory is back under `limit`: like Redis, an eviction that runs out
 * of its time budget continues in the background, so a loaded machine may see the
 * keyspace before all of it is done.
 */
async function evictionSettled(c: RespClient, limit: number): Promise<void> {
  await waitFor(async () => (await usedMemory(c)) <= limit, { what: "eviction under the limit" });
}

/** Pipelines many commands and waits for every reply. */
async function pipeline(c: RespClient, cmds: string[][]): Promise<Reply[]> {
  const out: Reply[] = [];
  for (let i = 0; i < cmds.length; i += 500) out.push(...await c.pipeline(cmds.slice(i, i + 500)));
  return out;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

Deno.test("allkeys-lru keeps used_memory under maxmemory while writes continue", async () => {
  await withServer(async (c) => {
    const limit = await limitAbove(c, "allkeys-lru", 100 * 1024);
    await pipeline(c, range(5000).map((i) => ["SET", `key:${i}`, "x".repeat(50)]));
    const used = await usedMemory(c);
    assert.ok(used <= limit + 200, `used ${used} > limit ${limit}`);
    const dbsize = await c.call("DBSIZE") as number;
    assert.ok(dbsize > 500 && dbsize < 5000, `dbsize ${dbsize}`);
    assert.equal(await evictedKeys(c), 5000 - dbsize);
    const mem = await info(c, "memory");
    assert.equal(mem.get("maxmemory"), String(limit));
    assert.equal(mem.get("maxmemory_policy"), "allkeys-lru");
    assert.match(mem.get("maxmemory_human")!, /^\d+\.\d\dK$/);
    assert.equal(mem.get("mem_not_counted_for_evict"), "0");
    assert.ok(Number(mem.get("used_memory_dataset")) > 0);
    assert.ok(Number(mem.get("used_memory_rss")) > used);
  });
});

Deno.test("used_memory_dataset is the sum of MEMORY USAGE of every key", async () => {
  await withServer(async (c) => {
    await c.call("CONFIG", "SET", "maxmemory", "1gb");
    await c.call("SET", "s", "hello");
    await c.call("SET", "n", "12345");
    await c.call("RPUSH", "l", "a", "bb", "ccc");
    await c.call("HSET", "h", "f1", "v1", "f2", "v2");
    await c.call("SADD", "set", "m1", "m2");
    await c.call("ZADD", "z", "1", "a", "2", "b");
    await c.call("XADD", "x", "*", "f", "v");
    await c.call("SETRANGE", "big", "1000", "y");
    await c.call("EXPIRE", "s", "100");
    let sum = 0;
    for (const k of ["s", "n", "l", "h", "set", "z", "x", "big"]) {
      sum += await c.call("MEMORY", "USAGE", k) as number;
    }
    const mem = await info(c, "memory");
    assert.equal(Number(mem.get("used_memory_dataset")), sum);
    // removing keys gives their bytes back
    await c.call("DEL", "l", "h", "set", "z", "x", "big", "s", "n");
    assert.equal((await info(c, "memory")).get("used_memory_dataset"), "0");
  });
});

Deno.test("noeviction: denyoom commands get Redis's -OOM, reads and DEL still run", async () => {
  await withServer(async (c) => {
    await c.call("SET", "a", "1");
    await c.call("CONFIG", "SET", "maxmemory", "1");
    const err = await c.call("SET", "b", "2") as RespError;
    assert.ok(err instanceof RespError);
    assert.equal(err.message, "OOM command not allowed when used memory > 'maxmemory'.");
    assert.equal(await c.call("GET", "a"), "1");
    assert.equal(await c.call("DEL", "a"), 1);
    assert.equal(await evictedKeys(c), 0);
    if (HAVE_REDIS) {
      const real = await startRealRedis();
      const r = await RespClient.connect(real.port);
      try {
        await r.call("CONFIG", "SET", "maxmemory", "1");
        const redisErr = await r.call("SET", "b", "2") as RespError;
        assert.equal(err.message, redisErr.message);
      } finally {
        r.close();
        await real.stop();
      }
    }
  });
});

Deno.test("volatile policies evict only keys with a TTL, then answer -OOM", async () => {
  for (const policy of ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"]) {
    await withServer(async (c) => {
      await pipeline(c, range(200).map((i) => ["SET", `persistent:${i}`, "v".repeat(40)]));
      await pipeline(
        c,
        range(200).map((i) => ["SET", `volatile:${i}`, "v".repeat(40), "EX", "1000"]),
      );
      const used = await usedMemory(c);
      await c.call("CONFIG", "SET", "maxmemory-policy", policy);
      // about 100 volatile keys over the limit
      await c.call("CONFIG", "SET", "maxmemory", String(used - 100 * 120));
      await evictionSettled(c, used - 100 * 120);
      const keys = await c.call("KEYS", "*") as string[];
      assert.equal(keys.filter((k) => k.startsWith("persistent:")).length, 200, policy);
      const left = keys.filter((k) => k.startsWith("volatile:")).length;
      assert.ok(left > 0 && left < 200, `${policy}: ${left} volatile keys left`);
      // with fewer than the persistent keys' bytes allowed, nothing evictable is left
      await c.call("CONFIG", "SET", "maxmemory", "1");
      const err = await c.call("SET", "more", "x") as RespError;
      assert.ok(err instanceof RespError, policy);
      assert.match(err.message, /^OOM /);
      assert.equal(await c.call("DBSIZE"), 200, policy);
    });
  }
});

Deno.test("volatile-ttl evicts the keys closest to expiring first", async () => {
  await withServer(async (c) => {
    await pipeline(c, range(100).map((i) => ["SET", `soon:${i}`, "v".repeat(40), "EX", "100"]));
    await pipeline(c, range(100).map((i) => ["SET", `late:${i}`, "v".repeat(40), "EX", "9000"]));
    await c.call("CONFIG", "SET", "maxmemory-samples", "10");
    await evictionSettled(c, await limitAbove(c, "volatile-ttl", -50 * 120));
    const keys = await c.call("KEYS", "*") as string[];
    assert.equal(keys.filter((k) => k.startsWith("late:")).length, 100);
    assert.ok(keys.filter((k) => k.startsWith("soon:")).length < 100);
  });
});

Deno.test("allkeys-lfu keeps frequently read keys", async () => {
  await withServer(async (c) => {
    await c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu");
    await c.call("CONFIG", "SET", "maxmemory-samples", "10");
    await pipeline(c, range(200).map((i) => ["SET", `cold:${i}`, "v".repeat(40)]));
    await pipeline(c, range(100).map((i) => ["SET", `hot:${i}`, "v".repeat(40)]));
    const reads: string[][] = [];
    for (let r = 0; r < 30; r++) for (const i of range(100)) reads.push(["GET", `hot:${i}`]);
    await pipeline(c, reads);
    await evictionSettled(c, await limitAbove(c, "allkeys-lfu", -100 * 110));
    const keys = await c.call("KEYS", "*") as string[];
    assert.ok(keys.filter((k) => k.startsWith("hot:")).length >= 98);
    assert.ok(keys.filter((k) => k.startsWith("cold:")).length <= 120);
  });
});

Deno.test("allkeys-lru keeps recently read keys", async () => {
  await withServer(async (c) => {
    await c.call("CONFIG", "SET", "maxmemory-samples", "10");
    await pipeline(c, range(200).map((i) => ["SET", `cold:${i}`, "v".repeat(40)]));
    await pipeline(c, range(100).map((i) => ["SET", `hot:${i}`, "v".repeat(40)]));
    // the LRU clock has Redis's one-second resolution
    await waitFor(async () => (await c.call("OBJECT", "IDLETIME", "cold:0") as number) >= 1);
    await pipeline(c, range(100).map((i) => ["GET", `hot:${i}`]));
    await evictionSettled(c, await limitAbove(c, "allkeys-lru", -100 * 110));
    const keys = await c.call("KEYS", "*") as string[];
    assert.ok(keys.filter((k) => k.startsWith("hot:")).length >= 98);
    assert.ok(keys.filter((k) => k.startsWith("cold:")).length <= 120);
  });
});

Deno.test("evicted keys are notified as 'evicted' and propagated as DEL", async () => {
  await withServer(async (c, t) => {
    const fed: string[] = [];
    const decoder = new TextDecoder();
    t.server.sinks.push({ feed: (_db, bytes) => void fed.push(decoder.decode(bytes)) });
    await c.call("CONFIG", "SET", "notify-keyspace-events", "Ee");
    const sub = await RespClient.connect(t.port);
    try {
      await sub.call("SUBSCRIBE", "__keyevent@0__:evicted");
      await c.call("SET", "k1", "a");
      await c.call("SET", "k2", "b");
      await c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-random");
      await c.call("CONFIG", "SET", "maxmemory", "1");
      await waitFor(async () => (await c.call("DBSIZE")) === 0, { what: "both keys evicted" });
      const events = [await sub.read(), await sub.read()] as string[][];
      assert.deepEqual(events.map((m) => m[2]).sort(), ["k1", "k2"]);
      assert.equal(events[0][0], "message");
      const dels = fed.filter((f) => f.includes("DEL"));
      assert.equal(dels.length, 2);
      // each DEL on its own, not wrapped in MULTI
      assert.ok(!fed.some((f) => f.includes("MULTI")));
      assert.equal(await evictedKeys(c), 2);
    } finally {
      sub.close();
    }
  });
});

Deno.test("keys written in MULTI are evicted after EXEC, not during it", async () => {
  await withServer(async (c, t) => {
    const fed: string[] = [];
    const decoder = new TextDecoder();
    t.server.sinks.push({ feed: (_db, bytes) => void fed.push(decoder.decode(bytes)) });
    await c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru");
    await c.call("MULTI");
    await c.call("INCR", "x");
    await c.call("CONFIG", "SET", "maxmemory", "1");
    await c.call("INCR", "x");
    assert.deepEqual(await c.call("EXEC"), [1, "OK", 2]);
    await waitFor(async () => (await c.call("DBSIZE")) === 0, { what: "x evicted" });
    const text = fed.join("");
    assert.ok(text.indexOf("EXEC") < text.indexOf("DEL"), text);
  });
});

Deno.test("CONFIG SET maxmemory 0 turns eviction off", async () => {
  await withServer(async (c) => {
    await c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru");
    await c.call("CONFIG", "SET", "maxmemory", "1");
    await c.call("CONFIG", "SET", "maxmemory", "0");
    await pipeline(c, range(100).map((i) => ["SET", `k:${i}`, "v"]));
    assert.equal(await c.call("DBSIZE"), 100);
    assert.equal(await evictedKeys(c), 0);
    const mem = await info(c, "memory");
    assert.equal(mem.get("maxmemory"), "0");
    assert.equal(mem.get("maxmemory_human"), "0B");
    assert.ok(Number(mem.get("used_memory_dataset")) >= 100 * 50);
  });
});

Deno.test("maxmemory-clients closes the biggest client, sparing CLIENT NO-EVICT ones", async () => {
  await withServer(async (c, t) => {
    await c.call("CLIENT", "NO-EVICT", "on");
    await c.call("CONFIG", "SET", "maxmemory-clients", "200kb");
    await c.call("SET", "k", "v");
    const big = await RespClient.connect(t.port);
    try {
      // a command still arriving: 300 KB of arguments held in the query buffer
      let partial = "*400\r\n";
      for (let i = 0; i < 300; i++) partial += `$1000\r\n${"x".repeat(1000)}\r\n`;
      await big.write(partial);
      await waitFor(async () => Number((await info(c, "stats")).get("evicted_clients")) === 1);
      await assert.rejects(() => big.read(2000));
      assert.equal(await c.call("GET", "k"), "v");
      assert.equal(await evictedKeys(c), 0);
    } finally {
      big.close();
    }
  });
});

Deno.test("OBJECT REFCOUNT: small integers are not shared under an LRU maxmemory-policy", async () => {
  await withServer(async (c) => {
    await c.call("SET", "a", "1");
    assert.equal(await c.call("OBJECT", "REFCOUNT", "a"), 2147483647);
    await c.call("CONFIG", "SET", "maxmemory", "1gb");
    await c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru");
    assert.equal(await c.call("OBJECT", "REFCOUNT", "a"), 1);
  });
});

/**
 * `body` against Redeno, then against a real redis-server when one is installed (client
 * eviction is observable the same way on both).
 */
async function sideBySide(body: (c: RespClient, port: number) => Promise<void>): Promise<void> {
  await onRedenoThenRedis(async (port) => {
    const c = await RespClient.connect(port);
    try {
      await body(c, port);
    } finally {
      c.close();
    }
  });
}

Deno.test("maxmemory-clients counts a MULTI queue: the client queueing past it is evicted at once (as redis-server)", async () => {
  await sideBySide(async (c, port) => {
    const limit = 2 * 1024 * 1024;
    await c.call("CLIENT", "NO-EVICT", "on");
    await c.call("CONFIG", "SET", "maxmemory-clients", String(limit));
    const big = await RespClient.connect(port);
    try {
      await big.call("CLIENT", "SETNAME", "queuer");
      const value = "v".repeat(limit / 4);
      // a transaction under the limit runs
      assert.equal(await big.call("MULTI"), "OK");
      assert.equal(await big.call("SET", "k", value), "QUEUED");
      assert.equal(await big.call("SET", "k", value), "QUEUED");
      assert.deepEqual(await big.call("EXEC"), ["OK", "OK"]);
      // CLIENT LIST shows the queue as multi-mem
      assert.equal(await big.call("MULTI"), "OK");
      assert.equal(await big.call("SET", "k", value), "QUEUED");
      const line = String(await c.call("CLIENT", "LIST")).split("\n").find((l) =>
        l.includes("name=queuer ")
      )!;
      assert.ok(Number(/multi-mem=(\d+)/.exec(line)![1]) > limit / 4, line);
      // queueing past the limit: evicted before the command that crosses it runs
      let evicted = false;
      for (let i = 0; i < 5 && !evicted; i++) {
        try {
          await big.call("SET", "k", value);
        } catch {
          evicted = true;
        }
      }
      assert.ok(evicted, "the connection was closed");
      const list = String(await c.call("CLIENT", "LIST"));
      assert.ok(!list.includes("name=queuer "), list);
      assert.equal(Number((await info(c, "stats")).get("evicted_clients")), 1);
    } finally {
      big.close();
    }
  });
});
