/**
 * Side-by-side comparison with a real redis-server: the same commands go to Redeno
 * and to Redis, and the decoded replies must be equal.
 */
import assert from "node:assert/strict";
import { HAVE_REDIS, type Reply, RespClient, startRealRedis, startRedeno } from "./helpers.ts";

/** Two connected clients: ours and the real Redis's. */
export interface Pair {
  ours: RespClient;
  real: RespClient;
  /** sends one command to both; asserts equal replies and returns ours */
  same(...args: Array<string | number>): Promise<Reply>;
  /** sends one command to both and returns both replies without comparing */
  both(...args: Array<string | number>): Promise<[Reply, Reply]>;
}

/** Runs `body` with a Redeno and a real Redis started side by side. */
export async function withPair(
  body: (p: Pair) => Promise<void>,
  args: string[] = [],
): Promise<void> {
  const t = await startRedeno(args);
  const clients: RespClient[] = [];
  try {
    const r = await startRealRedis(args);
    try {
      const ours = await RespClient.connect(t.port);
      clients.push(ours);
      const real = await RespClient.connect(r.port);
      clients.push(real);
      await body({
        ours,
        real,
        async same(...cmd) {
          const [a, b] = await Promise.all([ours.call(...cmd), real.call(...cmd)]);
          assert.deepEqual(a, b, `reply to ${JSON.stringify(cmd)}`);
          return a;
        },
        async both(...cmd) {
          return await Promise.all([ours.call(...cmd), real.call(...cmd)]);
        },
      });
    } finally {
      for (const c of clients) c.close();
      await r.stop();
    }
  } finally {
    await t.stop();
  }
}

/** Whether side-by-side tests can run (they are ignored without redis-server). */
export const IGNORE_SIDE_BY_SIDE = !HAVE_REDIS;

/** A command, optionally with "sort" to compare unordered array replies. */
export type Step = Array<string | number> | { cmd: Array<string | number>; sort: true };

function normalise(r: Reply, sort: boolean): unknown {
  const plain = (x: unknown): unknown =>
    x instanceof Set
      ? { set: [...x].map(plain).sort() }
      : x instanceof Map
      ? { map: [...x].map(([k, v]) => [plain(k), plain(v)]) }
      : Array.isArray(x)
      ? x.map(plain)
      : typeof x === "bigint"
      ? `${x}n`
      : x;
  const p = plain(r);
  return sort && Array.isArray(p) ? [...p].sort() : p;
}

/**
 * Sends every step to both servers in order and returns the mismatches (empty when
 * every reply was identical).
 */
export async function compareSteps(p: Pair, steps: Step[]): Promise<string[]> {
  const out: string[] = [];
  for (const s of steps) {
    const cmd = Array.isArray(s) ? s : s.cmd;
    const sort = !Array.isArray(s);
    const [a, b] = await p.both(...cmd);
    const na = JSON.stringify(normalise(a, sort));
    const nb = JSON.stringify(normalise(b, sort));
    if (na !== nb) out.push(`${JSON.stringify(cmd)}: redeno ${na} redis ${nb}`);
  }
  return out;
}

/**
 * Runs `scenario` against a fresh Redeno, then against a fresh real redis-server (both
 * started with `args` and always stopped), asserts both results are deep-equal and
 * returns Redeno's.
 */
export async function sameOnBoth<T>(
  scenario: (port: number) => Promise<T>,
  args: string[] = [],
): Promise<T> {
  const t = await startRedeno(args);
  try {
    const r = await startRealRedis(args);
    try {
      const ours = await scenario(t.port);
      assert.deepEqual(ours, await scenario(r.port));
      return ours;
    } finally {
      await r.stop();
    }
  } finally {
    await t.stop();
  }
}
