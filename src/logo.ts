/**
 * The start-up banner (Redis: the "Redis is starting" lines and redisAsciiArt): the
 * version line, then a logo with the port and PID, which Redis's test suite waits for
 * (" PID: <pid>") before it talks to a server it spawned.
 */
import type { Server } from "./server.ts";
import { REDIS_VERSION } from "./version.ts";

/** The lines Redis logs before anything else, tagged with the "C" (child/config) role. */
export function startingLines(): string[] {
  return [
    "oO0OoO0OoO0Oo Redeno is starting oO0OoO0OoO0Oo",
    `Redis version=${REDIS_VERSION}, bits=64, commit=00000000, modified=0, pid=${Deno.pid}, just started`,
    "Configuration loaded",
  ];
}

const ART = [
  "                     __                              ",
  "                    / _)                             ",
  "           _.----._/ /                               ",
  "          /         /                                ",
  "       __/ (  | (  |                                 ",
  "      /__.-'|_|--|_|                                 ",
  "     _________________                               ",
  "    |  ___   ___   ___ |                              ",
  "    | |___| |___| |___||                              ",
  "    |  ___   ___   ___ |                              ",
  "    | |___| |___| |___||                              ",
  "    |_________________|                              ",
];

/**
 * The logo with version, mode, port and PID beside it, as one block printed raw (Redis
 * prints it without the log prefix).
 */
export function logo(server: Server): string {
  const facts = [
    "",
    "",
    `Redeno ${REDIS_VERSION} (Redis ${REDIS_VERSION} compatible) 64 bit`,
    "",
    "Running in standalone mode",
    `Port: ${server.port}`,
    `PID: ${Deno.pid}`,
    "",
    "",
    "   A Redis-compatible server on Deno",
    "",
    "",
  ];
  return ART.map((line, i) => `${line}${facts[i] ?? ""}`.trimEnd()).join("\n") + "\n\n";
}

/**
 * Whether the logo is shown (Redis: always-show-logo, or a terminal on stdout with the
 * log going there); otherwise a one-line summary is logged instead.
 */
export function showLogo(server: Server): boolean {
  if (server.config.bool("always-show-logo")) return true;
  return server.config.get("logfile") === "" && Deno.stdout.isTerminal();
}
