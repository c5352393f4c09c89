/**
 * One collection out of a FullStorage backup (a peer's whole-storage archive): `sourceCollection` names it,
 * Auto becomes Upload (the Job takes the collection's snapshot out of the archive while streaming it), and
 * the restored collection holds the same points. An explicit Pull of such a backup is refused before
 * anything changes (MethodNotPossible: Qdrant cannot recover a collection from a storage archive).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { allPoints, apply, backupObj, waitForPhase, world } from "./helpers/backup-world.ts";
import { collectionNames, jobPlan, restoreJobs, restoreObj, waitForRefusal, waitForRestorePhase } from "./helpers/restore-world.ts";

test("a FullStorage backup's collection restores with identical points; Pull of it is MethodNotPossible", async (t) => {
  const w = await world(t, "e2e-restore-full", { ownEmulator: "a full-storage snapshot is of every collection of its Qdrant" });
  const { collections: _c, ...spec } = backupObj("full", { mode: "FullStorage" }).spec;
  await apply(w.ns, [{ ...backupObj("full", {}), spec }]);
  await waitForPhase(w.ns, "full", "Succeeded", 150_000);
  const original = await allPoints(w.qdrant.url, "policies", w.apiKey);

  await apply(w.ns, [restoreObj("pull-it", { backupRef: { name: "full" } }, { sourceCollection: "policies", method: "Pull", target: { collection: "policies_pulled" } })]);
  const refused = await waitForRefusal(w.ns, "pull-it", "MethodNotPossible");
  assert.match(refused.status?.conditions?.find((c) => c.type === "Ready")?.message ?? "", /spec\.method/);
  assert.deepEqual(await collectionNames(w.qdrant.url, w.apiKey), ["policies"], "nothing changed on Qdrant");

  await apply(w.ns, [restoreObj("one", { backupRef: { name: "full" } }, { sourceCollection: "policies", target: { collection: "policies_restored" } })]);
  const r = await waitForRestorePhase(w.ns, "one", "Succeeded", 150_000);
  assert.equal(r.status?.targetCollection, "policies_restored");
  assert.equal(r.status?.pointsCount?.actual, 20);
  assert.deepEqual(await allPoints(w.qdrant.url, "policies_restored", w.apiKey), original, "identical points");
  const job = (await restoreJobs(w.ns)).find((j) => j.metadata.name === "restore-one-1");
  assert.ok(job, "the restore ran as Job restore-one-1");
  assert.deepEqual([jobPlan(job).mode, jobPlan(job).method, jobPlan(job).sourceCollection], ["FullStorage", "Upload", "policies"], "Auto is Upload for an archive");
  assert.deepEqual(await collectionNames(w.qdrant.url, w.apiKey), ["policies", "policies_restored"]);
});
