/**
 * oom-score-adj (Redis's setOOMScoreAdj): writes /proc/self/oom_score_adj from
 * oom-score-adj-values by role (master, replica; the third value is for background
 * children, which Redeno does not fork), relative to the score found when it was enabled
 * ("yes"/"relative") or absolute. Disabling restores that score.
 */
import type { Server } from "./server.ts";

const PROC_FILE = "/proc/self/oom_score_adj";

function readScore(): number | null {
  try {
    return Number(Deno.readTextFileSync(PROC_FILE).trim());
  } catch {
    return null;
  }
}

function writeScore(server: Server, n: number): void {
  try {
    Deno.writeTextFileSync(PROC_FILE, `${n}\n`);
  } catch (e) {
    server.log("warning", `Unable to write oom_score_adj: ${(e as Error).message}`);
  }
}

/** Applies the setting now and whenever it, or the server's role, changes. */
export function installOomScoreAdj(server: Server): void {
  if (Deno.build.os !== "linux") return;
  /** the score before we changed it, while we have */
  let base: number | null = null;
  let watchingRole = false;
  const apply = () => {
    const mode = server.config.get("oom-score-adj");
    if (mode === "no") {
      if (base !== null) writeScore(server, base);
      base = null;
      return;
    }
    if (base === null) {
      base = readScore();
      if (base === null) return;
    }
    if (!watchingRole) watchRole();
    const values = server.config.get("oom-score-adj-values").split(" ").map(Number);
    let n = values[server.isReplica ? 1 : 0];
    if (mode !== "absolute") n += base;
    writeScore(server, Math.max(-1000, Math.min(1000, n)));
  };
  // a replica uses the second value: follow isReplica (an accessor only once enabled)
  const watchRole = () => {
    watchingRole = true;
    let replica = server.isReplica;
    Object.defineProperty(server, "isReplica", {
      configurable: true,
      enumerable: true,
      get: () => replica,
      set: (v: boolean) => {
        if (v === replica) return;
        replica = v;
        apply();
      },
    });
  };
  server.config.onChange((name) => {
    if (name === "oom-score-adj" || name === "oom-score-adj-values") apply();
  });
  if (server.config.get("oom-score-adj") !== "no") apply();
}
