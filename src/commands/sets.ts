/** sets commands. */
import type { CommandSpec } from "./table.ts";

/** The sets command specs. */
export const commands: CommandSpec[] = [];
