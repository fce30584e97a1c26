/**
 * DEBUG OBJECT (Redis: debug.c): one status line about a key's value, in Redis's
 * format. The address is a stable per-key number (the key's slot object), so it stays
 * the same while a value is edited in place, as Redis's object pointer does.
 */
import type { Client } from "../client.ts";
import type { Entry } from "../store/db.ts";
import { dumpPayload } from "../persistence/rdb_writer.ts";
import { peekEntry } from "./keys.ts";
import { registerDebugSubcommand } from "./server.ts";
import { stringEncoding, stringRefcount } from "./strings.ts";

const addresses = new WeakMap<Entry, number>();
let nextAddress = 0x7f0000001000;

function addressOf(e: Entry): string {
  let at = addresses.get(e);
  if (at === undefined) {
    at = nextAddress;
    nextAddress += 0x40;
    addresses.set(e, at);
  }
  return "0x" + at.toString(16);
}

/** Bytes of the value's RDB serialization without its type byte (rdbSavedObjectLen). */
function serializedLength(c: Client, e: Entry): number {
  const compress = c.server.config.bool("rdbcompression");
  // a DUMP payload is type byte + value + 2 version bytes + 8 CRC bytes
  return dumpPayload(e.value, compress).length - 11;
}

function debugObject(c: Client, argv: string[]): void {
  if (argv.length !== 3) {
    return c.error(
      `ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try DEBUG HELP.`,
    );
  }
  const e = peekEntry(c.db, argv[2]);
  if (e === undefined) return c.error("ERR no such key");
  const value = e.value;
  const isString = typeof value === "string";
  const encoding = isString ? stringEncoding(e) : value.encoding();
  const refcount = isString ? stringRefcount(e) : 1;
  const lru = e.lru & 0xffffff;
  const idle = Math.max(0, Math.floor(c.server.now() / 1000) - e.lru);
  c.reply.simple(
    `Value at:${addressOf(e)} refcount:${refcount} encoding:${encoding} ` +
      `serializedlength:${serializedLength(c, e)} lru:${lru} lru_seconds_idle:${idle}`,
  );
}

registerDebugSubcommand("object", debugObject, [
  "OBJECT <key>",
  "    Show low level info about the `key` and associated value.",
]);
