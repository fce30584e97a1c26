/**
 * Scenario 9: expiry under replication. The primary sends absolute expiries and, when a
 * key expires, a DEL; replicas never expire keys themselves but hide logically expired
 * keys from reads before the DEL arrives.
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
import { RawReplica, resp, waitInSync, waitLinkUp } from "./replication_util.ts";

Deno.test("scenario 9: an expired key disappears from replicas through the primary's DEL", async () => {
  const primary = await startRedeno(["--repl-diskless-sync-delay", "0"]);
  const pc = await RespClient.connect(primary.port);
  const replicas: Array<TestServer | TestProcess> = [];
  const clients: RespClient[] = [pc];
  let raw: RawReplica | null = null;
  try {
    replicas.push(await startRedeno(["--replicaof", "127.0.0.1", String(primary.port)]));
    if (HAVE_REDIS) {
      replicas.push(await startRealRedis(["--replicaof", "127.0.0.1", String(primary.port)]));
    }
    const rcs = await Promise.all(replicas.map((r) => RespClient.connect(r.port)));
    clients.push(...rcs);
    for (const rc of rcs) await waitLinkUp(rc);
    raw = await RawReplica.attach(primary.port);
    // keep the key on the primary until we ask for it: no active expiry there
    assert.equal(await pc.call("DEBUG", "SET-ACTIVE-EXPIRE", "0"), "OK");
    assert.equal(await pc.call("SET", "k", "v", "PX", "1500"), "OK");
    await raw.waitFor("PXAT");
    assert.match(
      raw.stream,
      /\*5\r\n\$3\r\nSET\r\n\$1\r\nk\r\n\$1\r\nv\r\n\$4\r\nPXAT\r\n\$13\r\n\d{13}\r\n/,
    );
    await waitInSync(pc, rcs);
    for (const rc of rcs) assert.equal(await rc.call("GET", "k"), "v");
    // logically expired: replicas hide it, yet still hold it (no DEL yet)
    await waitFor(async () => (await rcs[0].call("GET", "k")) === null, {
      what: "hidden on replica",
    });
    for (const rc of rcs) {
      assert.equal(await rc.call("GET", "k"), null);
      assert.equal(await rc.call("EXISTS", "k"), 0);
      assert.equal(await rc.call("TTL", "k"), -2);
      assert.equal(await rc.call("DBSIZE"), 1);
    }
    assert.ok(!raw.stream.includes(resp("DEL", "k")));
    // the primary expires it on access and propagates DEL
    assert.equal(await pc.call("GET", "k"), null);
    await raw.waitFor(resp("DEL", "k"));
    await waitInSync(pc, rcs);
    for (const rc of rcs) assert.equal(await rc.call("DBSIZE"), 0);
    // relative expiries travel as absolute ones
    await pc.call("EXPIRE", "missing", "10");
    await pc.call("SET", "e", "1");
    await pc.call("EXPIRE", "e", "100");
    await raw.waitFor("*3\r\n$9\r\nPEXPIREAT\r\n$1\r\ne\r\n$13\r\n");
    assert.ok(!raw.stream.includes("missing"));
  } finally {
    raw?.close();
    for (const c of clients) c.close();
    for (const r of replicas) await r.stop();
    await primary.stop();
  }
});

Deno.test("active expiry on the primary reaches replicas as DEL; replicas never expire keys", async () => {
  const primary = await startRedeno(["--repl-diskless-sync-delay", "0", "--hz", "100"]);
  const pc = await RespClient.connect(primary.port);
  const replica = await startRedeno(["--replicaof", "127.0.0.1", String(primary.port)]);
  const rc = await RespClient.connect(replica.port);
  try {
    await waitLinkUp(rc);
    await pc.pipeline(Array.from({ length: 50 }, (_, i) => ["SET", `t${i}`, "v", "PX", "100"]));
    await pc.call("SET", "stays", "1");
    await waitFor(async () => (await pc.call("DBSIZE")) === 1, { what: "primary expired all" });
    await waitInSync(pc, [rc]);
    assert.equal(await rc.call("DBSIZE"), 1);
    assert.equal(await rc.call("GET", "stays"), "1");
  } finally {
    pc.close();
    rc.close();
    await replica.stop();
    await primary.stop();
  }
});
