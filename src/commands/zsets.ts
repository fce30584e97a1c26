/** zsets commands. */
import type { CommandSpec } from "./table.ts";

/** The zsets command specs. */
export const commands: CommandSpec[] = [];
