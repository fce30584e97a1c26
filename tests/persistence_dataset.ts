/**
 * Shared fixtures for the persistence tests: a dataset holding every type in its
 * compact and large encodings (several dbs, TTLs), and a fingerprint of a server's
 * whole dataset read through its commands, to compare two servers value by value.
 */
import { type Reply, RespClient, RespError } from "./helpers.ts";

function binaryBlob(n: number, seed: number): string {
  let s = "";
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    s += String.fromCharCode(x & 0xff);
  }
  return s;
}

/** Commands creating the mixed dataset (strings are binary strings). */
export function datasetCommands(scale = 1): Array<Array<string | number>> {
  const cmds: Array<Array<string | number>> = [];
  const add = (...c: Array<string | number>) => cmds.push(c);
  add("SELECT", 0);
  // strings: raw, integers (int8/16/32 and beyond), LZF-compressible, binary, empty
  add("SET", "str", "hello world");
  add("SET", "int8", "-42");
  add("SET", "int16", "1234");
  add("SET", "int32", "123456789");
  add("SET", "int64", "9223372036854775807");
  add("SET", "notint", "0123");
  add("SET", "long", "abc".repeat(500));
  add("SET", "binary", binaryBlob(300, 7));
  add("SET", "empty", "");
  add("SET", "ttl-str", "v", "PX", 3_600_000);
  // lists: small (one listpack node), large (many nodes, long elements)
  add("RPUSH", "list-small", "a", "b", "1", "-5", "70000", "3000000000", binaryBlob(20, 1));
  const big: string[] = [];
  for (let i = 0; i < 1000 * scale; i++) {
    big.push(i % 7 === 0 ? "x".repeat(100 + i % 50) : String(i));
  }
  add("RPUSH", "list-big", ...big);
  // hashes: listpack, hashtable by count, hashtable by value length
  add("HSET", "hash-small", "f1", "v1", "f2", "2", "f3", binaryBlob(10, 3));
  const hbig: string[] = [];
  for (let i = 0; i < 1000 * scale; i++) hbig.push(`field:${i}`, `value:${i}`);
  add("HSET", "hash-big", ...hbig);
  add("HSET", "hash-longval", "f", "y".repeat(200), "g", "1");
  add("HSET", "ttl-hash", "a", "1");
  add("PEXPIRE", "ttl-hash", 7_200_000);
  // sets: intset small and large, strings small and large
  add("SADD", "set-ints", "1", "2", "3", "-100", "65536", "4294967296");
  const sbig: string[] = [];
  for (let i = 0; i < 1000 * scale; i++) sbig.push(String(i * 3));
  add("SADD", "set-ints-big", ...sbig);
  add("SADD", "set-strs", "a", "b", "c", "1");
  const sstr: string[] = [];
  for (let i = 0; i < 300 * scale; i++) sstr.push(`member-${i}`);
  add("SADD", "set-strs-big", ...sstr);
  // sorted sets: listpack and skiplist, special scores
  add("ZADD", "zset-small", 1, "a", 2.5, "b", -3, "c", "inf", "top", "-inf", "bottom");
  const zbig: Array<string | number> = [];
  for (let i = 0; i < 300 * scale; i++) zbig.push(i / 7, `m${i}`);
  zbig.push("1e-300", "tiny", "123456789.123456789", "precise");
  add("ZADD", "zset-big", ...zbig);
  // streams: entries with same and different fields, deletions, groups, PEL, consumers
  for (let i = 1; i <= 60; i++) {
    if (i % 10 === 0) add("XADD", "stream", `${1000 + i}-${i}`, "other", `o${i}`, "x", "y");
    else add("XADD", "stream", `${1000 + i}-${i}`, "name", `n${i}`, "count", i);
  }
  add("XDEL", "stream", "1003-3", "1020-20");
  add("XGROUP", "CREATE", "stream", "g1", "0");
  add("XGROUP", "CREATE", "stream", "g2", "$");
  add("XREADGROUP", "GROUP", "g1", "alice", "COUNT", 10, "STREAMS", "stream", ">");
  add("XREADGROUP", "GROUP", "g1", "bob", "COUNT", 5, "STREAMS", "stream", ">");
  add("XACK", "stream", "g1", "1001-1", "1002-2");
  add("XGROUP", "CREATECONSUMER", "stream", "g1", "carol");
  for (let i = 0; i < 250 * scale; i++) {
    add("XADD", "stream-big", "*", "k", i, "payload", "p".repeat(i % 40));
  }
  add("XADD", "stream-empty-after-del", "5-5", "a", "b");
  add("XDEL", "stream-empty-after-del", "5-5");
  // other databases
  add("SELECT", 1);
  add("SET", "db1-key", "one");
  add("RPUSH", "db1-list", "x", "y");
  add("SET", "db1-ttl", "t", "EX", 10_000);
  add("SELECT", 5);
  add("HSET", "db5-hash", "k", "v");
  add("SELECT", 0);
  return cmds;
}

/** Sends the dataset commands, failing on any error reply. */
export async function loadDataset(port: number, scale = 1): Promise<void> {
  const c = await RespClient.connect(port);
  try {
    const cmds = datasetCommands(scale);
    for (let i = 0; i < cmds.length; i += 200) {
      const replies = await c.pipeline(cmds.slice(i, i + 200));
      for (const [j, r] of replies.entries()) {
        if (r instanceof RespError) {
          throw new Error(`${JSON.stringify(cmds[i + j]).slice(0, 80)} failed: ${r.message}`);
        }
      }
    }
  } finally {
    c.close();
  }
}

function pairs(r: Reply): string[][] {
  const a = r as string[];
  const out: string[][] = [];
  for (let i = 0; i < a.length; i += 2) out.push([a[i], a[i + 1]]);
  return out;
}

function sortedPairs(r: Reply): string[][] {
  return pairs(r).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
}

/** Everything observable about a stream (entries, metadata, groups, PELs). */
async function streamFingerprint(c: RespClient, key: string): Promise<unknown> {
  const info = await c.call("XINFO", "STREAM", key);
  const meta = pairs(info).filter(([k]) =>
    [
      "length",
      "last-generated-id",
      "max-deleted-entry-id",
      "entries-added",
      "recorded-first-entry-id",
    ]
      .includes(k)
  );
  const groups = [];
  for (const g of (await c.call("XINFO", "GROUPS", key)) as Reply[]) {
    const gp = pairs(g);
    const name = gp.find(([k]) => k === "name")![1];
    const consumers = ((await c.call("XINFO", "CONSUMERS", key, name)) as Reply[]).map((x) =>
      pairs(x).filter(([k]) => k === "name" || k === "pending")
    );
    const pel = ((await c.call("XPENDING", key, name, "-", "+", 1000)) as Reply[][]).map((p) => [
      p[0],
      p[1],
      p[3],
    ]);
    groups.push({ group: gp, consumers, pel });
  }
  return { meta, entries: await c.call("XRANGE", key, "-", "+"), groups };
}

/**
 * The dataset of databases `dbs` as plain data: per key its type, absolute expiry
 * (PEXPIRETIME) and value.
 */
export async function fingerprint(port: number, dbs: number[] = [0, 1, 5]): Promise<unknown> {
  const c = await RespClient.connect(port);
  const out: Record<string, unknown> = {};
  try {
    for (const db of dbs) {
      await c.call("SELECT", db);
      const keys = ((await c.call("KEYS", "*")) as string[]).sort();
      for (const key of keys) {
        const type = await c.call("TYPE", key);
        const expire = await c.call("PEXPIRETIME", key);
        let value: unknown;
        switch (type) {
          case "string":
            value = await c.call("GET", key);
            break;
          case "list":
            value = await c.call("LRANGE", key, 0, -1);
            break;
          case "hash":
            value = sortedPairs(await c.call("HGETALL", key));
            break;
          case "set":
            value = ((await c.call("SMEMBERS", key)) as string[]).sort();
            break;
          case "zset":
            value = await c.call("ZRANGE", key, 0, -1, "WITHSCORES");
            break;
          case "stream":
            value = await streamFingerprint(c, key);
            break;
        }
        out[`${db}:${key}`] = { type, expire, value };
      }
    }
  } finally {
    c.close();
  }
  return out;
}

/** OBJECT ENCODING of every key of db 0 (to check which encodings a file exercised). */
export async function encodings(port: number): Promise<Record<string, string>> {
  const c = await RespClient.connect(port);
  try {
    const out: Record<string, string> = {};
    for (const key of (await c.call("KEYS", "*")) as string[]) {
      out[key] = String(await c.call("OBJECT", "ENCODING", key));
    }
    return out;
  } finally {
    c.close();
  }
}

/** Waits until a server answers without LOADING (servers listen while they load). */
export async function waitLoaded(port: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  const c = await RespClient.connect(port);
  try {
    for (;;) {
      const r = await c.call("PING");
      if (!(r instanceof RespError && r.message.startsWith("LOADING"))) return;
      if (Date.now() > deadline) throw new Error("server still loading after 30 s");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    c.close();
  }
}
