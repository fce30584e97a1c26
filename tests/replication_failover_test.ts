/**
 * Scenario 6: promotion. A replica promoted with REPLICAOF NO ONE keeps the old history
 * as replid2, so its former siblings and the old primary, re-pointed at it, continue
 * with a partial resync. FAILOVER does the same switch in a coordinated way, in both
 * directions between Redeno and a real redis-server.
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
import {
  allTypesCommands,
  digest,
  dumpLog,
  info,
  infoField,
  pipelineAll,
  stat,
  waitInSync,
  waitLinkUp,
} from "./replication_util.ts";

type Node = TestServer | TestProcess;

async function start(real: boolean, args: string[] = []): Promise<Node> {
  const common = ["--repl-diskless-sync-delay", "0"];
  return real
    ? await startRealRedis([...common, ...args, "--enable-debug-command", "yes"])
    : await startRedeno([...common, ...args]);
}

Deno.test({
  name: "scenario 6: a promoted replica lets its sibling and the old primary continue partially",
  ignore: !HAVE_REDIS,
  async fn() {
    const nodes: Node[] = [];
    const clients: RespClient[] = [];
    try {
      // no PING from the old primary after the promotion: it would (correctly) move its
      // own and the sibling's offsets past the promoted node's history and force full
      // resyncs; Redis's psync2 tests guard the same race the same way
      const old = await start(false, ["--repl-ping-replica-period", "3600"]);
      nodes.push(old);
      const oc = await RespClient.connect(old.port);
      clients.push(oc);
      await pipelineAll(oc, allTypesCommands(1000));
      const promoted = await start(false, ["--replicaof", "127.0.0.1", String(old.port)]);
      const sibling = await start(true, ["--replicaof", "127.0.0.1", String(old.port)]);
      nodes.push(promoted, sibling);
      const pc = await RespClient.connect(promoted.port);
      const sc = await RespClient.connect(sibling.port);
      clients.push(pc, sc);
      await waitLinkUp(pc);
      await waitLinkUp(sc);
      await oc.call("SET", "before", "1");
      await waitInSync(oc, [pc, sc]);
      const history = await info(oc);

      assert.equal(await pc.call("REPLICAOF", "NO", "ONE"), "OK");
      const promotedInfo = await info(pc);
      assert.equal(promotedInfo.get("role"), "master");
      assert.equal(promotedInfo.get("master_replid2"), history.get("master_replid"));
      assert.equal(
        promotedInfo.get("second_repl_offset"),
        String(Number(history.get("master_repl_offset")) + 1),
      );
      assert.notEqual(promotedInfo.get("master_replid"), history.get("master_replid"));
      await pc.call("SET", "after-promotion", "1");

      assert.equal(await sc.call("REPLICAOF", "127.0.0.1", String(promoted.port)), "OK");
      assert.equal(await oc.call("REPLICAOF", "127.0.0.1", String(promoted.port)), "OK");
      await waitInSync(pc, [sc, oc]);
      assert.equal(await stat(pc, "sync_partial_ok"), 2);
      assert.equal(await stat(pc, "sync_full"), 0);
      assert.equal(await sc.call("GET", "after-promotion"), "1");
      assert.equal(await oc.call("GET", "after-promotion"), "1");
      const expected = await digest(pc);
      assert.equal(await digest(sc), expected);
      assert.equal(await digest(oc), expected);
      assert.deepEqual((await oc.call("ROLE") as unknown[]).slice(0, 4), [
        "slave",
        "127.0.0.1",
        promoted.port,
        "connected",
      ]);
    } catch (e) {
      for (const n of nodes) if ("pid" in n) await dumpLog(n);
      throw e;
    } finally {
      for (const c of clients) c.close();
      for (const n of nodes.reverse()) await n.stop();
    }
  },
});

for (
  const [name, primaryReal, targetReal] of [
    ["ours to ours", false, false],
    ["ours to a real redis-server", false, true],
    ["a real redis-server to ours", true, false],
  ] as const
) {
  Deno.test({
    name: `scenario 6: FAILOVER TO switches roles with a partial resync (${name})`,
    ignore: (primaryReal || targetReal) && !HAVE_REDIS,
    async fn() {
      const nodes: Node[] = [];
      const clients: RespClient[] = [];
      try {
        const primary = await start(primaryReal);
        nodes.push(primary);
        const pc = await RespClient.connect(primary.port);
        clients.push(pc);
        await pipelineAll(pc, allTypesCommands(500));
        const target = await start(targetReal, ["--replicaof", "127.0.0.1", String(primary.port)]);
        nodes.push(target);
        const tc = await RespClient.connect(target.port);
        clients.push(tc);
        await waitLinkUp(tc);
        await waitInSync(pc, [tc]);
        await waitFor(async () => (await infoField(pc, "slave0")).includes("state=online"));
        assert.equal(await pc.call("FAILOVER", "TO", "127.0.0.1", String(target.port)), "OK");
        await waitFor(async () => (await infoField(tc, "role")) === "master", {
          what: "target promoted",
        });
        await waitFor(async () => (await infoField(pc, "master_failover_state")) === "no-failover");
        await waitLinkUp(pc);
        assert.equal(await infoField(pc, "role"), "slave");
        assert.equal(await tc.call("SET", "written-on-new-primary", "1"), "OK");
        await waitInSync(tc, [pc]);
        assert.equal(await pc.call("GET", "written-on-new-primary"), "1");
        assert.equal(await stat(tc, "sync_partial_ok"), 1);
        assert.equal(await stat(tc, "sync_full"), 0);
        assert.equal(await digest(pc), await digest(tc));
      } catch (e) {
        for (const n of nodes) if ("pid" in n) await dumpLog(n);
        throw e;
      } finally {
        for (const c of clients) c.close();
        for (const n of nodes.reverse()) await n.stop();
      }
    },
  });
}

Deno.test("FAILOVER pauses writes until it aborts: by timeout without FORCE, or ABORT", async () => {
  const primary = await startRedeno(["--repl-diskless-sync-delay", "0"]);
  const proxy = Proxy.start(primary.port);
  const pc = await RespClient.connect(primary.port);
  const writer = await RespClient.connect(primary.port);
  const replica = await startRedeno(["--replicaof", "127.0.0.1", String(proxy.port)]);
  const rc = await RespClient.connect(replica.port);
  try {
    await waitLinkUp(rc);
    // the replica can never catch up while its link is stalled
    proxy.stall(true);
    assert.equal(await pc.call("FAILOVER", "TIMEOUT", "300"), "OK");
    assert.equal(await infoField(pc, "master_failover_state"), "waiting-for-sync");
    const start = performance.now();
    assert.equal(await writer.call("SET", "paused-write", "1"), "OK");
    assert.ok(performance.now() - start >= 200, "the write waited for the failover to end");
    assert.equal(await infoField(pc, "master_failover_state"), "no-failover");
    assert.equal(await infoField(pc, "role"), "master");

    assert.equal(await pc.call("FAILOVER"), "OK");
    assert.deepEqual(
      await pc.call("FAILOVER"),
      new RespError("ERR FAILOVER already in progress."),
    );
    assert.equal(await pc.call("FAILOVER", "ABORT"), "OK");
    assert.equal(await infoField(pc, "master_failover_state"), "no-failover");
    assert.equal(await writer.call("SET", "after-abort", "1"), "OK");
  } finally {
    proxy.stall(false);
    pc.close();
    writer.close();
    rc.close();
    await replica.stop();
    await proxy.close();
    await primary.stop();
  }
});
