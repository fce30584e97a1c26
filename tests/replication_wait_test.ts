/**
 * Scenario 4: WAIT and min-replicas-to-write, with one of two replicas stalled by the
 * proxy. WAIT returns at once when enough replicas acknowledged the client's last
 * write, otherwise blocks until ACKs arrive or the timeout, and then returns the count.
 */
import assert from "node:assert/strict";
import {
  HAVE_REDIS,
  RespClient,
  RespError,
  startRealRedis,
  startRedeno,
  type TestProcess,
  type TestServer,
  waitFor,
} from "./helpers.ts";
import { Proxy } from "./proxy.ts";
import { infoField, waitInSync, waitLinkUp } from "./replication_util.ts";

interface Trio {
  primary: TestServer;
  pc: RespClient;
  fast: TestServer | TestProcess;
  slow: TestServer;
  proxy: Proxy;
  replicas: RespClient[];
  close(): Promise<void>;
}

/** A primary with a direct replica (a real redis-server when available) and a proxied one. */
async function trio(primaryArgs: string[] = []): Promise<Trio> {
  const primary = await startRedeno(["--repl-diskless-sync-delay", "0", ...primaryArgs]);
  const proxy = Proxy.start(primary.port);
  const of = ["--replicaof", "127.0.0.1"];
  const fast = HAVE_REDIS
    ? await startRealRedis([...of, String(primary.port)])
    : await startRedeno([...of, String(primary.port)]);
  const slow = await startRedeno([...of, String(proxy.port)]);
  const pc = await RespClient.connect(primary.port);
  const replicas = [await RespClient.connect(fast.port), await RespClient.connect(slow.port)];
  for (const r of replicas) await waitLinkUp(r);
  await waitFor(async () => (await infoField(pc, "connected_slaves")) === "2");
  return {
    primary,
    pc,
    fast,
    slow,
    proxy,
    replicas,
    async close() {
      pc.close();
      for (const r of replicas) r.close();
      await slow.stop();
      await fast.stop();
      await proxy.close();
      await primary.stop();
    },
  };
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const r = await f();
  return [r, performance.now() - start];
}

Deno.test("scenario 4: WAIT returns at once when the replicas already acknowledged the write", async () => {
  const t = await trio();
  try {
    // no write yet on this connection: nothing to wait for
    const [none, quick] = await timed(() => t.pc.call("WAIT", "2", "5000"));
    assert.equal(none, 2);
    assert.ok(quick < 2000, `took ${quick} ms`); // far below the 5000 ms timeout
    assert.equal(await t.pc.call("SET", "k", "v"), "OK");
    assert.equal(await t.pc.call("WAIT", "2", "5000"), 2);
    // already acknowledged: answered without a round trip
    const [again, ms] = await timed(() => t.pc.call("WAIT", "2", "0"));
    assert.equal(again, 2);
    assert.ok(ms < 2000, `took ${ms} ms`); // WAIT 0 would otherwise block for good
    // more replicas than exist: the timeout decides, the reply is the count
    const [count, waited] = await timed(() => t.pc.call("WAIT", "3", "300"));
    assert.equal(count, 2);
    assert.ok(waited >= 250, `waited ${waited} ms`);
  } finally {
    await t.close();
  }
});

Deno.test("scenario 4: WAIT with a stalled replica honours the timeout and returns the count", async () => {
  const t = await trio();
  try {
    await waitInSync(t.pc, t.replicas);
    t.proxy.stall(true);
    assert.equal(await t.pc.call("SET", "k", "1"), "OK");
    const [count, ms] = await timed(() => t.pc.call("WAIT", "2", "500"));
    assert.equal(count, 1);
    assert.ok(ms >= 450 && ms < 3000, `waited ${ms} ms`);
    // enough with one: at once
    assert.equal(await t.pc.call("WAIT", "1", "0"), 1);
    // a blocked WAIT is released by the ACK that follows the unstall
    const waiting = t.pc.call("WAIT", "2", "0");
    await new Promise((r) => setTimeout(r, 100));
    t.proxy.stall(false);
    assert.equal(await waiting, 2);
  } finally {
    await t.close();
  }
});

Deno.test("scenario 4: min-replicas-to-write refuses writes while a replica lags", async () => {
  const t = await trio(["--min-replicas-to-write", "2", "--min-replicas-max-lag", "1"]);
  try {
    assert.equal(await t.pc.call("SET", "ok", "1"), "OK");
    t.proxy.stall(true);
    await waitFor(async () => (await infoField(t.pc, "min_slaves_good_slaves")) === "1", {
      what: "one good replica",
    });
    assert.deepEqual(
      await t.pc.call("SET", "refused", "1"),
      new RespError("NOREPLICAS Not enough good replicas to write."),
    );
    assert.equal(await t.pc.call("GET", "ok"), "1");
    assert.equal(await t.pc.call("CONFIG", "SET", "min-replicas-to-write", "1"), "OK");
    assert.equal(await t.pc.call("SET", "accepted", "1"), "OK");
  } finally {
    t.proxy.stall(false);
    await t.close();
  }
});

Deno.test({
  name: "WAIT argument errors, MULTI and replicas behave as in Redis",
  ignore: !HAVE_REDIS,
  async fn() {
    const ours = await startRedeno();
    const real = await startRealRedis();
    const a = await RespClient.connect(ours.port);
    const b = await RespClient.connect(real.port);
    let replica: TestServer | null = null;
    try {
      const cases: Array<Array<string | number>> = [
        ["WAIT", "x", "0"],
        ["WAIT", "1", "x"],
        ["WAIT", "1", "-1"],
        ["WAIT", "1", "1.5"],
        ["WAIT", "0", "0"],
        ["WAIT", "1"],
        ["REPLCONF", "a"],
        ["REPLCONF", "foo", "bar"],
        ["REPLCONF", "listening-port", "x"],
        ["REPLCONF", "listening-port", "1", "capa", "eof"],
        ["REPLICAOF", "localhost", "x"],
        ["REPLICAOF", "localhost", "70000"],
        ["REPLICAOF", "NO", "ONE"],
        ["ROLE"],
        ["FAILOVER"],
        ["FAILOVER", "ABORT"],
        ["FAILOVER", "FORCE"],
        ["FAILOVER", "TIMEOUT", "0"],
        ["FAILOVER", "TO", "127.0.0.1", "1"],
        ["FAILOVER", "bogus"],
        ["PSYNC", "?", "x"],
      ];
      for (const cmd of cases) {
        const x = await a.call(...cmd);
        const y = await b.call(...cmd);
        if (cmd[0] === "ROLE") {
          assert.deepEqual((x as unknown[]).length, (y as unknown[]).length);
          continue;
        }
        assert.deepEqual(x, y, `${cmd.join(" ")}`);
      }
      assert.deepEqual(
        await a.pipeline([["MULTI"], ["SET", "k", "v"], ["WAIT", "1", "0"], ["EXEC"]]),
        await b.pipeline([["MULTI"], ["SET", "k", "v"], ["WAIT", "1", "0"], ["EXEC"]]),
      );
      replica = await startRedeno(["--replicaof", "127.0.0.1", String(real.port)]);
      const rc = await RespClient.connect(replica.port);
      try {
        assert.deepEqual(
          await rc.call("WAIT", "1", "0"),
          new RespError(
            "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.",
          ),
        );
      } finally {
        rc.close();
      }
    } finally {
      a.close();
      b.close();
      await replica?.stop();
      await real.stop();
      await ours.stop();
    }
  },
});
