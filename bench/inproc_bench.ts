/**
 * In-process hot-path microbenchmark: a connection-less client processes pre-encoded
 * pipelines of 16 commands (parse → dispatch → reply, reply buffer reset), the same
 * commands redis-benchmark sends (without -r). Prints CPU-bound µs per command, free of
 * socket and scheduling noise, so small changes to the request path can be compared.
 *
 *   deno run -A bench/inproc_bench.ts            # every test
 *   deno run -A bench/inproc_bench.ts set hset   # some
 *
 * Add the --v8-flags of deno.json's start task (V8 inlining budget) to measure what
 * `deno task start` runs: they make most commands 5-15% cheaper here.
 */
import { configFromArgs, createServer } from "../src/startup.ts";
import { Client } from "../src/client.ts";
import { encodeCommand } from "../src/resp/writer.ts";
const config = configFromArgs([
  "--port",
  "0",
  "--save",
  "",
  "--loglevel",
  "warning",
  "--appendonly",
  "no",
  "--dir",
  Deno.makeTempDirSync(),
]);
const server = createServer(config);
await server.start();
const c = new Client(server, null);
const tests: Record<string, string[]> = {
  ping: ["PING"],
  set: ["SET", "key:__rand_int__", "xxx"],
  get: ["GET", "key:__rand_int__"],
  incr: ["INCR", "counter:__rand_int__"],
  mset: ["MSET", ...Array.from({ length: 10 }, (_, i) => [`key:__rand_int__${i}`, "xxx"]).flat()],
  set1k: ["SET", "key:__rand_int__", "x".repeat(1024)],
  get1k: ["GET", "key:__rand_int__"],
  hset: ["HSET", "myhash", "element:__rand_int__", "xxx"],
  zadd: ["ZADD", "myzset", "0", "element:__rand_int__"],
  lpush: ["LPUSH", "mylist", "xxx"],
  rpop: ["RPOP", "mylist"],
  sadd: ["SADD", "myset", "element:__rand_int__"],
  spop: ["SPOP", "myset"],
  xadd: ["XADD", "bench:stream", "MAXLEN", "~", "10000", "*", "field", "value"],
  publish: ["PUBLISH", "bench:ch", "hello"],
  lrange100: ["LRANGE", "mylist", "0", "99"],
  lrange600: ["LRANGE", "mylist", "0", "599"],
  rpush: ["RPUSH", "mylist", "xxx"],
  lpop: ["LPOP", "mylist"],
  zpopmin: ["ZPOPMIN", "myzset"],
  publish1: ["PUBLISH", "bench:ch1", "hello"],
};

/** Runs one command outside the measured loop (test setup). */
function exec(client: Client, argv: string[]): void {
  const bytes = encodeCommand(argv);
  client.parser.writable().set(bytes);
  client.parser.commit(bytes.length);
  client.processInput();
  client.reply.len = 0;
}

/**
 * Per-test setup, as redis-benchmark's own preparation: the LRANGE tests read a list of
 * 600 elements ("LPUSH (needed to benchmark LRANGE)"), publish1 has one subscriber.
 * Returns a hook run after each measured pipeline, if the test needs one.
 */
const setups: Record<string, () => (() => void) | undefined> = {
  lrange100: () => fillList(),
  lrange600: () => fillList(),
  publish1: () => {
    const subscriber = new Client(server, null);
    exec(subscriber, ["SUBSCRIBE", "bench:ch1"]);
    return () => {
      subscriber.reply.len = 0;
    };
  },
};

function fillList(): undefined {
  exec(c, ["DEL", "mylist"]);
  for (let i = 0; i < 6; i++) exec(c, ["LPUSH", "mylist", ...Array(100).fill("xxx")]);
  return undefined;
}
const which = Deno.args.length ? Deno.args : Object.keys(tests);
const P = 16;
for (const name of which) {
  const after = setups[name]?.();
  const one = encodeCommand(tests[name]);
  const chunk = new Uint8Array(one.length * P);
  for (let i = 0; i < P; i++) chunk.set(one, i * one.length);
  const run = (iters: number) => {
    for (let k = 0; k < iters; k++) {
      for (let off = 0; off < chunk.length;) {
        const region = c.parser.writable();
        const n = Math.min(region.length, chunk.length - off);
        region.set(chunk.subarray(off, off + n));
        c.parser.commit(n);
        off += n;
        c.processInput();
      }
      c.reply.len = 0;
      after?.();
    }
  };
  run(20000);
  const best: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    run(20000);
    best.push((performance.now() - t0) * 1000 / (20000 * P));
  }
  best.sort((a, b) => a - b);
  console.log(name.padEnd(9), "min", best[0].toFixed(3), "med", best[2].toFixed(3), "µs/cmd");
}
server.stop();
Deno.exit(0);
