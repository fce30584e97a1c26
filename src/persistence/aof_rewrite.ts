/**
 * An AOF base in command form (`aof-use-rdb-preamble no`, Redis's
 * rewriteAppendOnlyFileRio): the point-in-time RDB image of a rewrite is turned into
 * the commands that rebuild it: SELECT, SET, RPUSH / SADD / ZADD / HMSET in batches of
 * 64 items, PEXPIREAT, FUNCTION LOAD. Streams are written as RESTORE of their DUMP
 * payload (Redis spells them as XADD / XSETID / XGROUP / XCLAIM; the loaded dataset
 * is the same).
 */
import type { Server } from "../server.ts";
import { encodeCommand } from "../resp/writer.ts";
import { bytesToBinary, utf8ToBinary } from "../resp/bytes.ts";
import { materialize, RdbDecoder, readValue } from "./rdb_reader.ts";
import { formatG17, OP, RdbError, T } from "./rdb_format.ts";
import { dumpPayload } from "./rdb_writer.ts";

/** Redis's AOF_REWRITE_ITEMS_PER_CMD */
const ITEMS_PER_CMD = 64;

/** The commands rebuilding the dataset of an RDB image, as AOF bytes. */
export function rdbToAofCommands(
  server: Server,
  rdb: Uint8Array,
  timestamp: boolean,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (timestamp) out.push(encodeAnnotation(`TS:${Math.floor(Date.now() / 1000)}`));
  const d = new RdbDecoder(rdb, 9);
  let expireAt = 0;
  let selected = -1;
  let db = 0;
  const emit = (argv: string[]) => out.push(encodeCommand(argv));
  const batches = (head: string[], items: string[], per: number) => {
    for (let i = 0; i < items.length; i += per) emit([...head, ...items.slice(i, i + per)]);
  };
  for (;;) {
    const type = d.byte();
    if (type === OP.EOF) break;
    switch (type) {
      case OP.EXPIRETIME:
        expireAt = d.seconds() * 1000;
        continue;
      case OP.EXPIRETIME_MS:
        expireAt = d.millis();
        continue;
      case OP.FREQ:
        d.byte();
        continue;
      case OP.IDLE:
        d.len();
        continue;
      case OP.SELECTDB:
        db = d.len();
        continue;
      case OP.RESIZEDB:
        d.len();
        d.len();
        continue;
      case OP.AUX:
        d.string();
        d.string();
        continue;
      case OP.FUNCTION2:
        emit(["FUNCTION", "LOAD", d.string()]);
        continue;
      case OP.MODULE_AUX:
      case OP.FUNCTION_PRE_GA:
        throw new RdbError(`Unexpected opcode ${type} in a rewrite snapshot`);
    }
    if (selected !== db) {
      emit(["SELECT", String(db)]);
      selected = db;
    }
    const key = d.string();
    if (type === T.STRING) {
      emit(["SET", key, d.string()]);
    } else {
      const v = readValue(d, type);
      switch (v.kind) {
        case "string":
          emit(["SET", key, v.value]);
          break;
        case "list":
          batches(["RPUSH", key], v.items, ITEMS_PER_CMD);
          break;
        case "set":
          batches(["SADD", key], v.members, ITEMS_PER_CMD);
          break;
        case "zset":
          batches(
            ["ZADD", key],
            v.entries.flatMap(([m, s]) => [formatG17(s), m]),
            ITEMS_PER_CMD * 2,
          );
          break;
        case "hash":
          batches(["HMSET", key], v.entries.flat(), ITEMS_PER_CMD * 2);
          break;
        case "stream": {
          const value = materialize(server, v);
          if (value !== null) {
            emit(["RESTORE", key, "0", bytesToBinary(dumpPayload(value)), "REPLACE"]);
          }
          break;
        }
      }
    }
    if (expireAt !== 0) emit(["PEXPIREAT", key, String(expireAt)]);
    expireAt = 0;
  }
  return out;
}

function encodeAnnotation(text: string): Uint8Array {
  const s = utf8ToBinary(`#${text}\r\n`);
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}
