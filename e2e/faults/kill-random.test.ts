/**
 * The kill loop with randomised timing: a backup, a restore of it behind an alias, and a copy rollout,
 * one after the other in one namespace, each interrupted by kills at random moments — the manager
 * SIGKILLed and a fresh one started, or the running Job's process SIGKILLed (a lost node) — then, once
 * it ended, every invariant (e2e/faults/invariants.ts) checked.
 *
 * The delays come from a seeded PRNG; the seed is printed as the test's diagnostic (FAULT_SEED=…) and
 * FAULT_SEED replays it. Rounds: 1 by default (what `npm test` runs: three scenarios, two kills each);
 * FAULT_ROUNDS=n runs n rounds (the long run), FAULT_KILLS=k kills per scenario (default 2).
 *
 * Job kills hit backup, restore and copy Jobs, in every run: a kill between a backup snapshot's create
 * and its marker (backup-job.snapshot-created-before-marker) is closed by the intent written before the
 * create, which the next pod resolves (src/backup/store/resolve-intent.ts).
 */
import { test, type TestContext } from "node:test";
import { kubectl } from "../../test/helpers/kubectl.ts";
import { startManager } from "../../test/helpers/manager.ts";
import { apply, backupObj, waitForPhase, world, type World } from "../helpers/backup-world.ts";
import { cleanupOnQdrant, restoreObj, waitForRestorePhase } from "../helpers/restore-world.ts";
import { applyRollout, blueGreen, rolloutObj, waitForRolloutPhase } from "../helpers/rollout-world.ts";
import { assertInvariants, unfinished, worldScope, type AliasExpectation } from "./invariants.ts";
import { prng, rounds, seedFor } from "./kill-harness.ts";

const KILLS = Number(process.env.FAULT_KILLS) > 0 ? Number(process.env.FAULT_KILLS) : 2;
/** The longest random wait before a kill: the scenarios take a few seconds each here. */
const MAX_DELAY_MS = 4000;

/** The pid of a running Job container in `ns`, if any (the node agent's containerID is local://<pid>). */
async function runningJobPid(ns: string): Promise<{ pod: string; pid: number } | undefined> {
  const pods = JSON.parse((await kubectl(["get", "pods", "-n", ns, "-o", "json"])).stdout) as {
    items: Array<{ metadata: { name: string }; status?: { containerStatuses?: Array<{ containerID?: string; state?: { running?: unknown } }> } }>;
  };
  for (const p of pods.items) {
    const c = p.status?.containerStatuses?.find((s) => s.state?.running && s.containerID?.startsWith("local://"));
    if (c) return { pod: p.metadata.name, pid: Number(c.containerID!.slice("local://".length)) };
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `KILLS` kills at random delays while the namespace has work in flight; each kills the manager (and
 * starts the next), or, when a Job's pod runs, that process. Returns what was done.
 */
async function killAtRandom(t: TestContext, w: World, next: (max: number) => number): Promise<string[]> {
  const done: string[] = [];
  for (let k = 0; k < KILLS; k++) {
    const delay = next(MAX_DELAY_MS);
    // A wait between kills is the point of this test (the timing is what is randomised), not readiness.
    await sleep(delay);
    if ((await unfinished(w.ns)).length === 0) break;
    const job = next(2) === 1 ? await runningJobPid(w.ns) : undefined;
    if (job) {
      try {
        process.kill(job.pid, "SIGKILL");
        done.push(`+${delay} ms: Job pod ${job.pod} killed`);
        continue;
      } catch {
        // It ended in between: kill the manager instead.
      }
    }
    w.manager.child.kill("SIGKILL");
    await w.manager.stop();
    w.manager = await startManager(t, [w.ns]);
    done.push(`+${delay} ms: manager killed`);
  }
  return done;
}

test("kills at random moments of a backup, a restore and a rollout: every invariant holds after each", async (t) => {
  const seed = seedFor(t);
  const next = prng(seed);
  const w = await world(t, "fault-random");
  const collections = [w.collection];
  const aliases: AliasExpectation[] = [];
  const check = async (what: string, kills: string[]) => {
    t.diagnostic(`${what}: ${kills.join("; ") || "ended before any kill"}`);
    await assertInvariants(worldScope(w, collections, { aliases }), `seed ${seed}, ${what}`);
  };
  for (let round = 1; round <= rounds(1); round++) {
    await apply(w.ns, [backupObj(`b${round}`, { collections: { names: [w.collection] } })]);
    const bKills = await killAtRandom(t, w, next);
    await waitForPhase(w.ns, `b${round}`, "Succeeded", 240_000);
    await check(`round ${round} backup`, bKills);

    const target = `${w.collection}_rr${round}`;
    const alias = `${w.collection}_live${round}`;
    cleanupOnQdrant(t, w.qdrant.url, w.apiKey, [target], [alias]);
    collections.push(target);
    aliases.push({ alias, collection: target, points: 20 });
    await apply(w.ns, [restoreObj(`r${round}`, { backupRef: { name: `b${round}` } }, { target: { collection: target, alias } })]);
    const rKills = await killAtRandom(t, w, next);
    await waitForRestorePhase(w.ns, `r${round}`, "Succeeded", 240_000);
    await check(`round ${round} restore`, rKills);

    const bg = await blueGreen(t, w, `v${round}`);
    collections.push(bg.green);
    aliases.push({ alias: bg.alias, collection: bg.green, points: 20 });
    await applyRollout(w, rolloutObj(`v${round}`, bg.alias, bg.green, { source: { copyFrom: { batchSize: 5 } }, gates: { minPoints: 20, pointsWithinPercent: 0, timeout: "5m" } }));
    const cKills = await killAtRandom(t, w, next);
    await waitForRolloutPhase(w.ns, `v${round}`, "Promoted", 300_000);
    await check(`round ${round} rollout`, cKills);
  }
});
