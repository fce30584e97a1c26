/** MULTI/EXEC/DISCARD/WATCH and the propagation point's deterministic command forms. */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Redis } from "ioredis";
import {
  err,
  freePort,
  parseReply,
  RespClient,
  RespError,
  startRedeno,
  waitFor,
  withRedeno,
} from "./helpers.ts";
import { IGNORE_SIDE_BY_SIDE, withPair } from "./side_by_side.ts";

Deno.test("EXEC runs queued commands; runtime errors do not abort the rest", async () => {
  await withRedeno(async (r) => {
    assertEquals(await r.call("MULTI"), "OK");
    assertEquals(await r.call("SET", "a", "1"), "QUEUED");
    assertEquals(await r.call("LPUSH", "a", "x"), "QUEUED");
    assertEquals(await r.call("INCR", "a"), "QUEUED");
    assertEquals(await r.call("EXEC"), [
      "OK",
      err("WRONGTYPE Operation against a key holding the wrong kind of value"),
      2,
    ]);
    assertEquals(await r.call("MULTI"), "OK");
    assertEquals(await r.call("EXEC"), []);
  });
});

Deno.test("a queueing error makes EXEC reply EXECABORT and run nothing", async () => {
  await withRedeno(async (r) => {
    await r.call("MULTI");
    await r.call("SET", "a", "1");
    assertEquals(
      await r.call("NOSUCH", "x"),
      err("ERR unknown command 'NOSUCH', with args beginning with: 'x' "),
    );
    assertEquals(await r.call("GET"), err("ERR wrong number of arguments for 'get' command"));
    assertEquals(
      await r.call("EXEC"),
      err("EXECABORT Transaction discarded because of previous errors."),
    );
    assertEquals(await r.call("EXISTS", "a"), 0);
    // the client left MULTI state
    assertEquals(await r.call("SET", "a", "2"), "OK");
  });
});

Deno.test("MULTI/EXEC/DISCARD/WATCH misuse gets Redis's errors", async () => {
  await withRedeno(async (r) => {
    assertEquals(await r.call("EXEC"), err("ERR EXEC without MULTI"));
    assertEquals(await r.call("DISCARD"), err("ERR DISCARD without MULTI"));
    await r.call("MULTI");
    assertEquals(await r.call("MULTI"), err("ERR MULTI calls can not be nested"));
    assertEquals(await r.call("WATCH", "x"), err("ERR WATCH inside MULTI is not allowed"));
    assertEquals(await r.call("PING"), "QUEUED");
    // neither error flags the transaction
    assertEquals(await r.call("EXEC"), ["PONG"]);
    await r.call("MULTI");
    await r.call("SET", "d", "1");
    assertEquals(await r.call("DISCARD"), "OK");
    assertEquals(await r.call("EXISTS", "d"), 0);
  });
});

Deno.test("blocking commands inside MULTI return their timeout reply at once", async () => {
  await withRedeno(async (r) => {
    await r.call("MULTI");
    await r.call("BLPOP", "nolist", "0");
    assertEquals(await r.call("EXEC"), [null]);
  });
});

Deno.test("WATCH is broken by a write from another client, UNWATCH forgets it", async () => {
  await withRedeno(async (r, t) => {
    const other = await RespClient.connect(t.port);
    try {
      await r.call("SET", "k", "1");
      assertEquals(await r.call("WATCH", "k"), "OK");
      await other.call("INCR", "k");
      await r.call("MULTI");
      await r.call("SET", "k", "mine");
      assertEquals(await r.call("EXEC"), null);
      assertEquals(await r.call("GET", "k"), "2");

      await r.call("WATCH", "k");
      await r.call("UNWATCH");
      await other.call("INCR", "k");
      await r.call("MULTI");
      await r.call("SET", "k", "mine");
      assertEquals(await r.call("EXEC"), ["OK"]);

      // a WATCH of an untouched key lets EXEC through, and EXEC unwatches
      await r.call("WATCH", "k", "untouched");
      await other.call("SET", "unrelated", "x");
      await r.call("MULTI");
      await r.call("PING");
      assertEquals(await r.call("EXEC"), ["PONG"]);
      await other.call("SET", "k", "later");
      await r.call("MULTI");
      await r.call("PING");
      assertEquals(await r.call("EXEC"), ["PONG"]);
    } finally {
      other.close();
    }
  });
});

Deno.test("WATCH is broken by expiry, FLUSHALL, RENAME, SWAPDB and MOVE", async () => {
  await withRedeno(async (r, t) => {
    const other = await RespClient.connect(t.port);
    const attempt = async (setup: () => Promise<unknown>, key = "w") => {
      await r.call("WATCH", key);
      await setup();
      await r.call("MULTI");
      await r.call("PING");
      return await r.call("EXEC");
    };
    try {
      // a watched key whose TTL passes between WATCH and EXEC, unseen by anyone (the
      // clock is moved by making the deadline due, not by sleeping)
      t.server.activeExpireEnabled = false;
      await r.call("SET", "w", "v", "PX", "100000");
      assertEquals(
        await attempt(() => {
          t.server.dbs[0].dict.get("w")!.expireAt = Date.now() - 1;
          return Promise.resolve();
        }),
        null,
      );
      t.server.activeExpireEnabled = true;

      await r.call("SET", "w", "v");
      assertEquals(await attempt(() => other.call("FLUSHALL")), null);

      // FLUSHALL does not break a WATCH of a key that did not exist
      assertEquals(await attempt(() => other.call("FLUSHALL")), ["PONG"]);

      await r.call("SET", "w", "v");
      assertEquals(await attempt(() => other.call("RENAME", "w", "w2")), null);

      await r.call("SET", "w", "v");
      assertEquals(await attempt(() => other.call("MOVE", "w", "3")), null);

      await other.call("SELECT", "4");
      await other.call("SET", "w", "in db 4");
      assertEquals(await attempt(() => other.call("SWAPDB", "0", "4")), null);
    } finally {
      other.close();
    }
  });
});

Deno.test("WATCH of a key already expired does not fail EXEC when it is removed", async () => {
  await withRedeno(async (r, t) => {
    t.server.activeExpireEnabled = false;
    await r.call("SET", "stale", "v", "PX", "1");
    await waitMs(10);
    await r.call("WATCH", "stale");
    t.server.activeExpireEnabled = true;
    // the active expiry cycle really removes it while watched
    await waitFor(() => !t.server.dbs[0].dict.has("stale"), { what: "active expiry" });
    await r.call("MULTI");
    await r.call("PING");
    assertEquals(await r.call("EXEC"), ["PONG"]);
  });
});

function waitMs(ms: number): Promise<true> {
  return new Promise((res) => setTimeout(() => res(true), ms));
}

/** Decodes one RESP command (an array of bulk strings) fed to a sink. */
function decode(bytes: Uint8Array): string[] {
  return parseReply(bytes, 0)[0] as string[];
}

Deno.test("the propagation point receives Redis's deterministic forms", async () => {
  await withRedeno(async (r, t) => {
    const fed: Array<[number, string[]]> = [];
    t.server.sinks.push({ feed: (dbId, bytes) => fed.push([dbId, decode(bytes)]) });
    const take = () => fed.splice(0).map(([db, argv]) => db === 0 ? argv : [String(db), ...argv]);
    const near = (a: string, expected: number) => Math.abs(Number(a) - expected) < 2000;

    const before = Date.now();
    await r.call("SET", "k", "v", "EX", "100");
    let ops = take();
    assertEquals(ops.length, 1);
    assertEquals(ops[0].slice(0, 4), ["SET", "k", "v", "PXAT"]);
    assert(near(ops[0][4], before + 100_000), `PXAT ${ops[0][4]}`);

    await r.call("SETEX", "s", "10", "v");
    ops = take();
    assertEquals(ops[0].slice(0, 4), ["SET", "s", "v", "PXAT"]);

    await r.call("SET", "g", "v", "GET");
    assertEquals(take(), [["SET", "g", "v"]]);
    await r.call("SET", "g", "v", "PXAT", "99999999999999", "NX", "GET");
    await r.call("SET", "g2", "v", "PXAT", "99999999999999", "NX", "GET");
    assertEquals(take(), [["SET", "g2", "v", "PXAT", "99999999999999"]]);
    await r.call("GETEX", "g2", "PXAT", "99999999999998");
    assertEquals(take(), [["PEXPIREAT", "g2", "99999999999998"]]);

    assertEquals(await r.call("EXPIRE", "k", "200", "GT"), 1);
    ops = take();
    assertEquals(ops[0][0], "PEXPIREAT");
    assert(near(ops[0][2], before + 200_000));
    assertEquals(ops[0][3], "GT");
    await r.call("EXPIRE", "k", "500");
    ops = take();
    assertEquals([ops[0][0], ops[0][1]], ["PEXPIREAT", "k"]);

    await r.call("GETEX", "k", "PERSIST");
    assertEquals(take(), [["PERSIST", "k"]]);
    await r.call("GETDEL", "k");
    assertEquals(take(), [["DEL", "k"]]);

    await r.call("INCRBYFLOAT", "f", "0.1");
    assertEquals(take(), [["SET", "f", "0.1", "KEEPTTL"]]);

    await r.call("GETSET", "f", "x");
    assertEquals(take(), [["SET", "f", "x"]]);

    await r.call("SET", "gone", "v");
    take();
    await r.call("EXPIRE", "gone", "-1");
    assertEquals(take(), [["DEL", "gone"]]);

    // a read of a key whose TTL passed deletes it and propagates DEL
    t.server.activeExpireEnabled = false;
    await r.call("SET", "lazy", "v", "PX", "1");
    take();
    await waitMs(10);
    assertEquals(await r.call("GET", "lazy"), null);
    assertEquals(take(), [["DEL", "lazy"]]);
    t.server.activeExpireEnabled = true;

    // EXEC with one write: just the write; with several: MULTI ... EXEC
    await r.call("MULTI");
    await r.call("SET", "a", "1");
    await r.call("GET", "a");
    await r.call("EXEC");
    assertEquals(take(), [["SET", "a", "1"]]);
    await r.call("MULTI");
    await r.call("SET", "a", "1");
    await r.call("INCR", "a");
    await r.call("SELECT", "2");
    await r.call("SET", "b", "2");
    await r.call("EXEC");
    assertEquals(take(), [["MULTI"], ["SET", "a", "1"], ["INCR", "a"], ["2", "SET", "b", "2"], [
      "2",
      "EXEC",
    ]]);
    await r.call("SELECT", "0");

    // nothing changed, nothing propagated
    await r.call("DEL", "nokey");
    await r.call("MULTI");
    await r.call("GET", "a");
    await r.call("EXEC");
    assertEquals(take(), []);
  });
});

Deno.test("ioredis transactions: multi().exec() and an optimistic WATCH retry", async () => {
  const t = await startRedeno();
  const a = new Redis({ port: t.port, lazyConnect: true });
  const b = new Redis({ port: t.port, lazyConnect: true });
  try {
    await a.connect();
    await b.connect();
    assertEquals(await a.multi().set("n", "1").incr("n").get("n").exec(), [
      [null, "OK"],
      [null, 2],
      [null, "2"],
    ]);
    await a.watch("n");
    await b.incr("n");
    assertEquals(await a.multi().set("n", "100").exec(), null);
    await a.watch("n");
    const current = Number(await a.get("n"));
    assertEquals(await a.multi().set("n", String(current * 10)).exec(), [[null, "OK"]]);
    assertEquals(await b.get("n"), "30");
  } finally {
    a.disconnect();
    b.disconnect();
    await t.stop();
  }
});

Deno.test("MONITOR shows queued commands before EXEC, as they run", async () => {
  await withRedeno(async (r, t) => {
    const monitor = await RespClient.connect(t.port);
    try {
      assertEquals(await monitor.call("MONITOR"), "OK");
      await r.pipeline([["MULTI"], ["SET", "a", "1"], ["INCR", "a"], ["EXEC"], ["SELECT", "2"]]);
      const lines: string[] = [];
      for (let i = 0; i < 5; i++) lines.push(await monitor.read() as string);
      assertEquals(lines.map((l) => l.replace(/^[\d.]+ \[(\d+) [^\]]+\] /, "$1 ")), [
        '0 "MULTI"',
        '0 "SET" "a" "1"',
        '0 "INCR" "a"',
        '0 "EXEC"',
        '2 "SELECT" "2"',
      ]);
    } finally {
      monitor.close();
    }
  });
});

Deno.test("EXEC of queued writes after the server became a replica aborts with READONLY", async () => {
  await withRedeno(async (r, t) => {
    const admin = await RespClient.connect(t.port);
    try {
      await r.call("MULTI");
      await r.call("SET", "x", "1");
      assertEquals(await admin.call("REPLICAOF", "127.0.0.1", "1"), "OK");
      assertEquals(
        await r.call("EXEC"),
        err(
          "EXECABORT Transaction discarded because of: READONLY You can't write against a read only replica.",
        ),
      );
      // a read-only transaction still runs on the replica
      await r.call("MULTI");
      await r.call("GET", "x");
      assertEquals(await r.call("EXEC"), [null]);
      assertEquals(await admin.call("REPLICAOF", "NO", "ONE"), "OK");
    } finally {
      admin.close();
    }
  });
});

Deno.test({
  name: "SWAPDB and FLUSHALL that only move or drop stale watched keys do not fail EXEC",
  ignore: IGNORE_SIDE_BY_SIDE,
  fn: async () => {
    await withPair(async (p) => {
      const execPing = async () => {
        await p.same("MULTI");
        await p.same("PING");
        return await p.same("EXEC");
      };
      await p.same("DEBUG", "SET-ACTIVE-EXPIRE", "0");
      // a missing key replaced with a stale one
      await p.same("SET", "x", "foo", "PX", "1");
      await waitMs(5);
      await p.same("SELECT", "1");
      await p.same("WATCH", "x");
      await p.same("SWAPDB", "0", "1");
      assertEquals(await execPing(), ["PONG"]);
      // a stale key replaced with another stale key
      await p.same("FLUSHALL");
      await p.same("SET", "x", "foo", "PX", "1");
      await p.same("SELECT", "0");
      await p.same("SET", "x", "bar", "PX", "1");
      await waitMs(5);
      await p.same("SELECT", "1");
      await p.same("WATCH", "x");
      await p.same("SWAPDB", "0", "1");
      assertEquals(await execPing(), ["PONG"]);
      // a live key brought in by SWAPDB still fails EXEC
      await p.same("FLUSHALL");
      await p.same("SELECT", "0");
      await p.same("SET", "x", "live");
      await p.same("SELECT", "1");
      await p.same("WATCH", "x");
      await p.same("SWAPDB", "0", "1");
      assertEquals(await execPing(), null);
      // a stale watched key dropped by FLUSHALL is no change
      await p.same("SET", "y", "v", "PX", "1");
      await waitMs(5);
      await p.same("WATCH", "y");
      await p.same("FLUSHALL");
      assertEquals(await execPing(), ["PONG"]);
      await p.same("DEBUG", "SET-ACTIVE-EXPIRE", "1");
    }, ["--enable-debug-command", "yes"]);
  },
});

Deno.test({
  name: "maxmemory under noeviction: OOM while queueing and EXECABORT for queued writes",
  ignore: IGNORE_SIDE_BY_SIDE,
  fn: async () => {
    await withPair(async (p) => {
      await p.same("SET", "x", "value");
      await p.same("CONFIG", "SET", "maxmemory", "1");
      const oom = err("OOM command not allowed when used memory > 'maxmemory'.");
      assertEquals(await p.same("SET", "y", "1"), oom);
      // refused while queueing: EXEC aborts, DISCARD still works
      await p.same("MULTI");
      await p.same("GET", "x");
      assertEquals(await p.same("SET", "x", "1"), oom);
      assertEquals(
        await p.same("EXEC"),
        err("EXECABORT Transaction discarded because of previous errors."),
      );
      await p.same("MULTI");
      assertEquals(await p.same("APPEND", "x", "1"), oom);
      assertEquals(await p.same("DISCARD"), "OK");
      // reads and commands that free memory still run
      assertEquals(await p.same("GET", "x"), "value");
      assertEquals(await p.same("DEL", "x"), 1);
      await p.same("CONFIG", "SET", "maxmemory", "0");
      assertEquals(await p.same("SET", "x", "3"), "OK");
    });
  },
});

Deno.test("EXEC of queued reads aborts with MASTERDOWN once the replica link is down and stale data is refused", async () => {
  await withRedeno(async (r, t) => {
    const admin = await RespClient.connect(t.port);
    try {
      await r.call("CONFIG", "SET", "replica-serve-stale-data", "no");
      await r.call("SET", "x", "1");
      for (const queued of ["GET", "PING"]) {
        await r.call("MULTI");
        await r.call(queued, ...(queued === "GET" ? ["x"] : []));
        await admin.call("REPLICAOF", "127.0.0.1", String(freePort()));
        const reply = await r.call("EXEC");
        assert(
          reply instanceof RespError &&
            /^EXECABORT .*MASTERDOWN/.test(reply.message),
          `EXEC: ${JSON.stringify(reply)}`,
        );
        await admin.call("REPLICAOF", "NO", "ONE");
      }
      // commands flagged stale (INFO) still run in EXEC
      await admin.call("REPLICAOF", "127.0.0.1", String(freePort()));
      await r.call("MULTI");
      await r.call("INFO", "server");
      const ok = await r.call("EXEC") as unknown[];
      assertEquals(ok.length, 1);
      await admin.call("REPLICAOF", "NO", "ONE");
    } finally {
      admin.close();
    }
  });
});
