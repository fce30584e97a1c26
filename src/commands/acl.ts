/** acl commands. */
import type { CommandSpec } from "./table.ts";

/** The acl command specs. */
export const commands: CommandSpec[] = [];
