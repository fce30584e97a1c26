/**
 * The encoding thresholds the data-type commands consult on every write
 * (hash-max-listpack-*, zset-max-listpack-*, set-max-intset-entries, stream-node-max-*),
 * parsed once per server and refreshed by CONFIG SET, instead of a config lookup and a
 * number parse per command.
 */
import type { Client } from "../client.ts";
import type { Config } from "../config.ts";
import type { HashLimits } from "../store/hash.ts";
import type { ZSetLimits } from "../store/zset.ts";

/** The thresholds of one server's configuration (objects are updated in place). */
export interface EncodingLimits {
  readonly hash: HashLimits;
  readonly zset: ZSetLimits;
  /** set-max-intset-entries */
  setMaxIntset: number;
  /** stream-node-max-entries */
  streamNodeMaxEntries: number;
  /** stream-node-max-bytes */
  streamNodeMaxBytes: number;
}

const WATCHED = new Set([
  "hash-max-listpack-entries",
  "hash-max-listpack-value",
  "zset-max-listpack-entries",
  "zset-max-listpack-value",
  "set-max-intset-entries",
  "stream-node-max-entries",
  "stream-node-max-bytes",
]);

function load(config: Config, into: EncodingLimits): void {
  into.hash.maxEntries = config.num("hash-max-listpack-entries");
  into.hash.maxValue = config.num("hash-max-listpack-value");
  into.zset.maxEntries = config.num("zset-max-listpack-entries");
  into.zset.maxValue = config.num("zset-max-listpack-value");
  into.setMaxIntset = config.num("set-max-intset-entries");
  into.streamNodeMaxEntries = config.num("stream-node-max-entries");
  into.streamNodeMaxBytes = config.num("stream-node-max-bytes");
}

const byConfig = new WeakMap<Config, EncodingLimits>();
// most processes run one server: its limits are found without a WeakMap lookup
let lastConfig: Config | null = null;
let lastLimits: EncodingLimits | null = null;

/** The encoding thresholds of the client's server. */
export function encodingLimits(c: Client): EncodingLimits {
  const config = c.server.config;
  if (config === lastConfig) return lastLimits!;
  let limits = byConfig.get(config);
  if (limits === undefined) {
    const created: EncodingLimits = {
      hash: { maxEntries: 0, maxValue: 0 },
      zset: { maxEntries: 0, maxValue: 0 },
      setMaxIntset: 0,
      streamNodeMaxEntries: 0,
      streamNodeMaxBytes: 0,
    };
    load(config, created);
    config.onChange((name) => {
      if (WATCHED.has(name)) load(config, created);
    });
    byConfig.set(config, created);
    limits = created;
  }
  lastConfig = config;
  lastLimits = limits;
  return limits;
}
