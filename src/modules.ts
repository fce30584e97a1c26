/**
 * Wires the feature modules (persistence, replication, pub/sub, ACL...) into a server
 * through its hooks. One line per module keeps the picture of what is installed here.
 */
import type { Server } from "./server.ts";
import { installPubSub } from "./pubsub.ts";
import { installServerCore } from "./commands/server.ts";
import { installAcl } from "./acl_state.ts";
import { installPersistence } from "./persistence/mod.ts";
import { installReplication } from "./replication/mod.ts";
import { installEviction } from "./evict.ts";
import { installTracking } from "./tracking.ts";

/** Installs every feature module on a new server. */
export function installModules(server: Server): void {
  installServerCore(server);
  installAcl(server);
  installPersistence(server);
  installReplication(server);
  installPubSub(server);
  installEviction(server);
  installTracking(server);
}
