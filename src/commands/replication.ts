/** replication commands. */
import type { CommandSpec } from "./table.ts";

/** The replication command specs. */
export const commands: CommandSpec[] = [];
