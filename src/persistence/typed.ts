/**
 * Construction of set and sorted-set values from loaded data, with the encoding Redis
 * gives a loaded value under the current limits (OBJECT ENCODING after a reload).
 */
import type { Server } from "../server.ts";
import type { Value } from "../store/db.ts";
import { SetValue } from "../store/set.ts";
import { ZSetValue } from "../store/zset.ts";

/** A set value holding `members`. */
export function makeSet(server: Server, members: string[]): Value {
  return SetValue.from(members, server.config.num("set-max-intset-entries"));
}

/** A sorted set holding `entries` ([member, score]). */
export function makeZset(server: Server, entries: Array<[string, number]>): Value {
  return ZSetValue.from(entries, {
    maxEntries: server.config.num("zset-max-listpack-entries"),
    maxValue: server.config.num("zset-max-listpack-value"),
  });
}
