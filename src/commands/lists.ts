/** lists commands. */
import type { CommandSpec } from "./table.ts";

/** The lists command specs. */
export const commands: CommandSpec[] = [];
