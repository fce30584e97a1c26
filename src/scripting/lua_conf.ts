/**
 * fengari reads its luaconf from the FENGARICONF environment variable when it is first
 * loaded: integral floats print like Lua 5.1 ("3", not "3.0"), as Redis scripts expect.
 * Imported by fengari.ts before fengari itself.
 */
import process from "node:process";

process.env.FENGARICONF = JSON.stringify({ LUA_COMPAT_FLOATSTRING: true });
