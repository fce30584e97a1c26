import assert from "node:assert/strict";
import {
  HAVE_REDIS,
  rawReplyDiffs,
  type Reply,
  RespClient,
  RespError,
  startRedeno,
} from "./helpers.ts";
import type { PropagationSink } from "../src/server.ts";

type Cmd = Array<string | number>;

const HASH_SCRIPT: Cmd[] = [
  ["HSET", "h", "a", "1", "b", "2"],
  ["HSET", "h", "a", "1", "b"],
  ["HSET", "h", "a", "10", "c", "3"],
  ["HMSET", "h", "d", "4"],
  ["HMSET", "h", "d"],
  ["HSETNX", "h", "d", "5"],
  ["HSETNX", "h", "e", "5"],
  ["HSETNX", "new", "f", "v"],
  ["HGET", "h", "a"],
  ["HGET", "h", "zz"],
  ["HGET", "nokey", "a"],
  ["HMGET", "h", "a", "zz", "b"],
  ["HMGET", "nokey", "a", "b"],
  ["HGETALL", "h"],
  ["HGETALL", "nokey"],
  ["HKEYS", "h"],
  ["HKEYS", "nokey"],
  ["HVALS", "h"],
  ["HVALS", "nokey"],
  ["HLEN", "h"],
  ["HLEN", "nokey"],
  ["HEXISTS", "h", "a"],
  ["HEXISTS", "h", "zz"],
  ["HEXISTS", "nokey", "zz"],
  ["HSTRLEN", "h", "a"],
  ["HSTRLEN", "h", "zz"],
  ["HSTRLEN", "nokey", "zz"],
  ["HINCRBY", "h", "a", 10],
  ["HINCRBY", "h", "n", -5],
  ["HINCRBY", "h", "n", "x"],
  ["HINCRBY", "h", "n", "1.5"],
  ["HSET", "h", "big", "9223372036854775807", "sp", " 1", "inf", "inf"],
  ["HINCRBY", "h", "big", 1],
  ["HINCRBY", "h", "big", -1],
  ["HINCRBY", "h", "sp", 1],
  ["HINCRBY", "h", "small", "-9223372036854775808"],
  ["HINCRBY", "h", "small", -1],
  ["HINCRBYFLOAT", "h", "f", "10.5"],
  ["HINCRBYFLOAT", "h", "f", "0.1"],
  ["HINCRBYFLOAT", "h", "f2", "0.1"],
  ["HINCRBYFLOAT", "h", "f2", "0.2"],
  ["HINCRBYFLOAT", "h", "f3", "12345.6789"],
  ["HINCRBYFLOAT", "h", "f4", "1.5e3"],
  ["HINCRBYFLOAT", "h", "f4", "-1500"],
  ["HINCRBYFLOAT", "g", "f5", "1e400"],
  ["HINCRBYFLOAT", "g", "f5", "1e400"],
  ["HINCRBYFLOAT", "h", "a", "1.5"],
  ["HINCRBYFLOAT", "h", "a", "abc"],
  ["HINCRBYFLOAT", "h", "a", "inf"],
  ["HINCRBYFLOAT", "h", "inf", "1"],
  ["HINCRBYFLOAT", "h", "sp", "1"],
  ["HINCRBY", "h", "f", 1],
  ["HDEL", "h", "a", "zz", "b"],
  ["HDEL", "nokey", "a"],
  ["HRANDFIELD", "h", 100],
  ["HRANDFIELD", "h", 100, "WITHVALUES"],
  ["HRANDFIELD", "h", 0],
  ["HRANDFIELD", "h", 0, "WITHVALUES"],
  ["HRANDFIELD", "h", 5, "WITHVALUE"],
  ["HRANDFIELD", "h", 5, "WITHVALUES", "x"],
  ["HRANDFIELD", "h", "x"],
  ["HRANDFIELD", "h", "-9223372036854775808"],
  ["HRANDFIELD", "h", "-9223372036854775807", "WITHVALUES"],
  ["HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"],
  ["HRANDFIELD", "nokey"],
  ["HRANDFIELD", "nokey", 3],
  ["HRANDFIELD", "nokey", -3, "WITHVALUES"],
  ["HSCAN", "h", 0],
  ["HSCAN", "h", 0, "MATCH", "f*"],
  ["HSCAN", "h", 0, "MATCH", "f*", "COUNT", 1],
  ["HSCAN", "h", 0, "COUNT", 0],
  ["HSCAN", "h", 0, "COUNT", "x"],
  ["HSCAN", "h", 0, "TYPE", "x"],
  ["HSCAN", "h", 0, "NOVALUES"],
  ["HSCAN", "h", "abc"],
  ["HSCAN", "h", "18446744073709551616"],
  ["HSCAN", "nokey", 0],
  ["HSCAN", "nokey", "-1"],
  ["OBJECT", "ENCODING", "h"],
  ["SET", "s", "x"],
  ["HGET", "s", "a"],
  ["HSET", "s", "a", "b"],
  ["HSETNX", "s", "a", "b"],
  ["HMGET", "s", "a"],
  ["HGETALL", "s"],
  ["HDEL", "s", "a"],
  ["HLEN", "s"],
  ["HINCRBY", "s", "a", 1],
  ["HINCRBYFLOAT", "s", "a", 1],
  ["HRANDFIELD", "s"],
  ["HRANDFIELD", "s", 1],
  ["HSCAN", "s", 0],
  ["HDEL", "h", "c", "d", "e", "n", "f", "big", "sp", "inf", "small", "f2", "f3", "f4"],
  ["EXISTS", "h"],
  ["HSET", "bin", "\x00\xff", "\r\n", "", ""],
  ["HGETALL", "bin"],
  ["HSET", "long", "f", "x".repeat(65)],
  ["OBJECT", "ENCODING", "long"],
  ["HSET", "short", "f", "x".repeat(64)],
  ["OBJECT", "ENCODING", "short"],
  ["HGET"],
  ["HSET", "h"],
];

Deno.test({
  name: "hash commands reply byte-for-byte like redis-server (RESP2)",
  ignore: !HAVE_REDIS,
  async fn() {
    assert.deepEqual(await rawReplyDiffs(HASH_SCRIPT), []);
  },
});

Deno.test({
  name: "hash commands reply byte-for-byte like redis-server (RESP3)",
  ignore: !HAVE_REDIS,
  async fn() {
    assert.deepEqual(await rawReplyDiffs(HASH_SCRIPT, { resp3: true }), []);
  },
});

Deno.test({
  name: "hash commands send the keyspace events redis-server sends",
  ignore: !HAVE_REDIS,
  async fn() {
    const cmds: Cmd[] = [
      ["HSET", "h", "a", "1", "b", "2"],
      ["HSET", "h", "a", "1"],
      ["HMSET", "h", "c", "3"],
      ["HSETNX", "h", "c", "3"],
      ["HSETNX", "h", "d", "4"],
      ["HINCRBY", "h", "a", 1],
      ["HINCRBYFLOAT", "h", "a", "1.5"],
      ["HINCRBY", "h", "a", "x"],
      ["HDEL", "h", "nope"],
      ["HDEL", "h", "a", "b"],
      ["HDEL", "h", "c", "d"],
      ["HGET", "h", "a"],
    ];
    assert.deepEqual(await rawReplyDiffs(cmds, { events: true }), []);
  },
});

Deno.test({
  name: "a hash converts to hashtable past hash-max-listpack-entries, never back",
  ignore: !HAVE_REDIS,
  async fn() {
    const cmds: Cmd[] = [];
    for (let i = 0; i < 6; i++) {
      cmds.push(["HSET", "h", `f${i}`, i], ["OBJECT", "ENCODING", "h"]);
    }
    cmds.push(["HDEL", "h", "f0", "f1", "f2"], ["OBJECT", "ENCODING", "h"]);
    cmds.push(["HSET", "v", "f", "123456"], ["OBJECT", "ENCODING", "v"]);
    cmds.push(["HINCRBYFLOAT", "w", "f", "1.25"], ["OBJECT", "ENCODING", "w"]);
    cmds.push(["HINCRBYFLOAT", "w", "f", "1000"], ["OBJECT", "ENCODING", "w"]);
    cmds.push(["HINCRBY", "x", "f", "99999"], ["OBJECT", "ENCODING", "x"]);
    cmds.push(["HINCRBY", "x", "f", "1"], ["OBJECT", "ENCODING", "x"]);
    cmds.push(["HSETNX", "y", "f", "123456"], ["OBJECT", "ENCODING", "y"]);
    cmds.push(["HSET", "z", "f", "1", "123456", "1"], ["OBJECT", "ENCODING", "z"]);
    const args = ["--hash-max-listpack-entries", "4", "--hash-max-listpack-value", "5"];
    assert.deepEqual(await rawReplyDiffs(cmds, { args }), []);
  },
});

Deno.test("DEBUG OBJECT shows a listpack hash promoted to hashtable by a big value", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    await c.call("HSET", "h", "a", "1");
    assert.match(
      await c.call("DEBUG", "OBJECT", "h") as string,
      /^Value at:0x[0-9a-f]+ refcount:1 encoding:listpack serializedlength:\d+ lru:\d+ lru_seconds_idle:\d+$/,
    );
    assert.equal(await c.call("DEBUG", "LISTPACK", "h"), "Listpack structure printed on stdout");
    await c.call("HSET", "h", "foo", "a".repeat(1024));
    assert.match(await c.call("DEBUG", "OBJECT", "h") as string, / encoding:hashtable /);
    const missing = await c.call("DEBUG", "OBJECT", "nokey");
    assert.ok(missing instanceof RespError);
    assert.equal(missing.message, "ERR no such key");
    const notListpack = await c.call("DEBUG", "LISTPACK", "h");
    assert.ok(notListpack instanceof RespError);
    assert.equal(notListpack.message, "ERR Not a listpack encoded object.");
    await c.call("RPUSH", "l", "a", "b", "c");
    assert.match(
      await c.call("DEBUG", "OBJECT", "l") as string,
      / encoding:quicklist .* ql_nodes:1 ql_avg_node:3.00 ql_listpack_max:-2 ql_compressed:0 ql_uncompressed_size:16$/,
    );
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("HRANDFIELD returns distinct fields for a positive count, repeats for a negative one", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    const args: string[] = [];
    for (let i = 0; i < 1000; i++) args.push(`f${i}`, `v${i}`);
    await c.call("HSET", "h", ...args);
    assert.equal(await c.call("OBJECT", "ENCODING", "h"), "hashtable");
    for (const n of [1, 10, 400, 999]) {
      const r = await c.call("HRANDFIELD", "h", n) as string[];
      assert.equal(r.length, n);
      assert.equal(new Set(r).size, n, `distinct for ${n}`);
    }
    const all = await c.call("HRANDFIELD", "h", 5000) as string[];
    assert.equal(new Set(all).size, 1000);
    const rep = await c.call("HRANDFIELD", "h", -3000) as string[];
    assert.equal(rep.length, 3000);
    assert.ok(new Set(rep).size < 1000, "a negative count draws with repetitions");
    const flat = await c.call("HRANDFIELD", "h", -5, "WITHVALUES") as string[];
    assert.equal(flat.length, 10);
    for (let i = 0; i < 10; i += 2) assert.equal(flat[i + 1], "v" + flat[i].slice(1));
    await c.call("HELLO", 3);
    const nested = await c.call("HRANDFIELD", "h", 3, "WITHVALUES") as string[][];
    assert.equal(nested.length, 3);
    for (const [f, v] of nested) assert.equal(v, "v" + f.slice(1));
    const single = await c.call("HRANDFIELD", "h") as string;
    assert.match(single, /^f\d+$/);
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("HSCAN walks a large hash with cursors and returns every field that stays", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    const args: string[] = [];
    for (let i = 0; i < 2000; i++) args.push(`f${i}`, `v${i}`);
    await c.call("HSET", "h", ...args);
    const seen = new Map<string, string>();
    let cursor = "0";
    let calls = 0;
    do {
      const [next, items] = await c.call("HSCAN", "h", cursor, "COUNT", 50) as [string, string[]];
      for (let i = 0; i < items.length; i += 2) seen.set(items[i], items[i + 1]);
      // fields deleted or added during the scan must not hide the ones that stay
      if (calls === 5) await c.call("HDEL", "h", "f1", "f2", "f3");
      if (calls === 6) await c.call("HSET", "h", "extra", "x");
      cursor = next;
      calls++;
    } while (cursor !== "0");
    assert.ok(calls > 10, "several steps");
    for (let i = 4; i < 2000; i++) assert.equal(seen.get(`f${i}`), `v${i}`);
    const [, matched] = await c.call("HSCAN", "h", 0, "MATCH", "f19*", "COUNT", 100000) as [
      string,
      string[],
    ];
    const fields = matched.filter((_, i) => i % 2 === 0).sort();
    assert.equal(fields.length, 111);
    assert.ok(fields.every((f) => f.startsWith("f19")));
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("HINCRBYFLOAT propagates as HSET with the new value; a no-op HDEL propagates nothing", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  const fed: string[] = [];
  const sink: PropagationSink = {
    feed(_db, command) {
      fed.push(new TextDecoder().decode(command));
    },
  };
  t.server.sinks.push(sink);
  try {
    assert.equal(await c.call("HINCRBYFLOAT", "h", "f", "0.1"), "0.1");
    assert.equal(await c.call("HINCRBYFLOAT", "h", "f", "0.2"), "0.3");
    await c.call("HDEL", "h", "nope");
    await c.call("HINCRBY", "h", "n", 5);
    assert.deepEqual(fed, [
      "*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$3\r\n0.1\r\n",
      "*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$3\r\n0.3\r\n",
      "*4\r\n$7\r\nHINCRBY\r\n$1\r\nh\r\n$1\r\nn\r\n$1\r\n5\r\n",
    ]);
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("a hash whose last field is deleted disappears", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    await c.call("HSET", "h", "a", "1", "b", "2");
    assert.equal(await c.call("HDEL", "h", "a", "b", "c"), 2);
    assert.equal(await c.call("EXISTS", "h"), 0);
    const r: Reply = await c.call("HGET", "h", "a");
    assert.equal(r, null);
    assert.ok(!(await c.call("TYPE", "h") instanceof RespError));
  } finally {
    c.close();
    await t.stop();
  }
});
