/**
 * Test helpers: servers on free loopback ports (in-process, as a `deno run` subprocess,
 * or a real redis-server), a raw RESP client, and polling with a deadline.
 */
import { configFromArgs, createServer } from "../src/startup.ts";
import type { Server } from "../src/server.ts";

const encoder = new TextEncoder();

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A running in-process Redeno. */
export interface TestServer {
  server: Server;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts Redeno in this process on a free port. Defaults: no save points, quiet logs,
 * dir in a fresh temp folder. `args` are redis-server style (`--name value`).
 */
export async function startRedeno(args: string[] = []): Promise<TestServer> {
  const dir = await Deno.makeTempDir({ prefix: "redeno-test-" });
  for (let attempt = 0;; attempt++) {
    const port = freePort();
    const config = configFromArgs([
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--loglevel",
      "warning",
      "--dir",
      dir,
      // Redis's default is "no"; our tests use DEBUG freely (an explicit arg overrides)
      "--enable-debug-command",
      "yes",
      ...args,
    ]);
    const server = createServer(config);
    try {
      await server.start();
    } catch (e) {
      server.stop();
      if (attempt < 5 && /in use/i.test(String(e))) continue;
      throw e;
    }
    return {
      server,
      port: server.port,
      async stop() {
        server.stop();
        // let pending socket closes settle so --trace-leaks stays quiet
        await new Promise((r) => setTimeout(r, 10));
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      },
    };
  }
}

/** True if a binary is on PATH. */
export function hasBinary(name: string): boolean {
  try {
    const r = new Deno.Command("which", { args: [name], stdout: "null", stderr: "null" })
      .outputSync();
    return r.success;
  } catch {
    return false;
  }
}

/** Whether a real redis-server is installed (interop tests are ignored otherwise). */
export const HAVE_REDIS = hasBinary("redis-server");
/** Whether redis-cli is installed. */
export const HAVE_REDIS_CLI = hasBinary("redis-cli");

/** A server process (real redis-server or Redeno via deno run). */
export interface TestProcess {
  port: number;
  pid: number;
  dir: string;
  process: Deno.ChildProcess;
  /** sends SIGTERM (or the given signal) and waits for exit */
  stop(signal?: Deno.Signal): Promise<void>;
}

async function waitForPort(port: number, proc: Deno.ChildProcess, ms = 15000): Promise<void> {
  const deadline = Date.now() + ms;
  let exited = false;
  proc.status.then(() => exited = true);
  while (Date.now() < deadline) {
    if (exited) throw new Error(`server process exited before listening on ${port}`);
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`server did not listen on ${port} within ${ms} ms`);
}

async function spawn(
  cmd: string,
  args: string[],
  port: number,
  dir: string,
  logFile: string,
): Promise<TestProcess> {
  const log = await Deno.open(logFile, { write: true, create: true, append: true });
  const process = new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  // keep the pipes drained into the log file, chunk by chunk as they arrive (a pipeTo
  // into the file's writable stream wrote nothing on Deno 2.9)
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      let off = 0;
      while (off < chunk.length) off += log.writeSync(chunk.subarray(off));
    }
  };
  drain(process.stdout).catch(() => {});
  drain(process.stderr).catch(() => {});
  try {
    await waitForPort(port, process);
  } catch (e) {
    try {
      process.kill("SIGKILL");
    } catch { /* gone */ }
    await process.status;
    log.close();
    const text = await Deno.readTextFile(logFile).catch(() => "");
    throw new Error(`${(e as Error).message}\n${text}`);
  }
  let stopped = false;
  return {
    port,
    pid: process.pid,
    dir,
    process,
    async stop(signal: Deno.Signal = "SIGTERM") {
      if (!stopped) {
        stopped = true;
        try {
          process.kill(signal);
        } catch { /* already exited */ }
      }
      await process.status;
      await new Promise((r) => setTimeout(r, 5));
      try {
        log.close();
      } catch { /* closed */ }
    },
  };
}

/** Starts a real redis-server on a free port with a temp dir. */
export async function startRealRedis(args: string[] = [], dir?: string): Promise<TestProcess> {
  dir ??= await Deno.makeTempDir({ prefix: "redis-test-" });
  const port = freePort();
  return spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--dir",
      dir,
      "--daemonize",
      "no",
      "--loglevel",
      "notice",
      ...args,
    ],
    port,
    dir,
    `${dir}/redis.log`,
  );
}

/** Starts a server subprocess: `args` are redis-server style, `dir` its directory. */
export type SpawnServer = (args: string[], dir?: string) => Promise<TestProcess>;

/**
 * Runs `body` with Redeno as a subprocess, then with a real redis-server when one is
 * installed, for side-by-side tests of process-level behaviour. `log` is the server's
 * log file name in its directory.
 */
export async function eachSpawnedServer(
  body: (spawn: SpawnServer, name: "redeno" | "redis", log: string) => Promise<void>,
): Promise<void> {
  await body(
    (args, dir) => spawnRedeno(args, dir === undefined ? {} : { dir }),
    "redeno",
    "redeno.log",
  );
  if (HAVE_REDIS) await body((args, dir) => startRealRedis(args, dir), "redis", "redis.log");
}

/**
 * Runs `body` against Redeno in this process, then against a real redis-server when one
 * is installed, both started with `args`: for behaviour both must show the same way.
 */
export async function onRedenoThenRedis(
  body: (port: number) => Promise<void>,
  args: string[] = [],
): Promise<void> {
  const t = await startRedeno(args);
  try {
    await body(t.port);
  } finally {
    await t.stop();
  }
  if (!HAVE_REDIS) return;
  const r = await startRealRedis(args);
  try {
    await body(r.port);
  } finally {
    await r.stop();
  }
}

/** Starts Redeno as a subprocess (`deno run main.ts`) on a free port with a temp dir. */
export async function spawnRedeno(
  args: string[] = [],
  opts: { dir?: string; port?: number } = {},
): Promise<TestProcess> {
  const dir = opts.dir ?? await Deno.makeTempDir({ prefix: "redeno-proc-" });
  const port = opts.port ?? freePort();
  const main = new URL("../main.ts", import.meta.url).pathname;
  return spawn(
    Deno.execPath(),
    [
      "run",
      "--allow-all",
      main,
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--dir",
      dir,
      "--enable-debug-command",
      "yes",
      ...args,
    ],
    port,
    dir,
    `${dir}/redeno.log`,
  );
}

/** A decoded reply. Errors are returned as RespError values, not thrown. */
export type Reply =
  | string
  | number
  | bigint
  | null
  | boolean
  | RespError
  | Reply[]
  | Map<Reply, Reply>
  | Set<Reply>
  | { push: Reply[] }
  | { verbatim: string; format: string }
  | { double: number };

/** An error reply. */
export class RespError {
  constructor(readonly message: string) {}
  toString(): string {
    return this.message;
  }
}

/** Thrown by parseReply when the buffer does not yet hold a whole reply. */
class Incomplete extends Error {}

/** Parses one reply at buf[pos]; returns it and the next position. */
export function parseReply(buf: Uint8Array, pos: number): [Reply, number] {
  const lineEnd = (from: number) => {
    for (let i = from; i + 1 < buf.length; i++) {
      if (buf[i] === 13 && buf[i + 1] === 10) return i;
    }
    throw new Incomplete();
  };
  if (pos >= buf.length) throw new Incomplete();
  const type = String.fromCharCode(buf[pos]);
  const e = lineEnd(pos + 1);
  let line = "";
  for (let i = pos + 1; i < e; i++) line += String.fromCharCode(buf[i]);
  let next = e + 2;
  const many = (n: number): [Reply[], number] => {
    const out: Reply[] = [];
    for (let i = 0; i < n; i++) {
      const [r, p] = parseReply(buf, next);
      out.push(r);
      next = p;
    }
    return [out, next];
  };
  switch (type) {
    case "+":
      return [line, next];
    case "-":
      return [new RespError(line), next];
    case ":":
      return [Math.abs(Number(line)) > Number.MAX_SAFE_INTEGER ? BigInt(line) : Number(line), next];
    case "(":
      return [BigInt(line), next];
    case ",":
      return [
        { double: line === "inf" ? Infinity : line === "-inf" ? -Infinity : Number(line) },
        next,
      ];
    case "#":
      return [line === "t", next];
    case "_":
      return [null, next];
    case "$":
    case "=":
    case "!": {
      const n = Number(line);
      if (n < 0) return [null, next];
      if (next + n + 2 > buf.length) throw new Incomplete();
      let s = "";
      for (let i = next; i < next + n; i++) s += String.fromCharCode(buf[i]);
      next += n + 2;
      if (type === "=") return [{ format: s.slice(0, 3), verbatim: s.slice(4) }, next];
      if (type === "!") return [new RespError(s), next];
      return [s, next];
    }
    case "*":
    case "~":
    case ">": {
      const n = Number(line);
      if (n < 0) return [null, next];
      const [items, p] = many(n);
      if (type === "~") return [new Set(items), p];
      if (type === ">") return [{ push: items }, p];
      return [items, p];
    }
    case "%": {
      const n = Number(line);
      const [items, p] = many(n * 2);
      const m = new Map<Reply, Reply>();
      for (let i = 0; i < items.length; i += 2) m.set(items[i], items[i + 1]);
      return [m, p];
    }
    default:
      throw new Error(`bad reply type byte ${JSON.stringify(type)}`);
  }
}

/** A minimal RESP client over a raw socket, for exact protocol assertions. */
export class RespClient {
  conn: Deno.TcpConn;
  #buf = new Uint8Array(0);
  #pending: Reply[] = [];
  #closed = false;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /** Connects to 127.0.0.1:port. */
  static async connect(port: number): Promise<RespClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return new RespClient(conn);
  }

  /** Encodes a command (binary strings) as a RESP array. */
  static encode(args: Array<string | number>): Uint8Array {
    let s = `*${args.length}\r\n`;
    for (const a of args) {
      const v = String(a);
      s += `$${v.length}\r\n${v}\r\n`;
    }
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }

  /** Writes raw bytes (or a string, as binary). */
  async write(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === "string" ? binary(data) : data;
    let off = 0;
    while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
  }

  /** Sends one command and returns its reply. */
  async call(...args: Array<string | number>): Promise<Reply> {
    await this.write(RespClient.encode(args));
    return await this.read();
  }

  /** Sends many commands in one write and returns their replies. */
  async pipeline(commands: Array<Array<string | number>>): Promise<Reply[]> {
    const parts = commands.map((c) => RespClient.encode(c));
    const total = parts.reduce((n, p) => n + p.length, 0);
    const all = new Uint8Array(total);
    let off = 0;
    for (const p of parts) {
      all.set(p, off);
      off += p.length;
    }
    await this.write(all);
    const out: Reply[] = [];
    for (let i = 0; i < commands.length; i++) out.push(await this.read());
    return out;
  }

  /** Reads the next reply (waits up to `timeoutMs`). */
  async read(timeoutMs = 10000): Promise<Reply> {
    if (this.#pending.length > 0) return this.#pending.shift()!;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#buf.length > 0) {
        try {
          const [r, p] = parseReply(this.#buf, 0);
          this.#buf = this.#buf.slice(p);
          return r;
        } catch (e) {
          if (!(e instanceof Incomplete)) throw e;
        }
      }
      const chunk = await this.#readChunk(deadline - Date.now());
      if (chunk === null) throw new Error("connection closed by server");
      const merged = new Uint8Array(this.#buf.length + chunk.length);
      merged.set(this.#buf);
      merged.set(chunk, this.#buf.length);
      this.#buf = merged;
    }
  }

  /** Reads raw bytes until `n` bytes arrived or the peer closed; returns them as binary. */
  async readRaw(n: number, timeoutMs = 10000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.#buf.length < n) {
      const chunk = await this.#readChunk(deadline - Date.now());
      if (chunk === null) break;
      const merged = new Uint8Array(this.#buf.length + chunk.length);
      merged.set(this.#buf);
      merged.set(chunk, this.#buf.length);
      this.#buf = merged;
    }
    const take = this.#buf.slice(0, Math.min(n, this.#buf.length));
    this.#buf = this.#buf.slice(take.length);
    let s = "";
    for (const b of take) s += String.fromCharCode(b);
    return s;
  }

  /** True once the server closed the connection (waits up to timeoutMs). */
  async closedByServer(timeoutMs = 3000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      try {
        const chunk = await this.#readChunk(remaining);
        if (chunk === null) return true;
      } catch (e) {
        if (e instanceof Error && e.message === "read timeout") return false;
        return true;
      }
    }
  }

  async #readChunk(timeoutMs: number): Promise<Uint8Array | null> {
    const buf = new Uint8Array(64 * 1024);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("read timeout")), Math.max(1, timeoutMs));
    });
    try {
      const n = await Promise.race([this.conn.read(buf), timeout]);
      if (n === null) return null;
      return buf.subarray(0, n);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the connection. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

/** A binary string to bytes. */
export function binary(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10000);
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
  }
  throw new Error(`timed out waiting for ${opts.what ?? "condition"} (last: ${String(last)})`);
}

/** Runs redis-cli with args against a port; returns stdout (trimmed of the final newline). */
export async function redisCli(port: number, args: string[], stdin?: string): Promise<string> {
  const p = new Deno.Command("redis-cli", {
    args: ["-p", String(port), ...args],
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = p.stdin.getWriter();
    await w.write(encoder.encode(stdin));
    await w.close();
  }
  const out = await p.output();
  return new TextDecoder().decode(out.stdout).replace(/\n$/, "");
}

/** Parses INFO text into a field map. */
export function parseInfo(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.indexOf(":");
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

/**
 * Sends one command and returns the exact bytes of its reply as a binary string (for
 * byte-for-byte comparisons with a real redis-server, where `*-1` and `$-1` differ).
 */
export async function callRaw(c: RespClient, ...args: Array<string | number>): Promise<string> {
  await c.write(RespClient.encode(args));
  let raw = "";
  for (;;) {
    const chunk = await c.readRaw(1);
    if (chunk === "") throw new Error("connection closed by server");
    raw += chunk;
    if (!raw.endsWith("\n")) continue;
    try {
      parseReply(binary(raw), 0);
      return raw;
    } catch (e) {
      if (!(e instanceof Incomplete)) throw e;
    }
  }
}

/** Options for rawReplyDiffs(). */
export interface RawDiffOptions {
  /** switch both connections to RESP3 first */
  resp3?: boolean;
  /** server arguments given to both (`--name value`) */
  args?: string[];
  /** collect keyspace events (notify-keyspace-events KEA) and compare them too */
  events?: boolean;
}

/**
 * Sends `cmds` to a fresh Redeno and a fresh redis-server and returns a description of
 * every reply whose bytes differ (empty when all are identical). With `events`, the
 * keyevent notifications both servers published are compared as well.
 */
export async function rawReplyDiffs(
  cmds: Array<Array<string | number>>,
  opts: RawDiffOptions = {},
): Promise<string[]> {
  const args = [...(opts.args ?? []), ...(opts.events ? ["--notify-keyspace-events", "KEA"] : [])];
  const t = await startRedeno(args);
  const r = await startRealRedis(args);
  const clients: RespClient[] = [];
  try {
    const ours = await RespClient.connect(t.port);
    const real = await RespClient.connect(r.port);
    clients.push(ours, real);
    const subs: RespClient[] = [];
    if (opts.events) {
      for (const port of [t.port, r.port]) {
        const s = await RespClient.connect(port);
        clients.push(s);
        await s.call("PSUBSCRIBE", "__keyevent@*__:*");
        subs.push(s);
      }
    }
    if (opts.resp3) {
      await ours.call("HELLO", 3);
      await real.call("HELLO", 3);
    }
    const diffs: string[] = [];
    for (const cmd of cmds) {
      const a = await callRaw(ours, ...cmd);
      const b = await callRaw(real, ...cmd);
      if (a !== b) {
        diffs.push(
          `${JSON.stringify(cmd)}: redeno ${JSON.stringify(a)} redis ${JSON.stringify(b)}`,
        );
      }
    }
    if (opts.events) {
      const marker = "__raw_diff_end__";
      await ours.call("SET", marker, "1");
      await real.call("SET", marker, "1");
      const logs: string[][] = [];
      for (const s of subs) {
        const log: string[] = [];
        for (;;) {
          const m = await s.read() as Reply[];
          if (m[3] === marker) break;
          log.push(`${m[2]} ${m[3]}`);
        }
        logs.push(log);
      }
      const [mine, theirs] = logs;
      for (let i = 0; i < Math.max(mine.length, theirs.length); i++) {
        if (mine[i] !== theirs[i]) {
          diffs.push(`event #${i}: redeno ${mine[i]} redis ${theirs[i]}`);
          break;
        }
      }
    }
    return diffs;
  } finally {
    for (const c of clients) c.close();
    await r.stop();
    await t.stop();
  }
}

/**
 * Starts an in-process Redeno (with `args`) and one RespClient connected to it, runs
 * `body`, and always closes the client and stops the server afterwards.
 */
export async function withRedeno(
  body: (r: RespClient, t: TestServer) => Promise<void>,
  args: string[] = [],
): Promise<void> {
  const t = await startRedeno(args);
  const r = await RespClient.connect(t.port);
  try {
    await body(r, t);
  } finally {
    r.close();
    await t.stop();
  }
}

/** An expected error reply, for deepEqual against what a RespClient returned. */
export function err(message: string): RespError {
  return new RespError(message);
}

/** Splits a buffer of concatenated RESP arrays (an AOF, a replication stream) into argvs. */
export function parseCommands(bytes: Uint8Array): string[][] {
  const out: string[][] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const [reply, next] = parseReply(bytes, pos);
    out.push(reply as string[]);
    pos = next;
  }
  return out;
}

/** Records every command `t` propagates (AOF/replication feed), as its argv joined by spaces. */
export function recordPropagatedLines(t: TestServer): string[] {
  const out: string[] = [];
  t.server.sinks.push({
    feed(_db, bytes) {
      for (const argv of parseCommands(bytes)) out.push(argv.join(" "));
    },
  });
  return out;
}
