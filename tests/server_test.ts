import assert from "node:assert/strict";
import {
  HAVE_REDIS,
  parseInfo,
  type Reply,
  RespClient,
  RespError,
  spawnRedeno,
  startRealRedis,
  startRedeno,
  waitFor,
} from "./helpers.ts";
import { registerDebugSubcommand } from "../src/commands/server.ts";

function sectionsOf(info: string): string[] {
  return info.split("\r\n").filter((l) => l.startsWith("# ")).map((l) => l.slice(2));
}

Deno.test("INFO prints Redis's default sections, everything, and several named ones", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    const def = await c.call("INFO") as string;
    assert.deepEqual(sectionsOf(def), [
      "Server",
      "Clients",
      "Memory",
      "Persistence",
      "Stats",
      "Replication",
      "CPU",
      "Modules",
      "Errorstats",
      "Cluster",
      "Keyspace",
    ]);
    assert.ok(def.endsWith("\r\n"));
    const all = sectionsOf(await c.call("INFO", "everything") as string);
    assert.ok(all.includes("Commandstats") && all.includes("Latencystats"));
    assert.deepEqual(sectionsOf(await c.call("INFO", "keyspace", "SERVER") as string), [
      "Server",
      "Keyspace",
    ]);
    assert.equal(await c.call("INFO", "nosuchsection"), "");
    await c.call("SET", "k", "v");
    await c.call("GET", "k");
    await c.call("GET", "k", "extra");
    const f = parseInfo(await c.call("INFO", "everything") as string);
    assert.equal(f.get("redis_version"), "7.0.15");
    assert.equal(f.get("tcp_port"), String(t.port));
    assert.equal(f.get("connected_clients"), "1");
    assert.equal(f.get("db0"), "keys=1,expires=0,avg_ttl=0");
    assert.match(
      f.get("cmdstat_get")!,
      /^calls=1,usec=\d+,usec_per_call=[\d.]+,rejected_calls=1,failed_calls=0$/,
    );
    assert.equal(f.get("errorstat_ERR"), "count=1");
    assert.match(f.get("latency_percentiles_usec_get")!, /^p50=[\d.]+,p99=[\d.]+,p99\.9=[\d.]+$/);
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test({
  name: "INFO field names of every section are those of redis-server 7.0, in its order",
  ignore: !HAVE_REDIS,
  fn: async () => {
    const ours = await startRedeno();
    const real = await startRealRedis();
    const a = await RespClient.connect(ours.port);
    const b = await RespClient.connect(real.port);
    try {
      const sections = [
        "server",
        "clients",
        "memory",
        "persistence",
        "stats",
        "replication",
        "cpu",
        "cluster",
      ];
      for (const section of sections) {
        const mine = [...parseInfo(await a.call("INFO", section) as string).keys()];
        const theirs = [...parseInfo(await b.call("INFO", section) as string).keys()];
        const missing = theirs.filter((k) => !mine.includes(k));
        assert.deepEqual(missing, [], `INFO ${section} lacks fields`);
        // in Redis's order (ours may add deno_version)
        const common = mine.filter((k) => theirs.includes(k));
        assert.deepEqual(common, theirs, `INFO ${section} field order`);
      }
    } finally {
      a.close();
      b.close();
      await ours.stop();
      await real.stop();
    }
  },
});

Deno.test({
  name: "COMMAND, CONFIG, SLOWLOG, LATENCY, MEMORY and DEBUG errors match redis-server 7.0",
  ignore: !HAVE_REDIS,
  fn: async () => {
    const ours = await startRedeno(["--enable-debug-command", "yes"]);
    const real = await startRealRedis(["--enable-debug-command", "yes"]);
    const a = await RespClient.connect(ours.port);
    const b = await RespClient.connect(real.port);
    const commands = [
      ["COMMAND", "FOO"],
      ["COMMAND", "COUNT", "x"],
      ["COMMAND", "GETKEYS"],
      ["COMMAND", "GETKEYS", "get"],
      ["COMMAND", "GETKEYS", "nosuch", "a"],
      ["COMMAND", "GETKEYS", "ping", "x"],
      ["COMMAND", "GETKEYS", "set", "a", "b"],
      ["COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"],
      ["COMMAND", "GETKEYSANDFLAGS", "set", "a", "b"],
      ["COMMAND", "GETKEYSANDFLAGS", "set", "a", "b", "GET"],
      ["COMMAND", "GETKEYSANDFLAGS", "bitfield", "k", "get", "u8", "0"],
      ["COMMAND", "GETKEYSANDFLAGS", "bitfield", "k", "incrby", "u8", "0", "1"],
      ["COMMAND", "GETKEYSANDFLAGS", "lmove", "a", "b", "left", "right"],
      ["COMMAND", "GETKEYSANDFLAGS", "mset", "a", "1", "b", "2"],
      ["COMMAND", "GETKEYSANDFLAGS", "zunionstore", "d", "2", "a", "b"],
      ["COMMAND", "GETKEYS", "zunionstore", "d", "2", "a", "b"],
      ["COMMAND", "INFO", "nosuch"],
      ["COMMAND", "DOCS", "nosuch"],
      ["COMMAND", "DOCS", "get"],
      ["COMMAND", "INFO", "get"],
      ["COMMAND", "LIST", "FILTERBY", "foo", "x"],
      ["COMMAND", "LIST", "foo"],
      ["COMMAND", "LIST", "FILTERBY", "PATTERN", "config*"],
      ["COMMAND", "HELP"],
      ["CONFIG"],
      ["CONFIG", "FOO"],
      ["CONFIG", "GET"],
      ["CONFIG", "SET", "foo", "bar"],
      ["CONFIG", "SET", "hz"],
      ["CONFIG", "SET", "maxmemory", "abc"],
      ["CONFIG", "SET", "port", "abc"],
      ["CONFIG", "SET", "hz", "11", "hz", "12"],
      ["CONFIG", "SET", "databases", "3"],
      ["CONFIG", "SET", "loglevel", "foo"],
      ["CONFIG", "SET", "save", "1 2 3"],
      ["CONFIG", "SET", "appendonly", "maybe"],
      ["CONFIG", "SET", "timeout", "-1"],
      ["CONFIG", "SET", "client-output-buffer-limit", "foo 1 2 3"],
      ["CONFIG", "SET", "notify-keyspace-events", "Q"],
      ["CONFIG", "SET", "replicaof", "a b"],
      ["CONFIG", "SET", "dir", "/tmp"],
      ["CONFIG", "SET", "dbfilename", "x.rdb"],
      ["CONFIG", "SET", "logfile", "x"],
      ["CONFIG", "GET", "slave-read-only"],
      ["CONFIG", "GET", "client-output-buffer-limit"],
      ["CONFIG", "GET", "hash-max-listpack-entries"],
      ["CONFIG", "REWRITE"],
      ["CONFIG", "HELP"],
      ["SLOWLOG", "GET", "x"],
      ["SLOWLOG", "GET", "-2"],
      ["SLOWLOG", "HELP"],
      ["SLOWLOG", "FOO"],
      ["LATENCY", "HELP"],
      ["LATENCY", "LATEST"],
      ["LATENCY", "RESET"],
      ["LATENCY", "HISTORY", "command"],
      ["LATENCY", "GRAPH", "command"],
      ["LATENCY", "DOCTOR"],
      ["MEMORY", "HELP"],
      ["MEMORY", "USAGE", "nokey"],
      ["MEMORY", "USAGE", "a", "SAMPLES", "x"],
      ["MEMORY", "DOCTOR"],
      ["DEBUG", "foo"],
      ["DEBUG", "SLEEP", "0"],
      ["DEBUG", "SET-ACTIVE-EXPIRE", "1"],
      ["SHUTDOWN", "ABORT"],
      ["SHUTDOWN", "foo"],
      ["SHUTDOWN", "SAVE", "NOSAVE"],
      ["TIME", "x"],
      ["LASTSAVE", "x"],
      ["MONITOR", "x"],
      ["INFO", "nosuchsection"],
    ];
    try {
      for (const cmd of commands) {
        let mine = await a.call(...cmd);
        let theirs = await b.call(...cmd);
        if (cmd[1] === "LIST" && Array.isArray(mine) && Array.isArray(theirs)) {
          // Redis lists subcommands in hash-table order
          mine = [...mine].sort();
          theirs = [...theirs].sort();
        }
        assert.deepEqual(mine, theirs, `reply to ${cmd.join(" ")}`);
      }
    } finally {
      a.close();
      b.close();
      await ours.stop();
      await real.stop();
    }
  },
});

Deno.test("COMMAND lists the whole table and COMMAND INFO describes a command", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    const count = await c.call("COMMAND", "COUNT") as number;
    const all = await c.call("COMMAND") as Reply[][];
    assert.equal(all.length, count);
    assert.ok(count > 20);
    const [get] = await c.call("COMMAND", "INFO", "get") as Reply[][];
    assert.deepEqual(get.slice(0, 7), ["get", 2, ["readonly", "fast"], 1, 1, 1, [
      "@read",
      "@string",
      "@fast",
    ]]);
    const config = (await c.call("COMMAND", "INFO", "config") as Reply[][])[0];
    const subs = (config[9] as Reply[][]).map((s) => s[0]);
    assert.ok(subs.includes("config|get") && subs.includes("config|set"));
    const docs = await c.call("COMMAND", "DOCS", "set") as Reply[];
    assert.equal(docs[0], "set");
    assert.ok((docs[1] as Reply[]).includes("arguments"));
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("SLOWLOG records slow commands with Redis's entry format and truncation", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    await c.call("CONFIG", "SET", "slowlog-log-slower-than", "0");
    await c.call("CLIENT", "SETNAME", "slowpoke");
    const long = "x".repeat(200);
    await c.call("ECHO", long);
    const many = Array.from({ length: 40 }, (_, i) => String(i));
    await c.call("PING", ...many.slice(0, 0));
    await c.call("DEL", ...many);
    const entries = await c.call("SLOWLOG", "GET", "3") as Reply[][];
    assert.equal(entries.length, 3);
    const [del, ping, echo] = entries;
    assert.equal(del.length, 6);
    const delArgs = del[3] as string[];
    assert.equal(delArgs.length, 32);
    assert.equal(delArgs[31], "... (10 more arguments)");
    assert.deepEqual(ping[3], ["PING"]);
    assert.deepEqual(echo[3], ["ECHO", "x".repeat(128) + "... (72 more bytes)"]);
    assert.equal(echo[5], "slowpoke");
    assert.match(echo[4] as string, /^127\.0\.0\.1:\d+$/);
    assert.ok((del[0] as number) > (echo[0] as number));
    assert.ok((await c.call("SLOWLOG", "LEN") as number) >= 3);
    assert.equal(await c.call("SLOWLOG", "RESET"), "OK");
    assert.ok((await c.call("SLOWLOG", "LEN") as number) <= 1);
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("MONITOR streams every other client's commands in Redis's format", async () => {
  const t = await startRedeno();
  const mon = await RespClient.connect(t.port);
  const c = await RespClient.connect(t.port);
  try {
    assert.equal(await mon.call("MONITOR"), "OK");
    await c.call("SET", "k", 'a "quoted"\nvalue\x01');
    const line = await mon.read() as string;
    assert.match(
      line,
      /^\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "SET" "k" "a \\"quoted\\"\\nvalue\\x01"$/,
    );
  } finally {
    mon.close();
    c.close();
    await t.stop();
  }
});

Deno.test("DEBUG runs registered subcommands and refuses when disabled", async () => {
  registerDebugSubcommand("test-echo", (c, argv) => c.reply.bulk(argv[2] ?? ""), [
    "TEST-ECHO <arg>",
  ]);
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    assert.equal(await c.call("DEBUG", "test-echo", "hi"), "hi");
    const help = await c.call("DEBUG", "HELP") as string[];
    assert.ok(help.includes("TEST-ECHO <arg>"));
    const start = Date.now();
    assert.equal(await c.call("DEBUG", "SLEEP", "0.1"), "OK");
    assert.ok(Date.now() - start >= 90);
    assert.equal(await c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0"), "OK");
    assert.equal(t.server.activeExpireEnabled, false);
  } finally {
    c.close();
    await t.stop();
  }
  const off = await startRedeno(["--enable-debug-command", "no"]);
  const d = await RespClient.connect(off.port);
  try {
    const r = await d.call("DEBUG", "SLEEP", "0");
    assert.ok(r instanceof RespError && r.message.startsWith("ERR DEBUG command not allowed."));
  } finally {
    d.close();
    await off.stop();
  }
});

Deno.test("LATENCY records slow commands over the threshold; MEMORY USAGE sizes keys", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    await c.call("CONFIG", "SET", "latency-monitor-threshold", "50");
    await c.call("DEBUG", "SLEEP", "0.06");
    const latest = await c.call("LATENCY", "LATEST") as Reply[][];
    assert.equal(latest.length, 1);
    assert.equal(latest[0][0], "command");
    assert.ok((latest[0][2] as number) >= 50);
    assert.equal((await c.call("LATENCY", "HISTORY", "command") as Reply[]).length, 1);
    assert.equal(await c.call("LATENCY", "RESET"), 1);
    await c.call("SET", "small", "1");
    await c.call("SET", "big", "x".repeat(10000));
    const small = await c.call("MEMORY", "USAGE", "small") as number;
    const big = await c.call("MEMORY", "USAGE", "big") as number;
    assert.ok(small > 0 && small < 200);
    assert.ok(big >= 10000 && big < 10300);
    assert.equal(await c.call("MEMORY", "USAGE", "nokey"), null);
    await c.call("RPUSH", "list", ...Array.from({ length: 100 }, (_, i) => `element-${i}`));
    const list = await c.call("MEMORY", "USAGE", "list") as number;
    assert.ok(list > 100 * 10 && list < 100 * 100, `list of 100 takes ${list} bytes`);
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("TIME and LASTSAVE answer the current time", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  try {
    const [secs, micros] = await c.call("TIME") as string[];
    assert.ok(Math.abs(Number(secs) - Date.now() / 1000) < 5);
    assert.ok(Number(micros) >= 0 && Number(micros) < 1e6);
    const last = await c.call("LASTSAVE") as number;
    assert.ok(Math.abs(last - Date.now() / 1000) < 60);
  } finally {
    c.close();
    await t.stop();
  }
});

Deno.test("SHUTDOWN NOSAVE stops the server process", async () => {
  const p = await spawnRedeno();
  const c = await RespClient.connect(p.port);
  try {
    await c.write(RespClient.encode(["SHUTDOWN", "NOSAVE"]));
    assert.ok(await c.closedByServer(10000));
    const status = await waitFor(() => p.process.status, { what: "process exit" });
    assert.equal(status.code, 0);
  } finally {
    c.close();
    await p.stop();
  }
});

Deno.test({
  name: "Tcl-suite introspection replies match redis-server 7.0 side by side",
  ignore: !HAVE_REDIS,
  async fn() {
    const { withPair } = await import("./side_by_side.ts");
    await withPair(async (p) => {
      // GETKEYS of a command whose keys are optional; SORT's STORE destination
      await p.same("COMMAND", "GETKEYS", "eval", "return 1", "0");
      await p.same("COMMAND", "GETKEYSANDFLAGS", "sort", "k1", "store", "k2");
      await p.same("COMMAND", "GETKEYSANDFLAGS", "LMOVE", "k1", "k2", "left", "right");
      // latency-tracking-info-percentiles: Redis's number format and errors
      await p.same("CONFIG", "SET", "latency-tracking-info-percentiles", "0.0 50.0 100.0");
      await p.same("CONFIG", "GET", "latency-tracking-info-percentiles");
      await p.same("CONFIG", "SET", "latency-tracking-info-percentiles", "10.0 50.0 a");
      await p.same("CONFIG", "SET", "latency-tracking-info-percentiles", "10.0 50.0 101.0");
      await p.same("CONFIG", "GET", "latency-tracking-info-percentiles");
      await p.same("CONFIG", "SET", "enable-debug-command", "no");
      await p.same("CONFIG", "SET", "enable-protected-configs", "no");
      // LATENCY HISTOGRAM of a container: every subcommand that ran
      await p.same("CONFIG", "RESETSTAT");
      await p.both("CLIENT", "ID");
      await p.both("CLIENT", "GETNAME");
      const [ours, real] = await p.both("LATENCY", "HISTOGRAM", "client");
      const names = (r: Reply) => (r as Reply[]).filter((_, i) => i % 2 === 0).sort();
      assert.deepEqual(names(ours), names(real));
      assert.deepEqual(names(ours), ["client|getname", "client|id"]);
      // the client running CLIENT INFO has its own command in its query buffer
      const [oi, ri] = await p.both("CLIENT", "INFO");
      const qbuf = (s: Reply) => String(s).match(/ qbuf=(\d+) /)![1];
      assert.equal(qbuf(oi), qbuf(ri));
      assert.equal(qbuf(oi), "26");
    });
  },
});

Deno.test("MONITOR shows a script before the commands it runs", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  const m = await RespClient.connect(t.port);
  try {
    assert.equal(await m.call("MONITOR"), "OK");
    await c.call("EVAL", "return redis.call('set', 'foo', 'bar')", "0");
    assert.match(String(await m.read()), /\[0 127\.0\.0\.1:\d+\] "EVAL" "return/);
    assert.match(String(await m.read()), /\[0 lua\] "set" "foo" "bar"$/);
  } finally {
    c.close();
    m.close();
    await t.stop();
  }
});

Deno.test("CLIENT UNBLOCK ... ERROR counts a failed call of the blocked command", async () => {
  const t = await startRedeno();
  const c = await RespClient.connect(t.port);
  const b = await RespClient.connect(t.port);
  try {
    await c.call("CONFIG", "RESETSTAT");
    const id = await b.call("CLIENT", "ID");
    await b.write(RespClient.encode(["BLPOP", "list", "0"]));
    await waitFor(async () =>
      parseInfo(await c.call("INFO", "clients") as string).get("blocked_clients") === "1"
    );
    assert.equal(await c.call("CLIENT", "UNBLOCK", id as number, "ERROR"), 1);
    assert.ok((await b.read()) instanceof RespError);
    const info = parseInfo(await c.call("INFO", "commandstats") as string);
    assert.match(info.get("cmdstat_blpop")!, /^calls=1,.*,rejected_calls=0,failed_calls=1$/);
  } finally {
    c.close();
    b.close();
    await t.stop();
  }
});

Deno.test("DEBUG SEGFAULT writes Redis's crash report to the log and ends the process", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redeno-crash-" });
  const s = await spawnRedeno(["--logfile", `${dir}/crash.log`], { dir });
  try {
    const c = await RespClient.connect(s.port);
    await c.write(RespClient.encode(["DEBUG", "SEGFAULT"]));
    const status = await s.process.status;
    assert.equal(status.code, 128 + 11);
    const read = () => Deno.readTextFile(`${dir}/crash.log`);
    await waitFor(async () => /REDIS BUG REPORT END/.test(await read()));
    const log = await read();
    assert.match(log, /=== REDIS BUG REPORT START: Cut & paste starting from here ===/);
    assert.match(log, /# Redis 7\.0\.15 crashed by signal: 11, si_code: 2/);
    assert.match(log, /------ CURRENT CLIENT INFO ------\nid=\d+ .* cmd=debug /);
    c.close();
  } finally {
    await s.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "COMMAND INFO of every redis-server 7.0 command matches (flags, keys, ACL categories)",
  ignore: !HAVE_REDIS,
  fn: async () => {
    const t = await startRedeno();
    const redis = await startRealRedis();
    const ours = await RespClient.connect(t.port);
    const theirs = await RespClient.connect(redis.port);
    // container subcommands come in hash order in Redis: compared as sets
    const norm = (info: Reply): string => {
      if (!Array.isArray(info)) return JSON.stringify(info);
      const subs = info[9];
      const sorted = Array.isArray(subs) ? subs.map(norm).sort() : subs;
      return JSON.stringify([...info.slice(0, 9), sorted]);
    };
    try {
      const names = (await theirs.call("COMMAND", "LIST") as string[]).sort();
      const mismatches: string[] = [];
      for (const name of names) {
        const want = norm((await theirs.call("COMMAND", "INFO", name) as Reply[])[0]);
        const got = norm((await ours.call("COMMAND", "INFO", name) as Reply[])[0]);
        if (got !== want) mismatches.push(`${name}\n  redis  ${want}\n  redeno ${got}`);
      }
      assert.deepEqual(mismatches, []);
    } finally {
      ours.close();
      theirs.close();
      await t.stop();
      await redis.stop();
    }
  },
});
