/** Generic keyspace commands, the glob matcher, SCAN guarantees and active expiry. */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  err,
  parseInfo,
  parseReply,
  type Reply,
  RespClient,
  RespError,
  waitFor,
  withRedeno,
} from "./helpers.ts";
import { globMatch } from "../src/store/glob.ts";
import { IGNORE_SIDE_BY_SIDE, withPair } from "./side_by_side.ts";

Deno.test("globMatch() implements Redis's stringmatchlen", () => {
  const cases: Array<[string, string, boolean, boolean?]> = [
    ["*", "anything", true],
    ["*", "", false],
    ["h?llo", "hello", true],
    ["h?llo", "hllo", false],
    ["h*llo", "heeeello", true],
    ["h*llo", "hllo", true],
    ["h[ae]llo", "hallo", true],
    ["h[ae]llo", "hillo", false],
    ["h[^e]llo", "hallo", true],
    ["h[^e]llo", "hello", false],
    ["h[a-c]llo", "hbllo", true],
    ["h[c-a]llo", "hbllo", true],
    ["h\\*llo", "h*llo", true],
    ["h\\*llo", "hello", false],
    ["h[\\]]", "h]", true],
    ["h[a", "ha", true],
    ["abc\\", "abc\\", true],
    ["a*b*c", "axxbyyc", true],
    ["a*b*c", "axxbyy", false],
    ["HELLO", "hello", false],
    ["HELLO", "hello", true, true],
    ["h[A-Z]llo", "hello", true, true],
    ["\xff*", "\xff\x00", true],
    ["[\x80-\xff]", "\x90", true],
    ["a**********************************b", "a" + "x".repeat(40), false],
  ];
  for (const [pattern, subject, expected, nocase] of cases) {
    assertEquals(
      globMatch(pattern, subject, { nocase: nocase ?? false }),
      expected,
      `${JSON.stringify(pattern)} ~ ${JSON.stringify(subject)}`,
    );
  }
});

Deno.test("DEL, UNLINK, EXISTS and TOUCH count each argument", async () => {
  await withRedeno(async (r) => {
    await r.call("MSET", "a", "1", "b", "2");
    assertEquals(await r.call("EXISTS", "a", "a", "b", "nokey"), 3);
    assertEquals(await r.call("TOUCH", "a", "b", "nokey"), 2);
    assertEquals(await r.call("DEL", "a", "a", "nokey"), 1);
    assertEquals(await r.call("UNLINK", "b"), 1);
    assertEquals(await r.call("DBSIZE"), 0);
    assertEquals(await r.call("TYPE", "a"), "none");
    await r.call("RPUSH", "l", "x");
    assertEquals(await r.call("TYPE", "l"), "list");
    assertEquals(await r.call("RANDOMKEY"), "l");
  });
});

Deno.test("KEYS filters with the glob and hides expired keys", async () => {
  await withRedeno(async (r, t) => {
    await r.call("MSET", "hello", "1", "hallo", "1", "h*llo", "1", "other", "1");
    await r.call("SET", "hxllo", "1", "PX", "1");
    t.server.activeExpireEnabled = false;
    await waitFor(async () => (await r.call("PTTL", "hxllo")) === -2);
    const sorted = async (p: string) => ((await r.call("KEYS", p)) as string[]).sort();
    assertEquals(await sorted("h?llo"), ["h*llo", "hallo", "hello"]);
    assertEquals(await sorted("h\\*llo"), ["h*llo"]);
    assertEquals(await sorted("h[a-e]llo"), ["hallo", "hello"]);
    assertEquals(await sorted("*"), ["h*llo", "hallo", "hello", "other"]);
  });
});

Deno.test("a full SCAN returns every key present throughout, with MATCH/TYPE/COUNT", async () => {
  await withRedeno(async (r) => {
    const cmds: string[][] = [];
    for (let i = 0; i < 1000; i++) cmds.push(["SET", `key:${i}`, "v"]);
    await r.pipeline(cmds);
    await r.call("RPUSH", "alist", "x");
    const seen = new Set<string>();
    let cursor = "0";
    let step = 0;
    do {
      const [next, keys] = await r.call("SCAN", cursor, "COUNT", "50") as [string, string[]];
      for (const k of keys) seen.add(k);
      // churn during the scan: delete some keys, add new ones
      if (step < 10) {
        await r.call("DEL", `key:${900 + step}`);
        await r.call("SET", `new:${step}`, "v");
      }
      step++;
      cursor = next;
    } while (cursor !== "0");
    for (let i = 0; i < 900; i++) assert(seen.has(`key:${i}`), `key:${i} missing`);
    assert(seen.has("alist"));

    const matched: string[] = [];
    cursor = "0";
    do {
      const [next, keys] = await r.call("SCAN", cursor, "MATCH", "key:1?", "COUNT", "100") as [
        string,
        string[],
      ];
      matched.push(...keys);
      cursor = next;
    } while (cursor !== "0");
    assertEquals(matched.sort(), Array.from({ length: 10 }, (_, i) => `key:1${i}`).sort());

    const [, lists] = await r.call("SCAN", "0", "TYPE", "list", "COUNT", "10000") as [
      string,
      string[],
    ];
    assertEquals(lists, ["alist"]);
    assertEquals(await r.call("SCAN", "x"), err("ERR invalid cursor"));
    assertEquals(await r.call("SCAN", "0", "COUNT", "0"), err("ERR syntax error"));
  });
});

Deno.test("RENAME moves value and TTL; RENAMENX refuses an existing target", async () => {
  await withRedeno(async (r) => {
    await r.call("SET", "a", "1", "EX", "100");
    assertEquals(await r.call("RENAME", "a", "b"), "OK");
    assertEquals(await r.call("EXISTS", "a"), 0);
    assert((await r.call("TTL", "b") as number) > 90);
    assertEquals(await r.call("RENAME", "a", "b"), err("ERR no such key"));
    assertEquals(await r.call("RENAME", "b", "b"), "OK");
    await r.call("SET", "c", "3");
    assertEquals(await r.call("RENAMENX", "b", "c"), 0);
    assertEquals(await r.call("RENAMENX", "b", "d"), 1);
    await r.call("RPUSH", "list", "x", "y");
    assertEquals(await r.call("RENAME", "list", "c"), "OK");
    assertEquals(await r.call("LRANGE", "c", "0", "-1"), ["x", "y"]);
  });
});

Deno.test("COPY duplicates values (deeply), TTL, across dbs and with REPLACE", async () => {
  await withRedeno(async (r) => {
    await r.call("SET", "s", "v", "EX", "100");
    assertEquals(await r.call("COPY", "s", "t"), 1);
    assert((await r.call("TTL", "t") as number) > 90);
    assertEquals(await r.call("COPY", "s", "t"), 0);
    await r.call("SET", "s", "v2");
    assertEquals(await r.call("COPY", "s", "t", "REPLACE"), 1);
    assertEquals(await r.call("GET", "t"), "v2");
    assertEquals(
      await r.call("COPY", "s", "s"),
      err("ERR source and destination objects are the same"),
    );
    assertEquals(await r.call("COPY", "s", "s", "DB", "2"), 1);
    await r.call("SELECT", "2");
    assertEquals(await r.call("GET", "s"), "v2");
    await r.call("SELECT", "0");
    await r.call("RPUSH", "l", "a", "b");
    assertEquals(await r.call("COPY", "l", "l2"), 1);
    await r.call("RPUSH", "l2", "c");
    assertEquals(await r.call("LRANGE", "l", "0", "-1"), ["a", "b"]);
    assertEquals(await r.call("LRANGE", "l2", "0", "-1"), ["a", "b", "c"]);
  });
});

Deno.test("MOVE, SWAPDB, FLUSHDB and FLUSHALL", async () => {
  await withRedeno(async (r) => {
    await r.call("SET", "k", "v", "EX", "100");
    assertEquals(await r.call("MOVE", "k", "1"), 1);
    assertEquals(await r.call("MOVE", "k", "1"), 0);
    assertEquals(
      await r.call("MOVE", "k", "0"),
      err("ERR source and destination objects are the same"),
    );
    assertEquals(await r.call("MOVE", "k", "16"), err("ERR DB index is out of range"));
    await r.call("SELECT", "1");
    assert((await r.call("TTL", "k") as number) > 90);
    await r.call("SET", "other", "x");
    assertEquals(await r.call("SWAPDB", "0", "1"), "OK");
    assertEquals(await r.call("DBSIZE"), 0);
    await r.call("SELECT", "0");
    assertEquals(await r.call("DBSIZE"), 2);
    assertEquals(await r.call("FLUSHDB"), "OK");
    assertEquals(await r.call("DBSIZE"), 0);
    await r.call("SELECT", "5");
    await r.call("SET", "x", "y");
    assertEquals(await r.call("FLUSHALL", "ASYNC"), "OK");
    assertEquals(await r.call("DBSIZE"), 0);
    assertEquals(await r.call("FLUSHALL", "LAZY"), err("ERR syntax error"));
  });
});

Deno.test("EXPIRE family with NX/XX/GT/LT, TTL/PTTL/EXPIRETIME and PERSIST", async () => {
  await withRedeno(async (r) => {
    await r.call("SET", "k", "v");
    assertEquals(await r.call("TTL", "k"), -1);
    assertEquals(await r.call("EXPIRE", "k", "100", "XX"), 0);
    assertEquals(await r.call("EXPIRE", "k", "100", "GT"), 0);
    assertEquals(await r.call("EXPIRE", "k", "100", "LT"), 1);
    assertEquals(await r.call("EXPIRE", "k", "200", "NX"), 0);
    assertEquals(await r.call("EXPIRE", "k", "200", "GT"), 1);
    assertEquals(await r.call("EXPIRE", "k", "300", "LT"), 0);
    assertEquals(await r.call("TTL", "k"), 200);
    const pttl = await r.call("PTTL", "k") as number;
    assert(pttl > 199000 && pttl <= 200000);
    assertEquals(await r.call("EXPIREAT", "k", "4000000000"), 1);
    assertEquals(await r.call("EXPIRETIME", "k"), 4000000000);
    assertEquals(await r.call("PEXPIRETIME", "k"), 4000000000000);
    assertEquals(await r.call("PERSIST", "k"), 1);
    assertEquals(await r.call("PERSIST", "k"), 0);
    assertEquals(await r.call("EXPIRETIME", "k"), -1);
    assertEquals(await r.call("EXPIRETIME", "nokey"), -2);
    assertEquals(await r.call("PEXPIRE", "k", "-1"), 1);
    assertEquals(await r.call("EXISTS", "k"), 0);
    assertEquals(await r.call("EXPIRE", "nokey", "10"), 0);
    assertEquals(
      await r.call("EXPIRE", "k", "10", "NX", "GT"),
      err("ERR NX and XX, GT or LT options at the same time are not compatible"),
    );
    assertEquals(
      await r.call("EXPIRE", "k", "9223372036854775807"),
      err("ERR invalid expire time in 'expire' command"),
    );
  });
});

Deno.test("OBJECT ENCODING/REFCOUNT/IDLETIME and FREQ under an LFU policy", async () => {
  await withRedeno(async (r, t) => {
    await r.call("SET", "i", "123");
    await r.call("SET", "e", "hello");
    await r.call("SET", "r", "x".repeat(100));
    assertEquals(await r.call("OBJECT", "ENCODING", "i"), "int");
    assertEquals(await r.call("OBJECT", "ENCODING", "e"), "embstr");
    assertEquals(await r.call("OBJECT", "ENCODING", "r"), "raw");
    assertEquals(await r.call("OBJECT", "REFCOUNT", "i"), 2147483647);
    assertEquals(await r.call("OBJECT", "REFCOUNT", "e"), 1);
    assertEquals(await r.call("OBJECT", "ENCODING", "nokey"), null);
    assert((await r.call("OBJECT", "IDLETIME", "e") as number) <= 1);
    // EXISTS, TYPE and TTL do not count as an access; GET does
    t.server.dbs[0].dict.get("e")!.lru -= 5;
    for (const command of ["EXISTS", "TYPE", "TTL", "PTTL", "EXPIRETIME", "OBJECT"]) {
      await r.call(...(command === "OBJECT" ? ["OBJECT", "ENCODING", "e"] : [command, "e"]));
    }
    // (idle time counts whole seconds: a second may tick over meanwhile)
    const idle = await r.call("OBJECT", "IDLETIME", "e");
    assert(idle === 5 || idle === 6, `idle ${idle}`);
    await r.call("GET", "e");
    assert((await r.call("OBJECT", "IDLETIME", "e") as number) <= 1);
    const freq = await r.call("OBJECT", "FREQ", "e");
    assert(freq instanceof RespError && freq.message.startsWith("ERR An LFU maxmemory policy"));
    assert(Array.isArray(await r.call("OBJECT", "HELP")));
  });
  await withRedeno(async (r) => {
    await r.call("SET", "k", "v");
    assertEquals(await r.call("OBJECT", "FREQ", "k"), 5);
    await r.call("GET", "k");
    assertEquals(await r.call("OBJECT", "FREQ", "k"), 6);
    const idle = await r.call("OBJECT", "IDLETIME", "k");
    assert(idle instanceof RespError && idle.message.includes("idle time not tracked"));
  }, ["--maxmemory-policy", "allkeys-lfu"]);
});

Deno.test("active expiry removes 100k expired keys without client access while PING stays fast", async () => {
  await withRedeno(async (r) => {
    const batch: string[][] = [];
    for (let i = 0; i < 100_000; i++) {
      batch.push(["SET", `exp:${i}`, "v", "PX", "100"]);
      if (batch.length === 10_000) await r.pipeline(batch.splice(0));
    }
    const probe = await RespClient.connect((r.conn.remoteAddr as Deno.NetAddr).port);
    try {
      let worst = 0;
      const deadline = Date.now() + 8000;
      let size: Reply = -1;
      while (Date.now() < deadline) {
        const start = performance.now();
        assertEquals(await probe.call("PING"), "PONG");
        worst = Math.max(worst, performance.now() - start);
        size = await probe.call("DBSIZE");
        if (size === 0) break;
        await new Promise((res) => setTimeout(res, 10));
      }
      assertEquals(size, 0);
      // one expiry cycle must never stall the loop for long (a loaded 2-core machine
      // can add a few hundred ms of scheduling noise on its own, hence the margin)
      assert(worst < 1500, `worst PING latency ${worst.toFixed(1)} ms`);
    } finally {
      probe.close();
    }
  });
});

Deno.test("SWAPDB wakes a client blocked on a key the swap brings in", async () => {
  await withRedeno(async (r, t) => {
    const blocked = await RespClient.connect(t.port);
    try {
      await blocked.call("SELECT", "1");
      await blocked.write(RespClient.encode(["BLPOP", "jobs", "5"]));
      await waitFor(() => t.server.blocking.blockedCount === 1, { what: "BLPOP blocked" });
      await r.call("RPUSH", "jobs", "job1");
      assertEquals(await r.call("SWAPDB", "0", "1"), "OK");
      assertEquals(await blocked.read(), ["jobs", "job1"]);
    } finally {
      blocked.close();
    }
  });
});

Deno.test("FLUSHALL with save points saves at once, so a restart does not bring keys back", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redeno-flushall-" });
  try {
    const args = ["--dir", dir, "--save", "3600 1"];
    await withRedeno(async (r) => {
      await r.call("SET", "a", "1");
      assertEquals(await r.call("SAVE"), "OK");
      await r.call("SET", "b", "2");
      assertEquals(await r.call("FLUSHALL"), "OK");
      const info = await r.call("INFO", "persistence") as string;
      assert(info.includes("rdb_changes_since_last_save:0"), info);
    }, args);
    await withRedeno(async (r) => {
      assertEquals(await r.call("DBSIZE"), 0);
    }, args);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DEL of a stream wakes every XREADGROUP reader blocked on it with UNBLOCKED", async () => {
  await withRedeno(async (r, t) => {
    await r.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
    const readers = [await RespClient.connect(t.port), await RespClient.connect(t.port)];
    try {
      for (const [i, c] of readers.entries()) {
        await c.write(
          RespClient.encode([
            "XREADGROUP",
            "GROUP",
            "g",
            `c${i}`,
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
          ]),
        );
      }
      await waitFor(() => t.server.blocking.blockedCount === 2, { what: "readers blocked" });
      assertEquals(await r.call("DEL", "s"), 1);
      for (const c of readers) {
        assertEquals(await c.read(), err("UNBLOCKED the stream key no longer exists"));
      }
      // FLUSHALL and SWAPDB take streams away too
      for (const takeAway of [["FLUSHALL"], ["SWAPDB", "0", "7"]]) {
        await r.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
        await readers[0].write(
          RespClient.encode(["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"]),
        );
        await waitFor(() => t.server.blocking.blockedCount === 1, { what: "reader blocked" });
        assertEquals(await r.call(...takeAway), "OK");
        assertEquals(
          await readers[0].read(),
          err("UNBLOCKED the stream key no longer exists"),
          takeAway[0],
        );
      }
    } finally {
      for (const c of readers) c.close();
    }
  });
});

Deno.test("SCAN and RANDOMKEY propagate their lazy-expiry DELs unwrapped, MULTI wraps them", async () => {
  await withRedeno(async (r, t) => {
    const fed: string[][] = [];
    t.server.sinks.push({
      feed: (_db, bytes) => fed.push(parseReply(bytes, 0)[0] as string[]),
    });
    const staleKeys = async () => {
      // an absolute time in the past: stale at once, removed only when looked up
      for (const k of ["foo1", "foo2"]) await r.call("SET", k, "bar", "PXAT", "1");
      fed.length = 0;
    };
    t.server.activeExpireEnabled = false;
    await staleKeys();
    await r.call("SCAN", "0");
    assertEquals(fed.map((a) => a[0]).sort(), ["DEL", "DEL"]);
    await staleKeys();
    assertEquals(await r.call("RANDOMKEY"), null);
    assertEquals(fed.map((a) => a[0]).sort(), ["DEL", "DEL"]);
    await staleKeys();
    await r.call("MULTI");
    await r.call("SCAN", "0");
    await r.call("EXEC");
    assertEquals(fed.map((a) => a[0]), ["MULTI", "DEL", "DEL", "EXEC"]);
  });
});

Deno.test({
  name: "INFO lazyfreed_objects counts big values UNLINKed and keys of FLUSHALL ASYNC, as Redis",
  ignore: IGNORE_SIDE_BY_SIDE,
  fn: async () => {
    await withPair(async (p) => {
      const members = Array.from({ length: 100 }, (_, i) => `m${i}`);
      const lazyfreed = async (c: RespClient) =>
        Number(parseInfo(await c.call("INFO", "memory") as string).get("lazyfreed_objects"));
      const expectBoth = async (n: number) => {
        for (const c of [p.ours, p.real]) {
          await waitFor(async () => await lazyfreed(c) === n, { what: `lazyfreed ${n}` });
        }
      };
      await p.same("SADD", "big", ...members);
      await p.same("SADD", "small", "a", "b");
      await p.same("SET", "s", "v");
      await p.same("UNLINK", "big", "small", "s");
      await expectBoth(1);
      await p.same("SADD", "big", ...members);
      await p.same("DEL", "big");
      await expectBoth(1);
      await p.same("MSET", "a", "1", "b", "2", "c", "3");
      await p.same("FLUSHALL", "ASYNC");
      await expectBoth(4);
      await p.same("CONFIG", "RESETSTAT");
      await expectBoth(0);
    });
  },
});
