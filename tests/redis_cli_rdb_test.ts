/**
 * `redis-cli --rdb` and `redis-cli --functions-rdb` (REPLCONF rdb-only and
 * rdb-filter-only) against Redeno, the files checked by redis-check-rdb and loaded by a
 * real redis-server; REPLCONF rdb-filter-only's errors compared with redis-server's.
 */
import assert from "node:assert/strict";
import { HAVE_REDIS, parseInfo, RespClient, startRealRedis, startRedeno } from "./helpers.ts";

const LIB =
  "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return 1 end)";

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `${cmd} ${args.join(" ")}: ${text}`);
  return text;
}

/** Loads an RDB file into a fresh redis-server: its key count and function libraries. */
async function loadInRedis(file: string): Promise<{ keys: number; libs: string }> {
  const dir = await Deno.makeTempDir({ prefix: "redeno-clirdb-" });
  await Deno.copyFile(file, `${dir}/dump.rdb`);
  const redis = await startRealRedis([], dir);
  const c = await RespClient.connect(redis.port);
  try {
    const keys = Number(await c.call("DBSIZE"));
    const libs = JSON.stringify(await c.call("FUNCTION", "LIST"));
    return { keys, libs };
  } finally {
    c.close();
    await redis.stop();
  }
}

Deno.test({
  name: "redis-cli --rdb and --functions-rdb fetch full and functions-only snapshots",
  ignore: !HAVE_REDIS,
  fn: async () => {
    const t = await startRedeno(["--repl-diskless-sync-delay", "0"]);
    const c = await RespClient.connect(t.port);
    const dir = await Deno.makeTempDir({ prefix: "redeno-clirdb-" });
    try {
      assert.equal(await c.call("SET", "k", "v"), "OK");
      assert.equal(await c.call("SET", "k2", "v2"), "OK");
      assert.equal(await c.call("FUNCTION", "LOAD", LIB), "mylib");
      const port = String(t.port);
      await run("redis-cli", ["-p", port, "--functions-rdb", `${dir}/fn.rdb`]);
      await run("redis-cli", ["-p", port, "--rdb", `${dir}/all.rdb`]);
      const fnCheck = await run("redis-check-rdb", [`${dir}/fn.rdb`]);
      assert.match(fnCheck, /RDB looks OK/);
      assert.match(fnCheck, /0 keys read/);
      assert.match(await run("redis-check-rdb", [`${dir}/all.rdb`]), /2 keys read/);
      const fn = await loadInRedis(`${dir}/fn.rdb`);
      assert.equal(fn.keys, 0);
      assert.match(fn.libs, /mylib/);
      const all = await loadInRedis(`${dir}/all.rdb`);
      assert.equal(all.keys, 2);
      assert.match(all.libs, /mylib/);
      // the fetches were replicas for a moment: none is left attached
      const repl = parseInfo(String(await c.call("INFO", "replication")));
      assert.equal(repl.get("connected_slaves"), "0");
    } finally {
      c.close();
      await t.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "REPLCONF rdb-filter-only accepts functions or nothing, with Redis's errors",
  ignore: !HAVE_REDIS,
  fn: async () => {
    const t = await startRedeno();
    const redis = await startRealRedis();
    const a = await RespClient.connect(t.port);
    const b = await RespClient.connect(redis.port);
    try {
      for (
        const args of [
          ["REPLCONF", "rdb-filter-only", "functions"],
          ["REPLCONF", "rdb-filter-only", ""],
          ["REPLCONF", "rdb-filter-only", "keys"],
          ["REPLCONF", "rdb-filter-only", "functions keys"],
          ["REPLCONF", "rdb-filter-only"],
        ]
      ) {
        assert.deepEqual(await a.call(...args), await b.call(...args), args.join(" "));
      }
    } finally {
      a.close();
      b.close();
      await t.stop();
      await redis.stop();
    }
  },
});
