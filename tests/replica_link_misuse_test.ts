/**
 * A connection that became a replica (SYNC / PSYNC) carries the replication stream
 * only, as in Redis 7.0: a command of its own that would reply gets it disconnected and
 * logged ("Replica generated a reply to command ..."), keyspace commands are refused
 * first ("Replica can't interact with the keyspace", logged as an error sent to a
 * replica), and the server goes on. Checked side by side with redis-server.
 */
import assert from "node:assert/strict";
import { eachSpawnedServer, parseInfo, RespClient, waitFor } from "./helpers.ts";

/** Sends the commands on a raw connection, then reads until the server closes it. */
async function untilClosed(port: number, commands: string[][]): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    for (const cmd of commands) await conn.write(RespClient.encode(cmd));
    const buf = new Uint8Array(64 * 1024);
    let text = "";
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      const n = await conn.read(buf);
      if (n === null) return text;
      text += new TextDecoder("latin1").decode(buf.subarray(0, n));
    }
    throw new Error("the replica link was not closed");
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

const cases: Array<{ name: string; commands: string[][]; logs: RegExp[] }> = [
  {
    name: "SYNC then PING",
    commands: [["SYNC"], ["PING"]],
    logs: [/Replica generated a reply to command 'ping', disconnecting it: id=/],
  },
  {
    name: "SYNC then XINFO HELP",
    commands: [["SYNC"], ["XINFO", "HELP"]],
    logs: [/Replica generated a reply to command 'xinfo\|help', disconnecting it: /],
  },
  {
    name: "PSYNC then GET",
    commands: [["PSYNC", "replicationid", "-1"], ["GET", "foo"]],
    logs: [
      /Replica generated a reply to command 'get', disconnecting it: /,
      /== CRITICAL == This master is sending an error to its replica: 'Replica can't interact with the keyspace' after processing the command 'get'/,
    ],
  },
  {
    name: "PSYNC then SLOWLOG GET",
    commands: [["PSYNC", "replicationid", "-1"], ["SLOWLOG", "GET"]],
    logs: [/Replica generated a reply to command 'slowlog\|get', disconnecting it: /],
  },
];

Deno.test("a replica link that replies to its own command is disconnected and logged", async () => {
  await eachSpawnedServer(async (spawn, _name, logName) => {
    const server = await spawn([]);
    const c = await RespClient.connect(server.port);
    try {
      for (const t of cases) {
        const received = await untilClosed(server.port, t.commands);
        // the replica got at most its sync preamble, never the command's reply
        assert.doesNotMatch(received, /PONG|Replica can't/, `${logName} ${t.name}`);
        assert.equal(await c.call("PING"), "PONG");
        const logFile = `${server.dir}/${logName}`;
        for (const re of t.logs) {
          await waitFor(async () => re.test(await Deno.readTextFile(logFile)), {
            what: `${logName} ${t.name}: ${re}`,
          });
        }
      }
      const stats = parseInfo(String(await c.call("INFO", "stats")));
      assert.ok(Number(stats.get("unexpected_error_replies")) >= 1, logName);
    } finally {
      c.close();
      await server.stop();
    }
  });
});
