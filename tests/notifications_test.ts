import assert from "node:assert/strict";
import {
  type Reply,
  RespClient,
  RespError,
  startRealRedis,
  startRedeno,
  waitFor,
} from "./helpers.ts";
import { IGNORE_SIDE_BY_SIDE } from "./side_by_side.ts";

/** Subscribes to every keyspace channel plus a "done" marker channel. */
async function listen(port: number): Promise<{ sub: RespClient; client: RespClient }> {
  const sub = await RespClient.connect(port);
  await sub.call("PSUBSCRIBE", "__key*__:*");
  await sub.call("SUBSCRIBE", "done");
  const client = await RespClient.connect(port);
  return { sub, client };
}

/** Reads messages until the "done" marker. */
async function drain(sub: RespClient): Promise<Reply[]> {
  const out: Reply[] = [];
  for (;;) {
    const m = await sub.read() as Reply[];
    if (m[0] === "message" && m[1] === "done") return out;
    out.push(m);
  }
}

const SCENARIO: string[][] = [
  ["SET", "s", "1"],
  ["INCR", "s"],
  ["APPEND", "s", "x"],
  ["LPUSH", "l", "a", "b"],
  ["RPOP", "l"],
  ["RPOP", "l"],
  ["HSET", "h", "f", "v"],
  ["SADD", "set", "m"],
  ["ZADD", "z", "1", "m"],
  ["XADD", "x", "1-0", "f", "v"],
  ["XGROUP", "CREATE", "x", "g", "0"],
  ["XADD", "x", "MAXLEN", "1", "2-0", "f", "v"],
  ["XADD", "x", "3-0", "f", "v"],
  ["XDEL", "x", "2-0", "9-0"],
  ["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "x", ">"],
  ["XCLAIM", "x", "g", "bob", "0", "3-0"],
  ["XGROUP", "CREATECONSUMER", "x", "g", "carol"],
  ["XGROUP", "DELCONSUMER", "x", "g", "alice"],
  ["XGROUP", "SETID", "x", "g", "0"],
  ["XSETID", "x", "5-0"],
  ["XGROUP", "DESTROY", "x", "g"],
  ["XTRIM", "x", "MAXLEN", "0"],
  ["EXPIRE", "s", "100"],
  ["PERSIST", "s"],
  ["RENAME", "s", "s2"],
  ["DEL", "s2", "h"],
  ["SELECT", "3"],
  ["SET", "db3", "v"],
];

Deno.test({
  name: "keyspace and keyevent messages for several families match Redis",
  ignore: IGNORE_SIDE_BY_SIDE,
  fn: async () => {
    const t = await startRedeno(["--notify-keyspace-events", "KEA"]);
    const r = await startRealRedis(["--notify-keyspace-events", "KEA"]);
    const ours = await listen(t.port);
    const real = await listen(r.port);
    try {
      for (const side of [ours, real]) {
        for (const cmd of SCENARIO) await side.client.call(...cmd);
        await side.client.call("PUBLISH", "done", "1");
      }
      const [a, b] = [await drain(ours.sub), await drain(real.sub)];
      assert.ok(a.length > 20);
      assert.deepEqual(a, b);
    } finally {
      for (const s of [ours, real]) {
        s.sub.close();
        s.client.close();
      }
      await r.stop();
      await t.stop();
    }
  },
});

Deno.test("expired keys send 'expired' and only the configured classes are sent", async () => {
  const t = await startRedeno();
  const { sub, client } = await listen(t.port);
  try {
    assert.equal(await client.call("CONFIG", "SET", "notify-keyspace-events", "Elgx"), "OK");
    assert.deepEqual(await client.call("CONFIG", "GET", "notify-keyspace-events"), [
      "notify-keyspace-events",
      "glxE",
    ]);
    assert.deepEqual(
      await client.call("CONFIG", "SET", "notify-keyspace-events", "Q"),
      new RespError(
        "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
      ),
    );
    await client.call("SET", "str", "v"); // "$" is not enabled: no message
    await client.call("RPUSH", "list", "a");
    await client.call("SET", "gone", "v", "PX", "1");
    await waitFor(async () => await client.call("EXISTS", "gone") === 0);
    await client.call("PUBLISH", "done", "1");
    assert.deepEqual(await drain(sub), [
      ["pmessage", "__key*__:*", "__keyevent@0__:rpush", "list"],
      ["pmessage", "__key*__:*", "__keyevent@0__:expire", "gone"], // SET PX is "g" expire
      ["pmessage", "__key*__:*", "__keyevent@0__:expired", "gone"],
    ]);
    assert.equal(await client.call("CONFIG", "SET", "notify-keyspace-events", "KEA"), "OK");
    assert.deepEqual(await client.call("CONFIG", "GET", "notify-keyspace-events"), [
      "notify-keyspace-events",
      "AKE",
    ]);
    assert.equal(await client.call("CONFIG", "SET", "notify-keyspace-events", ""), "OK");
    await client.call("SET", "quiet", "v");
    await client.call("PUBLISH", "done", "1");
    assert.deepEqual(await drain(sub), []);
  } finally {
    sub.close();
    client.close();
    await t.stop();
  }
});

Deno.test({
  name: "'new' and 'keymiss' events (classes n and m, n kept alongside A) match Redis",
  ignore: IGNORE_SIDE_BY_SIDE,
  fn: async () => {
    const t = await startRedeno();
    const r = await startRealRedis();
    const ours = await listen(t.port);
    const real = await listen(r.port);
    const steps: string[][] = [
      ["CONFIG", "SET", "notify-keyspace-events", "AnKEm"],
      ["CONFIG", "GET", "notify-keyspace-events"],
      ["SET", "a", "1"],
      ["SET", "a", "2"],
      ["GET", "missing"],
      ["EXISTS", "missing", "a"],
      ["HGET", "nohash", "f"],
      ["LPUSH", "l", "x"],
      ["RENAME", "a", "b"],
      ["COPY", "b", "c"],
      // a TTL no expiry cycle can reach during the test: only SET's "expire" event,
      // never a timing-dependent "expired" one on one side only
      ["SET", "e", "v", "PX", "100000"],
      ["CONFIG", "SET", "notify-keyspace-events", "nE"],
      ["SET", "f", "v"],
      ["GET", "nothing"],
    ];
    try {
      const replies: Reply[][] = [[], []];
      for (const [i, side] of [ours, real].entries()) {
        for (const cmd of steps) replies[i].push(await side.client.call(...cmd));
        await side.client.call("PUBLISH", "done", "1");
      }
      assert.deepEqual(replies[0], replies[1]);
      const [a, b] = [await drain(ours.sub), await drain(real.sub)];
      assert.ok(a.some((m) => (m as string[])[3] === "keymiss"));
      assert.ok(a.some((m) => (m as string[])[2] === "__keyevent@0__:new"));
      assert.deepEqual(a, b);
    } finally {
      for (const s of [ours, real]) {
        s.sub.close();
        s.client.close();
      }
      await r.stop();
      await t.stop();
    }
  },
});
