import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import {
  callRaw,
  RespClient,
  RespError,
  startRedeno,
  type TestServer,
  waitFor,
} from "./helpers.ts";
import type { PropagationSink } from "../src/server.ts";

/** Collects propagated commands as arrays of strings. */
function recordPropagation(t: TestServer): string[][] {
  const fed: string[][] = [];
  const sink: PropagationSink = {
    feed(_db, command) {
      const text = new TextDecoder().decode(command);
      const parts = text.split("\r\n");
      const argv: string[] = [];
      for (let i = 2; i < parts.length; i += 2) argv.push(parts[i]);
      fed.push(argv.slice(0, Number(parts[0].slice(1))));
    },
  };
  t.server.sinks.push(sink);
  return fed;
}

/** Sends a blocking command without waiting for its reply. */
async function send(c: RespClient, ...args: Array<string | number>): Promise<void> {
  await c.write(RespClient.encode(args));
}

/** Waits until the server has `n` blocked clients. */
async function blockedClients(t: TestServer, n: number): Promise<void> {
  await waitFor(() => t.server.blocking.blockedCount === n, { what: `${n} blocked clients` });
}

async function withServer(
  clients: number,
  body: (t: TestServer, cs: RespClient[]) => Promise<void>,
): Promise<void> {
  const t = await startRedeno();
  const cs: RespClient[] = [];
  try {
    for (let i = 0; i < clients; i++) cs.push(await RespClient.connect(t.port));
    await body(t, cs);
  } finally {
    for (const c of cs) c.close();
    await t.stop();
  }
}

Deno.test("clients blocked on one key are served first come, first served", async () => {
  await withServer(4, async (t, [a, b, c, w]) => {
    await send(a, "BLPOP", "q", 0);
    await blockedClients(t, 1);
    await send(b, "BRPOP", "other", "q", 0);
    await blockedClients(t, 2);
    await send(c, "BLMPOP", 0, 1, "q", "LEFT", "COUNT", 5);
    await blockedClients(t, 3);
    assert.equal(await w.call("RPUSH", "q", "1", "2"), 2);
    assert.deepEqual(await a.read(), ["q", "1"]);
    assert.deepEqual(await b.read(), ["q", "2"]);
    assert.equal(t.server.blocking.blockedCount, 1);
    assert.equal(await w.call("EXISTS", "q"), 0);
    assert.equal(await w.call("RPUSH", "q", "3", "4"), 2);
    assert.deepEqual(await c.read(), ["q", ["3", "4"]]);
    assert.equal(t.server.blocking.blockedCount, 0);
  });
});

Deno.test("a client blocked on several keys is served from the key that gets data", async () => {
  await withServer(2, async (t, [a, w]) => {
    await send(a, "BRPOP", "k1", "k2", "k3", 0);
    await blockedClients(t, 1);
    await w.call("LPUSH", "k2", "x");
    assert.deepEqual(await a.read(), ["k2", "x"]);
  });
});

Deno.test("a blocking pop times out after its timeout, to within a few ms", async () => {
  await withServer(1, async (_t, [a]) => {
    for (const [timeout, ms] of [["0.2", 200], ["0.05", 50]] as const) {
      const start = performance.now();
      assert.equal(await callRaw(a, "BLPOP", "nokey", timeout), "*-1\r\n");
      const took = performance.now() - start;
      // never early; the upper margin leaves room for a loaded 2-core machine's scheduling
      assert.ok(took >= ms - 2 && took < ms + 1000, `timeout ${timeout} took ${took} ms`);
    }
    const start = performance.now();
    assert.equal(await callRaw(a, "BLMOVE", "nokey", "d", "LEFT", "LEFT", "0.05"), "*-1\r\n");
    assert.equal(await callRaw(a, "BLMPOP", "0.05", 1, "nokey", "LEFT"), "*-1\r\n");
    assert.ok(performance.now() - start >= 98);
    await a.call("HELLO", 3);
    assert.equal(await callRaw(a, "BRPOPLPUSH", "nokey", "d", "0.01"), "_\r\n");
  });
});

Deno.test("commands pipelined after a blocking pop run once it is served", async () => {
  await withServer(2, async (t, [a, w]) => {
    await a.write(
      new Uint8Array([
        ...RespClient.encode(["BLPOP", "q", 0]),
        ...RespClient.encode(["SET", "after", "1"]),
        ...RespClient.encode(["GET", "after"]),
      ]),
    );
    await blockedClients(t, 1);
    assert.equal(await w.call("GET", "after"), null);
    await w.call("RPUSH", "q", "v");
    assert.deepEqual(await a.read(), ["q", "v"]);
    assert.equal(await a.read(), "OK");
    assert.equal(await a.read(), "1");
  });
});

Deno.test("a blocked client that disconnects is forgotten", async () => {
  await withServer(3, async (t, [a, b, w]) => {
    await send(a, "BLPOP", "q", 0);
    await send(b, "BLPOP", "q", 0);
    await blockedClients(t, 2);
    a.close();
    await blockedClients(t, 1);
    await w.call("RPUSH", "q", "v1", "v2");
    assert.deepEqual(await b.read(), ["q", "v1"]);
    assert.deepEqual(await w.call("LRANGE", "q", 0, -1), ["v2"]);
  });
});

Deno.test("inside MULTI the blocking forms answer at once like the non-blocking ones", async () => {
  await withServer(1, async (t, [a]) => {
    await a.call("RPUSH", "full", "x");
    await a.call("MULTI");
    for (
      const cmd of [
        ["BLPOP", "nokey", 0],
        ["BLMOVE", "nokey", "d", "LEFT", "LEFT", 0],
        ["BRPOPLPUSH", "nokey", "d", 0],
        ["BLMPOP", 0, 1, "nokey", "LEFT"],
        ["BRPOP", "full", 0],
      ]
    ) assert.equal(await a.call(...cmd), "QUEUED");
    assert.equal(
      await callRaw(a, "EXEC"),
      "*5\r\n*-1\r\n$-1\r\n$-1\r\n*-1\r\n*2\r\n$4\r\nfull\r\n$1\r\nx\r\n",
    );
    assert.equal(t.server.blocking.blockedCount, 0);
  });
});

Deno.test("a key pushed then popped inside MULTI does not wake a blocked client", async () => {
  await withServer(2, async (t, [a, w]) => {
    const fed = recordPropagation(t);
    await send(a, "BLPOP", "q", 0);
    await blockedClients(t, 1);
    await w.call("MULTI");
    await w.call("LPUSH", "q", "x");
    await w.call("LPOP", "q");
    assert.deepEqual(await w.call("EXEC"), [1, "x"]);
    assert.equal(t.server.blocking.blockedCount, 1);
    await w.call("LPUSH", "q", "y");
    assert.deepEqual(await a.read(), ["q", "y"]);
    assert.deepEqual(fed.slice(-2), [["LPUSH", "q", "y"], ["LPOP", "q"]]);
  });
});

Deno.test("a blocked pop keeps waiting when its key is created with another type", async () => {
  await withServer(2, async (t, [a, w]) => {
    await send(a, "BLPOP", "k", 0);
    await blockedClients(t, 1);
    await w.call("HSET", "k", "f", "v");
    await w.call("SET", "k2", "x");
    assert.equal(t.server.blocking.blockedCount, 1);
    await w.call("DEL", "k");
    await w.call("RPUSH", "k", "v");
    assert.deepEqual(await a.read(), ["k", "v"]);
    // a type error before blocking is immediate
    const r = await a.call("BLPOP", "k2", 0);
    assert.ok(r instanceof RespError && r.message.startsWith("WRONGTYPE"));
  });
});

Deno.test("served blocking commands propagate as their non-blocking forms", async () => {
  await withServer(2, async (t, [a, w]) => {
    const fed = recordPropagation(t);
    const cases: Array<[Array<string | number>, string[], string[]]> = [
      [["BLPOP", "q", 0], ["RPUSH", "q", "1"], ["LPOP", "q"]],
      [["BRPOP", "q", 0], ["RPUSH", "q", "1"], ["RPOP", "q"]],
      [["BLMPOP", 0, 1, "q", "RIGHT", "COUNT", 9], ["RPUSH", "q", "1", "2"], ["RPOP", "q", "2"]],
      [["BLMOVE", "q", "d", "RIGHT", "LEFT", 0], ["RPUSH", "q", "1"], [
        "LMOVE",
        "q",
        "d",
        "right",
        "left",
      ]],
      [["BRPOPLPUSH", "q", "d", 0], ["RPUSH", "q", "1"], ["RPOPLPUSH", "q", "d"]],
    ];
    for (const [blocking, push, expected] of cases) {
      fed.length = 0;
      await send(a, ...blocking);
      await blockedClients(t, 1);
      await w.call(...push);
      await a.read();
      await waitFor(() => fed.length === 2);
      assert.deepEqual(fed, [push, expected], JSON.stringify(blocking));
      await w.call("DEL", "d");
    }
    // served at once: the same forms, with the client's own words for LMOVE
    fed.length = 0;
    await w.call("RPUSH", "q", "1", "2", "3");
    await a.call("BLPOP", "q", 0);
    await a.call("BLMOVE", "q", "d", "Left", "RIGHT", 0);
    await a.call("BLMPOP", 0, 1, "q", "LEFT");
    await a.call("LMPOP", 1, "d", "LEFT", "COUNT", 10);
    assert.deepEqual(fed, [
      ["RPUSH", "q", "1", "2", "3"],
      ["LPOP", "q"],
      ["LMOVE", "q", "d", "Left", "RIGHT"],
      ["LPOP", "q", "1"],
      ["LPOP", "d", "1"],
    ]);
  });
});

Deno.test("a BLMOVE chain wakes the next client blocked on the destination", async () => {
  await withServer(3, async (t, [a, b, w]) => {
    await send(a, "BLMOVE", "first", "second", "LEFT", "LEFT", 0);
    await blockedClients(t, 1);
    await send(b, "BLPOP", "second", 0);
    await blockedClients(t, 2);
    await w.call("RPUSH", "first", "v");
    assert.equal(await a.read(), "v");
    assert.deepEqual(await b.read(), ["second", "v"]);
    assert.equal(await w.call("EXISTS", "first", "second"), 0);
  });
});

Deno.test("a served BLMOVE whose destination has the wrong type gets WRONGTYPE", async () => {
  await withServer(2, async (t, [a, w]) => {
    await send(a, "BLMOVE", "src", "dst", "LEFT", "LEFT", 0);
    await blockedClients(t, 1);
    await w.call("SET", "dst", "string");
    await w.call("RPUSH", "src", "v");
    const r = await a.read();
    assert.ok(r instanceof RespError && r.message.startsWith("WRONGTYPE"));
    assert.deepEqual(await w.call("LRANGE", "src", 0, -1), ["v"]);
  });
});

Deno.test("blocking timeouts are validated like Redis's", async () => {
  await withServer(1, async (_t, [a]) => {
    for (
      const [timeout, err] of [
        ["-1", "ERR timeout is negative"],
        ["abc", "ERR timeout is not a float or out of range"],
        ["", "ERR timeout is not a float or out of range"],
        [" 1", "ERR timeout is not a float or out of range"],
        ["inf", "ERR timeout is negative"],
        ["1e300", "ERR timeout is negative"],
      ]
    ) {
      const r = await a.call("BLPOP", "q", timeout);
      assert.ok(r instanceof RespError && r.message === err, `${timeout}: ${r}`);
    }
    // tiny positive timeouts round up to 1 ms
    assert.equal(await a.call("BLPOP", "q", "1e-400"), null);
    assert.equal(await a.call("BLPOP", "q", "0.0001"), null);
  });
});

Deno.test("CLIENT UNBLOCK ends a blocking pop with a timeout or an error", async () => {
  await withServer(2, async (t, [a, w]) => {
    const id = await a.call("CLIENT", "ID");
    await send(a, "BLPOP", "q", 0);
    await blockedClients(t, 1);
    assert.equal(await w.call("CLIENT", "UNBLOCK", id as number), 1);
    assert.equal(await a.read(), null);
    await send(a, "BLMOVE", "q", "d", "LEFT", "LEFT", 0);
    await blockedClients(t, 1);
    assert.equal(await w.call("CLIENT", "UNBLOCK", id as number, "ERROR"), 1);
    const r = await a.read();
    assert.ok(r instanceof RespError);
    assert.equal(r.message, "UNBLOCKED client unblocked via CLIENT UNBLOCK");
    assert.equal(await w.call("CLIENT", "UNBLOCK", id as number), 0);
  });
});

Deno.test("a blocking command counts once in INFO commandstats, when it ends", async () => {
  await withServer(2, async (t, [a, w]) => {
    await send(a, "BLPOP", "q", 0);
    await blockedClients(t, 1);
    await w.call("LPUSH", "other", "x");
    await w.call("RPUSH", "q", "v");
    await a.read();
    assert.equal(await a.call("BLPOP", "q", "0.01"), null);
    const info = await w.call("INFO", "commandstats") as string;
    assert.match(info, /cmdstat_blpop:calls=2,/);
  });
});

Deno.test("a client blocked on several keys is served from the key that became ready first", async () => {
  await withServer(2, async (t, [a, w]) => {
    await send(a, "BLPOP", "k1", "k2", 0);
    await blockedClients(t, 1);
    await w.call("MULTI");
    await w.call("RPUSH", "k2", "a");
    await w.call("RPUSH", "k1", "b");
    await w.call("EXEC");
    assert.deepEqual(await a.read(), ["k2", "a"]);
  });
});

Deno.test("ioredis and node-redis drive lists, hashes and blocking pops", async () => {
  const t = await startRedeno();
  const opts = { port: t.port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0 };
  const io = new Redis(opts);
  const ioBlocked = new Redis(opts);
  const nr = createClient({ socket: { port: t.port, host: "127.0.0.1" } });
  try {
    await io.connect();
    await ioBlocked.connect();
    await nr.connect();
    assert.equal(await io.rpush("l", "a", "b", "c"), 3);
    assert.deepEqual(await io.lrange("l", 0, -1), ["a", "b", "c"]);
    assert.equal(await io.lmove("l", "m", "LEFT", "RIGHT"), "a");
    assert.deepEqual(await nr.lPopCount("l", 5), ["b", "c"]);
    assert.equal(await nr.lPos("m", "a"), 0);
    const waiting = ioBlocked.blpop("q", 0);
    await blockedClients(t, 1);
    await nr.rPush("q", "served");
    assert.deepEqual(await waiting, ["q", "served"]);
    assert.equal(await ioBlocked.brpop("q", 0.05), null);
    assert.equal(await io.hset("h", { a: "1", b: "2" }), 2);
    assert.deepEqual(await io.hgetall("h"), { a: "1", b: "2" });
    assert.deepEqual({ ...await nr.hGetAll("h") }, { a: "1", b: "2" });
    assert.equal(await nr.hIncrByFloat("h", "a", 0.5), "1.5");
    assert.deepEqual(await io.hmget("h", "a", "zz"), ["1.5", null]);
    assert.deepEqual(await nr.hScan("h", 0), {
      cursor: 0,
      tuples: [{ field: "a", value: "1.5" }, { field: "b", value: "2" }],
    });
  } finally {
    io.disconnect();
    ioBlocked.disconnect();
    await nr.disconnect();
    await t.stop();
  }
});

Deno.test("a blocked pop keeps waiting when its key expired while EXEC ran", async () => {
  await withServer(2, async (t, [a, w]) => {
    const fed = recordPropagation(t);
    await w.call("DEBUG", "SET-ACTIVE-EXPIRE", 0);
    await send(a, "BRPOP", "k", 0);
    await blockedClients(t, 1);
    await w.call("MULTI");
    await w.call("RPUSH", "k", "hello");
    await w.call("PEXPIRE", "k", 100);
    await w.call("DEBUG", "SLEEP", "0.2");
    assert.deepEqual(await w.call("EXEC"), [1, 1, "OK"]);
    const list = await w.call("CLIENT", "LIST") as string;
    assert.match(list, /flags=b .*cmd=brpop/);
    assert.equal(t.server.blocking.blockedCount, 1);
    assert.equal(await w.call("EXISTS", "k"), 0);
    assert.deepEqual(fed.map((argv) => argv[0].toLowerCase()), [
      "multi",
      "rpush",
      "pexpireat",
      "exec",
      "del",
    ]);
  });
});

Deno.test("clients held by CLIENT PAUSE WRITE count in blocked_clients", async () => {
  await withServer(3, async (t, [a, b, w]) => {
    assert.equal(await w.call("CLIENT", "PAUSE", 60000, "WRITE"), "OK");
    await send(a, "SET", "foo", "bar");
    await send(b, "PFCOUNT", "hll");
    await waitFor(async () =>
      (await w.call("INFO", "clients") as string).includes("blocked_clients:2")
    );
    assert.equal(await w.call("GET", "foo"), null);
    assert.equal(await w.call("CLIENT", "UNPAUSE"), "OK");
    assert.equal(await a.read(), "OK");
    assert.equal(await b.read(), 0);
    assert.equal(t.server.blocking.blockedCount, 0);
  });
});
