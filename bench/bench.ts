/**
 * Side-by-side throughput benchmark: Redeno (`deno run main.ts`) against a real
 * redis-server, both on free loopback ports, with the same redis-benchmark matrix,
 * alternating which server goes first in each round. Prints requests/s, the ratio
 * Redeno/Redis, and each server's CPU time per request (utime+stime from /proc/PID/stat
 * around the run), plus geometric means. The bare-PONG Deno server of
 * ../shared/bench/pong.ts is measured in the same run as the floor for any Deno server: in every
 * round right after Redeno, so the "×floor" column (Redeno CPU per request over the floor's,
 * median of the rounds) is not skewed by load that changes between tests.
 *
 *   deno task bench                         # ROUNDS=3, core tests, -c 50, -P 1 and 16
 *   ROUNDS=5 FAMILIES=lists,hashes deno task bench
 *   TESTS=GET,SET PIPELINES=1 deno task bench
 *
 * Other families add tests to FAMILY_TESTS below; they run when named in FAMILIES.
 * FAMILIES=persistence and FAMILIES=replication also run bench/persistence_bench.ts and
 * bench/replication_bench.ts after the table (their own env: KEYS, PARTS, ...).
 */
import { redenoRunArgs } from "./redeno_args.ts";

/** One redis-benchmark test: `-t` name and optional value size. */
export interface BenchTest {
  /** label printed in the table */
  name: string;
  /** redis-benchmark -t argument */
  test: string;
  /** -d value size in bytes */
  dataSize?: number;
  /** a literal command for redis-benchmark instead of -t */
  command?: string[];
  /** subscribers (opened by this script) receiving on a channel during the run */
  subscribers?: { channel: string; count: number };
}

/** The core matrix. */
export const CORE_TESTS: BenchTest[] = [
  { name: "PING_MBULK", test: "ping_mbulk" },
  { name: "SET", test: "set" },
  { name: "GET", test: "get" },
  { name: "INCR", test: "incr" },
  { name: "MSET", test: "mset" },
  { name: "SET 1KB", test: "set", dataSize: 1024 },
  { name: "GET 1KB", test: "get", dataSize: 1024 },
];

/** Extra tests per family, run with FAMILIES=name,... */
export const FAMILY_TESTS: Record<string, BenchTest[]> = {
  lists: [
    { name: "LPUSH", test: "lpush" },
    { name: "RPUSH", test: "rpush" },
    { name: "LPOP", test: "lpop" },
    { name: "RPOP", test: "rpop" },
    { name: "LRANGE_100", test: "lrange_100" },
    { name: "LRANGE_600", test: "lrange_600" },
  ],
  hashes: [{ name: "HSET", test: "hset" }],
  sets: [{ name: "SADD", test: "sadd" }, { name: "SPOP", test: "spop" }],
  zsets: [{ name: "ZADD", test: "zadd" }, { name: "ZPOPMIN", test: "zpopmin" }],
  streams: [{
    name: "XADD",
    test: "xadd",
    command: ["XADD", "bench:stream", "MAXLEN", "~", "10000", "*", "field", "value"],
  }],
  // redis-benchmark cannot subscribe: the subscribers are sockets of this script
  pubsub: [
    {
      name: "PUBLISH 1sub",
      test: "publish",
      command: ["PUBLISH", "bench:ch", "hello"],
      subscribers: { channel: "bench:ch", count: 1 },
    },
    {
      name: "PUBLISH 50sub",
      test: "publish",
      command: ["PUBLISH", "bench:ch", "hello"],
      subscribers: { channel: "bench:ch", count: 50 },
    },
  ],
};

const env = (name: string, def: string) => Deno.env.get(name) ?? def;
const ROUNDS = Number(env("ROUNDS", "3"));
const CLIENTS = Number(env("CLIENTS", "50"));
const PIPELINES = env("PIPELINES", "1,16").split(",").map(Number);
/** requests per run, sized so that one run takes about 1-2 s here */
const REQUESTS: Record<string, number> = {
  "1": Number(env("N_UNPIPELINED", "100000")),
  "16": Number(env("N_PIPELINED", "600000")),
};
const CLK_TCK = 100;

/**
 * On a machine of 2 or more cores, servers run on core 1 and redis-benchmark on core 0
 * (taskset), unless PIN=0: a client and a server sharing one core (as the scheduler
 * often lets them) makes CPU per request swing by a fifth between runs.
 */
const PIN = env("PIN", "1") !== "0" && navigator.hardwareConcurrency >= 2 &&
  new Deno.Command("taskset", { args: ["-c", "0", "true"], stdout: "null", stderr: "null" })
    .outputSync().success;

/** A command line, pinned to `core` when PIN is on. */
function pinned(core: number, cmd: string, args: string[]): [string, string[]] {
  return PIN ? ["taskset", ["-c", String(core), cmd, ...args]] : [cmd, args];
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** utime + stime of a process, in µs. */
function cpuMicros(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * (1e6 / CLK_TCK);
}

interface Proc {
  name: string;
  port: number;
  child: Deno.ChildProcess;
}

async function waitListening(port: number, child: Deno.ChildProcess): Promise<void> {
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`server on port ${port} exited at start`);
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nothing listens on ${port}`);
}

async function start(name: string, cmd: string, args: (port: number) => string[]): Promise<Proc> {
  const port = freePort();
  const [bin, argv] = pinned(1, cmd, args(port));
  const child = new Deno.Command(bin, {
    args: argv,
    stdout: "null",
    stderr: "null",
    stdin: "null",
  }).spawn();
  await waitListening(port, child);
  return { name, port, child };
}

async function stop(p: Proc): Promise<void> {
  try {
    p.child.kill("SIGKILL");
  } catch { /* exited */ }
  await p.child.status;
}

interface Result {
  rps: number;
  cpuPerReq: number;
}

/**
 * Opens `count` subscribers of `channel` that read and discard messages; returns a
 * function that closes them.
 */
async function subscribe(
  port: number,
  channel: string,
  count: number,
): Promise<() => Promise<void>> {
  const enc = new TextEncoder();
  const conns: Deno.TcpConn[] = [];
  const loops: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(enc.encode(`*2\r\n$9\r\nSUBSCRIBE\r\n$${channel.length}\r\n${channel}\r\n`));
    const buf = new Uint8Array(64 * 1024);
    await conn.read(buf); // the confirmation
    conns.push(conn);
    loops.push((async () => {
      try {
        while ((await conn.read(buf)) !== null) { /* discard */ }
      } catch { /* closed */ }
    })());
  }
  return async () => {
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await Promise.all(loops);
  };
}

async function runBenchmark(p: Proc, t: BenchTest, pipeline: number): Promise<Result> {
  const n = REQUESTS[String(pipeline)] ?? REQUESTS["1"] * pipeline / 2;
  const args = ["-p", String(p.port), "-c", String(CLIENTS), "-n", String(n)];
  if (t.command === undefined) args.push("-t", t.test);
  if (pipeline > 1) args.push("-P", String(pipeline));
  if (t.dataSize) args.push("-d", String(t.dataSize));
  args.push("--csv");
  if (t.command !== undefined) args.push(...t.command);
  const unsubscribe = t.subscribers
    ? await subscribe(p.port, t.subscribers.channel, t.subscribers.count)
    : null;
  const before = cpuMicros(p.child.pid);
  const [bin, argv] = pinned(0, "redis-benchmark", args);
  const out = await new Deno.Command(bin, { args: argv, stdout: "piped", stderr: "null" }).output();
  const after = cpuMicros(p.child.pid);
  await unsubscribe?.();
  const text = new TextDecoder().decode(out.stdout);
  // --csv: a header line, then "TEST","rps",...
  const row = text.trim().split("\n").find((l) => !l.startsWith('"test"'));
  const rps = row ? Number(row.split(",")[1].replaceAll('"', "")) : NaN;
  return { rps, cpuPerReq: (after - before) / n };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function geomean(xs: number[]): number {
  const ok = xs.filter((x) => x > 0 && Number.isFinite(x));
  return Math.exp(ok.reduce((a, x) => a + Math.log(x), 0) / Math.max(1, ok.length));
}

function pad(s: string | number, n: number): string {
  return String(s).padStart(n);
}

async function main(): Promise<void> {
  const families = env("FAMILIES", "").split(",").filter((f) => f !== "");
  let tests = [...CORE_TESTS, ...families.flatMap((f) => FAMILY_TESTS[f] ?? [])];
  const only = env("TESTS", "");
  if (only !== "") {
    const names = only.split(",").map((s) => s.trim().toUpperCase());
    tests = tests.filter((t) => names.includes(t.name.toUpperCase()));
  }
  const dir = await Deno.makeTempDir({ prefix: "redeno-bench-" });
  const redeno = await start("redeno", Deno.execPath(), (port) => [
    ...redenoRunArgs(),
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--dir",
    dir,
  ]);
  const redis = await start("redis", "redis-server", (port) => [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--dir",
    dir,
    "--appendonly",
    "no",
  ]);
  const pongPath = new URL("../../shared/bench/pong.ts", import.meta.url).pathname;
  let pong: Proc | null = null;
  try {
    Deno.statSync(pongPath);
    pong = await start("pong", Deno.execPath(), (port) => [
      "run",
      "--allow-net=127.0.0.1",
      pongPath,
      String(port),
    ]);
  } catch {
    console.log(`(floor server ${pongPath} not found: skipped)`);
  }
  console.log(
    `redis-benchmark -c ${CLIENTS}, pipelines ${PIPELINES.join("/")}, ${ROUNDS} rounds (median), ` +
      `n=${REQUESTS["1"]} unpipelined / ${REQUESTS["16"]} pipelined` +
      (PIN ? ", servers on core 1, redis-benchmark on core 0" : ""),
  );
  try {
    for (const pipeline of PIPELINES) {
      console.log(`\n-P ${pipeline}`);
      console.log(
        `${"test".padEnd(12)}${pad("redeno rps", 12)}${pad("redis rps", 12)}${pad("ratio", 7)}` +
          `${pad("redeno µs/req", 15)}${pad("redis µs/req", 14)}${pad("cpu ratio", 11)}` +
          (pong !== null ? pad("×floor", 8) : ""),
      );
      const ratios: number[] = [];
      const cpuRatios: number[] = [];
      // every floor run of this pipeline depth, for the summary line
      const floor: Result[] = [];
      // Redis's PING_MBULK runs, the floor's reference (reused when PING_MBULK is a test)
      let ref: Result[] = [];
      for (const t of tests) {
        const a: Result[] = [];
        const b: Result[] = [];
        // Redeno's CPU per request over the floor's, both measured in the same round
        const overFloor: number[] = [];
        for (let r = 0; r < ROUNDS; r++) {
          // alternate which server goes first, so drift in machine load hits both
          if (r % 2 === 0) {
            a.push(await runBenchmark(redeno, t, pipeline));
            b.push(await runBenchmark(redis, t, pipeline));
          } else {
            b.push(await runBenchmark(redis, t, pipeline));
            a.push(await runBenchmark(redeno, t, pipeline));
          }
          if (pong !== null) {
            const f = await runBenchmark(pong, CORE_TESTS[0], pipeline);
            floor.push(f);
            overFloor.push(a[a.length - 1].cpuPerReq / f.cpuPerReq);
          }
        }
        if (t === CORE_TESTS[0]) ref = b;
        const aRps = median(a.map((x) => x.rps));
        const bRps = median(b.map((x) => x.rps));
        const aCpu = median(a.map((x) => x.cpuPerReq));
        const bCpu = median(b.map((x) => x.cpuPerReq));
        ratios.push(aRps / bRps);
        cpuRatios.push(aCpu / bCpu);
        console.log(
          `${t.name.padEnd(12)}${pad(Math.round(aRps), 12)}${pad(Math.round(bRps), 12)}${
            pad((aRps / bRps).toFixed(2), 7)
          }${pad(aCpu.toFixed(2), 15)}${pad(bCpu.toFixed(2), 14)}${
            pad((aCpu / bCpu).toFixed(2), 11)
          }${overFloor.length > 0 ? pad(median(overFloor).toFixed(2), 8) : ""}`,
        );
      }
      console.log(
        `${"geomean".padEnd(12)}${pad("", 24)}${pad(geomean(ratios).toFixed(2), 7)}${pad("", 29)}${
          pad(geomean(cpuRatios).toFixed(2), 11)
        }`,
      );
      if (floor.length > 0) {
        for (let r = ref.length; r < ROUNDS; r++) {
          ref.push(await runBenchmark(redis, CORE_TESTS[0], pipeline));
        }
        const f = median(floor.map((x) => x.cpuPerReq));
        const rr = median(ref.map((x) => x.cpuPerReq));
        console.log(
          `floor (pong.ts PING_MBULK): ${Math.round(median(floor.map((x) => x.rps)))} rps, ` +
            `${f.toFixed(2)} µs/req (${(f / rr).toFixed(2)}× redis)`,
        );
      }
    }
  } finally {
    await stop(redeno);
    await stop(redis);
    if (pong !== null) await stop(pong);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Scenario benchmarks with their own reports, run when named in FAMILIES. */
const SCENARIO_BENCHES: Record<string, string> = {
  persistence: "persistence_bench.ts",
  replication: "replication_bench.ts",
};

async function runScenarioBenches(): Promise<void> {
  const families = env("FAMILIES", "").split(",").filter((f) => f !== "");
  for (const family of families) {
    const script = SCENARIO_BENCHES[family];
    if (script === undefined) continue;
    console.log(`\n== ${family} (bench/${script}) ==`);
    const status = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", new URL(script, import.meta.url).pathname],
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status;
    if (!status.success) console.log(`bench/${script} exited with code ${status.code}`);
  }
}

if (import.meta.main) {
  await main();
  await runScenarioBenches();
}
