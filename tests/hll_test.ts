import assert from "node:assert/strict";
import { RespClient, startRedeno } from "./helpers.ts";
import { compareSteps, IGNORE_SIDE_BY_SIDE, type Step, withPair } from "./side_by_side.ts";

Deno.test({
  name: "PFADD builds the same sparse then dense HLL bytes as redis-server",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    const steps: Step[] = [["PFADD", "h"], ["GET", "h"], ["PFCOUNT", "h"], ["GET", "h"]];
    for (let i = 0; i < 3000; i += 10) {
      steps.push(["PFADD", "h", ...Array.from({ length: 10 }, (_, j) => `el-${i + j}`)]);
      if (i % 200 === 0) steps.push(["GET", "h"], ["PFCOUNT", "h"], ["GET", "h"]);
    }
    steps.push(["GET", "h"], ["PFCOUNT", "h"], ["PFDEBUG", "ENCODING", "h"]);
    steps.push(["PFADD", "bin", "\x00", "\xff\x80", "", "a".repeat(100)], ["GET", "bin"]);
    steps.push(["PFADD", "bin", "\x00"], ["PFCOUNT", "bin"]);
    await withPair(async (p) => {
      assert.deepEqual(await compareSteps(p, steps), []);
    });
  },
});

Deno.test({
  name: "PFCOUNT of many keys, PFMERGE and big cardinalities match redis-server",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    const steps: Step[] = [
      ["PFADD", "a", "x", "y", "z"],
      ["PFADD", "b", "y", "z", "w", "v"],
      ["PFCOUNT", "a", "b"],
      ["PFCOUNT", "a", "b", "nokey"],
      ["PFMERGE", "m", "a", "b"],
      ["GET", "m"],
      ["PFCOUNT", "m"],
      ["PFMERGE", "m2", "nokey"],
      ["GET", "m2"],
      ["PFMERGE", "a", "b"],
      ["GET", "a"],
    ];
    for (let i = 0; i < 100000; i += 1000) {
      steps.push(["PFADD", "big", ...Array.from({ length: 1000 }, (_, j) => `x${i + j}`)]);
    }
    steps.push(
      ["PFCOUNT", "big"],
      ["GET", "big"],
      ["PFDEBUG", "ENCODING", "big"],
      ["PFMERGE", "m3", "a", "big"],
      ["GET", "m3"],
      ["PFCOUNT", "big", "a", "b"],
      ["PFADD", "big", "edited", "in", "place"],
      ["PFCOUNT", "big", "a", "b"],
      ["PFMERGE", "m4", "big", "m3"],
      ["GET", "big"],
      ["GET", "m4"],
      ["SET", "notdense", "HYLL\x00"],
      ["PFCOUNT", "big", "notdense"],
      ["PFDEBUG", "TODENSE", "b"],
      ["GET", "b"],
      ["PFDEBUG", "TODENSE", "b"],
    );
    await withPair(async (p) => {
      assert.deepEqual(await compareSteps(p, steps), []);
    });
  },
});

Deno.test({
  name: "corrupt or foreign strings give Redis's HLL errors",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    await withPair(async (p) => {
      const diffs = await compareSteps(p, [
        ["SET", "s", "hello"],
        ["PFADD", "s", "x"],
        ["PFCOUNT", "s"],
        ["PFCOUNT", "s", "nokey"],
        ["PFMERGE", "d", "s"],
        ["SET", "fake", "HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"],
        ["PFCOUNT", "fake"],
        ["SET", "short", "HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00abc"],
        ["PFADD", "short", "x"],
        ["SET", "bad", "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x00"],
        ["PFCOUNT", "bad"],
        ["PFADD", "bad", "x"],
        ["LPUSH", "l", "x"],
        ["PFADD", "l", "x"],
        ["PFCOUNT", "l"],
        ["PFADD"],
        ["PFADD", "hh", "a", "b", "c"],
        ["PFDEBUG", "DECODE", "hh"],
        ["PFDEBUG", "ENCODING", "hh", "x"],
        ["PFDEBUG", "FOO", "hh"],
        ["PFDEBUG", "FOO", "hh", "x"],
        ["PFDEBUG", "DECODE", "nokey"],
        ["PFDEBUG", "ENCODING", "s"],
        ["PFSELFTEST"],
        ["PFDEBUG", "GETREG", "hh"],
        ["PFDEBUG", "ENCODING", "hh"],
        ["PFDEBUG", "DECODE", "hh"],
        ["GET", "hh"],
      ]);
      assert.deepEqual(diffs, []);
    });
  },
});

Deno.test({
  name: "hll-sparse-max-bytes decides the sparse to dense promotion like redis-server",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    await withPair(async (p) => {
      const steps: Step[] = [["CONFIG", "SET", "hll-sparse-max-bytes", "60"]];
      for (let i = 0; i < 40; i++) {
        steps.push(["PFADD", "h", `v${i}`], ["PFDEBUG", "ENCODING", "h"]);
      }
      steps.push(["GET", "h"], ["PFCOUNT", "h"]);
      assert.deepEqual(await compareSteps(p, steps), []);
    });
  },
});

Deno.test("PFCOUNT refreshes the cached cardinality and PFADD reports changes", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    assert.equal(await c.call("PFADD", "h", "a", "b", "c"), 1);
    assert.equal(await c.call("PFADD", "h", "a"), 0);
    const before = await c.call("GET", "h") as string;
    assert.equal(before.charCodeAt(15) & 0x80, 0x80);
    assert.equal(await c.call("PFCOUNT", "h"), 3);
    const after = await c.call("GET", "h") as string;
    assert.equal(after.charCodeAt(8), 3);
    assert.equal(after.charCodeAt(15) & 0x80, 0);
    assert.equal(await c.call("TYPE", "h"), "string");
  } finally {
    c.close();
    await t.stop();
  }
});
