import assert from "node:assert/strict";
import { recordPropagatedLines, RespClient, startRedeno, waitFor } from "./helpers.ts";
import { compareSteps, IGNORE_SIDE_BY_SIDE, type Step, withPair } from "./side_by_side.ts";
import { NIL, ZSetValue } from "../src/store/zset.ts";

const BIN = "\x00\xff\x80bin\r\n";

const BASICS: Step[] = [
  ["ZADD", "z", "1", "a", "2", "b", "3", "c", "2", "bb", "-1.5", BIN],
  ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
  ["ZRANGE", "z", "-2", "-1"],
  ["ZRANGE", "z", "5", "10"],
  ["ZRANGE", "z", "2", "1"],
  ["ZRANGE", "z", "-100", "100"],
  ["ZREVRANGE", "z", "0", "1", "WITHSCORES"],
  ["ZRANGE", "z", "(1", "3", "BYSCORE", "LIMIT", "1", "2"],
  ["ZRANGE", "z", "3", "(1", "BYSCORE", "REV", "WITHSCORES"],
  ["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "0", "-1"],
  ["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "-1", "5"],
  ["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "2", "0"],
  ["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "99", "1"],
  ["ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES"],
  ["ZRANGEBYSCORE", "z", "(2", "(3"],
  ["ZRANGEBYSCORE", "z", "2", "2"],
  ["ZRANGEBYSCORE", "z", "(2", "2"],
  ["ZRANGEBYSCORE", "z", "3", "1"],
  ["ZREVRANGEBYSCORE", "z", "3", "(1", "LIMIT", "1", "1"],
  ["ZRANGEBYSCORE", "z", "0", "1", "REV"],
  ["ZRANGEBYSCORE", "z", "x", "1"],
  ["ZRANGEBYSCORE", "z", "nan", "1"],
  ["ZRANK", "z", "bb"],
  ["ZRANK", "z", "nope"],
  ["ZREVRANK", "z", "bb"],
  ["ZRANK", "z", "a", "WITHSCORE"],
  ["ZSCORE", "z", "c"],
  ["ZSCORE", "z", "nope"],
  ["ZSCORE", "nokey", "c"],
  ["ZMSCORE", "z", "a", "x", BIN],
  ["ZMSCORE", "nokey", "a", "b"],
  ["ZCARD", "z"],
  ["ZCARD", "nokey"],
  ["ZCOUNT", "z", "(1", "3"],
  ["ZCOUNT", "z", "-inf", "+inf"],
  ["ZCOUNT", "z", "a", "b"],
  ["ZCOUNT", "nokey", "0", "1"],
  ["ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "ee"],
  ["ZRANGEBYLEX", "lex", "-", "+"],
  ["ZRANGEBYLEX", "lex", "[b", "(e"],
  ["ZRANGEBYLEX", "lex", "(b", "[ee", "LIMIT", "1", "2"],
  ["ZREVRANGEBYLEX", "lex", "+", "-", "LIMIT", "0", "3"],
  ["ZRANGE", "lex", "[e", "[a", "BYLEX", "REV"],
  ["ZRANGE", "lex", "-", "+", "BYLEX", "WITHSCORES"],
  ["ZRANGEBYLEX", "lex", "b", "e"],
  ["ZRANGEBYLEX", "lex", "+", "-"],
  ["ZLEXCOUNT", "lex", "[b", "(e"],
  ["ZLEXCOUNT", "lex", "-", "+"],
  ["ZLEXCOUNT", "lex", "a", "+"],
  ["ZLEXCOUNT", "z", "[a", "(c"],
  ["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"],
  ["ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"],
  ["ZRANGE", "z", "0", "1", "REV", "REV"],
  ["ZRANGE", "z", "0", "1", "FOO"],
  ["ZRANGE", "z", "a", "1"],
  ["ZRANGE", "z", "0", "1", "LIMIT", "x", "1", "BYSCORE"],
  ["ZADD", "f", "1.1", "x", "-0", "y", "inf", "z", "1e20", "w", "0.1", "q", "-inf", "m"],
  ["ZRANGE", "f", "0", "-1", "WITHSCORES"],
  ["ZADD", "f", "1e400", "x"],
  ["ZADD", "f", "nan", "x"],
  ["ZADD", "f", " 1", "x"],
  ["ZADD", "f", "0x10", "hex"],
  ["ZSCORE", "f", "hex"],
  ["ZINCRBY", "f", "1", "z"],
  ["ZINCRBY", "f", "-inf", "z"],
  ["ZINCRBY", "f", "x", "z"],
  ["ZINCRBY", "f", "2.5", "new"],
  ["SET", "str", "v"],
  ["ZADD", "str", "1", "a"],
  ["ZRANGE", "str", "0", "-1"],
  ["ZSCORE", "str", "a"],
  ["ZCARD", "str"],
  ["ZRANK", "str", "a"],
  ["ZREM", "str", "a"],
];

const ZADD_OPTIONS: Step[] = [
  ["ZADD", "z", "1", "a", "2", "b"],
  ["ZADD", "z", "XX", "NX", "1", "a"],
  ["ZADD", "z", "GT", "LT", "1", "a"],
  ["ZADD", "z", "GT", "NX", "1", "a"],
  ["ZADD", "z", "INCR", "1", "a", "2", "b"],
  ["ZADD", "z", "INCR", "1.5", "a"],
  ["ZADD", "z", "CH", "GT", "0", "a", "10", "b", "5", "c"],
  ["ZADD", "z", "CH", "LT", "0", "a", "10", "b"],
  ["ZADD", "z", "XX", "1", "a", "1", "new"],
  ["ZADD", "z", "NX", "100", "a", "1", "new"],
  ["ZADD", "z", "XX", "INCR", "1", "nope"],
  ["ZADD", "z", "NX", "INCR", "1", "a"],
  ["ZADD", "z", "GT", "INCR", "-1", "a"],
  ["ZADD", "z", "LT", "INCR", "-1", "a"],
  ["ZADD", "z", "CH", "XX", "GT", "100", "a"],
  ["ZADD", "z", "1"],
  ["ZADD", "z", "1", "a", "2"],
  ["ZADD", "z", "NX"],
  ["ZADD", "z", "x", "a"],
  ["ZADD", "nokey", "XX", "1", "a"],
  ["EXISTS", "nokey"],
  ["ZADD", "inf", "inf", "a"],
  ["ZADD", "inf", "INCR", "-inf", "a"],
  ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
];

const REMOVALS_AND_POPS: Step[] = [
  ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f"],
  ["ZREM", "z", "a", "nope", "b"],
  ["ZREM", "nokey", "a"],
  ["ZREMRANGEBYRANK", "z", "0", "0"],
  ["ZREMRANGEBYRANK", "z", "10", "20"],
  ["ZREMRANGEBYRANK", "z", "-1", "-1"],
  ["ZREMRANGEBYRANK", "z", "x", "1"],
  ["ZREMRANGEBYSCORE", "z", "(3", "4"],
  ["ZREMRANGEBYSCORE", "z", "x", "4"],
  ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
  ["ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d"],
  ["ZREMRANGEBYLEX", "lex", "(a", "[c"],
  ["ZREMRANGEBYLEX", "lex", "a", "c"],
  ["ZRANGE", "lex", "0", "-1"],
  ["ZREMRANGEBYLEX", "lex", "-", "+"],
  ["EXISTS", "lex"],
  ["ZADD", "p", "1", "a", "2", "b", "3", "c", "4", "d"],
  ["ZPOPMIN", "p"],
  ["ZPOPMAX", "p", "2"],
  ["ZPOPMIN", "p", "0"],
  ["ZPOPMIN", "p", "-1"],
  ["ZPOPMIN", "p", "x"],
  ["ZPOPMIN", "p", "1", "2"],
  ["ZPOPMIN", "nokey"],
  ["ZPOPMIN", "nokey", "3"],
  ["ZPOPMAX", "p", "100"],
  ["EXISTS", "p"],
  ["ZADD", "p", "1", "a", "2", "b", "3", "c"],
  ["ZADD", "q", "1", "x"],
  ["ZMPOP", "2", "nokey", "p", "MAX", "COUNT", "2"],
  ["ZMPOP", "2", "nokey", "p", "MIN"],
  ["ZMPOP", "1", "p", "MIN"],
  ["ZMPOP", "2", "p", "q", "MIN", "COUNT", "10"],
  ["ZMPOP", "1", "nokey", "MIN"],
  ["ZMPOP", "0", "p", "MIN"],
  ["ZMPOP", "x", "p", "MIN"],
  ["ZMPOP", "1", "p", "FOO"],
  ["ZMPOP", "1", "p", "MIN", "COUNT", "0"],
  ["ZMPOP", "1", "p", "MIN", "COUNT", "1", "COUNT", "2"],
  ["ZMPOP", "5", "p", "MIN"],
  ["SET", "str", "v"],
  ["ZMPOP", "2", "nokey", "str", "MIN"],
  ["ZPOPMIN", "str"],
];

const ALGEBRA: Step[] = [
  ["ZADD", "a", "1", "x", "2", "y", "3", "z"],
  ["ZADD", "b", "10", "y", "20", "z", "30", "w"],
  ["SADD", "s", "x", "w", "v"],
  ["ZUNION", "2", "a", "b", "WITHSCORES"],
  ["ZUNION", "3", "a", "b", "s", "WITHSCORES"],
  ["ZUNION", "2", "a", "b", "WEIGHTS", "2", "0.5", "WITHSCORES"],
  ["ZUNION", "2", "a", "b", "AGGREGATE", "MIN", "WITHSCORES"],
  ["ZUNION", "2", "a", "b", "AGGREGATE", "MAX", "WITHSCORES"],
  ["ZINTER", "2", "a", "b", "WITHSCORES"],
  ["ZINTER", "2", "a", "s", "WITHSCORES"],
  ["ZINTER", "2", "a", "nokey"],
  ["ZDIFF", "2", "a", "b", "WITHSCORES"],
  ["ZDIFF", "3", "b", "a", "s"],
  ["ZDIFF", "1", "nokey"],
  ["ZINTERCARD", "2", "a", "b"],
  ["ZINTERCARD", "2", "a", "b", "LIMIT", "1"],
  ["ZINTERCARD", "2", "a", "b", "LIMIT", "-1"],
  ["ZINTERCARD", "0", "a"],
  ["ZINTERCARD", "3", "a"],
  ["ZUNIONSTORE", "d", "2", "a", "b"],
  ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
  ["OBJECT", "ENCODING", "d"],
  ["ZINTERSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "-1", "AGGREGATE", "SUM"],
  ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
  ["ZDIFFSTORE", "d", "2", "a", "a"],
  ["EXISTS", "d"],
  ["ZUNIONSTORE", "d", "0", "a"],
  ["ZUNIONSTORE", "d", "x", "a"],
  ["ZUNIONSTORE", "d", "3", "a"],
  ["ZUNION", "2", "a", "b", "WEIGHTS", "1"],
  ["ZUNION", "2", "a", "b", "WEIGHTS", "1", "x"],
  ["ZUNION", "2", "a", "b", "AGGREGATE", "AVG"],
  ["ZDIFF", "2", "a", "b", "WEIGHTS", "1", "2"],
  ["ZUNIONSTORE", "d", "2", "a", "b", "WITHSCORES"],
  ["SET", "str", "v"],
  ["ZUNION", "2", "a", "str"],
  ["ZINTERSTORE", "d", "2", "nokey", "str"],
  ["ZADD", "i", "inf", "x"],
  ["ZADD", "j", "-inf", "x"],
  ["ZUNION", "2", "i", "j", "WITHSCORES"],
  ["ZINTER", "2", "i", "j", "WEIGHTS", "0", "1", "WITHSCORES"],
  ["ZRANGESTORE", "d", "a", "0", "-1"],
  ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
  ["ZRANGESTORE", "d", "b", "(10", "+inf", "BYSCORE", "LIMIT", "0", "1"],
  ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
  ["ZRANGESTORE", "d", "a", "5", "6"],
  ["EXISTS", "d"],
  ["ZRANGESTORE", "d", "a", "0", "-1", "WITHSCORES"],
  ["ZRANGESTORE", "d", "nokey", "0", "-1"],
];

Deno.test({
  name: "sorted set commands reply byte-for-byte like redis-server (RESP2)",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    await withPair(async (p) => {
      const diffs: string[] = [];
      for (const group of [BASICS, ZADD_OPTIONS, REMOVALS_AND_POPS, ALGEBRA]) {
        diffs.push(...await compareSteps(p, [["FLUSHALL"], ...group]));
      }
      assert.deepEqual(diffs, []);
    });
  },
});

Deno.test({
  name: "sorted set replies in RESP3 match redis-server (doubles, nested pairs)",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    await withPair(async (p) => {
      await p.both("HELLO", "3");
      const diffs = await compareSteps(p, [
        ["ZADD", "z", "1", "a", "2.5", "b", "3", "c"],
        ["ZSCORE", "z", "b"],
        ["ZMSCORE", "z", "a", "nope"],
        ["ZINCRBY", "z", "1", "a"],
        ["ZADD", "z", "INCR", "1", "a"],
        ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
        ["ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES"],
        ["ZUNION", "1", "z", "WITHSCORES"],
        ["ZPOPMIN", "z"],
        ["ZPOPMIN", "z", "1"],
        ["ZPOPMIN", "nokey"],
        ["ZMPOP", "1", "z", "MAX"],
        ["ZADD", "z", "1", "a", "2", "b"],
        ["ZRANDMEMBER", "z", "5", "WITHSCORES"],
        ["ZSCAN", "z", "0"],
        ["ZRANDMEMBER", "nokey"],
        ["ZMPOP", "1", "nokey", "MAX"],
      ]);
      assert.deepEqual(diffs, []);
    });
  },
});

Deno.test({
  name: "OBJECT ENCODING of sorted sets follows zset-max-listpack-entries/value",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    await withPair(async (p) => {
      const many = Array.from({ length: 129 }, (_, i) => [String(i), `m${i}`]).flat();
      const diffs = await compareSteps(p, [
        ["ZADD", "small", "1", "a"],
        ["OBJECT", "ENCODING", "small"],
        ["ZADD", "small", "2", "x".repeat(65)],
        ["OBJECT", "ENCODING", "small"],
        ["ZREM", "small", "x".repeat(65)],
        ["OBJECT", "ENCODING", "small"],
        ["ZADD", "big", ...many.slice(0, 256)],
        ["OBJECT", "ENCODING", "big"],
        ["ZADD", "big", ...many.slice(256)],
        ["OBJECT", "ENCODING", "big"],
        ["ZPOPMIN", "big", "100"],
        ["OBJECT", "ENCODING", "big"],
        ["ZUNIONSTORE", "u", "1", "big"],
        ["OBJECT", "ENCODING", "u"],
        ["ZRANGESTORE", "r", "big", "0", "-1"],
        ["OBJECT", "ENCODING", "r"],
        ["CONFIG", "SET", "zset-max-listpack-entries", "0"],
        ["ZADD", "zero", "1", "a"],
        ["OBJECT", "ENCODING", "zero"],
        ["CONFIG", "SET", "zset-max-listpack-entries", "128"],
      ]);
      assert.deepEqual(diffs, []);
    });
  },
});

Deno.test({
  name: "ZSCAN and ZRANDMEMBER agree with redis-server where deterministic",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    await withPair(async (p) => {
      const diffs = await compareSteps(p, [
        ["ZADD", "z", "1", "a", "2", "b", "3", "ab"],
        ["ZSCAN", "z", "0"],
        ["ZSCAN", "z", "0", "MATCH", "a*"],
        ["ZSCAN", "z", "0", "COUNT", "0"],
        ["ZSCAN", "z", "x"],
        ["ZSCAN", "z", "0", "TYPE", "zset"],
        ["ZSCAN", "nokey", "0"],
        ["ZRANDMEMBER", "z", "0"],
        ["ZRANDMEMBER", "z", "10", "WITHSCORES"],
        ["ZRANDMEMBER", "z", "10", "FOO"],
        ["ZRANDMEMBER", "z", "-9223372036854775807", "WITHSCORES"],
        ["ZRANDMEMBER", "z", "x"],
        ["ZRANDMEMBER", "nokey", "5"],
        ["ZRANDMEMBER", "nokey"],
        { cmd: ["ZRANDMEMBER", "z", "3"], sort: true },
      ]);
      assert.deepEqual(diffs, []);
    });
  },
});

Deno.test("ZRANDMEMBER: distinct members for positive counts, repeats for negative", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    const members = Array.from({ length: 300 }, (_, i) => [String(i), `m${i}`]).flat();
    await c.call("ZADD", "z", ...members);
    const five = await c.call("ZRANDMEMBER", "z", 5) as string[];
    assert.equal(new Set(five).size, 5);
    const many = await c.call("ZRANDMEMBER", "z", -1000) as string[];
    assert.equal(many.length, 1000);
    const pairs = await c.call("ZRANDMEMBER", "z", 3, "WITHSCORES") as string[];
    assert.equal(pairs.length, 6);
    assert.equal(pairs[1], pairs[0].slice(1));
    assert.equal(typeof await c.call("ZRANDMEMBER", "z"), "string");
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("ZSCAN of a large sorted set returns every member once the cursor is 0", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    const n = 1000;
    const members = Array.from({ length: n }, (_, i) => [String(i), `m${i}`]).flat();
    await c.call("ZADD", "z", ...members);
    const seen = new Map<string, string>();
    let cursor = "0";
    do {
      const [next, items] = await c.call("ZSCAN", "z", cursor, "COUNT", 100) as [string, string[]];
      for (let i = 0; i < items.length; i += 2) seen.set(items[i], items[i + 1]);
      cursor = next;
    } while (cursor !== "0");
    assert.equal(seen.size, n);
    assert.equal(seen.get("m42"), "42");
    const [, matched] = await c.call("ZSCAN", "z", "0", "MATCH", "m99*", "COUNT", 5000) as [
      string,
      string[],
    ];
    assert.deepEqual(matched.filter((_, i) => i % 2 === 0).sort(), [
      "m99",
      "m990",
      "m991",
      "m992",
      "m993",
      "m994",
      "m995",
      "m996",
      "m997",
      "m998",
      "m999",
    ]);
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("BZPOPMIN blocks until ZADD and propagates as ZPOPMIN", async () => {
  const t = await startRedeno();
  const propagated = recordPropagatedLines(t);
  const blocked = await RespClient.connect(t.port);
  const writer = await RespClient.connect(t.port);
  try {
    await blocked.write(RespClient.encode(["BZPOPMIN", "none", "z", "0"]));
    await waitFor(() => t.server.blocking.blockedCount === 1);
    assert.equal(await writer.call("ZADD", "z", "2", "b", "1", "a"), 2);
    assert.deepEqual(await blocked.read(), ["z", "a", "1"]);
    assert.deepEqual(await writer.call("ZRANGE", "z", "0", "-1"), ["b"]);
    await waitFor(() => propagated.includes("ZPOPMIN z"));
    // Redis 7.0 feeds these as two separate commands, not a MULTI/EXEC block
    assert.deepEqual(propagated, ["ZADD z 2 b 1 a", "ZPOPMIN z"]);
  } finally {
    blocked.close();
    writer.close();
    await t.stop();
  }
});

Deno.test("BZPOPMAX times out with a null array; BZMPOP serves in FIFO order", async () => {
  const t = await startRedeno();
  const propagated = recordPropagatedLines(t);
  const a = await RespClient.connect(t.port);
  const b = await RespClient.connect(t.port);
  const w = await RespClient.connect(t.port);
  try {
    const started = Date.now();
    assert.equal(await a.call("BZPOPMAX", "z", "0.1"), null);
    assert.ok(Date.now() - started >= 90);
    assert.deepEqual(
      await a.call("BZPOPMAX", "z", "x"),
      new (await import("./helpers.ts")).RespError("ERR timeout is not a float or out of range"),
    );
    await a.write(RespClient.encode(["BZMPOP", "0", "1", "z", "MAX", "COUNT", "2"]));
    await waitFor(() => t.server.blocking.blockedCount === 1);
    await b.write(RespClient.encode(["BZMPOP", "0", "1", "z", "MIN"]));
    await waitFor(() => t.server.blocking.blockedCount === 2);
    assert.equal(await w.call("ZADD", "z", "1", "x", "2", "y", "3", "q"), 3);
    assert.deepEqual(await a.read(), ["z", [["q", "3"], ["y", "2"]]]);
    assert.deepEqual(await b.read(), ["z", [["x", "1"]]]);
    assert.equal(await w.call("EXISTS", "z"), 0);
    await waitFor(() => propagated.includes("ZPOPMIN z 1"));
    assert.ok(propagated.includes("ZPOPMAX z 2"));
    // inside MULTI a blocking pop does not block
    await w.call("MULTI");
    await w.call("BZPOPMIN", "z", "0");
    assert.deepEqual(await w.call("EXEC"), [null]);
  } finally {
    a.close();
    b.close();
    w.close();
    await t.stop();
  }
});

Deno.test("ZMPOP and served pops are propagated as ZPOPMIN/ZPOPMAX with a count", async () => {
  const t = await startRedeno();
  const propagated = recordPropagatedLines(t);
  const c = await RespClient.connect(t.port);
  try {
    await c.call("ZADD", "z", "1", "a", "2", "b", "3", "c");
    await c.call("ZMPOP", "1", "z", "MAX", "COUNT", "2");
    await c.call("BZPOPMIN", "z", "1");
    await c.call("ZINCRBY", "k", "1.5", "m");
    await waitFor(() => propagated.length >= 4);
    assert.deepEqual(propagated, [
      "ZADD z 1 a 2 b 3 c",
      "ZPOPMAX z 2",
      "ZPOPMIN z",
      "ZINCRBY k 1.5 m",
    ]);
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("ZSetValue keeps ranks, ranges and order right under random operations", () => {
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const z = new ZSetValue();
  const model = new Map<string, number>();
  for (let step = 0; step < 4000; step++) {
    const member = "m" + Math.floor(rnd() * 300);
    const r = rnd();
    if (r < 0.6) {
      const score = Math.floor(rnd() * 50) / 2;
      z.add(member, score);
      model.set(member, score);
    } else {
      assert.equal(z.remove(member), model.delete(member));
    }
    if (step % 400 === 0 || step === 3999) {
      const sorted = [...model].sort((a, b) =>
        a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
      );
      assert.deepEqual([...z.entries()], sorted);
      sorted.forEach(([m], i) => {
        assert.equal(z.rank(m), i);
        assert.equal(z.member(z.byRank(i)), m);
      });
      const range = { min: 5, max: 10, minex: true, maxex: false };
      assert.equal(z.countInScoreRange(range), sorted.filter(([, s]) => s > 5 && s <= 10).length);
      const back: string[] = [];
      for (let n = z.last(); n !== NIL; n = z.prev(n)) back.push(z.member(n));
      assert.deepEqual(back, sorted.map(([m]) => m).reverse());
    }
  }
});

Deno.test("sorted set errors for wrong arity and wrong types match Redis's wording", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    assert.equal(
      String(await c.call("ZADD", "z")),
      "ERR wrong number of arguments for 'zadd' command",
    );
    await c.call("LPUSH", "l", "x");
    assert.equal(
      String(await c.call("ZADD", "l", "1", "a")),
      "WRONGTYPE Operation against a key holding the wrong kind of value",
    );
    assert.equal(
      String(await c.call("ZRANGEBYSCORE", "z", "a", "b")),
      "ERR min or max is not a float",
    );
    assert.equal(
      String(await c.call("ZRANGEBYLEX", "z", "a", "b")),
      "ERR min or max not valid string range item",
    );
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("a blocked BZPOPMIN ignores a list created under its key and waits for a zset", async () => {
  const t = await startRedeno();
  const blocked = await RespClient.connect(t.port);
  const w = await RespClient.connect(t.port);
  try {
    await blocked.write(RespClient.encode(["BZPOPMIN", "k", "0"]));
    await waitFor(() => t.server.blocking.blockedCount === 1);
    await w.call("LPUSH", "k", "x");
    await w.call("PING");
    assert.equal(t.server.blocking.blockedCount, 1);
    await w.call("DEL", "k");
    await w.call("ZADD", "k", "5", "m");
    assert.deepEqual(await blocked.read(), ["k", "m", "5"]);
  } finally {
    blocked.close();
    w.close();
    await t.stop();
  }
});

Deno.test({
  name: "random sorted set and set command sequences reply like redis-server",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    let seed = 4;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const pick = <T>(a: T[]) => a[rnd(a.length)];
    const mem = () => rnd(3) === 0 ? pick(["a", "b", "c", "aa", "b\x00"]) : `m${rnd(300)}`;
    const score = () => pick(["0", "1", "2", "2.5", "-1", "inf", "-inf", "(1", "(2", "1e3", "-0"]);
    const bare = (s: string) => s.startsWith("(") ? s.slice(1) : s;
    const key = () => pick(["z1", "z2", "s1", "nokey"]);
    const lex = () => pick(["-", "+", "[a", "(a", "[b", "(c", "[m1", "(m5"]);
    const num = () => pick(["0", "1", "-1", "2", "-2", "5", "100", "-100"]);
    const steps: Step[] = [];
    for (let i = 0; i < 1500; i++) {
      const k = key();
      const gen: Array<() => Step[]> = [
        () => [[
          "ZADD",
          k,
          ...pick([[], ["NX"], ["XX"], ["GT"], ["LT"], ["CH"]]),
          bare(score()),
          mem(),
          String(rnd(100)),
          mem(),
          String(rnd(40) / 4),
          mem(),
        ]],
        () => [["ZINCRBY", k, bare(score()), mem()]],
        () => [["ZREM", k, mem(), mem()]],
        () => [["ZRANGE", k, num(), num(), ...pick([[], ["WITHSCORES"], ["REV"]])]],
        () => [[
          "ZRANGEBYSCORE",
          k,
          score(),
          score(),
          ...pick([[], ["WITHSCORES"], ["LIMIT", num(), num()]]),
        ]],
        () => [["ZREVRANGEBYSCORE", k, score(), score(), "LIMIT", num(), num()]],
        () => [["ZRANGEBYLEX", k, lex(), lex()], ["ZLEXCOUNT", k, lex(), lex()]],
        () => [["ZCOUNT", k, score(), score()], ["ZRANK", k, mem()], ["ZREVRANK", k, mem()]],
        () => [["ZSCORE", k, mem()], ["ZMSCORE", k, mem(), mem()]],
        () => [["ZREMRANGEBYRANK", k, num(), num()]],
        () => [["ZREMRANGEBYSCORE", k, score(), score()], ["ZREMRANGEBYLEX", k, lex(), lex()]],
        () => [[pick(["ZPOPMIN", "ZPOPMAX"]), k, ...pick([[], ["1"], ["3"]])]],
        () => [[
          "ZUNIONSTORE",
          key(),
          "2",
          key(),
          key(),
          ...pick([[], ["WEIGHTS", "2", "0.5"], ["AGGREGATE", "MAX"]]),
        ]],
        () => [["ZINTER", "2", key(), key(), "WITHSCORES"], [
          "ZDIFF",
          "2",
          key(),
          key(),
          "WITHSCORES",
        ]],
        () => [["ZRANGESTORE", key(), key(), score(), score(), "BYSCORE"]],
        () => [["SADD", k, mem(), mem()], ["SREM", k, mem()]],
        () => [{ cmd: ["SINTER", key(), key()], sort: true }, {
          cmd: ["SUNION", key(), key()],
          sort: true,
        }],
        () => [["SINTERSTORE", key(), key(), key()], ["SCARD", k], ["SMOVE", key(), key(), mem()]],
        () => [["ZCARD", k], ["OBJECT", "ENCODING", k], ["TYPE", k]],
        () => [["ZMPOP", "2", key(), key(), pick(["MIN", "MAX"]), "COUNT", "2"]],
      ];
      steps.push(...pick(gen)());
    }
    await withPair(async (p) => {
      assert.deepEqual(await compareSteps(p, steps), []);
    });
  },
});
