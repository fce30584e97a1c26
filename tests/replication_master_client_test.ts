/**
 * The master client on a replica (Redis: server.master): listed by CLIENT LIST with
 * flags=M, killable with CLIENT KILL TYPE master (the link comes back with a partial
 * resync), exempt from expiry hiding; keys written by a writable replica's own clients
 * expire there; DEBUG POPULATE and the replication byte counters.
 */
import assert from "node:assert/strict";
import {
  HAVE_REDIS,
  RespClient,
  RespError,
  startRealRedis,
  startRedeno,
  type TestServer,
  waitFor,
} from "./helpers.ts";
import { info, waitInSync, waitLinkUp } from "./replication_util.ts";

async function pair(): Promise<{
  primary: TestServer;
  replica: TestServer;
  pc: RespClient;
  rc: RespClient;
  stop: () => Promise<void>;
}> {
  const primary = await startRedeno(["--repl-diskless-sync-delay", "0"]);
  const replica = await startRedeno(["--replicaof", "127.0.0.1", String(primary.port)]);
  const pc = await RespClient.connect(primary.port);
  const rc = await RespClient.connect(replica.port);
  await waitLinkUp(rc);
  return {
    primary,
    replica,
    pc,
    rc,
    stop: async () => {
      pc.close();
      rc.close();
      await replica.stop();
      await primary.stop();
    },
  };
}

Deno.test("the master link is listed with flags=M and CLIENT KILL TYPE master reconnects it with a partial resync", async () => {
  const { pc, rc, stop } = await pair();
  try {
    assert.equal(await pc.call("SET", "a", "1"), "OK");
    await waitInSync(pc, [rc]);
    const list = String(await rc.call("CLIENT", "LIST", "TYPE", "master"));
    const lines = list.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 1);
    assert.match(lines[0], / flags=M /);
    assert.match(lines[0], / cmd=set /);
    const partialBefore = Number((await info(pc, "stats")).get("sync_partial_ok"));
    assert.equal(await rc.call("CLIENT", "KILL", "TYPE", "master"), 1);
    await waitFor(
      async () => (await info(pc, "stats")).get("sync_partial_ok") !== String(partialBefore),
      {
        what: "partial resync after the kill",
      },
    );
    await waitLinkUp(rc);
    assert.equal(await pc.call("SET", "b", "2"), "OK");
    await waitInSync(pc, [rc]);
    assert.equal(await rc.call("GET", "b"), "2");
    const stats = await info(rc, "stats");
    assert.ok(Number(stats.get("total_net_repl_input_bytes")) > 0);
    assert.ok(Number((await info(pc, "stats")).get("total_net_repl_output_bytes")) > 0);
  } finally {
    await stop();
  }
});

Deno.test("commands from the primary see keys the replica already considers expired", async () => {
  const { pc, rc, stop } = await pair();
  try {
    assert.equal(await pc.call("DEBUG", "SET-ACTIVE-EXPIRE", "0"), "OK");
    assert.equal(await pc.call("SET", "k", "v", "PX", "200"), "OK");
    await waitInSync(pc, [rc]);
    await waitFor(async () => (await rc.call("GET", "k")) === null, { what: "k hidden" });
    // COPY reads its source like a read command: the master client must still see it
    assert.equal(await pc.call("DEBUG", "REPLICATE", "COPY", "k", "k2"), "OK");
    assert.equal(await pc.call("DEBUG", "REPLICATE", "PERSIST", "k2"), "OK");
    await waitFor(async () => (await rc.call("GET", "k2")) === "v", { what: "k2 copied" });
    assert.equal(await rc.call("DBSIZE"), 2);
  } finally {
    await stop();
  }
});

Deno.test("a writable replica expires the volatile keys its own clients wrote, not the primary's", async () => {
  const { pc, rc, stop } = await pair();
  try {
    assert.equal(await pc.call("DEBUG", "SET-ACTIVE-EXPIRE", "0"), "OK");
    assert.equal(await pc.call("SET", "fromprimary", "1", "PX", "100"), "OK");
    await waitInSync(pc, [rc]);
    assert.equal(await rc.call("CONFIG", "SET", "replica-read-only", "no"), "OK");
    assert.equal(await rc.call("SET", "local", "1", "PX", "1000"), "OK");
    assert.equal(await rc.call("DBSIZE"), 2);
    await waitFor(async () => (await rc.call("DBSIZE")) === 1, { what: "local key expired" });
    assert.equal(await rc.call("EXISTS", "fromprimary"), 0);
    // a write by the replica's own client expires a logically expired key first
    assert.equal(await rc.call("INCR", "fromprimary"), 1);
    assert.equal(await rc.call("TTL", "fromprimary"), -1);
  } finally {
    await stop();
  }
});

Deno.test("DEBUG POPULATE creates Redis's keys and values", async () => {
  const ours = await startRedeno();
  const real = HAVE_REDIS ? await startRealRedis(["--enable-debug-command", "yes"]) : null;
  const servers = real ? [ours, real] : [ours];
  const replies: unknown[][] = [];
  try {
    for (const s of servers) {
      const c = await RespClient.connect(s.port);
      try {
        const r: unknown[] = [];
        r.push(await c.call("SET", "p:1", "keep"));
        r.push(await c.call("DEBUG", "POPULATE", "3", "p", "12"));
        r.push(await c.call("DEBUG", "POPULATE", "2"));
        r.push(await c.call("DEBUG", "POPULATE", "2", "short", "3"));
        r.push(await c.call("MGET", "p:0", "p:1", "p:2", "key:0", "key:1", "short:1"));
        r.push(await c.call("DBSIZE"));
        replies.push(r);
      } finally {
        c.close();
      }
    }
    assert.deepEqual(replies[0], [
      "OK",
      "OK",
      "OK",
      "OK",
      ["value:0\0\0\0\0\0", "keep", "value:2\0\0\0\0\0", "value:0", "value:1", "val"],
      7,
    ]);
    if (replies.length === 2) assert.deepEqual(replies[0], replies[1]);
  } finally {
    for (const s of servers) await s.stop();
  }
});

Deno.test("a replica holds its primary's stream while a script is busy and applies it after", async () => {
  const { pc, rc, replica, stop } = await pair();
  const runner = await RespClient.connect(replica.port);
  try {
    assert.equal(await rc.call("CONFIG", "SET", "lua-time-limit", "50"), "OK");
    assert.equal(await pc.call("SET", "before", "1"), "OK");
    await waitInSync(pc, [rc]);
    // busy for about a second and a half
    await runner.write(RespClient.encode([
      "EVAL",
      "local t = redis.call('time') local s = t[1] * 1000000 + t[2] " +
      "while true do local n = redis.call('time') " +
      "if n[1] * 1000000 + n[2] - s > 1500000 then break end end return 1",
      "0",
    ]));
    await waitFor(async () => {
      const r = await rc.call("PING");
      return r instanceof RespError && r.message.startsWith("BUSY");
    });
    // written while the replica is busy (before the fix, they were refused with BUSY)
    for (let i = 0; i < 200; i++) await pc.call("INCR", "counter");
    assert.equal(await runner.read(15000), 1);
    await waitInSync(pc, [rc]);
    assert.equal(await rc.call("GET", "counter"), "200");
    assert.equal(Number((await info(rc, "stats")).get("unexpected_error_replies")), 0);
  } finally {
    runner.close();
    await stop();
  }
});
