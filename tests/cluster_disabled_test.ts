/**
 * A standalone server answers the cluster and module commands as redis-server 7.0 does with
 * cluster support disabled (clients probe with CLUSTER INFO / CLUSTER SLOTS), compared
 * side by side: errors, arity and unknown-subcommand errors, and from scripts.
 */
import assert from "node:assert/strict";
import { HAVE_REDIS, RespClient, startRealRedis, startRedeno } from "./helpers.ts";

Deno.test({
  name: "CLUSTER, READONLY, READWRITE, ASKING and MODULE answer like a standalone redis-server",
  ignore: !HAVE_REDIS,
  fn: async () => {
    const t = await startRedeno();
    const redis = await startRealRedis();
    const ours = await RespClient.connect(t.port);
    const theirs = await RespClient.connect(redis.port);
    try {
      const probes = [
        ["CLUSTER", "INFO"],
        ["CLUSTER", "SLOTS"],
        ["CLUSTER", "HELP"],
        ["CLUSTER", "KEYSLOT", "foo"],
        ["CLUSTER", "NOSUCH"],
        ["CLUSTER"],
        ["CLUSTER", "SLOTS", "x"],
        ["CLUSTER", "MYID"],
        ["READONLY"],
        ["READWRITE"],
        ["ASKING"],
        ["EVAL", "return redis.call('cluster','reset','hard')", "0"],
        ["EVAL", "return redis.call('cluster','info')", "0"],
        ["COMMAND", "COUNT"],
        ["MODULE", "LIST"],
        ["MODULE", "HELP"],
        ["MODULE", "LOAD", "/nonexistent.so"],
        ["MODULE", "UNLOAD", "foo"],
        ["MODULE", "LOADEX", "/x.so", "CONFIG", "a", "b"],
        ["MODULE", "NOSUCH"],
        ["MODULE"],
      ];
      for (const p of probes) {
        const want = await theirs.call(...p);
        const got = await ours.call(...p);
        // script errors name the script's sha, which differs by nothing here
        assert.deepEqual(got, want, p.join(" "));
      }
    } finally {
      ours.close();
      theirs.close();
      await t.stop();
      await redis.stop();
    }
  },
});
