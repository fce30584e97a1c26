/** String commands through a real socket: options, edge cases, binary safety. */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { err, RespClient, waitFor, withRedeno } from "./helpers.ts";

Deno.test("SET EX/PX sets a TTL and the key disappears when it is due", async () => {
  await withRedeno(async (r) => {
    assertEquals(await r.call("SET", "k", "v", "EX", "100"), "OK");
    const ttl = await r.call("TTL", "k") as number;
    assert(ttl === 100 || ttl === 99, `ttl ${ttl}`);
    assertEquals(await r.call("SET", "short", "v", "PX", "1000"), "OK");
    assertEquals(await r.call("GET", "short"), "v");
    await waitFor(async () => (await r.call("GET", "short")) === null, { what: "expiry" });
    assertEquals(await r.call("EXISTS", "short"), 0);
  });
});

Deno.test("SET NX/XX/GET/KEEPTTL follow Redis's rules", async () => {
  await withRedeno(async (r) => {
    assertEquals(await r.call("SET", "k", "1", "NX"), "OK");
    assertEquals(await r.call("SET", "k", "2", "NX"), null);
    assertEquals(await r.call("SET", "k", "3", "XX", "GET"), "1");
    assertEquals(await r.call("SET", "missing", "3", "XX", "GET"), null);
    assertEquals(await r.call("EXISTS", "missing"), 0);
    assertEquals(await r.call("SET", "k", "4", "NX", "GET"), "3");
    assertEquals(await r.call("GET", "k"), "3");
    await r.call("EXPIRE", "k", "100");
    assertEquals(await r.call("SET", "k", "5", "KEEPTTL"), "OK");
    assert((await r.call("TTL", "k") as number) > 90);
    await r.call("SET", "k", "6");
    assertEquals(await r.call("TTL", "k"), -1);
    assertEquals(await r.call("SET", "k", "v", "NX", "XX"), err("ERR syntax error"));
    assertEquals(await r.call("SET", "k", "v", "EX", "1", "PX", "1"), err("ERR syntax error"));
    assertEquals(
      await r.call("SET", "k", "v", "EX", "0"),
      err("ERR invalid expire time in 'set' command"),
    );
    assertEquals(
      await r.call("SETEX", "k", "-1", "v"),
      err("ERR invalid expire time in 'setex' command"),
    );
    assertEquals(
      await r.call("SET", "k", "v", "EX", "x"),
      err("ERR value is not an integer or out of range"),
    );
    await r.call("RPUSH", "list", "a");
    assertEquals(
      await r.call("SET", "list", "v", "GET"),
      err("WRONGTYPE Operation against a key holding the wrong kind of value"),
    );
    assertEquals(await r.call("TYPE", "list"), "list");
  });
});

Deno.test("every byte value round-trips in keys and values", async () => {
  await withRedeno(async (r) => {
    let all = "";
    for (let i = 0; i < 256; i++) all += String.fromCharCode(i);
    assertEquals(await r.call("SET", all, all), "OK");
    assertEquals(await r.call("GET", all), all);
    assertEquals(await r.call("STRLEN", all), 256);
    assertEquals(await r.call("APPEND", all, "\xff\x00"), 258);
    assertEquals(await r.call("GETRANGE", all, "-2", "-1"), "\xff\x00");
    assertEquals(await r.call("MGET", all, "\x00"), [all + "\xff\x00", null]);
    assertEquals(await r.call("KEYS", "*"), [all]);
  });
});

Deno.test("SETNX, SETEX, PSETEX, GETSET, GETDEL and GETEX", async () => {
  await withRedeno(async (r) => {
    assertEquals(await r.call("SETNX", "a", "1"), 1);
    assertEquals(await r.call("SETNX", "a", "2"), 0);
    assertEquals(await r.call("SETEX", "b", "100", "x"), "OK");
    assertEquals(await r.call("PSETEX", "c", "100000", "y"), "OK");
    assert((await r.call("PTTL", "c") as number) > 99000);
    assertEquals(await r.call("GETSET", "b", "z"), "x");
    assertEquals(await r.call("TTL", "b"), -1);
    assertEquals(await r.call("GETDEL", "b"), "z");
    assertEquals(await r.call("GETDEL", "b"), null);
    assertEquals(await r.call("GETEX", "c", "PERSIST"), "y");
    assertEquals(await r.call("TTL", "c"), -1);
    assertEquals(await r.call("GETEX", "c", "EX", "50"), "y");
    assertEquals(await r.call("TTL", "c"), 50);
    assertEquals(await r.call("GETEX", "c", "PXAT", String(Date.now() + 200000)), "y");
    assert((await r.call("TTL", "c") as number) > 190);
    assertEquals(await r.call("GETEX", "c", "EXAT", "1"), "y");
    assertEquals(await r.call("EXISTS", "c"), 0);
    assertEquals(await r.call("GETEX", "nokey", "EX", "10"), null);
    assertEquals(await r.call("GETEX", "a", "PERSIST", "EX", "1"), err("ERR syntax error"));
  });
});

Deno.test("MSET, MSETNX (all or nothing) and MGET with wrong types", async () => {
  await withRedeno(async (r) => {
    assertEquals(await r.call("MSET", "a", "1", "b", "2"), "OK");
    assertEquals(await r.call("MSETNX", "b", "x", "c", "3"), 0);
    assertEquals(await r.call("EXISTS", "c"), 0);
    assertEquals(await r.call("MSETNX", "c", "3", "d", "4"), 1);
    await r.call("RPUSH", "l", "x");
    assertEquals(await r.call("MGET", "a", "l", "nokey", "d"), ["1", null, null, "4"]);
    assertEquals(
      await r.call("MSET", "a", "1", "b"),
      err("ERR wrong number of arguments for 'mset' command"),
    );
  });
});

Deno.test("APPEND, SETRANGE and GETRANGE with negative and out-of-range indexes", async () => {
  await withRedeno(async (r) => {
    assertEquals(await r.call("APPEND", "s", "Hello"), 5);
    assertEquals(await r.call("APPEND", "s", " World"), 11);
    assertEquals(await r.call("GETRANGE", "s", "-5", "-1"), "World");
    assertEquals(await r.call("GETRANGE", "s", "0", "-100"), "H");
    assertEquals(await r.call("GETRANGE", "s", "-1", "-5"), "");
    assertEquals(await r.call("GETRANGE", "s", "20", "30"), "");
    assertEquals(await r.call("GETRANGE", "nokey", "0", "-1"), "");
    assertEquals(await r.call("SETRANGE", "s", "6", "Redis"), 11);
    assertEquals(await r.call("GET", "s"), "Hello Redis");
    assertEquals(await r.call("SETRANGE", "pad", "3", "x"), 4);
    assertEquals(await r.call("GET", "pad"), "\x00\x00\x00x");
    assertEquals(await r.call("SETRANGE", "empty", "5", ""), 0);
    assertEquals(await r.call("EXISTS", "empty"), 0);
    assertEquals(await r.call("SETRANGE", "s", "-1", "x"), err("ERR offset is out of range"));
    assertEquals(
      await r.call("SETRANGE", "s", "536870912", "x"),
      err("ERR string exceeds maximum allowed size (proto-max-bulk-len)"),
    );
    assertEquals(await r.call("OBJECT", "ENCODING", "s"), "raw");
  });
});

Deno.test("INCR family is exact over the whole int64 range and refuses overflow", async () => {
  await withRedeno(async (r) => {
    assertEquals(await r.call("INCR", "n"), 1);
    assertEquals(await r.call("INCRBY", "n", "41"), 42);
    assertEquals(await r.call("DECRBY", "n", "50"), -8);
    await r.call("SET", "n", "9223372036854775806");
    assertEquals(await r.call("INCR", "n"), 9223372036854775807n);
    assertEquals(await r.call("INCR", "n"), err("ERR increment or decrement would overflow"));
    assertEquals(await r.call("GET", "n"), "9223372036854775807");
    await r.call("SET", "n", "9007199254740993");
    assertEquals(await r.call("INCR", "n"), 9007199254740994n);
    assertEquals(
      await r.call("DECRBY", "n", "-9223372036854775808"),
      err("ERR decrement would overflow"),
    );
    await r.call("SET", "n", "1.0");
    assertEquals(await r.call("INCR", "n"), err("ERR value is not an integer or out of range"));
    await r.call("SET", "t", "5", "EX", "100");
    await r.call("INCR", "t");
    assert((await r.call("TTL", "t") as number) > 90, "INCR keeps the TTL");
    assertEquals(await r.call("OBJECT", "ENCODING", "t"), "int");
  });
});

Deno.test("INCRBYFLOAT prints like Redis's long double arithmetic", async () => {
  await withRedeno(async (r) => {
    assertEquals(await r.call("INCRBYFLOAT", "f", "0.1"), "0.1");
    assertEquals(await r.call("INCRBYFLOAT", "f", "0.2"), "0.3");
    assertEquals(await r.call("INCRBYFLOAT", "g", "12345.6789"), "12345.67889999999999961");
    assertEquals(await r.call("INCRBYFLOAT", "h", "5.0e3"), "5000");
    assertEquals(await r.call("INCRBYFLOAT", "h", "-5000"), "0");
    assertEquals(await r.call("INCRBYFLOAT", "h", "1e-20"), "0");
    assertEquals(await r.call("INCRBYFLOAT", "h", "abc"), err("ERR value is not a valid float"));
    assertEquals(
      await r.call("INCRBYFLOAT", "h", "inf"),
      err("ERR increment would produce NaN or Infinity"),
    );
    await r.call("SET", "k", "1", "EX", "100");
    await r.call("INCRBYFLOAT", "k", "1");
    assert((await r.call("TTL", "k") as number) > 90, "INCRBYFLOAT keeps the TTL");
  });
});

Deno.test("LCS returns the string, the length and the match ranges", async () => {
  await withRedeno(async (r) => {
    await r.call("MSET", "a", "ohmytext", "b", "mynewtext");
    assertEquals(await r.call("LCS", "a", "b"), "mytext");
    assertEquals(await r.call("LCS", "a", "b", "LEN"), 6);
    assertEquals(await r.call("LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"), [
      "matches",
      [[[4, 7], [5, 8], 4]],
      "len",
      6,
    ]);
    await r.call("HELLO", "3");
    const reply = await r.call("LCS", "a", "b", "IDX") as Map<string, unknown>;
    assertEquals(reply.get("len"), 6);
    assertEquals(
      await r.call("LCS", "a", "b", "IDX", "LEN"),
      err("ERR If you want both the length and indexes, please just use IDX."),
    );
  });
});

Deno.test("GET of a missing key is a RESP3 null after HELLO 3", async () => {
  await withRedeno(async (r) => {
    await r.call("HELLO", "3");
    await r.write(RespClient.encode(["GET", "nokey"]));
    assertEquals(await r.readRaw(3), "_\r\n");
  });
});

Deno.test("reads count keyspace hits and misses", async () => {
  await withRedeno(async (r, t) => {
    await r.call("SET", "k", "v");
    const before = { ...t.server.stats };
    await r.call("GET", "k");
    await r.call("GET", "nokey");
    await r.call("MGET", "k", "k", "nokey");
    assertEquals(t.server.stats.keyspaceHits - before.keyspaceHits, 3);
    assertEquals(t.server.stats.keyspaceMisses - before.keyspaceMisses, 2);
  });
});

Deno.test("PTTL right after GETEX PXAT never exceeds the time given (ms clock precision)", async () => {
  await withRedeno(async (r) => {
    await r.call("SET", "foo", "bar");
    for (let i = 0; i < 50; i++) {
      await r.call("GETEX", "foo", "PXAT", String(Date.now() + 10000));
      const pttl = await r.call("PTTL", "foo") as number;
      assert(pttl <= 10000 && pttl > 5000, `pttl ${pttl}`);
    }
  });
});
