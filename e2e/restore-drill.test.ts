/**
 * A drill end to end: policy Drill on a minute schedule restores the latest backup into a temporary
 * collection (`<sourceCollection>-drill-<first 8 hex of the restore's uid>`, recorded in
 * status.targetCollection), verifies it, deletes it, and publishes lastVerifiedTime, condition Verified
 * True, the Events and the metric qdrant_operator_restore_drill_last_verified_timestamp_seconds.
 *
 * The manager's controllers run on a clock 65 s ahead (QDRANT_OPERATOR_CLOCK_OFFSET_MS, see
 * src/manager/test-clock.ts), so the first minute tick after the drill's creation has already come when
 * the controller first sees it: the drill runs at once (decide-tick's catch-up of the one unmet tick)
 * instead of at the next real minute boundary.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CLOCK_OFFSET_ENV } from "../src/manager/test-clock.ts";
import { apply, world } from "./helpers/backup-world.ts";
import { backedUp, collectionExists, eventsOf, jobPlan, managerMetrics, restoreCondition, restoreJobs, restoreObj, waitForRestore } from "./helpers/restore-world.ts";

test("a drill restores the latest backup into a temporary collection, verifies, deletes it and publishes the proof", async (t) => {
  const w = await world(t, "e2e-restore-drill", { managerEnv: () => Promise.resolve({ [CLOCK_OFFSET_ENV]: "65000" }) });
  const b = await backedUp(w);
  await apply(w.ns, [restoreObj("drill", { latest: { locationRef: { name: "s3" }, collection: w.collection } }, { policy: "Drill", drill: { schedule: "*/1 * * * *" } })]);

  const r = await waitForRestore(w.ns, "drill", "a verified drill", (x) => Boolean(x.status?.lastVerifiedTime) && restoreCondition(x, "Verified")?.status === "True", 180_000);
  const temporary = `${w.collection}-drill-${r.metadata.uid.replace(/-/g, "").slice(0, 8)}`;
  assert.equal(r.status?.targetCollection, temporary, "the temporary collection's name is recorded");
  assert.equal(r.status?.backupId, b.backupId, "the latest backup");
  assert.deepEqual(r.status?.pointsCount, { expected: 20, actual: 20 });
  const job = (await restoreJobs(w.ns))[0];
  assert.ok(job, "the drill ran as a Job");
  assert.equal(jobPlan(job).targetCollection, temporary);

  const settled = await waitForRestore(w.ns, "drill", "watching for the next drill", (x) => x.status?.phase === "Watching");
  assert.equal(settled.status?.lastVerifiedTime, r.status?.lastVerifiedTime);
  assert.equal(await collectionExists(w.qdrant.url, temporary, w.apiKey), false, "the temporary collection is gone");
  assert.equal(await collectionExists(w.qdrant.url, w.collection, w.apiKey), true, "the source collection is untouched");
  const events = await eventsOf(w.ns, "drill");
  for (const reason of ["DrillVerified", "DeletedTemporaryCollection"]) assert.ok(events.some((e) => e.startsWith(`${reason}: `)), `a ${reason} event: ${events.join(" | ")}`);
  const metrics = await managerMetrics(w.manager);
  const m = new RegExp(`qdrant_operator_restore_drill_last_verified_timestamp_seconds\\{[^}]*namespace="${w.ns}"[^}]*restore="drill"[^}]*\\} ([0-9.e+]+)`).exec(metrics);
  assert.ok(m, `the drill metric is published:\n${metrics.split("\n").filter((l) => l.includes("restore")).join("\n")}`);
  // A time of this drill (the controllers' clock runs 65 s ahead, so it is not compared with the wall clock).
  assert.ok(Number(m[1]) >= Date.parse(b.backup.metadata.creationTimestamp) / 1000, `metric ${m[1]} is after the backup was made`);
});
