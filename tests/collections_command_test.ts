import assert from "node:assert/strict";
import type { Reply } from "./helpers.ts";
import { IGNORE_SIDE_BY_SIDE, withPair } from "./side_by_side.ts";

const NAMES = ("sadd srem smove sismember smismember scard smembers spop srandmember sinter " +
  "sintercard sinterstore sunion sunionstore sdiff sdiffstore sscan zadd zincrby zscore " +
  "zmscore zcard zcount zlexcount zrank zrevrank zrange zrangestore zrangebyscore " +
  "zrevrangebyscore zrangebylex zrevrangebylex zrevrange zrem zremrangebyrank " +
  "zremrangebyscore zremrangebylex zpopmin zpopmax zmpop bzpopmin bzpopmax bzmpop zunion " +
  "zinter zdiff zintercard zunionstore zinterstore zdiffstore zrandmember zscan geoadd " +
  "geopos geohash geodist georadius georadius_ro georadiusbymember georadiusbymember_ro " +
  "geosearch geosearchstore pfadd pfcount pfmerge pfdebug pfselftest sort sort_ro").split(" ");

const GETKEYS = [
  ["SORT", "k", "STORE", "d", "GET", "x"],
  ["GEORADIUS", "k", "1", "1", "1", "km", "STORE", "d"],
  ["ZUNIONSTORE", "d", "2", "a", "b"],
  ["ZINTERCARD", "2", "a", "b"],
  ["BZMPOP", "0", "2", "a", "b", "MIN"],
  ["SINTERCARD", "2", "a", "b", "LIMIT", "1"],
  ["ZMPOP", "1", "a", "MIN"],
  ["GEOSEARCHSTORE", "d", "s", "FROMMEMBER", "m", "BYRADIUS", "1", "m"],
  ["SMOVE", "a", "b", "m"],
];

/** arity, flags, first/last/step and ACL categories of a COMMAND INFO entry. */
function shape(r: Reply): string {
  const entry = (r as Reply[][])[0];
  if (!entry) return "missing";
  const sorted = (x: Reply) => [...(x as string[])].sort();
  return JSON.stringify([
    entry[1],
    sorted(entry[2]),
    entry[3],
    entry[4],
    entry[5],
    sorted(entry[6]),
  ]);
}

Deno.test({
  name: "COMMAND INFO and COMMAND GETKEYS of the collection commands match redis-server",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    await withPair(async (p) => {
      const diffs: string[] = [];
      for (const name of NAMES) {
        const [ours, real] = await p.both("COMMAND", "INFO", name);
        if (shape(ours) !== shape(real)) diffs.push(`${name}: ${shape(ours)} vs ${shape(real)}`);
      }
      for (const cmd of GETKEYS) {
        const [ours, real] = await p.both("COMMAND", "GETKEYS", ...cmd);
        if (JSON.stringify(ours) !== JSON.stringify(real)) diffs.push(`GETKEYS ${cmd.join(" ")}`);
      }
      assert.deepEqual(diffs, []);
    });
  },
});
