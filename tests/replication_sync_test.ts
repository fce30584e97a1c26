/**
 * Scenarios 1 and 2: full sync then live stream, ours as primary of a real redis-server
 * and of a Redeno replica, and a real redis-server as primary of ours. Digests must be
 * equal at the end, as Redis's own replication tests check.
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
} from "./helpers.ts";
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

/** Writes batches of every type until stopped. */
function backgroundWriter(port: number): { stop(): Promise<number> } {
  let running = true;
  let batches = 0;
  const task = (async () => {
    const w = await RespClient.connect(port);
    try {
      while (running) {
        const b = batches++;
        // new keys, and changes to keys the snapshot may not have written yet
        // (point-in-time snapshot: copy-on-write by key)
        const j = (b * 7) % 2800;
        await w.pipeline([
          ...allTypesCommands(35, `during${b}:`),
          ["APPEND", `str:${j}`, "+"],
          ["LPUSH", `list:${j + 1}`, String(b)],
          ["HSET", `hash:${j + 2}`, "f1", String(b)],
          ["DEL", `set:${j + 3}`],
          ["ZINCRBY", `zset:${j + 4}`, "1", "a"],
          ["XADD", `stream:${j + 5}`, "*", "b", String(b)],
          ["PERSIST", `ttl:${j + 6}`],
        ]);
      }
    } finally {
      w.close();
    }
  })();
  // surfaced by stop(); never an unhandled rejection
  task.catch(() => {});
  return {
    async stop() {
      running = false;
      await task;
      return batches;
    },
  };
}

/** Writes that exercise Redis's deterministic propagation forms. */
async function liveStream(c: RespClient): Promise<void> {
  await c.pipeline([
    ["SET", "live:counter", "10"],
    ["INCR", "live:counter"],
    ["INCRBYFLOAT", "live:float", "1.5"],
    ["SET", "live:px", "v", "PX", "100000"],
    ["EXPIRE", "live:counter", "1000"],
    ["SADD", "live:set", "a", "b", "c", "d"],
    ["SPOP", "live:set"],
    ["RPUSH", "live:list", "1", "2", "3"],
    ["LPOP", "live:list"],
    ["MULTI"],
    ["SET", "live:tx1", "1"],
    ["SELECT", "3"],
    ["SET", "live:tx2", "2"],
    ["SELECT", "0"],
    ["EXEC"],
    ["DEL", "str:0"],
    ["HINCRBY", "hash:2", "n", "5"],
    ["ZINCRBY", "zset:4", "2.25", "a"],
    ["XADD", "stream:5", "*", "more", "x"],
    ["SELECT", "7"],
    ["SET", "db7", "x"],
    ["SELECT", "0"],
  ]);
}

Deno.test({
  name:
    "scenario 1: our primary feeds a real redis-server replica and a Redeno replica, writes during full sync included",
  ignore: !HAVE_REDIS,
  async fn() {
    const primary = await startRedeno(["--repl-diskless-sync-delay", "0"]);
    const pc = await RespClient.connect(primary.port);
    let real: TestProcess | null = null;
    let ours: TestServer | null = null;
    const clients: RespClient[] = [pc];
    try {
      await pipelineAll(pc, allTypesCommands(3000));
      await pc.call("ZADD", "zset:inf", "-inf", "low", "inf", "high");
      const writer = backgroundWriter(primary.port);
      real = await startRealRedis([
        "--replicaof",
        "127.0.0.1",
        String(primary.port),
        "--enable-debug-command",
        "yes",
      ]);
      ours = await startRedeno(["--replicaof", "127.0.0.1", String(primary.port)]);
      const rc = await RespClient.connect(real.port);
      const oc = await RespClient.connect(ours.port);
      clients.push(rc, oc);
      await waitLinkUp(rc);
      await waitLinkUp(oc);
      const batches = await writer.stop();
      assert.ok(batches > 0);
      await liveStream(pc);
      await waitInSync(pc, [rc, oc]);
      const expected = await digest(pc);
      assert.notEqual(expected, "0".repeat(40));
      assert.equal(await digest(rc), expected);
      assert.equal(await digest(oc), expected);
      assert.equal(await oc.call("DBSIZE"), await pc.call("DBSIZE"));
      assert.equal(await oc.call("GET", "live:counter"), "11");
      const stats = await info(pc, "stats");
      assert.equal(stats.get("sync_full"), "2");
      const role = await pc.call("ROLE") as unknown[];
      assert.equal(role[0], "master");
      assert.equal((role[2] as unknown[]).length, 2);
    } catch (e) {
      await dumpLog(real);
      throw e;
    } finally {
      for (const c of clients) c.close();
      await ours?.stop();
      await real?.stop();
      await primary.stop();
    }
  },
});

Deno.test({
  name:
    "scenario 2: a real redis-server primary feeds our replica (RDB v10, PING, SELECT, GETACK, MULTI/EXEC, PEXPIREAT)",
  ignore: !HAVE_REDIS,
  async fn() {
    const real = await startRealRedis([
      "--enable-debug-command",
      "yes",
      "--repl-diskless-sync-delay",
      "0",
      "--repl-ping-replica-period",
      "1",
    ]);
    const rc = await RespClient.connect(real.port);
    let ours: TestServer | null = null;
    const clients: RespClient[] = [rc];
    try {
      await pipelineAll(rc, allTypesCommands(3000));
      const writer = backgroundWriter(real.port);
      ours = await startRedeno(["--replicaof", "127.0.0.1", String(real.port)]);
      const oc = await RespClient.connect(ours.port);
      clients.push(oc);
      await waitLinkUp(oc);
      await writer.stop();
      await liveStream(rc);
      // GETACK from the real primary must be answered with our applied offset
      assert.equal(await rc.call("SET", "acked", "1"), "OK");
      assert.equal(await rc.call("WAIT", "1", "5000"), 1);
      await waitInSync(rc, [oc]);
      assert.equal(await digest(oc), await digest(rc));
      assert.equal(await oc.call("DBSIZE"), await rc.call("DBSIZE"));
      // the replica keeps following, PINGs included, with the same offsets
      await new Promise((r) => setTimeout(r, 1100));
      await waitInSync(rc, [oc]);
      assert.equal(await infoField(oc, "master_replid"), await infoField(rc, "master_replid"));
      const role = await oc.call("ROLE") as unknown[];
      assert.deepEqual(role.slice(0, 4), ["slave", "127.0.0.1", real.port, "connected"]);
      assert.equal(String(role[4]), await infoField(rc, "master_repl_offset"));
      assert.deepEqual(
        await oc.call("SET", "x", "1"),
        new RespError("READONLY You can't write against a read only replica."),
      );
    } finally {
      for (const c of clients) c.close();
      await ours?.stop();
      await real.stop();
    }
  },
});

Deno.test({
  name:
    "one diskless snapshot serves every replica that asks within repl-diskless-sync-delay, with keep-alives meanwhile",
  async fn() {
    const primary = await startRedeno(["--repl-diskless-sync-delay", "2"]);
    const pc = await RespClient.connect(primary.port);
    const a = await RespClient.connect(primary.port);
    const b = await RespClient.connect(primary.port);
    try {
      await pc.call("SET", "k", "v");
      for (const r of [a, b]) {
        assert.equal(await r.call("REPLCONF", "listening-port", "1"), "OK");
        assert.equal(await r.call("REPLCONF", "capa", "eof", "capa", "psync2"), "OK");
      }
      await a.write(RespClient.encode(["PSYNC", "?", "-1"]));
      await pc.call("SET", "between", "1");
      await b.write(RespClient.encode(["PSYNC", "?", "-1"]));
      // while the snapshot waits for more replicas, newlines keep the links alive
      assert.equal(await a.readRaw(1, 1900), "\n");
      const lineOf = async (r: RespClient) => {
        for (;;) {
          const ch = await r.readRaw(1);
          if (ch !== "\n") {
            let line = ch;
            while (!line.endsWith("\r\n")) line += await r.readRaw(1);
            return line.slice(0, -2);
          }
        }
      };
      const fa = await lineOf(a);
      const fb = await lineOf(b);
      assert.match(fa, /^\+FULLRESYNC [0-9a-f]{40} \d+$/);
      assert.equal(fb, fa);
      const ha = await lineOf(a);
      assert.match(ha, /^\$EOF:[0-9a-zA-Z]{40}$/);
      assert.equal(await infoField(pc, "sync_full", "stats"), "2");
    } finally {
      for (const c of [pc, a, b]) c.close();
      await primary.stop();
    }
  },
});

Deno.test("repl-diskless-sync-max-replicas starts the shared snapshot without waiting the delay", async () => {
  const primary = await startRedeno([
    "--repl-diskless-sync-delay",
    "60",
    "--repl-diskless-sync-max-replicas",
    "2",
  ]);
  const replicas: TestServer[] = [];
  const clients: RespClient[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      replicas.push(await startRedeno(["--replicaof", "127.0.0.1", String(primary.port)]));
      clients.push(await RespClient.connect(replicas[i].port));
    }
    for (const c of clients) await waitLinkUp(c, 5000);
  } finally {
    for (const c of clients) c.close();
    for (const r of replicas) await r.stop();
    await primary.stop();
  }
});

Deno.test({
  name: "disk-framed full sync ($len) and legacy SYNC deliver the snapshot and then the stream",
  async fn() {
    const primary = await startRedeno(["--repl-diskless-sync", "no"]);
    const pc = await RespClient.connect(primary.port);
    let replica: TestServer | null = null;
    const legacy = await RespClient.connect(primary.port);
    try {
      await pipelineAll(pc, allTypesCommands(500));
      replica = await startRedeno(["--replicaof", "127.0.0.1", String(primary.port)]);
      const oc = await RespClient.connect(replica.port);
      await waitLinkUp(oc);
      await pc.call("SET", "after", "1");
      await waitInSync(pc, [oc]);
      assert.equal(await digest(oc), await digest(pc));
      oc.close();
      await legacy.write(RespClient.encode(["SYNC"]));
      let header = "";
      while (!header.endsWith("\r\n")) {
        const ch = await legacy.readRaw(1);
        if (header === "" && ch === "\n") continue;
        header += ch;
      }
      assert.match(header, /^\$\d+\r\n$/);
      const rdb = await legacy.readRaw(Number(header.slice(1, -2)));
      assert.ok(rdb.startsWith("REDIS0010"));
      await pc.call("SET", "streamed", "yes");
      const expected = "$3\r\nSET\r\n$8\r\nstreamed\r\n$3\r\nyes\r\n";
      let tail = "";
      while (!tail.includes(expected)) tail += await legacy.readRaw(1, 5000);
    } finally {
      legacy.close();
      pc.close();
      await replica?.stop();
      await primary.stop();
    }
  },
});
