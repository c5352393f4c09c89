/**
 * The QdrantRestore controller in the real manager process (as its generated ServiceAccount) against the
 * real apiserver, the environment's MinIO and Qdrant: a QdrantBackup of a 20-point collection, then a Once
 * restore of it into a new name while the original keeps serving, through its Job to Succeeded, with the
 * same points (ids, vectors, payloads), its status filled in, and the drill finalizer never added.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { API_VERSION } from "../../../src/api/group.ts";
import { kubectl } from "../../helpers/kubectl.ts";
import { allPoints } from "../../helpers/qdrant.ts";
import { apply, events, getObj, restoreWorld, waitFor } from "./restore-world.ts";

test("a Once restore of a QdrantBackup into a new name runs its Job to Succeeded and brings back the same points", async (t) => {
  const { ns, collection, api, manager, backupId } = await restoreWorld(t, "restore-once");
  const restored = `${collection}_restored`;
  t.after(async () => {
    await api.deleteCollection(restored).catch(() => undefined);
  });
  const restore = {
    apiVersion: API_VERSION,
    kind: "QdrantRestore",
    metadata: { name: "r1" },
    spec: { source: { backupRef: { name: "b1" } }, target: { connectionRef: { name: "qdrant" }, collection: restored } },
  };
  await apply(ns, [restore]);
  const done = await waitFor(ns, "qdrantrestore", "r1", "phase Succeeded", (o) => {
    if (o.status?.phase === "Failed") throw new Error(`qdrantrestore/r1 ended Failed: ${JSON.stringify(o.status)}`);
    return o.status?.phase === "Succeeded";
  });

  const s = done.status!;
  assert.equal(s.backupId, backupId);
  assert.equal(s.targetCollection, restored);
  assert.deepEqual([s.jobName, s.jobCount, s.attempt, s.restoreCount], ["restore-r1-1", 1, 1, 1]);
  assert.deepEqual(s.pointsCount, { expected: 20, actual: 20 });
  assert.equal(s.lastRestoreTime, s.completionTime);
  assert.ok(s.durationSeconds !== undefined && s.durationSeconds >= 0, JSON.stringify(s));
  assert.equal(s.observedGeneration, 1);
  const ready = s.conditions?.find((c) => c.type === "Ready");
  assert.deepEqual([ready?.status, ready?.reason], ["True", "Restored"]);
  assert.match(ready?.message ?? "", new RegExp(`^Restored backup ${s.backupId} into collection ${restored} \\(20 points\\)`));
  assert.deepEqual([s.conditions?.find((c) => c.type === "Failed")?.status, s.conditions?.find((c) => c.type === "Accepted")?.status], ["False", "True"]);
  assert.equal(done.metadata.finalizers, undefined, "only drills carry a finalizer");

  // The same points, and the original still there beside it.
  assert.deepEqual(await allPoints(restored), await allPoints(collection));
  assert.equal((await allPoints(collection)).length, 20);

  // Its one Job ran one pod: the controller makes the retries.
  const job = JSON.parse((await kubectl(["get", "-n", ns, "job", "restore-r1-1", "-o", "json"])).stdout) as { spec: { backoffLimit: number }; metadata: { labels: Record<string, string> } };
  assert.equal(job.spec.backoffLimit, 0);
  assert.equal(job.metadata.labels["qdrant-operator.dev/restore"], "r1");

  // Events say what happened.
  const said = await events(ns, "r1");
  assert.match(said, /Created: Created Job restore-r1-1 for backup /);
  assert.match(said, /Restored: Restored backup /);

  // Re-applying the same object is no new generation: nothing runs again.
  await apply(ns, [restore]);
  const again = await getObj(ns, "qdrantrestore", "r1");
  assert.equal(again?.metadata.generation, 1);
  assert.equal(again?.status?.jobCount, 1);
  assert.doesNotMatch(await manager.log(), /restore-r1-2/);
});
