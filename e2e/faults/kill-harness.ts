/**
 * What the kill loops share: a manager that SIGKILLs itself at one named crash window
 * (src/crash-windows.ts, through the failpoint of src/runtime/crash-point.ts), the wait for that death,
 * the fresh manager that takes over, the seed of the randomised loops, and how many rounds to run.
 *
 * The manager under test is started with QDRANT_OPERATOR_CRASH_AT in its environment, so the kill lands
 * on that very line (after the effect, before the status write that records it), not somewhere near it.
 */
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import type { TestContext } from "node:test";
import type { CrashWindowName } from "../../src/crash-windows.ts";
import { CRASH_AT_ENV } from "../../src/runtime/crash-point.ts";
import { startManager, type ManagerProcess } from "../../test/helpers/manager.ts";
import { eventually } from "../../test/helpers/testenv.ts";
import type { World } from "../helpers/backup-world.ts";

/** The line the failpoint logs as it kills. */
export const KILL_LINE = "Killing the process at crash point";

/**
 * Replaces the world's manager with one that dies at `window`; returns it and a function that waits for
 * the death (checking it was that window's kill) and starts the fresh manager in its place. `env` goes
 * to both (e.g. a clock offset).
 */
export async function managerDyingAt(t: TestContext, w: World, window: CrashWindowName, env: Record<string, string> = {}): Promise<{ dying: ManagerProcess; takeOver: () => Promise<ManagerProcess> }> {
  await w.manager.stop();
  const dying = await startManager(t, [w.ns], [], { env: { ...env, [CRASH_AT_ENV]: window } });
  return {
    dying,
    async takeOver() {
      await diedAt(dying, window);
      const next = await startManager(t, [w.ns], [], { env });
      w.manager = next;
      return next;
    },
  };
}

/** Waits until `m` died of SIGKILL, and checks its last words name `window`. */
export async function diedAt(m: ManagerProcess, window: CrashWindowName, timeoutMs = 120_000): Promise<void> {
  await eventually(`the manager to die at ${window}`, () => Promise.resolve(m.child.signalCode !== null || m.child.exitCode !== null ? true : undefined), timeoutMs);
  const log = await m.log();
  assert.equal(m.child.signalCode, "SIGKILL", `the manager exited ${m.child.exitCode ?? m.child.signalCode}, not by the crash point:\n${log.slice(-3000)}`);
  assert.ok(log.includes(KILL_LINE) && log.includes(`"point":"${window}"`), `killed by the failpoint at ${window}`);
}

/**
 * Rounds of a randomised loop: FAULT_ROUNDS when set (the long run), else `quick` (what `npm test` runs).
 */
export function rounds(quick: number): number {
  const n = Number(process.env.FAULT_ROUNDS);
  return Number.isInteger(n) && n > 0 ? n : quick;
}

/** A small deterministic PRNG (mulberry32), so a printed seed replays the same delays. */
export function prng(seed: number): (maxExclusive: number) => number {
  let a = seed >>> 0;
  return (max) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return Math.floor((((x ^ (x >>> 14)) >>> 0) / 4294967296) * max);
  };
}

/** FAULT_SEED when set (to replay a failure), else a fresh one; printed as the test's diagnostic. */
export function seedFor(t: TestContext): number {
  const given = Number(process.env.FAULT_SEED);
  const seed = Number.isInteger(given) && process.env.FAULT_SEED !== "" ? given : randomInt(2 ** 31);
  t.diagnostic(`FAULT_SEED=${seed} (set it to replay this run's timing)`);
  return seed;
}
