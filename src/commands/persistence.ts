/** persistence commands. */
import type { CommandSpec } from "./table.ts";

/** The persistence command specs. */
export const commands: CommandSpec[] = [];
