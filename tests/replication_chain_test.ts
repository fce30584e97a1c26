/**
 * Scenario 5: chained replication primary → replica → sub-replica, mixing Redeno and
 * real redis-server at every position. The middle node relays the exact bytes it
 * applies, so the whole chain shares the replid, the offsets and the digest.
 */
import assert from "node:assert/strict";
import {
  HAVE_REDIS,
  RespClient,
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
  waitInSync,
  waitLinkUp,
} from "./replication_util.ts";

type Node = TestServer | TestProcess;

async function start(real: boolean, args: string[]): Promise<Node> {
  return real
    ? await startRealRedis([...args, "--enable-debug-command", "yes"])
    : await startRedeno(args);
}

for (
  const [name, kinds] of [
    ["ours → ours → ours", [false, false, false]],
    ["ours → real → ours", [false, true, false]],
    ["real → ours → real", [true, false, true]],
  ] as const
) {
  Deno.test({
    name: `scenario 5: chain ${name} shares replid, offsets and digest`,
    ignore: (kinds as readonly boolean[]).includes(true) && !HAVE_REDIS,
    async fn() {
      const nodes: Node[] = [];
      const clients: RespClient[] = [];
      let proxy: Proxy | null = null;
      try {
        const top = await start(kinds[0], [
          "--repl-diskless-sync-delay",
          "0",
          "--repl-ping-replica-period",
          "1",
        ]);
        nodes.push(top);
        const tc = await RespClient.connect(top.port);
        clients.push(tc);
        await pipelineAll(tc, allTypesCommands(1000));
        proxy = Proxy.start(top.port);
        const middle = await start(kinds[1], [
          "--replicaof",
          "127.0.0.1",
          String(proxy.port),
          "--repl-diskless-sync-delay",
          "0",
        ]);
        nodes.push(middle);
        const mc = await RespClient.connect(middle.port);
        clients.push(mc);
        await waitLinkUp(mc);
        const bottom = await start(kinds[2], ["--replicaof", "127.0.0.1", String(middle.port)]);
        nodes.push(bottom);
        const bc = await RespClient.connect(bottom.port);
        clients.push(bc);
        await waitLinkUp(bc);
        await pipelineAll(tc, allTypesCommands(500, "live:"));
        await tc.pipeline([
          ["MULTI"],
          ["INCR", "n"],
          ["SADD", "s", "x"],
          ["EXEC"],
          ["SELECT", "2"],
          ["SET", "db2", "v"],
          ["SELECT", "0"],
        ]);
        await waitInSync(tc, [mc]);
        await waitInSync(mc, [bc]);
        const ti = await info(tc);
        const bi = await info(bc);
        assert.equal(bi.get("master_replid"), ti.get("master_replid"));
        assert.equal(bi.get("master_repl_offset"), ti.get("master_repl_offset"));
        const expected = await digest(tc);
        assert.equal(await digest(mc), expected);
        assert.equal(await digest(bc), expected);
        // the middle link breaks: the middle node continues partially and keeps its replica
        proxy.setDown(true);
        proxy.cut();
        await waitFor(async () => (await infoField(mc, "master_link_status")) === "down");
        await tc.call("SET", "while-middle-down", "1");
        proxy.setDown(false);
        await waitLinkUp(mc);
        await waitInSync(tc, [mc]);
        await waitInSync(mc, [bc]);
        assert.equal(await bc.call("GET", "while-middle-down"), "1");
        assert.equal(await infoField(tc, "sync_partial_ok", "stats"), "1");
        assert.equal(await infoField(mc, "sync_full", "stats"), "1");
        assert.equal(await digest(bc), await digest(tc));
      } catch (e) {
        for (const n of nodes) if ("pid" in n) await dumpLog(n);
        throw e;
      } finally {
        for (const c of clients) c.close();
        for (const n of nodes.reverse()) await n.stop();
        await proxy?.close();
      }
    },
  });
}
