/**
 * Shared pieces of the replication scenario tests: INFO polling, waiting for a replica
 * to catch up, and a dataset of every type.
 */
import { parseInfo, RespClient, waitFor } from "./helpers.ts";

/** INFO <section> as a field map. */
export async function info(c: RespClient, section = "replication"): Promise<Map<string, string>> {
  return parseInfo(String(await c.call("INFO", section)));
}

/** One INFO field. */
export async function infoField(
  c: RespClient,
  field: string,
  section = "replication",
): Promise<string> {
  return (await info(c, section)).get(field) ?? "";
}

/** A numeric field of INFO stats (sync_full, sync_partial_ok, ...). */
export async function stat(c: RespClient, name: string): Promise<number> {
  return Number(await infoField(c, name, "stats"));
}

/** Waits until the replica's link to its primary is up. */
export async function waitLinkUp(replica: RespClient, timeoutMs = 15000): Promise<void> {
  await waitFor(async () => (await infoField(replica, "master_link_status")) === "up", {
    timeoutMs,
    what: "master_link_status:up",
  });
}

/**
 * Waits until every replica applied the primary's whole stream (same master_repl_offset
 * and replid), as Redis's tests do with wait_for_ofs_sync.
 */
export async function waitInSync(
  primary: RespClient,
  replicas: RespClient[],
  timeoutMs = 15000,
): Promise<void> {
  await waitFor(async () => {
    const p = await info(primary);
    for (const r of replicas) {
      const i = await info(r);
      if (i.get("master_link_status") !== "up") return false;
      if (i.get("master_repl_offset") !== p.get("master_repl_offset")) return false;
      if (i.get("master_replid") !== p.get("master_replid")) return false;
    }
    return true;
  }, { timeoutMs, what: "replicas in sync with the primary" });
}

/** DEBUG DIGEST */
export async function digest(c: RespClient): Promise<string> {
  return String(await c.call("DEBUG", "DIGEST"));
}

/** Commands building a dataset of every type over two databases, with expiries. */
export function allTypesCommands(n: number, prefix = ""): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [];
  for (let i = 0; i < n; i++) {
    const k = `${prefix}${i}`;
    switch (i % 7) {
      case 0:
        out.push(["SET", `str:${k}`, `value-${i}-\x00\xff`]);
        break;
      case 1:
        out.push(["RPUSH", `list:${k}`, "a", String(i), "c", "a"]);
        break;
      case 2:
        out.push(["HSET", `hash:${k}`, "f1", "v1", "n", String(i)]);
        break;
      case 3:
        out.push(["SADD", `set:${k}`, "m1", "m2", String(i)]);
        break;
      case 4:
        out.push(["ZADD", `zset:${k}`, "1.5", "a", String(i), "b", "-inf", "c", "-2.5e-7", "d"]);
        break;
      case 5:
        out.push(["XADD", `stream:${k}`, "*", "field", String(i)]);
        break;
      case 6:
        out.push(["SET", `ttl:${k}`, String(i), "EX", "3600"]);
        break;
    }
  }
  out.push(["SELECT", "5"], ["SET", `${prefix}in-db-5`, "x"], ["SELECT", "0"]);
  return out;
}

/** Sends commands in pipelined batches. */
export async function pipelineAll(
  c: RespClient,
  commands: Array<Array<string | number>>,
): Promise<void> {
  for (let i = 0; i < commands.length; i += 500) {
    await c.pipeline(commands.slice(i, i + 500));
  }
}

/** Prints the tail of a server process's log (for a failing scenario). */
export async function dumpLog(proc: { dir: string } | null, name = "redis.log"): Promise<void> {
  if (proc === null) return;
  const text = await Deno.readTextFile(`${proc.dir}/${name}`).catch(() => "");
  console.error(`---- ${proc.dir}/${name} ----\n${text.split("\n").slice(-40).join("\n")}`);
}

/**
 * A hand-driven replica: handshakes, receives the snapshot, then collects the raw
 * command stream so a test can assert the exact bytes a primary propagates.
 */
export class RawReplica {
  readonly client: RespClient;
  stream = "";
  #reading: Promise<void> | null = null;
  #closed = false;

  private constructor(client: RespClient) {
    this.client = client;
  }

  /** Connects, syncs (PSYNC ? -1 with capa eof) and starts collecting the stream. */
  static async attach(port: number): Promise<RawReplica> {
    const c = await RespClient.connect(port);
    await c.call("REPLCONF", "listening-port", "1");
    await c.call("REPLCONF", "capa", "eof", "capa", "psync2");
    await c.write(RespClient.encode(["PSYNC", "?", "-1"]));
    const r = new RawReplica(c);
    const fullresync = await r.#line();
    if (!fullresync.startsWith("+FULLRESYNC")) throw new Error(`unexpected ${fullresync}`);
    const header = await r.#line();
    if (header.startsWith("$EOF:")) {
      const mark = header.slice(5);
      let payload = "";
      while (!payload.endsWith(mark)) payload += await c.readRaw(1);
      await c.write(RespClient.encode(["REPLCONF", "ACK", "0"]));
    } else await c.readRaw(Number(header.slice(1)));
    r.#reading = r.#collect();
    return r;
  }

  async #line(): Promise<string> {
    let line = "";
    for (;;) {
      const ch = await this.client.readRaw(1);
      if (line === "" && ch === "\n") continue;
      line += ch;
      if (line.endsWith("\r\n")) return line.slice(0, -2);
    }
  }

  async #collect(): Promise<void> {
    while (!this.#closed) {
      try {
        this.stream += await this.client.readRaw(1, 60000);
      } catch {
        return;
      }
    }
  }

  /** Waits until the collected stream contains `text`. */
  async waitFor(text: string, timeoutMs = 5000): Promise<void> {
    await waitFor(() => this.stream.includes(text), { timeoutMs, what: JSON.stringify(text) });
  }

  close(): void {
    this.#closed = true;
    this.client.close();
  }
}

/** A command as RESP (binary string), for matching raw streams. */
export function resp(...args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${a.length}\r\n${a}\r\n`).join("");
}
