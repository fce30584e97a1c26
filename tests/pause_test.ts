/**
 * CLIENT PAUSE WRITE and what it holds beyond plain writes, checked side by side with
 * redis-server where one is installed: scripts that may write (EVAL without a shebang,
 * or declaring writes) wait while `no-writes` scripts run; a read-only script refuses
 * may-replicate commands such as PUBLISH; expired keys are hidden but not deleted while
 * paused; and on a replica the master's stream is read but not applied until UNPAUSE.
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
import { info, waitLinkUp } from "./replication_util.ts";

/** Runs `body` against Redeno, and against redis-server when installed. */
async function bothServers(body: (port: number, name: string) => Promise<void>): Promise<void> {
  const redeno = await startRedeno();
  try {
    await body(redeno.port, "redeno");
  } finally {
    await redeno.stop();
  }
  if (!HAVE_REDIS) return;
  const redis = await startRealRedis();
  try {
    await body(redis.port, "redis");
  } finally {
    await redis.stop();
  }
}

async function blockedClients(c: RespClient): Promise<number> {
  return Number((await info(c, "clients")).get("blocked_clients"));
}

Deno.test("CLIENT PAUSE WRITE holds scripts that may write and lets no-writes scripts run", async () => {
  await bothServers(async (port, name) => {
    const admin = await RespClient.connect(port);
    const plain = await RespClient.connect(port);
    const declared = await RespClient.connect(port);
    const multi = await RespClient.connect(port);
    try {
      assert.equal(await admin.call("SET", "x", "y"), "OK");
      assert.equal(await multi.call("MULTI"), "OK");
      assert.equal(await multi.call("EVAL", "#!lua\nreturn 3", "0"), "QUEUED");
      assert.equal(await admin.call("CLIENT", "PAUSE", "60000", "WRITE"), "OK");
      // read-only scripts run during the pause, cached or not, EVAL_RO and EVALSHA too
      const ro = "#!lua flags=no-writes\nreturn 'ro ' .. redis.call('get', KEYS[1])";
      assert.equal(await admin.call("EVAL", ro, "1", "x"), "ro y", name);
      assert.equal(await admin.call("EVAL", ro, "1", "x"), "ro y", name);
      assert.equal(await admin.call("EVAL_RO", "return redis.call('get', 'x')", "1", "x"), "y");
      const sha = await admin.call("SCRIPT", "LOAD", "#!lua flags=no-writes\nreturn 2");
      assert.equal(await admin.call("EVALSHA", String(sha), "0"), 2, name);
      // a script without a shebang may write, and so may one that does not declare
      // no-writes, alone or inside a transaction
      await plain.write(RespClient.encode(["EVAL", "return 1", "0"]));
      await declared.write(RespClient.encode(["EVAL", "#!lua\nreturn 2", "0"]));
      await multi.write(RespClient.encode(["EXEC"]));
      await waitFor(async () => await blockedClients(admin) === 3, { what: `${name} 3 held` });
      assert.equal(await admin.call("CLIENT", "UNPAUSE"), "OK");
      assert.equal(await plain.read(), 1, name);
      assert.equal(await declared.read(), 2, name);
      assert.deepEqual(await multi.read(), [3], name);
    } finally {
      for (const c of [admin, plain, declared, multi]) c.close();
    }
  });
});

Deno.test("a read-only script refuses may-replicate commands like PUBLISH", async () => {
  await bothServers(async (port, name) => {
    const c = await RespClient.connect(port);
    try {
      const reply = await c.call("EVAL_RO", "return redis.call('publish','ch','msg')", "0");
      assert.ok(reply instanceof RespError, name);
      assert.match(reply.message, /^ERR Write commands are not allowed from read-only scripts\./);
      const flagged = await c.call(
        "EVAL",
        "#!lua flags=no-writes\nreturn redis.call('publish','ch','msg')",
        "0",
      );
      assert.ok(flagged instanceof RespError, name);
      // a script that may write can publish
      assert.equal(await c.call("EVAL", "return redis.call('publish','ch','msg')", "0"), 0);
    } finally {
      c.close();
    }
  });
});

Deno.test("expired keys are hidden but not deleted while clients are paused", async () => {
  await bothServers(async (port, name) => {
    const c = await RespClient.connect(port);
    try {
      const expiredBefore = Number((await info(c, "stats")).get("expired_keys"));
      assert.equal(await c.call("MULTI"), "OK");
      await c.call("SET", "foo", "bar", "PX", "10");
      await c.call("SET", "bar", "foo", "PX", "10");
      await c.call("CLIENT", "PAUSE", "50000", "WRITE");
      assert.deepEqual(await c.call("EXEC"), ["OK", "OK", "OK"]);
      await waitFor(async () => await c.call("GET", "foo") === null, { what: "foo hidden" });
      assert.equal(await c.call("GET", "bar"), null);
      const stats = await info(c, "stats");
      assert.equal(Number(stats.get("expired_keys")), expiredBefore, name);
      assert.equal(await c.call("CLIENT", "UNPAUSE"), "OK");
      assert.equal(await c.call("GET", "foo"), null);
      assert.equal(await c.call("GET", "bar"), null);
      assert.equal(
        Number((await info(c, "stats")).get("expired_keys")),
        expiredBefore + 2,
        name,
      );
    } finally {
      c.close();
    }
  });
});

Deno.test("a paused replica reads its master's stream but applies it only after UNPAUSE", async () => {
  const primary: TestServer = await startRedeno([
    "--repl-ping-replica-period",
    "3600",
    "--repl-diskless-sync-delay",
    "0",
  ]);
  const replica = await startRedeno(["--replicaof", "127.0.0.1", String(primary.port)]);
  const pc = await RespClient.connect(primary.port);
  const rc = await RespClient.connect(replica.port);
  try {
    await waitLinkUp(rc);
    assert.equal(await pc.call("SET", "foo", "bar"), "OK");
    const offset = async (c: RespClient, field: string) => Number((await info(c)).get(field));
    await waitFor(async () =>
      await offset(rc, "slave_repl_offset") === await offset(pc, "master_repl_offset")
    );
    const applied = await offset(rc, "slave_repl_offset");
    assert.equal(await rc.call("CLIENT", "PAUSE", "100000", "WRITE"), "OK");
    assert.equal(await pc.call("SET", "foo2", "bar2"), "OK");
    assert.equal(await pc.call("SET", "foo3", "bar3"), "OK");
    const target = await offset(pc, "master_repl_offset");
    await waitFor(async () => await offset(rc, "slave_read_repl_offset") === target, {
      what: "stream read by the replica",
    });
    assert.equal(await offset(rc, "slave_repl_offset"), applied);
    assert.equal(await rc.call("GET", "foo2"), null);
    // reads and non-write commands still work on the paused replica
    assert.equal(await rc.call("GET", "foo"), "bar");
    assert.equal(await rc.call("CLIENT", "UNPAUSE"), "OK");
    await waitFor(async () => await offset(rc, "slave_repl_offset") === target, {
      what: "stream applied after UNPAUSE",
    });
    assert.deepEqual(await rc.call("MGET", "foo2", "foo3"), ["bar2", "bar3"]);
  } finally {
    pc.close();
    rc.close();
    await replica.stop();
    await primary.stop();
  }
});
