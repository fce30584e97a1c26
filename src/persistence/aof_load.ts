/**
 * Replaying AOF files at startup (Redis: aof.c loadSingleAppendOnlyFile): commands in
 * RESP are executed through a fake client, an RDB preamble is loaded as RDB, a torn
 * last command is truncated when `aof-load-truncated yes`, and anything else malformed
 * stops the server with a clear message.
 */
import type { Server } from "../server.ts";
import { Client } from "../client.ts";
import { call, lookupCommand } from "../dispatch.ts";
import { bytesToBinary } from "../resp/bytes.ts";
import { LOAD_SLICE_MS, loadRdbSteps } from "./rdb_reader.ts";
import { RdbError } from "./rdb_format.ts";

/** An AOF that cannot be loaded. */
export class AofLoadError extends Error {}

/** One parsed command, or why parsing stopped. */
type Parsed =
  | { kind: "command"; argv: string[]; end: number }
  | { kind: "annotation"; end: number }
  | { kind: "incomplete" }
  | { kind: "bad"; why: string };

function readLine(b: Uint8Array, pos: number): { text: string; next: number } | null {
  for (let i = pos; i + 1 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10) return { text: bytesToBinary(b, pos, i), next: i + 2 };
    if (i - pos > 64) return { text: "", next: -1 };
  }
  return null;
}

/** Parses the command at `pos` (RESP array of bulk strings, or a `#` annotation). */
export function parseAofCommand(b: Uint8Array, pos: number): Parsed {
  if (pos >= b.length) return { kind: "incomplete" };
  if (b[pos] === 0x23) { // '#': annotation line (timestamps)
    for (let i = pos; i + 1 < b.length; i++) {
      if (b[i] === 13 && b[i + 1] === 10) return { kind: "annotation", end: i + 2 };
    }
    return { kind: "incomplete" };
  }
  if (b[pos] !== 0x2a) return { kind: "bad", why: "expected '*'" };
  const head = readLine(b, pos + 1);
  if (head === null) return { kind: "incomplete" };
  const argc = Number(head.text);
  if (head.next < 0 || !Number.isInteger(argc) || argc < 1) {
    return { kind: "bad", why: "bad argument count" };
  }
  let p = head.next;
  const argv: string[] = new Array(argc);
  for (let i = 0; i < argc; i++) {
    if (p >= b.length) return { kind: "incomplete" };
    if (b[p] !== 0x24) return { kind: "bad", why: "expected '$'" };
    const l = readLine(b, p + 1);
    if (l === null) return { kind: "incomplete" };
    const len = Number(l.text);
    if (l.next < 0 || !Number.isInteger(len) || len < 0) {
      return { kind: "bad", why: "bad bulk length" };
    }
    if (l.next + len + 2 > b.length) return { kind: "incomplete" };
    argv[i] = bytesToBinary(b, l.next, l.next + len);
    p = l.next + len;
    if (b[p] !== 13 || b[p + 1] !== 10) return { kind: "bad", why: "missing CRLF" };
    p += 2;
  }
  return { kind: "command", argv, end: p };
}

/** Result of replaying one file. */
export interface ReplayResult {
  commands: number;
  /** bytes of valid content (the file is truncated here when its tail was torn) */
  validBytes: number;
  truncated: boolean;
}

/** Steps of a load: they yield (nothing) between slices of ~50 ms of work. */
export type LoadSteps<T> = Generator<void, T, void>;

/** Runs load steps to the end at once. */
export function runSync<T>(steps: LoadSteps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Runs load steps, letting the event loop serve clients (LOADING) between slices. */
export async function runAsync<T>(steps: LoadSteps<T>): Promise<T> {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** Replays AOF commands from `bytes` (starting at `start`) into the server. */
function* replayAof(
  server: Server,
  bytes: Uint8Array,
  opts: { start?: number; name: string; isLast: boolean },
): LoadSteps<ReplayResult> {
  const fake = new Client(server, null);
  fake.authenticated = true;
  let pos = opts.start ?? 0;
  let commands = 0;
  let multi: string[][] | null = null;
  let multiStart = 0;
  let sliceStart = performance.now();
  const run = (argv: string[]) => {
    server.cachedNow = Date.now();
    const spec = lookupCommand(fake, argv);
    if (spec === null) {
      throw new AofLoadError(
        `Unknown command '${argv[0]}' reading the append only file ${opts.name}`,
      );
    }
    // Redis's keyIsExpired is false while loading: a key whose PEXPIREAT is past
    // keeps its later commands (it expires once the load is done)
    const wasMaster = server.masterExecuting;
    server.masterExecuting = true;
    try {
      call(fake, spec, argv);
    } finally {
      server.masterExecuting = wasMaster;
    }
    server.flushPropagation();
    fake.reply.len = 0;
  };
  for (;;) {
    const r = parseAofCommand(bytes, pos);
    if (r.kind === "incomplete") break;
    if (r.kind === "bad") {
      throw new AofLoadError(
        `Bad file format reading the append only file ${opts.name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>`,
      );
    }
    if (r.kind === "annotation") {
      pos = r.end;
      continue;
    }
    const name = r.argv[0].toLowerCase();
    if (name === "multi") {
      multi = [];
      multiStart = pos;
    } else if (name === "exec" && multi !== null) {
      for (const argv of multi) run(argv);
      multi = null;
    } else if (multi !== null) {
      multi.push(r.argv);
    } else {
      run(r.argv);
    }
    commands++;
    pos = r.end;
    if (
      multi === null && (commands & 255) === 0 && performance.now() - sliceStart > LOAD_SLICE_MS
    ) {
      yield;
      sliceStart = performance.now();
    }
  }
  let valid = pos;
  if (multi !== null) {
    // a transaction without EXEC at the end: revert to before MULTI, as Redis does
    server.log("warning", "Revert incomplete MULTI/EXEC transaction in AOF file");
    valid = multiStart;
  }
  const truncated = valid < bytes.length;
  if (truncated) {
    if (!opts.isLast) {
      throw new AofLoadError(
        `Unexpected end of file reading the append only file ${opts.name}. The AOF is not the last one, it is corrupt.`,
      );
    }
    if (!server.config.bool("aof-load-truncated")) {
      throw new AofLoadError(
        `Unexpected end of file reading the append only file ${opts.name}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.`,
      );
    }
    server.log("warning", `!!! Warning: short read while loading the AOF file ${opts.name}!!!`);
  }
  return { commands, validBytes: valid, truncated };
}

/**
 * Loads one AOF file: an RDB (base or preamble, possibly followed by commands) or
 * plain commands. Returns the replay result.
 */
export function* loadAofFile(
  server: Server,
  bytes: Uint8Array,
  opts: { name: string; isLast: boolean },
): LoadSteps<ReplayResult> {
  let start = 0;
  if (bytes.length >= 5 && bytesToBinary(bytes, 0, 5) === "REDIS") {
    try {
      start = (yield* loadRdbSteps(server, bytes, { aofPreamble: true })).bytesRead;
    } catch (e) {
      if (e instanceof RdbError) {
        throw new AofLoadError(`Error reading the RDB base file ${opts.name}: ${e.message}`);
      }
      throw e;
    }
  }
  return yield* replayAof(server, bytes, { start, ...opts });
}
