/**
 * Persistence benchmark, Redeno against a real redis-server on the same data:
 *   - SAVE time and load time at startup for N string keys and N keys of mixed types
 *   - the longest stall a client sees (max PING round trip) during BGSAVE of N keys
 *   - SET throughput with appendonly yes / appendfsync everysec (ratio to Redis)
 *
 *   deno run -A bench/persistence_bench.ts            # N = 1,000,000
 *   KEYS=100000 deno run -A bench/persistence_bench.ts
 */
import { redenoRunArgs } from "./redeno_args.ts";
import {
  freePort,
  RespClient,
  spawnRedeno,
  startRealRedis,
  type TestProcess,
} from "../tests/helpers.ts";

const N = Number(Deno.env.get("KEYS") ?? 1_000_000);

type Start = (args: string[], dir?: string) => Promise<TestProcess>;
const SERVERS: Array<{ name: string; start: Start; log: string }> = [
  {
    name: "redeno",
    start: (args, dir) => spawnRedeno(args, dir ? { dir } : {}),
    log: "redeno.log",
  },
  { name: "redis", start: (args, dir) => startRealRedis(args, dir), log: "redis.log" },
];

async function fill(port: number, mixed: boolean): Promise<void> {
  const c = await RespClient.connect(port);
  const batch = 5000;
  for (let i = 0; i < N; i += batch) {
    const cmds: Array<Array<string | number>> = [];
    for (let j = i; j < Math.min(N, i + batch); j++) {
      const k = `key:${j}`;
      if (!mixed) cmds.push(["SET", k, `value:${j}`]);
      else {
        switch (j % 8) {
          case 0:
          case 1:
            cmds.push(["SET", k, `value:${j}`]);
            break;
          case 2:
          case 3:
            cmds.push(["HSET", k, "a", j, "b", "text", "c", "more text"]);
            break;
          case 4:
          case 5:
            cmds.push(["RPUSH", k, "x", "y", j]);
            break;
          case 6:
            cmds.push(["SADD", k, j, j + 1, j + 2]);
            break;
          default:
            cmds.push(["ZADD", k, 1, "a", 2, "b", 3, `m${j}`]);
        }
      }
    }
    await c.pipeline(cmds);
  }
  c.close();
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await fn();
  return [r, performance.now() - t];
}

async function loadSeconds(logFile: string): Promise<number> {
  const text = await Deno.readTextFile(logFile);
  const all = [...text.matchAll(/DB loaded from disk: ([0-9.]+) seconds/g)];
  return all.length > 0 ? Number(all[all.length - 1][1]) : NaN;
}

/**
 * Starts a server on an existing dir and waits (up to 10 minutes) until it listens:
 * Redeno loads before listening, which can outlast the test helpers' 15 s limit.
 */
async function restart(
  name: string,
  args: string[],
  dir: string,
): Promise<{ port: number; stop(): Promise<void> }> {
  const port = freePort();
  const common = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir];
  const cmd = name === "redis"
    ? new Deno.Command("redis-server", {
      args: [...common, ...args],
      stdout: "null",
      stderr: "null",
    })
    : new Deno.Command(Deno.execPath(), {
      args: [...redenoRunArgs(), ...common, ...args],
      stdout: "null",
      stderr: "null",
    });
  const child = cmd.spawn();
  const deadline = Date.now() + 600_000;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${name} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    port,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

async function saveAndLoad(
  mixed: boolean,
): Promise<Record<string, { save: number; load: number }>> {
  const out: Record<string, { save: number; load: number }> = {};
  for (const s of SERVERS) {
    const dir = await Deno.makeTempDir({ prefix: "persistence-bench-" });
    const logArgs = ["--loglevel", "notice", "--logfile", `${dir}/server.log`];
    const p = await s.start(logArgs, dir);
    await fill(p.port, mixed);
    const c = await RespClient.connect(p.port);
    const [, saveMs] = await timed(() => c.call("SAVE"));
    c.close();
    await p.stop();
    const again = await restart(s.name, logArgs, p.dir);
    const c2 = await RespClient.connect(again.port);
    let size = await c2.call("DBSIZE");
    while (typeof size !== "number") {
      // real Redis accepts connections while loading (LOADING errors)
      await new Promise((r) => setTimeout(r, 20));
      size = await c2.call("DBSIZE");
    }
    c2.close();
    await again.stop();
    if (size !== N) throw new Error(`${s.name}: loaded ${size} keys, expected ${N}`);
    out[s.name] = { save: saveMs / 1000, load: await loadSeconds(`${dir}/server.log`) };
    await Deno.remove(p.dir, { recursive: true });
  }
  return out;
}

async function pingStallDuringBgsave(): Promise<
  Record<string, { maxMs: number; bgsaveS: number }>
> {
  const out: Record<string, { maxMs: number; bgsaveS: number }> = {};
  for (const s of SERVERS) {
    const p = await s.start([]);
    await fill(p.port, false);
    const c = await RespClient.connect(p.port);
    const pinger = await RespClient.connect(p.port);
    const start = performance.now();
    await c.call("BGSAVE");
    let maxMs = 0;
    let done = false;
    const poll = (async () => {
      while (!done) {
        const info = String(await c.call("INFO", "persistence"));
        if (info.includes("rdb_bgsave_in_progress:0")) done = true;
        else await new Promise((r) => setTimeout(r, 50));
      }
    })();
    while (!done) {
      const t = performance.now();
      await pinger.call("PING");
      maxMs = Math.max(maxMs, performance.now() - t);
    }
    await poll;
    out[s.name] = { maxMs, bgsaveS: (performance.now() - start) / 1000 };
    c.close();
    pinger.close();
    await p.stop();
    await Deno.remove(p.dir, { recursive: true });
  }
  return out;
}

async function aofSetThroughput(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of SERVERS) {
    const p = await s.start(["--appendonly", "yes", "--appendfsync", "everysec"]);
    const r = await new Deno.Command("redis-benchmark", {
      args: ["-p", String(p.port), "-t", "set", "-n", "200000", "-c", "50", "-q", "-r", "100000"],
      stdout: "piped",
    }).output();
    const text = new TextDecoder().decode(r.stdout);
    const m = /SET: ([0-9.]+) requests per second/.exec(text.replace(/\r/g, "\n"));
    out[s.name] = m ? Number(m[1]) : NaN;
    await p.stop();
    await Deno.remove(p.dir, { recursive: true });
  }
  return out;
}

function ratio(a: number, b: number): string {
  return (a / b).toFixed(2);
}

if (import.meta.main) {
  console.log(`persistence benchmark, ${N} keys`);
  for (const mixed of [false, true]) {
    const r = await saveAndLoad(mixed);
    const label = mixed ? "mixed types" : "strings";
    console.log(
      `SAVE ${label}: redeno ${r.redeno.save.toFixed(2)} s, redis ${r.redis.save.toFixed(2)} s (x${
        ratio(r.redeno.save, r.redis.save)
      })`,
    );
    console.log(
      `load ${label}: redeno ${r.redeno.load.toFixed(2)} s, redis ${r.redis.load.toFixed(2)} s (x${
        ratio(r.redeno.load, r.redis.load)
      })`,
    );
  }
  const stall = await pingStallDuringBgsave();
  console.log(
    `max PING latency during BGSAVE: redeno ${stall.redeno.maxMs.toFixed(1)} ms (BGSAVE ${
      stall.redeno.bgsaveS.toFixed(2)
    } s), redis ${stall.redis.maxMs.toFixed(1)} ms (BGSAVE ${
      stall.redis.bgsaveS.toFixed(2)
    } s); target < 50 ms`,
  );
  const aof = await aofSetThroughput();
  console.log(
    `SET with appendonly everysec: redeno ${aof.redeno} req/s, redis ${aof.redis} req/s, ratio ${
      ratio(aof.redeno, aof.redis)
    } (target >= 0.7)`,
  );
}
