/** Builds the command table from every family module. */
import type { CommandSpec } from "./table.ts";
import { commands as connection } from "./connection.ts";
import { commands as strings } from "./strings.ts";
import { commands as keys } from "./keys.ts";
import { commands as server } from "./server.ts";
import { commands as transactions } from "./transactions.ts";
import { commands as lists } from "./lists.ts";
import { commands as hashes } from "./hashes.ts";
import { commands as sets } from "./sets.ts";
import { commands as zsets } from "./zsets.ts";
import { commands as geo } from "./geo.ts";
import { commands as hyperloglog } from "./hyperloglog.ts";
import { commands as bitops } from "./bitops.ts";
import { commands as sort } from "./sort.ts";
import { commands as streams } from "./streams.ts";
import { commands as pubsub } from "./pubsub.ts";
import { commands as acl } from "./acl.ts";
import { commands as persistence } from "./persistence.ts";
import { commands as migrate } from "./migrate.ts";
import { commands as replication } from "./replication.ts";
import { commands as scripting } from "./scripting.ts";
import { commands as lolwut } from "./lolwut.ts";
import { commands as cluster } from "./cluster.ts";
import { commands as module } from "./module.ts";
import "./debug_object.ts";

/** Every command, keyed by lowercase name. */
export const COMMANDS: Map<string, CommandSpec> = new Map();

for (
  const family of [
    connection,
    strings,
    keys,
    server,
    transactions,
    lists,
    hashes,
    sets,
    zsets,
    geo,
    hyperloglog,
    bitops,
    sort,
    streams,
    pubsub,
    acl,
    persistence,
    migrate,
    replication,
    scripting,
    lolwut,
    cluster,
    module,
  ]
) {
  for (const spec of family) {
    if (COMMANDS.has(spec.name)) throw new Error(`duplicate command ${spec.name}`);
    COMMANDS.set(spec.name, spec);
  }
}
