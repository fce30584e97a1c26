/**
 * The script that runs past busy-reply-threshold (Redis: isInsideYieldingLongCommand).
 * While one is set, dispatch refuses every command without the allow_busy flag with
 * the BUSY error. Kept free of imports so dispatch can depend on it cheaply.
 */

/** The server whose script is busy and the BUSY error its clients get. */
let busy: { server: object; error: string } | null = null;

/** Marks `server` busy with a script (error: the BUSY reply), or clears it (null). */
export function setBusyScript(server: object, error: string | null): void {
  busy = error === null ? (busy?.server === server ? null : busy) : { server, error };
}

/** The BUSY error for commands sent to `server` now, or null when no script is busy. */
export function busyScriptError(server: object): string | null {
  return busy !== null && busy.server === server ? busy.error : null;
}
