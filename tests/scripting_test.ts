/**
 * EVAL / EVALSHA / SCRIPT: replies and errors byte for byte against a real redis-server,
 * binary safety, effects propagation, and ioredis's defineCommand.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { busyScriptError } from "../src/scripting/busy.ts";
import { RespClient, RespError, startRedeno, type TestServer, waitFor } from "./helpers.ts";
import { compareSteps, IGNORE_SIDE_BY_SIDE, type Step, withPair } from "./side_by_side.ts";

/**
 * Collects propagated commands as arrays of binary strings, as an AOF-like sink or, with
 * `replication`, as a replication sink (which also receives replica-only commands).
 */
function recordPropagation(t: TestServer, replication = false): string[][] {
  const fed: string[][] = [];
  t.server.sinks.push({
    replication,
    feed(_db, command) {
      let pos = 0;
      const line = () => {
        let end = pos;
        while (command[end] !== 13) end++;
        const s = String.fromCharCode(...command.subarray(pos, end));
        pos = end + 2;
        return s;
      };
      const n = Number(line().slice(1));
      const argv: string[] = [];
      for (let i = 0; i < n; i++) {
        const len = Number(line().slice(1));
        argv.push(String.fromCharCode(...command.subarray(pos, pos + len)));
        pos += len + 2;
      }
      fed.push(argv);
    },
  });
  return fed;
}

const SCRIPTS: Step[] = [
  ["EVAL", "return 1", 0],
  ["EVAL", "return 3.99", 0],
  ["EVAL", "return -3.99", 0],
  ["EVAL", "return 'hello'", 0],
  ["EVAL", "return true", 0],
  ["EVAL", "return false", 0],
  ["EVAL", "return nil", 0],
  ["EVAL", "return {1,2,3,'ciao',{1,2}}", 0],
  ["EVAL", "return {1,2,nil,4}", 0],
  ["EVAL", "return {ok='FINE'}", 0],
  ["EVAL", "return {err='My Error'}", 0],
  ["EVAL", "return {err='boom'}", 0],
  ["EVAL", "return redis.error_reply('My Error')", 0],
  ["EVAL", "return redis.error_reply('boom')", 0],
  ["EVAL", "return redis.error_reply('-CODE with code')", 0],
  ["EVAL", "return redis.status_reply('OKAY')", 0],
  ["EVAL", "return {KEYS[1],KEYS[2],ARGV[1],ARGV[2]}", 2, "a", "b", "c", "d"],
  ["EVAL", "return #KEYS + #ARGV", 1, "a", "b", "c"],
  ["EVAL", "return redis.call('set', KEYS[1], ARGV[1])", 1, "k", "v"],
  ["EVAL", "return redis.call('get', KEYS[1])", 1, "k"],
  ["EVAL", "return redis.call('get', 'nokey')", 0],
  ["EVAL", "return redis.call('incr', 'k')", 0],
  ["EVAL", "return redis.pcall('incr', 'k')", 0],
  ["EVAL", "local r = redis.pcall('incr', 'k'); return r['err']", 0],
  ["EVAL", "return redis.call('nosuch')", 0],
  ["EVAL", "return redis.pcall('nosuch')", 0],
  ["EVAL", "return redis.call('get')", 0],
  ["EVAL", "return redis.call()", 0],
  ["EVAL", "return redis.call('set', 'x', {})", 0],
  ["EVAL", "return redis.call('eval', 'return 1', 0)", 0],
  ["EVAL", "return redis.call('multi')", 0],
  ["EVAL", "redis.call('rpush', 'l', 1, 2.5, 3); return redis.call('lrange', 'l', 0, -1)", 0],
  ["EVAL", "return redis.call('hgetall', 'nohash')", 0],
  ["EVAL", "return type(redis.call('get', 'nokey'))", 0],
  ["EVAL", "return redis.call('ping')", 0],
  ["EVAL", "return redis.call('ping')['ok']", 0],
  ["EVAL", "error('boom')", 0],
  ["EVAL", "error({err='X custom'})", 0],
  ["EVAL", "a = 5", 0],
  ["EVAL", "return undefined_global", 0],
  ["EVAL", "return loadstring", 0],
  ["EVAL", "redis.call = nil", 0],
  ["EVAL", "return tostring(3/1)", 0],
  ["EVAL", "return tostring(10/4)", 0],
  ["EVAL", "return unpack({1,2,3})", 0],
  ["EVAL", "return redis.sha1hex('Pizza & Mandolino')", 0],
  ["EVAL", "return cjson.encode({1,2,3,'a'})", 0],
  ["EVAL", "return cjson.encode({a='b'})", 0],
  ["EVAL", "return cjson.decode('[1,2,3,\"x\"]')", 0],
  ["EVAL", 'local t = cjson.decode(\'{"a":{"b":[1,2]}}\'); return t.a.b[2]', 0],
  ["EVAL", "return bit.band(0xff, 0x0f)", 0],
  ["EVAL", "return bit.tohex(65535)", 0],
  ["EVAL", "return bit.bnot(0)", 0],
  ["EVAL", "return bit.lshift(1, 31)", 0],
  ["EVAL", "return {bit.bor(1,2,4), bit.bxor(5,3), bit.rshift(-1, 28), bit.arshift(-16, 2)}", 0],
  ["EVAL", "return redis.REDIS_VERSION", 0],
  ["EVAL", "return redis.REDIS_VERSION_NUM", 0],
  ["EVAL", "return redis.setresp(4)", 0],
  ["EVAL", "redis.setresp(3); return redis.call('hgetall', 'nohash')", 0],
  ["EVAL", "return redis.replicate_commands()", 0],
  ["EVAL", "return 1", -1],
  ["EVAL", "return 1", 3, "a"],
  ["EVAL", "return 1", "x"],
  ["EVAL", "#!lua flags=no-writes\nreturn redis.call('set','a','b')", 0],
  ["EVAL", "#!lua flags=bad\nreturn 1", 0],
  ["EVAL", "#!lua name=x\nreturn 1", 0],
  ["EVAL", "#!luax\nreturn 1", 0],
  ["EVAL", "#!lua\nreturn redis.call('get', KEYS[1])", 1, "k"],
  ["EVAL_RO", "return redis.call('set', 'x', 'y')", 0],
  ["EVAL_RO", "return redis.call('get', 'k')", 0],
  ["EVAL_RO", "#!lua\nreturn 1", 0],
  ["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", 0],
  ["EVALSHA", "fff", 0],
  ["SCRIPT", "LOAD", "return 'loaded'"],
  ["EVALSHA", "b534286061d4b9e4026607613b95c06c06015ae8", 0],
  ["EVALSHA", "B534286061D4B9E4026607613B95C06C06015AE8", 0],
  ["SCRIPT", "EXISTS", "b534286061d4b9e4026607613b95c06c06015ae8", "ffff"],
  ["SCRIPT", "FLUSH", "foo"],
  ["SCRIPT", "FLUSH", "ASYNC"],
  ["SCRIPT", "EXISTS", "b534286061d4b9e4026607613b95c06c06015ae8"],
  ["SCRIPT", "KILL"],
  ["SCRIPT", "DEBUG", "foo"],
  ["SCRIPT", "DEBUG", "NO"],
  ["SCRIPT", "HELP"],
  ["SCRIPT", "NOPE"],
  // a set sorted BY a constant comes out ordered for scripts (Redis forces ALPHA)
  ["SADD", "sortme", "a", "b", "c", "d", "e", "f", "z", "aa", "aaa", "azz", "10", "9"],
  ["EVAL", "return redis.call('sort', KEYS[1], 'by', '_')", 1, "sortme"],
  ["EVAL", "return redis.call('sort', KEYS[1], 'by', '_', 'get', '#', 'get', '_:*')", 1, "sortme"],
  ["EVAL", "return redis.call('sort', KEYS[1], 'by', '_', 'desc', 'limit', 1, 3)", 1, "sortme"],
];

Deno.test({
  name: "EVAL replies, conversions and errors match redis-server byte for byte",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    await withPair(async (p) => {
      const diffs = await compareSteps(p, SCRIPTS);
      assert.deepEqual(diffs, []);
    });
  },
});

Deno.test({
  name: "RESP3 conversions (setresp 3, map/set/double/bool/null) match redis-server",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    await withPair(async (p) => {
      await p.same("HELLO", 3).catch(() => {});
      const diffs = await compareSteps(p, [
        ["HSET", "h", "a", "1"],
        ["SADD", "s", "x"],
        ["ZADD", "z", "1.5", "m"],
        ["EVAL", "redis.setresp(3); return redis.call('hgetall', 'h')", 0],
        ["EVAL", "redis.setresp(3); return redis.call('smembers', 's')", 0],
        ["EVAL", "redis.setresp(3); return redis.call('zscore', 'z', 'm')", 0],
        ["EVAL", "redis.setresp(3); return redis.call('get', 'nokey')", 0],
        ["EVAL", "redis.setresp(3); return redis.call('zscore', 'z', 'm')['double']", 0],
        ["EVAL", "return {double=3.5}", 0],
        ["EVAL", "return {map={a=1}}", 0],
        ["EVAL", "return {set={a=true}}", 0],
        ["EVAL", "return {big_number='123456789012345678901234567890'}", 0],
        ["EVAL", "return true", 0],
        ["EVAL", "redis.setresp(3); return true", 0],
        ["EVAL", "redis.setresp(3); return false", 0],
        ["EVAL", "return redis.call('hgetall', 'h')", 0],
      ]);
      assert.deepEqual(diffs, []);
    });
  },
});

Deno.test("Scripts are binary safe: every byte value round-trips through KEYS, ARGV and redis.call", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    let all = "";
    for (let i = 0; i < 256; i++) all += String.fromCharCode(i);
    const key = "k\x00\xff" + all;
    assert.equal(
      await c.call(
        "EVAL",
        "redis.call('set', KEYS[1], ARGV[1]); return redis.call('get', KEYS[1])",
        1,
        key,
        all,
      ),
      all,
    );
    assert.equal(await c.call("GET", key), all);
    assert.equal(await c.call("EVAL", "return #ARGV[1]", 0, all), 256);
    assert.equal(await c.call("EVAL", "return string.byte(ARGV[1], 129)", 0, all), 128);
    assert.equal(await c.call("EVAL", "return string.char(0, 200, 255)", 0), "\x00\xc8\xff");
    assert.equal(
      await c.call("EVAL", "return redis.sha1hex(ARGV[1])", 0, all),
      "4916d6bdb7f78e6803698cab32d1586ea457dfc8",
    );
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("A script's writes are propagated as its effects in MULTI/EXEC, never the EVAL itself", async () => {
  const t = await startRedeno();
  const fed = recordPropagation(t);
  const c = await RespClient.connect(t.port);
  try {
    await c.call("EVAL", "redis.call('set', 'a', '1'); redis.call('incr', 'a'); return 1", 0);
    await c.call("EVAL", "redis.call('lpush', 'l', 'x')", 0);
    await c.call("EVAL", "return redis.call('get', 'a')", 0);
    await c.call("EVAL", "redis.call('expire', 'a', 100)", 0);
    const names = fed.map((a) => a[0].toUpperCase());
    assert.ok(!names.includes("EVAL"), JSON.stringify(fed));
    const cmds = fed.filter((a) => a[0].toUpperCase() !== "SELECT");
    assert.deepEqual(cmds.slice(0, 6).map((a) => a[0].toLowerCase()), [
      "multi",
      "set",
      "incr",
      "exec",
      "lpush",
      "pexpireat",
    ]);
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("PUBLISH inside a script reaches replicas but not the AOF, as Redis's PROPAGATE_REPL", async () => {
  const t = await startRedeno();
  const aof = recordPropagation(t);
  const replicas = recordPropagation(t, true);
  const c = await RespClient.connect(t.port);
  try {
    await c.call("EVAL", "redis.call('set', 'a', '1'); redis.call('publish', 'ch', 'm')", 0);
    const names = (fed: string[][]) =>
      fed.filter((x) => x[0].toUpperCase() !== "SELECT").map((x) => x[0].toLowerCase());
    assert.deepEqual(names(replicas), ["multi", "set", "publish", "exec"]);
    assert.deepEqual(names(aof), ["multi", "set", "exec"]);
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("ioredis defineCommand runs by EVALSHA, falling back to EVAL after SCRIPT FLUSH", async () => {
  const t = await startRedeno();
  const client = new Redis({ port: t.port, lazyConnect: true });
  try {
    await client.connect();
    client.defineCommand("setget", {
      numberOfKeys: 1,
      lua: "redis.call('set', KEYS[1], ARGV[1]); return redis.call('get', KEYS[1])",
    });
    // deno-lint-ignore no-explicit-any
    const cmd = client as any;
    assert.equal(await cmd.setget("k", "v1"), "v1");
    assert.equal(await cmd.setget("k", "v2"), "v2");
    await client.script("FLUSH");
    assert.equal(await cmd.setget("k", "v3"), "v3");
    assert.equal(await client.get("k"), "v3");
  } finally {
    client.disconnect();
    await t.stop();
  }
});

Deno.test("math.random follows Redis's deterministic PRNG", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    // Redis's sequence from a fresh start (redisLrand48 from its initial state); the
    // state is per process, so only its format and range are checked here
    const v = await c.call("EVAL", "return tostring(math.random())", 0);
    assert.match(String(v), /^0\.\d+$/);
    const r = await c.call("EVAL", "return math.random(10)", 0) as number;
    assert.ok(r >= 1 && r <= 10);
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("A script past lua-time-limit makes others get BUSY until SCRIPT KILL stops it", async () => {
  const t = await startRedeno(["--lua-time-limit", "50"]);
  const a = await RespClient.connect(t.port);
  const b = await RespClient.connect(t.port);
  try {
    await a.write(RespClient.encode(["EVAL", "while true do end", 0]));
    await a.write(RespClient.encode(["PING"]));
    await waitFor(async () => {
      const r = await b.call("GET", "x");
      return r instanceof RespError && r.message.startsWith("BUSY ");
    }, { what: "BUSY reply" });
    assert.deepEqual(
      await b.call("FUNCTION", "KILL"),
      new RespError(
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
      ),
    );
    assert.equal(await b.call("SCRIPT", "KILL"), "OK");
    const killed = await a.read() as RespError;
    assert.match(killed.message, /^ERR Script killed by user with SCRIPT KILL\.\.\. script: /);
    // the caller's pipelined command runs after the script
    assert.equal(await a.read(), "PONG");
    assert.equal(await b.call("PING"), "PONG");
    assert.deepEqual(
      await b.call("SCRIPT", "KILL"),
      new RespError("NOTBUSY No scripts in execution right now."),
    );
  } finally {
    a.close();
    b.close();
    await t.stop();
  }
});

Deno.test("A busy script that wrote is UNKILLABLE, and its effects propagate together when it ends", async () => {
  const t = await startRedeno(["--lua-time-limit", "20"]);
  const fed = recordPropagation(t);
  const a = await RespClient.connect(t.port);
  const b = await RespClient.connect(t.port);
  try {
    const script = "redis.call('set', 'a', '1'); local t0 = redis.call('time'); " +
      "while true do local t = redis.call('time'); " +
      "if (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 1000000 then break end end; " +
      "redis.call('incr', 'a'); return redis.call('get', 'a')";
    await a.write(RespClient.encode(["EVAL", script, 0]));
    await waitFor(() => busyScriptError(t.server) !== null, { what: "busy script" });
    const busy = await b.call("PING") as RespError;
    assert.match(busy.message, /^BUSY /);
    const r = await b.call("SCRIPT", "KILL") as RespError;
    assert.match(r.message, /^UNKILLABLE Sorry the script already executed write commands/);
    assert.equal(await a.read(), "2");
    assert.equal(await b.call("GET", "a"), "2");
    const cmds = fed.filter((x) => x[0].toUpperCase() !== "SELECT").map((x) => x[0].toLowerCase());
    assert.deepEqual(cmds, ["multi", "set", "incr", "exec"]);
  } finally {
    a.close();
    b.close();
    await t.stop();
  }
});

Deno.test("redis.set_repl sends a script's writes to the AOF, the replicas, both or neither", async () => {
  const primary = await startRedeno([
    "--appendonly",
    "yes",
    "--appendfsync",
    "always",
    "--repl-diskless-sync-delay",
    "0",
  ]);
  const replica = await startRedeno(["--replicaof", "127.0.0.1", String(primary.port)]);
  const pc = await RespClient.connect(primary.port);
  const rc = await RespClient.connect(replica.port);
  try {
    await waitFor(async () => /master_link_status:up/.test(String(await rc.call("INFO"))));
    const script = `redis.call('set','a','1')
      redis.set_repl(redis.REPL_NONE)
      redis.call('set','b','2')
      redis.set_repl(redis.REPL_AOF)
      redis.call('set','c','3')
      redis.set_repl(redis.REPL_REPLICA)
      redis.call('set','e','5')
      redis.set_repl(redis.REPL_ALL)
      redis.call('set','d','4')`;
    assert.equal(await pc.call("EVAL", script, "0"), null);
    assert.equal(await pc.call("SET", "done", "1"), "OK");
    await waitFor(async () => await rc.call("GET", "done") === "1");
    assert.deepEqual(await rc.call("MGET", "a", "b", "c", "d", "e"), ["1", null, null, "4", "5"]);
    assert.deepEqual(await pc.call("MGET", "a", "b", "c", "d", "e"), ["1", "2", "3", "4", "5"]);
    // the AOF got a, c and d
    assert.equal(await pc.call("DEBUG", "LOADAOF"), "OK");
    assert.deepEqual(await pc.call("MGET", "a", "b", "c", "d", "e"), ["1", null, "3", "4", null]);
    const bad = await pc.call("EVAL", "redis.set_repl(12)", "0");
    assert.ok(bad instanceof RespError);
    assert.match(bad.message, /Invalid replication flags/);
  } finally {
    pc.close();
    rc.close();
    await replica.stop();
    await primary.stop();
  }
});

Deno.test("a command allowed during a busy script does not serve clients blocked on its keys", async () => {
  const t = await startRedeno();
  const admin = await RespClient.connect(t.port);
  const popper = await RespClient.connect(t.port);
  const runner = await RespClient.connect(t.port);
  const other = await RespClient.connect(t.port);
  try {
    await popper.write(RespClient.encode(["BLPOP", "x", "0"]));
    await waitFor(async () =>
      /blocked_clients:1/.test(String(await admin.call("INFO", "clients")))
    );
    assert.equal(await admin.call("DEBUG", "set-disable-deny-scripts", "1"), "OK");
    assert.equal(await admin.call("CONFIG", "SET", "lua-time-limit", "10"), "OK");
    await runner.write(RespClient.encode([
      "EVAL",
      `redis.call('lpush', KEYS[1], 'y')
       local clients
       while true do
         clients = redis.call('client', 'list')
         if string.find(clients, 'abortscript') ~= nil then break end
       end
       redis.call('lpush', KEYS[1], 'z')
       return 'done'`,
      "1",
      "x",
    ]));
    await waitFor(async () => {
      const r = await admin.call("PING");
      return r instanceof RespError && r.message.startsWith("BUSY");
    });
    // HELLO is allowed while the script is busy; the list holds 'y' but the pop waits
    assert.ok(Array.isArray(await other.call("HELLO", "2", "SETNAME", "abortscript")));
    assert.deepEqual(await popper.read(), ["x", "z"]);
    assert.equal(await runner.read(), "done");
  } finally {
    await admin.call("DEBUG", "set-disable-deny-scripts", "0");
    for (const c of [admin, popper, runner, other]) c.close();
    await t.stop();
  }
});

Deno.test({
  name: "scripts see RESP3 verbatim strings and skip attributes (DEBUG PROTOCOL) as redis-server",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    for (const resp of [2, 3]) {
      await withPair(async (p) => {
        await p.same("DEBUG", "set-disable-deny-scripts", "1");
        if (resp === 3) await p.same("HELLO", 3).catch(() => {});
        const diffs = await compareSteps(p, [
          ["EVAL", "redis.setresp(2); return redis.call('debug', 'protocol', 'verbatim')", 0],
          ["EVAL", "redis.setresp(3); return redis.call('debug', 'protocol', 'verbatim')", 0],
          ["EVAL", "redis.setresp(3); return redis.call('debug', 'protocol', 'attrib')", 0],
          ["EVAL", "redis.setresp(2); return redis.call('debug', 'protocol', 'attrib')", 0],
          ["EVAL", "return {verbatim_string={format='txt', string='a\\nb'}}", 0],
          ["EVAL", "return {verbatim_string={format='txt'}}", 0],
          ["EVAL", "return {verbatim_string=5}", 0],
        ]);
        assert.deepEqual(diffs, [], `RESP${resp}`);
      }, ["--enable-debug-command", "yes"]);
    }
  },
});

Deno.test({
  name: "scripts are checked with the flags they declare: stale, read-only replica, min-replicas",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    await withPair(async (p) => {
      const steps: Step[] = [
        ["SET", "x", "some value"],
        ["CONFIG", "SET", "min-replicas-to-write", "1"],
        ["EVAL", "#!lua flags=no-writes\nreturn redis.call('get','x')", 1, "x"],
        ["EVAL", "return redis.call('get','x')", 1, "x"],
        ["EVAL", "#!lua\nreturn redis.call('get','x')", 1, "x"],
        ["EVAL", "return redis.call('set','x', 1)", 1, "x"],
        ["MULTI"],
        ["EVAL", "#!lua\nreturn 1", 0],
        ["EXEC"],
        ["CONFIG", "SET", "min-replicas-to-write", "0"],
        // a replica whose link is down, serving no stale data
        ["CONFIG", "SET", "replica-serve-stale-data", "no"],
        ["REPLICAOF", "127.0.0.1", "1"],
        ["EVAL", "return redis.call('get','x')", 1, "x"],
        ["EVAL", "#!lua flags=no-writes\nreturn 1", 0],
        ["EVAL", "#!lua flags=allow-stale,no-writes\nreturn 1", 0],
        ["EVAL", "#!lua flags=allow-stale,no-writes\nreturn redis.call('get','x')", 1, "x"],
        ["EVAL", "#!lua flags=allow-stale,no-writes\nreturn redis.call('echo','foobar')", 0],
        ["CONFIG", "SET", "replica-serve-stale-data", "yes"],
        // a read-only replica: a script declaring writes is refused before it runs
        ["EVAL", "#!lua flags=no-writes\nreturn redis.call('get','x')", 1, "x"],
        ["EVAL", "#!lua\nreturn redis.call('get','x')", 1, "x"],
        ["EVAL", "return redis.call('get','x')", 1, "x"],
        ["EVAL", "redis.call('set','x',1) return 1", 1, "x"],
        ["MULTI"],
        ["EVAL", "#!lua flags=no-writes\nreturn 1", 0],
        ["EXEC"],
        ["REPLICAOF", "NO", "ONE"],
      ];
      assert.deepEqual(await compareSteps(p, steps), []);
    });
  },
});
