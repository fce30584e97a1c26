/**
 * CLUSTER, READONLY, READWRITE and ASKING as a standalone redis-server 7.0 (cluster
 * support disabled) has them: in the command table with Redis's flags (COMMAND INFO,
 * ACL categories, "not allowed from script" for CLUSTER RESET), each answering
 * "ERR This instance has cluster support disabled". Clients probe with CLUSTER INFO or
 * CLUSTER SLOTS and expect exactly that error from a server that is not a cluster.
 */
import type { Client } from "../client.ts";
import { cmd, type CommandSpec, container } from "./table.ts";

const DISABLED = "ERR This instance has cluster support disabled";

function disabled(c: Client): void {
  c.error(DISABLED);
}

const ADMIN = "admin stale no_async_loading";

/** [name, arity, flags] of CLUSTER's subcommands, as Redis 7.0 declares them. */
const SUBCOMMANDS: Array<[string, number, string]> = [
  ["addslots", -3, ADMIN],
  ["addslotsrange", -4, ADMIN],
  ["bumpepoch", 2, ADMIN],
  ["count-failure-reports", 3, "admin stale"],
  ["countkeysinslot", 3, "stale"],
  ["delslots", -3, ADMIN],
  ["delslotsrange", -4, ADMIN],
  ["failover", -2, ADMIN],
  ["flushslots", 2, ADMIN],
  ["forget", 3, ADMIN],
  ["getkeysinslot", 4, "stale"],
  ["help", 2, "loading stale"],
  ["info", 2, "stale"],
  ["keyslot", 3, "stale"],
  ["links", 2, "stale"],
  ["meet", -4, ADMIN],
  ["myid", 2, "stale"],
  ["nodes", 2, "stale"],
  ["replicas", 3, "admin stale"],
  ["replicate", 3, ADMIN],
  ["reset", -2, "admin noscript stale"],
  ["saveconfig", 2, ADMIN],
  ["set-config-epoch", 3, ADMIN],
  ["setslot", -4, ADMIN],
  ["shards", 2, "stale"],
  ["slaves", 3, "admin stale"],
  ["slots", 2, "stale"],
];

/** The cluster command specs. */
export const commands: CommandSpec[] = [
  container(
    "cluster",
    "cluster",
    -2,
    SUBCOMMANDS.map(([name, arity, flags]) => cmd("cluster", name, arity, flags, disabled)),
  ),
  cmd("cluster", "readonly", 1, "loading stale fast", disabled, { categories: ["connection"] }),
  cmd("cluster", "readwrite", 1, "loading stale fast", disabled, { categories: ["connection"] }),
  cmd("cluster", "asking", 1, "fast", disabled, { categories: ["connection"] }),
];
