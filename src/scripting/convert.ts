/**
 * Reply conversions (Redis: script_lua.c luaReplyToRedisReply and the RESP-to-Lua
 * parser callbacks): a Lua value returned by a script becomes a client reply, and a
 * command's RESP reply becomes a Lua value for redis.call / redis.pcall.
 */
import { lua } from "./fengari.ts";
import type { Client } from "../client.ts";
import { bytesToBinary } from "../resp/bytes.ts";
import { errorCounted, ls, type LuaState, pushStr, toStr } from "./vm.ts";

/** Error details Redis extracts from an error table. */
export interface ErrorInfo {
  msg: string;
  source: string | null;
  line: string | null;
}

/** Reads {err=..., source=..., line=...} at the top of the stack (Redis: luaExtractErrorInformation). */
export function errorInfo(L: LuaState): ErrorInfo {
  lua.lua_checkstack(L, 4);
  const field = (name: string): string | null => {
    lua.lua_getfield(L, -1, ls(name));
    const v = lua.lua_isstring(L, -1) ? toStr(L, -1) : null;
    lua.lua_pop(L, 1);
    return v;
  };
  return { msg: field("err") ?? "", source: field("source"), line: field("line") };
}

const MAX_DEPTH = 1000;

/** Writes the Lua value at the top of the stack as a reply to `c`; pops it. */
export function luaToReply(L: LuaState, c: Client, scriptResp: 2 | 3, depth = 0): void {
  lua.lua_checkstack(L, 8);
  const r = c.reply;
  const t = lua.lua_type(L, -1);
  if (depth > MAX_DEPTH) {
    lua.lua_pop(L, 1);
    c.error("ERR reached lua stack limit");
    return;
  }
  switch (t) {
    case lua.LUA_TSTRING:
      r.bulk(toStr(L, -1));
      break;
    case lua.LUA_TBOOLEAN:
      if (scriptResp === 2) {
        if (lua.lua_toboolean(L, -1)) r.int(1);
        else r.nil();
      } else r.bool(lua.lua_toboolean(L, -1));
      break;
    case lua.LUA_TNUMBER:
      r.int(
        lua.lua_isinteger(L, -1) ? lua.lua_tointeger(L, -1) : Math.trunc(lua.lua_tonumber(L, -1)),
      );
      break;
    case lua.LUA_TTABLE:
      tableToReply(L, c, scriptResp, depth);
      break;
    default:
      r.nil();
  }
  lua.lua_pop(L, 1);
}

function field(L: LuaState, name: string): number {
  lua.lua_pushstring(L, ls(name));
  lua.lua_rawget(L, -2);
  return lua.lua_type(L, -1);
}

function tableToReply(L: LuaState, c: Client, scriptResp: 2 | 3, depth: number): void {
  const r = c.reply;
  if (field(L, "err") === lua.LUA_TSTRING) {
    lua.lua_pop(L, 1);
    const info = errorInfo(L);
    const msg = info.msg.replace(/[\r\n]/g, " ");
    if (errorCounted(L)) {
      // a command's error returned by redis.pcall: already in errorstats
      c.commandFailed = true;
      c.reply.error(msg);
    } else c.error(msg);
    return;
  }
  lua.lua_pop(L, 1);
  if (field(L, "ok") === lua.LUA_TSTRING) {
    r.simple(toStr(L, -1).replace(/[\r\n]/g, " "));
    lua.lua_pop(L, 1);
    return;
  }
  lua.lua_pop(L, 1);
  if (field(L, "double") === lua.LUA_TNUMBER) {
    r.double(lua.lua_tonumber(L, -1));
    lua.lua_pop(L, 1);
    return;
  }
  lua.lua_pop(L, 1);
  if (field(L, "big_number") === lua.LUA_TSTRING) {
    r.bigNumber(toStr(L, -1).replace(/[\r\n]/g, " "));
    lua.lua_pop(L, 1);
    return;
  }
  lua.lua_pop(L, 1);
  // {verbatim_string = {format = "txt", string = ...}}: a verbatim reply (bulk in RESP2)
  if (field(L, "verbatim_string") === lua.LUA_TTABLE) {
    const isFormat = field(L, "format") === lua.LUA_TSTRING;
    const format = isFormat ? toStr(L, -1) : "";
    lua.lua_pop(L, 1);
    if (isFormat && field(L, "string") === lua.LUA_TSTRING) {
      r.verbatim(toStr(L, -1), format);
      lua.lua_pop(L, 2);
      return;
    }
    if (isFormat) lua.lua_pop(L, 1);
  }
  lua.lua_pop(L, 1);
  if (field(L, "map") === lua.LUA_TTABLE) {
    const n = countPairs(L);
    r.map(n);
    lua.lua_pushnil(L);
    while (lua.lua_next(L, -2) !== 0) {
      lua.lua_pushvalue(L, -2);
      luaToReply(L, c, scriptResp, depth + 1);
      luaToReply(L, c, scriptResp, depth + 1);
    }
    lua.lua_pop(L, 1);
    return;
  }
  lua.lua_pop(L, 1);
  if (field(L, "set") === lua.LUA_TTABLE) {
    const n = countPairs(L);
    r.set(n);
    lua.lua_pushnil(L);
    while (lua.lua_next(L, -2) !== 0) {
      lua.lua_pop(L, 1);
      lua.lua_pushvalue(L, -1);
      luaToReply(L, c, scriptResp, depth + 1);
    }
    lua.lua_pop(L, 1);
    return;
  }
  lua.lua_pop(L, 1);
  // an array: stops at the first nil
  let n = 0;
  for (;;) {
    lua.lua_rawgeti(L, -1, n + 1);
    const nil = lua.lua_type(L, -1) === lua.LUA_TNIL;
    lua.lua_pop(L, 1);
    if (nil) break;
    n++;
  }
  r.array(n);
  for (let i = 1; i <= n; i++) {
    lua.lua_rawgeti(L, -1, i);
    luaToReply(L, c, scriptResp, depth + 1);
  }
}

function countPairs(L: LuaState): number {
  let n = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    lua.lua_pop(L, 1);
    n++;
  }
  return n;
}

/** A RESP reply parsed to Lua: the cursor over the fake client's reply bytes. */
class RespCursor {
  pos = 0;
  constructor(readonly buf: Uint8Array, readonly end: number) {}

  line(): string {
    const start = this.pos;
    let i = start;
    while (this.buf[i] !== 13) i++;
    this.pos = i + 2;
    return bytesToBinary(this.buf, start, i);
  }

  bytes(n: number): string {
    const s = bytesToBinary(this.buf, this.pos, this.pos + n);
    this.pos += n + 2;
    return s;
  }
}

/**
 * Pushes the RESP reply in `buf[0, end)` as a Lua value (Redis: redisProtocolToLuaType).
 * Returns the error message when the reply is an error (an error table is pushed).
 */
export function replyToLua(L: LuaState, buf: Uint8Array, end: number): string | null {
  const cur = new RespCursor(buf, end);
  const type = buf[0];
  pushReply(L, cur);
  if (type === 45) {
    lua.lua_getfield(L, -1, ls("err"));
    const msg = toStr(L, -1);
    lua.lua_pop(L, 1);
    return msg;
  }
  return null;
}

function pushTable(L: LuaState, key: string): void {
  lua.lua_createtable(L, 0, 1);
  lua.lua_pushstring(L, ls(key));
}

function pushReply(L: LuaState, cur: RespCursor): void {
  lua.lua_checkstack(L, 8);
  const prefix = cur.buf[cur.pos++];
  const line = cur.line();
  switch (prefix) {
    case 43: // + status
      pushTable(L, "ok");
      pushStr(L, line);
      lua.lua_settable(L, -3);
      return;
    case 45: // - error
      pushTable(L, "err");
      pushStr(L, line);
      lua.lua_settable(L, -3);
      return;
    case 58: // : integer
      pushNumberString(L, line);
      return;
    case 36: { // $ bulk
      const n = Number(line);
      if (n < 0) lua.lua_pushboolean(L, false);
      else pushStr(L, cur.bytes(n));
      return;
    }
    case 42: // * array
    case 62: { // > push
      const n = Number(line);
      if (n < 0) {
        lua.lua_pushboolean(L, false);
        return;
      }
      lua.lua_createtable(L, n, 0);
      for (let i = 1; i <= n; i++) {
        pushReply(L, cur);
        lua.lua_rawseti(L, -2, i);
      }
      return;
    }
    case 37: { // % map
      const n = Number(line);
      pushTable(L, "map");
      lua.lua_createtable(L, 0, n);
      for (let i = 0; i < n; i++) {
        pushReply(L, cur);
        pushReply(L, cur);
        lua.lua_settable(L, -3);
      }
      lua.lua_settable(L, -3);
      return;
    }
    case 126: { // ~ set
      const n = Number(line);
      pushTable(L, "set");
      lua.lua_createtable(L, 0, n);
      for (let i = 0; i < n; i++) {
        pushReply(L, cur);
        lua.lua_pushboolean(L, true);
        lua.lua_settable(L, -3);
      }
      lua.lua_settable(L, -3);
      return;
    }
    case 95: // _ null
      lua.lua_pushnil(L);
      return;
    case 35: // # bool
      lua.lua_pushboolean(L, line === "t");
      return;
    case 44: // , double
      pushTable(L, "double");
      lua.lua_pushnumber(L, parseRespDouble(line));
      lua.lua_settable(L, -3);
      return;
    case 40: // ( big number
      pushTable(L, "big_number");
      pushStr(L, line);
      lua.lua_settable(L, -3);
      return;
    case 61: { // = verbatim
      const s = cur.bytes(Number(line));
      pushTable(L, "verbatim_string");
      lua.lua_createtable(L, 0, 2);
      pushStr(L, s.slice(0, 3));
      lua.lua_setfield(L, -2, ls("format"));
      pushStr(L, s.slice(4));
      lua.lua_setfield(L, -2, ls("string"));
      lua.lua_settable(L, -3);
      return;
    }
    case 124: { // | attribute: not shown to scripts, the reply that follows is
      const n = Number(line);
      for (let i = 0; i < 2 * n; i++) {
        pushReply(L, cur);
        lua.lua_pop(L, 1);
      }
      pushReply(L, cur);
      return;
    }
    default:
      lua.lua_pushnil(L);
  }
}

function pushNumberString(L: LuaState, s: string): void {
  const n = Number(s);
  // fengari's integers are 32-bit: wider values are pushed as (exact) floats
  if ((n | 0) === n) lua.lua_pushinteger(L, n);
  else lua.lua_pushnumber(L, n);
}

function parseRespDouble(s: string): number {
  if (s === "inf") return Infinity;
  if (s === "-inf") return -Infinity;
  return Number(s);
}
