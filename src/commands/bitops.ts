/** bitops commands. */
import type { CommandSpec } from "./table.ts";

/** The bitops command specs. */
export const commands: CommandSpec[] = [];
