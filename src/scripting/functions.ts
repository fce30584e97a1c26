/**
 * Redis Functions (Redis: functions.c and function_lua.c): the library registry, loading
 * a library's code (which registers its functions through redis.register_function),
 * and the FUNCTION DUMP / RESTORE payload (RDB_OPCODE_FUNCTION2 records + footer).
 */
import { lauxlib, lua } from "./fengari.ts";
import { applyFlag, noFlags, openLogApi, openRedisApi, type ScriptFlags } from "./engine.ts";
import { ls, type LuaState, raiseError, setFn, toStr, Vm } from "./vm.ts";
import { errorInfo } from "./convert.ts";
import { RdbEncoder } from "../persistence/rdb_format.ts";
import { RdbDecoder } from "../persistence/rdb_reader.ts";
import { Crc64 } from "../persistence/crc64.ts";
import { binaryToBytes, bytesToBinary } from "../resp/bytes.ts";

/** One registered function. */
export interface FunctionInfo {
  name: string;
  library: Library;
  /** registry ref of the callback in the functions VM */
  ref: number;
  description: string | null;
  flags: ScriptFlags;
}

/** One library (FUNCTION LOAD unit). */
export interface Library {
  name: string;
  code: string;
  functions: Map<string, FunctionInfo>;
}

const RDB_OPCODE_FUNCTION2 = 245;
const LOAD_TIMEOUT_MS = 500;
const RDB_VERSION = 10;
const NAME_RE = /^[A-Za-z0-9_]+$/;
const NAME_ERROR =
  "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/** The function libraries of a server and the Lua state they run in. */
export class FunctionRegistry {
  readonly libraries = new Map<string, Library>();
  readonly functions = new Map<string, FunctionInfo>();
  readonly vm: Vm;
  /** registry ref of the table that is the globals while a library loads */
  readonly #loadApi: number;
  /** functions registered by the library being loaded (null: not loading) */
  #pending: Map<string, FunctionInfo> | null = null;
  #pendingLib: Library | null = null;

  constructor() {
    this.vm = new Vm(openRedisApi);
    const L = this.vm.L;
    // while a library loads its globals are only `redis` with register_function, log
    // and the version (Redis: the library API table)
    lua.lua_createtable(L, 0, 1);
    lua.lua_createtable(L, 0, 8);
    setFn(L, "register_function", (L) => this.#registerFunction(L));
    openLogApi(L);
    lua.lua_setfield(L, -2, ls("redis"));
    this.#loadApi = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    this.#protectLoadApi();
  }

  #protectLoadApi(): void {
    const L = this.vm.L;
    const code = `
      local api = ...
      local error, tostring, rawget, rawset, setmetatable = error, tostring, rawget, rawset, setmetatable
      local function readonly() error('Attempt to modify a readonly table', 2) end
      local function missing(_, k)
        error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
      end
      local redis = api.redis
      local p = {}
      setmetatable(p, {__index = function(_, k)
        local v = rawget(redis, k)
        if v == nil then
          error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
        end
        return v
      end,
        __newindex = readonly, __metatable = false})
      rawset(api, 'redis', p)
      setmetatable(api, {__index = missing})
    `;
    lauxlib.luaL_loadbuffer(L, ls(code), null, ls("=protect"));
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.#loadApi);
    lua.lua_call(L, 1, 0);
  }

  /** Switches the globals' lookup between the load-time API and the full globals. */
  #setGlobalsIndex(loading: boolean): void {
    const L = this.vm.L;
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.vm.proxyMeta);
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, loading ? this.#loadApi : this.vm.globals);
    lua.lua_setfield(L, -2, ls("__index"));
    lua.lua_pop(L, 1);
  }

  #registerFunction(L: LuaState): number {
    const pending = this.#pending;
    if (pending === null) {
      return raiseError(L, "redis.register_function can only be called on FUNCTION LOAD command");
    }
    const argc = lua.lua_gettop(L);
    let name: string | null = null;
    let description: string | null = null;
    const flags = noFlags();
    if (argc === 1) {
      if (lua.lua_type(L, 1) !== lua.LUA_TTABLE) {
        return raiseError(
          L,
          "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).",
        );
      }
      lua.lua_pushnil(L);
      lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, ls("__pending_callback"));
      lua.lua_pushnil(L);
      while (lua.lua_next(L, 1) !== 0) {
        if (lua.lua_type(L, -2) !== lua.LUA_TSTRING) {
          return raiseError(
            L,
            "named argument key given to redis.register_function is not a string",
          );
        }
        const key = toStr(L, -2);
        if (key === "function_name") {
          if (lua.lua_type(L, -1) !== lua.LUA_TSTRING) {
            return raiseError(
              L,
              "function_name argument given to redis.register_function must be a string",
            );
          }
          name = toStr(L, -1);
        } else if (key === "description") {
          if (lua.lua_type(L, -1) !== lua.LUA_TSTRING) {
            return raiseError(
              L,
              "description argument given to redis.register_function must be a string",
            );
          }
          description = toStr(L, -1);
        } else if (key === "callback") {
          if (lua.lua_type(L, -1) !== lua.LUA_TFUNCTION) {
            return raiseError(
              L,
              "callback argument given to redis.register_function must be a function",
            );
          }
          lua.lua_pushvalue(L, -1);
          lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, ls("__pending_callback"));
        } else if (key === "flags") {
          if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) {
            return raiseError(
              L,
              "flags argument to redis.register_function must be a table representing function flags",
            );
          }
          for (let i = 1;; i++) {
            lua.lua_rawgeti(L, -1, i);
            if (lua.lua_type(L, -1) === lua.LUA_TNIL) {
              lua.lua_pop(L, 1);
              break;
            }
            if (lua.lua_type(L, -1) !== lua.LUA_TSTRING || !applyFlag(flags, toStr(L, -1))) {
              return raiseError(L, "unknown flag given");
            }
            lua.lua_pop(L, 1);
          }
        } else {
          return raiseError(L, "unknown argument given to redis.register_function");
        }
        lua.lua_pop(L, 1);
      }
      if (name === null) {
        return raiseError(L, "redis.register_function must get a function name argument");
      }
      lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, ls("__pending_callback"));
      if (lua.lua_type(L, -1) !== lua.LUA_TFUNCTION) {
        return raiseError(L, "redis.register_function must get a callback argument");
      }
      lua.lua_pushnil(L);
      lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, ls("__pending_callback"));
    } else if (argc === 2) {
      if (lua.lua_type(L, 1) !== lua.LUA_TSTRING) {
        return raiseError(L, "first argument to redis.register_function must be a string");
      }
      if (lua.lua_type(L, 2) !== lua.LUA_TFUNCTION) {
        return raiseError(L, "second argument to redis.register_function must be a function");
      }
      name = toStr(L, 1);
      lua.lua_pushvalue(L, 2);
    } else {
      return raiseError(L, "wrong number of arguments to redis.register_function");
    }
    if (!NAME_RE.test(name)) {
      lua.lua_pop(L, 1);
      return raiseError(L, NAME_ERROR);
    }
    if ([...pending.keys()].some((n) => n.toLowerCase() === name!.toLowerCase())) {
      lua.lua_pop(L, 1);
      return raiseError(L, "Function already exists in the library");
    }
    const ref = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    pending.set(name, { name, library: this.#pendingLib!, ref, description, flags });
    return 0;
  }

  /**
   * Loads a library from its code (FUNCTION LOAD, RDB, RESTORE). Returns the library
   * name, or Redis's error (with its "ERR " code). With `replace` an existing library of
   * that name is replaced; `commit` false only validates (RESTORE checks all first).
   */
  load(code: string, replace: boolean): string | { error: string } {
    const parsed = parseLibraryHeader(code);
    if (typeof parsed !== "string") return parsed;
    const libName = parsed;
    const existing = this.libraries.get(libName);
    if (existing !== undefined && !replace) {
      return { error: `ERR Library '${libName}' already exists` };
    }
    const lib: Library = { name: libName, code, functions: new Map() };
    const compiled = this.vm.compile(stripShebang(code), "@user_function");
    if (typeof compiled === "string") {
      return { error: `ERR Error compiling function: ${compiled}` };
    }
    this.#pending = lib.functions;
    this.#pendingLib = lib;
    this.#setGlobalsIndex(true);
    let ok: boolean;
    // a library's load run is limited to 500 ms (Redis: LOAD_TIMEOUT_MS)
    const deadline = performance.now() + LOAD_TIMEOUT_MS;
    lua.lua_sethook(
      this.vm.L,
      (L: LuaState) => {
        if (performance.now() > deadline) raiseError(L, "FUNCTION LOAD timeout");
      },
      lua.LUA_MASKCOUNT,
      10000,
    );
    try {
      ok = this.vm.pcall(compiled, () => 0);
    } finally {
      lua.lua_sethook(this.vm.L, null, 0, 0);
      this.#setGlobalsIndex(false);
      this.#pending = null;
      this.#pendingLib = null;
      this.vm.unref(compiled);
    }
    const L = this.vm.L;
    if (!ok) {
      const msg = lua.lua_type(L, -1) === lua.LUA_TTABLE ? errorInfo(L).msg : toStr(L, -1);
      lua.lua_settop(L, 0);
      this.#dropFunctions(lib);
      return { error: `ERR Error registering functions: ${msg}` };
    }
    lua.lua_settop(L, 0);
    if (lib.functions.size === 0) {
      return { error: "ERR No functions registered" };
    }
    for (const name of lib.functions.keys()) {
      const other = this.functions.get(name.toLowerCase());
      if (other !== undefined && other.library.name !== libName) {
        this.#dropFunctions(lib);
        return { error: `ERR Function ${name} already exists` };
      }
    }
    if (existing !== undefined) this.delete(libName);
    this.libraries.set(libName, lib);
    for (const f of lib.functions.values()) this.functions.set(f.name.toLowerCase(), f);
    return libName;
  }

  #dropFunctions(lib: Library): void {
    for (const f of lib.functions.values()) this.vm.unref(f.ref);
  }

  /** Deletes a library; false when there is none of that name. */
  delete(name: string): boolean {
    const lib = this.libraries.get(name);
    if (lib === undefined) return false;
    for (const f of lib.functions.values()) this.functions.delete(f.name.toLowerCase());
    this.#dropFunctions(lib);
    this.libraries.delete(name);
    return true;
  }

  /** Deletes every library (FUNCTION FLUSH). */
  flush(): void {
    for (const name of [...this.libraries.keys()]) this.delete(name);
  }

  /** The codes of every library, for RDB FUNCTION2 records. */
  codes(): string[] {
    return [...this.libraries.values()].map((l) => l.code);
  }

  /** FUNCTION DUMP's payload: FUNCTION2 records, RDB version and CRC64 (like DUMP). */
  dump(): Uint8Array {
    const enc = new RdbEncoder(true);
    for (const lib of this.libraries.values()) {
      enc.byte(RDB_OPCODE_FUNCTION2);
      enc.string(lib.code);
    }
    enc.byte(RDB_VERSION & 0xff);
    enc.byte(RDB_VERSION >> 8);
    const body = enc.view().slice();
    const crc = new Crc64();
    crc.update(body);
    const out = new Uint8Array(body.length + 8);
    out.set(body);
    out.set(crc.digestBytes(), body.length);
    return out;
  }

  /**
   * FUNCTION RESTORE: applies a dump with policy FLUSH, APPEND or REPLACE. Returns null
   * or Redis's error; on error nothing changes.
   */
  restore(payload: string, policy: "flush" | "append" | "replace"): string | null {
    const codes = parseFunctionsPayload(binaryToBytes(payload));
    if (typeof codes === "string") return codes;
    const saved = [...this.libraries.values()].map((l) => l.code);
    if (policy === "flush") this.flush();
    const error = this.#loadAll(codes, policy);
    if (error === null) return null;
    // roll back to the libraries as they were
    this.flush();
    for (const code of saved) this.load(code, true);
    return error;
  }

  #loadAll(codes: string[], policy: "flush" | "append" | "replace"): string | null {
    for (const code of codes) {
      const name = parseLibraryHeader(code);
      if (typeof name !== "string") return name.error;
      if (policy === "append" && this.libraries.has(name)) {
        return `ERR Library ${name} already exists`;
      }
      const r = this.load(code, policy === "replace");
      if (typeof r !== "string") return r.error;
    }
    return null;
  }
}

/** Decodes a FUNCTION DUMP payload to library codes, or Redis's error. */
export function parseFunctionsPayload(payload: Uint8Array): string[] | string {
  const bad = "ERR DUMP payload version or checksum are wrong";
  if (payload.length < 10) return bad;
  const footer = payload.length - 10;
  const version = payload[footer] | (payload[footer + 1] << 8);
  if (version > RDB_VERSION) return bad;
  const crc = new Crc64();
  crc.update(payload.subarray(0, footer + 2));
  const got = crc.digestBytes();
  const expected = payload.subarray(footer + 2);
  if (got.some((b, i) => b !== expected[i])) return bad;
  const d = new RdbDecoder(payload.subarray(0, footer));
  const codes: string[] = [];
  try {
    while (d.pos < footer) {
      const op = d.byte();
      if (op !== RDB_OPCODE_FUNCTION2) return "ERR given type is not a function";
      codes.push(bytesToBinary(d.stringBytes()));
    }
  } catch {
    return "ERR payload is not a valid functions dump";
  }
  return codes;
}

/** Parses "#!lua name=<lib>" (Redis: functionExtractLibMetaData); the name or an error. */
function parseLibraryHeader(code: string): string | { error: string } {
  if (!code.startsWith("#!")) return { error: "ERR Missing library metadata" };
  const nl = code.indexOf("\n");
  if (nl < 0) return { error: "ERR Invalid library metadata" };
  const parts = splitArgs(code.slice(0, nl));
  if (parts === null || parts.length === 0) return { error: "ERR Invalid library metadata" };
  const engine = parts[0].slice(2);
  let name: string | null = null;
  for (const p of parts.slice(1)) {
    if (p.slice(0, 5).toLowerCase() === "name=") {
      if (name !== null) {
        return { error: "ERR Invalid metadata value, name argument was given multiple times" };
      }
      name = p.slice(5);
      continue;
    }
    return { error: `ERR Invalid metadata value given: ${p}` };
  }
  if (name === null) return { error: "ERR Library name was not given" };
  if (engine.toLowerCase() !== "lua") return { error: `ERR Engine '${engine}' not found` };
  if (!NAME_RE.test(name)) return { error: `ERR ${NAME_ERROR}` };
  return name;
}

/** Splits like Redis's sdssplitargs (spaces, "double" and 'single' quotes); null if unbalanced. */
function splitArgs(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i])) i++;
    if (i >= line.length) break;
    let cur = "";
    let quote: string | null = null;
    for (; i < line.length; i++) {
      const ch = line[i];
      if (quote !== null) {
        if (ch === quote) {
          quote = null;
          if (i + 1 < line.length && !/\s/.test(line[i + 1])) return null;
        } else if (ch === "\\" && quote === '"' && i + 1 < line.length) cur += line[++i];
        else cur += ch;
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (/\s/.test(ch)) break;
      else cur += ch;
    }
    if (quote !== null) return null;
    out.push(cur);
  }
  return out;
}

/** The code after the shebang line, keeping the newline so line numbers stay. */
export function stripShebang(code: string): string {
  const nl = code.indexOf("\n");
  return nl < 0 ? "" : code.slice(nl);
}
