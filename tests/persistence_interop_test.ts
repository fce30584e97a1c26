/**
 * Persistence interoperability with a real Redis 7.0: RDB files, DUMP payloads and
 * multi-part AOFs written by one server are read by the other, value by value.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert";
import {
  HAVE_REDIS,
  RespClient,
  spawnRedeno,
  startRealRedis,
  startRedeno,
  waitFor,
} from "./helpers.ts";
import { encodings, fingerprint, loadDataset, waitLoaded } from "./persistence_dataset.ts";

const ignore = !HAVE_REDIS;

async function checkRdb(path: string): Promise<string> {
  const out = await new Deno.Command("redis-check-rdb", {
    args: [path],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`redis-check-rdb failed:\n${text}`);
  return text;
}

async function call(port: number, ...args: Array<string | number>) {
  const c = await RespClient.connect(port);
  try {
    return await c.call(...args);
  } finally {
    c.close();
  }
}

Deno.test({
  name:
    "an RDB saved by real Redis (compact and large encodings, TTLs, several dbs) loads here with every value equal",
  ignore,
  async fn() {
    const redis = await startRealRedis();
    let expected: unknown;
    let enc: Record<string, string>;
    try {
      await loadDataset(redis.port);
      enc = await encodings(redis.port);
      expected = await fingerprint(redis.port);
      strictEqual(await call(redis.port, "SAVE"), "OK");
    } finally {
      await redis.stop();
    }
    // the file really exercised Redis 7.0's compact encodings
    strictEqual(enc["hash-small"], "listpack");
    strictEqual(enc["zset-small"], "listpack");
    strictEqual(enc["set-ints"], "intset");
    strictEqual(enc["list-small"], "quicklist");
    strictEqual(enc["hash-big"], "hashtable");
    strictEqual(enc["zset-big"], "skiplist");
    const ours = await startRedeno(["--dir", redis.dir]);
    try {
      deepStrictEqual(await fingerprint(ours.port), expected);
      deepStrictEqual(await encodings(ours.port), enc);
    } finally {
      await ours.stop();
    }
  },
});

Deno.test({
  name: "an RDB saved here passes redis-check-rdb and loads in real Redis with every value equal",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "redeno-interop-" });
    const ours = await startRedeno(["--dir", dir]);
    let expected: unknown;
    try {
      await loadDataset(ours.port);
      expected = await fingerprint(ours.port);
      strictEqual(await call(ours.port, "SAVE"), "OK");
    } finally {
      await ours.stop();
    }
    const report = await checkRdb(`${dir}/dump.rdb`);
    ok(report.includes("RDB looks OK"), report);
    const redis = await startRealRedis([], dir);
    try {
      await waitLoaded(redis.port);
      deepStrictEqual(await fingerprint(redis.port), expected);
    } finally {
      await redis.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "DUMP payloads move between real Redis and here in both directions",
  ignore,
  async fn() {
    const redis = await startRealRedis();
    const ours = await startRedeno();
    const r = await RespClient.connect(redis.port);
    const o = await RespClient.connect(ours.port);
    try {
      await loadDataset(redis.port);
      await loadDataset(ours.port);
      const keys = ((await r.call("KEYS", "*")) as string[]).sort();
      for (const key of keys) {
        strictEqual(
          await o.call("RESTORE", `copy:${key}`, 0, await r.call("DUMP", key) as string),
          "OK",
        );
        strictEqual(
          await r.call("RESTORE", `copy:${key}`, 0, await o.call("DUMP", key) as string),
          "OK",
        );
      }
      // every copy equals its original, in type and value
      const values = (f: unknown, prefix: string) => {
        const out: Record<string, unknown> = {};
        for (
          const [k, v] of Object.entries(f as Record<string, { type: string; value: unknown }>)
        ) {
          if (k.startsWith(`0:${prefix}`)) out[k.slice(2 + prefix.length)] = [v.type, v.value];
        }
        return out;
      };
      const fr = await fingerprint(redis.port, [0]);
      const fo = await fingerprint(ours.port, [0]);
      const originals = (f: unknown) => {
        const out = values(f, "");
        for (const k of Object.keys(out)) if (k.startsWith("copy:")) delete out[k];
        return out;
      };
      deepStrictEqual(values(fo, "copy:"), originals(fr));
      deepStrictEqual(values(fr, "copy:"), originals(fo));
    } finally {
      r.close();
      o.close();
      await ours.stop();
      await redis.stop();
    }
  },
});

Deno.test({
  name: "RESTORE options and errors match real Redis (REPLACE, ABSTTL, IDLETIME, FREQ, BUSYKEY)",
  ignore,
  async fn() {
    const redis = await startRealRedis();
    const ours = await startRedeno();
    const r = await RespClient.connect(redis.port);
    const o = await RespClient.connect(ours.port);
    try {
      for (const c of [r, o]) await c.call("SET", "src", "value");
      const payload = await r.call("DUMP", "src") as string;
      const future = Date.now() + 100_000;
      const script: Array<Array<string | number>> = [
        ["RESTORE", "src", 0, payload],
        ["RESTORE", "src", 0, payload, "REPLACE"],
        ["RESTORE", "k1", future, payload, "ABSTTL"],
        ["PEXPIRETIME", "k1"],
        ["RESTORE", "k2", 0, payload, "IDLETIME", 1000],
        ["OBJECT", "IDLETIME", "k2"],
        ["RESTORE", "k3", 0, payload, "IDLETIME", -1],
        ["RESTORE", "k3", 0, payload, "FREQ", 300],
        ["RESTORE", "k3", 0, payload, "IDLETIME", 10, "FREQ", 3],
        ["RESTORE", "k3", 0, payload, "BOGUS"],
        ["RESTORE", "k3", -5, payload],
        ["RESTORE", "k3", "abc", payload],
        ["RESTORE", "k3", 0, "not a payload"],
        ["RESTORE", "k4", 1, payload, "ABSTTL"],
        ["EXISTS", "k4"],
        ["DUMP", "missing"],
      ];
      for (const cmd of script) {
        deepStrictEqual(
          String(await o.call(...cmd)),
          String(await r.call(...cmd)),
          JSON.stringify(cmd.map((a) => String(a).slice(0, 20))),
        );
      }
    } finally {
      r.close();
      o.close();
      await ours.stop();
      await redis.stop();
    }
  },
});

Deno.test({
  name: "a multi-part AOF written by real Redis 7.0 (RDB base + incr) is replayed here",
  ignore,
  async fn() {
    const redis = await startRealRedis(["--appendonly", "yes", "--appendfsync", "always"]);
    let expected: unknown;
    try {
      await loadDataset(redis.port);
      // rewrite so that part of the data is in the base and the rest in an incr file
      strictEqual(
        await call(redis.port, "BGREWRITEAOF"),
        "Background append only file rewriting started",
      );
      await waitFor(async () =>
        String(await call(redis.port, "INFO", "persistence")).includes("aof_rewrite_in_progress:0")
      );
      await call(redis.port, "RPUSH", "after-rewrite", "x", "y");
      await call(redis.port, "INCRBYFLOAT", "float", "1.5");
      await call(redis.port, "SET", "expiring", "v", "EX", 1000);
      expected = await fingerprint(redis.port);
    } finally {
      await redis.stop();
    }
    const ours = await startRedeno(["--dir", redis.dir, "--appendonly", "yes"]);
    try {
      deepStrictEqual(await fingerprint(ours.port), expected);
    } finally {
      await ours.stop();
    }
  },
});

Deno.test({
  name: "a multi-part AOF written here is accepted by redis-check-aof and replayed by real Redis",
  ignore,
  async fn() {
    const ours = await startRedeno(["--appendonly", "yes"]);
    const dir = ours.server.config.get("dir");
    const copy = await Deno.makeTempDir({ prefix: "redeno-aof-copy-" });
    let expected: unknown;
    try {
      await loadDataset(ours.port);
      strictEqual(
        await call(ours.port, "BGREWRITEAOF"),
        "Background append only file rewriting started",
      );
      await waitFor(async () =>
        String(await call(ours.port, "INFO", "persistence")).includes("aof_rewrite_in_progress:0")
      );
      await call(ours.port, "SET", "after", "rewrite");
      await call(ours.port, "SELECT", 3);
      expected = await fingerprint(ours.port);
      await new Deno.Command("cp", { args: ["-r", `${dir}/appendonlydir`, copy] }).output();
    } finally {
      await ours.stop();
    }
    const check = await new Deno.Command("redis-check-aof", {
      args: [`${copy}/appendonlydir/appendonly.aof.manifest`],
      stdout: "piped",
    }).output();
    ok(check.success, new TextDecoder().decode(check.stdout));
    const redis = await startRealRedis(["--appendonly", "yes"], copy);
    try {
      await waitLoaded(redis.port);
      deepStrictEqual(await fingerprint(redis.port), expected);
    } finally {
      await redis.stop();
      await Deno.remove(copy, { recursive: true });
    }
  },
});

Deno.test({
  name: "a corrupt RDB stops a Redeno process at start with a clear message and non-zero exit",
  ignore,
  async fn() {
    const ours = await startRedeno();
    const dir = ours.server.config.get("dir");
    const copy = await Deno.makeTempDir({ prefix: "redeno-corrupt-" });
    try {
      await loadDataset(ours.port);
      await call(ours.port, "SAVE");
      const bytes = await Deno.readFile(`${dir}/dump.rdb`);
      // flip one byte in the middle: checksum mismatch
      const flipped = bytes.slice();
      flipped[Math.floor(bytes.length / 2)] ^= 0xff;
      await Deno.writeFile(`${copy}/dump.rdb`, flipped);
      await rejectsStart(copy, /checksum|Corrupt|Short read|Unknown|Invalid/i);
      // truncated
      await Deno.writeFile(`${copy}/dump.rdb`, bytes.slice(0, bytes.length - 100));
      await rejectsStart(copy, /Short read/);
    } finally {
      await ours.stop();
      await Deno.remove(copy, { recursive: true });
    }
  },
});

async function rejectsStart(dir: string, pattern: RegExp): Promise<void> {
  let error = "";
  try {
    // the process may listen before it loads (serving LOADING), then exit on the error
    const p = await spawnRedeno([], { dir });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exited = await Promise.race([
      p.process.status.then((s) => !s.success),
      new Promise<boolean>((r) => timer = setTimeout(() => r(false), 10_000)),
    ]);
    clearTimeout(timer);
    await p.stop();
    if (exited) error = await Deno.readTextFile(`${dir}/redeno.log`);
  } catch (e) {
    error = (e as Error).message;
  }
  ok(pattern.test(error), `expected startup failure matching ${pattern}, got: ${error}`);
}

Deno.test({
  name: "under an LRU policy the RDB carries idle times that real Redis reads back",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "redeno-lru-" });
    const ours = await startRedeno(["--dir", dir, "--maxmemory-policy", "allkeys-lru"]);
    try {
      await call(ours.port, "SET", "src", "v");
      const payload = await call(ours.port, "DUMP", "src") as string;
      strictEqual(await call(ours.port, "RESTORE", "idle", 0, payload, "IDLETIME", 5000), "OK");
      strictEqual(await call(ours.port, "SAVE"), "OK");
    } finally {
      await ours.stop();
    }
    ok((await checkRdb(`${dir}/dump.rdb`)).includes("RDB looks OK"));
    const redis = await startRealRedis(["--maxmemory-policy", "allkeys-lru"], dir);
    try {
      await waitLoaded(redis.port);
      const idle = Number(await call(redis.port, "OBJECT", "IDLETIME", "idle"));
      ok(idle >= 5000 && idle < 5100, `idle ${idle}`);
    } finally {
      await redis.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "function libraries travel in RDB files both ways between real Redis and here",
  ignore,
  async fn() {
    const lib = "#!lua name=mylib\nredis.register_function('hello', function() return 'hi' end)";
    const redis = await startRealRedis();
    try {
      strictEqual(await call(redis.port, "FUNCTION", "LOAD", lib), "mylib");
      strictEqual(await call(redis.port, "SAVE"), "OK");
    } finally {
      await redis.stop();
    }
    const ours = await startRedeno(["--dir", redis.dir]);
    try {
      strictEqual(await call(ours.port, "FCALL", "hello", 0), "hi");
      strictEqual(await call(ours.port, "FUNCTION", "FLUSH"), "OK");
      strictEqual(
        await call(ours.port, "FUNCTION", "LOAD", lib.replace("'hi'", "'from redeno'")),
        "mylib",
      );
      strictEqual(await call(ours.port, "SAVE"), "OK");
    } finally {
      await ours.stop();
    }
    const again = await startRealRedis([], redis.dir);
    try {
      await waitLoaded(again.port);
      strictEqual(await call(again.port, "FCALL", "hello", 0), "from redeno");
    } finally {
      await again.stop();
      await Deno.remove(redis.dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "DUMP of small values is byte-for-byte Redis's (listpack hash/zset, intset, quicklist, ints)",
  ignore,
  fn: async () => {
    const ours = await startRedeno();
    const real = await startRealRedis();
    const a = await RespClient.connect(ours.port);
    const b = await RespClient.connect(real.port);
    try {
      const setup: Array<Array<string | number>> = [
        ["RPUSH", "list", "a", "b", 1, -70000, "x".repeat(70)],
        ["SADD", "ints16", 3, 1, 2],
        ["SADD", "ints32", 1, -70000, 300],
        ["SADD", "ints64", 1, "9000000000", -5],
        ["HSET", "hash", "f", "v", "g", 1, "h", "-12345678901"],
        ["ZADD", "zset", 1, "a", 2.5, "b", 0.1, "c", "-inf", "d", 1e20, "e"],
        ["SET", "int", 12345],
        ["SET", "str", "hello"],
      ];
      for (const cmd of setup) {
        deepStrictEqual(await a.call(...cmd), await b.call(...cmd));
      }
      // (ints64 is 32 bytes: Redis tries LZF on it, and our LZF's match finder differs
      // from liblzf's, so compressible payloads above 20 bytes may differ in bytes)
      for (const key of ["list", "ints16", "ints32", "hash", "zset", "int", "str"]) {
        deepStrictEqual(await a.call("DUMP", key), await b.call("DUMP", key), key);
      }
    } finally {
      a.close();
      b.close();
      await ours.stop();
      await real.stop();
    }
  },
});
