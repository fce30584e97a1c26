/**
 * HyperLogLog commands (Redis: hyperloglog.c). Values are plain strings in Redis's HLL
 * format (see store/hll.ts), so GET, DUMP and persistence see Redis's exact bytes.
 */
import type { Client } from "../client.ts";
import { cmd, type CommandSpec } from "./table.ts";
import { ERR } from "../errors.ts";
import { binaryToBytes, bytesToBinary } from "../resp/bytes.ts";
import type { Entry } from "../store/db.ts";
import {
  createHll,
  decodeSparse,
  encodingName,
  HLL_DENSE_SIZE,
  HLL_HDR_SIZE,
  HLL_REGISTERS,
  hllAdd,
  hllCount,
  hllMerge,
  hllSet,
  INVALID_HLL_ERR,
  invalidateCache,
  isHll,
  NOT_HLL_ERR,
  registerAt,
  selfTest,
  setCachedCard,
  sparseToDense,
} from "../store/hll.ts";

/** The HLL bytes of a string value; null after an error reply. */
function hllBytes(c: Client, v: unknown): Uint8Array | null {
  if (typeof v !== "string") {
    c.error(ERR.wrongType);
    return null;
  }
  const b = binaryToBytes(v);
  if (!isHll(b)) {
    c.error(NOT_HLL_ERR);
    return null;
  }
  return b;
}

/**
 * The bytes of a source HLL for reading (PFCOUNT of several keys, PFMERGE): a dense one
 * is viewed in place, through the entry's edit image, instead of being rebuilt into a
 * 12 KB string and copied back; it is not written. Undefined for a missing key, null
 * after an error reply.
 */
function sourceBytes(c: Client, key: string): Uint8Array | null | undefined {
  const e = c.db.lookupRead(key);
  if (e === undefined) return undefined;
  const bad = checkHeader(e);
  if (bad !== null) {
    c.error(bad);
    return null;
  }
  return isDense(e) ? e.editBytes(0) : binaryToBytes(e.value as string);
}

/**
 * Header checks of Redis's isHLLObjectOrReply, read straight from the entry (so an
 * HLL edited in place is not rebuilt into a string): 0 ok, else the error to reply.
 */
function checkHeader(e: Entry): string | null {
  if (!e.holdsString()) return ERR.wrongType;
  const len = e.stringLength;
  if (len < HLL_HDR_SIZE) return NOT_HLL_ERR;
  if (e.byteAt(0) !== 72 || e.byteAt(1) !== 89 || e.byteAt(2) !== 76 || e.byteAt(3) !== 76) {
    return NOT_HLL_ERR;
  }
  const encoding = e.byteAt(4);
  if (encoding > 1 || (encoding === 0 && len !== HLL_DENSE_SIZE)) return NOT_HLL_ERR;
  return null;
}

/** True when the entry (already checked) holds a dense HLL. */
function isDense(e: Entry): boolean {
  return e.byteAt(4) === 0;
}

function sparseMax(c: Client): number {
  return c.server.config.num("hll-sparse-max-bytes");
}

function pfadd(c: Client, argv: string[]): void {
  const key = argv[1];
  const e = c.db.lookupWrite(key);
  let b: Uint8Array | null;
  let updated = 0;
  const max = sparseMax(c);
  if (e === undefined) {
    b = createHll();
    updated++;
  } else {
    const bad = checkHeader(e);
    if (bad !== null) return c.error(bad);
    if (isDense(e)) return pfaddDense(c, key, e, argv);
    b = binaryToBytes(e.value as string);
  }
  for (let j = 2; j < argv.length; j++) {
    const r = hllAdd(b, argv[j], max);
    if (r.updated === -1) return c.error(INVALID_HLL_ERR);
    b = r.bytes;
    if (r.updated === 1) updated++;
  }
  if (updated > 0) {
    invalidateCache(b);
    const s = bytesToBinary(b);
    if (e === undefined) c.db.add(key, s);
    else e.value = s;
    c.modified(key, "$", "pfadd");
    c.server.dirty += updated - 1;
  }
  c.reply.int(updated > 0 ? 1 : 0);
}

/** PFADD to a dense HLL: registers are edited in place, without copying the string. */
function pfaddDense(c: Client, key: string, e: Entry, argv: string[]): void {
  const b = e.editBytes(0);
  let updated = 0;
  for (let j = 2; j < argv.length; j++) if (hllAdd(b, argv[j], 0).updated === 1) updated++;
  if (updated > 0) {
    invalidateCache(b);
    c.modified(key, "$", "pfadd");
    c.server.dirty += updated - 1;
  }
  c.reply.int(updated > 0 ? 1 : 0);
}

function pfcount(c: Client, argv: string[]): void {
  if (argv.length > 2) {
    const registers = new Uint8Array(HLL_REGISTERS);
    for (let j = 1; j < argv.length; j++) {
      const b = sourceBytes(c, argv[j]);
      if (b === undefined) continue;
      if (b === null) return;
      if (!hllMerge(registers, b)) return c.error(INVALID_HLL_ERR);
    }
    return c.reply.int(hllCount(registers, true)!);
  }
  const key = argv[1];
  const found = c.db.lookupRead(key);
  if (found === undefined) return c.reply.int(0);
  const bad = checkHeader(found);
  if (bad !== null) return c.error(bad);
  if ((found.byteAt(15) & 0x80) === 0) {
    let cached = 0;
    for (let i = 15; i >= 8; i--) cached = cached * 256 + found.byteAt(i);
    return c.reply.int(cached);
  }
  // the refreshed cache is a change to the key, propagated like Redis does
  const b = c.db.lookupWrite(key)!.editBytes(0);
  const card = hllCount(b);
  if (card === null) return c.error(INVALID_HLL_ERR);
  setCachedCard(b, card);
  c.server.keyModified(c.db, key);
  c.server.dirty++;
  c.reply.int(card);
}

function pfmerge(c: Client, argv: string[]): void {
  const max = new Uint8Array(HLL_REGISTERS);
  let useDense = false;
  for (let j = 1; j < argv.length; j++) {
    const b = sourceBytes(c, argv[j]);
    if (b === undefined) continue;
    if (b === null) return;
    if (b[4] === 0) useDense = true;
    if (!hllMerge(max, b)) return c.error(INVALID_HLL_ERR);
  }
  const key = argv[1];
  const e = c.db.lookupWrite(key);
  let b = e === undefined ? createHll() : binaryToBytes(e.value as string);
  if (useDense) {
    const d = sparseToDense(b);
    if (d === null) return c.error(INVALID_HLL_ERR);
    b = d;
  }
  const limit = sparseMax(c);
  for (let j = 0; j < HLL_REGISTERS; j++) {
    if (max[j] === 0) continue;
    b = hllSet(b, j, max[j], limit).bytes;
  }
  invalidateCache(b);
  const s = bytesToBinary(b);
  if (e === undefined) c.db.add(key, s);
  else e.value = s;
  c.modified(key, "$", "pfadd");
  c.reply.simple("OK");
}

function pfdebug(c: Client, argv: string[]): void {
  const sub = argv[1].toLowerCase();
  const key = argv[2];
  const e = c.db.lookupWrite(key);
  if (e === undefined) return c.error("ERR The specified key does not exist");
  let b = hllBytes(c, e.value);
  if (b === null) return;
  if (sub === "getreg") {
    const d = sparseToDense(b);
    if (d === null) return c.error(INVALID_HLL_ERR);
    if (d !== b) {
      e.value = bytesToBinary(d);
      c.server.dirty++;
    }
    c.reply.array(HLL_REGISTERS);
    for (let i = 0; i < HLL_REGISTERS; i++) c.reply.int(registerAt(d, i));
  } else if (sub === "decode") {
    if (b[4] !== 1) return c.error("ERR HLL encoding is not sparse");
    c.reply.bulk(decodeSparse(b));
  } else if (sub === "encoding") {
    c.reply.simple(encodingName(b));
  } else if (sub === "todense") {
    const d = sparseToDense(b);
    if (d === null) return c.error(INVALID_HLL_ERR);
    const conv = d !== b;
    b = d;
    if (conv) {
      e.value = bytesToBinary(b);
      c.server.dirty++;
    }
    c.reply.int(conv ? 1 : 0);
  } else {
    c.error(`ERR Unknown PFDEBUG subcommand '${argv[1]}'`);
  }
}

function pfselftest(c: Client): void {
  const failure = selfTest();
  if (failure === null) c.reply.simple("OK");
  else c.error(failure);
}

const cat = ["hyperloglog"];

/** The HyperLogLog command specs. */
export const commands: CommandSpec[] = [
  cmd("hyperloglog", "pfadd", -2, "write denyoom fast", pfadd, {
    keys: [1, 1, 1],
    categories: cat,
  }),
  cmd("hyperloglog", "pfcount", -2, "readonly may_replicate", pfcount, {
    keys: [1, -1, 1],
    categories: cat,
  }),
  cmd("hyperloglog", "pfmerge", -2, "write denyoom", pfmerge, {
    keys: [1, -1, 1],
    categories: cat,
  }),
  cmd("hyperloglog", "pfdebug", 3, "write denyoom admin", pfdebug, {
    keys: [2, 2, 1],
    categories: cat,
  }),
  cmd("hyperloglog", "pfselftest", 1, "admin", pfselftest, { categories: cat }),
];
