/**
 * A replica's full sync parses the snapshot while it streams in, into databases clients
 * do not see, and installs them only once the payload is complete and sound: large
 * datasets load exactly (from our primary, from a real redis-server, in every
 * repl-diskless-load mode, in tiny pieces), the replica answers its clients meanwhile
 * with its old data, and a cut or corrupt payload leaves the old data in place while
 * the sync is retried.
 */
import assert from "node:assert/strict";
import {
  HAVE_REDIS,
  parseCommands,
  RespClient,
  spawnRedeno,
  startRealRedis,
  startRedeno,
  type TestServer,
  waitFor,
} from "./helpers.ts";
import { Proxy } from "./proxy.ts";
import {
  allTypesCommands,
  digest,
  infoField,
  pipelineAll,
  stat,
  waitInSync,
  waitLinkUp,
} from "./replication_util.ts";
import { crc64Bytes } from "../src/persistence/crc64.ts";

/** `n` string keys with MSET, 1000 per command. */
async function fillStrings(c: RespClient, n: number, prefix = "k:"): Promise<void> {
  const cmds: Array<Array<string | number>> = [];
  for (let i = 0; i < n; i += 1000) {
    const argv: string[] = ["MSET"];
    for (let k = i; k < Math.min(n, i + 1000); k++) argv.push(`${prefix}${k}`, `value-${k}`);
    cmds.push(argv);
  }
  await pipelineAll(c, cmds);
}

/** Keys far larger than a socket read: they arrive in many pieces. */
async function fillBigKeys(c: RespClient): Promise<void> {
  await c.call("SET", "big:string", "x".repeat(1 << 20) + "\x00\xff-end");
  const items: string[] = [];
  for (let i = 0; i < 30000; i++) items.push(`item-${i}-${"y".repeat(i % 50)}`);
  await c.call("RPUSH", "big:list", ...items);
  const fields: string[] = [];
  for (let i = 0; i < 20000; i++) fields.push(`f${i}`, `v${i}`);
  await c.call("HSET", "big:hash", ...fields);
}

/** The replica's own keys before it syncs: they must survive a failed sync. */
async function seedOldData(rc: RespClient): Promise<void> {
  await fillStrings(rc, 500, "old:");
  await rc.call("SET", "old:marker", "still-here");
}

async function assertOldData(rc: RespClient): Promise<void> {
  assert.equal(await rc.call("GET", "old:marker"), "still-here");
  assert.equal(await rc.call("DBSIZE"), 501);
}

for (const mode of ["disabled", "swapdb", "on-empty-db"]) {
  Deno.test(`a replica of our primary loads a large dataset as it streams in (repl-diskless-load ${mode})`, async () => {
    const primary = await startRedeno(["--repl-diskless-sync-delay", "0"]);
    const replica = await startRedeno(["--repl-diskless-load", mode]);
    const pc = await RespClient.connect(primary.port);
    const rc = await RespClient.connect(replica.port);
    try {
      await fillStrings(pc, 50000);
      await fillBigKeys(pc);
      await pipelineAll(pc, allTypesCommands(700));
      await rc.call("SET", "old:marker", "gone after the sync");
      await rc.call("REPLICAOF", "127.0.0.1", primary.port);
      await waitInSync(pc, [rc]);
      assert.equal(await rc.call("DBSIZE"), await pc.call("DBSIZE"));
      assert.equal(await digest(rc), await digest(pc));
      assert.equal(await rc.call("GET", "old:marker"), null);
      assert.equal(await rc.call("LINDEX", "big:list", -1), `item-29999-${"y".repeat(49)}`);
      // the stream continues after the snapshot
      await pc.call("SET", "after", "1");
      await waitFor(async () => (await rc.call("GET", "after")) === "1");
    } finally {
      pc.close();
      rc.close();
      await replica.stop();
      await primary.stop();
    }
  });
}

Deno.test({
  name: "a replica of a real redis-server primary loads a large dataset as it streams in",
  ignore: !HAVE_REDIS,
  async fn() {
    const primary = await startRealRedis([
      "--enable-debug-command",
      "yes",
      "--repl-diskless-sync-delay",
      "0",
    ]);
    const replica = await startRedeno();
    const pc = await RespClient.connect(primary.port);
    const rc = await RespClient.connect(replica.port);
    try {
      assert.equal(await pc.call("DEBUG", "POPULATE", 100000, "key", 20), "OK");
      await fillBigKeys(pc);
      await pipelineAll(pc, allTypesCommands(700));
      await rc.call("REPLICAOF", "127.0.0.1", primary.port);
      await waitInSync(pc, [rc]);
      assert.equal(await rc.call("DBSIZE"), await pc.call("DBSIZE"));
      assert.equal(await digest(rc), await digest(pc));
    } finally {
      pc.close();
      rc.close();
      await replica.stop();
      await primary.stop();
    }
  },
});

Deno.test({
  name:
    "while a large payload streams in, the replica answers PING at once and serves its old data",
  ignore: !HAVE_REDIS,
  async fn() {
    // the snapshot arrives faster than it is parsed here
    const primary = await startRealRedis([
      "--repl-diskless-sync-delay",
      "0",
      "--enable-debug-command",
      "yes",
    ]);
    // a process of its own: a PING waits only for the replica's event loop
    const replica = await spawnRedeno();
    const pc = await RespClient.connect(primary.port);
    const rc = await RespClient.connect(replica.port);
    const probe = await RespClient.connect(replica.port);
    try {
      assert.equal(await pc.call("DEBUG", "POPULATE", 400000, "key", 16), "OK");
      await seedOldData(rc);
      await rc.call("REPLICAOF", "127.0.0.1", primary.port);
      let maxMs = 0;
      let duringSync = 0;
      for (;;) {
        const t = performance.now();
        assert.equal(await probe.call("PING"), "PONG");
        maxMs = Math.max(maxMs, performance.now() - t);
        const marker = await probe.call("GET", "old:marker");
        if ((await infoField(probe, "master_sync_in_progress")) !== "1") {
          if (duringSync > 0) break;
          continue;
        }
        duringSync++;
        // old data until the new dataset is complete (replica-serve-stale-data yes)
        assert.equal(marker, "still-here");
      }
      await waitLinkUp(rc);
      assert.ok(duringSync >= 5, `only ${duringSync} probes during the transfer`);
      // the whole load at once would take most of a second (slices: ~50 ms; a loaded
      // machine adds noise)
      assert.ok(maxMs < 400, `a PING waited ${maxMs.toFixed(0)} ms`);
      assert.equal(await rc.call("DBSIZE"), 400000);
      assert.equal(await rc.call("GET", "old:marker"), null);
    } finally {
      pc.close();
      rc.close();
      probe.close();
      await replica.stop();
      await primary.stop();
    }
  },
});

Deno.test({
  name: "a payload cut off mid-way leaves the old data in place, and the replica resyncs later",
  ignore: !HAVE_REDIS,
  async fn() {
    const primary = await startRealRedis([
      "--rdb-key-save-delay",
      "20",
      "--repl-diskless-sync-delay",
      "0",
      "--enable-debug-command",
      "yes",
    ]);
    const proxy = Proxy.start(primary.port);
    const replica = await startRedeno();
    const pc = await RespClient.connect(primary.port);
    const rc = await RespClient.connect(replica.port);
    try {
      assert.equal(await pc.call("DEBUG", "POPULATE", 50000, "key", 16), "OK");
      await seedOldData(rc);
      await rc.call("REPLICAOF", "127.0.0.1", proxy.port);
      // part of the snapshot arrived (and was parsed): cut the link
      await waitFor(() => proxy.downstreamBytes > 200_000, { what: "part of the payload" });
      proxy.setDown(true);
      proxy.cut();
      await waitFor(async () => (await infoField(rc, "master_sync_in_progress")) === "0", {
        what: "the transfer to be abandoned",
      });
      await assertOldData(rc);
      assert.equal(await infoField(rc, "master_link_status"), "down");
      // the link comes back: a full sync completes
      await pc.call("CONFIG", "SET", "rdb-key-save-delay", "0");
      proxy.setDown(false);
      await waitInSync(pc, [rc]);
      assert.equal(await rc.call("DBSIZE"), 50000);
      assert.equal(await digest(rc), await digest(pc));
    } finally {
      pc.close();
      rc.close();
      await replica.stop();
      await proxy.close();
      await primary.stop();
    }
  },
});

// ---- a hand-driven primary ----

/** What a fake primary sends after +FULLRESYNC on its n-th sync (0-based). */
interface Payload {
  framing: "eof" | "len";
  rdb: Uint8Array;
  /** largest piece written at once (random sizes up to it), default all at once */
  piece?: number;
}

/**
 * A primary speaking just enough of the protocol: it answers the handshake, sends the
 * payload chosen for each sync, then keeps the link open and silent.
 */
class FakePrimary {
  readonly port: number;
  readonly #listener: Deno.TcpListener;
  readonly #payload: (sync: number) => Payload;
  readonly #conns = new Set<Deno.TcpConn>();
  syncs = 0;
  /** connections the replica closed */
  closed = 0;

  constructor(payload: (sync: number) => Payload) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = (this.#listener.addr as Deno.NetAddr).port;
    this.#payload = payload;
    this.#accept();
  }

  async #accept(): Promise<void> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch {
        return;
      }
      this.#conns.add(conn);
      this.#serve(conn).catch(() => {}).finally(() => {
        this.closed++;
        this.#conns.delete(conn);
        try {
          conn.close();
        } catch { /* closed */ }
      });
    }
  }

  async #serve(conn: Deno.TcpConn): Promise<void> {
    let pending = new Uint8Array(0);
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return;
      const merged = new Uint8Array(pending.length + n);
      merged.set(pending);
      merged.set(buf.subarray(0, n), pending.length);
      pending = merged;
      let commands: string[][];
      try {
        commands = parseCommands(pending);
      } catch {
        continue; // a command split across reads
      }
      pending = new Uint8Array(0);
      for (const argv of commands) {
        const name = argv[0].toUpperCase();
        if (name === "PING") await write(conn, "+PONG\r\n");
        else if (name === "REPLCONF") {
          if (argv[1]?.toUpperCase() !== "ACK") await write(conn, "+OK\r\n");
        } else if (name === "PSYNC") {
          await this.#sendPayload(conn, this.#payload(this.syncs++));
        }
      }
    }
  }

  async #sendPayload(conn: Deno.TcpConn, p: Payload): Promise<void> {
    await write(conn, `+FULLRESYNC ${"f".repeat(40)} 0\r\n`);
    const mark = "0123456789abcdefghij0123456789abcdefghij";
    await write(conn, p.framing === "eof" ? `$EOF:${mark}\r\n` : `$${p.rdb.length}\r\n`);
    const body = p.framing === "eof" ? concat(p.rdb, bytes(mark)) : p.rdb;
    const piece = p.piece ?? body.length;
    for (let off = 0; off < body.length;) {
      const n = Math.min(body.length - off, 1 + Math.floor(Math.random() * piece));
      await write(conn, body.subarray(off, off + n));
      off += n;
      // let the replica read the pieces separately
      if (p.piece !== undefined) await new Promise((r) => setTimeout(r, 0));
    }
  }

  async close(): Promise<void> {
    this.#listener.close();
    for (const c of this.#conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

function bytes(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

async function write(conn: Deno.TcpConn, data: string | Uint8Array): Promise<void> {
  const b = typeof data === "string" ? bytes(data) : data;
  for (let off = 0; off < b.length;) off += await conn.write(b.subarray(off));
}

/** An RDB of a few string keys, by hand: header, SELECTDB 0, records, EOF, CRC64. */
function handRdb(records: Array<[string, string]>, tail: number[] = []): Uint8Array {
  const out: number[] = [...bytes("REDIS0009"), 0xfe, 0x00];
  for (const [k, v] of records) out.push(0x00, k.length, ...bytes(k), v.length, ...bytes(v));
  out.push(...tail, 0xff);
  const body = Uint8Array.from(out);
  return concat(body, crc64Bytes(body));
}

/** The RDB file of an in-process server after SAVE. */
async function savedRdb(t: TestServer): Promise<Uint8Array> {
  const c = await RespClient.connect(t.port);
  try {
    assert.equal(await c.call("SAVE"), "OK");
  } finally {
    c.close();
  }
  return await Deno.readFile(`${t.server.config.get("dir")}/dump.rdb`);
}

Deno.test("a payload arriving in tiny pieces loads exactly ($EOF: and $<len> framing)", async () => {
  const source = await startRedeno();
  const sc = await RespClient.connect(source.port);
  let fake: FakePrimary | null = null;
  const replicas: TestServer[] = [];
  try {
    await fillStrings(sc, 3000);
    await pipelineAll(sc, allTypesCommands(350));
    await sc.call("SET", "big:string", "z".repeat(200000));
    const rdb = await savedRdb(source);
    const expected = await digest(sc);
    fake = new FakePrimary((n) => ({ framing: n === 0 ? "eof" : "len", rdb, piece: 3000 }));
    for (let i = 0; i < 2; i++) {
      const replica = await startRedeno();
      replicas.push(replica);
      const rc = await RespClient.connect(replica.port);
      try {
        await rc.call("REPLICAOF", "127.0.0.1", fake.port);
        await waitLinkUp(rc);
        assert.equal(await digest(rc), expected);
      } finally {
        rc.close();
      }
    }
  } finally {
    sc.close();
    for (const r of replicas) await r.stop();
    await fake?.close();
    await source.stop();
  }
});

for (
  const [what, payload] of [
    ["a wrong checksum", (rdb: Uint8Array) => {
      const bad = rdb.slice();
      bad[bad.length - 1] ^= 0xff;
      return { framing: "eof", rdb: bad } as Payload;
    }],
    ["an unknown record type mid-way", () => ({
      framing: "len",
      rdb: handRdb([["new:a", "1"]], [0x63, 1, 2, 3]),
    } as Payload)],
    ["an RDB cut short", (rdb: Uint8Array) => ({
      framing: "len",
      rdb: rdb.subarray(0, rdb.length - 9),
    } as Payload)],
  ] as const
) {
  Deno.test(`a payload with ${what} is rejected: the old data stays and the sync is retried`, async () => {
    const good = handRdb([["new:a", "1"], ["new:b", "2"]]);
    const fake = new FakePrimary((n) => n < 2 ? payload(good) : { framing: "eof", rdb: good });
    const replica = await startRedeno();
    const rc = await RespClient.connect(replica.port);
    try {
      await seedOldData(rc);
      await rc.call("REPLICAOF", "127.0.0.1", fake.port);
      await waitFor(() => fake.syncs >= 2, { what: "a second sync attempt" });
      await assertOldData(rc);
      assert.equal(await rc.call("GET", "new:a"), null);
      // the third attempt is sound: the new dataset replaces the old one
      await waitLinkUp(rc);
      assert.equal(await rc.call("DBSIZE"), 2);
      assert.equal(await rc.call("GET", "new:b"), "2");
    } finally {
      rc.close();
      await replica.stop();
      await fake.close();
    }
  });
}

Deno.test("a full resync flags WATCHers of changed keys and serves clients blocked on keys it brings", async () => {
  const primary = await startRedeno([
    "--repl-diskless-sync-delay",
    "0",
    "--repl-backlog-size",
    "16kb",
  ]);
  const proxy = Proxy.start(primary.port);
  const replica = await startRedeno(["--replicaof", "127.0.0.1", String(proxy.port)]);
  const pc = await RespClient.connect(primary.port);
  const rc = await RespClient.connect(replica.port);
  const watcher = await RespClient.connect(replica.port);
  const reader = await RespClient.connect(replica.port);
  try {
    await pc.call("SET", "w", "1");
    await waitInSync(pc, [rc]);
    assert.equal(await watcher.call("WATCH", "w"), "OK");
    await reader.write(RespClient.encode(["XREAD", "BLOCK", 0, "STREAMS", "s", "$"]));
    await waitFor(async () =>
      String(await rc.call("INFO", "clients")).includes("blocked_clients:1")
    );
    proxy.setDown(true);
    proxy.cut();
    await waitFor(async () => (await infoField(rc, "master_link_status")) === "down");
    await pc.call("SET", "w", "2");
    await pc.call("XADD", "s", "1-1", "f", "v");
    await pc.call("SET", "filler", "x".repeat(40000)); // past the backlog: a full resync
    proxy.setDown(false);
    await waitInSync(pc, [rc]);
    assert.equal(await stat(pc, "sync_full"), 2);
    assert.deepEqual(await reader.read(), [["s", [["1-1", ["f", "v"]]]]]);
    assert.equal(await watcher.call("MULTI"), "OK");
    assert.equal(await watcher.call("GET", "w"), "QUEUED");
    assert.equal(await watcher.call("EXEC"), null);
  } finally {
    pc.close();
    rc.close();
    watcher.close();
    reader.close();
    await replica.stop();
    await proxy.close();
    await primary.stop();
  }
});

Deno.test("a replica with appendonly yes rewrites its AOF from the dataset a full sync brought", async () => {
  const primary = await startRedeno(["--repl-diskless-sync-delay", "0"]);
  const replica = await startRedeno(["--appendonly", "yes"]);
  const pc = await RespClient.connect(primary.port);
  const rc = await RespClient.connect(replica.port);
  try {
    await pipelineAll(pc, allTypesCommands(300));
    await rc.call("SET", "old:marker", "gone after the sync");
    await rc.call("REPLICAOF", "127.0.0.1", primary.port);
    await waitInSync(pc, [rc]);
    await pc.call("SET", "after", "1");
    await waitInSync(pc, [rc]);
    await waitFor(async () =>
      (await infoField(rc, "aof_rewrite_in_progress", "persistence")) === "0"
    );
    // the AOF alone rebuilds the synced dataset and what followed it
    assert.equal(await rc.call("DEBUG", "LOADAOF"), "OK");
    assert.equal(await digest(rc), await digest(pc));
  } finally {
    pc.close();
    rc.close();
    await replica.stop();
    await primary.stop();
  }
});

Deno.test("REPLICAOF NO ONE while a payload is being parsed keeps the old data", async () => {
  const source = await startRedeno();
  const sc = await RespClient.connect(source.port);
  let fake: FakePrimary | null = null;
  const replica = await spawnRedeno();
  const rc = await RespClient.connect(replica.port);
  try {
    await fillStrings(sc, 200000);
    const rdb = await savedRdb(source);
    fake = new FakePrimary(() => ({ framing: "eof", rdb }));
    await seedOldData(rc);
    await rc.call("REPLICAOF", "127.0.0.1", fake.port);
    await waitFor(async () => Number(await infoField(rc, "master_sync_read_bytes")) > 0, {
      intervalMs: 1,
      what: "the transfer to start",
    });
    assert.equal(await rc.call("REPLICAOF", "NO", "ONE"), "OK");
    assert.equal(await infoField(rc, "role"), "master");
    // whatever had arrived is dropped with the link
    await waitFor(() => fake!.closed >= 1, { what: "the link to be closed" });
    await assertOldData(rc);
  } finally {
    sc.close();
    rc.close();
    await replica.stop();
    await fake?.close();
    await source.stop();
  }
});
