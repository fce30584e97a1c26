/**
 * Scenarios 7 and 8: restarts. A replica shut down cleanly saves its RDB with the
 * repl-id / repl-offset aux fields and continues with a partial resync when it comes
 * back; a primary killed with -9 under write load and restarted from its AOF gets its
 * replicas back, and nothing acknowledged by WAIT to every replica is lost.
 */
import assert from "node:assert/strict";
import {
  HAVE_REDIS,
  RespClient,
  spawnRedeno,
  startRealRedis,
  startRedeno,
  type TestProcess,
  waitFor,
} from "./helpers.ts";
import {
  allTypesCommands,
  digest,
  dumpLog,
  pipelineAll,
  stat,
  waitInSync,
  waitLinkUp,
} from "./replication_util.ts";

for (const real of [false, true]) {
  Deno.test({
    name: `scenario 7: a ${
      real ? "real redis-server" : "Redeno"
    } replica restarted after SHUTDOWN continues with a partial resync`,
    ignore: real && !HAVE_REDIS,
    async fn() {
      const primary = await startRedeno(["--repl-diskless-sync-delay", "0"]);
      const pc = await RespClient.connect(primary.port);
      const dir = await Deno.makeTempDir({ prefix: "repl-restart-" });
      const args = ["--replicaof", "127.0.0.1", String(primary.port), "--save", "3600 1"];
      const spawn = () =>
        real
          ? startRealRedis([...args, "--enable-debug-command", "yes"], dir)
          : spawnRedeno(args, { dir });
      let replica: TestProcess | null = null;
      try {
        await pipelineAll(pc, allTypesCommands(1000));
        replica = await spawn();
        let rc = await RespClient.connect(replica.port);
        await waitLinkUp(rc);
        await pc.call("SET", "before-restart", "1");
        await waitInSync(pc, [rc]);
        await rc.write(RespClient.encode(["SHUTDOWN"]));
        assert.ok(await rc.closedByServer(10000));
        rc.close();
        await replica.stop();
        replica = null;
        await pipelineAll(pc, allTypesCommands(200, "while-away:"));
        replica = await spawn();
        rc = await RespClient.connect(replica.port);
        try {
          await waitLinkUp(rc);
          await waitInSync(pc, [rc]);
          assert.equal(await stat(pc, "sync_full"), 1);
          assert.equal(await stat(pc, "sync_partial_ok"), 1);
          assert.equal(await digest(rc), await digest(pc));
        } finally {
          rc.close();
        }
      } catch (e) {
        await dumpLog(replica ?? { dir }, real ? "redis.log" : "redeno.log");
        throw e;
      } finally {
        pc.close();
        await replica?.stop();
        await primary.stop();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  });
}

Deno.test({
  name:
    "scenario 8: a primary killed -9 under load and restarted from its AOF loses nothing WAIT acknowledged",
  ignore: !HAVE_REDIS,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "repl-kill-" });
    const primaryArgs = [
      "--appendonly",
      "yes",
      "--appendfsync",
      "always",
      "--repl-diskless-sync-delay",
      "0",
    ];
    let primary: TestProcess | null = await spawnRedeno(primaryArgs, { dir });
    const port = primary.port;
    const ours = await startRedeno(["--replicaof", "127.0.0.1", String(port)]);
    const real = await startRealRedis([
      "--replicaof",
      "127.0.0.1",
      String(port),
      "--enable-debug-command",
      "yes",
    ]);
    const replicas = [await RespClient.connect(ours.port), await RespClient.connect(real.port)];
    const acknowledged: string[] = [];
    try {
      for (const r of replicas) await waitLinkUp(r);
      const writer = await RespClient.connect(port);
      let killed = false;
      const load = (async () => {
        for (let i = 0; !killed; i++) {
          try {
            await writer.call("SET", `key:${i}`, String(i));
            if ((await writer.call("WAIT", "2", "1000")) === 2) acknowledged.push(`key:${i}`);
          } catch {
            return;
          }
        }
      })();
      await waitFor(() => acknowledged.length >= 50, { what: "acknowledged writes" });
      await primary.stop("SIGKILL");
      killed = true;
      await load;
      writer.close();
      primary = await spawnRedeno(primaryArgs, { dir, port });
      const pc = await RespClient.connect(port);
      try {
        for (const key of acknowledged) {
          assert.notEqual(await pc.call("GET", key), null, `${key} lost by the primary`);
        }
        for (const r of replicas) await waitLinkUp(r, 20000);
        await pc.call("SET", "after-restart", "1");
        await waitInSync(pc, replicas, 20000);
        for (const r of replicas) {
          for (const key of acknowledged.slice(-20)) {
            assert.notEqual(await r.call("GET", key), null);
          }
          assert.equal(await r.call("GET", "after-restart"), "1");
        }
        assert.equal(await digest(replicas[0]), await digest(pc));
        assert.equal(await digest(replicas[1]), await digest(pc));
      } finally {
        pc.close();
      }
    } catch (e) {
      await dumpLog(primary, "redeno.log");
      throw e;
    } finally {
      for (const r of replicas) r.close();
      await real.stop();
      await ours.stop();
      await primary?.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
