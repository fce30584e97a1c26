/**
 * The extra libraries Redis loads into its Lua states: bit (LuaBitOp), cjson and the
 * deterministic math.random (Redis: redisLrand48).
 */
import { lauxlib, lua } from "./fengari.ts";
import { ls, type LuaState, pushStr, setFn, toStr } from "./vm.ts";
import { binaryToUtf8, utf8ToBinary } from "../resp/bytes.ts";
import { openCmsgpack } from "./msgpack.ts";

/** Installs bit, cjson and Redis's math.random into the globals table at the top. */
export function openRedisLibs(L: LuaState): void {
  openBit(L);
  openCjson(L);
  openCmsgpack(L);
  lua.lua_getfield(L, -1, ls("math"));
  setFn(L, "random", mathRandom);
  setFn(L, "randomseed", mathRandomSeed);
  lua.lua_pop(L, 1);
}

// ---- bit ----

function tobit(L: LuaState, i: number): number {
  const n = lauxlib.luaL_checknumber(L, i);
  // LuaBitOp normalizes through 2^52+2^51 addition: the low 32 bits, signed
  return Number(BigInt.asIntN(32, BigInt(Math.trunc(n) % 4294967296)));
}

function openBit(L: LuaState): void {
  lua.lua_createtable(L, 0, 12);
  const ret = (L: LuaState, v: number) => {
    lua.lua_pushinteger(L, v | 0);
    return 1;
  };
  const fold = (op: (a: number, b: number) => number) => (L: LuaState) => {
    let v = tobit(L, 1);
    for (let i = lua.lua_gettop(L); i > 1; i--) v = op(v, tobit(L, i));
    return ret(L, v);
  };
  setFn(L, "tobit", (L) => ret(L, tobit(L, 1)));
  setFn(L, "bnot", (L) => ret(L, ~tobit(L, 1)));
  setFn(L, "band", fold((a, b) => a & b));
  setFn(L, "bor", fold((a, b) => a | b));
  setFn(L, "bxor", fold((a, b) => a ^ b));
  setFn(L, "lshift", (L) => ret(L, tobit(L, 1) << (tobit(L, 2) & 31)));
  setFn(L, "rshift", (L) => ret(L, tobit(L, 1) >>> (tobit(L, 2) & 31)));
  setFn(L, "arshift", (L) => ret(L, tobit(L, 1) >> (tobit(L, 2) & 31)));
  setFn(L, "rol", (L) => {
    const a = tobit(L, 1), n = tobit(L, 2) & 31;
    return ret(L, (a << n) | (a >>> (32 - n)));
  });
  setFn(L, "ror", (L) => {
    const a = tobit(L, 1), n = tobit(L, 2) & 31;
    return ret(L, (a >>> n) | (a << (32 - n)));
  });
  setFn(L, "bswap", (L) => {
    const a = tobit(L, 1);
    return ret(L, (a >>> 24) | ((a >> 8) & 0xff00) | ((a & 0xff00) << 8) | (a << 24));
  });
  setFn(L, "tohex", (L) => {
    let b = tobit(L, 1);
    let n = lua.lua_isnoneornil(L, 2) ? 8 : tobit(L, 2);
    const upper = n < 0;
    if (upper) n = -n;
    if (n > 8) n = 8;
    let s = "";
    for (let i = 0; i < n; i++) {
      s = "0123456789abcdef"[b & 15] + s;
      b >>>= 4;
    }
    pushStr(L, upper ? s.toUpperCase() : s);
    return 1;
  });
  lua.lua_setfield(L, -2, ls("bit"));
}

// ---- math.random (Redis: rand.c, the 48-bit linear congruential generator) ----

let seed48 = 0x1234abcd330en;
const A48 = 0x5deece66dn;
const MASK48 = (1n << 48n) - 1n;
const LRAND48_MAX = 2147483647;

function lrand48(): number {
  seed48 = (seed48 * A48 + 0xbn) & MASK48;
  return Number(seed48 >> 17n);
}

/** Redis's redisSrand48: scripts start from the same PRNG state every time. */
export function srand48(seed: number): void {
  const s = BigInt.asUintN(32, BigInt(seed));
  seed48 = (s << 16n) | 0x330en;
}

function mathRandom(L: LuaState): number {
  const r = (lrand48() % LRAND48_MAX) / LRAND48_MAX;
  switch (lua.lua_gettop(L)) {
    case 0:
      lua.lua_pushnumber(L, r);
      break;
    case 1: {
      const u = lauxlib.luaL_checkinteger(L, 1);
      lauxlib.luaL_argcheck(L, 1 <= u, 1, ls("interval is empty"));
      lua.lua_pushinteger(L, Math.floor(r * u) + 1);
      break;
    }
    case 2: {
      const l = lauxlib.luaL_checkinteger(L, 1);
      const u = lauxlib.luaL_checkinteger(L, 2);
      lauxlib.luaL_argcheck(L, l <= u, 2, ls("interval is empty"));
      lua.lua_pushinteger(L, Math.floor(r * (u - l + 1)) + l);
      break;
    }
    default:
      return lauxlib.luaL_error(L, ls("wrong number of arguments"));
  }
  return 1;
}

function mathRandomSeed(L: LuaState): number {
  srand48(lauxlib.luaL_checkinteger(L, 1));
  return 0;
}

// ---- cjson ----

/** lua-cjson's settings changed by cjson.encode_max_depth() and friends. */
const cjsonSettings = { encodeMaxDepth: 1000, decodeMaxDepth: 1000, encodeInvalidNumbers: false };

function cjsonConfigBool(L: LuaState, set: (v: boolean) => void): number {
  if (!lua.lua_isnoneornil(L, 1)) {
    const t = lua.lua_type(L, 1);
    const v = t === lua.LUA_TBOOLEAN ? lua.lua_toboolean(L, 1) : toStr(L, 1) === "on";
    set(v);
  }
  return 0;
}

function cjsonConfigInt(L: LuaState, set: (v: number) => void): number {
  if (!lua.lua_isnoneornil(L, 1)) set(lauxlib.luaL_checkinteger(L, 1));
  return 0;
}

/** cjson.null: a light userdata, as lua-cjson's */
const CJSON_NULL = {};

function openCjson(L: LuaState): void {
  lua.lua_createtable(L, 0, 4);
  setFn(L, "encode", cjsonEncode);
  setFn(L, "decode", cjsonDecode);
  setFn(L, "encode_keep_buffer", (L) => cjsonConfigBool(L, () => {}));
  setFn(L, "encode_max_depth", (L) => cjsonConfigInt(L, (v) => cjsonSettings.encodeMaxDepth = v));
  setFn(L, "decode_max_depth", (L) => cjsonConfigInt(L, (v) => cjsonSettings.decodeMaxDepth = v));
  setFn(
    L,
    "encode_invalid_numbers",
    (L) => cjsonConfigBool(L, (v) => cjsonSettings.encodeInvalidNumbers = v),
  );
  setFn(L, "decode_invalid_numbers", (L) => cjsonConfigBool(L, () => {}));
  setFn(L, "encode_sparse_array", () => 0);
  setFn(L, "encode_number_precision", (L) => cjsonConfigInt(L, () => {}));
  lua.lua_pushlightuserdata(L, CJSON_NULL);
  lua.lua_setfield(L, -2, ls("null"));
  lua.lua_setfield(L, -2, ls("cjson"));
}

function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    switch (ch) {
      case 34:
        out += '\\"';
        break;
      case 92:
        out += "\\\\";
        break;
      case 47:
        out += "\\/";
        break;
      case 8:
        out += "\\b";
        break;
      case 12:
        out += "\\f";
        break;
      case 10:
        out += "\\n";
        break;
      case 13:
        out += "\\r";
        break;
      case 9:
        out += "\\t";
        break;
      default:
        out += ch < 32 || ch === 127 ? "\\u" + ch.toString(16).padStart(4, "0") : s[i];
    }
  }
  return out + '"';
}

function jsonNumber(n: number): string {
  if (!Number.isFinite(n)) {
    if (!cjsonSettings.encodeInvalidNumbers) {
      throw new Error("Cannot serialise number: must not be NaN or Inf");
    }
    return Number.isNaN(n) ? "nan" : n > 0 ? "inf" : "-inf";
  }
  return String(Number(n.toPrecision(14)));
}

function encodeValue(L: LuaState, depth: number): string {
  lua.lua_checkstack(L, 8);
  switch (lua.lua_type(L, -1)) {
    case lua.LUA_TSTRING:
      return jsonString(toStr(L, -1));
    case lua.LUA_TNUMBER:
      return jsonNumber(lua.lua_tonumber(L, -1));
    case lua.LUA_TBOOLEAN:
      return lua.lua_toboolean(L, -1) ? "true" : "false";
    case lua.LUA_TNIL:
      return "null";
    case lua.LUA_TLIGHTUSERDATA:
      if (lua.lua_touserdata(L, -1) === CJSON_NULL) return "null";
      throw new Error("Cannot serialise userdata: type not supported");
    case lua.LUA_TTABLE:
      if (depth + 1 > cjsonSettings.encodeMaxDepth) {
        throw new Error(`Cannot serialise, excessive nesting (${depth + 1})`);
      }
      return encodeTable(L, depth);
    default:
      throw new Error(
        `Cannot serialise ${
          bytesName(lua.lua_typename(L, lua.lua_type(L, -1)))
        }: type not supported`,
      );
  }
}

function bytesName(b: Uint8Array): string {
  return String.fromCharCode(...b);
}

function encodeTable(L: LuaState, depth: number): string {
  // an array when every key is a positive integer (lua-cjson's lua_array_length)
  let max = 0;
  let items = 0;
  let isArray = true;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    lua.lua_pop(L, 1);
    if (lua.lua_type(L, -1) === lua.LUA_TNUMBER) {
      const k = lua.lua_tonumber(L, -1);
      if (Number.isInteger(k) && k >= 1) {
        if (k > max) max = k;
        items++;
        continue;
      }
    }
    isArray = false;
  }
  if (isArray && max > 0 && (max <= items * 2 || max <= 10)) {
    const parts: string[] = [];
    for (let i = 1; i <= max; i++) {
      lua.lua_rawgeti(L, -1, i);
      parts.push(encodeValue(L, depth + 1));
      lua.lua_pop(L, 1);
    }
    return "[" + parts.join(",") + "]";
  }
  if (isArray && max > 0) throw new Error("Cannot serialise table: excessively sparse array");
  const parts: string[] = [];
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    const kt = lua.lua_type(L, -2);
    let key: string;
    if (kt === lua.LUA_TSTRING) key = toStr(L, -2);
    else if (kt === lua.LUA_TNUMBER) key = jsonNumber(lua.lua_tonumber(L, -2));
    else {
      lua.lua_pop(L, 2);
      throw new Error("Cannot serialise table: table key must be a number or string");
    }
    parts.push(jsonString(key) + ":" + encodeValue(L, depth + 1));
    lua.lua_pop(L, 1);
  }
  return "{" + parts.join(",") + "}";
}

function cjsonEncode(L: LuaState): number {
  if (lua.lua_gettop(L) !== 1) {
    return lauxlib.luaL_argerror(L, 1, ls("expected 1 argument"));
  }
  let out: string;
  try {
    out = encodeValue(L, 0);
  } catch (e) {
    return lauxlib.luaL_error(L, ls((e as Error).message));
  }
  pushStr(L, out);
  return 1;
}

function pushJson(L: LuaState, v: unknown): void {
  lua.lua_checkstack(L, 8);
  if (v === null) lua.lua_pushlightuserdata(L, CJSON_NULL);
  else if (typeof v === "string") pushStr(L, utf8ToBinary(v));
  else if (typeof v === "number") lua.lua_pushnumber(L, v);
  else if (typeof v === "boolean") lua.lua_pushboolean(L, v);
  else if (Array.isArray(v)) {
    lua.lua_createtable(L, v.length, 0);
    v.forEach((item, i) => {
      pushJson(L, item);
      lua.lua_rawseti(L, -2, i + 1);
    });
  } else {
    const o = v as Record<string, unknown>;
    lua.lua_createtable(L, 0, 0);
    for (const k of Object.keys(o)) {
      pushStr(L, utf8ToBinary(k));
      pushJson(L, o[k]);
      lua.lua_rawset(L, -3);
    }
  }
}

function cjsonDecode(L: LuaState): number {
  const text = toStr(L, 1);
  let v: unknown;
  try {
    v = JSON.parse(binaryToUtf8(text));
  } catch {
    return lauxlib.luaL_error(
      L,
      ls("Expected value but found invalid token at character 1"),
    );
  }
  if (jsonDepth(v) > cjsonSettings.decodeMaxDepth) {
    return lauxlib.luaL_error(L, ls("Found too many nested data structures"));
  }
  pushJson(L, v);
  return 1;
}

function jsonDepth(v: unknown): number {
  if (v === null || typeof v !== "object") return 0;
  const items = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
  let max = 0;
  for (const item of items) max = Math.max(max, jsonDepth(item));
  return max + 1;
}
