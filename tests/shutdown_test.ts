/**
 * SHUTDOWN's Redis 7.0 refusals and waits, side by side with redis-server when one is
 * installed: a SHUTDOWN waiting for a lagging replica is a blocked client, a second
 * SHUTDOWN joins it, SHUTDOWN ABORT fails both and lifts the write pause; a SHUTDOWN
 * while the first AOF rewrite (after `appendonly yes`) runs is refused unless FORCE.
 */
import assert from "node:assert/strict";
import { eachSpawnedServer, parseInfo, RespClient, RespError, waitFor } from "./helpers.ts";

async function infoOf(c: RespClient, section: string): Promise<Map<string, string>> {
  return parseInfo(String(await c.call("INFO", section)));
}

/**
 * A replica that takes its full sync, acknowledges it once, then never again: the
 * primary sees it lagging as soon as anything is written.
 */
async function silentReplica(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const enc = (args: string[]) => RespClient.encode(args);
  let buf = new Uint8Array(0);
  const more = async () => {
    const chunk = new Uint8Array(64 * 1024);
    const n = await conn.read(chunk);
    if (n === null) throw new Error("primary closed the link");
    const next = new Uint8Array(buf.length + n);
    next.set(buf);
    next.set(chunk.subarray(0, n), buf.length);
    buf = next;
  };
  const line = async (): Promise<string> => {
    for (;;) {
      const nl = buf.indexOf(10);
      if (nl >= 0) {
        const text = new TextDecoder().decode(buf.subarray(0, nl)).replace(/\r$/, "");
        buf = buf.subarray(nl + 1);
        if (text !== "") return text;
        continue; // keep-alive newlines
      }
      await more();
    }
  };
  for (
    const cmd of [["PING"], ["REPLCONF", "listening-port", "1"], [
      "REPLCONF",
      "capa",
      "eof",
      "capa",
      "psync2",
    ]]
  ) {
    await conn.write(enc(cmd));
    await line();
  }
  await conn.write(enc(["PSYNC", "?", "-1"]));
  const full = await line();
  const offset = full.split(" ")[2];
  const header = await line();
  if (header.startsWith("$EOF:")) {
    const mark = new TextEncoder().encode(header.slice(5));
    const ends = () =>
      buf.length >= mark.length && mark.every((b, i) => buf[buf.length - mark.length + i] === b);
    while (!ends()) await more();
  } else {
    const size = Number(header.slice(1));
    while (buf.length < size) await more();
  }
  buf = new Uint8Array(0);
  await conn.write(enc(["REPLCONF", "ACK", offset]));
  return conn;
}

Deno.test("SHUTDOWN waiting for a lagging replica blocks its callers until SHUTDOWN ABORT fails them", async () => {
  await eachSpawnedServer(async (spawn, name, log) => {
    const primary = await spawn(["--repl-diskless-sync-delay", "0", "--shutdown-timeout", "60"]);
    const admin = await RespClient.connect(primary.port);
    const first = await RespClient.connect(primary.port);
    const second = await RespClient.connect(primary.port);
    let replica: Deno.TcpConn | null = null;
    try {
      replica = await silentReplica(primary.port);
      await waitFor(async () =>
        (await infoOf(admin, "replication")).get("connected_slaves") === "1"
      );
      await waitFor(async () =>
        /state=online/.test((await infoOf(admin, "replication")).get("slave0") ?? "")
      );
      assert.equal(await admin.call("INCR", "k"), 1);
      await first.write(RespClient.encode(["SHUTDOWN"]));
      await second.write(RespClient.encode(["SHUTDOWN"]));
      await waitFor(async () => (await infoOf(admin, "clients")).get("blocked_clients") === "2", {
        what: `${name}: both SHUTDOWN callers blocked`,
      });
      assert.ok(Number((await infoOf(admin, "server")).get("shutdown_in_milliseconds")) > 0);
      assert.equal(await admin.call("SHUTDOWN", "ABORT"), "OK", name);
      for (const c of [first, second]) {
        const reply = await c.read();
        assert.ok(reply instanceof RespError, name);
        assert.equal(reply.message, "ERR Errors trying to SHUTDOWN. Check logs.");
      }
      // the server goes on, writes included (the shutdown's write pause is lifted)
      assert.equal(await admin.call("INCR", "k"), 2, name);
      assert.equal((await infoOf(admin, "clients")).get("blocked_clients"), "0");
      // shown only while a shutdown waits, as in Redis
      assert.equal((await infoOf(admin, "server")).get("shutdown_in_milliseconds"), undefined);
      const err = await admin.call("SHUTDOWN", "ABORT");
      assert.ok(err instanceof RespError);
      assert.equal(err.message, "ERR No shutdown in progress.");
      assert.match(await Deno.readTextFile(`${primary.dir}/${log}`), /Shutdown manually aborted/);
    } finally {
      replica?.close();
      for (const c of [admin, first, second]) c.close();
      await primary.stop("SIGKILL");
    }
  });
});

Deno.test("SHUTDOWN is refused while the first AOF rewrite runs, and FORCE exits anyway", async () => {
  await eachSpawnedServer(async (spawn, name, log) => {
    const server = await spawn([]);
    const c = await RespClient.connect(server.port);
    try {
      for (let i = 0; i < 5; i++) await c.call("SET", `k${i}`, "v");
      // a very slow rewrite: one second per key
      assert.equal(await c.call("CONFIG", "SET", "rdb-key-save-delay", "1000000"), "OK");
      assert.equal(await c.call("CONFIG", "SET", "appendonly", "yes"), "OK");
      await waitFor(async () =>
        (await infoOf(c, "persistence")).get("aof_rewrite_in_progress") === "1"
      );
      const refused = await c.call("SHUTDOWN");
      assert.ok(refused instanceof RespError, name);
      assert.equal(refused.message, "ERR Errors trying to SHUTDOWN. Check logs.");
      assert.equal(await c.call("PING"), "PONG");
      await c.write(RespClient.encode(["SHUTDOWN", "NOSAVE", "FORCE"]));
      const status = await server.process.status;
      assert.equal(status.code, 0, name);
      // the log is drained from the process's output asynchronously
      const logFile = `${server.dir}/${log}`;
      await waitFor(async () => /Exit anyway/.test(await Deno.readTextFile(logFile)), {
        what: `${name} log`,
      });
      const text = await Deno.readTextFile(logFile);
      assert.match(text, /Writing initial AOF, can't exit/);
      assert.match(text, /Writing initial AOF\. Exit anyway/);
    } finally {
      c.close();
      await server.stop("SIGKILL");
    }
  });
});
