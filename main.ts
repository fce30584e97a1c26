/**
 * Redeno entry point: redis-server style arguments (an optional config file, then
 * `--name value ...` overrides) → Config → Server.start().
 */
import { startFromArgs } from "./src/startup.ts";

if (import.meta.main) {
  await startFromArgs(Deno.args);
}
