import assert from "node:assert/strict";
import { freePort, RespClient, waitFor } from "./helpers.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Runs main.ts to completion (for startup errors); returns exit code and stderr. */
async function runMain(args: string[]): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, ...args],
    stdout: "null",
    stderr: "piped",
    stdin: "null",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/** Starts main.ts with args and waits until it answers on `port`. */
async function startMain(args: string[], port: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, ...args],
    stdout: "null",
    stderr: "null",
    stdin: "null",
  }).spawn();
  let exited = false;
  child.status.then(() => exited = true);
  const client = (await waitFor(async () => {
    if (exited) throw new Error("server exited at start");
    try {
      return await RespClient.connect(port);
    } catch {
      return undefined;
    }
  }, { timeoutMs: 15000, what: `a server on ${port}` }))!;
  return {
    client,
    async stop() {
      client.close();
      try {
        child.kill("SIGTERM");
      } catch { /* exited */ }
      return await child.status;
    },
  };
}

for (
  const [args, message] of [
    [["--nosuchoption", "1"], "'nosuchoption \"1\"'\nBad directive or wrong number of arguments"],
    [["--port", "abc"], "argument couldn't be parsed into an integer"],
    [["--dir", "/no/such/dir/here"], "No such file or directory"],
    [["--replicaof", "localhost"], "wrong number of arguments"],
    [["/no/such/redis.conf"], "can't open config file '/no/such/redis.conf'"],
    [["--port", "6379", "6380"], '\'port "6379" "6380"\'\nwrong number of arguments'],
    [["--shutdown-on-sigint"], "argument(s) must be one of the following"],
    [["--proc-title-template", "{nosuchvar}"], "template format is invalid"],
    [["--rename-command", "nosuch", "x"], "No such command in rename-command"],
  ] as const
) {
  Deno.test(`startup with ${args.join(" ")} prints the reason and exits non-zero`, async () => {
    const { code, stderr } = await runMain([...args]);
    assert.notEqual(code, 0);
    assert.match(stderr, /FATAL CONFIG FILE ERROR/);
    assert.ok(stderr.includes(message), stderr);
  });
}

Deno.test("a config file is read first and argv options override it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redeno-start-" });
  const port = freePort();
  await Deno.writeTextFile(
    `${dir}/redis.conf`,
    `# test config\nport 1\nhz 25\ndbfilename from-file.rdb\nsave ""\ndir ${dir}\n`,
  );
  const s = await startMain(
    [`${dir}/redis.conf`, "--port", String(port), "--dbfilename", "d.rdb"],
    port,
  );
  try {
    const c = s.client;
    assert.deepEqual(await c.call("CONFIG", "GET", "hz"), ["hz", "25"]);
    assert.deepEqual(await c.call("CONFIG", "GET", "dbfilename"), ["dbfilename", "d.rdb"]);
    assert.deepEqual(await c.call("CONFIG", "GET", "dir"), ["dir", await Deno.realPath(dir)]);
    const info = await c.call("INFO", "server") as string;
    assert.match(info, new RegExp(`config_file:${dir}/redis.conf`));
  } finally {
    const status = await s.stop();
    assert.equal(status.code, 0);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("defaults are Redis's: bind 127.0.0.1 -::1, protected mode, 16 databases, no DEBUG", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redeno-start-" });
  const port = freePort();
  const s = await startMain(["--port", String(port), "--save", "", "--dir", dir], port);
  try {
    const c = s.client;
    assert.deepEqual(await c.call("CONFIG", "GET", "bind"), ["bind", "127.0.0.1 -::1"]);
    assert.deepEqual(await c.call("CONFIG", "GET", "protected-mode"), ["protected-mode", "yes"]);
    assert.deepEqual(await c.call("CONFIG", "GET", "databases"), ["databases", "16"]);
    assert.deepEqual(await c.call("CONFIG", "GET", "save"), ["save", ""]);
    // DEBUG is refused unless enabled at startup, and the switch is immutable
    assert.match(String(await c.call("DEBUG", "SLEEP", "0")), /^ERR DEBUG command not allowed/);
    assert.match(
      String(await c.call("CONFIG", "SET", "enable-debug-command", "yes")),
      /can't set immutable config/,
    );
    // protected mode only refuses non-loopback peers; tests stay on loopback, which works
    assert.equal(await c.call("PING"), "PONG");
  } finally {
    await s.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGTERM schedules a shutdown that SHUTDOWN ABORT cancels; words before --options are a directive", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redeno-start-" });
  const port = freePort();
  await Deno.writeTextFile(`${dir}/redis.conf`, "databases 4\nrename-command flushdb badger\n");
  const s = await startMain([
    `${dir}/redis.conf`,
    "loglevel",
    "verbose",
    "--port",
    String(port),
    "--save",
    "",
    "--dir",
    dir,
    "--enable-debug-command",
    "yes",
    "--logfile",
    `${dir}/log`,
  ], port);
  try {
    const c = s.client;
    assert.deepEqual(await c.call("CONFIG", "GET", "loglevel"), ["loglevel", "verbose"]);
    assert.deepEqual(await c.call("CONFIG", "GET", "databases"), ["databases", "4"]);
    assert.match(String(await c.call("FLUSHDB")), /^ERR unknown command 'FLUSHDB'/);
    assert.equal(await c.call("BADGER"), "OK");
    assert.equal(String(await c.call("SHUTDOWN", "ABORT")), "ERR No shutdown in progress.");
    assert.equal(await c.call("DEBUG", "PAUSE-CRON", "1"), "OK");
    const pid = Number((await c.call("INFO", "server") as string).match(/process_id:(\d+)/)![1]);
    Deno.kill(pid, "SIGTERM");
    await waitFor(async () => /scheduling shutdown/.test(await Deno.readTextFile(`${dir}/log`)));
    assert.equal(await c.call("SHUTDOWN", "ABORT"), "OK");
    assert.equal(await c.call("DEBUG", "PAUSE-CRON", "0"), "OK");
    assert.equal(await c.call("PING"), "PONG");
    assert.match(await Deno.readTextFile(`${dir}/log`), /Shutdown manually aborted\./);
  } finally {
    await s.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
