/** hashes commands. */
import type { CommandSpec } from "./table.ts";

/** The hashes command specs. */
export const commands: CommandSpec[] = [];
