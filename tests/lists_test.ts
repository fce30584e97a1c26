import assert from "node:assert/strict";
import { HAVE_REDIS, rawReplyDiffs, RespClient, RespError, startRedeno } from "./helpers.ts";

type Cmd = Array<string | number>;

const LIST_SCRIPT: Cmd[] = [
  ["RPUSH", "l", "a", "b", "c", "a", "b", "c"],
  ["LPUSH", "l", "x", "y"],
  ["LRANGE", "l", 0, -1],
  ["LRANGE", "l", -100, 100],
  ["LRANGE", "l", 5, 2],
  ["LRANGE", "l", -3, -1],
  ["LRANGE", "l", 100, 200],
  ["LRANGE", "l", "x", 2],
  ["LRANGE", "l", 0, "99999999999999999999"],
  ["LRANGE", "nokey", 0, -1],
  ["LLEN", "l"],
  ["LLEN", "nokey"],
  ["LINDEX", "l", -1],
  ["LINDEX", "l", 0],
  ["LINDEX", "l", 100],
  ["LINDEX", "l", -100],
  ["LINDEX", "l", "x"],
  ["LINDEX", "nokey", "x"],
  ["LSET", "l", -1, "z"],
  ["LSET", "l", 100, "z"],
  ["LSET", "l", "x", "z"],
  ["LSET", "nokey", 0, "z"],
  ["LINSERT", "l", "BEFORE", "a", "q"],
  ["LINSERT", "l", "after", "z", "end"],
  ["LINSERT", "l", "after", "nope", "q"],
  ["LINSERT", "l", "middle", "a", "q"],
  ["LINSERT", "nokey", "before", "a", "q"],
  ["LREM", "l", -1, "b"],
  ["LREM", "l", 0, "a"],
  ["LREM", "l", 1, "nope"],
  ["LREM", "l", "x", "a"],
  ["LREM", "nokey", 1, "a"],
  ["LRANGE", "l", 0, -1],
  ["LTRIM", "l", 1, -2],
  ["LRANGE", "l", 0, -1],
  ["LTRIM", "l", 0, 100],
  ["LTRIM", "nokey", 0, 1],
  ["LTRIM", "l", "a", 1],
  ["RPUSH", "p", "a", "b", "c", "b", "a", "b"],
  ["LPOS", "p", "b"],
  ["LPOS", "p", "b", "RANK", 2],
  ["LPOS", "p", "b", "RANK", -1],
  ["LPOS", "p", "b", "RANK", -2, "COUNT", 0],
  ["LPOS", "p", "b", "COUNT", 2],
  ["LPOS", "p", "b", "COUNT", 0, "MAXLEN", 3],
  ["LPOS", "p", "b", "RANK", 10],
  ["LPOS", "p", "b", "RANK", "-9223372036854775808"],
  ["LPOS", "p", "b", "RANK", "-9223372036854775807"],
  ["LPOS", "p", "b", "RANK", "9223372036854775807", "MAXLEN", 0],
  ["LPOS", "p", "zz", "COUNT", 5],
  ["LPOS", "p", "b", "RANK", 0],
  ["LPOS", "p", "b", "RANK", "x"],
  ["LPOS", "p", "b", "COUNT", -1],
  ["LPOS", "p", "b", "COUNT", "x"],
  ["LPOS", "p", "b", "MAXLEN", -1],
  ["LPOS", "p", "b", "FOO", 1],
  ["LPOS", "p", "b", "COUNT"],
  ["LPOS", "nokey", "b"],
  ["LPOS", "nokey", "b", "COUNT", 0],
  ["LPOP", "p"],
  ["RPOP", "p"],
  ["LPOP", "p", 2],
  ["RPOP", "p", 0],
  ["RPOP", "p", 100],
  ["EXISTS", "p"],
  ["LPOP", "p"],
  ["LPOP", "p", 1],
  ["LPOP", "p", -1],
  ["LPOP", "p", "x"],
  ["LPOP", "p", 1, 2],
  ["LPUSHX", "p", "a"],
  ["RPUSHX", "p", "a", "b"],
  ["RPUSHX", "l", "a", "b"],
  ["LPUSHX", "l", "c"],
  ["RPUSH", "src", 1, 2, 3],
  ["LMOVE", "src", "dst", "LEFT", "RIGHT"],
  ["RPOPLPUSH", "src", "dst"],
  ["LMOVE", "src", "src", "right", "left"],
  ["LMOVE", "src", "dst", "up", "left"],
  ["LMOVE", "nokey", "dst", "left", "left"],
  ["LRANGE", "src", 0, -1],
  ["LRANGE", "dst", 0, -1],
  ["LMOVE", "src", "dst", "left", "left"],
  ["EXISTS", "src"],
  ["LMPOP", 2, "nokey", "dst", "RIGHT", "COUNT", 5],
  ["LMPOP", 1, "nokey", "LEFT"],
  ["LMPOP", 0, "l", "LEFT"],
  ["LMPOP", "x", "l", "LEFT"],
  ["LMPOP", 2, "l", "LEFT"],
  ["LMPOP", 1, "l", "LEFT", "COUNT", 0],
  ["LMPOP", 1, "l", "LEFT", "COUNT", 1, "COUNT", 1],
  ["LMPOP", 1, "l", "UP"],
  ["LMPOP", 1, "l", "LEFT", "COUNT", 2],
  ["LMPOP", 1, "l", "RIGHT"],
  ["SET", "s", "x"],
  ["LPUSH", "s", "a"],
  ["RPUSHX", "s", "a"],
  ["LRANGE", "s", 0, -1],
  ["LLEN", "s"],
  ["LINDEX", "s", 0],
  ["LSET", "s", 0, "a"],
  ["LINSERT", "s", "before", "a", "b"],
  ["LREM", "s", 0, "a"],
  ["LTRIM", "s", 0, 1],
  ["LPOS", "s", "a"],
  ["LPOP", "s"],
  ["LMOVE", "l", "s", "left", "left"],
  ["LMOVE", "s", "l", "left", "left"],
  ["LMPOP", 2, "s", "l", "left"],
  ["BLPOP", "s", 0],
  ["BRPOPLPUSH", "s", "d", 0],
  ["BLMOVE", "l", "s", "left", "left", 0],
  ["RPUSH", "b", "1", "2", "3", "4"],
  ["BLPOP", "nokey", "b", 0],
  ["BRPOP", "b", 0],
  ["BLMPOP", 0, 2, "nokey", "b", "RIGHT", "COUNT", 9],
  ["BLPOP", "b", -1],
  ["BLPOP", "b", "abc"],
  ["BLPOP", "b", "inf"],
  ["BLPOP", "b", "1e300"],
  ["BLMPOP", "x", 1, "b", "left"],
  ["BLMPOP", 0, 0, "b", "left"],
  ["BLMPOP", 0, 1, "b", "up"],
  ["BLMOVE", "b", "c", "up", "left", 0],
  ["BLPOP", "nokey", 0.01],
  ["BRPOP", "nokey", "0.01"],
  ["BLMPOP", "0.01", 1, "nokey", "LEFT"],
  ["BLMOVE", "nokey", "d", "left", "left", 0.01],
  ["BRPOPLPUSH", "nokey", "d", 0.01],
  ["MULTI"],
  ["BLPOP", "nokey", 0],
  ["BLMOVE", "nokey", "d", "left", "left", 0],
  ["BRPOPLPUSH", "nokey", "d", 0],
  ["BLMPOP", 0, 1, "nokey", "left"],
  ["EXEC"],
  ["RPUSH", "bin", "\x00\xff\r\n", ""],
  ["LRANGE", "bin", 0, -1],
  ["OBJECT", "ENCODING", "bin"],
  ["LPUSH", "l"],
  ["LINSERT", "l", "before", "a"],
];

Deno.test({
  name: "list commands reply byte-for-byte like redis-server (RESP2)",
  ignore: !HAVE_REDIS,
  async fn() {
    assert.deepEqual(await rawReplyDiffs(LIST_SCRIPT), []);
  },
});

Deno.test({
  name: "list commands reply byte-for-byte like redis-server (RESP3)",
  ignore: !HAVE_REDIS,
  async fn() {
    assert.deepEqual(await rawReplyDiffs(LIST_SCRIPT, { resp3: true }), []);
  },
});

Deno.test({
  name: "list commands send the keyspace events redis-server sends",
  ignore: !HAVE_REDIS,
  async fn() {
    const cmds: Cmd[] = [
      ["RPUSH", "l", "a", "b", "c", "d", "e"],
      ["LPUSH", "l", "z"],
      ["LPUSHX", "l", "y"],
      ["RPUSHX", "nokey", "y"],
      ["LSET", "l", 0, "q"],
      ["LINSERT", "l", "AFTER", "a", "n"],
      ["LINSERT", "l", "AFTER", "nope", "n"],
      ["LREM", "l", 0, "n"],
      ["LREM", "l", 0, "nope"],
      ["LTRIM", "l", 0, -1],
      ["LTRIM", "l", 1, -2],
      ["LPOP", "l"],
      ["RPOP", "l", 2],
      ["LMOVE", "l", "m", "LEFT", "RIGHT"],
      ["RPOPLPUSH", "m", "l"],
      ["LMOVE", "l", "l", "LEFT", "RIGHT"],
      ["LMPOP", 2, "nokey", "l", "RIGHT", "COUNT", 10],
      ["RPUSH", "b", "1", "2"],
      ["BLPOP", "b", 0],
      ["BLMOVE", "b", "c", "LEFT", "LEFT", 0],
      ["BLMPOP", 0, 1, "c", "LEFT"],
      ["LTRIM", "nokey", 0, 1],
    ];
    assert.deepEqual(await rawReplyDiffs(cmds, { events: true }), []);
  },
});

Deno.test({
  name: "a random mix of list operations leaves the same lists as redis-server",
  ignore: !HAVE_REDIS,
  async fn() {
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const keys = ["k1", "k2"];
    const val = () => String.fromCharCode(97 + rand(4));
    const idx = () => rand(30) - 15;
    const cmds: Cmd[] = [];
    for (let i = 0; i < 400; i++) {
      const k = keys[rand(2)];
      switch (rand(12)) {
        case 0:
          cmds.push(["LPUSH", k, val(), val()]);
          break;
        case 1:
          cmds.push(["RPUSH", k, val(), val(), val()]);
          break;
        case 2:
          cmds.push(["LPOP", k]);
          break;
        case 3:
          cmds.push(["RPOP", k, rand(3)]);
          break;
        case 4:
          cmds.push(["LSET", k, idx(), val()]);
          break;
        case 5:
          cmds.push(["LINSERT", k, rand(2) ? "BEFORE" : "AFTER", val(), val()]);
          break;
        case 6:
          cmds.push(["LREM", k, rand(5) - 2, val()]);
          break;
        case 7:
          cmds.push(["LTRIM", k, idx(), idx()]);
          break;
        case 8:
          cmds.push(["LMOVE", k, keys[rand(2)], rand(2) ? "LEFT" : "RIGHT", "RIGHT"]);
          break;
        case 9:
          cmds.push(["LPOS", k, val(), "RANK", rand(2) ? 1 : -2, "COUNT", rand(3)]);
          break;
        case 10:
          cmds.push(["LMPOP", 2, k, "other", rand(2) ? "LEFT" : "RIGHT", "COUNT", 1 + rand(3)]);
          break;
        default:
          cmds.push(["LRANGE", k, idx(), idx()]);
      }
      if (i % 20 === 0) cmds.push(["LRANGE", k, 0, -1]);
    }
    assert.deepEqual(await rawReplyDiffs(cmds), []);
  },
});

Deno.test("push and pop at both ends of a 100k-element list keep order and stay fast", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    const batch: string[] = [];
    for (let i = 0; i < 1000; i++) batch.push(String(i));
    const start = performance.now();
    for (let j = 0; j < 50; j++) {
      await c.pipeline([["RPUSH", "big", ...batch], ["LPUSH", "big", ...batch]]);
    }
    assert.equal(await c.call("LLEN", "big"), 100000);
    assert.equal(await c.call("LINDEX", "big", 0), "999");
    assert.equal(await c.call("LINDEX", "big", -1), "999");
    assert.equal(await c.call("LINDEX", "big", 50000), "0");
    // 20k pops at each end must not be quadratic
    const pops: Cmd[] = [];
    for (let i = 0; i < 2000; i++) pops.push(["LPOP", "big", 10], ["RPOP", "big", 10]);
    const replies = await c.pipeline(pops);
    assert.deepEqual(replies[0], [
      "999",
      "998",
      "997",
      "996",
      "995",
      "994",
      "993",
      "992",
      "991",
      "990",
    ]);
    assert.equal(await c.call("LLEN", "big"), 60000);
    assert.ok(performance.now() - start < 5000, "push/pop throughput");
    assert.deepEqual(await c.call("LRANGE", "big", 0, 2), ["999", "998", "997"]);
    assert.deepEqual(await c.call("LRANGE", "big", -2, -1), ["998", "999"]);
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("a list emptied by any command is deleted", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    const cases: Cmd[] = [
      ["LPOP", "k"],
      ["RPOP", "k", 5],
      ["LREM", "k", 0, "v"],
      ["LTRIM", "k", 1, 0],
      ["LMOVE", "k", "other", "LEFT", "LEFT"],
      ["LMPOP", 1, "k", "LEFT"],
      ["BLPOP", "k", 0],
      ["BLMPOP", 0, 1, "k", "RIGHT", "COUNT", 3],
    ];
    for (const cmd of cases) {
      await c.call("RPUSH", "k", "v");
      await c.call(...cmd);
      assert.equal(await c.call("EXISTS", "k"), 0, JSON.stringify(cmd));
      assert.equal(await c.call("TYPE", "k"), "none");
    }
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("list commands against a key of another type answer WRONGTYPE", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    await c.call("HSET", "h", "f", "v");
    for (
      const cmd of [
        ["LPUSH", "h", "a"],
        ["LLEN", "h"],
        ["LRANGE", "h", 0, -1],
        ["LPOP", "h"],
        ["BLPOP", "h", 0],
        ["BLMOVE", "h", "x", "LEFT", "LEFT", 0],
        ["LMPOP", 1, "h", "LEFT"],
      ] as Cmd[]
    ) {
      const r = await c.call(...cmd);
      assert.ok(r instanceof RespError && r.message.startsWith("WRONGTYPE"), JSON.stringify(cmd));
    }
  } finally {
    c.close();
    await t.stop();
  }
});
