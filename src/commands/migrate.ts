/**
 * MIGRATE and RESTORE-ASKING (Redis: cluster.c migrateCommand, migrateGetSocket,
 * migrateCloseTimedoutSockets, restoreCommand).
 *
 * Redis runs MIGRATE synchronously, blocking the whole server while it talks to the
 * target. Handlers here are synchronous, so MIGRATE blocks only the calling client (a
 * non-key "wait" block) while the socket I/O runs asynchronously; the source keys are
 * deleted (and MIGRATE propagated as DEL) only for the keys the target acknowledged.
 * Connections are cached per host:port and closed after 10 s idle, as Redis does.
 */
import type { Client } from "../client.ts";
import type { Server } from "../server.ts";
import type { Db } from "../store/db.ts";
import { cmd, type CommandSpec } from "./table.ts";
import { ERR } from "../errors.ts";
import { bytesToBinary, parseInteger } from "../resp/bytes.ts";
import { encodeCommand } from "../resp/writer.ts";
import { dumpPayload } from "../persistence/rdb_writer.ts";
import { COMMANDS } from "./mod.ts";

/** Redis's MIGRATE_SOCKET_CACHE_ITEMS and MIGRATE_SOCKET_CACHE_TTL (seconds). */
const CACHE_ITEMS = 64;
const CACHE_TTL_MS = 10_000;

/** A cached connection to a MIGRATE target (Redis: migrateCachedSocket). */
class CachedSocket {
  conn: Deno.TcpConn;
  lastDbid = -1;
  lastUse = Date.now();
  #buf: Uint8Array = new Uint8Array(0);
  closed = false;
  constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  async writeAll(data: Uint8Array, timeoutMs: number): Promise<void> {
    let off = 0;
    while (off < data.length) {
      const n = await withTimeout(this.conn.write(data.subarray(off)), timeoutMs);
      off += n;
    }
  }

  /** Reads one reply line (Redis: syncReadLine); null on EOF. */
  async readLine(timeoutMs: number): Promise<string | null> {
    for (;;) {
      const i = this.#buf.indexOf(10);
      if (i >= 0) {
        const end = i > 0 && this.#buf[i - 1] === 13 ? i - 1 : i;
        const line = bytesToBinary(this.#buf, 0, end);
        this.#buf = this.#buf.slice(i + 1);
        return line;
      }
      const chunk = new Uint8Array(16 * 1024);
      const n = await withTimeout(this.conn.read(chunk), timeoutMs);
      if (n === null) return null;
      const merged = new Uint8Array(this.#buf.length + n);
      merged.set(this.#buf);
      merged.set(chunk.subarray(0, n), this.#buf.length);
      this.#buf = merged;
    }
  }
}

class TimeoutError extends Error {}

/** Races `p` against a timer; on timeout throws TimeoutError (Redis: ETIMEDOUT). */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError("timeout")), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Per-server MIGRATE state: the socket cache. */
class MigrateState {
  readonly sockets = new Map<string, CachedSocket>();
  /** MIGRATEs to one target run one after the other, like Redis's synchronous ones */
  readonly queues = new Map<string, Promise<void>>();
  readonly server: Server;
  constructor(server: Server) {
    this.server = server;
    server.cronHooks.push(() => this.closeTimedOut());
    server.stopHooks.push(() => this.closeAll());
  }

  closeTimedOut(): void {
    const now = Date.now();
    for (const [name, cs] of this.sockets) {
      if (now - cs.lastUse <= CACHE_TTL_MS) continue;
      cs.close();
      this.sockets.delete(name);
    }
    this.server.migrateCachedSockets = this.sockets.size;
  }

  closeAll(): void {
    for (const cs of this.sockets.values()) cs.close();
    this.sockets.clear();
    this.server.migrateCachedSockets = 0;
  }

  closeSocket(name: string): void {
    const cs = this.sockets.get(name);
    if (cs === undefined) return;
    cs.close();
    this.sockets.delete(name);
    this.server.migrateCachedSockets = this.sockets.size;
  }

  /**
   * Redis's migrateGetSocket: a cached connection or a new one; null when connecting
   * failed or timed out, "refused" when the target refused the connection (Redis's
   * non-blocking connect then fails on the first write: "error ... writing").
   */
  async getSocket(
    host: string,
    port: string,
    timeoutMs: number,
  ): Promise<CachedSocket | null | "refused"> {
    const name = host + ":" + port;
    const cached = this.sockets.get(name);
    if (cached !== undefined && !cached.closed) {
      cached.lastUse = Date.now();
      return cached;
    }
    if (this.sockets.size === CACHE_ITEMS) {
      // too many items: drop a random one, as Redis does
      const names = [...this.sockets.keys()];
      this.closeSocket(names[Math.floor(Math.random() * names.length)]);
    }
    // Redis passes atoi(port) to connect(), truncated to 16 bits: "abc" and 0 are
    // port 0, which refuses the connection
    const parsed = Number.parseInt(port.trimStart(), 10);
    const portNum = Number.isFinite(parsed) ? ((parsed % 65536) + 65536) % 65536 : 0;
    if (portNum === 0) return "refused";
    const connecting = Deno.connect({ hostname: host, port: portNum });
    let conn: Deno.TcpConn;
    try {
      conn = await withTimeout(connecting, timeoutMs);
    } catch (e) {
      // a connection completing after the timeout is closed
      connecting.then((late) => late.close(), () => {});
      if (e instanceof Deno.errors.ConnectionRefused) return "refused";
      return null;
    }
    try {
      conn.setNoDelay(true);
    } catch { /* not fatal */ }
    const cs = new CachedSocket(conn);
    this.sockets.set(name, cs);
    this.server.migrateCachedSockets = this.sockets.size;
    return cs;
  }
}

const states = new WeakMap<Server, MigrateState>();

function stateOf(server: Server): MigrateState {
  let s = states.get(server);
  if (s === undefined) states.set(server, s = new MigrateState(server));
  return s;
}

/** Parsed MIGRATE arguments. */
interface MigrateArgs {
  host: string;
  port: string;
  dbid: number;
  timeoutMs: number;
  copy: boolean;
  replace: boolean;
  username: string | null;
  password: string | null;
  keys: string[];
}

/** Parses MIGRATE's arguments in Redis's order; returns the error string on failure. */
function parseArgs(argv: string[]): MigrateArgs | string {
  let copy = false;
  let replace = false;
  let username: string | null = null;
  let password: string | null = null;
  let firstKey = 3;
  let numKeys = 1;
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j].toLowerCase();
    if (opt === "copy") copy = true;
    else if (opt === "replace") replace = true;
    else if (opt === "auth") {
      if (more < 1) return ERR.syntax;
      password = argv[++j];
    } else if (opt === "auth2") {
      if (more < 2) return ERR.syntax;
      username = argv[++j];
      password = argv[++j];
    } else if (opt === "keys") {
      if (argv[3].length !== 0) {
        return "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string";
      }
      firstKey = j + 1;
      numKeys = argv.length - j - 1;
      break;
    } else return ERR.syntax;
  }
  const timeout = parseInteger(argv[5]);
  if (timeout === null) return ERR.notInteger;
  const dbid = parseInteger(argv[4]);
  if (dbid === null) return ERR.notInteger;
  return {
    host: argv[1],
    port: argv[2],
    dbid,
    timeoutMs: timeout <= 0 ? 1000 : timeout,
    copy,
    replace,
    username,
    password,
    keys: argv.slice(firstKey, firstKey + numKeys),
  };
}

/** One key to send: its name, the RESTORE TTL and the DUMP payload. */
interface Item {
  key: string;
  ttl: number;
  payload: string;
}

/** The outcome of the network part, applied back on the server. */
interface Outcome {
  /** keys the target acknowledged */
  acked: string[];
  /** the error reply (already formatted), or null for +OK */
  error: string | null;
}

function migrate(c: Client, argv: string[]): void {
  const args = parseArgs(argv);
  if (typeof args === "string") return c.error(args);
  const db = c.db;
  const now = Date.now();
  const items: Item[] = [];
  const compress = c.server.config.bool("rdbcompression");
  for (const key of args.keys) {
    const e = db.lookupRead(key);
    if (e === undefined) continue;
    let ttl = 0;
    if (e.expireAt !== 0) {
      ttl = e.expireAt - now;
      if (ttl < 0) continue;
      if (ttl < 1) ttl = 1;
    }
    items.push({ key, ttl, payload: bytesToBinary(dumpPayload(e.value, compress)) });
  }
  if (items.length === 0) return c.reply.simple("NOKEY");
  const server = c.server;
  if (server.inExec || c.conn === null) {
    // no asynchronous I/O is possible inside MULTI/EXEC or a script
    return c.error("IOERR error or timeout connecting to the client");
  }
  server.blocking.block(c, { keys: [], timeoutMs: 0, kind: "wait" });
  const state = c.blocked;
  const st = stateOf(server);
  const name = args.host + ":" + args.port;
  const run = async (): Promise<Outcome | string> => {
    let mayRetry = true;
    for (;;) {
      const cs = await st.getSocket(args.host, args.port, args.timeoutMs);
      if (cs === null) return "IOERR error or timeout connecting to the client";
      const outcome = cs === "refused" ? "writing" : await transfer(cs, args, items);
      if (typeof outcome !== "string") return outcome;
      // socket error: close the cached socket and retry once unless it timed out
      st.closeSocket(name);
      if (outcome !== "timeout" && mayRetry) {
        mayRetry = false;
        continue;
      }
      return outcome === "writing"
        ? "IOERR error or timeout writing to target instance"
        : "IOERR error or timeout reading to target instance";
    }
  };
  // serialize MIGRATEs on the same target, as Redis's synchronous ones are
  const prev = st.queues.get(name) ?? Promise.resolve();
  const started = performance.now();
  const end = (result: Outcome | string) => {
    // Redis runs MIGRATE synchronously: it is slow-logged with its whole duration
    const usec = Math.round((performance.now() - started) * 1000);
    if (server.slowlogHook !== null && !c.closed) server.slowlogHook(c, redactMigrate(argv), usec);
    finish(c, state, db, args, result);
  };
  const done = prev.then(run).then(end, (e) => end("IOERR " + String(e)));
  st.queues.set(name, done);
  done.then(() => {
    if (st.queues.get(name) === done) st.queues.delete(name);
  });
}

/**
 * Sends AUTH / SELECT / RESTOREs and reads the replies. Returns the outcome, or on a
 * socket error before any reply "writing", "reading" (may retry) or "timeout".
 */
async function transfer(cs: CachedSocket, args: MigrateArgs, items: Item[]): Promise<
  Outcome | string
> {
  const parts: Uint8Array[] = [];
  if (args.password !== null) {
    parts.push(
      encodeCommand(
        args.username !== null ? ["AUTH", args.username, args.password] : ["AUTH", args.password],
      ),
    );
  }
  const select = cs.lastDbid !== args.dbid;
  if (select) parts.push(encodeCommand(["SELECT", String(args.dbid)]));
  for (const it of items) {
    const restore = ["RESTORE", it.key, String(it.ttl), it.payload];
    if (args.replace) restore.push("REPLACE");
    parts.push(encodeCommand(restore));
  }
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  try {
    await cs.writeAll(out, args.timeoutMs);
  } catch (e) {
    return e instanceof TimeoutError ? "timeout" : "writing";
  }
  let authReply = "";
  let selectReply = "";
  const acked: string[] = [];
  let error: string | null = null;
  let j = 0;
  try {
    if (args.password !== null) {
      const l = await cs.readLine(args.timeoutMs);
      if (l === null) return "reading";
      authReply = l;
    }
    if (select) {
      const l = await cs.readLine(args.timeoutMs);
      if (l === null) return "reading";
      selectReply = l;
    }
    for (; j < items.length; j++) {
      const line = await cs.readLine(args.timeoutMs);
      if (line === null) throw new Error("eof");
      const authErr = args.password !== null && authReply[0] === "-";
      const selectErr = select && selectReply[0] === "-";
      if (authErr || selectErr || line[0] === "-") {
        if (error === null) {
          cs.lastDbid = -1;
          const errbuf = authErr ? authReply : selectErr ? selectReply : line;
          error = "ERR Target instance replied with error: " + errbuf.slice(1);
        }
      } else acked.push(items[j].key);
    }
  } catch (e) {
    if (error !== null || acked.length > 0 || j > 0) {
      // replies were read: apply what was acknowledged, then report the socket error
      cs.close();
      if (error !== null) return { acked, error };
      return {
        acked,
        error: "IOERR error or timeout reading to target instance",
      };
    }
    return e instanceof TimeoutError ? "timeout" : "reading";
  }
  if (error === null) cs.lastDbid = args.dbid;
  cs.lastUse = Date.now();
  return { acked, error };
}

/** Applies the outcome on the server: deletes acknowledged keys, replies, unblocks. */
function finish(
  c: Client,
  state: Client["blocked"],
  db: Db,
  args: MigrateArgs,
  result: Outcome | string,
): void {
  const server = c.server;
  if (typeof result !== "string" && !args.copy && result.acked.length > 0) {
    const deleted: string[] = [];
    for (const key of result.acked) {
      if (!db.delete(key)) continue;
      deleted.push(key);
      c.modified(key, "g", "del", db);
    }
    if (deleted.length > 0) server.alsoPropagate(db.id, ["DEL", ...deleted]);
  }
  const live = state !== null && c.blocked === state && !c.closed;
  if (live) server.blocking.unblock(c);
  if (live) {
    if (typeof result === "string") c.error(result);
    else if (result.error !== null) c.error(result.error);
    else c.reply.simple("OK");
  }
  server.afterCommand();
  if (live) {
    c.scheduleFlush();
    c.resume();
  }
}

/** Redis's migrateGetKeys: the key argument, or the keys after KEYS. */
function migrateKeys(argv: string[]): number[] {
  let first = 3;
  let num = 1;
  if (argv.length > 6) {
    for (let i = 6; i < argv.length; i++) {
      const a = argv[i].toLowerCase();
      if (a === "auth") i++;
      else if (a === "auth2") i += 2;
      else if (a === "keys") {
        if (argv[3].length > 0) return [];
        first = i + 1;
        num = argv.length - first;
        break;
      }
    }
  }
  const out: number[] = [];
  for (let i = 0; i < num; i++) out.push(first + i);
  return out;
}

/** MONITOR / SLOWLOG: the AUTH and AUTH2 passwords (and AUTH2 username) redacted. */
function redactMigrate(argv: string[]): string[] {
  const out = argv.slice();
  for (let j = 6; j < out.length; j++) {
    const a = out[j].toLowerCase();
    const more = out.length - 1 - j;
    if (a === "auth" && more >= 1) out[++j] = "(redacted)";
    else if (a === "auth2" && more >= 2) {
      out[++j] = "(redacted)";
      out[++j] = "(redacted)";
    } else if (a === "keys") break;
  }
  return out;
}

/** RESTORE-ASKING: RESTORE (the ASKING flag only matters in cluster mode). */
function restoreAsking(c: Client, argv: string[]): void {
  COMMANDS.get("restore")!.handler(c, argv);
}

/** The MIGRATE command specs. */
export const commands: CommandSpec[] = [
  cmd("generic", "migrate", -6, "write movablekeys", migrate, {
    keys: [3, 3, 1],
    getKeys: migrateKeys,
    categories: ["keyspace", "dangerous"],
    redact: redactMigrate,
  }),
  cmd("generic", "restore-asking", -4, "write denyoom asking", restoreAsking, {
    keys: [1, 1, 1],
    categories: ["keyspace", "dangerous"],
  }),
];
