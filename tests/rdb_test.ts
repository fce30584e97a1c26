/**
 * RDB persistence scenarios: legacy encodings, old file versions, point-in-time BGSAVE
 * under concurrent writes, save points, MISCONF, saving at SHUTDOWN and SIGTERM,
 * DEBUG RELOAD, INFO persistence.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert";
import { configFromArgs, createServer } from "../src/startup.ts";
import {
  freePort,
  HAVE_REDIS,
  parseInfo,
  RespClient,
  spawnRedeno,
  startRealRedis,
  startRedeno,
  waitFor,
} from "./helpers.ts";
import { Crc64 } from "../src/persistence/crc64.ts";
import { encodeListpack } from "../src/persistence/listpack.ts";
import { rdbSnapshot } from "../src/persistence/rdb_writer.ts";
import { fingerprint, loadDataset, waitLoaded } from "./persistence_dataset.ts";

const te = new TextEncoder();

function bytesOf(...parts: Array<number | number[] | Uint8Array | string>): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === "number") out.push(p);
    else if (typeof p === "string") {
      for (let i = 0; i < p.length; i++) out.push(p.charCodeAt(i));
    } else out.push(...p);
  }
  return new Uint8Array(out);
}

function u32le(n: number): number[] {
  return [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
}

/** An RDB string of up to 63 bytes (6-bit length). */
function rstr(s: string): Uint8Array {
  return bytesOf(s.length, s);
}

/** A ziplist (the Redis 2.6-6.2 compact encoding) of short strings and integers. */
function ziplist(items: Array<string | number>): Uint8Array {
  const entries: number[][] = [];
  let prevlen = 0;
  for (const it of items) {
    const e: number[] = prevlen < 254 ? [prevlen] : [254, ...u32le(prevlen)];
    if (typeof it === "string") {
      e.push(it.length, ...[...it].map((c) => c.charCodeAt(0)));
    } else if (it >= 0 && it <= 12) {
      e.push(0xf1 + it);
    } else if (it >= -128 && it <= 127) {
      e.push(0xfe, it & 0xff);
    } else if (it >= -32768 && it <= 32767) {
      e.push(0xc0, it & 0xff, (it >> 8) & 0xff);
    } else {
      e.push(0xd0, ...u32le(it));
    }
    prevlen = e.length;
    entries.push(e);
  }
  const body = entries.flat();
  const lastLen = entries.length > 0 ? entries[entries.length - 1].length : 0;
  const total = 10 + body.length + 1;
  const tail = 10 + body.length - lastLen;
  return bytesOf(u32le(total), u32le(tail), items.length & 0xff, items.length >> 8, body, 0xff);
}

function zipmap(pairs: Array<[string, string]>): Uint8Array {
  const body: number[] = [pairs.length];
  for (const [k, v] of pairs) {
    body.push(k.length, ...[...k].map((c) => c.charCodeAt(0)));
    body.push(v.length, 0, ...[...v].map((c) => c.charCodeAt(0)));
  }
  body.push(0xff);
  return new Uint8Array(body);
}

function intset16(values: number[]): Uint8Array {
  const body: number[] = [...u32le(2), ...u32le(values.length)];
  for (const v of [...values].sort((a, b) => a - b)) body.push(v & 0xff, (v >> 8) & 0xff);
  return new Uint8Array(body);
}

/** An RDB string holding raw bytes. */
function blob(b: Uint8Array): Uint8Array {
  if (b.length < 64) return bytesOf(b.length, b);
  return bytesOf(0x40 | (b.length >> 8), b.length & 0xff, b);
}

/** A DUMP payload: type, value, RDB version, CRC64. */
function dumpPayload(type: number, value: Uint8Array, version = 10): string {
  const body = bytesOf(type, value, version & 0xff, version >> 8);
  const crc = new Crc64();
  crc.update(body);
  const all = bytesOf(body, crc.digestBytes());
  return String.fromCharCode(...all);
}

const LEGACY: Array<[string, number, Uint8Array]> = [
  ["list-ziplist", 10, blob(ziplist(["a", 7, -100, 3000, 100000, "hello"]))],
  ["list-quicklist-v1", 14, bytesOf(2, blob(ziplist(["x", "y"])), blob(ziplist([1, 2, "z"])))],
  ["set-intset", 11, blob(intset16([5, -3, 1000]))],
  ["zset-ziplist", 12, blob(ziplist(["c", "-inf", "a", 1, "b", "2.5"]))],
  ["hash-ziplist", 13, blob(ziplist(["f1", "v1", "f2", 22]))],
  ["hash-zipmap", 9, blob(zipmap([["name", "redis"], ["ver", "2"]]))],
  ["zset-ascii-doubles", 3, bytesOf(3, rstr("m1"), 3, "1.5", rstr("m2"), 254, rstr("m3"), 255)],
  ["list-plain", 1, bytesOf(2, rstr("p"), rstr("q"))],
];

Deno.test({
  name:
    "legacy encodings (ziplist, zipmap, intset, quicklist v1, ascii-double zset) restore as in real Redis",
  ignore: !HAVE_REDIS,
  async fn() {
    const redis = await startRealRedis();
    const ours = await startRedeno();
    const r = await RespClient.connect(redis.port);
    const o = await RespClient.connect(ours.port);
    try {
      for (const [key, type, value] of LEGACY) {
        const payload = dumpPayload(type, value);
        strictEqual(String(await r.call("RESTORE", key, 0, payload)), "OK", key);
        strictEqual(String(await o.call("RESTORE", key, 0, payload)), "OK", key);
      }
      deepStrictEqual(await fingerprint(ours.port, [0]), await fingerprint(redis.port, [0]));
    } finally {
      r.close();
      o.close();
      await ours.stop();
      await redis.stop();
    }
  },
});

Deno.test("Redis 7.2+ encodings (set listpack, RDB 11) restore here", async () => {
  const ours = await startRedeno();
  const o = await RespClient.connect(ours.port);
  try {
    const lp = encodeListpack(["a", "b", "42"]);
    strictEqual(await o.call("RESTORE", "s", 0, dumpPayload(20, blob(lp), 11)), "OK");
    deepStrictEqual(((await o.call("SMEMBERS", "s")) as string[]).sort(), ["42", "a", "b"]);
    strictEqual(
      String(await o.call("RESTORE", "t", 0, dumpPayload(20, blob(lp), 13))),
      "ERR DUMP payload version or checksum are wrong",
    );
  } finally {
    o.close();
    await ours.stop();
  }
});

Deno.test("an RDB v6 file with second expiries, module aux (skipped) and a function library loads", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redeno-rdb6-" });
  const future = Math.floor(Date.now() / 1000) + 3600;
  const past = Math.floor(Date.now() / 1000) - 3600;
  const moduleId = [0x81, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0];
  const body = bytesOf(
    "REDIS0006",
    250,
    rstr("redis-ver"),
    rstr("6.0.16"),
    // module aux: id, when_opcode UINT, when, then UINT 5, STRING "abc", EOF
    247,
    moduleId,
    2,
    2,
    2,
    5,
    5,
    rstr("abc"),
    0,
    // function library (Redis 7 FUNCTION2)
    245,
    blob(te.encode("#!lua name=lib\nredis.register_function('f', function() return 1 end)")),
    254,
    0,
    253,
    u32le(future),
    0,
    rstr("soon"),
    rstr("v"),
    253,
    u32le(past),
    0,
    rstr("gone"),
    rstr("v"),
    9,
    rstr("zm"),
    blob(zipmap([["a", "1"]])),
    255,
  );
  const crc = new Crc64();
  crc.update(body);
  await Deno.writeFile(`${dir}/dump.rdb`, bytesOf(body, crc.digestBytes()));
  const ours = await startRedeno(["--dir", dir]);
  const o = await RespClient.connect(ours.port);
  try {
    deepStrictEqual(((await o.call("KEYS", "*")) as string[]).sort(), ["soon", "zm"]);
    strictEqual(await o.call("EXPIRETIME", "soon"), future);
    deepStrictEqual(await o.call("HGETALL", "zm"), ["a", "1"]);
    strictEqual(await o.call("FCALL", "f", 0), 1);
    const info = parseInfo(String(await o.call("INFO", "persistence")));
    strictEqual(info.get("rdb_last_load_keys_loaded"), "2");
    strictEqual(info.get("rdb_last_load_keys_expired"), "1");
  } finally {
    o.close();
    await ours.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("BGSAVE writes the dataset as it was when it began, while writes, FLUSHDB and SWAPDB continue", async () => {
  const ours = await startRedeno();
  const c = await RespClient.connect(ours.port);
  const dir = ours.server.config.get("dir");
  try {
    const n = 30_000;
    const setup: Array<Array<string | number>> = [];
    for (let i = 0; i < n; i++) setup.push(["SET", `k:${i}`, `v:${i}`]);
    for (let i = 0; i < 50; i++) setup.push(["RPUSH", "list", `e${i}`]);
    setup.push(["SELECT", 1], ["SET", "db1", "one"], ["SELECT", 0]);
    for (let i = 0; i < setup.length; i += 5000) await c.pipeline(setup.slice(i, i + 5000));
    // BGSAVE, then writes in the same pipeline: they run before the snapshot's first slice
    const writes: Array<Array<string | number>> = [["BGSAVE"]];
    for (let i = 0; i < n; i += 7) writes.push(["SET", `k:${i}`, "changed"]);
    for (let i = 3; i < n; i += 11) writes.push(["DEL", `k:${i}`]);
    for (let i = 0; i < 1000; i++) writes.push(["SET", `new:${i}`, "x"]);
    writes.push(["LPUSH", "list", "front"], ["RPOP", "list"], ["EXPIRE", "k:1", 100]);
    writes.push(["SWAPDB", 0, 1], ["FLUSHDB"], ["SET", "k:2", "after-flush"]);
    const replies = await c.pipeline(writes);
    strictEqual(replies[0], "Background saving started");
    await waitFor(async () =>
      parseInfo(String(await c.call("INFO", "persistence"))).get("rdb_bgsave_in_progress") === "0"
    );
    const info = parseInfo(String(await c.call("INFO", "persistence")));
    strictEqual(info.get("rdb_last_bgsave_status"), "ok");
    const loaded = await startRedeno(["--dir", dir]);
    const l = await RespClient.connect(loaded.port);
    try {
      const gets: Array<Array<string | number>> = [];
      for (let i = 0; i < n; i++) gets.push(["GET", `k:${i}`]);
      const values = await l.pipeline(gets);
      for (let i = 0; i < n; i++) strictEqual(values[i], `v:${i}`);
      strictEqual(await l.call("DBSIZE"), n + 1);
      strictEqual(await l.call("TTL", "k:1"), -1);
      deepStrictEqual(
        await l.call("LRANGE", "list", 0, -1),
        setup.slice(n, n + 50).map((x) => x[2]),
      );
      await l.call("SELECT", 1);
      deepStrictEqual(await l.call("KEYS", "*"), ["db1"]);
    } finally {
      l.close();
      await loaded.stop();
    }
  } finally {
    c.close();
    await ours.stop();
  }
});

Deno.test("FLUSHALL aborts a running BGSAVE: no file, status unchanged, changes still counted", async () => {
  const ours = await startRedeno();
  const c = await RespClient.connect(ours.port);
  const dir = ours.server.config.get("dir");
  try {
    const fill: Array<Array<string | number>> = [];
    for (let i = 0; i < 2000; i++) fill.push(["SET", `k:${i}`, i]);
    await c.pipeline(fill);
    await c.call("CONFIG", "SET", "rdb-key-save-delay", 1000);
    strictEqual(await c.call("BGSAVE"), "Background saving started");
    strictEqual(await c.call("FLUSHALL"), "OK");
    await waitFor(async () =>
      parseInfo(String(await c.call("INFO", "persistence"))).get("rdb_bgsave_in_progress") === "0"
    );
    const info = parseInfo(String(await c.call("INFO", "persistence")));
    strictEqual(info.get("rdb_last_bgsave_status"), "ok");
    strictEqual(Number(info.get("rdb_changes_since_last_save")) > 1999, true);
    strictEqual(await c.call("SET", "x", "xx"), "OK");
    strictEqual([...Deno.readDirSync(dir)].some((f) => f.name.endsWith(".rdb")), false);
  } finally {
    c.close();
    await ours.stop();
  }
});

Deno.test("two snapshots taken at different moments each hold their own point in time", async () => {
  const ours = await startRedeno();
  const c = await RespClient.connect(ours.port);
  try {
    const cmds: Array<Array<string | number>> = [];
    for (let i = 0; i < 5000; i++) cmds.push(["SET", `k${i}`, "first"]);
    await c.pipeline(cmds);
    const a = rdbSnapshot(ours.server);
    await c.pipeline(cmds.map(([, k]) => ["SET", k, "second"]));
    const b = rdbSnapshot(ours.server);
    await c.pipeline(cmds.map(([, k]) => ["SET", k, "third"]));
    const collect = async (s: AsyncIterable<Uint8Array>) => {
      const parts: Uint8Array[] = [];
      for await (const p of s) parts.push(p);
      return parts;
    };
    const [pa, pb] = await Promise.all([collect(a), collect(b)]);
    for (const [parts, want] of [[pa, "first"], [pb, "second"]] as const) {
      const dir = await Deno.makeTempDir({ prefix: "redeno-snap-" });
      const f = await Deno.open(`${dir}/dump.rdb`, { write: true, create: true });
      for (const p of parts) await f.write(p);
      f.close();
      const s = await startRedeno(["--dir", dir]);
      const sc = await RespClient.connect(s.port);
      strictEqual(await sc.call("DBSIZE"), 5000);
      strictEqual(await sc.call("GET", "k4999"), want);
      strictEqual(await sc.call("GET", "k0"), want);
      sc.close();
      await s.stop();
      await Deno.remove(dir, { recursive: true });
    }
    strictEqual(ours.server.cowActive, false);
  } finally {
    c.close();
    await ours.stop();
  }
});

Deno.test("save points trigger a BGSAVE once enough changes happened", async () => {
  const ours = await startRedeno(["--save", "1 3"]);
  const c = await RespClient.connect(ours.port);
  try {
    await c.pipeline([["SET", "a", 1], ["SET", "b", 2], ["SET", "c", 3]]);
    await waitFor(async () => {
      const info = parseInfo(String(await c.call("INFO", "persistence")));
      return info.get("rdb_saves") === "1" && info.get("rdb_changes_since_last_save") === "0";
    }, { timeoutMs: 5000 });
    const st = await Deno.stat(`${ours.server.config.get("dir")}/dump.rdb`);
    ok(st.size > 0);
  } finally {
    c.close();
    await ours.stop();
  }
});

Deno.test("a failed BGSAVE makes writes fail with MISCONF until a save succeeds", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redeno-misconf-" });
  const ours = await startRedeno(["--dir", dir, "--save", "3600 1"]);
  const c = await RespClient.connect(ours.port);
  try {
    await Deno.remove(dir, { recursive: true });
    strictEqual(await c.call("BGSAVE"), "Background saving started");
    await waitFor(async () =>
      parseInfo(String(await c.call("INFO", "persistence"))).get("rdb_last_bgsave_status") === "err"
    );
    const denied = String(await c.call("SET", "k", "v"));
    ok(denied.startsWith("MISCONF Redis is configured to save RDB snapshots"), denied);
    strictEqual(await c.call("GET", "k"), null);
    await Deno.mkdir(dir);
    strictEqual(await c.call("BGSAVE"), "Background saving started");
    await waitFor(async () =>
      parseInfo(String(await c.call("INFO", "persistence"))).get("rdb_last_bgsave_status") === "ok"
    );
    strictEqual(await c.call("SET", "k", "v"), "OK");
  } finally {
    c.close();
    await ours.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("SAVE and BGSAVE refuse to overlap a running BGSAVE, as Redis", async () => {
  const ours = await startRedeno();
  const c = await RespClient.connect(ours.port);
  try {
    const cmds: Array<Array<string | number>> = [];
    for (let i = 0; i < 20_000; i++) cmds.push(["SET", `k${i}`, i]);
    await c.pipeline(cmds);
    const r = await c.pipeline([["BGSAVE"], ["BGSAVE"], ["SAVE"], ["BGSAVE", "NOW"]]);
    deepStrictEqual(r.map(String), [
      "Background saving started",
      "ERR Background save already in progress",
      "ERR Background save already in progress",
      "ERR syntax error",
    ]);
    await waitFor(async () =>
      parseInfo(String(await c.call("INFO", "persistence"))).get("rdb_bgsave_in_progress") === "0"
    );
  } finally {
    c.close();
    await ours.stop();
  }
});

Deno.test("SHUTDOWN saves when save points exist, SHUTDOWN NOSAVE does not", async () => {
  for (const [args, saved] of [[[], true], [["NOSAVE"], false]] as const) {
    const ours = await startRedeno(["--save", "3600 1"]);
    const dir = ours.server.config.get("dir");
    const c = await RespClient.connect(ours.port);
    try {
      await c.call("SET", "k", "v");
      await c.write(RespClient.encode(["SHUTDOWN", ...args]));
      ok(await c.closedByServer());
      const exists = await Deno.stat(`${dir}/dump.rdb`).then(() => true, () => false);
      strictEqual(exists, saved);
    } finally {
      c.close();
      await ours.stop();
    }
  }
});

Deno.test("SIGTERM saves the dataset when save points exist, and it is loaded at restart", async () => {
  const p = await spawnRedeno(["--save", "3600 1"]);
  try {
    const c = await RespClient.connect(p.port);
    try {
      await c.call("RPUSH", "l", "a", "b");
    } finally {
      c.close();
    }
    await p.stop("SIGTERM");
    const again = await spawnRedeno([], { dir: p.dir });
    try {
      await waitLoaded(again.port);
      const c2 = await RespClient.connect(again.port);
      try {
        deepStrictEqual(await c2.call("LRANGE", "l", 0, -1), ["a", "b"]);
      } finally {
        c2.close();
      }
    } finally {
      await again.stop();
    }
  } finally {
    await p.stop();
    await Deno.remove(p.dir, { recursive: true });
  }
});

Deno.test("DEBUG RELOAD saves and reloads the whole dataset unchanged", async () => {
  const ours = await startRedeno();
  try {
    await loadDataset(ours.port);
    const before = await fingerprint(ours.port);
    const c = await RespClient.connect(ours.port);
    strictEqual(await c.call("DEBUG", "RELOAD"), "OK");
    const info = parseInfo(String(await c.call("INFO", "persistence")));
    strictEqual(info.get("rdb_changes_since_last_save"), "0");
    c.close();
    deepStrictEqual(await fingerprint(ours.port), before);
  } finally {
    await ours.stop();
  }
});

Deno.test({
  name: "INFO persistence has the fields real Redis prints",
  ignore: !HAVE_REDIS,
  async fn() {
    const redis = await startRealRedis();
    const ours = await startRedeno();
    try {
      const fields = async (port: number) => {
        const c = await RespClient.connect(port);
        const text = String(await c.call("INFO", "persistence"));
        c.close();
        return [...parseInfo(text).keys()];
      };
      deepStrictEqual(await fields(ours.port), await fields(redis.port));
    } finally {
      await ours.stop();
      await redis.stop();
    }
  },
});

Deno.test("SHUTDOWN during a BGSAVE abandons it and leaves no temp file", async () => {
  const ours = await startRedeno();
  const dir = ours.server.config.get("dir");
  const c = await RespClient.connect(ours.port);
  try {
    const cmds: Array<Array<string | number>> = [];
    for (let i = 0; i < 50_000; i++) cmds.push(["SET", `k${i}`, "x".repeat(50)]);
    await c.pipeline(cmds);
    await c.write(RespClient.encode(["BGSAVE"]));
    strictEqual(await c.read(), "Background saving started");
    await c.write(RespClient.encode(["SHUTDOWN", "NOSAVE"]));
    ok(await c.closedByServer(10_000));
    deepStrictEqual([...Deno.readDirSync(dir)].map((e) => e.name), []);
  } finally {
    c.close();
    await ours.stop();
  }
});

Deno.test("clients connected while the RDB loads at start get LOADING, then the data", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redeno-loading-" });
  const src = await startRedeno(["--dir", dir]);
  for (let i = 0; i < 200_000; i++) src.server.dbs[0].add(`k${i}`, `v${i}`);
  const c = await RespClient.connect(src.port);
  strictEqual(await c.call("SAVE"), "OK");
  c.close();
  await src.stop();
  const port = freePort();
  const server = createServer(configFromArgs([
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--dir",
    dir,
    "--loglevel",
    "warning",
  ]));
  const started = server.start();
  const c2 = await RespClient.connect(port);
  try {
    strictEqual(
      String(await c2.call("GET", "k1")),
      "LOADING Redis is loading the dataset in memory",
    );
    await started;
    strictEqual(await c2.call("GET", "k199999"), "v199999");
    strictEqual(await c2.call("DBSIZE"), 200_000);
  } finally {
    c2.close();
    server.stop();
    await new Promise((r) => setTimeout(r, 10));
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("RESTORE refuses corrupt payloads as Redis (duplicates, garbage with DEBUG SET-SKIP-CHECKSUM-VALIDATION)", async () => {
  const ours = await startRedeno();
  const c = await RespClient.connect(ours.port);
  try {
    // a hash listpack holding field "f" twice: DUMP of a 2-field hash with "g" renamed
    await c.call("HSET", "h", "f", "1", "g", "2");
    const payload = String(await c.call("DUMP", "h"));
    const dup = payload.replace("\x81g", "\x81f");
    strictEqual(await c.call("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", 1), "OK");
    strictEqual(errText(await c.call("RESTORE", "h2", 0, dup)), "ERR Bad data format");
    strictEqual(
      errText(await c.call("RESTORE", "h3", 0, "\x10garbage-bytes\x0a\x00" + "\x00".repeat(8))),
      "ERR Bad data format",
    );
    strictEqual(await c.call("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", 0), "OK");
    strictEqual(
      errText(await c.call("RESTORE", "h4", 0, dup)),
      "ERR DUMP payload version or checksum are wrong",
    );
    strictEqual(await c.call("EXISTS", "h2", "h3", "h4"), 0);
    strictEqual(await c.call("PING"), "PONG");
  } finally {
    c.close();
    await ours.stop();
  }
});

function errText(r: unknown): string {
  return (r as { message: string }).message;
}
