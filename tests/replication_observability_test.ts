/**
 * What operators and clients see of replication, side by side with a real
 * redis-server: INFO replication fields, ROLE, DEBUG DIGEST, -READONLY / -MASTERDOWN,
 * authentication of the link, role changes under blocked clients, and the backlog.
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
import { Backlog } from "../src/replication/backlog.ts";
import { sha1Hex } from "../src/replication/digest.ts";
import {
  allTypesCommands,
  info,
  infoField,
  pipelineAll,
  waitInSync,
  waitLinkUp,
} from "./replication_util.ts";

type Node = TestServer | TestProcess;

/** A primary with one replica, both of the same kind. */
async function pair(real: boolean, primaryArgs: string[] = [], replicaArgs: string[] = []) {
  const start = (args: string[]) =>
    real ? startRealRedis([...args, "--enable-debug-command", "yes"]) : startRedeno(args);
  const primary: Node = await start(["--repl-diskless-sync-delay", "0", ...primaryArgs]);
  const replica: Node = await start([
    "--replicaof",
    "127.0.0.1",
    String(primary.port),
    ...replicaArgs,
  ]);
  const pc = await RespClient.connect(primary.port);
  const rc = await RespClient.connect(replica.port);
  return {
    primary,
    replica,
    pc,
    rc,
    async close() {
      pc.close();
      rc.close();
      await replica.stop();
      await primary.stop();
    },
  };
}

Deno.test({
  name: "INFO replication and ROLE have Redis's fields and shapes on primary and replica",
  ignore: !HAVE_REDIS,
  async fn() {
    const ours = await pair(false);
    const real = await pair(true);
    try {
      for (const p of [ours, real]) {
        await waitLinkUp(p.rc);
        await p.pc.call("SET", "k", "v");
        await waitInSync(p.pc, [p.rc]);
      }
      const keys = async (c: RespClient) => [...(await info(c)).keys()];
      assert.deepEqual(await keys(ours.pc), await keys(real.pc));
      assert.deepEqual(await keys(ours.rc), await keys(real.rc));
      const shape = (r: unknown): unknown =>
        Array.isArray(r) ? r.map(shape) : typeof r === "number" ? "int" : typeof r;
      assert.deepEqual(shape(await ours.pc.call("ROLE")), shape(await real.pc.call("ROLE")));
      assert.deepEqual(shape(await ours.rc.call("ROLE")), shape(await real.rc.call("ROLE")));
      const slave0 = (await info(ours.pc)).get("slave0") ?? "";
      assert.match(slave0, /^ip=127\.0\.0\.1,port=\d+,state=online,offset=\d+,lag=\d+$/);
      // the link goes down: the same extra field appears on both
      await ours.primary.stop();
      await real.primary.stop();
      for (const p of [ours, real]) {
        await waitFor(async () => (await infoField(p.rc, "master_link_status")) === "down");
      }
      assert.deepEqual(await keys(ours.rc), await keys(real.rc));
      const role = await ours.rc.call("ROLE") as unknown[];
      assert.equal(role[0], "slave");
      assert.ok(["connect", "connecting"].includes(String(role[3])));
    } finally {
      await ours.close();
      await real.close();
    }
  },
});

Deno.test({
  name: "DEBUG DIGEST and DIGEST-VALUE equal a real redis-server's for the same data",
  ignore: !HAVE_REDIS,
  async fn() {
    const ours = await startRedeno();
    const real = await startRealRedis(["--enable-debug-command", "yes"]);
    const a = await RespClient.connect(ours.port);
    const b = await RespClient.connect(real.port);
    try {
      assert.equal(await a.call("DEBUG", "DIGEST"), "0".repeat(40));
      const cmds = [
        ...allTypesCommands(200),
        ["ZADD", "zinf", "-inf", "a", "inf", "b", "0.1", "c"],
        ["SADD", "ints", "1", "2", "-3", "100000"],
        ["SELECT", "9"],
        ["RPUSH", "l9", "x"],
        ["SELECT", "0"],
      ];
      await pipelineAll(a, cmds);
      await pipelineAll(b, cmds);
      // stream ids and ttls differ between the two servers: digests ignore ttl values
      // but not ids, so give the streams the same ids
      for (const c of [a, b]) {
        await c.call("DEL", "stream:5");
        await c.call("XADD", "stream:5", "1-1", "f", "v");
      }
      const keys = (await a.call("KEYS", "*")) as string[];
      for (const c of [a, b]) {
        for (const k of keys.filter((k) => k.startsWith("stream:") && k !== "stream:5")) {
          await c.call("DEL", k);
        }
      }
      assert.equal(await a.call("DEBUG", "DIGEST"), await b.call("DEBUG", "DIGEST"));
      const some = [
        "str:0",
        "list:1",
        "hash:2",
        "set:3",
        "zset:4",
        "stream:5",
        "ttl:6",
        "zinf",
        "ints",
        "nope",
      ];
      assert.deepEqual(
        await a.call("DEBUG", "DIGEST-VALUE", ...some),
        await b.call("DEBUG", "DIGEST-VALUE", ...some),
      );
      // values longer than any before (the hashing buffers grow)
      for (const c of [a, b]) {
        await c.call("SET", "big", "x".repeat(70000));
        await c.call("SADD", "bigset", "y".repeat(100000), "z");
      }
      assert.deepEqual(
        await a.call("DEBUG", "DIGEST-VALUE", "big", "bigset"),
        await b.call("DEBUG", "DIGEST-VALUE", "big", "bigset"),
      );
      assert.equal(await a.call("DEBUG", "DIGEST"), await b.call("DEBUG", "DIGEST"));
    } finally {
      a.close();
      b.close();
      await real.stop();
      await ours.stop();
    }
  },
});

Deno.test("a replica refuses writes (-READONLY) and, with replica-serve-stale-data no, stale reads (-MASTERDOWN)", async () => {
  const p = await pair(false, [], ["--replica-serve-stale-data", "no"]);
  try {
    await waitLinkUp(p.rc);
    await p.pc.call("SET", "k", "v");
    await waitInSync(p.pc, [p.rc]);
    assert.equal(await p.rc.call("GET", "k"), "v");
    assert.deepEqual(
      await p.rc.call("SET", "k", "x"),
      new RespError("READONLY You can't write against a read only replica."),
    );
    assert.deepEqual(
      await p.rc.pipeline([["MULTI"], ["SET", "k", "x"], ["EXEC"]]),
      [
        "OK",
        new RespError("READONLY You can't write against a read only replica."),
        new RespError("EXECABORT Transaction discarded because of previous errors."),
      ],
    );
    await p.primary.stop();
    await waitFor(async () => (await infoField(p.rc, "master_link_status")) === "down");
    assert.deepEqual(
      await p.rc.call("GET", "k"),
      new RespError(
        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
      ),
    );
    assert.equal(await p.rc.call("CONFIG", "SET", "replica-serve-stale-data", "yes"), "OK");
    assert.equal(await p.rc.call("GET", "k"), "v");
    assert.equal(await p.rc.call("CONFIG", "SET", "replica-read-only", "no"), "OK");
    assert.equal(await p.rc.call("SET", "local", "1"), "OK");
  } finally {
    await p.close();
  }
});

for (const realPrimary of [false, true]) {
  Deno.test({
    name: `masterauth / masteruser authenticate the link to a ${
      realPrimary ? "real redis-server" : "Redeno"
    } primary with requirepass`,
    ignore: !HAVE_REDIS,
    async fn() {
      const primaryArgs = ["--requirepass", "s3cret", "--repl-diskless-sync-delay", "0"];
      const primary = realPrimary
        ? await startRealRedis(primaryArgs)
        : await startRedeno(primaryArgs);
      const of = ["--replicaof", "127.0.0.1", String(primary.port), "--masterauth", "s3cret"];
      // the replica is of the other kind, so both directions are covered
      const replica = realPrimary
        ? await startRedeno(of)
        : await startRealRedis([...of, "--masteruser", "default"]);
      const rc = await RespClient.connect(replica.port);
      const pc = await RespClient.connect(primary.port);
      try {
        await waitLinkUp(rc);
        assert.equal(await pc.call("AUTH", "s3cret"), "OK");
        await pc.call("SET", "authed", "yes");
        await waitFor(async () => (await rc.call("GET", "authed")) === "yes");
      } finally {
        rc.close();
        pc.close();
        await replica.stop();
        await primary.stop();
      }
    },
  });
}

Deno.test("blocked clients get -UNBLOCKED and are closed when the server becomes a replica", async () => {
  const primary = await startRedeno();
  const other = await startRedeno();
  const blocked = await RespClient.connect(other.port);
  const admin = await RespClient.connect(other.port);
  try {
    await blocked.write(RespClient.encode(["BLPOP", "q", "0"]));
    await waitFor(async () =>
      (await admin.call("INFO", "clients") as string).includes("blocked_clients:1")
    );
    assert.equal(await admin.call("REPLICAOF", "127.0.0.1", String(primary.port)), "OK");
    assert.deepEqual(
      await blocked.read(),
      new RespError(
        "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)",
      ),
    );
    assert.ok(await blocked.closedByServer());
    assert.equal(
      await admin.call("REPLICAOF", "127.0.0.1", String(primary.port)),
      "OK Already connected to specified master",
    );
    assert.equal(await admin.call("REPLICAOF", "NO", "ONE"), "OK");
    assert.equal(await infoField(admin, "role"), "master");
  } finally {
    blocked.close();
    admin.close();
    await other.stop();
    await primary.stop();
  }
});

Deno.test("Backlog keeps the newest repl-backlog-size bytes addressed by replication offset", () => {
  const b = new Backlog(8, 100);
  assert.equal(b.offset, 101);
  assert.equal(b.histlen, 0);
  assert.ok(b.covers(101));
  assert.ok(!b.covers(102));
  b.append(new TextEncoder().encode("abcde"));
  assert.deepEqual(new TextDecoder().decode(b.readFrom(103)), "cde");
  b.append(new TextEncoder().encode("fghijk"));
  // 11 bytes written into 8: the first 3 are gone
  assert.equal(b.histlen, 8);
  assert.equal(b.offset, 104);
  assert.ok(!b.covers(103));
  assert.equal(new TextDecoder().decode(b.readFrom(104)), "defghijk");
  assert.equal(new TextDecoder().decode(b.readFrom(112)), "");
  assert.throws(() => b.readFrom(113), RangeError);
  b.append(new TextEncoder().encode("0123456789XY"));
  assert.equal(new TextDecoder().decode(b.readFrom(b.offset)), "456789XY");
  b.resize(4);
  assert.equal(new TextDecoder().decode(b.readFrom(b.offset)), "89XY");
  assert.equal(b.offset + b.histlen, 124);
});

Deno.test("the digests' SHA-1 matches node:crypto for every input length across block boundaries", async () => {
  const { createHash } = await import("node:crypto");
  for (const len of [...Array(300).keys(), 1000, 4096, 65537, 200000]) {
    const data = new Uint8Array(len).map(() => Math.floor(Math.random() * 256));
    assert.equal(sha1Hex(data), createHash("sha1").update(data).digest("hex"), `length ${len}`);
  }
});

Deno.test("replica-announce-ip/port are what the primary reports; the backlog is freed after repl-backlog-ttl", async () => {
  const primary = await startRedeno(["--repl-diskless-sync-delay", "0", "--repl-backlog-ttl", "1"]);
  const pc = await RespClient.connect(primary.port);
  const replica = await startRedeno([
    "--replicaof",
    "127.0.0.1",
    String(primary.port),
    "--replica-announce-ip",
    "10.1.2.3",
    "--replica-announce-port",
    "7777",
  ]);
  const rc = await RespClient.connect(replica.port);
  try {
    await waitLinkUp(rc);
    await waitFor(async () => (await infoField(pc, "slave0")).includes("state=online"));
    assert.match(await infoField(pc, "slave0"), /^ip=10\.1\.2\.3,port=7777,state=online,/);
    const role = await pc.call("ROLE") as unknown[];
    assert.deepEqual((role[2] as unknown[][])[0].slice(0, 2), ["10.1.2.3", "7777"]);
    const before = await info(pc);
    assert.equal(before.get("repl_backlog_active"), "1");
    rc.close();
    await replica.stop();
    await waitFor(async () => (await infoField(pc, "repl_backlog_active")) === "0", {
      timeoutMs: 8000,
      what: "backlog freed",
    });
    // a freed backlog means a new history: nobody can continue the old one
    assert.notEqual(await infoField(pc, "master_replid"), before.get("master_replid"));
  } finally {
    pc.close();
    rc.close();
    await replica.stop();
    await primary.stop();
  }
});

Deno.test("a replica whose own link is down refuses PSYNC with -NOMASTERLINK", async () => {
  const primary = await startRedeno();
  const replica = await startRedeno(["--replicaof", "127.0.0.1", String(primary.port)]);
  const rc = await RespClient.connect(replica.port);
  const sub = await RespClient.connect(replica.port);
  try {
    await waitLinkUp(rc);
    await primary.stop();
    await waitFor(async () => (await infoField(rc, "master_link_status")) === "down");
    assert.deepEqual(
      await sub.call("PSYNC", "?", "-1"),
      new RespError("NOMASTERLINK Can't SYNC while not connected with my master"),
    );
  } finally {
    rc.close();
    sub.close();
    await replica.stop();
    await primary.stop();
  }
});
