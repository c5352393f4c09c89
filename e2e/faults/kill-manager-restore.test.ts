/**
 * The manager SIGKILLed at each named crash window of a restore (src/crash-windows.ts), then a fresh
 * manager: the restore succeeds with one Job, and the invariants hold (e2e/faults/invariants.ts: the
 * target holds every point, the alias is on it, no snapshot left, the bucket as the backup left it).
 *
 * - restore.job-created-before-status: the next manager finds restore-<name>-1 and adopts it (it creates
 *   no Job of its own);
 * - restore.alias-switched-before-status: the alias already moved; the next manager decides Complete
 *   again, re-points it (idempotent) and writes Succeeded.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { apply, world } from "../helpers/backup-world.ts";
import { backedUp, cleanupOnQdrant, restoreJobs, restoreObj, waitForRestorePhase } from "../helpers/restore-world.ts";
import { assertInvariants, worldScope } from "./invariants.ts";
import { managerDyingAt } from "./kill-harness.ts";

test("restore.job-created-before-status: the next manager adopts the Job; one Job, the target whole", async (t) => {
  const w = await world(t, "fault-r-created");
  const b = await backedUp(w);
  const target = `${w.collection}_r1`;
  cleanupOnQdrant(t, w.qdrant.url, w.apiKey, [target]);
  const { takeOver } = await managerDyingAt(t, w, "restore.job-created-before-status");
  await apply(w.ns, [restoreObj("r", { backupRef: { name: b.name } }, { target: { collection: target } })]);
  const next = await takeOver();
  const done = await waitForRestorePhase(w.ns, "r", "Succeeded", 150_000);
  assert.equal(done.status?.jobName, "restore-r-1");
  assert.deepEqual((await restoreJobs(w.ns)).map((j) => j.metadata.name), ["restore-r-1"], "one Job");
  assert.doesNotMatch(await next.log(), /Created restore Job/, "the fresh manager created no Job");
  await assertInvariants(worldScope(w, [w.collection, target], { aliases: [] }));
});

test("restore.alias-switched-before-status: the next manager re-points the alias once more and writes Succeeded", async (t) => {
  const w = await world(t, "fault-r-alias");
  const b = await backedUp(w);
  const target = `${w.collection}_r2`;
  const alias = `${w.collection}_live`;
  cleanupOnQdrant(t, w.qdrant.url, w.apiKey, [target], [alias]);
  const { takeOver } = await managerDyingAt(t, w, "restore.alias-switched-before-status");
  await apply(w.ns, [restoreObj("r", { backupRef: { name: b.name } }, { target: { collection: target, alias } })]);
  await takeOver();
  const done = await waitForRestorePhase(w.ns, "r", "Succeeded", 150_000);
  assert.equal(done.status?.targetCollection, target);
  assert.deepEqual((await restoreJobs(w.ns)).map((j) => j.metadata.name), ["restore-r-1"], "one Job");
  await assertInvariants(worldScope(w, [w.collection, target], { aliases: [{ alias, collection: target, points: 20 }] }));
});
