/** sort commands. */
import type { CommandSpec } from "./table.ts";

/** The sort command specs. */
export const commands: CommandSpec[] = [];
