/** MIGRATE between Redeno instances and a real redis-server, and RESTORE-ASKING. */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  err,
  freePort,
  HAVE_REDIS,
  parseCommands,
  parseInfo,
  type Reply,
  RespClient,
  RespError,
  startRealRedis,
  startRedeno,
  type TestServer,
  waitFor,
} from "./helpers.ts";
import { IGNORE_SIDE_BY_SIDE, withPair } from "./side_by_side.ts";

/** Two in-process Redenos with a client each. */
async function withTwo(
  body: (src: RespClient, dst: RespClient, s: TestServer, d: TestServer) => Promise<void>,
  dstArgs: string[] = [],
): Promise<void> {
  const s = await startRedeno();
  const d = await startRedeno(dstArgs);
  const src = await RespClient.connect(s.port);
  const dst = await RespClient.connect(d.port);
  try {
    await body(src, dst, s, d);
  } finally {
    src.close();
    dst.close();
    await s.stop();
    await d.stop();
  }
}

Deno.test("MIGRATE moves a key with its TTL to another Redeno and deletes it at the source", async () => {
  await withTwo(async (src, dst, s, d) => {
    await src.call("SET", "k", "v\x00\xff");
    await src.call("PEXPIRE", "k", 100000);
    await src.call("RPUSH", "l", "a", "b", "c");
    await src.call("HSET", "h", "f", "1");
    await src.call("ZADD", "z", 1, "m");
    assertEquals(await src.call("MIGRATE", "127.0.0.1", d.port, "k", 0, 5000), "OK");
    assertEquals(await src.call("EXISTS", "k"), 0);
    assertEquals(await dst.call("GET", "k"), "v\x00\xff");
    const pttl = await dst.call("PTTL", "k") as number;
    assert(pttl > 90000 && pttl <= 100000, `pttl ${pttl}`);
    // several keys in another db with KEYS; a missing key is skipped
    assertEquals(
      await src.call("MIGRATE", "127.0.0.1", d.port, "", 3, 5000, "KEYS", "l", "nope", "h", "z"),
      "OK",
    );
    assertEquals(await src.call("DBSIZE"), 0);
    await dst.call("SELECT", 3);
    assertEquals(await dst.call("LRANGE", "l", 0, -1), ["a", "b", "c"]);
    assertEquals(await dst.call("HGETALL", "h"), ["f", "1"]);
    assertEquals(await dst.call("ZRANGE", "z", 0, -1, "WITHSCORES"), ["m", "1"]);
    // nothing to move
    assertEquals(await src.call("MIGRATE", "127.0.0.1", d.port, "k", 0, 5000), "NOKEY");
    assertEquals(
      await src.call("MIGRATE", "127.0.0.1", d.port, "", 0, 5000, "KEYS", "x", "y"),
      "NOKEY",
    );
    // one cached connection, reused (no new connection on the target)
    const info = parseInfo(await src.call("INFO", "stats") as string);
    assertEquals(info.get("migrate_cached_sockets"), "1");
    const before = parseInfo(await dst.call("INFO", "stats") as string).get(
      "total_connections_received",
    );
    await src.call("SET", "k2", "v");
    assertEquals(await src.call("MIGRATE", "127.0.0.1", d.port, "k2", 0, 5000), "OK");
    const after = parseInfo(await dst.call("INFO", "stats") as string).get(
      "total_connections_received",
    );
    assertEquals(after, before);
    // the target closed the cached connection: MIGRATE reconnects (one retry), and
    // SELECTs again on the new connection
    assertEquals(await dst.call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"), 1);
    await src.call("SET", "k3", "v");
    assertEquals(await src.call("MIGRATE", "127.0.0.1", d.port, "k3", 3, 5000), "OK");
    assertEquals(await dst.call("GET", "k3"), "v");
    assertEquals(s.server.migrateCachedSockets, 1);
  });
});

Deno.test("MIGRATE COPY keeps the source, BUSYKEY without REPLACE, REPLACE overwrites", async () => {
  await withTwo(async (src, dst, _s, d) => {
    await src.call("SET", "k", "new");
    await dst.call("SET", "k", "old");
    assertEquals(
      await src.call("MIGRATE", "127.0.0.1", d.port, "k", 0, 5000),
      err("ERR Target instance replied with error: BUSYKEY Target key name already exists."),
    );
    assertEquals(await src.call("GET", "k"), "new");
    assertEquals(await dst.call("GET", "k"), "old");
    assertEquals(
      await src.call("MIGRATE", "127.0.0.1", d.port, "k", 0, 5000, "COPY", "REPLACE"),
      "OK",
    );
    assertEquals(await src.call("GET", "k"), "new");
    assertEquals(await dst.call("GET", "k"), "new");
    await src.call("SET", "k", "newer");
    assertEquals(await src.call("MIGRATE", "127.0.0.1", d.port, "k", 0, 5000, "REPLACE"), "OK");
    assertEquals(await src.call("EXISTS", "k"), 0);
    assertEquals(await dst.call("GET", "k"), "newer");
    // with KEYS, acknowledged keys are deleted, refused ones stay
    await src.call("MSET", "a", "1", "b", "2");
    await dst.call("SET", "b", "taken");
    const r = await src.call("MIGRATE", "127.0.0.1", d.port, "", 0, 5000, "KEYS", "a", "b");
    assertEquals(
      r,
      err("ERR Target instance replied with error: BUSYKEY Target key name already exists."),
    );
    assertEquals(await src.call("EXISTS", "a"), 0);
    assertEquals(await src.call("GET", "b"), "2");
    assertEquals(await dst.call("GET", "a"), "1");
  });
});

Deno.test("MIGRATE is propagated as DEL of the acknowledged keys, COPY is not propagated", async () => {
  await withTwo(async (src, _dst, s, d) => {
    const fed: string[][] = [];
    s.server.sinks.push({
      feed(_db, bytes) {
        fed.push(...parseCommands(bytes));
      },
    });
    await src.call("MSET", "a", "1", "b", "2", "c", "3");
    fed.length = 0;
    assertEquals(
      await src.call("MIGRATE", "127.0.0.1", d.port, "", 0, 5000, "COPY", "KEYS", "a"),
      "OK",
    );
    assertEquals(
      await src.call("MIGRATE", "127.0.0.1", d.port, "", 0, 5000, "KEYS", "b", "c", "x"),
      "OK",
    );
    assertEquals(fed, [["DEL", "b", "c"]]);
  });
});

Deno.test("MIGRATE authenticates with AUTH and AUTH2, redacted in MONITOR and SLOWLOG", async () => {
  await withTwo(async (src, dst, _s, d) => {
    await dst.call("CONFIG", "SET", "requirepass", "secret");
    await dst.call("AUTH", "secret");
    await dst.call("ACL", "SETUSER", "mig", "on", ">pw2", "~*", "+@all");
    await src.call("SET", "k", "v");
    assertEquals(
      await src.call("MIGRATE", "127.0.0.1", d.port, "k", 0, 5000, "COPY"),
      err("ERR Target instance replied with error: NOAUTH Authentication required."),
    );
    assertEquals(
      await src.call("MIGRATE", "127.0.0.1", d.port, "k", 0, 5000, "COPY", "AUTH", "bad"),
      err(
        "ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled.",
      ),
    );
    assertEquals(
      await src.call("MIGRATE", "127.0.0.1", d.port, "k", 0, 5000, "COPY", "AUTH", "secret"),
      "OK",
    );
    await dst.call("DEL", "k");
    await src.call("CONFIG", "SET", "slowlog-log-slower-than", 0);
    const mon = await RespClient.connect(_s.port);
    try {
      assertEquals(await mon.call("MONITOR"), "OK");
      assertEquals(
        await src.call("MIGRATE", "127.0.0.1", d.port, "k", 0, 5000, "AUTH2", "mig", "pw2"),
        "OK",
      );
      const line = await mon.read() as string;
      assert(
        line.endsWith(
          `"MIGRATE" "127.0.0.1" "${d.port}" "k" "0" "5000" "AUTH2" "(redacted)" "(redacted)"`,
        ),
        line,
      );
    } finally {
      mon.close();
    }
    const log = await src.call("SLOWLOG", "GET", 1) as Reply[][];
    assertEquals((log[0][3] as string[]).slice(6), ["AUTH2", "(redacted)", "(redacted)"]);
    assertEquals(await dst.call("GET", "k"), "v");
  });
});

Deno.test("MIGRATE to a port nobody listens on replies IOERR (writing, as Redis) and keeps the key", async () => {
  await withTwo(async (src) => {
    await src.call("SET", "k", "v");
    const port = freePort();
    assertEquals(
      await src.call("MIGRATE", "127.0.0.1", port, "k", 0, 1000),
      err("IOERR error or timeout writing to target instance"),
    );
    assertEquals(await src.call("GET", "k"), "v");
  });
});

Deno.test("MIGRATE to a target that never replies times out with IOERR reading", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const accepted: Deno.Conn[] = [];
  const acceptLoop = (async () => {
    try {
      for await (const conn of listener) accepted.push(conn);
    } catch { /* closed */ }
  })();
  try {
    await withTwo(async (src) => {
      await src.call("SET", "k", "v");
      const t0 = Date.now();
      assertEquals(
        await src.call("MIGRATE", "127.0.0.1", port, "k", 0, 200),
        err("IOERR error or timeout reading to target instance"),
      );
      assert(Date.now() - t0 < 3000);
      assertEquals(await src.call("GET", "k"), "v");
      // other clients were served while MIGRATE waited: only the caller blocks
      assertEquals(await src.call("PING"), "PONG");
    });
  } finally {
    listener.close();
    await acceptLoop;
    for (const c of accepted) c.close();
  }
});

Deno.test("MIGRATE blocks only its client: others are served meanwhile", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const accepted: Deno.Conn[] = [];
  const acceptLoop = (async () => {
    try {
      for await (const conn of listener) accepted.push(conn);
    } catch { /* closed */ }
  })();
  try {
    await withTwo(async (src, _dst, s) => {
      await src.call("SET", "k", "v");
      const other = await RespClient.connect(s.port);
      try {
        const pending = src.call("MIGRATE", "127.0.0.1", port, "k", 0, 1500);
        await waitFor(() => accepted.length > 0);
        assertEquals(await other.call("GET", "k"), "v");
        const list = await other.call("CLIENT", "LIST") as string;
        assert(/cmd=migrate/.test(list), list);
        assertEquals(await pending, err("IOERR error or timeout reading to target instance"));
      } finally {
        other.close();
      }
    });
  } finally {
    listener.close();
    await acceptLoop;
    for (const c of accepted) c.close();
  }
});

Deno.test("MIGRATE argument errors, COMMAND GETKEYS and RESTORE-ASKING", async () => {
  await withTwo(async (src, dst, _s, d) => {
    await src.call("SET", "k", "v");
    assertEquals(
      await src.call("MIGRATE", "h", 1, "k", 0, 1000, "KEYS", "a"),
      err("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"),
    );
    assertEquals(await src.call("MIGRATE", "h", 1, "k", 0, 1000, "AUTH"), err("ERR syntax error"));
    assertEquals(
      await src.call("MIGRATE", "h", 1, "k", 0, 1000, "AUTH2", "u"),
      err("ERR syntax error"),
    );
    assertEquals(await src.call("MIGRATE", "h", 1, "k", 0, 1000, "FOO"), err("ERR syntax error"));
    assertEquals(
      await src.call("MIGRATE", "h", 1, "k", 0, "x"),
      err("ERR value is not an integer or out of range"),
    );
    assertEquals(
      await src.call("MIGRATE", "h", 1, "k", "x", 1),
      err("ERR value is not an integer or out of range"),
    );
    assertEquals(
      await src.call(
        "COMMAND",
        "GETKEYS",
        "MIGRATE",
        "h",
        1,
        "",
        0,
        5,
        "AUTH2",
        "u",
        "p",
        "KEYS",
        "a",
        "b",
      ),
      ["a", "b"],
    );
    assertEquals(await src.call("COMMAND", "GETKEYS", "MIGRATE", "h", 1, "k", 0, 5, "COPY"), ["k"]);
    const dump = await src.call("DUMP", "k") as string;
    assertEquals(await dst.call("RESTORE-ASKING", "r", 0, dump), "OK");
    assertEquals(await dst.call("GET", "r"), "v");
    assertEquals(
      await dst.call("RESTORE-ASKING", "r", 0, dump),
      err("BUSYKEY Target key name already exists."),
    );
    assertEquals(d.port > 0, true);
  });
});

Deno.test({
  name: "MIGRATE from Redeno to a real redis-server and back from redis-server (our RESTORE)",
  ignore: !HAVE_REDIS,
  async fn() {
    const t = await startRedeno();
    const r = await startRealRedis();
    const ours = await RespClient.connect(t.port);
    const real = await RespClient.connect(r.port);
    try {
      await ours.call("RPUSH", "l", "a", "b");
      await ours.call("SADD", "s", "x", "y");
      await ours.call("XADD", "st", "1-1", "f", "v");
      await ours.call("SET", "t", "ttl");
      await ours.call("EXPIRE", "t", 1000);
      assertEquals(
        await ours.call("MIGRATE", "127.0.0.1", r.port, "", 0, 5000, "KEYS", "l", "s", "st", "t"),
        "OK",
      );
      assertEquals(await ours.call("DBSIZE"), 0);
      assertEquals(await real.call("LRANGE", "l", 0, -1), ["a", "b"]);
      assertEquals((await real.call("SMEMBERS", "s") as string[]).sort(), ["x", "y"]);
      assertEquals(await real.call("XRANGE", "st", "-", "+"), [["1-1", ["f", "v"]]]);
      assert((await real.call("TTL", "t") as number) > 990);
      // BUSYKEY comes from Redis itself
      await ours.call("SET", "l", "again");
      assertEquals(
        await ours.call("MIGRATE", "127.0.0.1", r.port, "l", 0, 5000),
        err("ERR Target instance replied with error: BUSYKEY Target key name already exists."),
      );
      // redis-server → Redeno
      await real.call("HSET", "h", "f", "v", "g", "w");
      await real.call("ZADD", "z", 1.5, "m");
      assertEquals(
        await real.call("MIGRATE", "127.0.0.1", t.port, "", 2, 5000, "KEYS", "h", "z", "t"),
        "OK",
      );
      await ours.call("SELECT", 2);
      assertEquals(await ours.call("HGETALL", "h"), ["f", "v", "g", "w"]);
      assertEquals(await ours.call("ZSCORE", "z", "m"), "1.5");
      assert((await ours.call("TTL", "t") as number) > 990);
      assertEquals(
        await real.call("MIGRATE", "127.0.0.1", t.port, "l", 2, 5000, "COPY"),
        "OK",
      );
      assertEquals(await ours.call("LRANGE", "l", 0, -1), ["a", "b"]);
      assertEquals(
        await real.call("MIGRATE", "127.0.0.1", t.port, "l", 2, 5000, "COPY"),
        err("ERR Target instance replied with error: BUSYKEY Target key name already exists."),
      );
    } finally {
      ours.close();
      real.close();
      await r.stop();
      await t.stop();
    }
  },
});

Deno.test({
  name: "MIGRATE errors match redis-server side by side",
  ignore: IGNORE_SIDE_BY_SIDE,
  async fn() {
    const closed = freePort();
    await withPair(async (p) => {
      await p.same("SET", "k", "v");
      await p.same("MIGRATE", "127.0.0.1", closed, "k", 0, 1000);
      await p.same("MIGRATE", "127.0.0.1", "abc", "k", 0, 1000);
      await p.same("MIGRATE", "127.0.0.1", 0, "k", 0, 1000);
      await p.same("MIGRATE", "nosuch.invalid", closed, "k", 0, 1000);
      await p.same("MIGRATE", "127.0.0.1", closed, "nokey", 0, 1000);
      await p.same("MIGRATE", "127.0.0.1", closed, "", 0, 1000, "KEYS", "nokey");
      await p.same("MIGRATE", "127.0.0.1", closed, "k", 0, 1000, "KEYS", "k");
      await p.same("MIGRATE", "127.0.0.1", closed, "k", 0, 1000, "AUTH");
      await p.same("MIGRATE", "127.0.0.1", closed, "k", 0, 1000, "AUTH2", "a");
      await p.same("MIGRATE", "127.0.0.1", closed, "k", 0, 1000, "BAD");
      await p.same("MIGRATE", "127.0.0.1", closed, "k", "db", 1000);
      await p.same("MIGRATE", "127.0.0.1", closed, "k", 0, "1.5");
      await p.same("MIGRATE", "127.0.0.1", closed, "k", 0);
      await p.same(
        "COMMAND",
        "GETKEYS",
        "MIGRATE",
        "h",
        1,
        "",
        0,
        5,
        "AUTH",
        "p",
        "KEYS",
        "a",
        "b",
      );
      await p.same("COMMAND", "GETKEYS", "MIGRATE", "h", 1, "k", 0, 5);
      await p.same(
        "MIGRATE",
        "127.0.0.1",
        closed,
        "k",
        0,
        1000,
        "COPY",
        "REPLACE",
        "AUTH2",
        "u",
        "p",
      );
      const [a, b] = await p.both("COMMAND", "INFO", "MIGRATE", "RESTORE-ASKING");
      const strip = (x: Reply) => (x as Reply[][]).map((c) => c.slice(0, 7));
      assertEquals(strip(a), strip(b));
      await p.same("GET", "k");
    });
  },
});

Deno.test("ACL: MIGRATE needs write access to its keys, ACL DRYRUN agrees", async () => {
  await withTwo(async (src) => {
    await src.call("ACL", "SETUSER", "u", "on", "nopass", "+migrate", "~a*", "%R~r*");
    assertEquals(await src.call("ACL", "DRYRUN", "u", "MIGRATE", "h", 1, "abc", 0, 5), "OK");
    const denied = await src.call(
      "ACL",
      "DRYRUN",
      "u",
      "MIGRATE",
      "h",
      1,
      "",
      0,
      5,
      "KEYS",
      "a",
      "rx",
    );
    assert(denied instanceof RespError || typeof denied === "string");
    assert(String(denied).includes("no permissions to access the 'rx' key"), String(denied));
    assertEquals(
      await src.call(
        "ACL",
        "DRYRUN",
        "u",
        "MIGRATE",
        "h",
        1,
        "",
        0,
        5,
        "AUTH",
        "x",
        "KEYS",
        "a1",
        "a2",
      ),
      "OK",
    );
  });
});
