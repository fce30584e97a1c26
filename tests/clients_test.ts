import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { hasBinary, HAVE_REDIS_CLI, redisCli, startRedeno, waitFor } from "./helpers.ts";

// ioredis and node-redis keep timers and sockets of their own until quit()
const CLIENT_TEST = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "ioredis connects, sets and gets, pipelines and runs MULTI",
  ...CLIENT_TEST,
  fn: async () => {
    const t = await startRedeno();
    const r = new Redis({ port: t.port, host: "127.0.0.1", lazyConnect: true });
    try {
      await r.connect();
      assert.equal(await r.set("k", "v"), "OK");
      assert.equal(await r.get("k"), "v");
      assert.equal(await r.get("missing"), null);
      const results = await r.pipeline().set("a", "1").get("a").ping().exec();
      assert.deepEqual(results, [[null, "OK"], [null, "1"], [null, "PONG"]]);
      const multi = await r.multi().set("m", "x").get("m").exec();
      assert.deepEqual(multi, [[null, "OK"], [null, "x"]]);
      await assert.rejects(() => r.call("NOSUCHCOMMAND"), /unknown command/);
      // ioredis 5 speaks RESP2 only (its parser rejects RESP3 types, with real Redis too):
      // its HELLO 2 handshake answer is Redis's map as a flat array
      const hello = await r.call("HELLO", "2") as unknown[];
      assert.deepEqual(hello.slice(0, 6), ["server", "redis", "version", "7.0.15", "proto", 2]);
    } finally {
      r.disconnect();
      await t.stop();
    }
  },
});

Deno.test({
  name: "node-redis v4 handshakes, sets and gets, runs MULTI and parallel pipelining",
  ...CLIENT_TEST,
  fn: async () => {
    const t = await startRedeno();
    const client = createClient({ socket: { port: t.port, host: "127.0.0.1" }, name: "nr" });
    client.on("error", () => {});
    try {
      await client.connect();
      assert.equal(await client.set("k", "v"), "OK");
      assert.equal(await client.get("k"), "v");
      const replies = await client.multi().set("a", "1").get("a").exec();
      assert.deepEqual(replies, ["OK", "1"]);
      const many = await Promise.all(
        Array.from({ length: 100 }, (_, i) => client.set(`p${i}`, String(i))),
      );
      assert.ok(many.every((x) => x === "OK"));
      const got = await Promise.all(Array.from({ length: 100 }, (_, i) => client.get(`p${i}`)));
      assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => String(i)));
      assert.equal(await client.clientGetName(), "nr");
    } finally {
      await client.quit().catch(() => {});
      await t.stop();
    }
  },
});

Deno.test({
  name: "redis-cli runs commands, bulk-loads 10k SETs with --pipe and prints RESP3 with -3",
  ignore: !HAVE_REDIS_CLI,
  fn: async () => {
    const t = await startRedeno();
    try {
      assert.equal(await redisCli(t.port, ["PING"]), "PONG");
      assert.equal(await redisCli(t.port, ["SET", "greeting", "hello world"]), "OK");
      assert.equal(await redisCli(t.port, ["GET", "greeting"]), "hello world");
      assert.equal(await redisCli(t.port, ["--no-raw", "GET", "nokey"]), "(nil)");
      let input = "";
      for (let i = 0; i < 10000; i++) {
        const key = `key:${i}`;
        const value = `value:${i}`;
        input += `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n${value}\r\n`;
      }
      const piped = await redisCli(t.port, ["--pipe"], input);
      assert.match(piped, /errors: 0, replies: 10000/);
      assert.equal(await redisCli(t.port, ["GET", "key:9999"]), "value:9999");
      assert.equal(t.server.dbs[0].size, 10001);
      const hello = await redisCli(t.port, ["-3", "--no-raw", "HELLO", "3"]);
      assert.match(hello, /1# "server" => "redis"/);
      assert.match(hello, /3# "proto" => \(integer\) 3/);
      const nil = await redisCli(t.port, ["-3", "--no-raw", "GET", "nokey"]);
      assert.equal(nil, "(nil)");
    } finally {
      await t.stop();
    }
  },
});

Deno.test({
  name: "interactive redis-cli shows argument hints built from COMMAND DOCS",
  ignore: !HAVE_REDIS_CLI || !hasBinary("tmux"),
  fn: async () => {
    const t = await startRedeno();
    const session = `redeno-cli-${t.port}`;
    const tmux = (...args: string[]) =>
      new Deno.Command("tmux", { args, stdout: "piped", stderr: "null" }).output();
    try {
      await tmux(
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        "150",
        "-y",
        "10",
        `redis-cli -p ${t.port}`,
      );
      await waitFor(async () =>
        screen(await tmux("capture-pane", "-t", session, "-p")).includes(">")
      );
      await tmux("send-keys", "-t", session, "SET mykey ");
      const text = await waitFor(async () => {
        const s = screen(await tmux("capture-pane", "-t", session, "-p"));
        return s.includes("value [NX|XX]") ? s : "";
      }, { what: "the SET hint" });
      assert.match(text, /SET mykey value \[NX\|XX\] \[GET\]/);
    } finally {
      await tmux("kill-session", "-t", session);
      await t.stop();
    }
  },
});

function screen(out: Deno.CommandOutput): string {
  return new TextDecoder().decode(out.stdout);
}
