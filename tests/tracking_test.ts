import assert from "node:assert/strict";
import {
  HAVE_REDIS,
  parseInfo,
  type Reply,
  RespClient,
  startRealRedis,
  startRedeno,
} from "./helpers.ts";

/**
 * Runs `scenario` against Redeno and, when available, a real redis-server; the
 * observations it returns must be equal.
 */
async function sideBySide(
  scenario: (port: number) => Promise<unknown[]>,
  args: string[] = [],
): Promise<void> {
  const ours = await startRedeno(args);
  try {
    const a = await scenario(ours.port);
    if (!HAVE_REDIS) return;
    const real = await startRealRedis(args);
    try {
      const b = await scenario(real.port);
      assert.deepEqual(a, b);
    } finally {
      await real.stop();
    }
  } finally {
    await ours.stop();
  }
}

/** Connects `n` clients; the body's clients are closed afterwards. */
async function withClients<T>(
  port: number,
  n: number,
  body: (cs: RespClient[]) => Promise<T>,
): Promise<T> {
  const cs: RespClient[] = [];
  for (let i = 0; i < n; i++) cs.push(await RespClient.connect(port));
  try {
    return await body(cs);
  } finally {
    for (const c of cs) c.close();
  }
}

async function clientId(c: RespClient): Promise<number> {
  return Number(await c.call("CLIENT", "ID"));
}

/** The flags= field of this connection's CLIENT INFO line. */
async function clientFlags(c: RespClient): Promise<string> {
  const reply = await c.call("CLIENT", "INFO");
  const line = typeof reply === "object" && reply !== null && "verbatim" in reply
    ? reply.verbatim
    : String(reply);
  return /flags=(\S+)/.exec(line)![1];
}

async function trackingInfo(c: RespClient): Promise<string[]> {
  const info = parseInfo(String(await c.call("INFO", "everything")));
  return [
    "tracking_clients",
    "tracking_total_keys",
    "tracking_total_items",
    "tracking_total_prefixes",
  ].map((f) => `${f}:${info.get(f)}`);
}

Deno.test({
  name: "RESP3 tracking: keys read are invalidated by push messages when another client writes",
  fn: () =>
    sideBySide((port) =>
      withClients(port, 2, async ([a, b]) => {
        const log: Reply[] = [];
        await a.call("HELLO", "3");
        log.push(await a.call("CLIENT", "TRACKING", "ON"));
        log.push(await a.call("GET", "k1"));
        log.push(await a.call("MGET", "k2", "k3"));
        log.push(await a.call("CLIENT", "TRACKINGINFO"));
        log.push(await clientFlags(a));
        log.push(...await trackingInfo(b));
        log.push(await b.call("SET", "k1", "v"));
        log.push(await a.read());
        log.push(await b.call("MSET", "k2", "x", "k3", "y", "k1", "w"));
        log.push(await a.read(), await a.read());
        // the client's own write: the invalidation follows the reply
        log.push(await a.call("GET", "k1"));
        log.push(await a.call("SET", "k1", "z"));
        log.push(await a.read());
        log.push(await a.call("PING"));
        log.push(...await trackingInfo(b));
        // FLUSHALL: a null invalidation
        log.push(await a.call("GET", "k2"));
        log.push(await b.call("FLUSHALL"));
        log.push(await a.read());
        log.push(...await trackingInfo(b));
        log.push(await a.call("CLIENT", "TRACKING", "OFF"));
        log.push(await a.call("CLIENT", "GETREDIR"));
        log.push(...await trackingInfo(b));
        return log;
      })
    ),
});

Deno.test({
  name: "RESP2 tracking redirects invalidations to a client subscribed to __redis__:invalidate",
  fn: () =>
    sideBySide((port) =>
      withClients(port, 3, async ([a, b, r]) => {
        const log: unknown[] = [];
        const rid = await clientId(r);
        log.push(await r.call("SUBSCRIBE", "__redis__:invalidate"));
        log.push(await a.call("CLIENT", "TRACKING", "ON", "REDIRECT", rid));
        log.push(await a.call("CLIENT", "GETREDIR") === rid);
        log.push(await clientFlags(a));
        log.push(await a.call("GET", "k"));
        log.push(await b.call("SET", "k", "1"));
        log.push(await r.read());
        log.push(await a.call("GET", "k"));
        log.push(await b.call("FLUSHDB"));
        log.push(await r.read());
        // the redirect client goes away: a RESP3 client gets tracking-redir-broken
        r.close();
        await b.call("CLIENT", "KILL", "ID", rid).catch(() => {});
        log.push(await a.call("HELLO", "3").then(() => "hello"));
        log.push(await a.call("GET", "k"));
        log.push(await b.call("SET", "k", "2"));
        const broken = await a.read() as { push: Reply[] };
        log.push(broken.push[0], broken.push[1] === rid);
        const info = await a.call("CLIENT", "TRACKINGINFO") as Map<Reply, Reply>;
        log.push(info.get("flags"));
        log.push(await clientFlags(a));
        return log;
      })
    ),
});

Deno.test({
  name: "BCAST tracking sends keys modified under the client's prefixes, batched per prefix",
  fn: () =>
    sideBySide((port) =>
      withClients(port, 3, async ([a, b, n]) => {
        const log: Reply[] = [];
        await a.call("HELLO", "3");
        await n.call("HELLO", "3");
        log.push(
          await a.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "obj:"),
        );
        log.push(await a.call("CLIENT", "TRACKINGINFO"));
        log.push(await clientFlags(a));
        log.push(await b.call("MSET", "user:1", "a", "obj:2", "b", "other", "c", "user:0", "d"));
        log.push(await a.read(), await a.read());
        log.push(await a.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "u"));
        log.push(await a.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "x"));
        log.push(await a.call("CLIENT", "TRACKINGINFO"));
        // NOLOOP: keys the client modified itself are left out
        log.push(await n.call("CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP"));
        log.push(await n.call("MSET", "p", "1", "q", "2"));
        log.push(await n.call("PING"));
        log.push(await b.call("SET", "q", "3"));
        log.push(await n.read());
        log.push(await a.call("PING"));
        log.push(...await trackingInfo(b));
        log.push(await a.call("CLIENT", "TRACKING", "OFF"));
        log.push(...await trackingInfo(b));
        return log;
      })
    ),
});

Deno.test({
  name: "CLIENT TRACKING and CLIENT CACHING refuse bad options with Redis's errors",
  fn: () =>
    sideBySide((port) =>
      withClients(port, 1, async ([a]) => {
        const cmds: string[][] = [
          ["CLIENT", "CACHING", "YES"],
          ["CLIENT", "TRACKING", "ON", "PREFIX", "a"],
          ["CLIENT", "TRACKING", "ON", "BCAST", "OPTIN"],
          ["CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT"],
          ["CLIENT", "TRACKING", "ON", "REDIRECT", "999999"],
          ["CLIENT", "TRACKING", "ON", "REDIRECT", "abc"],
          ["CLIENT", "TRACKING", "ON", "FOO"],
          ["CLIENT", "TRACKING", "MAYBE"],
          ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "ab", "PREFIX", "a"],
          ["CLIENT", "TRACKING", "ON", "PREFIX"],
          ["CLIENT", "TRACKING", "ON", "OPTIN"],
          ["CLIENT", "CACHING", "NO"],
          ["CLIENT", "CACHING", "MAYBE"],
          ["CLIENT", "TRACKING", "ON", "OPTOUT"],
          ["CLIENT", "TRACKING", "ON", "BCAST"],
          ["CLIENT", "TRACKINGINFO"],
          ["CLIENT", "TRACKING", "OFF"],
          ["CLIENT", "TRACKING", "ON", "BCAST"],
          ["CLIENT", "TRACKING", "ON"],
          ["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a"],
          ["CLIENT", "TRACKINGINFO"],
          ["CLIENT", "GETREDIR"],
        ];
        const log: Reply[] = [];
        for (const c of cmds) log.push(await a.call(...c));
        return log;
      })
    ),
});

Deno.test({
  name: "OPTIN tracks only after CLIENT CACHING YES, OPTOUT stops after CLIENT CACHING NO",
  fn: () =>
    sideBySide((port) =>
      withClients(port, 2, async ([a, b]) => {
        const log: Reply[] = [];
        await a.call("HELLO", "3");
        log.push(await a.call("CLIENT", "TRACKING", "ON", "OPTIN"));
        log.push(await a.call("GET", "k1"));
        log.push(await a.call("CLIENT", "CACHING", "YES"));
        log.push(await a.call("CLIENT", "TRACKINGINFO"));
        log.push(await a.call("GET", "k2"));
        log.push(await a.call("CLIENT", "TRACKINGINFO"));
        log.push(await b.call("SET", "k1", "1"));
        log.push(await b.call("SET", "k2", "1"));
        log.push(await a.read());
        log.push(await a.call("PING"));
        log.push(await a.call("CLIENT", "TRACKING", "OFF"));
        log.push(await a.call("CLIENT", "TRACKING", "ON", "OPTOUT"));
        log.push(await a.call("GET", "k3"));
        log.push(await a.call("CLIENT", "CACHING", "NO"));
        log.push(await a.call("GET", "k4"));
        log.push(await b.call("SET", "k4", "1"));
        log.push(await b.call("SET", "k3", "1"));
        log.push(await a.read());
        log.push(await a.call("PING"));
        // NOLOOP in default mode: the client's own writes are not reported
        log.push(await a.call("CLIENT", "TRACKING", "OFF"));
        log.push(await a.call("CLIENT", "TRACKING", "ON", "NOLOOP"));
        log.push(await a.call("GET", "k5"));
        log.push(await a.call("SET", "k5", "x"));
        log.push(await a.call("PING"));
        return log;
      })
    ),
});

Deno.test({
  name: "tracking-table-max-keys evicts remembered keys, invalidating them",
  fn: () =>
    sideBySide((port) =>
      withClients(port, 2, async ([a, b]) => {
        const log: unknown[] = [];
        log.push(await b.call("CONFIG", "SET", "tracking-table-max-keys", "1"));
        await a.call("HELLO", "3");
        log.push(await a.call("CLIENT", "TRACKING", "ON"));
        log.push(await a.call("GET", "k1"));
        log.push(await a.call("GET", "k2"));
        const evicted = await a.read() as { push: [string, string[]] };
        log.push(
          evicted.push[0],
          evicted.push[1].length,
          ["k1", "k2"].includes(evicted.push[1][0]),
        );
        log.push(await a.call("PING"));
        log.push(...await trackingInfo(b));
        log.push(await b.call("CONFIG", "SET", "tracking-table-max-keys", "0"));
        return log;
      })
    ),
});

Deno.test({
  name: "a remembered key that expires is invalidated (active and lazy expiry)",
  fn: () =>
    sideBySide((port) =>
      withClients(port, 2, async ([a, b]) => {
        const log: Reply[] = [];
        await a.call("HELLO", "3");
        log.push(await a.call("CLIENT", "TRACKING", "ON"));
        log.push(await b.call("SET", "k", "v", "PX", "300"));
        log.push(await a.call("GET", "k"));
        // the active expiry cycle removes it: the push arrives without a command
        log.push(await a.read(3000));
        log.push(await b.call("DEBUG", "SET-ACTIVE-EXPIRE", "0"));
        log.push(await b.call("SET", "k2", "v", "PX", "300"));
        log.push(await a.call("GET", "k2"));
        await new Promise((r) => setTimeout(r, 400)); // let the key's time pass (no read may touch it)
        // lazy expiry on access by another client
        log.push(await b.call("EXISTS", "k2"));
        log.push(await a.read());
        log.push(await b.call("DEBUG", "SET-ACTIVE-EXPIRE", "1"));
        return log;
      }), ["--enable-debug-command", "yes"]),
});
