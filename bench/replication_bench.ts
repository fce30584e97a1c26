/**
 * Replication benchmark, Redeno side by side with a real redis-server:
 *
 * 1. SET throughput (redis-benchmark) on a primary with 2 replicas attached, as a ratio
 *    to the same primary without replicas (target ≥ 0.8);
 * 2. time for a full sync of KEYS keys (default 1M), from REPLICAOF to link up
 *    (target ≤ 1.5× Redis);
 * 3. replication lag under load: p50/p99 from a write on the primary to its visibility
 *    on a replica while redis-benchmark writes;
 * 4. the longest stall a client on the primary sees (PING round trip) while a full sync
 *    of KEYS keys is being produced (target < 50 ms).
 *
 * The full sync also reports the CPU time each side spent (Redis's primary forks: its
 * child's CPU is not counted), the steadier figure on a shared machine.
 *
 *   deno run -A bench/replication_bench.ts
 *   KEYS=200000 REQUESTS=200000 deno run -A bench/replication_bench.ts
 */
import { redenoRunArgs } from "./redeno_args.ts";

const env = (name: string, def: string) => Deno.env.get(name) ?? def;
const KEYS = Number(env("KEYS", "1000000"));
const REQUESTS = Number(env("REQUESTS", "300000"));
const CLIENTS = Number(env("CLIENTS", "50"));
const PIPELINE = Number(env("PIPELINE", "16"));
const PROBES = Number(env("PROBES", "300"));
/** which parts to run: throughput,sync,lag */
const PARTS = new Set(env("PARTS", "throughput,sync,lag").split(","));

interface Proc {
  port: number;
  child: Deno.ChildProcess;
  dir: string;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function waitListening(port: number): Promise<void> {
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`port ${port} did not open`);
}

/** Starts Redeno (`deno run main.ts`) or redis-server with redis-server style args. */
async function start(real: boolean, args: string[] = []): Promise<Proc> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "repl-bench-" });
  const common = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--dir",
    dir,
    "--repl-diskless-sync-delay",
    "0",
    "--loglevel",
    "warning",
    ...args,
  ];
  const child = real
    ? new Deno.Command("redis-server", { args: common, stdout: "null", stderr: "null" }).spawn()
    : new Deno.Command(Deno.execPath(), {
      args: [...redenoRunArgs(), ...common],
      stdout: "null",
      stderr: "null",
    }).spawn();
  await waitListening(port);
  return { port, child, dir };
}

async function stop(p: Proc): Promise<void> {
  try {
    p.child.kill("SIGKILL");
  } catch { /* gone */ }
  await p.child.status;
  await Deno.remove(p.dir, { recursive: true }).catch(() => {});
}

/** A minimal pipelining RESP client (replies only counted or returned raw). */
class Conn {
  #conn: Deno.TcpConn;
  #buf = new Uint8Array(0);
  #dec = new TextDecoder();
  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }
  static async open(port: number): Promise<Conn> {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    c.setNoDelay(true);
    return new Conn(c);
  }
  async send(cmds: string[][]): Promise<void> {
    let s = "";
    for (const argv of cmds) {
      s += `*${argv.length}\r\n`;
      for (const a of argv) s += `$${a.length}\r\n${a}\r\n`;
    }
    const bytes = new TextEncoder().encode(s);
    let off = 0;
    while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
  }
  /** Reads one reply as text (simple, bulk, integer or error; arrays unsupported). */
  async reply(): Promise<string | null> {
    for (;;) {
      const nl = this.#buf.indexOf(10);
      if (nl > 0) {
        const line = this.#dec.decode(this.#buf.subarray(0, nl - 1));
        if (line[0] === "$") {
          const n = Number(line.slice(1));
          if (n < 0) {
            this.#buf = this.#buf.slice(nl + 1);
            return null;
          }
          if (this.#buf.length >= nl + 1 + n + 2) {
            const v = this.#dec.decode(this.#buf.subarray(nl + 1, nl + 1 + n));
            this.#buf = this.#buf.slice(nl + 1 + n + 2);
            return v;
          }
        } else {
          this.#buf = this.#buf.slice(nl + 1);
          return line.slice(1);
        }
      }
      const chunk = new Uint8Array(1 << 16);
      const n = await this.#conn.read(chunk);
      if (n === null) throw new Error("closed");
      const merged = new Uint8Array(this.#buf.length + n);
      merged.set(this.#buf);
      merged.set(chunk.subarray(0, n), this.#buf.length);
      this.#buf = merged;
    }
  }
  async call(...argv: string[]): Promise<string | null> {
    await this.send([argv]);
    return await this.reply();
  }
  close(): void {
    try {
      this.#conn.close();
    } catch { /* closed */ }
  }
}

async function field(c: Conn, name: string): Promise<string> {
  const text = (await c.call("INFO", "replication")) ?? "";
  const m = new RegExp(`^${name}:(.*)$`, "m").exec(text);
  return m ? m[1].trim() : "";
}

async function waitUp(replica: Conn): Promise<void> {
  const deadline = Date.now() + 600_000;
  while (Date.now() < deadline) {
    if ((await field(replica, "master_link_status")) === "up") return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("replica never came up");
}

/** Loads `n` keys of 16 bytes with pipelined MSETs. */
async function fill(port: number, n: number): Promise<void> {
  const c = await Conn.open(port);
  const batch = 1000;
  for (let i = 0; i < n; i += batch * 10) {
    const cmds: string[][] = [];
    for (let j = i; j < Math.min(n, i + batch * 10); j += batch) {
      const argv = ["MSET"];
      for (let k = j; k < Math.min(n, j + batch); k++) argv.push(`key:${k}`, "value-0123456789");
      cmds.push(argv);
    }
    await c.send(cmds);
    for (let k = 0; k < cmds.length; k++) await c.reply();
  }
  c.close();
}

/** utime + stime of a process in microseconds (Linux /proc). */
function cpuMicros(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks * 10_000;
}

async function redisBenchmarkSet(port: number): Promise<number> {
  const out = await new Deno.Command("redis-benchmark", {
    args: [
      "-p",
      String(port),
      "-t",
      "set",
      "-n",
      String(REQUESTS),
      "-c",
      String(CLIENTS),
      "-P",
      String(PIPELINE),
      "-r",
      "100000",
      "--csv",
    ],
    stdout: "piped",
    stderr: "null",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const line = text.split("\n").find((l) => l.startsWith('"SET"'));
  return line ? Number(line.split(",")[1].replaceAll('"', "")) : NaN;
}

/** 1. SET throughput with 2 replicas / without. */
async function throughputRatio(
  real: boolean,
): Promise<{ alone: number; with2: number; cpuAlone: number; cpuWith2: number }> {
  const primary = await start(real);
  const pid = primary.child.pid;
  try {
    let cpu = cpuMicros(pid);
    const alone = await redisBenchmarkSet(primary.port);
    const cpuAlone = (cpuMicros(pid) - cpu) / REQUESTS;
    const replicas = [
      await start(real, ["--replicaof", "127.0.0.1", String(primary.port)]),
      await start(real, ["--replicaof", "127.0.0.1", String(primary.port)]),
    ];
    try {
      for (const r of replicas) {
        const c = await Conn.open(r.port);
        await waitUp(c);
        c.close();
      }
      cpu = cpuMicros(pid);
      const with2 = await redisBenchmarkSet(primary.port);
      const cpuWith2 = (cpuMicros(pid) - cpu) / REQUESTS;
      return { alone, with2, cpuAlone, cpuWith2 };
    } finally {
      for (const r of replicas) await stop(r);
    }
  } finally {
    await stop(primary);
  }
}

/** What one full sync measured. */
interface SyncFigures {
  syncMs: number;
  maxStallMs: number;
  /** CPU time of each side during the sync (the steadier figure on a shared machine) */
  primaryCpuMs: number;
  replicaCpuMs: number;
}

/** 2 and 4. Full sync time, and the longest PING stall on the primary meanwhile. */
async function fullSync(real: boolean): Promise<SyncFigures> {
  const primary = await start(real);
  const replica = await start(real);
  try {
    await fill(primary.port, KEYS);
    const rc = await Conn.open(replica.port);
    const pinger = await Conn.open(primary.port);
    let syncing = true;
    let maxStall = 0;
    const pings = (async () => {
      while (syncing) {
        const t = performance.now();
        await pinger.call("PING");
        maxStall = Math.max(maxStall, performance.now() - t);
      }
    })();
    const cpu0 = [cpuMicros(primary.child.pid), cpuMicros(replica.child.pid)];
    const t0 = performance.now();
    await rc.call("REPLICAOF", "127.0.0.1", String(primary.port));
    await waitUp(rc);
    const syncMs = performance.now() - t0;
    const primaryCpuMs = (cpuMicros(primary.child.pid) - cpu0[0]) / 1000;
    const replicaCpuMs = (cpuMicros(replica.child.pid) - cpu0[1]) / 1000;
    syncing = false;
    await pings;
    rc.close();
    pinger.close();
    return { syncMs, maxStallMs: maxStall, primaryCpuMs, replicaCpuMs };
  } finally {
    await stop(replica);
    await stop(primary);
  }
}

/** 3. Write-to-visibility lag on a replica while redis-benchmark loads the primary. */
async function lag(real: boolean): Promise<{ p50: number; p99: number }> {
  const primary = await start(real);
  const replica = await start(real, ["--replicaof", "127.0.0.1", String(primary.port)]);
  try {
    const rc = await Conn.open(replica.port);
    await waitUp(rc);
    const pc = await Conn.open(primary.port);
    const load = redisBenchmarkSet(primary.port);
    const samples: number[] = [];
    for (let i = 0; i < PROBES; i++) {
      const t = performance.now();
      await pc.call("SET", `probe:${i}`, "1");
      while ((await rc.call("GET", `probe:${i}`)) === null) { /* poll */ }
      samples.push(performance.now() - t);
    }
    await load;
    pc.close();
    rc.close();
    samples.sort((a, b) => a - b);
    const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
    return { p50: at(0.5), p99: at(0.99) };
  } finally {
    await stop(replica);
    await stop(primary);
  }
}

async function main(): Promise<void> {
  const f = (n: number) => n.toFixed(1);
  console.log(`replication bench: KEYS=${KEYS} REQUESTS=${REQUESTS} -c ${CLIENTS} -P ${PIPELINE}`);
  for (const real of PARTS.has("throughput") ? [false, true] : []) {
    const name = real ? "redis " : "redeno";
    const t = await throughputRatio(real);
    console.log(
      `${name} SET rps alone ${f(t.alone)}  with 2 replicas ${f(t.with2)}  ratio ${
        (t.with2 / t.alone).toFixed(2)
      }  primary CPU µs/request ${t.cpuAlone.toFixed(2)} → ${t.cpuWith2.toFixed(2)}`,
    );
  }
  const sync: Record<string, SyncFigures> = {};
  for (const real of PARTS.has("sync") ? [false, true] : []) {
    const name = real ? "redis " : "redeno";
    const s = sync[name] = await fullSync(real);
    console.log(
      `${name} full sync of ${KEYS} keys ${f(s.syncMs)} ms (CPU: primary ${
        s.primaryCpuMs.toFixed(0)
      } ms, replica ${s.replicaCpuMs.toFixed(0)} ms), longest client stall on the primary ${
        f(s.maxStallMs)
      } ms`,
    );
  }
  if (PARTS.has("sync")) {
    console.log(
      `full sync time ratio redeno/redis ${
        (sync.redeno.syncMs / sync["redis "].syncMs).toFixed(2)
      }`,
    );
  }
  for (const real of PARTS.has("lag") ? [false, true] : []) {
    const name = real ? "redis " : "redeno";
    const l = await lag(real);
    console.log(
      `${name} replication lag under load p50 ${l.p50.toFixed(2)} ms  p99 ${l.p99.toFixed(2)} ms`,
    );
  }
}

if (import.meta.main) await main();
