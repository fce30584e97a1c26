import assert from "node:assert/strict";
import { recordPropagatedLines, RespClient, startRedeno, waitFor } from "./helpers.ts";
import { compareSteps, IGNORE_SIDE_BY_SIDE, type Step, withPair } from "./side_by_side.ts";

const BIN = "\x00\xff\x80bin\r\n";

/** Integer-only sets are intsets in Redis, whose members come back sorted. */
const INTSETS: Step[] = [
  ["SADD", "i", "5", "-3", "100", "0", "42", "9223372036854775807", "-9223372036854775808"],
  ["SADD", "i", "5", "7"],
  ["SMEMBERS", "i"],
  ["OBJECT", "ENCODING", "i"],
  ["SCARD", "i"],
  ["SISMEMBER", "i", "42"],
  ["SISMEMBER", "i", "43"],
  ["SMISMEMBER", "i", "42", "43", "0"],
  ["SMISMEMBER", "nokey", "a"],
  ["SREM", "i", "42", "43"],
  ["SMEMBERS", "i"],
  ["SADD", "j", "7", "0", "1000"],
  ["SINTER", "i", "j"],
  ["SUNION", "i", "j"],
  ["SDIFF", "i", "j"],
  ["SDIFF", "j", "i"],
  ["SINTERSTORE", "d", "i", "j"],
  ["SMEMBERS", "d"],
  ["OBJECT", "ENCODING", "d"],
  ["SUNIONSTORE", "d", "i", "j"],
  ["SMEMBERS", "d"],
  ["SDIFFSTORE", "d", "i", "j"],
  ["SMEMBERS", "d"],
  ["SDIFFSTORE", "d", "i", "i"],
  ["EXISTS", "d"],
  ["SINTERCARD", "2", "i", "j"],
  ["SINTERCARD", "2", "i", "j", "LIMIT", "1"],
  ["SINTERCARD", "2", "i", "nokey"],
  ["SINTERCARD", "0", "i"],
  ["SINTERCARD", "x", "i"],
  ["SINTERCARD", "3", "i", "j"],
  ["SINTERCARD", "1", "i", "LIMIT", "-1"],
  ["SINTERCARD", "1", "i", "FOO"],
  ["SSCAN", "i", "0"],
  ["SSCAN", "i", "0", "MATCH", "1*"],
  ["SSCAN", "i", "0", "COUNT", "0"],
  ["SSCAN", "i", "abc"],
  ["SSCAN", "nokey", "0"],
  ["SADD", "i", "01"],
  ["OBJECT", "ENCODING", "i"],
  ["SADD", "k", "1"],
  ["SADD", "k", "x"],
  ["OBJECT", "ENCODING", "k"],
  ["SADD", "h", "x"],
  ["OBJECT", "ENCODING", "h"],
];

const GENERAL: Step[] = [
  ["SADD", "s", "a", "b", "c", BIN],
  ["SADD", "s", "a"],
  { cmd: ["SMEMBERS", "s"], sort: true },
  ["SCARD", "s"],
  ["SISMEMBER", "s", BIN],
  ["SMOVE", "s", "t", "a"],
  ["SMOVE", "s", "t", "a"],
  ["SMOVE", "s", "s", "b"],
  ["SMOVE", "s", "s", "zz"],
  ["SMOVE", "nokey", "t", "a"],
  { cmd: ["SMEMBERS", "t"], sort: true },
  ["SMOVE", "t", "u", "a"],
  ["EXISTS", "t"],
  ["SET", "str", "v"],
  ["SMOVE", "s", "str", "b"],
  ["SMOVE", "str", "s", "b"],
  ["SADD", "str", "x"],
  ["SMEMBERS", "str"],
  ["SINTER", "s", "str"],
  ["SINTER", "nokey", "str"],
  ["SUNION", "s", "str"],
  ["SREM", "s", "b", "c", BIN, "zz"],
  ["EXISTS", "s"],
  ["SREM", "s", "a"],
  ["SPOP", "nokey"],
  ["SPOP", "nokey", "3"],
  ["SPOP", "u", "-1"],
  ["SPOP", "u", "x"],
  ["SPOP", "u", "0"],
  ["SPOP", "u", "1", "2"],
  ["SPOP", "u"],
  ["EXISTS", "u"],
  ["SADD", "v", "x", "y"],
  { cmd: ["SPOP", "v", "5"], sort: true },
  ["EXISTS", "v"],
  ["SRANDMEMBER", "nokey"],
  ["SRANDMEMBER", "nokey", "5"],
  ["SADD", "w", "1", "2", "3"],
  ["SRANDMEMBER", "w", "0"],
  ["SRANDMEMBER", "w", "10"],
  ["SRANDMEMBER", "w", "-9223372036854775808"],
  ["SRANDMEMBER", "w", "x"],
  ["SRANDMEMBER", "w", "1", "2"],
  ["SADD"],
  ["SCARD", "str"],
];

Deno.test({
  name: "set commands reply byte-for-byte like redis-server (intsets, errors, stores)",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    await withPair(async (p) => {
      const diffs: string[] = [];
      for (const group of [INTSETS, GENERAL]) {
        diffs.push(...await compareSteps(p, [["FLUSHALL"], ...group]));
      }
      assert.deepEqual(diffs, []);
    });
  },
});

Deno.test({
  name: "set replies in RESP3 are sets where Redis 7 sends sets",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    await withPair(async (p) => {
      await p.both("HELLO", "3");
      const diffs = await compareSteps(p, [
        ["SADD", "s", "1", "2", "3"],
        ["SMEMBERS", "s"],
        ["SINTER", "s", "s"],
        ["SUNION", "s", "nokey"],
        ["SDIFF", "s", "nokey"],
        ["SPOP", "nokey", "2"],
        ["SPOP", "s", "0"],
        ["SRANDMEMBER", "s", "10"],
        ["SRANDMEMBER", "nokey", "2"],
        ["SISMEMBER", "s", "1"],
        ["SPOP", "s", "10"],
      ]);
      assert.deepEqual(diffs, []);
    });
  },
});

Deno.test({
  name: "set-max-intset-entries converts an intset to a hashtable as Redis does",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    await withPair(async (p) => {
      const ints = Array.from({ length: 513 }, (_, i) => String(i * 3));
      const diffs = await compareSteps(p, [
        ["SADD", "s", ...ints.slice(0, 512)],
        ["OBJECT", "ENCODING", "s"],
        ["SADD", "s", ints[512]],
        ["OBJECT", "ENCODING", "s"],
      ]);
      await p.both("SPOP", "s", "500");
      diffs.push(
        ...await compareSteps(p, [
          ["OBJECT", "ENCODING", "s"],
          ["CONFIG", "SET", "set-max-intset-entries", "2"],
          ["SADD", "t", "1", "2"],
          ["OBJECT", "ENCODING", "t"],
          ["SADD", "t", "3"],
          ["OBJECT", "ENCODING", "t"],
          ["CONFIG", "SET", "set-max-intset-entries", "512"],
        ]),
      );
      assert.deepEqual(diffs, []);
    });
  },
});

Deno.test("SPOP and SRANDMEMBER return distinct members; negative counts repeat", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    const members = Array.from({ length: 200 }, (_, i) => `m${i}`);
    await c.call("SADD", "s", ...members);
    const r = await c.call("SRANDMEMBER", "s", 50) as string[];
    assert.equal(new Set(r).size, 50);
    assert.equal((await c.call("SRANDMEMBER", "s", -500) as string[]).length, 500);
    const popped = await c.call("SPOP", "s", 150) as string[];
    assert.equal(new Set(popped).size, 150);
    assert.equal(await c.call("SCARD", "s"), 50);
    const rest = await c.call("SMEMBERS", "s") as string[];
    assert.deepEqual([...popped, ...rest].sort(), members.slice().sort());
    const one = await c.call("SPOP", "s") as string;
    assert.equal(await c.call("SISMEMBER", "s", one), 0);
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("SSCAN of a large set visits every member, even while members are removed", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    const members = Array.from({ length: 1000 }, (_, i) => `m${i}`);
    await c.call("SADD", "s", ...members);
    const seen = new Set<string>();
    let cursor = "0";
    let round = 0;
    do {
      const [next, items] = await c.call("SSCAN", "s", cursor, "COUNT", 50) as [string, string[]];
      items.forEach((m) => seen.add(m));
      cursor = next;
      // remove a member that was already returned: survivors must still be seen
      if (items.length > 0 && round++ % 2 === 0) await c.call("SREM", "s", items[0]);
    } while (cursor !== "0");
    assert.equal(seen.size, 1000);
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("SPOP propagates as SREM (or DEL when it takes everything), like Redis 7.0", async () => {
  const t = await startRedeno();
  const propagated = recordPropagatedLines(t);
  const c = await RespClient.connect(t.port);
  try {
    await c.call("SADD", "s", "a", "b", "c", "d");
    const one = await c.call("SPOP", "s");
    const two = await c.call("SPOP", "s", "2") as string[];
    await c.call("SPOP", "s", "5");
    await waitFor(() => propagated.includes("DEL s"));
    assert.deepEqual(propagated, [
      "SADD s a b c d",
      `SREM s ${one}`,
      "MULTI",
      `SREM s ${two[0]}`,
      `SREM s ${two[1]}`,
      "EXEC",
      "DEL s",
    ]);
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("keyspace events and WATCH see set changes", async () => {
  const t = await startRedeno();
  const a = await RespClient.connect(t.port);
  const b = await RespClient.connect(t.port);
  try {
    await a.call("SADD", "s", "x");
    await a.call("WATCH", "s");
    await b.call("SREM", "s", "x");
    await a.call("MULTI");
    await a.call("SADD", "s", "y");
    assert.equal(await a.call("EXEC"), null);
    assert.equal(await a.call("EXISTS", "s"), 0);
  } finally {
    a.close();
    b.close();
    await t.stop();
  }
});
