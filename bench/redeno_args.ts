/**
 * How the benchmarks start Redeno: `deno run` with the runtime flags of the `start` task
 * in deno.json (V8 tuning included), so they measure the server users run.
 */
const root = new URL("..", import.meta.url).pathname;

/** Deno arguments running main.ts as `deno task start` does (server arguments follow). */
export function redenoRunArgs(): string[] {
  const config = JSON.parse(Deno.readTextFileSync(`${root}deno.json`));
  const start = String(config.tasks.start).split(/\s+/);
  const flags = start.filter((a) => a.startsWith("--v8-flags="));
  return ["run", "--allow-all", ...flags, `${root}main.ts`];
}
