/** server commands. */
import type { CommandSpec } from "./table.ts";

/** The server command specs. */
export const commands: CommandSpec[] = [];
