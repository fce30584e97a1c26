import assert from "node:assert/strict";
import { HAVE_REDIS, RespClient, startRealRedis, startRedeno, waitFor } from "./helpers.ts";

/** qbuf + qbuf-free of the client named `name` in CLIENT LIST (its query buffer's size). */
async function queryBuffer(c: RespClient, name: string): Promise<number> {
  const list = String(await c.call("CLIENT", "LIST"));
  const line = list.split("\n").find((l) => l.includes(` name=${name} `));
  assert.ok(line, `client ${name} listed`);
  const qbuf = Number(/ qbuf=(\d+)/.exec(line)![1]);
  const free = Number(/ qbuf-free=(\d+)/.exec(line)![1]);
  return qbuf + free;
}

/** Redis's clientsCronResizeQueryBuffer, seen through CLIENT LIST, against `port`. */
async function checkQueryBufferResize(port: number): Promise<void> {
  const admin = await RespClient.connect(port);
  const idle = await RespClient.connect(port);
  const busy = await RespClient.connect(port);
  try {
    // a fresh client reads into a 16 KB buffer, released once it is idle over 2 s
    assert.equal(await idle.call("CLIENT", "SETNAME", "idle_client"), "OK");
    const first = await queryBuffer(admin, "idle_client");
    assert.ok(first >= 16384 && first < 32768, `initial query buffer ${first}`);
    await waitFor(async () => await queryBuffer(admin, "idle_client") === 0, {
      timeoutMs: 8000,
      intervalMs: 100,
      what: "the idle client's query buffer to be released",
    });
    // still usable afterwards
    assert.equal(await idle.call("PING"), "PONG");

    // a big argument grows the buffer; small commands afterwards let it shrink toward
    // their peak, but not to nothing while the client is active
    assert.equal(await busy.call("CLIENT", "SETNAME", "busy_client"), "OK");
    assert.equal(await busy.call("SET", "x", "A".repeat(400000)), "OK");
    const big = await queryBuffer(admin, "busy_client");
    assert.ok(big > 32768, `query buffer after a 400 KB argument: ${big}`);
    const small = await waitFor(async () => {
      assert.equal(await busy.call("SET", "x", "A".repeat(100)), "OK");
      const size = await queryBuffer(admin, "busy_client");
      return size < big ? size : 0;
    }, { timeoutMs: 5000, intervalMs: 10, what: "the query buffer to shrink" });
    assert.ok(small > 0, "an active client keeps room for its recent peak");
    assert.equal(await busy.call("GET", "x"), "A".repeat(100));
  } finally {
    admin.close();
    idle.close();
    busy.close();
  }
}

Deno.test("query buffers: released when idle, shrunk after a big argument (as redis-server)", async () => {
  const t = await startRedeno();
  try {
    await checkQueryBufferResize(t.port);
  } finally {
    await t.stop();
  }
  if (HAVE_REDIS) {
    const r = await startRealRedis();
    try {
      await checkQueryBufferResize(r.port);
    } finally {
      await r.stop();
    }
  }
});

Deno.test("a read in flight while its client's query buffer is released still arrives whole", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    assert.equal(await c.call("CLIENT", "SETNAME", "reader"), "OK");
    const admin = await RespClient.connect(t.port);
    await waitFor(async () => await queryBuffer(admin, "reader") === 0, {
      timeoutMs: 8000,
      intervalMs: 100,
      what: "the buffer to be released",
    });
    admin.close();
    // the read loop was waiting on a region of the released buffer all along
    const cmds: string[][] = [];
    for (let i = 0; i < 300; i++) cmds.push(["SET", `k${i}`, "v".repeat(i * 10)]);
    cmds.push(["MGET", "k1", "k299"]);
    const replies = await c.pipeline(cmds);
    assert.deepEqual(replies.at(-1), ["v".repeat(10), "v".repeat(2990)]);
  } finally {
    c.close();
    await t.stop();
  }
});
