import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { startRedeno } from "./helpers.ts";

Deno.test("ioredis drives sets, sorted sets, geo, HyperLogLog and SORT", async () => {
  const t = await startRedeno();
  const client = new Redis({
    port: t.port,
    host: "127.0.0.1",
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableReadyCheck: false,
  });
  try {
    await client.connect();
    assert.equal(await client.sadd("s", "a", "b", "c"), 3);
    assert.deepEqual((await client.smembers("s")).sort(), ["a", "b", "c"]);
    assert.equal(await client.zadd("z", 1, "one", 2, "two", 3, "three"), 3);
    assert.deepEqual(await client.zrange("z", 0, -1, "WITHSCORES"), [
      "one",
      "1",
      "two",
      "2",
      "three",
      "3",
    ]);
    assert.equal(await client.zincrby("z", 0.5, "one"), "1.5");
    assert.deepEqual(await client.zpopmax("z"), ["three", "3"]);
    assert.equal(
      await client.geoadd("g", 13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania"),
      2,
    );
    assert.equal(await client.geodist("g", "Palermo", "Catania", "KM"), "166.2742");
    assert.deepEqual(await client.geohash("g", "Palermo"), ["sqc8b49rny0"]);
    assert.equal(await client.pfadd("h", "x", "y", "z"), 1);
    assert.equal(await client.pfcount("h"), 3);
    await client.rpush("l", "3", "1", "2");
    assert.deepEqual(await client.sort("l"), ["1", "2", "3"]);
    const popped = await client.bzpopmin("z", 1);
    assert.deepEqual(popped, ["z", "one", "1.5"]);
  } finally {
    client.disconnect();
    await t.stop();
  }
});

Deno.test("node-redis in RESP2 reads sorted set and set replies", async () => {
  const t = await startRedeno();
  const client = createClient({
    socket: { port: t.port, host: "127.0.0.1", reconnectStrategy: false },
  });
  try {
    await client.connect();
    await client.zAdd("z", [{ score: 1, value: "a" }, { score: 2, value: "b" }]);
    assert.deepEqual(await client.zRangeWithScores("z", 0, -1), [
      { value: "a", score: 1 },
      { value: "b", score: 2 },
    ]);
    assert.equal(await client.zRank("z", "b"), 1);
    assert.deepEqual(await client.zmScore("z", ["a", "nope"]), [1, null]);
    await client.sAdd("s", ["1", "2", "3"]);
    assert.equal(await client.sCard("s"), 3);
    assert.deepEqual(await client.sInter(["s", "s"]), ["1", "2", "3"]);
  } finally {
    await client.quit();
    await t.stop();
  }
});
