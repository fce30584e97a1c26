/** hyperloglog commands. */
import type { CommandSpec } from "./table.ts";

/** The hyperloglog command specs. */
export const commands: CommandSpec[] = [];
