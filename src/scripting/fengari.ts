/** The fengari Lua VM, configured by lua_conf.ts (imported first on purpose). */
import "./lua_conf.ts";
export { lauxlib, lua, lualib } from "fengari";
