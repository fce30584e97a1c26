/**
 * FUNCTION / FCALL: replies and errors against a real redis-server, and FUNCTION DUMP
 * payloads that a real Redis restores.
 */
import assert from "node:assert/strict";
import { RespClient, startRedeno } from "./helpers.ts";
import { compareSteps, IGNORE_SIDE_BY_SIDE, withPair } from "./side_by_side.ts";

const LIB = "#!lua name=mylib\n" +
  "redis.register_function('f1', function(keys, args) return redis.call('set', keys[1], args[1]) end)\n" +
  "redis.register_function{function_name='f2', callback=function(keys, args) return {keys[1], args[1]} end, flags={'no-writes'}, description='desc'}";

const ONE = "#!lua name=one\nredis.register_function('onefn', function() return 'one' end)";

Deno.test({
  name: "FUNCTION LOAD/LIST/STATS/DELETE/FLUSH and FCALL match redis-server",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    await withPair(async (p) => {
      const bad = (body: string) => ["FUNCTION", "LOAD", `#!lua name=l1\n${body}`];
      const diffs = await compareSteps(p, [
        ["FUNCTION", "FLUSH"],
        ["FUNCTION", "LOAD", LIB],
        ["FUNCTION", "LOAD", LIB],
        ["FUNCTION", "LOAD", "REPLACE", LIB],
        ["FUNCTION", "LOAD", ONE],
        ["FUNCTION", "LIST", "LIBRARYNAME", "on*"],
        ["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "one"],
        ["FCALL", "ONEFN", 0],
        ["FUNCTION", "LIST", "LIBRARYNAME", "x*"],
        ["FUNCTION", "LIST", "LIBRARYNAME"],
        ["FUNCTION", "LIST", "foo"],
        ["FUNCTION", "STATS"],
        ["FCALL", "f1", 1, "k", "v"],
        ["GET", "k"],
        ["FCALL", "f2", 1, "a", "b"],
        ["FCALL_RO", "f2", 1, "a", "b"],
        ["FCALL_RO", "f1", 1, "k", "v"],
        ["FCALL", "nosuch", 0],
        ["FCALL", "f1", -1],
        ["FUNCTION", "LOAD", "return 1"],
        ["FUNCTION", "LOAD", "#!lua"],
        [
          "FUNCTION",
          "LOAD",
          "#!lua name=a-b\nredis.register_function('f', function() return 1 end)",
        ],
        bad("return 1"),
        bad("redis.register_function('f-1', function() return 1 end)"),
        bad("redis.call('ping')"),
        bad("x = 1"),
        bad("error('boom')"),
        bad(
          "redis.register_function('g', function() return 1 end) redis.register_function('g', function() return 1 end)",
        ),
        bad(
          "redis.register_function{function_name='g', callback=function() return 1 end, flags={'bad'}}",
        ),
        bad("redis.register_function('g', 'notfn')"),
        bad("redis.register_function{function_name='g', callback=function() return 1 end, foo=1}"),
        bad("redis.register_function('f1', function() return 1 end)"),
        bad(
          "redis.log(redis.LOG_DEBUG, 'loading'); redis.register_function('g', function() return redis.REDIS_VERSION end)",
        ),
        ["FCALL", "g", 0],
        ["FUNCTION", "DELETE", "nosuch"],
        ["FUNCTION", "DELETE", "l1"],
        ["FUNCTION", "FLUSH", "foo"],
        ["FUNCTION", "FLUSH", "ASYNC"],
        ["FUNCTION", "STATS"],
        ["FUNCTION", "KILL"],
        ["FUNCTION", "RESTORE", "garbage"],
        ["FUNCTION", "RESTORE", "x", "foo"],
        ["FUNCTION", "HELP"],
      ]);
      assert.deepEqual(diffs, []);
    });
  },
});

Deno.test({
  name: "FUNCTION DUMP payloads restore in a real Redis and back, with FLUSH/APPEND/REPLACE",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    await withPair(async (p) => {
      await p.ours.call("FUNCTION", "LOAD", LIB);
      const ours = await p.ours.call("FUNCTION", "DUMP") as string;
      assert.equal(await p.real.call("FUNCTION", "RESTORE", ours), "OK");
      assert.deepEqual(await p.real.call("FCALL", "f2", 1, "a", "b"), ["a", "b"]);
      const theirs = await p.real.call("FUNCTION", "DUMP") as string;
      const [a, b] = await p.both("FUNCTION", "RESTORE", theirs);
      assert.equal(String((a as Error).message), String((b as Error).message));
      assert.equal(await p.ours.call("FUNCTION", "RESTORE", theirs, "REPLACE"), "OK");
      assert.equal(await p.ours.call("FUNCTION", "RESTORE", theirs, "FLUSH"), "OK");
      assert.deepEqual(await p.ours.call("FCALL", "f2", 1, "x", "y"), ["x", "y"]);
      const corrupt = theirs.slice(0, -1) +
        String.fromCharCode(theirs.charCodeAt(theirs.length - 1) ^ 1);
      await p.same("FUNCTION", "RESTORE", corrupt);
    });
  },
});

Deno.test("FCALL's writes are propagated as effects; FUNCTION LOAD as itself", async () => {
  const t = await startRedeno();
  const fed: string[] = [];
  t.server.sinks.push({ feed: (_db, bytes) => void fed.push(new TextDecoder().decode(bytes)) });
  const c = await RespClient.connect(t.port);
  try {
    await c.call("FUNCTION", "LOAD", LIB);
    await c.call("FCALL", "f1", 1, "k", "v");
    const text = fed.join("");
    assert.match(text, /FUNCTION\r\n\$4\r\nLOAD/i);
    assert.match(text, /\$3\r\nset\r\n\$1\r\nk\r\n\$1\r\nv/);
    assert.doesNotMatch(text, /FCALL/i);
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test({
  name:
    "DEBUG RELOAD NOFLUSH fails on a library already loaded, and MERGE replaces it, as redis-server",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    await withPair(async (p) => {
      await p.same("FUNCTION", "LOAD", ONE);
      await p.same("SET", "k", "v");
      // the same key would make Redis panic on a duplicate: only the function clashes here
      await p.same("DEL", "k");
      const [ours, real] = await p.both("DEBUG", "RELOAD", "NOFLUSH");
      assert.deepEqual(ours, real);
      assert.match(String(ours), /Error trying to load the RDB/);
      await p.same("DEBUG", "RELOAD", "NOFLUSH", "MERGE");
      await p.same("FUNCTION", "LIST");
      await p.same("FCALL", "onefn", 0);
      await p.same("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE");
      await p.same("DEBUG", "RELOAD", "BOGUS");
    }, ["--enable-debug-command", "yes"]);
  },
});
