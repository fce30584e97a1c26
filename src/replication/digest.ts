/**
 * DEBUG DIGEST and DEBUG DIGEST-VALUE, computed exactly as Redis 7.0's debug.c does
 * (computeDatasetDigest / xorObjectDigest), so a dataset here and the same dataset in a
 * real Redis have equal digests. Unordered collections XOR their elements' digests;
 * ordered ones (lists, streams) chain them through mixDigest.
 */
import { createHash } from "node:crypto";
import type { Client } from "../client.ts";
import type { Server } from "../server.ts";
import type { Entry, Value } from "../store/db.ts";
import type { ListValue } from "../store/list.ts";
import type { HashValue } from "../store/hash.ts";
import type { SetValue } from "../store/set.ts";
import type { ZSetValue } from "../store/zset.ts";
import type { StreamValue } from "../store/stream.ts";
import { binaryToBytes, formatDouble17g } from "../resp/bytes.ts";

/** Redis's object type codes (OBJ_STRING ... OBJ_STREAM). */
const TYPE_CODE = { string: 0, list: 1, set: 2, zset: 3, hash: 4, stream: 6 } as const;
const EXPIRE_MARK = binaryToBytes("!!expire!!");

function sha1(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha1").update(data).digest());
}

/** digest ^= SHA1(data) */
function xorDigest(digest: Uint8Array, data: Uint8Array): void {
  const h = sha1(data);
  for (let j = 0; j < 20; j++) digest[j] ^= h[j];
}

/** digest = SHA1(digest ^ SHA1(data)): order-sensitive accumulation. */
function mixDigest(digest: Uint8Array, data: Uint8Array): void {
  xorDigest(digest, data);
  digest.set(sha1(digest));
}

function mixString(digest: Uint8Array, s: string): void {
  mixDigest(digest, binaryToBytes(s));
}

function uint32be(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
}

/** Redis's xorObjectDigest: mixes the value of one key (and its expiry flag) into digest. */
export function xorObjectDigest(digest: Uint8Array, entry: Entry): void {
  const value: Value = entry.value;
  const type = typeof value === "string" ? "string" : value.type;
  mixDigest(digest, uint32be(TYPE_CODE[type]));
  if (typeof value === "string") {
    mixString(digest, value);
  } else if (value.type === "list") {
    for (const item of (value as ListValue).values()) mixString(digest, item);
  } else if (value.type === "set") {
    for (const m of (value as SetValue).members()) xorDigest(digest, binaryToBytes(m));
  } else if (value.type === "zset") {
    for (const [member, score] of (value as ZSetValue).entries()) {
      const ele = new Uint8Array(20);
      mixString(ele, member);
      mixString(ele, formatDouble17g(score));
      xorDigest(digest, ele);
    }
  } else if (value.type === "hash") {
    for (const [field, v] of (value as HashValue).entries()) {
      const ele = new Uint8Array(20);
      mixString(ele, field);
      mixString(ele, v);
      xorDigest(digest, ele);
    }
  } else if (value.type === "stream") {
    for (const { id, fields } of (value as StreamValue).toModel().entries) {
      mixString(digest, `${id.ms}.${id.seq}`);
      for (const f of fields) mixString(digest, f);
    }
  }
  if (entry.expireAt !== 0) xorDigest(digest, EXPIRE_MARK);
}

/** Redis's computeDatasetDigest: 20 zero bytes for an empty dataset. */
export function datasetDigest(server: Server): Uint8Array {
  const final = new Uint8Array(20);
  for (const db of server.dbs) {
    if (db.dict.size === 0) continue;
    mixDigest(final, uint32be(db.id));
    for (const [key, entry] of db.dict) {
      const digest = new Uint8Array(20);
      mixString(digest, key);
      xorObjectDigest(digest, entry);
      xorDigest(final, digest);
    }
  }
  return final;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** DEBUG DIGEST */
export function debugDigest(c: Client, argv: string[]): void {
  if (argv.length !== 2) {
    return c.error(
      `ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try DEBUG HELP.`,
    );
  }
  c.reply.simple(hex(datasetDigest(c.server)));
}

/** DEBUG DIGEST-VALUE key... (logically expired keys included, as Redis) */
export function debugDigestValue(c: Client, argv: string[]): void {
  c.reply.array(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    const digest = new Uint8Array(20);
    const entry = c.db.dict.get(argv[j]);
    if (entry !== undefined) xorObjectDigest(digest, entry);
    c.reply.simple(hex(digest));
  }
}
