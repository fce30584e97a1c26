import assert from "node:assert/strict";
import { parseInfo } from "./helpers.ts";
import { IGNORE_SIDE_BY_SIDE, withPair } from "./side_by_side.ts";

const WRITES: string[][] = [
  ["SADD", "s", "1", "2", "3", "x"],
  ["SADD", "s", "1", "y"],
  ["SREM", "s", "1", "2", "nope"],
  ["SMOVE", "s", "t", "3"],
  ["SMOVE", "s", "t", "nope"],
  ["SPOP", "s"],
  ["SADD", "s", "a", "b", "c", "d", "e", "f"],
  ["SPOP", "s", "2"],
  ["SPOP", "s", "10"],
  ["SINTERSTORE", "d", "t", "t"],
  ["SUNIONSTORE", "d", "nokey"],
  ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"],
  ["ZADD", "z", "CH", "1", "a", "9", "b", "6", "f"],
  ["ZINCRBY", "z", "1", "a"],
  ["ZREM", "z", "a", "b", "nope"],
  ["ZREMRANGEBYRANK", "z", "0", "1"],
  ["ZREMRANGEBYSCORE", "z", "-inf", "5"],
  ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
  ["ZPOPMIN", "z", "2"],
  ["ZMPOP", "1", "z", "MAX", "COUNT", "5"],
  ["ZADD", "z", "1", "a", "2", "b"],
  ["ZUNIONSTORE", "u", "1", "z"],
  ["ZRANGESTORE", "u", "z", "0", "-1"],
  ["GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"],
  ["GEOSEARCHSTORE", "gs", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "300", "km"],
  ["PFADD", "h", "a", "b", "c"],
  ["PFADD", "h", "a"],
  ["PFCOUNT", "h"],
  ["PFCOUNT", "h"],
  ["PFMERGE", "h2", "h"],
  ["RPUSH", "l", "3", "1", "2"],
  ["SORT", "l", "STORE", "sl"],
];

Deno.test({
  name: "collection writes count changes (rdb_changes_since_last_save) like redis-server",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    await withPair(async (p) => {
      const changes = async () => {
        const [a, b] = await p.both("INFO", "persistence");
        const get = (r: unknown) => parseInfo(String(r)).get("rdb_changes_since_last_save");
        return [get(a), get(b)];
      };
      const base = await changes();
      const diffs: string[] = [];
      let last = base;
      for (const cmd of WRITES) {
        await p.both(...cmd);
        const now = await changes();
        const ours = Number(now[0]) - Number(last[0]);
        const real = Number(now[1]) - Number(last[1]);
        // RPUSH only sets up SORT (lists are another family's)
        if (ours !== real && cmd[0] !== "RPUSH") {
          diffs.push(`${cmd.join(" ")}: redeno +${ours} redis +${real}`);
        }
        last = now;
      }
      assert.deepEqual(diffs, []);
    });
  },
});
