/**
 * The manager SIGKILLed at each named crash window of a rollout (src/crash-windows.ts), then a fresh
 * manager: the rollout ends Promoted with the alias on green, green whole (all of blue's 20 points), one
 * switch, and the invariants hold (e2e/faults/invariants.ts).
 *
 * - rollout.green-created-before-status: green exists with our stamp; the next manager adopts it (it
 *   creates no collection);
 * - rollout.job-created-before-status: the copy Job rollout-<name>-1 exists; the next manager adopts it
 *   (it creates no Job);
 * - rollout.restore-created-before-status (fromBackup): the rollout's QdrantRestore exists; the next
 *   manager adopts it;
 * - rollout.alias-switched-before-status: the alias is on green, the status says Validating; the next
 *   manager records Promoted without a second switch;
 * - rollout.alias-switched-back-before-status (a promoted rollout given `rollback: true`): the alias is
 *   on blue again, the status says Promoted; the next manager records RolledBack without a second switch.
 */
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { world } from "../helpers/backup-world.ts";
import { backedUp } from "../helpers/restore-world.ts";
import { applyRollout, assertOneSwitch, blueGreen, eventsWithReason, patchRolloutSpec, rolloutJobs, rolloutObj, waitForRolloutPhase } from "../helpers/rollout-world.ts";
import { assertInvariants, worldScope } from "./invariants.ts";
import { managerDyingAt } from "./kill-harness.ts";
import type { CrashWindowName } from "../../src/crash-windows.ts";

const COPY = { source: { copyFrom: { batchSize: 5 } }, gates: { minPoints: 20, pointsWithinPercent: 0, timeout: "5m" } };

async function copyRolloutKilledAt(t: TestContext, window: CrashWindowName, prefix: string): Promise<{ log: string }> {
  const w = await world(t, prefix);
  const bg = await blueGreen(t, w);
  const { takeOver } = await managerDyingAt(t, w, window);
  await applyRollout(w, rolloutObj("v2", bg.alias, bg.green, COPY));
  const next = await takeOver();
  await waitForRolloutPhase(w.ns, "v2", "Promoted", 240_000);
  assert.deepEqual((await rolloutJobs(w.ns)).map((j) => j.metadata.name), ["rollout-v2-1"], "one copy Job");
  await assertOneSwitch(w.ns, "v2", bg.alias, bg.green, bg.blue);
  await assertInvariants(worldScope(w, [bg.blue, bg.green], { aliases: [{ alias: bg.alias, collection: bg.green, points: 20 }] }));
  return { log: await next.log() };
}

test("rollout.green-created-before-status: the next manager adopts green by its stamp", async (t) => {
  const { log } = await copyRolloutKilledAt(t, "rollout.green-created-before-status", "fault-ro-green");
  assert.doesNotMatch(log, /Created collection/, "the fresh manager created no collection");
});

test("rollout.job-created-before-status: the next manager adopts the copy Job", async (t) => {
  const { log } = await copyRolloutKilledAt(t, "rollout.job-created-before-status", "fault-ro-job");
  assert.doesNotMatch(log, /Created Job/, "the fresh manager created no Job");
});

test("rollout.alias-switched-before-status: the next manager records Promoted without a second switch", async (t) => {
  const { log } = await copyRolloutKilledAt(t, "rollout.alias-switched-before-status", "fault-ro-switch");
  assert.match(log, /Found the alias switched to green before the status said so/);
});

test("rollout.restore-created-before-status: the next manager adopts the rollout's QdrantRestore", async (t) => {
  const w = await world(t, "fault-ro-restore");
  const bg = await blueGreen(t, w, "restored");
  const b = await backedUp(w, "v1-backup");
  const { takeOver } = await managerDyingAt(t, w, "rollout.restore-created-before-status");
  await applyRollout(w, rolloutObj("from-backup", bg.alias, bg.green, {
    source: { fromBackup: { source: { backupRef: { name: b.name } }, sourceCollection: bg.blue } },
    gates: { minPoints: 20, pointsWithinPercent: 0, timeout: "5m" },
  }));
  const next = await takeOver();
  const r = await waitForRolloutPhase(w.ns, "from-backup", "Promoted", 240_000);
  assert.equal(r.status?.restoreName, "rollout-from-backup");
  assert.doesNotMatch(await next.log(), /Created QdrantRestore/, "the fresh manager created no QdrantRestore");
  await assertOneSwitch(w.ns, "from-backup", bg.alias, bg.green, bg.blue);
  await assertInvariants(worldScope(w, [bg.blue, bg.green], { aliases: [{ alias: bg.alias, collection: bg.green, points: 20 }] }));
});

test("rollout.alias-switched-back-before-status: the next manager records RolledBack without a second switch", async (t) => {
  const w = await world(t, "fault-ro-back");
  const bg = await blueGreen(t, w);
  await applyRollout(w, rolloutObj("v2", bg.alias, bg.green, COPY));
  await waitForRolloutPhase(w.ns, "v2", "Promoted", 240_000);
  const { takeOver } = await managerDyingAt(t, w, "rollout.alias-switched-back-before-status");
  await patchRolloutSpec(w.ns, "v2", { rollback: true });
  const next = await takeOver();
  const r = await waitForRolloutPhase(w.ns, "v2", "RolledBack", 120_000);
  assert.equal(r.status?.previousCollection, bg.blue);
  const log = await next.log();
  assert.doesNotMatch(log, /Switched alias/, "the fresh manager made no second switch");
  assert.match(log, /"adopted":true[^\n]*"msg":"Rolled back"|"msg":"Rolled back"[^\n]*"adopted":true/, "it adopted the switch the killed manager made");
  const switched = await eventsWithReason(w.ns, "v2", "Switched", 2);
  assert.deepEqual(switched.map((e) => e.replace(/\.$/, "")).sort(), [`Switched: Switched alias ${bg.alias} to ${bg.blue} (from ${bg.green})`, `Switched: Switched alias ${bg.alias} to ${bg.green} (from ${bg.blue})`].sort(), "one Event per switch");
  await assertInvariants(worldScope(w, [bg.blue, bg.green], { aliases: [{ alias: bg.alias, collection: bg.blue, points: 20 }] }));
});
