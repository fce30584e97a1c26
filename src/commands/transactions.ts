/** transactions commands. */
import type { CommandSpec } from "./table.ts";

/** The transactions command specs. */
export const commands: CommandSpec[] = [];
