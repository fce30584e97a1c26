/** keys commands. */
import type { CommandSpec } from "./table.ts";

/** The keys command specs. */
export const commands: CommandSpec[] = [];
