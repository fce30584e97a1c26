import assert from "node:assert/strict";
import {
  HAVE_REDIS,
  type Reply,
  RespClient,
  RespError,
  spawnRedeno,
  startRedeno,
} from "./helpers.ts";
import { configFromArgs } from "../src/startup.ts";
import { argvToConfigText, ConfigError } from "../src/config.ts";

function asMap(r: Reply): Map<string, string> {
  const a = r as string[];
  const m = new Map<string, string>();
  for (let i = 0; i < a.length; i += 2) m.set(a[i], a[i + 1]);
  return m;
}

Deno.test("CONFIG GET matches globs, several patterns and aliases, once each", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    const m = asMap(await c.call("CONFIG", "GET", "*max-*-entries*", "port", "PORT", "maxmemory"));
    assert.equal(m.get("port"), String(t.port));
    assert.equal(m.get("hash-max-listpack-entries"), "512");
    assert.equal(m.get("hash-max-ziplist-entries"), "512");
    assert.equal(m.get("zset-max-ziplist-entries"), "128");
    assert.equal(m.get("maxmemory"), "0");
    assert.equal(m.size, 7);
    assert.deepEqual(await c.call("CONFIG", "GET", "SLAVE-READ-ONLY"), ["SLAVE-READ-ONLY", "yes"]);
    assert.deepEqual(await c.call("CONFIG", "GET", "nosuch"), []);
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("CONFIG SET of several parameters is all-or-nothing", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    assert.deepEqual(
      await c.call("CONFIG", "SET", "hz", "15", "maxmemory", "1x"),
      new RespError(
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value",
      ),
    );
    assert.deepEqual(await c.call("CONFIG", "GET", "hz"), ["hz", "10"]);
    assert.equal(
      await c.call("CONFIG", "SET", "hz", "15", "maxmemory", "100mb", "save", "100 1"),
      "OK",
    );
    const m = asMap(await c.call("CONFIG", "GET", "hz", "maxmemory", "save"));
    assert.equal(m.get("hz"), "15");
    assert.equal(m.get("maxmemory"), String(100 * 1024 * 1024));
    assert.equal(m.get("save"), "100 1");
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("CONFIG SET port moves the listener to the new port", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const newPort = (probe.addr as Deno.NetAddr).port;
  probe.close();
  try {
    assert.equal(await c.call("CONFIG", "SET", "port", String(newPort)), "OK");
    const d = await RespClient.connect(newPort);
    assert.equal(await d.call("PING"), "PONG");
    d.close();
    await assert.rejects(() => Deno.connect({ hostname: "127.0.0.1", port: t.port }));
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("CONFIG SET port/bind that cannot listen fails and keeps the old listener", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const taken = (busy.addr as Deno.NetAddr).port;
    assert.equal(
      String(await c.call("CONFIG", "SET", "port", String(taken))),
      "ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port",
    );
    assert.equal(
      String(await c.call("CONFIG", "SET", "bind", "999.999.999.999")),
      "ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses.",
    );
    assert.deepEqual(await c.call("CONFIG", "GET", "port"), ["port", String(t.port)]);
    assert.deepEqual(await c.call("CONFIG", "GET", "bind"), ["bind", "127.0.0.1"]);
    const d = await RespClient.connect(t.port);
    assert.equal(await d.call("PING"), "PONG");
    d.close();
  } finally {
    busy.close();
    c.close();
    await t.stop();
  }
});

Deno.test({
  name: "oom-score-adj writes /proc oom_score_adj by role, relative or absolute, restored when off",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const s = await spawnRedeno();
    const c = await RespClient.connect(s.port);
    const score = async () =>
      Number((await Deno.readTextFile(`/proc/${s.pid}/oom_score_adj`)).trim());
    try {
      const base = await score();
      assert.deepEqual(await c.call("CONFIG", "GET", "oom-score-adj-values"), [
        "oom-score-adj-values",
        "0 200 800",
      ]);
      assert.equal(await c.call("CONFIG", "SET", "oom-score-adj-values", "10 20 30"), "OK");
      assert.equal(await score(), base); // disabled: untouched
      assert.equal(await c.call("CONFIG", "SET", "oom-score-adj", "yes"), "OK");
      assert.equal(await score(), base + 10);
      assert.equal(await c.call("REPLICAOF", "localhost", "1"), "OK");
      assert.equal(await score(), base + 20);
      assert.equal(await c.call("REPLICAOF", "NO", "ONE"), "OK");
      assert.equal(await score(), base + 10);
      assert.equal(await c.call("CONFIG", "SET", "oom-score-adj", "absolute"), "OK");
      assert.equal(await score(), 10);
      assert.equal(await c.call("CONFIG", "SET", "oom-score-adj", "no"), "OK");
      assert.equal(await score(), base);
      assert.equal(
        String(await c.call("CONFIG", "SET", "oom-score-adj-values", "2001 2001 2001")),
        "ERR CONFIG SET failed (possibly related to argument 'oom-score-adj-values') - Invalid oom-score-adj-values, elements must be between -2000 and 2000.",
      );
    } finally {
      c.close();
      await s.stop();
    }
  },
});

Deno.test("CONFIG RESETSTAT clears command and error statistics", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    await c.call("GET", "x");
    await c.call("NOSUCHCOMMAND");
    assert.match(await c.call("INFO", "commandstats") as string, /cmdstat_get:/);
    assert.equal(await c.call("CONFIG", "RESETSTAT"), "OK");
    const text = await c.call("INFO", "commandstats", "errorstats") as string;
    assert.doesNotMatch(text, /cmdstat_get:|errorstat_ERR/);
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("CONFIG REWRITE keeps comments, updates lines in place and appends new ones", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redeno-conf-" });
  const file = `${dir}/redis.conf`;
  await Deno.writeTextFile(
    file,
    "# my settings\nhz 20\n\n# unchanged comment\nsave 900 1\nsave 300 10\nmaxmemory 1mb\n",
  );
  const proc = await spawnRedenoWithFile(file, dir);
  const c = await RespClient.connect(proc.port);
  try {
    assert.deepEqual(await c.call("CONFIG", "GET", "hz"), ["hz", "20"]);
    await c.call("CONFIG", "SET", "hz", "30", "maxmemory-policy", "allkeys-lru", "save", "60 5");
    assert.equal(await c.call("CONFIG", "REWRITE"), "OK");
    const text = await Deno.readTextFile(file);
    const lines = text.split("\n");
    assert.equal(lines[0], "# my settings");
    assert.equal(lines[1], "hz 30");
    assert.ok(lines.includes("# unchanged comment"));
    assert.ok(lines.includes("save 60 5"));
    assert.ok(!lines.includes("save 300 10"));
    assert.ok(lines.includes("maxmemory 1mb"));
    const marker = lines.indexOf("# Generated by CONFIG REWRITE");
    assert.ok(marker > 0);
    assert.ok(lines.slice(marker).includes("maxmemory-policy allkeys-lru"));
  } finally {
    c.close();
    await proc.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

async function spawnRedenoWithFile(file: string, dir: string) {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL("../main.ts", import.meta.url).pathname,
      file,
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const deadline = Date.now() + 15000;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  return {
    port,
    async stop() {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await child.status;
    },
  };
}

Deno.test("CONFIG REWRITE without a config file answers Redis's error", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    assert.deepEqual(
      await c.call("CONFIG", "REWRITE"),
      new RespError("ERR The server is running without a config file"),
    );
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("argv follows redis-server: multi-word values as one or several arguments", () => {
  assert.equal(
    argvToConfigText(["--replicaof", "localhost 6379", "--port", "7000"]).text,
    'replicaof "localhost 6379"\nport "7000"',
  );
  assert.equal(
    argvToConfigText(["--replicaof", "localhost", "6379"]).text,
    'replicaof "localhost" "6379"',
  );
  assert.equal(argvToConfigText(["--save", "--port", "1"]).text, 'save ""\nport "1"');
  assert.equal(argvToConfigText(["--save"]).text, 'save ""');
  assert.deepEqual(argvToConfigText(["./redis.conf", "--port", "7000"]).file, "./redis.conf");
  const a = configFromArgs(["--replicaof", "localhost 6379", "--save", "3600 1 300 100"]);
  assert.equal(a.get("replicaof"), "localhost 6379");
  assert.equal(a.get("save"), "3600 1 300 100");
  const b = configFromArgs(["--replicaof", "localhost", "6379", "--save", ""]);
  assert.equal(b.get("replicaof"), "localhost 6379");
  assert.equal(b.get("save"), "");
  assert.throws(() => configFromArgs(["--nosuch", "1"]), ConfigError);
  assert.throws(() => configFromArgs(["--dir", "/no/such/dir/anywhere"]), /No such file/);
});

Deno.test({
  name:
    "shutdown-on-sigterm/sigint, maxmemory-clients and hidden configs answer as redis-server 7.0",
  ignore: !HAVE_REDIS,
  async fn() {
    const { withPair } = await import("./side_by_side.ts");
    await withPair(async (p) => {
      for (const v of ["nosave now", "now nosave", "save", "default", "save nosave", "bad"]) {
        await p.same("CONFIG", "SET", "shutdown-on-sigterm", v);
        await p.same("CONFIG", "GET", "shutdown-on-sigterm");
      }
      await p.same("CONFIG", "SET", "shutdown-on-sigint", "force save");
      await p.same("CONFIG", "GET", "shutdown-on-sigint");
      await p.same("CONFIG", "GET", "oom-score-adj");
      await p.same("CONFIG", "GET", "oom-score-adj-values");
      await p.same("CONFIG", "GET", "crash-memcheck-enabled");
      for (const v of ["10%", "101%", "-1%", "1mb", "0"]) {
        await p.same("CONFIG", "SET", "maxmemory-clients", v);
        await p.same("CONFIG", "GET", "maxmemory-clients");
      }
      // Redis's hidden configs: out of globs, readable by name
      const [ours, real] = await p.both("CONFIG", "GET", "*");
      assert.ok(!(ours as string[]).includes("key-load-delay"));
      assert.ok(!(real as string[]).includes("key-load-delay"));
      await p.same("CONFIG", "GET", "key-load-delay");
    });
  },
});

Deno.test("save directives: the first replaces the defaults, later ones add, '' clears", () => {
  assert.equal(configFromArgs(["--port", "1"]).get("save"), "3600 1 300 100 60 10000");
  assert.equal(configFromArgs(["--save", "100 100"]).get("save"), "100 100");
  assert.equal(
    configFromArgs(["--save", "900 1", "--save", "100 100"]).get("save"),
    "900 1 100 100",
  );
  assert.equal(configFromArgs(["--save", "900 1", "--save", ""]).get("save"), "");
});
