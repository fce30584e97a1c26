/**
 * RDB loader microbenchmark, in process (no sockets): loads an RDB file into a fresh
 * server several times and prints wall and CPU seconds (CPU time is the steadier figure
 * on a shared machine). Make the file with a real Redis, e.g. 1M `SET key:N value:N`
 * then SAVE.
 *
 *   deno run -A bench/rdb_load_bench.ts /path/to/dump.rdb [rounds]
 */
import process from "node:process";
import { configFromArgs, createServer } from "../src/startup.ts";
import { loadRdb } from "../src/persistence/rdb_reader.ts";

const file = Deno.args[0];
if (!file) throw new Error("usage: rdb_load_bench.ts <file.rdb> [rounds]");
const bytes = Deno.readFileSync(file);
for (let i = 0; i < Number(Deno.args[1] ?? 3); i++) {
  const server = createServer(configFromArgs(["--save", "", "--port", "0"]));
  const t = performance.now();
  const u0 = process.cpuUsage();
  const r = loadRdb(server, bytes);
  const u = process.cpuUsage(u0);
  console.log(
    `${r.keys} keys: ${((performance.now() - t) / 1000).toFixed(2)} s wall, ${
      ((u.user + u.system) / 1e6).toFixed(2)
    } s CPU`,
  );
}
