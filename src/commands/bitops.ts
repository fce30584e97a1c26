/** Bit operations on strings (Redis: bitops.c). */
import type { Client } from "../client.ts";
import type { Entry } from "../store/db.ts";
import { cmd, type CommandSpec } from "./table.ts";
import { ERR } from "../errors.ts";
import { parseInteger } from "../resp/bytes.ts";
import { MAX_STRING_LENGTH, readString } from "./strings.ts";

const BITFIELD_TYPE_ERROR =
  "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/** Bits set in each byte value. */
const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1];

/**
 * Redis's getBitOffsetFromArgument: a bit offset within proto-max-bulk-len bytes;
 * `#n` means n * bits when `bits` > 0 (BITFIELD). Null after replying the error.
 */
function bitOffsetArg(c: Client, arg: string, bits = 0): number | null {
  const useHash = bits > 0 && arg.charCodeAt(0) === 35; /* # */
  const n = parseInteger(useHash ? arg.slice(1) : arg);
  if (n === null) {
    c.error(ERR.bitOffset);
    return null;
  }
  const offset = useHash ? n * bits : n;
  if (offset < 0 || Math.floor(offset / 8) >= c.server.config.num("proto-max-bulk-len")) {
    c.error(ERR.bitOffset);
    return null;
  }
  return offset;
}

/**
 * Redis's lookupStringForBitCommand: the string entry for a bit write, created or
 * zero-padded so that bit `maxBit` exists (`grown` says whether that happened). Null
 * after replying the error.
 */
function stringForBitWrite(
  c: Client,
  key: string,
  maxBit: number,
): { entry: Entry; bytes: Uint8Array; grown: boolean } | null {
  const byte = Math.floor(maxBit / 8);
  if (byte + 1 > MAX_STRING_LENGTH) {
    c.error(ERR.stringTooLong);
    return null;
  }
  const e = c.db.lookupWrite(key);
  if (e === undefined) {
    const created = c.db.add(key, "");
    created.raw = true;
    return { entry: created, bytes: created.editBytes(byte + 1), grown: true };
  }
  if (!e.holdsString()) {
    c.error(ERR.wrongType);
    return null;
  }
  const grown = e.stringLength < byte + 1;
  e.raw = true;
  // edited in place: the string is rebuilt only when something reads it
  return { entry: e, bytes: e.editBytes(byte + 1), grown };
}

function setbit(c: Client, argv: string[]): void {
  const offset = bitOffsetArg(c, argv[2]);
  if (offset === null) return;
  const bit = argv[3];
  if (bit !== "0" && bit !== "1") return c.error(ERR.bitValue);
  const target = stringForBitWrite(c, argv[1], offset);
  if (target === null) return;
  const bytes = target.bytes;
  const byte = offset >> 3;
  const mask = 1 << (7 - (offset & 7));
  const old = bytes[byte];
  const next = bit === "1" ? old | mask : old & ~mask;
  bytes[byte] = next;
  // an unchanged bit in a string that did not grow is not a change (not propagated)
  if (target.grown || next !== old) c.modified(argv[1], "$", "setbit");
  c.reply.int(old & mask ? 1 : 0);
}

function getbit(c: Client, argv: string[]): void {
  const offset = bitOffsetArg(c, argv[2]);
  if (offset === null) return;
  const e = c.db.lookupRead(argv[1]);
  if (e === undefined) return c.reply.int(0);
  if (!e.holdsString()) return c.error(ERR.wrongType);
  c.reply.int((e.byteAt(offset >> 3) >> (7 - (offset & 7))) & 1);
}

/** Parses a long long argument or replies the error. */
function llArg(c: Client, arg: string): number | null {
  const n = parseInteger(arg);
  if (n === null) c.error(ERR.notInteger);
  return n;
}

/** BYTE|BIT unit argument: true for BIT, null after a syntax error. */
function unitArg(c: Client, arg: string): boolean | null {
  const u = arg.toLowerCase();
  if (u === "bit") return true;
  if (u === "byte") return false;
  c.error(ERR.syntax);
  return null;
}

function bitAt(s: string, bit: number): number {
  return (s.charCodeAt(bit >> 3) >> (7 - (bit & 7))) & 1;
}

function bitcount(c: Client, argv: string[]): void {
  const s = readString(c, argv[1]);
  if (s === undefined) return;
  if (s === null) return c.reply.int(0);
  let startBit: number;
  let endBit: number;
  if (argv.length === 4 || argv.length === 5) {
    let start = llArg(c, argv[2]);
    if (start === null) return;
    let end = llArg(c, argv[3]);
    if (end === null) return;
    let isBit = false;
    if (argv.length === 5) {
      const u = unitArg(c, argv[4]);
      if (u === null) return;
      isBit = u;
    }
    const total = isBit ? s.length * 8 : s.length;
    if (start < 0 && end < 0 && start > end) return c.reply.int(0);
    if (start < 0) start = total + start;
    if (end < 0) end = total + end;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= total) end = total - 1;
    if (start > end) return c.reply.int(0);
    startBit = isBit ? start : start * 8;
    endBit = isBit ? end : end * 8 + 7;
  } else if (argv.length === 2) {
    if (s.length === 0) return c.reply.int(0);
    startBit = 0;
    endBit = s.length * 8 - 1;
  } else {
    return c.error(ERR.syntax);
  }
  let count = 0;
  let bit = startBit;
  while (bit <= endBit && (bit & 7) !== 0) count += bitAt(s, bit++);
  while (bit + 7 <= endBit) {
    count += POPCOUNT[s.charCodeAt(bit >> 3)];
    bit += 8;
  }
  while (bit <= endBit) count += bitAt(s, bit++);
  c.reply.int(count);
}

function bitpos(c: Client, argv: string[]): void {
  const bitArg = llArg(c, argv[2]);
  if (bitArg === null) return;
  if (bitArg !== 0 && bitArg !== 1) return c.error("ERR The bit argument must be 1 or 0.");
  const target = bitArg;
  const s = readString(c, argv[1]);
  if (s === undefined) return;
  if (s === null) return c.reply.int(target ? -1 : 0);
  let startBit: number;
  let endBit: number;
  let endGiven = false;
  if (argv.length >= 4 && argv.length <= 6) {
    let start = llArg(c, argv[3]);
    if (start === null) return;
    let isBit = false;
    if (argv.length === 6) {
      const u = unitArg(c, argv[5]);
      if (u === null) return;
      isBit = u;
    }
    const total = isBit ? s.length * 8 : s.length;
    let end: number;
    if (argv.length >= 5) {
      const e = llArg(c, argv[4]);
      if (e === null) return;
      end = e;
      endGiven = true;
    } else end = total - 1;
    if (start < 0) start = total + start;
    if (end < 0) end = total + end;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= total) end = total - 1;
    if (start > end) return c.reply.int(-1);
    startBit = isBit ? start : start * 8;
    endBit = isBit ? end : end * 8 + 7;
  } else if (argv.length === 3) {
    if (s.length === 0) return c.reply.int(-1);
    startBit = 0;
    endBit = s.length * 8 - 1;
  } else {
    return c.error(ERR.syntax);
  }
  const skip = target ? 0 : 0xff;
  let bit = startBit;
  while (bit <= endBit) {
    if ((bit & 7) === 0 && bit + 7 <= endBit && s.charCodeAt(bit >> 3) === skip) {
      bit += 8;
      continue;
    }
    if (bitAt(s, bit) === target) return c.reply.int(bit);
    bit++;
  }
  // looking for a clear bit with no explicit end: the string is zero-padded to the right
  if (target === 0 && !endGiven) return c.reply.int(s.length * 8);
  c.reply.int(-1);
}

function bitop(c: Client, argv: string[]): void {
  const op = argv[1].toLowerCase();
  if (op !== "and" && op !== "or" && op !== "xor" && op !== "not") return c.error(ERR.syntax);
  if (op === "not" && argv.length !== 4) {
    return c.error("ERR BITOP NOT must be called with a single source key.");
  }
  const dest = argv[2];
  const sources: string[] = [];
  let maxlen = 0;
  for (let j = 3; j < argv.length; j++) {
    const v = c.db.get(argv[j]);
    if (v !== undefined && typeof v !== "string") return c.error(ERR.wrongType);
    const s = v ?? "";
    sources.push(s);
    if (s.length > maxlen) maxlen = s.length;
  }
  if (maxlen === 0) {
    if (c.db.delete(dest)) c.modified(dest, "g", "del");
    return c.reply.int(0);
  }
  const out = new Uint8Array(maxlen);
  if (op === "not") {
    const s = sources[0];
    for (let i = 0; i < maxlen; i++) out[i] = ~s.charCodeAt(i) & 0xff;
  } else {
    const first = sources[0];
    for (let i = 0; i < maxlen; i++) out[i] = i < first.length ? first.charCodeAt(i) : 0;
    for (let k = 1; k < sources.length; k++) {
      const s = sources[k];
      for (let i = 0; i < maxlen; i++) {
        const b = i < s.length ? s.charCodeAt(i) : 0;
        if (op === "and") out[i] &= b;
        else if (op === "or") out[i] |= b;
        else out[i] ^= b;
      }
    }
  }
  let result = "";
  for (let i = 0; i < maxlen; i += 8192) {
    result += String.fromCharCode(...out.subarray(i, Math.min(maxlen, i + 8192)));
  }
  const e = c.db.set(dest, result);
  e.raw = true;
  c.modified(dest, "$", "set");
  c.reply.int(maxlen);
}

// ---- BITFIELD ----

const WRAP = 0;
const SAT = 1;
const FAIL = 2;

interface BitfieldOp {
  op: "get" | "set" | "incrby";
  signed: boolean;
  bits: number;
  offset: number;
  value: bigint;
  overflow: number;
}

/** Reads `bits` bits at bit `offset` (MSB first) through `byteAt` (0 past the end). */
function readBits(byteAt: (i: number) => number, offset: number, bits: number): bigint {
  let v = 0n;
  for (let i = 0; i < bits; i++) {
    const bit = offset + i;
    v = (v << 1n) | BigInt((byteAt(bit >> 3) >> (7 - (bit & 7))) & 1);
  }
  return v;
}

/** Writes the low `bits` bits of `value` at bit `offset` (`bytes` is long enough). */
function writeBits(bytes: Uint8Array, offset: number, bits: number, value: bigint): void {
  for (let i = 0; i < bits; i++) {
    const bit = offset + i;
    const mask = 1 << (7 - (bit & 7));
    if ((value >> BigInt(bits - 1 - i)) & 1n) bytes[bit >> 3] |= mask;
    else bytes[bit >> 3] &= ~mask;
  }
}

/**
 * Applies Redis's overflow policy: the value to store, or null when FAIL refuses it.
 * `exact` is the mathematically exact result.
 */
function fitBits(exact: bigint, signed: boolean, bits: number, overflow: number): bigint | null {
  const b = BigInt(bits);
  const max = signed ? (1n << (b - 1n)) - 1n : (1n << b) - 1n;
  const min = signed ? -(1n << (b - 1n)) : 0n;
  if (exact >= min && exact <= max) return exact;
  if (overflow === FAIL) return null;
  if (overflow === SAT) return exact > max ? max : min;
  return signed ? BigInt.asIntN(bits, exact) : BigInt.asUintN(bits, exact);
}

function bitfieldGeneric(c: Client, argv: string[], readonlyCommand: boolean): void {
  const ops: BitfieldOp[] = [];
  let overflow = WRAP;
  let readonly = true;
  let highestWriteBit = 0;
  for (let j = 2; j < argv.length; j++) {
    const remaining = argv.length - j - 1;
    const sub = argv[j].toLowerCase();
    let op: BitfieldOp["op"];
    if (sub === "get" && remaining >= 2) op = "get";
    else if (sub === "set" && remaining >= 3) op = "set";
    else if (sub === "incrby" && remaining >= 3) op = "incrby";
    else if (sub === "overflow" && remaining >= 1) {
      const kind = argv[++j].toLowerCase();
      if (kind === "wrap") overflow = WRAP;
      else if (kind === "sat") overflow = SAT;
      else if (kind === "fail") overflow = FAIL;
      else return c.error("ERR Invalid OVERFLOW type specified");
      continue;
    } else return c.error(ERR.syntax);
    const typeArg = argv[j + 1];
    const t = typeArg.charCodeAt(0) | 0x20;
    const signed = t === 105; /* i */
    const width = parseInteger(typeArg.slice(1));
    if (
      (t !== 105 && t !== 117) || width === null || width < 1 ||
      (signed && width > 64) || (!signed && width > 63)
    ) {
      return c.error(BITFIELD_TYPE_ERROR);
    }
    const offset = bitOffsetArg(c, argv[j + 2], width);
    if (offset === null) return;
    let value = 0n;
    if (op !== "get") {
      readonly = false;
      if (parseInteger(argv[j + 3]) === null) return c.error(ERR.notInteger);
      value = BigInt(argv[j + 3]);
      if (offset + width - 1 > highestWriteBit) highestWriteBit = offset + width - 1;
    }
    ops.push({ op, signed, bits: width, offset, value, overflow });
    j += op === "get" ? 2 : 3;
  }
  let byteAt: (i: number) => number;
  let bytes: Uint8Array | null = null;
  let grown = false;
  if (readonly) {
    const e = c.db.lookupRead(argv[1]);
    if (e !== undefined && !e.holdsString()) return c.error(ERR.wrongType);
    byteAt = e === undefined ? () => 0 : (i) => e.byteAt(i);
  } else {
    if (readonlyCommand) return c.error("ERR BITFIELD_RO only supports the GET subcommand");
    const target = stringForBitWrite(c, argv[1], highestWriteBit);
    if (target === null) return;
    const b = bytes = target.bytes;
    grown = target.grown;
    byteAt = (i) => i < b.length ? b[i] : 0;
  }
  c.reply.array(ops.length);
  let changes = 0;
  for (const op of ops) {
    const raw = readBits(byteAt, op.offset, op.bits);
    const old = op.signed ? BigInt.asIntN(op.bits, raw) : raw;
    if (op.op === "get") {
      c.reply.int(old);
      continue;
    }
    let exact: bigint;
    if (op.op === "incrby") exact = old + op.value;
    else exact = op.signed ? op.value : BigInt.asUintN(64, op.value);
    const stored = fitBits(exact, op.signed, op.bits, op.overflow);
    if (stored === null) {
      c.reply.nil();
      continue;
    }
    writeBits(bytes!, op.offset, op.bits, stored);
    if (grown || stored !== old) changes++;
    c.reply.int(op.op === "incrby" ? stored : old);
  }
  if (changes > 0) {
    c.modified(argv[1], "$", "setbit");
    c.server.dirty += changes - 1;
  }
}

const B = { categories: ["bitmap"] };
const K1 = { keys: [1, 1, 1] as [number, number, number], ...B };

/** The bitmap command specs. */
export const commands: CommandSpec[] = [
  cmd("bitmap", "setbit", 4, "write denyoom", setbit, K1),
  cmd("bitmap", "getbit", 3, "readonly fast", getbit, K1),
  cmd("bitmap", "bitcount", -2, "readonly", bitcount, K1),
  cmd("bitmap", "bitpos", -3, "readonly", bitpos, K1),
  cmd("bitmap", "bitop", -4, "write denyoom", bitop, { keys: [2, -1, 1], ...B }),
  cmd("bitmap", "bitfield", -2, "write denyoom", (c, a) => bitfieldGeneric(c, a, false), K1),
  cmd("bitmap", "bitfield_ro", -2, "readonly fast", (c, a) => bitfieldGeneric(c, a, true), K1),
];
