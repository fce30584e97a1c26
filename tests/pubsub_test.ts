import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { type Reply, RespClient, RespError, startRedeno, waitFor } from "./helpers.ts";
import { IGNORE_SIDE_BY_SIDE, sameOnBoth, withPair } from "./side_by_side.ts";

Deno.test({
  name: "subscribe confirmations, the RESP2 subscribed context and RESP3 pushes match Redis",
  ignore: IGNORE_SIDE_BY_SIDE,
  fn: () =>
    withPair(async (p) => {
      const raw = async (client: RespClient, cmd: string[], replies: number) => {
        await client.write(RespClient.encode(cmd));
        const out: Reply[] = [];
        for (let i = 0; i < replies; i++) out.push(await client.read());
        return out;
      };
      const same = async (cmd: string[], replies = 1) => {
        const [a, b] = await Promise.all([raw(p.ours, cmd, replies), raw(p.real, cmd, replies)]);
        assert.deepEqual(a, b, `reply to ${JSON.stringify(cmd)}`);
      };
      await same(["UNSUBSCRIBE"]);
      await same(["PUNSUBSCRIBE"]);
      await same(["SUNSUBSCRIBE"]);
      await same(["SUBSCRIBE", "a", "b", "a"], 3);
      await same(["PSUBSCRIBE", "x*"]);
      await same(["GET", "k"]);
      await same(["PING"]);
      await same(["PING", "hi"]);
      await same(["UNSUBSCRIBE", "b", "zz"], 2);
      await same(["UNSUBSCRIBE"]);
      await same(["PUNSUBSCRIBE"]);
      await same(["SSUBSCRIBE", "s1"]);
      await same(["SET", "k", "v"]);
      await same(["SUNSUBSCRIBE", "s1", "zz"], 2);
      await same(["GET", "k"]);
      await same(["PUBSUB", "NUMPAT"]);
      await same(["PUBSUB", "HELP"]);
      await same(["PUBSUB", "CHANNELS", "a", "b"]);
      await same(["PUBSUB", "NUMSUB", "a", "nobody"]);
      await same(["PUBSUB", "SHARDNUMSUB", "s1"]);
      await same(["HELLO", "3"].concat([]), 1).catch(() => {}); // ids differ: not compared
      await same(["SUBSCRIBE", "q"]);
      await same(["GET", "k"]);
      await same(["PING"]);
      await same(["UNSUBSCRIBE", "q", "zz"], 2);
      await same(["UNSUBSCRIBE"]);
      await same(["PUBLISH", "q", "nobody"]);
      await same(["SUBSCRIBE"]);
    }),
});

Deno.test("a publisher reaches many channel and pattern subscribers, counted in the reply", async () => {
  const t = await startRedeno();
  const publisher = await RespClient.connect(t.port);
  const subs: RespClient[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      const s = await RespClient.connect(t.port);
      subs.push(s);
      assert.deepEqual(await s.call("SUBSCRIBE", "news", `own${i}`), ["subscribe", "news", 1]);
      assert.deepEqual(await s.read(), ["subscribe", `own${i}`, 2]);
    }
    const psub = await RespClient.connect(t.port);
    subs.push(psub);
    assert.deepEqual(await psub.call("PSUBSCRIBE", "n?ws", "own[0-4]"), ["psubscribe", "n?ws", 1]);
    assert.deepEqual(await psub.read(), ["psubscribe", "own[0-4]", 2]);
    assert.equal(await publisher.call("PUBLISH", "news", "hello\x00\xff"), 21);
    for (let i = 0; i < 20; i++) {
      assert.deepEqual(await subs[i].read(), ["message", "news", "hello\x00\xff"]);
    }
    assert.deepEqual(await psub.read(), ["pmessage", "n?ws", "news", "hello\x00\xff"]);
    assert.equal(await publisher.call("PUBLISH", "own3", "x"), 2);
    assert.deepEqual(await subs[3].read(), ["message", "own3", "x"]);
    assert.deepEqual(await psub.read(), ["pmessage", "own[0-4]", "own3", "x"]);
    assert.equal(await publisher.call("PUBLISH", "nobody", "x"), 0);
    assert.deepEqual(await publisher.call("PUBSUB", "NUMSUB", "news", "own1"), [
      "news",
      20,
      "own1",
      1,
    ]);
    assert.equal(await publisher.call("PUBSUB", "NUMPAT"), 2);
    const channels = await publisher.call("PUBSUB", "CHANNELS", "own1*") as string[];
    assert.deepEqual(channels.sort(), [
      "own1",
      "own10",
      "own11",
      "own12",
      "own13",
      "own14",
      "own15",
      "own16",
      "own17",
      "own18",
      "own19",
    ]);
    // a disconnected subscriber is forgotten
    subs[0].close();
    await waitFor(async () =>
      (await publisher.call("PUBSUB", "NUMSUB", "news"))?.toString() === "news,19"
    );
    assert.equal(await publisher.call("PUBLISH", "news", "again"), 20);
  } finally {
    publisher.close();
    for (const s of subs) s.close();
    await t.stop();
  }
});

Deno.test("RESP3 subscribers get push frames and can run any command meanwhile", async () => {
  const t = await startRedeno();
  const sub = await RespClient.connect(t.port);
  const publisher = await RespClient.connect(t.port);
  try {
    await sub.call("HELLO", "3");
    assert.deepEqual(await sub.call("SUBSCRIBE", "ch"), { push: ["subscribe", "ch", 1] });
    assert.deepEqual(await sub.call("SSUBSCRIBE", "sh"), { push: ["ssubscribe", "sh", 1] });
    assert.equal(await sub.call("SET", "k", "v"), "OK");
    assert.equal(await publisher.call("PUBLISH", "ch", "m1"), 1);
    assert.equal(await publisher.call("SPUBLISH", "sh", "m2"), 1);
    assert.deepEqual(await sub.read(), { push: ["message", "ch", "m1"] });
    assert.deepEqual(await sub.read(), { push: ["smessage", "sh", "m2"] });
    assert.equal(await sub.call("GET", "k"), "v");
    assert.deepEqual(await publisher.call("PUBSUB", "SHARDCHANNELS"), ["sh"]);
    assert.equal(await sub.call("RESET"), "RESET");
    assert.deepEqual(await publisher.call("PUBSUB", "NUMSUB", "ch"), ["ch", 0]);
    assert.deepEqual(await publisher.call("PUBSUB", "SHARDNUMSUB", "sh"), ["sh", 0]);
    assert.equal(await publisher.call("PUBLISH", "ch", "m3"), 0);
  } finally {
    sub.close();
    publisher.close();
    await t.stop();
  }
});

Deno.test("a subscriber that does not read is disconnected at the pubsub output limit while PUBLISH stays fast", async () => {
  const t = await startRedeno(["--client-output-buffer-limit", "pubsub 1mb 256kb 60"]);
  const slow = await RespClient.connect(t.port);
  const fast = await RespClient.connect(t.port);
  const publisher = await RespClient.connect(t.port);
  try {
    assert.deepEqual(await slow.call("SUBSCRIBE", "firehose"), ["subscribe", "firehose", 1]);
    assert.deepEqual(await fast.call("SUBSCRIBE", "firehose"), ["subscribe", "firehose", 1]);
    const payload = "x".repeat(64 * 1024);
    const start = performance.now();
    let fastReceived = 0;
    const reader = (async () => {
      while (fastReceived < 400) {
        const m = await fast.read();
        if (Array.isArray(m) && m[0] === "message") fastReceived++;
      }
    })();
    let lastCount = 2;
    for (let i = 0; i < 400; i++) {
      lastCount = await publisher.call("PUBLISH", "firehose", payload) as number;
    }
    const elapsed = performance.now() - start;
    assert.equal(lastCount, 1, "the slow subscriber was dropped");
    assert.ok(elapsed < 5000, `400 publishes took ${elapsed} ms`);
    assert.equal(await slow.closedByServer(5000), true);
    assert.deepEqual(await publisher.call("PUBSUB", "NUMSUB", "firehose"), ["firehose", 1]);
    await reader;
    assert.equal(fastReceived, 400);
  } finally {
    slow.close();
    fast.close();
    publisher.close();
    await t.stop();
  }
});

Deno.test("PUBLISH and SPUBLISH are propagated to replicas only, not to other sinks (AOF)", async () => {
  const t = await startRedeno();
  const seen: string[] = [];
  const aofLike: string[] = [];
  t.server.sinks.push({
    replication: true,
    feed(_db, bytes) {
      seen.push(String.fromCharCode(...bytes));
    },
  }, {
    feed(_db, bytes) {
      aofLike.push(String.fromCharCode(...bytes));
    },
  });
  const c = await RespClient.connect(t.port);
  try {
    assert.equal(await c.call("PUBLISH", "ch", "m"), 0);
    assert.equal(await c.call("SPUBLISH", "sh", "m"), 0);
    assert.deepEqual(seen, [
      "*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$1\r\nm\r\n",
      "*3\r\n$8\r\nSPUBLISH\r\n$2\r\nsh\r\n$1\r\nm\r\n",
    ]);
    assert.deepEqual(aofLike, []);
    assert.deepEqual(
      await c.call("PUBSUB", "CHANNELS", "a", "b"),
      new RespError(
        "ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.",
      ),
    );
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("a subscriber over the soft limit for longer than its seconds is disconnected by the cron", async () => {
  const t = await startRedeno();
  const slow = await RespClient.connect(t.port);
  const publisher = await RespClient.connect(t.port);
  try {
    assert.equal(
      await publisher.call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 0 64kb 1"),
      "OK",
    );
    assert.deepEqual(await slow.call("SUBSCRIBE", "c"), ["subscribe", "c", 1]);
    const payload = "y".repeat(256 * 1024);
    // fill the socket buffers, then stay above the soft limit without more traffic
    const start = Date.now();
    for (let i = 0; i < 64; i++) await publisher.call("PUBLISH", "c", payload);
    // (reading the subscriber's socket would drain it: watch from the server side)
    await waitFor(
      async () => String(await publisher.call("PUBSUB", "NUMSUB", "c")) === "c,0",
      { timeoutMs: 6000, what: "the slow subscriber to be dropped" },
    );
    assert.ok(Date.now() - start >= 900, "closed before the soft limit's seconds elapsed");
    assert.equal(await slow.closedByServer(6000), true);
  } finally {
    slow.close();
    publisher.close();
    await t.stop();
  }
});

Deno.test("ioredis subscribers receive channel and pattern messages from an ioredis publisher", async () => {
  const t = await startRedeno();
  const sub = new Redis({ port: t.port, lazyConnect: true });
  const pub = new Redis({ port: t.port, lazyConnect: true });
  try {
    await sub.connect();
    await pub.connect();
    const got: string[] = [];
    sub.on("message", (channel: string, message: string) => got.push(`${channel}:${message}`));
    sub.on(
      "pmessage",
      (pattern: string, channel: string, message: string) =>
        got.push(`${pattern}|${channel}:${message}`),
    );
    assert.equal(await sub.subscribe("orders", "alerts"), 2);
    assert.equal(await sub.psubscribe("ord*"), 3);
    assert.equal(await pub.publish("orders", "o1"), 2);
    assert.equal(await pub.publish("alerts", "a1"), 1);
    await waitFor(() => got.length === 3);
    assert.deepEqual(got.sort(), ["alerts:a1", "ord*|orders:o1", "orders:o1"]);
    assert.deepEqual(await pub.pubsub("NUMSUB", "orders"), ["orders", 1]);
    await sub.unsubscribe("orders");
    assert.equal(await pub.publish("orders", "o2"), 1);
  } finally {
    sub.disconnect();
    pub.disconnect();
    await t.stop();
  }
});

Deno.test("PUBLISH never reaches the append only file; writes around it do", async () => {
  const t = await startRedeno(["--appendonly", "yes", "--appendfsync", "always"]);
  const c = await RespClient.connect(t.port);
  try {
    assert.equal(await c.call("SET", "a", "1"), "OK");
    assert.equal(await c.call("PUBLISH", "ch", "hello-aof"), 0);
    assert.equal(await c.call("MULTI"), "OK");
    await c.call("PUBLISH", "ch", "in-multi");
    await c.call("SET", "b", "2");
    assert.deepEqual(await c.call("EXEC"), [0, "OK"]);
    const dir = t.server.config.get("dir") + "/" + t.server.config.get("appenddirname");
    const text = await waitFor(async () => {
      let all = "";
      for await (const f of Deno.readDir(dir)) {
        if (f.name.endsWith(".incr.aof")) all += await Deno.readTextFile(`${dir}/${f.name}`);
      }
      return all.includes("$1\r\nb\r\n") ? all : "";
    });
    assert.ok(text.includes("$1\r\na\r\n"));
    assert.ok(!text.includes("PUBLISH"), text);
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test({
  name: "subscribe confirmations and messages get through CLIENT REPLY OFF and SKIP, as Redis",
  ignore: IGNORE_SIDE_BY_SIDE,
  fn: async () => {
    const run = async (port: number): Promise<Reply[]> => {
      const c = await RespClient.connect(port);
      const pub = await RespClient.connect(port);
      try {
        const out: Reply[] = [];
        out.push(await c.call("HELLO", "3").then(() => "hello"));
        await c.write(RespClient.encode(["CLIENT", "REPLY", "OFF"]));
        await c.write(RespClient.encode(["SUBSCRIBE", "ch"]));
        out.push(await c.read());
        await c.write(RespClient.encode(["PSUBSCRIBE", "c*"]));
        out.push(await c.read());
        await c.write(RespClient.encode(["GET", "k"])); // silenced
        out.push(await pub.call("PUBLISH", "ch", "m"));
        out.push(await c.read(), await c.read());
        await c.write(RespClient.encode(["UNSUBSCRIBE", "ch"]));
        out.push(await c.read());
        await c.write(RespClient.encode(["CLIENT", "REPLY", "ON"]));
        out.push(await c.read());
        await c.write(RespClient.encode(["CLIENT", "REPLY", "SKIP"]));
        await c.write(RespClient.encode(["PUNSUBSCRIBE", "c*"]));
        out.push(await c.read());
        out.push(await c.call("PING"));
        return out;
      } finally {
        c.close();
        pub.close();
      }
    };
    const ours = await sameOnBoth(run);
    assert.equal(ours[3], 2);
  },
});
