import assert from "node:assert/strict";
import {
  HAVE_REDIS,
  parseCommands,
  RespClient,
  startRealRedis,
  startRedeno,
  waitFor,
} from "./helpers.ts";

/** Deterministic writes of every collection family (random pops only where one result is possible). */
const SCRIPT: string[][] = [
  ["SADD", "s", "a", "b", "c"],
  ["SADD", "s", "a"],
  ["SREM", "s", "a", "nope"],
  ["SREM", "s", "nope"],
  ["SMOVE", "s", "t", "b"],
  ["SMOVE", "s", "t", "nope"],
  ["SPOP", "t"],
  ["SPOP", "t"],
  ["SADD", "u", "x", "y"],
  ["SPOP", "u", "5"],
  ["SPOP", "nokey", "2"],
  ["SADD", "v", "1", "2"],
  ["SINTERSTORE", "d", "v", "v"],
  ["SUNIONSTORE", "d", "nokey"],
  ["SDIFFSTORE", "d", "v", "nokey"],
  ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"],
  ["ZADD", "z", "NX", "1", "a"],
  ["ZINCRBY", "z", "0.5", "a"],
  ["ZADD", "z", "INCR", "1", "b"],
  ["ZREM", "z", "nope"],
  ["ZREM", "z", "e"],
  ["ZREMRANGEBYRANK", "z", "10", "20"],
  ["ZREMRANGEBYSCORE", "z", "4", "4"],
  ["ZREMRANGEBYLEX", "z", "-", "-"],
  ["ZPOPMIN", "z", "1"],
  ["ZPOPMIN", "z", "0"],
  ["ZMPOP", "1", "z", "MAX", "COUNT", "1"],
  ["ZMPOP", "1", "nokey", "MAX"],
  ["BZPOPMIN", "z", "1"],
  ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
  ["BZMPOP", "1", "1", "z", "MIN", "COUNT", "2"],
  ["BZPOPMAX", "z", "nokey", "1"],
  ["ZADD", "zc", "1", "a", "2", "b"],
  ["ZMPOP", "2", "nokey", "zc", "MIN", "COUNT", "10"],
  ["ZADD", "zc", "1", "a", "2", "b"],
  ["BZMPOP", "0", "1", "zc", "MAX", "COUNT", "10"],
  ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
  ["ZUNIONSTORE", "zu", "1", "z"],
  ["ZINTERSTORE", "zu", "2", "z", "nokey"],
  ["ZRANGESTORE", "zr", "z", "0", "1"],
  ["ZDIFFSTORE", "zr", "1", "nokey"],
  ["GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"],
  ["GEOADD", "g", "NX", "CH", "13.361389", "38.115556", "Palermo"],
  ["GEOSEARCHSTORE", "gs", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "300", "km", "ASC"],
  ["GEORADIUS", "g", "15", "37", "200", "km", "STOREDIST", "gd"],
  ["GEORADIUS", "g", "15", "37", "200", "km"],
  ["PFADD", "h", "a", "b"],
  ["PFADD", "h", "a"],
  ["PFCOUNT", "h"],
  ["PFCOUNT", "h"],
  ["PFMERGE", "h2", "h"],
  ["RPUSH", "l", "3", "1", "2"],
  ["SORT", "l", "STORE", "sl"],
  ["SORT", "l"],
  ["SET", "last", "done"],
];

Deno.test({
  name: "collection writes propagate in the same forms as redis-server's AOF",
  ignore: !HAVE_REDIS,
  async fn() {
    const t = await startRedeno();
    const r = await startRealRedis(["--appendonly", "yes", "--appendfsync", "always"]);
    const ours = await RespClient.connect(t.port);
    const real = await RespClient.connect(r.port);
    const fed: string[][] = [["SELECT", "0"]];
    t.server.sinks.push({ feed: (_db, bytes) => void fed.push(...parseCommands(bytes)) });
    try {
      for (const command of SCRIPT.slice(0, -1)) {
        await Promise.all([ours.call(...command), real.call(...command)]);
      }
      // pops served to blocked clients propagate as ZPOPMIN/ZPOPMAX with their counts
      const blockedOurs = await RespClient.connect(t.port);
      const blockedReal = await RespClient.connect(r.port);
      try {
        const served: Array<[string, string[]]> = [
          ["bz1", ["BZPOPMIN", "bz1", "0"]],
          ["bz2", ["BZMPOP", "0", "1", "bz2", "MAX", "COUNT", "2"]],
        ];
        for (const [key, blocking] of served) {
          await blockedOurs.write(RespClient.encode(blocking));
          await blockedReal.write(RespClient.encode(blocking));
          await waitFor(async () => {
            const info = String(await real.call("INFO", "clients"));
            return t.server.blocking.blockedCount === 1 && info.includes("blocked_clients:1");
          }, { what: "blocked clients" });
          await Promise.all([
            ours.call("ZADD", key, "1", "a", "2", "b", "3", "c"),
            real.call("ZADD", key, "1", "a", "2", "b", "3", "c"),
          ]);
          assert.deepEqual(await blockedOurs.read(), await blockedReal.read());
        }
      } finally {
        blockedOurs.close();
        blockedReal.close();
      }
      await Promise.all([ours.call("SET", "last", "done"), real.call("SET", "last", "done")]);
      const aofDir = `${r.dir}/appendonlydir`;
      const readAof = async () => {
        for await (const entry of Deno.readDir(aofDir)) {
          if (entry.name.endsWith(".incr.aof")) {
            return parseCommands(await Deno.readFile(`${aofDir}/${entry.name}`));
          }
        }
        return [];
      };
      const aof = await waitFor(async () => {
        const cmds = await readAof();
        return cmds.some((c) => c[1] === "last") ? cmds : null;
      }, { what: "redis AOF" });
      // command names are compared case-insensitively (Redis keeps what the client sent)
      const norm = (cmds: string[][]) =>
        cmds.map(([name, ...rest]) => [name.toUpperCase(), ...rest]);
      assert.deepEqual(norm(fed), norm(aof!));
    } finally {
      ours.close();
      real.close();
      await r.stop();
      await t.stop();
    }
  },
});
