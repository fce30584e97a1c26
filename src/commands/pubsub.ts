/** pubsub commands. */
import type { CommandSpec } from "./table.ts";

/** The pubsub command specs. */
export const commands: CommandSpec[] = [];
