import assert from "node:assert/strict";
import { onRedenoThenRedis, RespClient, RespError, startRedeno, waitFor } from "./helpers.ts";

/** qbuf + qbuf-free of the client named `name` in CLIENT LIST (its query buffer's size). */
async function queryBuffer(c: RespClient, name: string): Promise<number> {
  return await clientField(c, name, "qbuf") + await clientField(c, name, "qbuf-free");
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
  await onRedenoThenRedis(checkQueryBufferResize);
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

/** CLIENT LIST field `field` (a number) of the client named `name`. */
async function clientField(c: RespClient, name: string, field: string): Promise<number> {
  const list = String(await c.call("CLIENT", "LIST"));
  const line = list.split("\n").find((l) => l.includes(` name=${name} `));
  assert.ok(line, `client ${name} listed`);
  return Number(new RegExp(` ${field}=(\\d+)`).exec(line)![1]);
}

/** Reply buffer sizing (Redis's clientsCronResizeOutputBuffer) through CLIENT LIST rbs. */
async function checkReplyBufferResize(port: number): Promise<void> {
  const admin = await RespClient.connect(port);
  const tc = await RespClient.connect(port);
  try {
    assert.equal(await admin.call("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "100"), "OK");
    assert.equal(await tc.call("CLIENT", "SETNAME", "test_client"), "OK");
    // an idle client's buffer shrinks to 1 KB
    await waitFor(async () => {
      const rbs = await clientField(admin, "test_client", "rbs");
      return rbs >= 1024 && rbs < 2046;
    }, { timeoutMs: 3000, intervalMs: 100, what: "the idle reply buffer to shrink" });
    // one busy with big replies gets 16 KB back
    assert.equal(await admin.call("SET", "bigval", "x".repeat(32768)), "OK");
    assert.equal(await admin.call("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "never"), "OK");
    await waitFor(async () => {
      assert.equal(String(await tc.call("GET", "bigval")).length, 32768);
      const rbs = await clientField(admin, "test_client", "rbs");
      return rbs >= 16384 && rbs < 32768;
    }, { timeoutMs: 3000, intervalMs: 100, what: "the busy reply buffer to grow" });
    const stats = String(await admin.call("INFO", "stats"));
    assert.ok(Number(/reply_buffer_shrinks:(\d+)/.exec(stats)![1]) > 0, stats);
    assert.ok(Number(/reply_buffer_expands:(\d+)/.exec(stats)![1]) > 0, stats);
    assert.equal(await admin.call("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "reset"), "OK");
    const bad = await admin.call("DEBUG", "REPLYBUFFER", "SIZE", "1");
    assert.ok(bad instanceof RespError, String(bad));
    assert.match(bad.message, /unknown subcommand or wrong number of arguments for 'REPLYBUFFER'/);
  } finally {
    admin.close();
    tc.close();
  }
}

Deno.test("reply buffers shrink for idle clients and grow for busy ones (as redis-server)", async () => {
  await onRedenoThenRedis(checkReplyBufferResize, ["--enable-debug-command", "yes"]);
});

Deno.test("a client that does not read its replies still has its commands run; its output grows", async () => {
  const t = await startRedeno();
  const admin = await RespClient.connect(t.port);
  const slow = await RespClient.connect(t.port);
  try {
    await admin.call("SET", "k", "v".repeat(1024 * 1024));
    await slow.call("CLIENT", "SETNAME", "slow");
    // 30 GETs of 1 MB, never read: more than the kernel's socket buffers hold
    const get = RespClient.encode(["GET", "k"]);
    for (let i = 0; i < 30; i++) await slow.write(get);
    await slow.write(RespClient.encode(["INCR", "counter"]));
    // the INCR behind them runs although the replies before it wait to be written
    await waitFor(async () => (await admin.call("GET", "counter")) === "1", {
      what: "the command behind unread replies to run",
    });
    assert.ok(await clientField(admin, "slow", "omem") > 10 * 1024 * 1024);
    // and every reply arrives, in order, once the client reads
    for (let i = 0; i < 30; i++) assert.equal(String(await slow.read()).length, 1024 * 1024);
    assert.equal(await slow.read(), 1);
  } finally {
    admin.close();
    slow.close();
    await t.stop();
  }
});
