/**
 * AOF scenarios: replay at restart, torn tails and corruption, crashes (SIGKILL) under
 * appendfsync always and everysec, BGREWRITEAOF while writes continue, the automatic
 * rewrite, and turning appendonly on and off at run time.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert";
import {
  eachSpawnedServer,
  parseInfo,
  RespClient,
  spawnRedeno,
  startRedeno,
  waitFor,
} from "./helpers.ts";
import { fingerprint, loadDataset, waitLoaded } from "./persistence_dataset.ts";

const AOF_DIR = "appendonlydir";

async function info(c: RespClient): Promise<Map<string, string>> {
  return parseInfo(String(await c.call("INFO", "persistence")));
}

async function rewriteDone(c: RespClient): Promise<void> {
  await waitFor(async () => (await info(c)).get("aof_rewrite_in_progress") === "0");
}

function manifestOf(dir: string): string {
  return Deno.readTextFileSync(`${dir}/${AOF_DIR}/appendonly.aof.manifest`);
}

function lastIncr(dir: string): string {
  const lines = manifestOf(dir).trim().split("\n").filter((l) => l.endsWith("type i"));
  return `${dir}/${AOF_DIR}/${lines[lines.length - 1].split(" ")[1]}`;
}

Deno.test("the AOF written here is replayed at restart: every type, several dbs, MULTI/EXEC, TTLs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redeno-aof-" });
  const args = ["--dir", dir, "--appendonly", "yes"];
  try {
    const first = await startRedeno(args);
    let expected: unknown;
    try {
      await loadDataset(first.port);
      const c = await RespClient.connect(first.port);
      await c.pipeline([["MULTI"], ["INCR", "counter"], ["LPUSH", "tx", "a"], ["EXEC"]]);
      await c.call("INCRBYFLOAT", "float", "2.5");
      await c.call("SET", "volatile", "v", "EX", 1000);
      c.close();
      expected = await fingerprint(first.port);
      deepStrictEqual(
        manifestOf(dir),
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
      );
    } finally {
      await first.stop();
    }
    const second = await startRedeno(args);
    try {
      deepStrictEqual(await fingerprint(second.port), expected);
    } finally {
      await second.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with appendonly no no AOF directory is created", async () => {
  const ours = await startRedeno();
  try {
    const c = await RespClient.connect(ours.port);
    await c.call("SET", "k", "v");
    c.close();
    const dir = ours.server.config.get("dir");
    strictEqual(await Deno.stat(`${dir}/${AOF_DIR}`).then(() => true, () => false), false);
  } finally {
    await ours.stop();
  }
});

Deno.test("a torn last command is truncated (aof-load-truncated yes) and refused with aof-load-truncated no", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redeno-aof-torn-" });
  const args = ["--dir", dir, "--appendonly", "yes"];
  try {
    const first = await startRedeno(args);
    const c = await RespClient.connect(first.port);
    await c.call("SET", "a", "1");
    await c.call("SET", "b", "2");
    c.close();
    await first.stop();
    const incr = lastIncr(dir);
    const good = (await Deno.stat(incr)).size;
    await Deno.writeTextFile(incr, "*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1", { append: true });
    let refused = "";
    try {
      const s = await startRedeno([...args, "--aof-load-truncated", "no"]);
      await s.stop();
    } catch (e) {
      refused = (e as Error).message;
    }
    ok(refused.includes("Unexpected end of file"), refused);
    const second = await startRedeno(args);
    const c2 = await RespClient.connect(second.port);
    deepStrictEqual(await c2.call("MGET", "a", "b", "c"), ["1", "2", null]);
    strictEqual((await Deno.stat(incr)).size, good); // the torn tail was cut off
    await c2.call("SET", "c", "3");
    c2.close();
    await second.stop();
    const third = await startRedeno(args);
    const c3 = await RespClient.connect(third.port);
    deepStrictEqual(await c3.call("MGET", "a", "b", "c"), ["1", "2", "3"]);
    c3.close();
    await third.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unfinished MULTI at the end of the AOF is reverted; garbage in the middle refuses to start", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redeno-aof-multi-" });
  const args = ["--dir", dir, "--appendonly", "yes"];
  try {
    const first = await startRedeno(args);
    const c = await RespClient.connect(first.port);
    await c.call("SET", "a", "1");
    c.close();
    await first.stop();
    const incr = lastIncr(dir);
    const clean = await Deno.readFile(incr);
    await Deno.writeTextFile(
      incr,
      "*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n",
      {
        append: true,
      },
    );
    const second = await startRedeno(args);
    const c2 = await RespClient.connect(second.port);
    deepStrictEqual(await c2.call("MGET", "a", "b"), ["1", null]);
    c2.close();
    await second.stop();
    const bad = new Uint8Array([
      ...clean,
      ...new TextEncoder().encode("garbage\r\n*1\r\n$4\r\nPING\r\n"),
    ]);
    await Deno.writeFile(incr, bad);
    let refused = "";
    try {
      const s = await startRedeno(args);
      await s.stop();
    } catch (e) {
      refused = (e as Error).message;
    }
    ok(refused.includes("Bad file format reading the append only file"), refused);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Writers INCR their own counter as fast as they can and remember the last value
 * acknowledged; the process is killed with SIGKILL; after restart each counter must be
 * at least what was acknowledged (minus `tolerance` ms worth of writes).
 */
async function crashTest(fsync: string): Promise<{ acked: number[]; recovered: number[] }> {
  const p = await spawnRedeno(["--appendonly", "yes", "--appendfsync", fsync]);
  const writers = 4;
  const acked = new Array(writers).fill(0);
  let stop = false;
  const loops: Promise<void>[] = [];
  try {
    for (let w = 0; w < writers; w++) {
      loops.push((async () => {
        const c = await RespClient.connect(p.port);
        try {
          while (!stop) {
            const r = await c.pipeline([["INCR", `counter:${w}`], ["INCR", `counter:${w}`]]);
            acked[w] = Number(r[1]);
          }
        } catch {
          // the server was killed mid-request
        } finally {
          c.close();
        }
      })());
    }
    // every writer has had a reply (a loaded machine may need a while), then a random
    // extra stretch of writes before the kill
    await waitFor(() => acked.every((n) => n > 0), { what: "every writer acknowledged" });
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 500));
    const snapshot = acked.slice();
    try {
      Deno.kill(p.pid, "SIGKILL");
    } catch { /* already gone */ }
    stop = true;
    await Promise.all(loops);
    ok(snapshot.every((n) => n > 0), `writers made progress: ${snapshot}`);
  } finally {
    stop = true;
    await p.stop();
  }
  try {
    const again = await spawnRedeno(["--appendonly", "yes"], { dir: p.dir });
    const recovered: number[] = [];
    try {
      await waitLoaded(again.port);
      const c = await RespClient.connect(again.port);
      try {
        for (let w = 0; w < writers; w++) {
          recovered.push(Number(await c.call("GET", `counter:${w}`)));
        }
      } finally {
        c.close();
      }
    } finally {
      await again.stop();
    }
    return { acked, recovered };
  } finally {
    await Deno.remove(p.dir, { recursive: true });
  }
}

Deno.test("SIGKILL under appendfsync always: nothing acknowledged is missing after restart", async () => {
  const { acked, recovered } = await crashTest("always");
  for (let w = 0; w < acked.length; w++) {
    ok(
      recovered[w] >= acked[w],
      `writer ${w}: acknowledged ${acked[w]}, recovered ${recovered[w]}`,
    );
  }
});

Deno.test("SIGKILL under appendfsync everysec: at most the last second of writes is lost", async () => {
  const { acked, recovered } = await crashTest("everysec");
  for (let w = 0; w < acked.length; w++) {
    // writes reach the kernel before the reply, so a process crash loses nothing;
    // only a power cut could cost the last second
    ok(
      recovered[w] >= acked[w],
      `writer ${w}: acknowledged ${acked[w]}, recovered ${recovered[w]}`,
    );
  }
});

Deno.test("BGREWRITEAOF while writes continue: new base, manifest switched, old files removed, nothing lost", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redeno-aof-rw-" });
  const args = ["--dir", dir, "--appendonly", "yes"];
  try {
    const first = await startRedeno(args);
    const c = await RespClient.connect(first.port);
    const fill: Array<Array<string | number>> = [];
    for (let i = 0; i < 20_000; i++) fill.push(["SET", `k${i}`, `v${i}`]);
    await c.pipeline(fill);
    const during: Array<Array<string | number>> = [["BGREWRITEAOF"]];
    for (let i = 0; i < 2000; i++) during.push(["INCR", "counter"], ["SET", `k${i}`, "new"]);
    const replies = await c.pipeline(during);
    strictEqual(replies[0], "Background append only file rewriting started");
    for (let i = 0; i < 500; i++) await c.call("INCR", "counter");
    await rewriteDone(c);
    strictEqual((await info(c)).get("aof_rewrites"), "1");
    await c.call("INCR", "counter");
    c.close();
    await first.stop();
    deepStrictEqual(
      manifestOf(dir),
      "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n",
    );
    deepStrictEqual(
      [...Deno.readDirSync(`${dir}/${AOF_DIR}`)].map((e) => e.name).sort(),
      ["appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof", "appendonly.aof.manifest"],
    );
    const second = await startRedeno(args);
    const c2 = await RespClient.connect(second.port);
    strictEqual(await c2.call("GET", "counter"), "2501");
    deepStrictEqual(await c2.call("MGET", "k0", "k1999", "k2000"), ["new", "new", "v2000"]);
    strictEqual(await c2.call("DBSIZE"), 20_001);
    c2.close();
    await second.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the AOF is rewritten automatically past auto-aof-rewrite-percentage and -min-size", async () => {
  const ours = await startRedeno([
    "--appendonly",
    "yes",
    "--auto-aof-rewrite-min-size",
    "20kb",
    "--auto-aof-rewrite-percentage",
    "100",
  ]);
  const c = await RespClient.connect(ours.port);
  try {
    const cmds: Array<Array<string | number>> = [];
    for (let i = 0; i < 2000; i++) cmds.push(["SET", "same-key", `value-${i}`]);
    await c.pipeline(cmds);
    await waitFor(async () => (await info(c)).get("aof_rewrites") === "1", { timeoutMs: 5000 });
    await rewriteDone(c);
    const i = await info(c);
    ok(Number(i.get("aof_current_size")) < 20 * 1024, i.get("aof_current_size"));
  } finally {
    c.close();
    await ours.stop();
  }
});

Deno.test("CONFIG SET appendonly yes at run time starts the AOF from the current dataset", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redeno-aof-on-" });
  try {
    const first = await startRedeno(["--dir", dir]);
    const c = await RespClient.connect(first.port);
    await c.call("SET", "before", "1");
    strictEqual(await c.call("CONFIG", "SET", "appendonly", "yes"), "OK");
    await c.call("SET", "during", "2");
    await rewriteDone(c);
    strictEqual((await info(c)).get("aof_enabled"), "1");
    await c.call("SET", "after", "3");
    strictEqual(await c.call("CONFIG", "SET", "appendonly", "no"), "OK");
    await c.call("SET", "not-logged", "4");
    c.close();
    await first.stop();
    const second = await startRedeno(["--dir", dir, "--appendonly", "yes"]);
    const c2 = await RespClient.connect(second.port);
    deepStrictEqual(await c2.call("MGET", "before", "during", "after", "not-logged"), [
      "1",
      "2",
      "3",
      null,
    ]);
    c2.close();
    await second.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("BGREWRITEAOF is scheduled while a BGSAVE runs and refused while a rewrite runs", async () => {
  const ours = await startRedeno(["--appendonly", "yes"]);
  const c = await RespClient.connect(ours.port);
  try {
    const cmds: Array<Array<string | number>> = [];
    for (let i = 0; i < 20_000; i++) cmds.push(["SET", `k${i}`, i]);
    await c.pipeline(cmds);
    const r = await c.pipeline([["BGSAVE"], ["BGREWRITEAOF"], ["BGSAVE", "SCHEDULE"]]);
    deepStrictEqual(r.map(String), [
      "Background saving started",
      "Background append only file rewriting scheduled",
      "ERR Background save already in progress",
    ]);
    await waitFor(async () => (await info(c)).get("aof_rewrites") === "1", { timeoutMs: 5000 });
    await rewriteDone(c);
    const r2 = await c.pipeline([["BGREWRITEAOF"], ["BGREWRITEAOF"], ["BGSAVE"], [
      "BGSAVE",
      "SCHEDULE",
    ]]);
    deepStrictEqual(r2.map(String), [
      "Background append only file rewriting started",
      "ERR Background append only file rewriting already in progress",
      "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
      "Background saving scheduled",
    ]);
    await waitFor(async () => (await info(c)).get("rdb_saves") === "2", { timeoutMs: 5000 });
  } finally {
    c.close();
    await ours.stop();
  }
});

Deno.test("an old single-file AOF (Redis < 7) is loaded and upgraded to a manifest", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redeno-aof-old-" });
  try {
    await Deno.writeTextFile(
      `${dir}/appendonly.aof`,
      "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$3\r\nold\r\n$5\r\nstyle\r\n",
    );
    const ours = await startRedeno(["--dir", dir, "--appendonly", "yes"]);
    const c = await RespClient.connect(ours.port);
    strictEqual(await c.call("GET", "old"), "style");
    c.close();
    await ours.stop();
    deepStrictEqual(
      manifestOf(dir),
      "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DEBUG LOADAOF reloads the dataset from the AOF files", async () => {
  const ours = await startRedeno(["--appendonly", "yes"]);
  const c = await RespClient.connect(ours.port);
  try {
    await c.call("SET", "k", "v");
    await c.call("RPUSH", "l", "a", "b");
    ours.server.dbs[0].dict.delete("k"); // diverge memory from the AOF
    strictEqual(await c.call("DEBUG", "LOADAOF"), "OK");
    strictEqual(await c.call("GET", "k"), "v");
    deepStrictEqual(await c.call("LRANGE", "l", 0, -1), ["a", "b"]);
  } finally {
    c.close();
    await ours.stop();
  }
});

Deno.test("aof-timestamp-enabled writes #TS annotations that replay skips", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redeno-aof-ts-" });
  const args = ["--dir", dir, "--appendonly", "yes", "--aof-timestamp-enabled", "yes"];
  try {
    const first = await startRedeno(args);
    const c = await RespClient.connect(first.port);
    await c.call("SET", "a", "1");
    c.close();
    await first.stop();
    ok(/^#TS:\d+\r\n/.test(await Deno.readTextFile(lastIncr(dir))));
    const second = await startRedeno(args);
    const c2 = await RespClient.connect(second.port);
    strictEqual(await c2.call("GET", "a"), "1");
    c2.close();
    await second.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("aof-use-rdb-preamble no: the rewritten base holds commands (with #TS) and restores every type", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redeno-aof-cmd-" });
  const args = ["--dir", dir, "--appendonly", "yes", "--aof-use-rdb-preamble", "no"];
  try {
    const first = await startRedeno(args);
    let expected: unknown;
    try {
      await loadDataset(first.port);
      const c = await RespClient.connect(first.port);
      await c.call("CONFIG", "SET", "aof-timestamp-enabled", "yes");
      await c.call("ZADD", "scores", "0.1", "a", "-inf", "b", "1e300", "c");
      strictEqual(await c.call("BGREWRITEAOF"), "Background append only file rewriting started");
      await rewriteDone(c);
      c.close();
      expected = await fingerprint(first.port);
      const base = manifestOf(dir).split("\n").find((l) => l.endsWith("type b"))!.split(" ")[1];
      ok(base.endsWith(".base.aof"), base);
      const text = new TextDecoder("latin1").decode(Deno.readFileSync(`${dir}/${AOF_DIR}/${base}`));
      ok(text.startsWith("#TS:"), text.slice(0, 20));
      ok(text.includes("\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"));
      ok(text.includes("$19\r\n0.10000000000000001\r\n$1\r\na\r\n"));
    } finally {
      await first.stop();
    }
    const second = await startRedeno(args);
    try {
      deepStrictEqual(await fingerprint(second.port), expected);
    } finally {
      await second.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("appendonly turned on inside MULTI (or BGREWRITEAOF queued there) writes its base after EXEC, counted in total_forks (as redis-server)", async () => {
  await eachSpawnedServer(async (spawn, _name, log) => {
    const p = await spawn(["--appendonly", "no"]);
    const c = await RespClient.connect(p.port);
    try {
      const forks = async () =>
        Number(parseInfo(String(await c.call("INFO", "stats"))).get("total_forks"));
      const before = await forks();
      strictEqual(await c.call("MULTI"), "OK");
      strictEqual(await c.call("SET", "foo", "bar"), "QUEUED");
      strictEqual(await c.call("CONFIG", "SET", "appendonly", "yes"), "QUEUED");
      deepStrictEqual(await c.call("EXEC"), ["OK", "OK"]);
      await waitFor(async () => (await forks()) > before, { what: "the rewrite to start" });
      await rewriteDone(c);
      strictEqual((await info(c)).get("aof_enabled"), "1");
      await waitFor(async () =>
        (await Deno.readTextFile(`${p.dir}/${log}`)).includes(
          "AOF was enabled during a transaction. An AOF background was scheduled to start when possible.",
        ), { what: "the scheduling to be logged" });
      // BGREWRITEAOF inside MULTI is scheduled, then run
      const again = await forks();
      strictEqual(await c.call("MULTI"), "OK");
      strictEqual(await c.call("BGREWRITEAOF"), "QUEUED");
      deepStrictEqual(await c.call("EXEC"), ["Background append only file rewriting scheduled"]);
      await waitFor(async () => (await forks()) > again, { what: "the scheduled rewrite" });
      await rewriteDone(c);
      // BGSAVE counts too
      const third = await forks();
      strictEqual(await c.call("BGSAVE"), "Background saving started");
      await waitFor(async () => (await forks()) > third, { what: "BGSAVE to count" });
    } finally {
      c.close();
      await p.stop();
    }
  });
});
