/**
 * The cmsgpack library Redis loads into Lua (lua-cmsgpack): pack, unpack, unpack_one
 * and unpack_limit, with its encoding choices (shortest integer forms, float32 when
 * exact, str8/16/32, arrays for tables whose keys are 1..n, nesting limit 16).
 */
import { lauxlib, lua } from "./fengari.ts";
import { ls, type LuaState, pushStr, setFn, toStr } from "./vm.ts";

const MAX_NESTING = 16;

/** Installs the cmsgpack table into the globals table at the top of the stack. */
export function openCmsgpack(L: LuaState): void {
  lua.lua_createtable(L, 0, 4);
  setFn(L, "pack", pack);
  setFn(L, "unpack", (L) => unpackFull(L, 0, 0, true));
  setFn(L, "unpack_one", (L) => {
    const offset = lua.lua_isnoneornil(L, 2) ? 0 : lauxlib.luaL_checkinteger(L, 2);
    return unpackFull(L, 1, offset, false);
  });
  setFn(L, "unpack_limit", (L) => {
    const limit = lauxlib.luaL_checkinteger(L, 2);
    const offset = lua.lua_isnoneornil(L, 3) ? 0 : lauxlib.luaL_checkinteger(L, 3);
    return unpackFull(L, limit, offset, false);
  });
  lua.lua_setfield(L, -2, ls("cmsgpack"));
}

class Out {
  parts: string[] = [];
  byte(...b: number[]): void {
    this.parts.push(String.fromCharCode(...b));
  }
  raw(s: string): void {
    this.parts.push(s);
  }
}

function be(n: bigint, bytes: number): number[] {
  const out: number[] = [];
  for (let i = bytes - 1; i >= 0; i--) out.push(Number((n >> BigInt(i * 8)) & 0xffn));
  return out;
}

function encodeInteger(o: Out, n: number): void {
  if (n >= 0) {
    if (n <= 127) o.byte(n);
    else if (n <= 0xff) o.byte(0xcc, n);
    else if (n <= 0xffff) o.byte(0xcd, ...be(BigInt(n), 2));
    else if (n <= 0xffffffff) o.byte(0xce, ...be(BigInt(n), 4));
    else o.byte(0xcf, ...be(BigInt(n), 8));
  } else {
    if (n >= -32) o.byte(n & 0xff);
    else if (n >= -128) o.byte(0xd0, n & 0xff);
    else if (n >= -32768) o.byte(0xd1, ...be(BigInt.asUintN(16, BigInt(n)), 2));
    else if (n >= -2147483648) o.byte(0xd2, ...be(BigInt.asUintN(32, BigInt(n)), 4));
    else o.byte(0xd3, ...be(BigInt.asUintN(64, BigInt(n)), 8));
  }
}

function encodeDouble(o: Out, d: number): void {
  if (Math.fround(d) === d || Number.isNaN(d)) {
    const b = new DataView(new ArrayBuffer(4));
    b.setFloat32(0, d);
    o.byte(0xca, b.getUint8(0), b.getUint8(1), b.getUint8(2), b.getUint8(3));
  } else {
    const b = new DataView(new ArrayBuffer(8));
    b.setFloat64(0, d);
    o.byte(0xcb, ...Array.from({ length: 8 }, (_, i) => b.getUint8(i)));
  }
}

function encodeString(o: Out, s: string): void {
  const n = s.length;
  if (n < 32) o.byte(0xa0 | n);
  else if (n <= 0xff) o.byte(0xd9, n);
  else if (n <= 0xffff) o.byte(0xda, ...be(BigInt(n), 2));
  else o.byte(0xdb, ...be(BigInt(n), 4));
  o.raw(s);
}

/** lua-cmsgpack's table_is_an_array: keys are exactly 1..n. */
function tableIsArray(L: LuaState): number {
  let count = 0;
  let max = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    lua.lua_pop(L, 1);
    if (lua.lua_type(L, -1) !== lua.LUA_TNUMBER) {
      lua.lua_pop(L, 1);
      return -1;
    }
    const k = lua.lua_tonumber(L, -1);
    if (k > 0 && Number.isInteger(k)) {
      if (k > max) max = k;
      count++;
      continue;
    }
    lua.lua_pop(L, 1);
    return -1;
  }
  return max === count ? max : -1;
}

function encodeValue(L: LuaState, o: Out, level: number): void {
  lua.lua_checkstack(L, 8);
  switch (lua.lua_type(L, -1)) {
    case lua.LUA_TSTRING:
      encodeString(o, toStr(L, -1));
      return;
    case lua.LUA_TBOOLEAN:
      o.byte(lua.lua_toboolean(L, -1) ? 0xc3 : 0xc2);
      return;
    case lua.LUA_TNUMBER: {
      const n = lua.lua_tonumber(L, -1);
      if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) encodeInteger(o, n);
      else encodeDouble(o, n);
      return;
    }
    case lua.LUA_TTABLE:
      if (level >= MAX_NESTING) {
        o.byte(0xc0);
        return;
      }
      encodeTable(L, o, level);
      return;
    default:
      o.byte(0xc0);
  }
}

function encodeTable(L: LuaState, o: Out, level: number): void {
  const len = tableIsArray(L);
  if (len >= 0) {
    if (len <= 15) o.byte(0x90 | len);
    else if (len <= 0xffff) o.byte(0xdc, ...be(BigInt(len), 2));
    else o.byte(0xdd, ...be(BigInt(len), 4));
    for (let i = 1; i <= len; i++) {
      lua.lua_rawgeti(L, -1, i);
      encodeValue(L, o, level + 1);
      lua.lua_pop(L, 1);
    }
    return;
  }
  let n = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    lua.lua_pop(L, 1);
    n++;
  }
  if (n <= 15) o.byte(0x80 | n);
  else if (n <= 0xffff) o.byte(0xde, ...be(BigInt(n), 2));
  else o.byte(0xdf, ...be(BigInt(n), 4));
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    lua.lua_pushvalue(L, -2);
    encodeValue(L, o, level + 1);
    lua.lua_pop(L, 1);
    encodeValue(L, o, level + 1);
    lua.lua_pop(L, 1);
  }
}

function pack(L: LuaState): number {
  const n = lua.lua_gettop(L);
  if (n === 0) return lauxlib.luaL_argerror(L, 0, ls("MessagePack pack needs input."));
  const o = new Out();
  for (let i = 1; i <= n; i++) {
    lua.lua_pushvalue(L, i);
    encodeValue(L, o, 0);
    lua.lua_pop(L, 1);
  }
  pushStr(L, o.parts.join(""));
  return 1;
}

class Cursor {
  pos: number;
  constructor(readonly s: string, pos: number) {
    this.pos = pos;
  }
  need(n: number): void {
    if (this.pos + n > this.s.length) throw new Error("Missing bytes in input.");
  }
  u8(): number {
    this.need(1);
    return this.s.charCodeAt(this.pos++);
  }
  uint(n: number): number {
    this.need(n);
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(this.s.charCodeAt(this.pos++));
    return Number(v);
  }
  int(n: number): number {
    this.need(n);
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(this.s.charCodeAt(this.pos++));
    return Number(BigInt.asIntN(n * 8, v));
  }
  bytes(n: number): string {
    this.need(n);
    const out = this.s.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  float(n: 4 | 8): number {
    const dv = new DataView(new ArrayBuffer(n));
    for (let i = 0; i < n; i++) dv.setUint8(i, this.u8());
    return n === 4 ? dv.getFloat32(0) : dv.getFloat64(0);
  }
}

function pushNumber(L: LuaState, n: number): void {
  if ((n | 0) === n) lua.lua_pushinteger(L, n);
  else lua.lua_pushnumber(L, n);
}

function decodeArray(L: LuaState, c: Cursor, n: number): void {
  lua.lua_createtable(L, n, 0);
  for (let i = 1; i <= n; i++) {
    decodeValue(L, c);
    lua.lua_rawseti(L, -2, i);
  }
}

function decodeMap(L: LuaState, c: Cursor, n: number): void {
  lua.lua_createtable(L, 0, n);
  for (let i = 0; i < n; i++) {
    decodeValue(L, c);
    decodeValue(L, c);
    lua.lua_settable(L, -3);
  }
}

function decodeValue(L: LuaState, c: Cursor): void {
  lauxlib.luaL_checkstack(L, 4, ls("too many nested objects"));
  const b = c.u8();
  if (b <= 0x7f) return pushNumber(L, b);
  if (b >= 0xe0) return pushNumber(L, b - 256);
  if ((b & 0xe0) === 0xa0) return pushStr(L, c.bytes(b & 0x1f));
  if ((b & 0xf0) === 0x90) return decodeArray(L, c, b & 0x0f);
  if ((b & 0xf0) === 0x80) return decodeMap(L, c, b & 0x0f);
  switch (b) {
    case 0xc0:
      return lua.lua_pushnil(L);
    case 0xc2:
      return lua.lua_pushboolean(L, false);
    case 0xc3:
      return lua.lua_pushboolean(L, true);
    case 0xcc:
      return pushNumber(L, c.uint(1));
    case 0xcd:
      return pushNumber(L, c.uint(2));
    case 0xce:
      return pushNumber(L, c.uint(4));
    case 0xcf:
      return pushNumber(L, c.uint(8));
    case 0xd0:
      return pushNumber(L, c.int(1));
    case 0xd1:
      return pushNumber(L, c.int(2));
    case 0xd2:
      return pushNumber(L, c.int(4));
    case 0xd3:
      return pushNumber(L, c.int(8));
    case 0xca:
      return lua.lua_pushnumber(L, c.float(4));
    case 0xcb:
      return lua.lua_pushnumber(L, c.float(8));
    case 0xd9:
    case 0xc4:
      return pushStr(L, c.bytes(c.uint(1)));
    case 0xda:
    case 0xc5:
      return pushStr(L, c.bytes(c.uint(2)));
    case 0xdb:
    case 0xc6:
      return pushStr(L, c.bytes(c.uint(4)));
    case 0xdc:
      return decodeArray(L, c, c.uint(2));
    case 0xdd:
      return decodeArray(L, c, c.uint(4));
    case 0xde:
      return decodeMap(L, c, c.uint(2));
    case 0xdf:
      return decodeMap(L, c, c.uint(4));
  }
  throw new Error("Bad data format in input.");
}

/** lua-cmsgpack's mp_unpack_full. */
function unpackFull(L: LuaState, limit: number, offset: number, all: boolean): number {
  const s = toStr(L, 1);
  if (offset < 0 || limit < 0) {
    return lauxlib.luaL_error(
      L,
      ls("Invalid request to unpack with offset of " + offset + " and limit of " + limit + "."),
    );
  }
  if (offset > s.length) return 0;
  const c = new Cursor(s, offset);
  let count = 0;
  const base = lua.lua_gettop(L);
  try {
    while (c.pos < s.length && (limit === 0 || count < limit)) {
      decodeValue(L, c);
      count++;
    }
  } catch (e) {
    lua.lua_settop(L, base);
    return lauxlib.luaL_error(L, ls((e as Error).message));
  }
  if (!all) {
    lua.lua_pushinteger(L, c.pos < s.length ? c.pos : -1);
    lua.lua_insert(L, base + 1);
    return count + 1;
  }
  return count;
}
