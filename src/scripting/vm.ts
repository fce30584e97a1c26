/**
 * The Lua VM glue (Redis: script_lua.c): one fengari (Lua 5.3 in JS) state per engine,
 * with the Lua 5.1 surface Redis scripts rely on, binary-safe strings (Lua strings are
 * byte arrays here: pushed and read as binary strings, never UTF-8), globals protection
 * and the error table format {err=..., source=..., line=...} Redis builds its errors from.
 */
import { lauxlib, lua, lualib } from "./fengari.ts";
import { binaryToBytes, bytesToBinary } from "../resp/bytes.ts";

// deno-lint-ignore no-explicit-any
export type LuaState = any;

const NAME_CACHE = new Map<string, Uint8Array>();

/** A Lua string for a name (field names, chunk names). */
export function ls(name: string): Uint8Array {
  let v = NAME_CACHE.get(name);
  if (v === undefined) NAME_CACHE.set(name, v = binaryToBytes(name));
  return v;
}

/** Pushes a binary string. */
export function pushStr(L: LuaState, s: string): void {
  lua.lua_pushlstring(L, binaryToBytes(s), s.length);
}

/** Reads the string (or number, converted) at `idx` as a binary string. */
export function toStr(L: LuaState, idx: number): string {
  const v = lua.lua_tolstring(L, idx);
  return v === null || v === undefined ? "" : bytesToBinary(v);
}

/** Registers a JS function as field `name` of the table at the top of the stack. */
export function setFn(L: LuaState, name: string, fn: (L: LuaState) => number): void {
  lua.lua_pushcfunction(L, fn);
  lua.lua_setfield(L, -2, ls(name));
}

/** Sets field `name` of the table at the top of the stack to a string. */
export function setStrField(L: LuaState, name: string, value: string): void {
  pushStr(L, value);
  lua.lua_setfield(L, -2, ls(name));
}

/** Sets field `name` of the table at the top of the stack to an integer. */
export function setIntField(L: LuaState, name: string, value: number): void {
  lua.lua_pushinteger(L, value);
  lua.lua_setfield(L, -2, ls(name));
}

/**
 * Pushes a Redis error table {err="CODE msg"} (Redis: luaPushErrorBuff). `counted`: the
 * error is already in errorstats (a command's error reply, a refused call), so the script's
 * final error reply must not count it again (Redis's ignore_error_stats_update field).
 */
export function pushErrorTable(L: LuaState, error: string, counted = false): void {
  let msg: string;
  let code: string;
  if (error.startsWith("-")) {
    const sp = error.indexOf(" ");
    if (sp < 0) {
      code = "ERR";
      msg = error.slice(1);
    } else {
      code = error.slice(1, sp);
      msg = error.slice(sp + 1);
    }
  } else {
    code = "ERR";
    msg = error;
  }
  msg = msg.replace(/^[\r\n]+|[\r\n]+$/g, "");
  lua.lua_createtable(L, 0, 1);
  setStrField(L, "err", `${code} ${msg}`);
  if (counted) markErrorCounted(L);
}

/** Sets ignore_error_stats_update=true on the error table at the top of the stack. */
export function markErrorCounted(L: LuaState): void {
  lua.lua_pushstring(L, ls(IGNORE_STATS));
  lua.lua_pushboolean(L, true);
  lua.lua_rawset(L, -3);
}

/** True if the error table at the top of the stack was already counted in errorstats. */
export function errorCounted(L: LuaState): boolean {
  lua.lua_pushstring(L, ls(IGNORE_STATS));
  lua.lua_rawget(L, -2);
  const counted = lua.lua_toboolean(L, -1);
  lua.lua_pop(L, 1);
  return counted;
}

const IGNORE_STATS = "ignore_error_stats_update";

/** Raises a Redis error table from a JS function (does not return to Lua). */
export function raiseError(L: LuaState, error: string): number {
  pushErrorTable(L, error);
  return lua.lua_error(L);
}

/** Lua source run at state creation: the error handler and globals protection. */
const PRELUDE = `
local dbg = debug
local err_handler = function (err)
  -- the first user code frame (skips JS functions and the protection metamethods)
  local level = 2
  local i = dbg.getinfo(level,'nSl')
  while i and ((i.what ~= 'Lua' and i.what ~= 'main') or i.source:sub(1, 1) == '=') do
    level = level + 1
    i = dbg.getinfo(level,'nSl')
  end
  if type(err) ~= 'table' then
    -- Lua 5.1's wording, which Redis users and tests match on
    local msg = string.gsub(tostring(err),
      "attempt to (%a+) a (%a+) value %(([fmlu]%a+) '(.-)'%)", "attempt to %1 %3 '%4' (a %2 value)")
    err = {err='ERR ' .. msg}
  end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end
return err_handler
`;

/** Field names of the library tables made read-only (Redis: luaSetTableProtectionRecursively). */
const PROTECTED_LIBS = [
  "string",
  "math",
  "table",
  "redis",
  "cjson",
  "bit",
  "debug",
  "cmsgpack",
  "struct",
];

/** A Lua state with Redis's base environment. */
export class Vm {
  readonly L: LuaState;
  /** registry ref of the error handler */
  readonly errHandler: number;
  /** registry ref of the real globals table */
  readonly globals: number;
  /** registry ref of the globals proxy's metatable (its __index is switched) */
  readonly proxyMeta: number;

  constructor(setup: (L: LuaState) => void) {
    const L = lauxlib.luaL_newstate();
    this.L = L;
    for (
      const [name, open] of [
        ["_G", lualib.luaopen_base],
        ["table", lualib.luaopen_table],
        ["string", lualib.luaopen_string],
        ["math", lualib.luaopen_math],
        ["debug", lualib.luaopen_debug],
      ] as const
    ) {
      lauxlib.luaL_requiref(L, ls(name), open, 1);
      lua.lua_pop(L, 1);
    }
    // Lua 5.1 names scripts use; functions Redis removes
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
    lua.lua_getfield(L, -1, ls("table"));
    lua.lua_getfield(L, -1, ls("unpack"));
    lua.lua_setfield(L, -3, ls("unpack"));
    lua.lua_pop(L, 1);
    for (const name of ["loadfile", "dofile", "loadstring", "require", "print"]) {
      lua.lua_pushnil(L);
      lua.lua_setfield(L, -2, ls(name));
    }
    setup(L);
    lua.lua_pop(L, 1);
    this.errHandler = this.#ref(PRELUDE);
    this.#runner = this.#ref(
      "local xp = xpcall; return function(h, f, ...) return xp(f, h, ...) end",
    );
    this.globals = this.#protectGlobals();
    this.proxyMeta = this.#lastProxyMeta;
  }

  #lastProxyMeta = 0;

  /** Whether the script running in this VM was killed (set by the engine). */
  killed: () => boolean = () => false;

  #ref(code: string): number {
    const L = this.L;
    if (lauxlib.luaL_loadbuffer(L, ls(code), null, ls("=prelude")) !== lua.LUA_OK) {
      throw new Error(toStr(L, -1));
    }
    lua.lua_call(L, 0, 1);
    return lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
  }

  /**
   * Replaces the globals table chunks see by a read-only proxy: reading a missing global
   * and assigning any global raise Redis's errors; library tables are proxied the same way.
   */
  #protectGlobals(): number {
    const L = this.L;
    const code = `
      local G, killed = ...
      local function readonly() error('Attempt to modify a readonly table', 2) end
      local protected = setmetatable({}, {__mode = 'k'})
      -- getmetatable() of a protected table gives a read-only view of its metatable
      local function view(meta)
        local v = {}
        setmetatable(v, {__index = meta, __newindex = readonly, __metatable = false})
        protected[v] = true
        return v
      end
      local function protect(t)
        local p = {}
        local meta = {__index = t, __newindex = readonly,
          __pairs = function() return next, t, nil end, __len = function() return #t end}
        meta.__metatable = view(meta)
        setmetatable(p, meta)
        protected[p] = true
        return p
      end
      local libs = {...}
      for i = 3, #libs do
        local name = libs[i]
        if type(G[name]) == 'table' then G[name] = protect(G[name]) end
      end
      -- a killed script's error must not be swallowed by the script's own pcall (the
      -- hook cannot raise it again: fengari leaves hooks off after a hook error)
      local rawpcall, rawxpcall, pack, unpack = pcall, xpcall, table.pack, table.unpack
      local function rethrow(r)
        if not r[1] and killed() then error(r[2], 0) end
        return unpack(r, 1, r.n)
      end
      G.pcall = function(...) return rethrow(pack(rawpcall(...))) end
      G.xpcall = function(...) return rethrow(pack(rawxpcall(...))) end
      local setmt, rawset_ = setmetatable, rawset
      G.setmetatable = function(t, mt)
        if protected[t] then error('Attempt to modify a readonly table', 2) end
        return setmt(t, mt)
      end
      G.rawset = function(t, k, v)
        if protected[t] then error('Attempt to modify a readonly table', 2) end
        return rawset_(t, k, v)
      end
      setmt(G, {__index = function(_, k)
        if k == 'loadstring' then return nil end
        error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
      end, __newindex = readonly, __metatable = false})
      protected[G] = true
      local proxy = {}
      local meta = {__index = G, __newindex = readonly,
        __pairs = function() return next, G, nil end}
      meta.__metatable = view(meta)
      setmt(proxy, meta)
      protected[proxy] = true
      rawset_(G, '_G', proxy)
      return proxy, meta
    `;
    if (lauxlib.luaL_loadbuffer(L, ls(code), null, ls("=protect")) !== lua.LUA_OK) {
      throw new Error(toStr(L, -1));
    }
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
    lua.lua_pushcfunction(L, (L: LuaState) => {
      lua.lua_pushboolean(L, this.killed());
      return 1;
    });
    for (const name of PROTECTED_LIBS) pushStr(L, name);
    lua.lua_call(L, 2 + PROTECTED_LIBS.length, 2);
    this.#lastProxyMeta = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    // the proxy becomes the globals table of every chunk loaded from now on
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
    const realGlobals = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    lua.lua_rawseti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
    return realGlobals;
  }

  /**
   * Starts the function of `ref` in a new coroutine, under xpcall with the error
   * handler, so that a count hook can yield it (busy scripts) and errors keep their
   * position. Returns the thread and the number of values to pass to resume().
   */
  startThread(
    ref: number,
    pushArgs: (L: LuaState) => number,
  ): { thread: LuaState; threadRef: number; nargs: number } {
    const L = this.L;
    const thread = lua.lua_newthread(L);
    const threadRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    lua.lua_rawgeti(thread, lua.LUA_REGISTRYINDEX, this.#runner);
    lua.lua_rawgeti(thread, lua.LUA_REGISTRYINDEX, this.errHandler);
    lua.lua_rawgeti(thread, lua.LUA_REGISTRYINDEX, ref);
    const nargs = pushArgs(thread);
    return { thread, threadRef, nargs: nargs + 2 };
  }

  readonly #runner: number;

  /** Sets a global array of strings (KEYS, ARGV) bypassing the protection. */
  setGlobalArray(name: string, items: string[]): void {
    const L = this.L;
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.globals);
    lua.lua_createtable(L, items.length, 0);
    for (let i = 0; i < items.length; i++) {
      pushStr(L, items[i]);
      lua.lua_rawseti(L, -2, i + 1);
    }
    pushStr(L, name);
    lua.lua_insert(L, -2);
    lua.lua_rawset(L, -3);
    lua.lua_pop(L, 1);
  }

  /**
   * Compiles `code` as chunk `chunkName`; returns a registry ref of the function or the
   * compile error message.
   */
  compile(code: string, chunkName: string): number | string {
    const L = this.L;
    const status = lauxlib.luaL_loadbuffer(L, binaryToBytes(code), code.length, ls(chunkName));
    if (status !== lua.LUA_OK) {
      const msg = toStr(L, -1);
      lua.lua_pop(L, 1);
      return msg;
    }
    return lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
  }

  /** Forgets a compiled function. */
  unref(ref: number): void {
    lauxlib.luaL_unref(this.L, lua.LUA_REGISTRYINDEX, ref);
  }

  /**
   * Calls the function of `ref` (with `nargs` arguments already pushed by `pushArgs`)
   * under the error handler. Returns true with the result at the top of the stack, or
   * false with the error value there. The caller pops it.
   */
  pcall(ref: number, pushArgs: (L: LuaState) => number): boolean {
    const L = this.L;
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.errHandler);
    const base = lua.lua_gettop(L);
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, ref);
    const nargs = pushArgs(L);
    const status = lua.lua_pcall(L, nargs, 1, base);
    lua.lua_remove(L, base);
    return status === lua.LUA_OK;
  }
}
