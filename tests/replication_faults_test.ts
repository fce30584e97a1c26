/**
 * Scenario 3: link faults between a primary and its replica, injected by a TCP proxy.
 * A cut during the live stream resumes with a partial resync; a cut during the full
 * sync retries and converges; a cut longer than the backlog covers needs a full resync;
 * a silent link is detected by repl-timeout.
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
  stat,
  waitInSync,
  waitLinkUp,
} from "./replication_util.ts";

/** A primary, a proxy in front of it, and a replica connected through the proxy. */
interface Setup {
  primary: TestServer | TestProcess;
  replica: TestServer | TestProcess;
  proxy: Proxy;
  pc: RespClient;
  rc: RespClient;
  close(): Promise<void>;
}

async function setup(
  opts: {
    primaryArgs?: string[];
    replicaArgs?: string[];
    realPrimary?: boolean;
    realReplica?: boolean;
  } = {},
): Promise<Setup> {
  const primaryArgs = ["--repl-diskless-sync-delay", "0", ...(opts.primaryArgs ?? [])];
  const primary = opts.realPrimary
    ? await startRealRedis([...primaryArgs, "--enable-debug-command", "yes"])
    : await startRedeno(primaryArgs);
  const proxy = Proxy.start(primary.port);
  const replicaArgs = ["--replicaof", "127.0.0.1", String(proxy.port), ...(opts.replicaArgs ?? [])];
  const replica = opts.realReplica
    ? await startRealRedis([...replicaArgs, "--enable-debug-command", "yes"])
    : await startRedeno(replicaArgs);
  const pc = await RespClient.connect(primary.port);
  const rc = await RespClient.connect(replica.port);
  return {
    primary,
    replica,
    proxy,
    pc,
    rc,
    async close() {
      pc.close();
      rc.close();
      await replica.stop();
      await proxy.close();
      await primary.stop();
    },
  };
}

for (
  const variant of [
    { name: "our primary, our replica", realPrimary: false, realReplica: false },
    { name: "our primary, real redis-server replica", realPrimary: false, realReplica: true },
    { name: "real redis-server primary, our replica", realPrimary: true, realReplica: false },
  ]
) {
  Deno.test({
    name:
      `scenario 3: a link cut during the live stream ends in a partial resync (${variant.name})`,
    ignore: (variant.realPrimary || variant.realReplica) && !HAVE_REDIS,
    async fn() {
      const s = await setup(variant);
      try {
        await pipelineAll(s.pc, allTypesCommands(1000));
        await waitLinkUp(s.rc);
        await waitInSync(s.pc, [s.rc]);
        assert.equal(await stat(s.pc, "sync_full"), 1);
        s.proxy.setDown(true);
        s.proxy.cut();
        await waitFor(async () => (await infoField(s.rc, "master_link_status")) === "down", {
          what: "link down",
        });
        // writes while the replica is away stay in the backlog
        await pipelineAll(s.pc, allTypesCommands(300, "while-down:"));
        s.proxy.setDown(false);
        await waitLinkUp(s.rc);
        await waitInSync(s.pc, [s.rc]);
        assert.equal(await digest(s.rc), await digest(s.pc));
        assert.equal(await stat(s.pc, "sync_full"), 1);
        assert.equal(await stat(s.pc, "sync_partial_ok"), 1);
        assert.equal(await stat(s.pc, "sync_partial_err"), 0);
      } catch (e) {
        await dumpLog(variant.realPrimary ? s.primary as TestProcess : null);
        await dumpLog(variant.realReplica ? s.replica as TestProcess : null);
        throw e;
      } finally {
        await s.close();
      }
    },
  });
}

Deno.test("scenario 3: a cut during the full sync is retried until the replica converges", async () => {
  const s = await setup();
  try {
    s.proxy.setDown(true);
    s.proxy.cut();
    await pipelineAll(s.pc, allTypesCommands(5000));
    s.proxy.stallAfter(30_000);
    s.proxy.setDown(false);
    await waitFor(async () => {
      const i = await info(s.rc);
      return i.get("master_sync_in_progress") === "1" &&
        Number(i.get("master_sync_read_bytes")) > 0;
    }, { what: "transfer in progress" });
    // the proxy holds the rest: the transfer cannot finish
    assert.equal(await infoField(s.rc, "master_sync_total_bytes"), "-1");
    s.proxy.cut();
    s.proxy.stall(false);
    await waitLinkUp(s.rc);
    await waitInSync(s.pc, [s.rc]);
    assert.equal(await digest(s.rc), await digest(s.pc));
    assert.equal(await stat(s.pc, "sync_full"), 2);
  } finally {
    await s.close();
  }
});

Deno.test("scenario 3: a cut longer than the backlog covers ends in a full resync", async () => {
  const s = await setup({ primaryArgs: ["--repl-backlog-size", "16kb"] });
  try {
    await pipelineAll(s.pc, allTypesCommands(200));
    await waitLinkUp(s.rc);
    await waitInSync(s.pc, [s.rc]);
    s.proxy.setDown(true);
    s.proxy.cut();
    await waitFor(async () => (await infoField(s.rc, "master_link_status")) === "down");
    await pipelineAll(s.pc, allTypesCommands(2000, "overflow:"));
    const p = await info(s.pc);
    assert.equal(p.get("repl_backlog_histlen"), "16384");
    s.proxy.setDown(false);
    await waitLinkUp(s.rc);
    await waitInSync(s.pc, [s.rc]);
    assert.equal(await digest(s.rc), await digest(s.pc));
    assert.equal(await stat(s.pc, "sync_full"), 2);
    assert.equal(await stat(s.pc, "sync_partial_err"), 1);
    assert.equal(await stat(s.pc, "sync_partial_ok"), 0);
  } finally {
    await s.close();
  }
});

Deno.test("scenario 3: a silent link is detected by repl-timeout on both sides, then resumed partially", async () => {
  const s = await setup({
    primaryArgs: ["--repl-ping-replica-period", "1", "--repl-timeout", "2"],
    replicaArgs: ["--repl-timeout", "2"],
  });
  try {
    await waitLinkUp(s.rc);
    await s.pc.call("SET", "before", "1");
    await waitInSync(s.pc, [s.rc]);
    s.proxy.stall(true);
    await s.pc.call("SET", "during", "1");
    await waitFor(async () => (await infoField(s.rc, "master_link_status")) === "down", {
      timeoutMs: 8000,
      what: "replica notices the silent primary",
    });
    await waitFor(async () => (await infoField(s.pc, "connected_slaves")) === "0", {
      timeoutMs: 8000,
      what: "primary drops the silent replica",
    });
    s.proxy.cut();
    s.proxy.stall(false);
    await waitLinkUp(s.rc);
    await waitInSync(s.pc, [s.rc]);
    assert.equal(await s.rc.call("GET", "during"), "1");
    assert.equal(await stat(s.pc, "sync_partial_ok"), 1);
  } finally {
    await s.close();
  }
});

Deno.test("a replica past its output buffer limit is dropped and resyncs by itself", async () => {
  const s = await setup({
    primaryArgs: ["--client-output-buffer-limit", "replica 64kb 32kb 1"],
  });
  try {
    await waitLinkUp(s.rc);
    await waitInSync(s.pc, [s.rc]);
    s.proxy.stall(true);
    const big = "x".repeat(16 * 1024);
    // the stalled replica's buffer grows past the hard limit (kernel buffers first)
    for (let i = 0; i < 16; i++) {
      await s.pc.pipeline(Array.from({ length: 50 }, (_, j) => ["SET", `big${i}:${j}`, big]));
    }
    await waitFor(async () => (await infoField(s.pc, "connected_slaves")) === "0", {
      what: "replica dropped",
    });
    s.proxy.cut();
    s.proxy.stall(false);
    await waitLinkUp(s.rc);
    await waitInSync(s.pc, [s.rc]);
    assert.equal(await digest(s.rc), await digest(s.pc));
  } finally {
    await s.close();
  }
});
