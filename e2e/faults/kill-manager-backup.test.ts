/**
 * The manager SIGKILLed at each named crash window of a backup (src/crash-windows.ts), then a fresh
 * manager: the backup ends as if nothing happened, and the invariants hold (e2e/faults/invariants.ts: one
 * Job, the manifest and exactly its files, no partial upload, no open multipart upload, no snapshot left,
 * statuses that agree with the bucket).
 *
 * - backup.job-created-before-status: the next manager adopts the Job by name (it creates none);
 * - backup.job-finished-before-status: the next manager reads the finished Job's result;
 * - schedule.backup-created-before-status: the tick's QdrantBackup created, the schedule's status not
 *   written; the next manager finds the backup by its name and counts it (it creates none);
 * - backup-data.manifests-deleted-before-objects: a deletionPolicy Delete backup deleted, the manager
 *   killed with the manifests gone and the snapshot objects left (seen here: the backup is incomplete in
 *   the bucket); the next manager's finalizer deletes the rest, and the QdrantBackup goes.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { groupListing } from "../../src/backup/layout/listing.ts";
import { API_VERSION } from "../../src/api/group.ts";
import { backupNameFor } from "../../src/backup/schedule/backup-name.ts";
import { CLOCK_OFFSET_ENV } from "../../src/manager/test-clock.ts";
import { kubectl } from "../../test/helpers/kubectl.ts";
import { s3Client } from "../../test/helpers/s3.ts";
import { eventually } from "../../test/helpers/testenv.ts";
import { apply, backupObj, getJson, waitForPhase, world } from "../helpers/backup-world.ts";
import { assertInvariants, listObjects, worldScope } from "./invariants.ts";
import { diedAt, managerDyingAt } from "./kill-harness.ts";

test("backup.job-created-before-status: the next manager adopts the Job; one Job, one backup", async (t) => {
  const w = await world(t, "fault-b-created");
  const { takeOver } = await managerDyingAt(t, w, "backup.job-created-before-status");
  await apply(w.ns, [backupObj("b", { collections: { names: [w.collection] } })]);
  const next = await takeOver();
  await waitForPhase(w.ns, "b", "Succeeded", 150_000);
  assert.doesNotMatch(await next.log(), /Created backup Job/, "the fresh manager created no Job");
  await assertInvariants(worldScope(w, [w.collection]));
});

test("backup.job-finished-before-status: the next manager reads the finished Job's result", async (t) => {
  const w = await world(t, "fault-b-finished");
  const { takeOver } = await managerDyingAt(t, w, "backup.job-finished-before-status");
  await apply(w.ns, [backupObj("b", { collections: { names: [w.collection] } })]);
  const next = await takeOver();
  const done = await waitForPhase(w.ns, "b", "Succeeded", 150_000);
  assert.equal(done.status?.collections?.[0]?.pointsCount, 20);
  assert.doesNotMatch(await next.log(), /Created backup Job/, "the fresh manager created no Job");
  await assertInvariants(worldScope(w, [w.collection]));
});

test("backup-data.manifests-deleted-before-objects: killed with an incomplete backup in the bucket; the next manager's finalizer deletes the rest", async (t) => {
  const w = await world(t, "fault-b-delete");
  await apply(w.ns, [backupObj("b", { collections: { names: [w.collection] }, deletionPolicy: "Delete" })]);
  await waitForPhase(w.ns, "b", "Succeeded", 150_000);
  const { dying, takeOver } = await managerDyingAt(t, w, "backup-data.manifests-deleted-before-objects");
  await kubectl(["delete", "qdrantbackup", "b", "-n", w.ns, "--wait=false"]);
  await diedAt(dying, "backup-data.manifests-deleted-before-objects");
  const s3 = s3Client();
  t.after(() => s3.destroy());
  // The window is real: the manifest is gone, the snapshot object is not.
  const grouped = groupListing((await listObjects(s3, w.bucket)).map((o) => o.key), "qdrant/e2e");
  assert.deepEqual([grouped.complete.length, grouped.incomplete.length], [0, 1], "manifest deleted, snapshot object left");
  await takeOver();
  await eventually("the QdrantBackup gone", async () => ((await getJson(w.ns, "qdrantbackup", "b")) === undefined ? true : undefined), 120_000);
  assert.deepEqual((await listObjects(s3, w.bucket)).map((o) => o.key), [], "nothing of the backup left in the bucket");
  await assertInvariants(worldScope(w, [w.collection]));
});

test("schedule.backup-created-before-status: the next manager finds the tick's backup by name and counts it", async (t) => {
  const w = await world(t, "fault-s-created");
  await w.manager.stop();
  const spec = { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: [w.collection] }, schedule: "*/1 * * * *" };
  await apply(w.ns, [{ apiVersion: API_VERSION, kind: "QdrantBackupSchedule", metadata: { name: "s" }, spec }]);
  const created = (await getJson<{ metadata: { creationTimestamp: string } }>(w.ns, "qdrantbackupschedule", "s"))!;
  // The managers' clock is set so that the schedule's first tick comes 5 s from now (src/manager/test-clock.ts).
  const tick = new Date(Math.floor(Date.parse(created.metadata.creationTimestamp) / 60_000) * 60_000 + 60_000);
  const env = { [CLOCK_OFFSET_ENV]: String(tick.getTime() - Date.now() - 5000) };
  const { takeOver } = await managerDyingAt(t, w, "schedule.backup-created-before-status", env);
  const next = await takeOver();
  const name = backupNameFor("s", tick);
  await eventually("the schedule's status counting the tick", async () => {
    const s = await getJson<{ status?: { lastScheduleTime?: string } }>(w.ns, "qdrantbackupschedule", "s");
    return s?.status?.lastScheduleTime === tick.toISOString().replace(/\.\d+Z$/, "Z") ? true : undefined;
  }, 60_000);
  await kubectl(["patch", "qdrantbackupschedule", "s", "-n", w.ns, "--type=merge", "-p", JSON.stringify({ spec: { suspend: true } })]);
  await waitForPhase(w.ns, name, "Succeeded", 150_000);
  assert.doesNotMatch(await next.log(), /Created QdrantBackup/, "the fresh manager created no backup");
  const backups = JSON.parse((await kubectl(["get", "qdrantbackups", "-n", w.ns, "-o", "json"])).stdout) as { items: Array<{ metadata: { name: string } }> };
  assert.deepEqual(backups.items.map((b) => b.metadata.name), [name], "one backup for the tick");
  await assertInvariants(worldScope(w, [w.collection]));
});
