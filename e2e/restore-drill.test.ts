/**
 * A drill end to end: policy Drill on a minute schedule restores the latest backup into a temporary
 * collection (`<sourceCollection>-drill-<first 8 hex of the restore's uid>`, recorded in
 * status.targetCollection), verifies it, deletes it, and publishes lastVerifiedTime, condition Verified
 * True, the Events and the metric qdrant_operator_restore_drill_last_verified_timestamp_seconds. A drill
 * restore deleted mid-drill does not go before its finalizer deleted the temporary collection.
 *
 * The manager's controllers run on a clock 65 s ahead (QDRANT_OPERATOR_CLOCK_OFFSET_MS, see
 * src/manager/test-clock.ts), so the first minute tick after the drill's creation has already come when
 * the controller first sees it: the drill runs at once (decide-tick's catch-up of the one unmet tick)
 * instead of at the next real minute boundary.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CLOCK_OFFSET_ENV } from "../src/manager/test-clock.ts";
import { kubectl } from "../test/helpers/kubectl.ts";
import { needsEmulatorFaults } from "../test/helpers/qdrant.ts";
import { eventually } from "../test/helpers/testenv.ts";
import { apply, getJson, world } from "./helpers/backup-world.ts";
import { backedUp, collectionExists, eventsOf, getRestore, jobPlan, managerMetrics, restoreCondition, restoreJobs, restoreObj, waitForRestore } from "./helpers/restore-world.ts";

test("a drill restores the latest backup into a temporary collection, verifies, deletes it and publishes the proof", async (t) => {
  const w = await world(t, "e2e-restore-drill", { managerEnv: () => Promise.resolve({ [CLOCK_OFFSET_ENV]: "65000" }) });
  const b = await backedUp(w);
  await apply(w.ns, [restoreObj("drill", { latest: { locationRef: { name: "s3" }, collection: w.collection } }, { policy: "Drill", drill: { schedule: "*/1 * * * *" } })]);

  // Watching: between drills. The schedule is every minute, and a next drill's start clears the last
  // run's counts (status shows the run under way), so the counts are read from a finished drill's status.
  const r = await waitForRestore(w.ns, "drill", "a verified drill, between drills", (x) => Boolean(x.status?.lastVerifiedTime) && restoreCondition(x, "Verified")?.status === "True" && x.status?.phase === "Watching", 180_000);
  const temporary = `${w.collection}-drill-${r.metadata.uid.replace(/-/g, "").slice(0, 8)}`;
  assert.equal(r.status?.targetCollection, temporary, "the temporary collection's name is recorded");
  assert.equal(r.status?.backupId, b.backupId, "the latest backup");
  assert.deepEqual(r.status?.pointsCount, { expected: 20, actual: 20 });
  const job = (await restoreJobs(w.ns))[0];
  assert.ok(job, "the drill ran as a Job");
  assert.equal(jobPlan(job).targetCollection, temporary);

  // The schedule is every minute, so a later drill may run meanwhile (it reuses the same temporary name).
  // A quiet moment is a read of Watching, the temporary collection's absence, and a second read of the
  // same Watching status: a drill that began in between would show in the second read.
  const settled = await eventually("Watching with the temporary collection gone", async () => {
    const before = await getRestore(w.ns, "drill");
    if (before.status?.phase !== "Watching") return undefined;
    const exists = await collectionExists(w.qdrant.url, temporary, w.apiKey);
    const after = await getRestore(w.ns, "drill");
    if (after.status?.phase !== "Watching" || after.status?.lastVerifiedTime !== before.status?.lastVerifiedTime) return undefined;
    assert.equal(exists, false, "the temporary collection is gone while the drill watches");
    return after;
  }, 120_000);
  assert.ok(Date.parse(settled.status!.lastVerifiedTime!) >= Date.parse(r.status.lastVerifiedTime!), "lastVerifiedTime never goes back");
  assert.equal(await collectionExists(w.qdrant.url, w.collection, w.apiKey), true, "the source collection is untouched");
  const events = await eventsOf(w.ns, "drill");
  for (const reason of ["DrillVerified", "DeletedTemporaryCollection"]) assert.ok(events.some((e) => e.startsWith(`${reason}: `)), `a ${reason} event: ${events.join(" | ")}`);
  const metrics = await managerMetrics(w.manager);
  const m = new RegExp(`qdrant_operator_restore_drill_last_verified_timestamp_seconds\\{[^}]*namespace="${w.ns}"[^}]*restore="drill"[^}]*\\} ([0-9.e+]+)`).exec(metrics);
  assert.ok(m, `the drill metric is published:\n${metrics.split("\n").filter((l) => l.includes("restore")).join("\n")}`);
  // A time of this drill (the controllers' clock runs 65 s ahead, so it is not compared with the wall clock).
  assert.ok(Number(m[1]) >= Date.parse(b.backup.metadata.creationTimestamp) / 1000, `metric ${m[1]} is after the backup was made`);
});

test("a drill's restore deleted mid-drill: the finalizer deletes the temporary collection before the restore goes", async (t) => {
  const { admin } = needsEmulatorFaults(t, "holds the drill Job's verification to delete the restore meanwhile");
  const w = await world(t, "e2e-restore-drill-del", { managerEnv: () => Promise.resolve({ [CLOCK_OFFSET_ENV]: "65000" }) });
  await backedUp(w);
  // The Job's reads of the temporary collection's info (its green check) are held 15 s each, after the
  // recover made the collection: the drill is mid-way, with its temporary collection on Qdrant.
  const hold = await admin.delayNext({ method: "GET", path: `/collections/${w.collection}-drill-*` }, 15_000, 3);
  t.after(() => admin.removeFault(hold.id));
  await apply(w.ns, [restoreObj("drill", { latest: { locationRef: { name: "s3" }, collection: w.collection } }, { policy: "Drill", drill: { schedule: "*/1 * * * *" } })]);
  const running = await waitForRestore(w.ns, "drill", "the temporary collection recorded", (x) => Boolean(x.status?.targetCollection), 180_000);
  const temporary = running.status!.targetCollection!;
  assert.equal(temporary, `${w.collection}-drill-${running.metadata.uid.replace(/-/g, "").slice(0, 8)}`);
  await eventually("the drill's temporary collection on Qdrant", async () => ((await collectionExists(w.qdrant.url, temporary, w.apiKey)) ? true : undefined), 120_000);
  assert.equal((await getRestore(w.ns, "drill")).status?.phase, "Running");

  await kubectl(["delete", "-n", w.ns, "qdrantrestore", "drill", "--wait=false"]);
  await eventually("the QdrantRestore to be gone", async () => ((await getJson(w.ns, "qdrantrestore", "drill")) === undefined ? true : undefined), 120_000);
  assert.equal(await collectionExists(w.qdrant.url, temporary, w.apiKey), false, "the temporary collection went before the restore did");
  assert.equal(await collectionExists(w.qdrant.url, w.collection, w.apiKey), true, "the source collection is untouched");
});
