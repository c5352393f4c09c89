/**
 * A backup of more collections than its Job's result can list in the 4 KiB termination message: the
 * status still lists every collection (the controller reads the rest from the manifests), so a
 * QdrantRestore by latest of a collection the result had to leave out keeps that backup from the
 * schedule's retention, as it would a backup of one collection.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { API_VERSION } from "../src/api/group.ts";
import { backupId } from "../src/backup/layout/backup-id.ts";
import { manifestKey } from "../src/backup/layout/object-keys.ts";
import { kubectl } from "../test/helpers/kubectl.ts";
import { qdrantApi, uniqueName } from "../test/helpers/qdrant.ts";
import { eventually } from "../test/helpers/testenv.ts";
import { apply, getJson, waitForPhase, world } from "./helpers/backup-world.ts";

/**
 * Long enough names that 40 of them (name and manifest key each) are far more than 4 KiB of result, under a
 * prefix of this run's own on the shared Qdrant.
 */
const PREFIX = uniqueName("many");
const MANY = Array.from({ length: 40 }, (_, i) => `${PREFIX}-collection-with-a-name-long-enough-to-fill-the-message-${String(i).padStart(2, "0")}`);

interface Schedule {
  metadata: { name: string; uid: string };
  status?: { prune?: { wouldPrune?: string[] } };
}

test("a backup of more collections than fit in the Job's result lists them all, and latest of the last one keeps it from retention", async (t) => {
  const w = await world(t, "e2e-qb-many");
  const api = qdrantApi(w.qdrant.url);
  for (const name of MANY) {
    await api.createCollection(name, { vectors: { size: 4, distance: "Cosine" } });
    t.after(() => api.deleteCollection(name).then(() => undefined));
  }
  // Every collection of this test (the 40 and the world's), and no other test's on the shared Qdrant.
  const ours = { pattern: `${PREFIX}-.*|${w.collection}` };
  // No tick comes during the test (once a year); retention keeps the newest only, as a dry run.
  await apply(w.ns, [{ apiVersion: API_VERSION, kind: "QdrantBackupSchedule", metadata: { name: "daily" }, spec: { schedule: "0 0 1 1 *", connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: ours, retention: { keepLast: 1, dryRun: true } } }]);
  const schedule = await eventually("the schedule", () => getJson<Schedule>(w.ns, "qdrantbackupschedule", "daily"));
  const owned = (name: string, collections: object) => ({
    apiVersion: API_VERSION,
    kind: "QdrantBackup",
    metadata: { name, ownerReferences: [{ apiVersion: API_VERSION, kind: "QdrantBackupSchedule", name: "daily", uid: schedule.metadata.uid, controller: true, blockOwnerDeletion: true }] },
    spec: { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections },
  });

  await apply(w.ns, [owned("everything", ours)]);
  const everything = await waitForPhase(w.ns, "everything", "Succeeded", 300_000);
  const id = backupId(new Date(everything.metadata.creationTimestamp), everything.metadata.uid);
  const all = [...MANY, w.collection].sort();
  assert.deepEqual(everything.status?.collections?.map((c) => c.name), all, "status.collections lists every collection, not what fitted in the result");
  for (const c of everything.status?.collections ?? []) {
    assert.equal(c.manifestKey, manifestKey({ prefix: "qdrant/e2e", namespace: w.ns, connection: "qdrant", collection: c.name, backupId: id }), c.name);
  }

  // A newer backup of another collection: keepLast 1 would prune "everything", but a restore by latest
  // of its last collection (one the Job's result had to leave out) keeps it.
  await apply(w.ns, [owned("newer", { names: [w.collection] })]);
  await waitForPhase(w.ns, "newer", "Succeeded", 300_000);
  const last = MANY[MANY.length - 1]!;
  await apply(w.ns, [{ apiVersion: API_VERSION, kind: "QdrantRestore", metadata: { name: "latest-of-last" }, spec: { source: { latest: { locationRef: { name: "s3" }, collection: last } }, target: { connectionRef: { name: "qdrant" } } } }]);
  const note = await eventually("a Protected Event for the backup", async () => {
    const events = JSON.parse((await kubectl(["get", "-n", w.ns, "events.events.k8s.io", "-o", "json"])).stdout) as { items: Array<{ reason: string; note: string; regarding: { name: string } }> };
    return events.items.find((e) => e.regarding.name === "daily" && e.reason === "Protected")?.note;
  });
  assert.equal(note, `Kept QdrantBackup everything, which retention would prune: QdrantRestore ${w.ns}/latest-of-last restores it (spec.source.latest: the newest backup of collection ${last}).`);
  const s = await getJson<Schedule>(w.ns, "qdrantbackupschedule", "daily");
  assert.deepEqual(s?.status?.prune?.wouldPrune ?? [], []);

  // Without the restore, the same retention would prune it: the protection is what keeps it.
  await kubectl(["delete", "-n", w.ns, "qdrantrestore", "latest-of-last"]);
  await eventually("wouldPrune [everything]", async () => {
    const again = await getJson<Schedule>(w.ns, "qdrantbackupschedule", "daily");
    return JSON.stringify(again?.status?.prune?.wouldPrune) === JSON.stringify(["everything"]) ? true : undefined;
  });
});
