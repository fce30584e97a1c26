/** geo commands. */
import type { CommandSpec } from "./table.ts";

/** The geo command specs. */
export const commands: CommandSpec[] = [];
