import { RespClient } from "./tests/helpers.ts";
const port = Number(Deno.args[0]);
const r = await RespClient.connect(port);
await r.call("CONFIG", "SET", "maxmemory-clients", String(3 * 1024 * 1024));
await r.call("CLIENT", "NO-EVICT", "on");
const rr = await RespClient.connect(port);
const red = await RespClient.connect(port);
await red.call("CLIENT", "SETNAME", "redirected_client");
const id = await red.call("CLIENT", "ID");
await red.call("SUBSCRIBE", "__redis__:invalidate");
console.log(await rr.call("CLIENT", "TRACKING", "on", "redirect", String(id), "bcast"));
const key = "k".repeat(200 * 1024);
const sha = await rr.call("SCRIPT", "LOAD", `redis.call('incr', '${key}')`);
await r.call("DEBUG", "PAUSE-CRON", "1");
for (let i = 0; i < 40; i++) {
  const l = String(await r.call("CLIENT", "LIST")).split("\n").find((x) =>
    x.includes("redirected_client")
  );
  if (!l) {
    console.log("evicted at", i);
    break;
  }
  console.log(i, /tot-mem=\d+/.exec(l)![0], /omem=\d+/.exec(l)![0]);
  await rr.call("EVALSHA", String(sha), "0");
}
await r.call("DEBUG", "PAUSE-CRON", "0");
Deno.exit(0);
