import assert from "node:assert/strict";
import { recordPropagatedLines, RespClient, startRedeno } from "./helpers.ts";
import { compareSteps, IGNORE_SIDE_BY_SIDE, type Step, withPair } from "./side_by_side.ts";

const SORTS: Step[] = [
  ["RPUSH", "l", "3", "1", "2", "10", "-1.5", "2"],
  ["SORT", "l"],
  ["SORT", "l", "DESC"],
  ["SORT", "l", "LIMIT", "1", "2"],
  ["SORT", "l", "LIMIT", "-5", "2"],
  ["SORT", "l", "LIMIT", "2", "-1"],
  ["SORT", "l", "LIMIT", "100", "2"],
  ["SORT", "l", "ALPHA"],
  ["SORT", "l", "ALPHA", "DESC"],
  ["SORT", "l", "BY", "nosort"],
  ["SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "3"],
  ["MSET", "w_3", "30", "w_1", "10", "w_2", "20", "w_10", "5", "o_1", "one", "o_2", "two"],
  ["SORT", "l", "BY", "w_*"],
  ["SORT", "l", "BY", "w_*", "GET", "o_*", "GET", "#"],
  ["SORT", "l", "BY", "w_*", "ALPHA"],
  ["SORT", "l", "BY", "w_*", "LIMIT", "0", "2"],
  ["HSET", "h_1", "f", "z"],
  ["HSET", "h_2", "f", "a"],
  ["SORT", "l", "BY", "h_*->f", "ALPHA", "GET", "h_*->f", "GET", "#"],
  ["SORT", "l", "GET", "h_*->", "GET", "nostar"],
  ["SORT", "l", "GET", "#", "STORE", "dst"],
  ["LRANGE", "dst", "0", "-1"],
  ["TYPE", "dst"],
  ["SORT", "l", "GET", "o_*", "STORE", "dst"],
  ["LRANGE", "dst", "0", "-1"],
  ["SORT", "l", "STORE", "dst", "LIMIT", "10", "10"],
  ["EXISTS", "dst"],
  ["RPUSH", "bad", "a", "1"],
  ["SORT", "bad"],
  ["SORT", "bad", "ALPHA"],
  ["SADD", "s", "5", "3", "9", "1"],
  ["SORT", "s"],
  ["SORT", "s", "BY", "nosort"],
  ["SORT", "s", "BY", "nosort", "STORE", "d3"],
  ["LRANGE", "d3", "0", "-1"],
  ["ZADD", "z", "1", "c", "2", "b", "3", "a"],
  ["SORT", "z", "ALPHA"],
  ["SORT", "z", "BY", "nosort", "DESC", "LIMIT", "0", "2"],
  ["SORT", "z", "BY", "nosort", "LIMIT", "1", "5"],
  ["SORT", "z", "BY", "nosort", "GET", "#", "GET", "o_*"],
  ["SORT_RO", "z", "ALPHA", "STORE", "x"],
  ["SORT_RO", "z", "ALPHA", "LIMIT", "0", "1"],
  ["SORT", "nokey"],
  ["SORT", "nokey", "STORE", "dst"],
  ["SORT", "l", "LIMIT", "a", "b"],
  ["SORT", "l", "LIMIT", "1"],
  ["SORT", "l", "FOO"],
  ["SET", "str", "x"],
  ["SORT", "str"],
  ["RPUSH", "e", "", " 1", "2 ", "1e3", "inf", "-inf"],
  ["SORT", "e"],
  ["COMMAND", "GETKEYS", "SORT", "abc", "STORE", "invalid", "STORE", "stillbad", "STORE", "def"],
  ["COMMAND", "GETKEYS", "SORT", "abc", "STORE", "limit", "1", "2"],
  ["COMMAND", "GETKEYS", "SORT", "abc", "GET", "store", "BY", "x"],
  ["COMMAND", "GETKEYS", "SORT", "abc", "LIMIT", "store", "x", "STORE"],
];

Deno.test({
  name: "SORT and SORT_RO reply byte-for-byte like redis-server",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    await withPair(async (p) => {
      assert.deepEqual(await compareSteps(p, SORTS), []);
    });
  },
});

Deno.test("SORT ... STORE is propagated and notifies like a list write", async () => {
  const t = await startRedeno();
  const propagated = recordPropagatedLines(t);
  const c = await RespClient.connect(t.port);
  try {
    await c.call("SADD", "s", "3", "1", "2");
    assert.equal(await c.call("SORT", "s", "STORE", "out"), 3);
    assert.deepEqual(await c.call("LRANGE", "out", "0", "-1"), ["1", "2", "3"]);
    assert.deepEqual(await c.call("SORT", "s", "DESC"), ["3", "2", "1"]);
    assert.deepEqual(propagated, ["SADD s 3 1 2", "SORT s STORE out"]);
  } finally {
    c.close();
    await t.stop();
  }
});
