/**
 * The fast paths of the data-type families (pipelined throughput work), checked against a
 * real redis-server: stream IDs written as digits, trimming across node boundaries,
 * integer scores parsed without strtod, encoding limits read from a cache that CONFIG SET
 * refreshes, LRANGE written element by element, and PUBLISH to one or many receivers of
 * both protocols.
 */
import assert from "node:assert/strict";
import { RespClient } from "./helpers.ts";
import {
  compareSteps,
  IGNORE_SIDE_BY_SIDE,
  type Pair,
  sameOnBoth,
  type Step,
  withPair,
} from "./side_by_side.ts";

/**
 * Like compareSteps, but XINFO STREAM replies are compared without radix-tree-nodes
 * (Redeno estimates Redis's rax node count; the keys, one per node, are exact).
 */
async function compareStreamSteps(p: Pair, steps: Step[]): Promise<string[]> {
  const out: string[] = [];
  for (const step of steps) {
    const cmd = step as Array<string | number>;
    if (cmd[0] !== "XINFO") {
      out.push(...await compareSteps(p, [step]));
      continue;
    }
    const [a, b] = await p.both(...cmd);
    const strip = (r: unknown) => {
      if (!Array.isArray(r)) return r;
      const i = r.indexOf("radix-tree-nodes");
      return i < 0 ? r : [...r.slice(0, i), ...r.slice(i + 2)];
    };
    const [na, nb] = [JSON.stringify(strip(a)), JSON.stringify(strip(b))];
    if (na !== nb) out.push(`${JSON.stringify(cmd)}: redeno ${na} redis ${nb}`);
  }
  return out;
}

Deno.test({
  name: "XADD replies and XRANGE IDs of every digit count match Redis, up to 2^64-1",
  ignore: IGNORE_SIDE_BY_SIDE,
  fn: () =>
    withPair(async (p) => {
      const ids = [
        "0-1",
        "9-9",
        "10-10",
        "99999999-99999999",
        "100000000-100000000",
        "123456789012-5",
        "1700000000000-0",
        "1700000000000-1234567",
        "9999999999999999-1",
        "9007199254740991-9007199254740991",
        "9007199254740992-0",
        "18446744073709551615-18446744073709551614",
        "18446744073709551615-18446744073709551615",
      ];
      for (const id of ids) await p.same("XADD", "s", id, "f", "v");
      await p.same("XRANGE", "s", "-", "+");
      await p.same("XREVRANGE", "s", "+", "-", "COUNT", 3);
      await p.same("XADD", "s", "*", "f", "v");
      await p.same("XADD", "t", "5-*", "f", "v");
      await p.same("XADD", "t", "5-*", "f", "v");
      await p.same("XADD", "t", "99999999-*", "f", "v");
      await p.same("XRANGE", "t", "-", "+");
      await p.same("XREAD", "COUNT", 2, "STREAMS", "t", "0");
      await p.ours.call("HELLO", "3");
      await p.real.call("HELLO", "3");
      await p.same("XRANGE", "t", "-", "+");
    }),
});

Deno.test({
  name:
    "MAXLEN ~ and MINID trimming across node boundaries leave what Redis leaves (XLEN, XINFO, XRANGE, XTRIM replies)",
  ignore: IGNORE_SIDE_BY_SIDE,
  fn: () =>
    withPair(async (p) => {
      await p.same("CONFIG", "SET", "stream-node-max-entries", "10");
      const steps: Step[] = [];
      for (let i = 1; i <= 300; i++) {
        // field names change now and then: entries with and without the master's fields
        const field = i % 37 === 0 ? "other" : "field";
        steps.push(["XADD", "s", "MAXLEN", "~", "95", `${i}-1`, field, `v${i}`]);
        if (i % 50 === 0) steps.push(["XLEN", "s"], ["XINFO", "STREAM", "s"]);
      }
      steps.push(["XRANGE", "s", "-", "+"]);
      steps.push(["XDEL", "s", "250-1", "251-1", "299-1"]);
      steps.push(["XTRIM", "s", "MAXLEN", "~", "40"], ["XLEN", "s"], ["XINFO", "STREAM", "s"]);
      steps.push(["XTRIM", "s", "MINID", "~", "285"], ["XINFO", "STREAM", "s"]);
      steps.push(["XTRIM", "s", "MINID", "288"], ["XRANGE", "s", "-", "+"]);
      steps.push(["XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "5"], ["XLEN", "s"]);
      steps.push(["XTRIM", "s", "MAXLEN", "=", "3"], ["XRANGE", "s", "-", "+"]);
      steps.push(["XINFO", "STREAM", "s", "FULL"]);
      // byte-sized nodes: big values fill a node before the entry limit
      await p.same("CONFIG", "SET", "stream-node-max-bytes", "200");
      for (let i = 1; i <= 60; i++) {
        steps.push(["XADD", "b", "MAXLEN", "~", "20", `${i}-0`, "f", "x".repeat(i % 7 * 9)]);
      }
      steps.push(["XLEN", "b"], ["XINFO", "STREAM", "b"], ["XRANGE", "b", "-", "+", "COUNT", 5]);
      assert.deepEqual(await compareStreamSteps(p, steps), []);
    }),
});

Deno.test({
  name: "ZADD scores in integer, signed, zero-padded and float forms parse like Redis's strtod",
  ignore: IGNORE_SIDE_BY_SIDE,
  fn: () =>
    withPair(async (p) => {
      const scores = [
        "0",
        "-0",
        "007",
        "-007",
        "+5",
        "123456789012345",
        "-123456789012345",
        "1234567890123456",
        "99999999999999999999",
        "1e3",
        "1.5",
        ".5",
        "-",
        "",
        " 1",
        "1 ",
        "0x10",
        "inf",
        "-INF",
        "nan",
        "1e400",
        "1e-400",
      ];
      const steps: Step[] = [];
      for (const [i, s] of scores.entries()) {
        steps.push(["ZADD", "z", s, `m${i}`], ["ZSCORE", "z", `m${i}`]);
        steps.push(["ZADD", "z", "XX", "CH", s, "m0"], ["ZSCORE", "z", "m0"]);
        steps.push(["ZADD", "z", "INCR", s, "m1"]);
      }
      steps.push(["ZADD", "z", "nx", "xx", "1", "a"], ["ZADD", "z", "Gt", "lT", "1", "a"]);
      steps.push(["ZADD", "z", "GT", "CH", "2", "m2", "3", "m3"], ["ZADD", "z", "ch"]);
      steps.push(["ZRANGE", "z", "0", "-1", "WITHSCORES"], ["OBJECT", "ENCODING", "z"]);
      // a -0 score is kept by the skiplist a new member converts the set to, dropped by
      // a listpack (Redis converts before inserting)
      steps.push(
        ["CONFIG", "SET", "zset-max-listpack-entries", "2"],
        ["ZADD", "w", "1", "a", "2", "b"],
        ["ZADD", "w", "-0", "c"],
        ["ZSCORE", "w", "c"],
        ["OBJECT", "ENCODING", "w"],
        ["ZRANGESTORE", "w2", "w", "1", "2"],
        ["ZRANGE", "w2", "0", "-1", "WITHSCORES"],
        ["ZRANGESTORE", "w3", "w", "0", "2"],
        ["ZRANGE", "w3", "0", "-1", "WITHSCORES"],
        ["OBJECT", "ENCODING", "w3"],
      );
      assert.deepEqual(await compareSteps(p, steps), []);
    }),
});

Deno.test({
  name: "CONFIG SET of encoding limits applies to the next write (hash, zset, set, stream nodes)",
  ignore: IGNORE_SIDE_BY_SIDE,
  fn: () =>
    withPair(async (p) => {
      const steps: Step[] = [
        ["HSET", "h", "a", "1", "b", "2"],
        ["CONFIG", "SET", "hash-max-listpack-entries", "2"],
        ["OBJECT", "ENCODING", "h"],
        ["HSET", "h", "c", "3"],
        ["OBJECT", "ENCODING", "h"],
        ["CONFIG", "SET", "hash-max-ziplist-value", "3"],
        ["HSET", "h2", "a", "1234"],
        ["OBJECT", "ENCODING", "h2"],
        ["CONFIG", "SET", "zset-max-listpack-entries", "1"],
        ["ZADD", "z", "1", "a"],
        ["OBJECT", "ENCODING", "z"],
        ["ZADD", "z", "2", "b"],
        ["OBJECT", "ENCODING", "z"],
        ["CONFIG", "SET", "zset-max-ziplist-value", "2"],
        ["ZADD", "z2", "1", "abc"],
        ["OBJECT", "ENCODING", "z2"],
        ["CONFIG", "SET", "set-max-intset-entries", "2"],
        ["SADD", "s", "1", "2"],
        ["OBJECT", "ENCODING", "s"],
        ["SADD", "s", "3"],
        ["OBJECT", "ENCODING", "s"],
        ["CONFIG", "SET", "stream-node-max-entries", "2"],
        ["XADD", "x", "1-1", "f", "v"],
        ["XADD", "x", "1-2", "f", "v"],
        ["XADD", "x", "1-3", "f", "v"],
        ["XINFO", "STREAM", "x"],
        ["XTRIM", "x", "MAXLEN", "~", "1"],
        ["XLEN", "x"],
      ];
      assert.deepEqual(await compareStreamSteps(p, steps), []);
    }),
});

Deno.test({
  name: "LRANGE of every window shape over a 600-element list matches Redis",
  ignore: IGNORE_SIDE_BY_SIDE,
  fn: () =>
    withPair(async (p) => {
      const values = Array.from({ length: 600 }, (_, i) => i % 3 === 0 ? `v${i}\x00\xff` : "xxx");
      await p.same("RPUSH", "l", ...values);
      const windows = [
        [0, 99],
        [0, 599],
        [0, -1],
        [-100, -1],
        [550, 10000],
        [600, 700],
        [-1000, 2],
        [5, 4],
        [-1, -1],
      ];
      for (const [a, b] of windows) await p.same("LRANGE", "l", a, b);
      await p.same("LRANGE", "missing", 0, -1);
      await p.same("LPUSH", "l", "head");
      await p.same("RPOP", "l");
      await p.same("LRANGE", "l", 0, 3);
    }),
});

/** Subscribes RESP2 and RESP3 clients (channel and pattern), publishes, returns raw bytes. */
async function publishScenario(port: number): Promise<string[]> {
  const clients: RespClient[] = [];
  try {
    const connect = async () => {
      const c = await RespClient.connect(port);
      clients.push(c);
      return c;
    };
    const lone2 = await connect();
    const lone3 = await connect();
    await lone3.call("HELLO", "3");
    const many = [await connect(), await connect(), await connect()];
    await many[1].call("HELLO", "3");
    const pattern = await connect();
    await pattern.call("HELLO", "3");
    await lone2.call("SUBSCRIBE", "only2");
    await lone3.call("SUBSCRIBE", "only3");
    await lone3.call("SSUBSCRIBE", "shard");
    for (const c of many) await c.call("SUBSCRIBE", "crowd");
    await pattern.call("PSUBSCRIBE", "cr*");
    const publisher = await connect();
    const message = "m\x00\r\n\xff" + "y".repeat(300);
    const counts = [
      await publisher.call("PUBLISH", "only2", "hello"),
      await publisher.call("PUBLISH", "only3", "hello"),
      await publisher.call("SPUBLISH", "shard", "s"),
      await publisher.call("PUBLISH", "crowd", message),
      await publisher.call("PUBLISH", "crumb", "p"),
    ];
    const frame = (kind: string, ...parts: string[]) => {
      let s = `${kind}${parts.length}\r\n`;
      for (const x of parts) s += `$${x.length}\r\n${x}\r\n`;
      return s;
    };
    const expect = [
      [lone2, frame("*", "message", "only2", "hello")],
      [lone3, frame(">", "message", "only3", "hello") + frame(">", "smessage", "shard", "s")],
      [many[0], frame("*", "message", "crowd", message)],
      [many[1], frame(">", "message", "crowd", message)],
      [many[2], frame("*", "message", "crowd", message)],
      [
        pattern,
        frame(">", "pmessage", "cr*", "crowd", message) +
        frame(">", "pmessage", "cr*", "crumb", "p"),
      ],
    ] as const;
    const raw: string[] = [JSON.stringify(counts)];
    for (const [c, bytes] of expect) {
      const got = await c.readRaw(bytes.length);
      assert.equal(got, bytes);
      raw.push(got);
    }
    return raw;
  } finally {
    for (const c of clients) c.close();
  }
}

Deno.test({
  name: "PUBLISH to a lone receiver and to many, RESP2 and RESP3 mixed, sends Redis's exact bytes",
  ignore: IGNORE_SIDE_BY_SIDE,
  fn: async () => {
    await sameOnBoth(publishScenario);
  },
});

Deno.test({
  name:
    "small hashes, sets and sorted sets growing past and shrinking below 8 members answer lookups like Redis",
  ignore: IGNORE_SIDE_BY_SIDE,
  fn: () =>
    withPair(async (p) => {
      // a fixed pseudo-random walk over 12 names, alternately growing and shrinking: the
      // sizes cross the scan limit (8) both ways several times
      let seed = 7;
      const next = (n: number) => {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        return (seed >>> 16) % n;
      };
      const steps: Step[] = [];
      for (let i = 0; i < 400; i++) {
        const m = `m${next(12)}`;
        const op = next(8);
        const growing = i % 100 < 50;
        if (op <= 2 && growing) {
          steps.push(["HSET", "h", m, `v${i}`], ["SADD", "s", m], ["ZADD", "z", i % 5, m]);
        } else if (op <= 2) steps.push(["HDEL", "h", m], ["SREM", "s", m], ["ZREM", "z", m]);
        else if (op === 3) steps.push(["HGET", "h", m], ["HEXISTS", "h", m], ["HSTRLEN", "h", m]);
        else if (op === 4) {
          steps.push(["SISMEMBER", "s", m], ["SMISMEMBER", "s", m, `m${next(12)}`]);
        } else if (op === 5) {
          steps.push(["ZSCORE", "z", m], ["ZRANK", "z", m], ["ZREVRANK", "z", m]);
        } else if (op === 6) steps.push(["HLEN", "h"], ["SCARD", "s"], ["ZCARD", "z"]);
        else {
          steps.push(
            { cmd: ["HKEYS", "h"], sort: true },
            { cmd: ["SMEMBERS", "s"], sort: true },
            ["ZRANGE", "z", 0, -1, "WITHSCORES"],
          );
        }
      }
      assert.deepEqual(await compareSteps(p, steps), []);
    }),
});
