/**
 * DEBUG subcommands that describe one key's value (Redis: debug.c): OBJECT and
 * LISTPACK. Registered on the DEBUG command of commands/server.ts.
 */
import type { Client } from "../client.ts";
import type { Entry } from "../store/db.ts";
import { registerDebugSubcommand } from "./server.ts";
import { stringEncoding, stringRefcount } from "./strings.ts";
import { dumpPayload } from "../persistence/rdb_writer.ts";
import { ListValue } from "../store/list.ts";
import { parseInteger } from "../resp/bytes.ts";

/** Stable fake addresses ("Value at:0x...") per stored value. */
const addresses = new WeakMap<object, number>();
let nextAddress = 0x7f0000001000;

function addressOf(e: Entry): string {
  // a string value has no identity of its own: its entry stands for the object
  const owner: object = typeof e.value === "string" ? e : e.value;
  let a = addresses.get(owner);
  if (a === undefined) {
    a = nextAddress;
    nextAddress += 0x40;
    addresses.set(owner, a);
  }
  return "0x" + a.toString(16);
}

/** The DUMP payload without its type byte and version/CRC trailer: rdbSavedObjectLen. */
function serializedLength(e: Entry): number {
  return dumpPayload(e.value).length - 11;
}

/** A listpack's header (total bytes, count) and end byte. */
const LISTPACK_OVERHEAD = 7;

/** Bytes of one listpack entry holding `v` (encoding, data, back length). */
function listpackEntrySize(v: string): number {
  const n = v.length <= 20 ? parseInteger(v) : null;
  let body: number;
  if (n !== null && String(n) === v) {
    const a = n < 0 ? -n - 1 : n;
    body = n >= 0 && n < 128
      ? 1
      : a < 4096
      ? 2
      : a < 32768
      ? 3
      : a < 8388608
      ? 4
      : a < 2147483648
      ? 5
      : 9;
  } else {
    body = v.length + (v.length < 64 ? 1 : v.length < 4096 ? 2 : 5);
  }
  return body + (body < 128 ? 1 : body < 16384 ? 2 : body < 2097152 ? 3 : body < 268435456 ? 4 : 5);
}

/**
 * Redis's quicklist figures for a list: nodes are filled up to list-max-listpack-size
 * (entries when positive, 4/8/16/32/64 KB when -1..-5), an element bigger than the
 * packed threshold gets a node of its own.
 */
function quicklistExtra(c: Client, list: ListValue): string {
  const fill = c.server.config.num("list-max-listpack-size");
  const compress = c.server.config.num("list-compress-depth");
  const maxBytes = fill < 0 ? 4096 << (-fill - 1) : Infinity;
  const maxCount = fill > 0 ? fill : Infinity;
  let nodes = 0;
  let inNode = 0;
  let nodeBytes = 0;
  let total = 0;
  for (const v of list.values()) {
    const size = listpackEntrySize(v);
    if (inNode === 0 || inNode + 1 > maxCount || nodeBytes + size > maxBytes) {
      nodes++;
      total += LISTPACK_OVERHEAD;
      inNode = 0;
      nodeBytes = LISTPACK_OVERHEAD;
    }
    inNode++;
    nodeBytes += size;
    total += size;
  }
  const avg = nodes === 0 ? 0 : list.length / nodes;
  return ` ql_nodes:${nodes} ql_avg_node:${avg.toFixed(2)} ql_listpack_max:${fill}` +
    ` ql_compressed:${compress !== 0 ? 1 : 0} ql_uncompressed_size:${total}`;
}

function debugObject(c: Client, argv: string[]): void {
  if (argv.length !== 3) {
    return c.error(
      `ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try DEBUG HELP.`,
    );
  }
  // Redis reads the dict directly: a logically expired key is still described
  const e = c.db.dict.get(argv[2]);
  if (e === undefined) return c.error("ERR no such key");
  const v = e.value;
  const encoding = typeof v === "string" ? stringEncoding(e) : v.encoding();
  const refcount = typeof v === "string" ? stringRefcount(e) : 1;
  const idle = Math.max(0, Math.floor(Date.now() / 1000) - e.lru);
  const extra = v instanceof ListValue ? quicklistExtra(c, v) : "";
  c.reply.simple(
    `Value at:${addressOf(e)} refcount:${refcount} encoding:${encoding} ` +
      `serializedlength:${serializedLength(e)} lru:${e.lru & 0xffffff} ` +
      `lru_seconds_idle:${idle}${extra}`,
  );
}

function debugListpack(c: Client, argv: string[]): void {
  if (argv.length !== 3) {
    return c.error(
      `ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try DEBUG HELP.`,
    );
  }
  const e = c.db.dict.get(argv[2]);
  if (e === undefined) return c.error("ERR no such key");
  if (typeof e.value === "string" || e.value.encoding() !== "listpack") {
    return c.error("ERR Not a listpack encoded object.");
  }
  c.reply.simple("Listpack structure printed on stdout");
}

registerDebugSubcommand("object", debugObject, [
  "OBJECT <key>",
  "    Show low level info about the `key` and associated value.",
]);
registerDebugSubcommand("listpack", debugListpack, [
  "LISTPACK <key>",
  "    Show low level info about the listpack encoding of <key>.",
]);
