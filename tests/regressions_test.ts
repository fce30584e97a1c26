/**
 * Regressions found by running Redis's own test suite, reproduced through real sockets.
 */
import assert from "node:assert/strict";
import {
  HAVE_REDIS,
  RespClient,
  startRealRedis,
  startRedeno,
  type TestServer,
  waitFor,
} from "./helpers.ts";

async function withServer(
  body: (t: TestServer, open: () => Promise<RespClient>) => Promise<void>,
): Promise<void> {
  const t = await startRedeno();
  const cs: RespClient[] = [];
  try {
    await body(t, async () => {
      const c = await RespClient.connect(t.port);
      cs.push(c);
      return c;
    });
  } finally {
    for (const c of cs) c.close();
    await t.stop();
  }
}

/** A raw replica as the Tcl suite's attach_to_replication_stream: SYNC, then the payload. */
async function attachReplicationStream(port: number): Promise<RespClient> {
  const repl = await RespClient.connect(port);
  await repl.write("SYNC\r\n");
  let line = "";
  for (;;) {
    const ch = await repl.readRaw(1);
    if (ch === "") throw new Error("closed during SYNC");
    if (ch !== "\n") {
      line += ch;
      continue;
    }
    // empty lines are keepalives before the payload
    if (line.replace("\r", "") !== "") break;
    line = "";
  }
  assert.equal(line[0], "$", `SYNC answered ${JSON.stringify(line)}`);
  const size = Number(line.slice(1).replace("\r", ""));
  const payload = await repl.readRaw(size);
  assert.equal(payload.length, size);
  return repl;
}

/** Members enough to make one ZADD larger than the client's initial 16 KB query buffer. */
function bigZadd(key: string): Array<string | number> {
  const args: Array<string | number> = ["ZADD", key];
  for (let i = 0; i < 1000; i++) args.push(i / 7, "member:" + i);
  return args;
}

Deno.test(
  "BZMPOP timing out after a large command replies, and the next command runs (suite hang with SYNC replica)",
  async () => {
    await withServer(async (_t, open) => {
      const r = await open();
      assert.equal(await r.call("SELECT", 9), "OK");
      // the query buffer grows past its initial size, as in the suite's ZUNIONSTORE test
      assert.equal(await r.call(...bigZadd("zset1{t}")), 1000);
      assert.equal(await r.call(...bigZadd("zset2{t}")), 1000);
      const repl = await attachReplicationStream(_t.port);
      try {
        assert.equal(await r.call("ZADD", "myzset{t}", 1, "one"), 1);
        assert.deepEqual(await r.call("BZMPOP", 0, 1, "myzset{t}", "MIN"), [
          "myzset{t}",
          [["one", "1"]],
        ]);
        // blocks, then times out with nothing else in the query buffer
        assert.equal(await r.call("BZMPOP", 0.01, 1, "myzset{t}", "MAX", "COUNT", 10), null);
        // the command sent after the timeout reply must be read and answered
        await r.write(RespClient.encode(["SET", "foo{t}", "bar"]));
        assert.equal(await r.read(3000), "OK");
        assert.equal(await r.call("GET", "foo{t}"), "bar");
      } finally {
        repl.close();
      }
    });
  },
);

Deno.test("a blocked client with a grown query buffer keeps working after being served", async () => {
  await withServer(async (t, open) => {
    const a = await open();
    const b = await open();
    assert.equal(await a.call("SET", "big", "x".repeat(40000)), "OK");
    await a.write(RespClient.encode(["BLPOP", "q", 0]));
    await waitFor(() => t.server.blocking.blockedCount === 1, { what: "a blocked" });
    assert.equal(await b.call("RPUSH", "q", "v"), 1);
    assert.deepEqual(await a.read(3000), ["q", "v"]);
    await a.write(RespClient.encode(["PING"]));
    assert.equal(await a.read(3000), "PONG");
    // and one blocked then timed out
    assert.equal(await a.call("BLPOP", "q", 0.01), null);
    await a.write(RespClient.encode(["ECHO", "after"]));
    assert.equal(await a.read(3000), "after");
  });
});

/** A RESP3 client with CLIENT TRACKING on that has read `key` (so it is tracked). */
async function trackingClient(open: () => Promise<RespClient>, key: string): Promise<RespClient> {
  const t = await open();
  await t.call("HELLO", 3);
  assert.equal(await t.call("CLIENT", "TRACKING", "ON"), "OK");
  await t.call("GET", key);
  return t;
}

Deno.test("DEBUG RELOAD and DEBUG LOADAOF send tracking clients a null invalidation (emptyData)", async () => {
  await withServer(async (_t, open) => {
    const o = await open();
    assert.equal(await o.call("SET", "k", "v"), "OK");
    const t = await trackingClient(open, "k");
    assert.equal(await o.call("DEBUG", "RELOAD"), "OK");
    // what Redis 7.0.15 sends: >2 invalidate _
    assert.deepEqual(await t.read(3000), { push: ["invalidate", null] });
    assert.equal(await t.call("GET", "k"), "v");
    assert.equal(await o.call("CONFIG", "SET", "appendonly", "yes"), "OK");
    await waitFor(
      async () =>
        (await o.call("INFO", "persistence") as string).includes("aof_rewrite_in_progress:0") &&
        (await o.call("INFO", "persistence") as string).includes("aof_enabled:1"),
      { what: "aof on" },
    );
    assert.equal(await o.call("DEBUG", "LOADAOF"), "OK");
    assert.deepEqual(await t.read(3000), { push: ["invalidate", null] });
  });
});

Deno.test("a replica's full sync sends its tracking clients a null invalidation", async () => {
  const primary = await startRedeno(["--repl-diskless-sync-delay", "0"]);
  const replica = await startRedeno();
  const cs: RespClient[] = [];
  const open = async (port: number) => {
    const c = await RespClient.connect(port);
    cs.push(c);
    return c;
  };
  try {
    const p = await open(primary.port);
    const r = await open(replica.port);
    assert.equal(await p.call("SET", "k", "from-primary"), "OK");
    assert.equal(await r.call("SET", "k", "local"), "OK");
    const t = await trackingClient(() => open(replica.port), "k");
    assert.equal(await r.call("REPLICAOF", "127.0.0.1", primary.port), "OK");
    assert.deepEqual(await t.read(10000), { push: ["invalidate", null] });
    await waitFor(async () => (await r.call("GET", "k")) === "from-primary", {
      what: "replica synced",
    });
  } finally {
    for (const c of cs) c.close();
    await replica.stop();
    await primary.stop();
  }
});

Deno.test("EVAL without a shebang: the first denyoom call fails under OOM, allow-oom scripts may write", async () => {
  await withServer(async (_t, open) => {
    const c = await open();
    assert.equal(await c.call("CONFIG", "SET", "maxmemory", 1), "OK");
    try {
      const e = await c.call("EVAL", "redis.call('set', 'x', 1)", 0);
      assert.match(
        String((e as { message?: string }).message ?? e),
        /^OOM command not allowed when used memory > 'maxmemory'\. script: /,
      );
      const p = await c.call(
        "EVAL",
        "redis.call('get', 'x'); return redis.pcall('set', 'x', 1)",
        0,
      );
      assert.equal(
        String((p as { message?: string }).message ?? p),
        "OOM command not allowed when used memory > 'maxmemory'.",
      );
      assert.equal(
        await c.call("EVAL", "#!lua flags=allow-oom\nreturn redis.call('set', 'x', 1)", 0),
        "OK",
      );
    } finally {
      assert.equal(await c.call("CONFIG", "SET", "maxmemory", 0), "OK");
    }
  });
});

Deno.test("DEBUG SET-DISABLE-DENY-SCRIPTS lets scripts call noscript commands", async () => {
  await withServer(async (_t, open) => {
    const c = await open();
    const denied = await c.call("EVAL", "return redis.call('watch', 'k')", 1, "k");
    assert.match(
      String((denied as { message?: string }).message ?? denied),
      /not allowed from script/,
    );
    assert.equal(await c.call("DEBUG", "SET-DISABLE-DENY-SCRIPTS", 1), "OK");
    assert.equal(await c.call("EVAL", "return redis.call('watch', 'k')", 1, "k"), "OK");
    assert.equal(await c.call("DEBUG", "SET-DISABLE-DENY-SCRIPTS", 0), "OK");
    const again = await c.call("EVAL", "return redis.call('watch', 'k')", 1, "k");
    assert.match(
      String((again as { message?: string }).message ?? again),
      /not allowed from script/,
    );
  });
});

Deno.test("a script's errors from redis.call/pcall and refused calls are counted once in errorstats", async () => {
  await withServer(async (_t, open) => {
    const c = await open();
    assert.equal(await c.call("SET", "s", "a"), "OK");
    const totalErrors = async () =>
      Number(/total_error_replies:(\d+)/.exec(await c.call("INFO", "stats") as string)![1]);
    const scripts = [
      "return redis.pcall('incr','s')",
      "return redis.call('incr','s')",
      "local t = redis.pcall('incr','s') return 1",
      "return redis.error_reply('MY err')",
    ];
    for (const script of scripts) {
      assert.equal(await c.call("CONFIG", "RESETSTAT"), "OK");
      await c.call("EVAL", script, 0);
      assert.equal(await totalErrors(), 1, script);
    }
    // a call refused under OOM and swallowed by pcall: a rejected SET, one OOM error
    assert.equal(await c.call("CONFIG", "SET", "maxmemory", 1), "OK");
    try {
      assert.equal(await c.call("CONFIG", "RESETSTAT"), "OK");
      assert.equal(
        await c.call("EVAL", "local t = redis.pcall('set','x','y') return 1", 1, "x"),
        1,
      );
      const stats = await c.call("INFO", "commandstats") as string;
      assert.match(stats, /cmdstat_set:calls=0,.*rejected_calls=1,failed_calls=0/);
      assert.match(await c.call("INFO", "errorstats") as string, /errorstat_OOM:count=1\r\n/);
      assert.equal(await totalErrors(), 1);
    } finally {
      assert.equal(await c.call("CONFIG", "SET", "maxmemory", 0), "OK");
    }
  });
});

/** The next `n` commands of a replication stream, as their first two words (PINGs skipped). */
async function streamHeads(repl: RespClient, n: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < n) {
    const cmd = await repl.read(5000) as string[];
    if (String(cmd[0]).toLowerCase() === "ping") continue;
    out.push(cmd.slice(0, 2).join(" ").toLowerCase());
  }
  return out;
}

Deno.test("XREADGROUP in MULTI propagates one XCLAIM per entry, and XGROUP SETID only with NOACK (as redis-server)", async () => {
  const run = async (port: number) => {
    const r = await RespClient.connect(port);
    const repl = await attachReplicationStream(port);
    try {
      for (const f of ["a", "b", "c"]) await r.call("XADD", "s", "*", f, "1");
      await r.call("XGROUP", "CREATE", "s", "g", "0");
      await r.call("MULTI");
      await r.call("XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "s", ">");
      await r.call("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">");
      await r.call("EXEC");
      await r.call("XADD", "s", "*", "d", "1");
      await r.call("XREADGROUP", "GROUP", "g", "c2", "NOACK", "STREAMS", "s", ">");
      return await streamHeads(repl, 15);
    } finally {
      repl.close();
      r.close();
    }
  };
  const t = await startRedeno();
  let ours: string[];
  try {
    ours = await run(t.port);
  } finally {
    await t.stop();
  }
  assert.deepEqual(ours, [
    "select 0",
    "xadd s",
    "xadd s",
    "xadd s",
    "xgroup create",
    "multi",
    "xclaim s",
    "xclaim s",
    "xclaim s",
    "exec",
    "xadd s",
    // a new consumer is created, then the NOACK read's last ID: two effects
    "multi",
    "xgroup createconsumer",
    "xgroup setid",
    "exec",
  ]);
  if (HAVE_REDIS) {
    const redis = await startRealRedis();
    try {
      assert.deepEqual(await run(redis.port), ours);
    } finally {
      await redis.stop();
    }
  }
});
