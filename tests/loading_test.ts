/**
 * A slow load at start (key-load-delay, Redis's test aid), checked side by side with
 * redis-server: while the dataset loads, INFO says loading:1, commands without the
 * `loading` flag get -LOADING, CONFIG SET of a loading-safe parameter works and of a
 * protected one is refused; afterwards every key is there.
 */
import assert from "node:assert/strict";
import { eachSpawnedServer, parseInfo, RespClient, RespError, waitFor } from "./helpers.ts";

Deno.test("while a slow load runs at start, clients get LOADING and loading-safe commands work", async () => {
  await eachSpawnedServer(async (spawn, name) => {
    const dir = await Deno.makeTempDir({ prefix: "redeno-loading-" });
    const keys = 20000;
    const first = await spawn(["--enable-debug-command", "yes"], dir);
    let c = await RespClient.connect(first.port);
    try {
      assert.equal(await c.call("DEBUG", "POPULATE", keys, "key"), "OK");
      assert.equal(await c.call("SAVE"), "OK");
    } finally {
      c.close();
      await first.stop();
    }
    // 20000 keys at 100 µs each: about two seconds of loading
    // (redis-server serves clients during a load every that many bytes)
    const slow = await spawn([
      "--key-load-delay",
      "100",
      "--loading-process-events-interval-bytes",
      "1024",
      "--enable-protected-configs",
      "yes",
    ], dir);
    c = await RespClient.connect(slow.port);
    try {
      const info = parseInfo(String(await c.call("INFO", "persistence")));
      assert.equal(info.get("loading"), "1", name);
      const ping = await c.call("PING");
      assert.ok(ping instanceof RespError, name);
      assert.equal(ping.message, "LOADING Redis is loading the dataset in memory");
      assert.equal(await c.call("CONFIG", "SET", "loglevel", "debug"), "OK");
      const dir2 = await c.call("CONFIG", "SET", "dir", "/tmp");
      assert.ok(dir2 instanceof RespError, name);
      assert.match(dir2.message, /^LOADING/);
      await waitFor(async () => await c.call("PING") === "PONG", {
        what: `${name} load end`,
        timeoutMs: 30000,
      });
      assert.equal(await c.call("DBSIZE"), keys);
      assert.equal(await c.call("GET", "key:123"), "value:123");
    } finally {
      c.close();
      await slow.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  });
});
