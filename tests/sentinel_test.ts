/**
 * A real Redis Sentinel (redis-sentinel 7.0) monitors one Redeno primary and two Redeno
 * replicas, discovers them, fails over when the primary is killed, and turns the
 * restarted old primary into a replica of the new one. ioredis with `sentinels` follows.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Redis } from "ioredis";
import {
  freePort,
  hasBinary,
  parseInfo,
  redisCli,
  RespClient,
  spawnRedeno,
  type TestProcess,
  waitFor,
} from "./helpers.ts";

const HAVE_SENTINEL = hasBinary("redis-sentinel");
if (!HAVE_SENTINEL) {
  console.warn(
    "sentinel_test: skipped, redis-sentinel is not installed (apt-get install redis-sentinel)",
  );
}

interface Sentinel {
  port: number;
  process: Deno.ChildProcess;
  stop(): Promise<void>;
}

async function startSentinel(masterPort: number): Promise<Sentinel> {
  const dir = await Deno.makeTempDir({ prefix: "redeno-sentinel-" });
  const port = freePort();
  const conf = `${dir}/sentinel.conf`;
  await Deno.writeTextFile(
    conf,
    [
      `port ${port}`,
      "bind 127.0.0.1",
      `dir ${dir}`,
      "daemonize no",
      `logfile ${dir}/sentinel.log`,
      `sentinel monitor m 127.0.0.1 ${masterPort} 2`,
      "sentinel down-after-milliseconds m 1000",
      "sentinel failover-timeout m 5000",
      "sentinel parallel-syncs m 2",
      "",
    ].join("\n"),
  );
  const process = new Deno.Command("redis-sentinel", {
    args: [conf],
    stdout: "null",
    stderr: "null",
    stdin: "null",
  }).spawn();
  await waitFor(async () => (await redisCli(port, ["PING"])) === "PONG", {
    what: "sentinel listening",
  });
  return {
    port,
    process,
    async stop() {
      try {
        process.kill("SIGKILL");
      } catch { /* gone */ }
      await process.status;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** SENTINEL REPLICAS m as one field map per replica, by port. */
async function sentinelReplicas(port: number): Promise<Map<number, Map<string, string>>> {
  const c = await RespClient.connect(port);
  try {
    const reply = await c.call("SENTINEL", "REPLICAS", "m") as string[][];
    const out = new Map<number, Map<string, string>>();
    for (const flat of reply) {
      const m = new Map<string, string>();
      for (let i = 0; i + 1 < flat.length; i += 2) m.set(flat[i], flat[i + 1]);
      out.set(Number(m.get("port")), m);
    }
    return out;
  } finally {
    c.close();
  }
}

async function role(port: number): Promise<string> {
  return (await redisCli(port, ["ROLE"])).split("\n")[0];
}

async function info(port: number, section: string): Promise<Map<string, string>> {
  const text = await redisCli(port, ["INFO", section]);
  return parseInfo(text.replaceAll("\r\n", "\n").replaceAll("\n", "\r\n"));
}

Deno.test({
  name: "sentinel: real redis-sentinel discovers, fails over and reconfigures Redeno servers",
  ignore: !HAVE_SENTINEL,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const procs: TestProcess[] = [];
    const sentinels: Sentinel[] = [];
    let client: Redis | undefined;
    try {
      const primary = await spawnRedeno();
      procs.push(primary);
      const r1 = await spawnRedeno(["--replicaof", "127.0.0.1", String(primary.port)]);
      // replica-priority 0: Sentinel must never promote this one.
      const r2 = await spawnRedeno([
        "--replicaof",
        "127.0.0.1",
        String(primary.port),
        "--replica-priority",
        "0",
      ]);
      procs.push(r1, r2);
      await waitFor(
        async () => (await info(primary.port, "replication")).get("connected_slaves") === "2",
        {
          what: "two replicas connected",
        },
      );
      sentinels.push(await startSentinel(primary.port), await startSentinel(primary.port));
      const s = sentinels[0];

      // Discovery: replicas and the other sentinel (through __sentinel__:hello).
      assertEquals(
        await redisCli(s.port, ["SENTINEL", "get-master-addr-by-name", "m"]),
        `127.0.0.1\n${primary.port}`,
      );
      // Replicas discovered from the primary's INFO, then read from their own INFO.
      const seen = (await waitFor(async () => {
        const reps = await sentinelReplicas(s.port);
        const a = reps.get(r1.port), b = reps.get(r2.port);
        return a?.get("master-link-status") === "ok" && b?.get("master-link-status") === "ok"
          ? reps
          : undefined;
      }, { what: "sentinel discovers both replicas" }))!;
      assertEquals(seen.get(r1.port)!.get("slave-priority"), "100");
      assertEquals(seen.get(r2.port)!.get("slave-priority"), "0");
      assertEquals(seen.get(r1.port)!.get("master-port"), String(primary.port));
      assertEquals(seen.get(r1.port)!.get("role-reported"), "slave");
      await waitFor(async () => {
        const out = await redisCli(s.port, ["SENTINEL", "sentinels", "m"]);
        return out.includes(String(sentinels[1].port));
      }, { what: "sentinels discover each other" });

      // Each sentinel holds a named command link and a hello subscription on the primary.
      assertEquals(
        await redisCli(primary.port, ["PUBSUB", "NUMSUB", "__sentinel__:hello"]),
        "__sentinel__:hello\n2",
      );
      const names = (await redisCli(primary.port, ["CLIENT", "LIST"])).match(
        /name=sentinel-[0-9a-f]{8}-(cmd|pubsub)/g,
      );
      assertEquals(names?.length, 4);

      // Data acknowledged by both replicas before the primary dies.
      assertEquals(
        await redisCli(primary.port, [], "SET k v1\nRPUSH l a b\nWAIT 2 5000\n"),
        "OK\n2\n2",
      );

      await primary.stop("SIGKILL");

      const replicaPorts = [r1.port, r2.port];
      const newPort = await waitFor(async () => {
        const out = (await redisCli(s.port, ["SENTINEL", "get-master-addr-by-name", "m"]))
          .split("\n");
        const p = Number(out[1]);
        return replicaPorts.includes(p) ? p : 0;
      }, { timeoutMs: 15000, intervalMs: 100, what: "failover to a replica" });
      assertEquals(newPort, r1.port, "the replica with priority 0 is never promoted");
      assertEquals(await role(newPort), "master");
      const otherPort = replicaPorts.find((p) => p !== newPort)!;
      await waitFor(async () => {
        const i = await info(otherPort, "replication");
        return i.get("master_port") === String(newPort) &&
          i.get("master_link_status") === "up";
      }, { timeoutMs: 10000, intervalMs: 100, what: "other replica re-pointed" });
      assertEquals(await role(otherPort), "slave");
      // The re-pointed replica continued by partial resynchronization (PSYNC on replid2).
      assertEquals((await info(newPort, "stats")).get("sync_partial_ok"), "1");
      assertEquals((await info(newPort, "stats")).get("sync_full"), "0");
      assertEquals(await redisCli(newPort, ["GET", "k"]), "v1");
      assertEquals(await redisCli(otherPort, ["LRANGE", "l", "0", "-1"]), "a\nb");

      // The restarted old primary becomes a replica of the new one.
      const old = await spawnRedeno([], { dir: primary.dir, port: primary.port });
      procs.push(old);
      await waitFor(async () => {
        const i = await info(old.port, "replication");
        return i.get("role") === "slave" && i.get("master_port") === String(newPort) &&
          i.get("master_link_status") === "up";
      }, { timeoutMs: 20000, intervalMs: 100, what: "old primary converted to a replica" });
      assertEquals(await redisCli(old.port, ["GET", "k"]), "v1");

      // ioredis with `sentinels` connects to the current primary.
      client = new Redis({
        sentinels: sentinels.map((x) => ({ host: "127.0.0.1", port: x.port })),
        name: "m",
        lazyConnect: true,
        maxRetriesPerRequest: 1,
      });
      await client.connect();
      assertEquals(await client.get("k"), "v1");
      assertEquals(await client.set("k2", "v2"), "OK");
      assertEquals(await redisCli(newPort, ["GET", "k2"]), "v2");
    } finally {
      client?.disconnect();
      for (const x of sentinels) await x.stop();
      for (const p of procs) await p.stop("SIGKILL");
    }
  },
});
