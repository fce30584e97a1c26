/** streams commands. */
import type { CommandSpec } from "./table.ts";

/** The streams command specs. */
export const commands: CommandSpec[] = [];
