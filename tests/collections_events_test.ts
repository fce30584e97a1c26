import assert from "node:assert/strict";
import { type Reply, RespClient } from "./helpers.ts";
import { IGNORE_SIDE_BY_SIDE, withPair } from "./side_by_side.ts";

/** Every command of the families, chosen to hit each keyspace event they emit. */
const COMMANDS: string[][] = [
  ["SADD", "s", "1", "2", "3", "4"],
  ["SREM", "s", "1"],
  ["SMOVE", "s", "t", "2"],
  ["SPOP", "s"],
  ["SADD", "s", "a", "b", "c"],
  ["SPOP", "s", "1"],
  ["SPOP", "s", "10"],
  ["SINTERSTORE", "d", "t", "t"],
  ["SUNIONSTORE", "d", "t", "nokey"],
  ["SDIFFSTORE", "d", "t", "t"],
  ["SREM", "t", "2"],
  ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
  ["ZINCRBY", "z", "1", "a"],
  ["ZADD", "z", "INCR", "1", "a"],
  ["ZREM", "z", "a"],
  ["ZREMRANGEBYRANK", "z", "0", "0"],
  ["ZREMRANGEBYSCORE", "z", "3", "3"],
  ["ZADD", "z", "0", "x", "0", "y"],
  ["ZREMRANGEBYLEX", "z", "[x", "[x"],
  ["ZPOPMIN", "z"],
  ["ZPOPMAX", "z"],
  ["ZADD", "z", "1", "a", "2", "b"],
  ["ZMPOP", "1", "z", "MIN"],
  ["BZPOPMIN", "z", "0"],
  ["ZADD", "z", "1", "a", "2", "b"],
  ["ZUNIONSTORE", "u", "1", "z"],
  ["ZINTERSTORE", "u", "1", "z"],
  ["ZDIFFSTORE", "u", "1", "z"],
  ["ZRANGESTORE", "u", "z", "0", "0"],
  ["ZUNIONSTORE", "u", "1", "nokey"],
  ["GEOADD", "g", "13.361389", "38.115556", "Palermo"],
  ["GEOSEARCHSTORE", "gs", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km"],
  ["GEORADIUS", "g", "13.36", "38.11", "10", "km", "STORE", "gr"],
  ["PFADD", "h", "a"],
  ["PFMERGE", "h2", "h"],
  ["PFCOUNT", "h"],
  ["RPUSH", "l", "2", "1"],
  ["SORT", "l", "STORE", "sl"],
  ["SORT", "nokey", "STORE", "sl"],
];

async function collect(sub: RespClient): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const r = await sub.read() as Reply[] | { push: Reply[] };
    const msg = Array.isArray(r) ? r : r.push;
    if (msg[0] !== "pmessage") continue;
    if (msg[3] === "sentinel") return out;
    out.push(`${String(msg[2]).slice("__keyevent@0__:".length)} ${msg[3]}`);
  }
}

Deno.test({
  name: "keyspace events of set, zset, geo, HLL and SORT commands match redis-server",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    await withPair(async (p) => {
      await p.same("CONFIG", "SET", "notify-keyspace-events", "KEA");
      const subs: RespClient[] = [];
      try {
        for (const c of [p.ours, p.real]) {
          const port = (c.conn.remoteAddr as Deno.NetAddr).port;
          const sub = await RespClient.connect(port);
          subs.push(sub);
          await sub.call("PSUBSCRIBE", "__keyevent@0__:*");
        }
        const events = subs.map((s) => collect(s));
        for (const cmd of COMMANDS) await p.both(...cmd);
        await p.both("SET", "sentinel", "1");
        const [ours, real] = await Promise.all(events);
        assert.ok(real.length >= 40, `only ${real.length} events`);
        assert.deepEqual(ours, real);
      } finally {
        subs.forEach((s) => s.close());
      }
    });
  },
});
