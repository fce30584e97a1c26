/**
 * DEBUG DIGEST and DEBUG DIGEST-VALUE, computed exactly as Redis 7.0's debug.c does
 * (computeDatasetDigest / xorObjectDigest), so a dataset here and the same dataset in a
 * real Redis have equal digests. Unordered collections XOR their elements' digests;
 * ordered ones (lists, streams) chain them through mixDigest.
 */
import type { Client } from "../client.ts";
import type { Server } from "../server.ts";
import type { Entry, Value } from "../store/db.ts";
import type { ListValue } from "../store/list.ts";
import type { HashValue } from "../store/hash.ts";
import type { SetValue } from "../store/set.ts";
import type { ZSetValue } from "../store/zset.ts";
import type { StreamValue } from "../store/stream.ts";
import { binaryToBytes, formatDouble17g, writeBinary } from "../resp/bytes.ts";

/** Redis's object type codes (OBJ_STRING ... OBJ_STREAM). */
const TYPE_CODE = { string: 0, list: 1, set: 2, zset: 3, hash: 4, stream: 6 } as const;
const EXPIRE_MARK = binaryToBytes("!!expire!!");

const W = new Int32Array(80);
const HASH = new Uint8Array(20);

/**
 * SHA-1 of data[0, len) into HASH. Written out here because the digests hash millions
 * of tiny inputs, where a crypto API call per input costs far more than the hashing.
 */
function sha1(data: Uint8Array, len = data.length): Uint8Array {
  let h0 = 0x67452301, h1 = 0xefcdab89 | 0, h2 = 0x98badcfe | 0, h3 = 0x10325476;
  let h4 = 0xc3d2e1f0 | 0;
  const total = ((len + 8) >> 6 << 6) + 64; // padded: 0x80, zeros, 64-bit bit length
  const bitsHigh = Math.floor(len / 0x20000000);
  const bitsLow = (len * 8) >>> 0;
  for (let off = 0; off < total; off += 64) {
    for (let i = 0; i < 16; i++) {
      const p = off + i * 4;
      let w = 0;
      if (p + 4 <= len) {
        w = (data[p] << 24) | (data[p + 1] << 16) | (data[p + 2] << 8) | data[p + 3];
      } else if (p === total - 8) w = bitsHigh;
      else if (p === total - 4) w = bitsLow;
      else {
        for (let b = 0; b < 4; b++) {
          const q = p + b;
          w = (w << 8) | (q < len ? data[q] : q === len ? 0x80 : 0);
        }
      }
      W[i] = w;
    }
    for (let i = 16; i < 80; i++) {
      const x = W[i - 3] ^ W[i - 8] ^ W[i - 14] ^ W[i - 16];
      W[i] = (x << 1) | (x >>> 31);
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4;
    for (let i = 0; i < 80; i++) {
      let f: number, k: number;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc | 0;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6 | 0;
      }
      const t = (((a << 5) | (a >>> 27)) + f + e + k + W[i]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  const hs = [h0, h1, h2, h3, h4];
  for (let i = 0; i < 5; i++) {
    HASH[i * 4] = hs[i] >>> 24;
    HASH[i * 4 + 1] = (hs[i] >>> 16) & 255;
    HASH[i * 4 + 2] = (hs[i] >>> 8) & 255;
    HASH[i * 4 + 3] = hs[i] & 255;
  }
  return HASH;
}

/** SHA-1 as hex, for tests against a reference implementation. */
export function sha1Hex(data: Uint8Array): string {
  return hex(sha1(data));
}

/** digest ^= SHA1(data[0, len)) */
function xorDigest(digest: Uint8Array, data: Uint8Array, len = data.length): void {
  const h = sha1(data, len);
  for (let j = 0; j < 20; j++) digest[j] ^= h[j];
}

/** digest = SHA1(digest ^ SHA1(data)): order-sensitive accumulation. */
function mixDigest(digest: Uint8Array, data: Uint8Array, len = data.length): void {
  xorDigest(digest, data, len);
  digest.set(sha1(digest));
}

let scratch = new Uint8Array(256);

/** A binary string's bytes in a reused buffer; returns the length. */
function toScratch(s: string): number {
  if (s.length > scratch.length) scratch = new Uint8Array(s.length * 2);
  return writeBinary(scratch, 0, s);
}

function mixString(digest: Uint8Array, s: string): void {
  const len = toScratch(s); // may replace scratch: read it after
  mixDigest(digest, scratch, len);
}

function xorString(digest: Uint8Array, s: string): void {
  const len = toScratch(s);
  xorDigest(digest, scratch, len);
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
    for (const m of (value as SetValue).members()) xorString(digest, m);
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
