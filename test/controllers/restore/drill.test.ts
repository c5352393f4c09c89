/**
 * A Drill restore in the real manager: at its schedule's tick it restores the latest backup into a
 * temporary collection, verifies it, deletes it and publishes lastVerifiedTime and Verified; between
 * drills it watches; it carries the drill finalizer, and deleting it removes that and the restore.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { API_VERSION } from "../../../src/api/group.ts";
import { drillCollectionName } from "../../../src/controllers/restore/names.ts";
import { kubectl } from "../../helpers/kubectl.ts";
import { eventually } from "../../helpers/testenv.ts";
import { apply, condition, events, getObj, restoreWorld, waitFor } from "./restore-world.ts";

test("Drill: restores into its temporary collection at the tick, verifies, deletes it and publishes lastVerifiedTime", async (t) => {
  const w = await restoreWorld(t, "restore-drill");
  await apply(w.ns, [
    {
      apiVersion: API_VERSION,
      kind: "QdrantRestore",
      metadata: { name: "drill" },
      spec: { policy: "Drill", drill: { schedule: "* * * * *" }, source: { latest: { locationRef: { name: "s3" }, collection: w.collection } }, target: { connectionRef: { name: "qdrant" } } },
    },
  ]);
  const scheduled = await waitFor(w.ns, "qdrantrestore", "drill", "scheduled", (o) => condition(o, "Ready")?.reason === "DrillScheduled", 60_000);
  assert.equal(scheduled.status?.phase, "Watching");
  assert.ok(scheduled.status?.nextScheduleTime);
  const temp = drillCollectionName(w.collection, scheduled.metadata.uid);
  t.after(() => w.api.deleteCollection(temp).catch(() => undefined));

  const verified = await waitFor(w.ns, "qdrantrestore", "drill", "verified", (o) => o.status?.lastVerifiedTime !== undefined, 150_000);
  assert.equal(verified.status?.phase, "Watching");
  assert.equal(verified.status?.targetCollection, temp);
  assert.equal(verified.status?.backupId, w.backupId);
  assert.deepEqual(verified.status?.pointsCount, { expected: 20, actual: 20 });
  assert.equal(verified.status?.restoreCount, 1);
  assert.equal(verified.status?.lastRestoreTime, undefined, "a drill restores nothing anyone uses");
  assert.deepEqual([condition(verified, "Verified")?.status, condition(verified, "Ready")?.reason], ["True", "DrillScheduled"]);
  assert.deepEqual(verified.metadata.finalizers, ["qdrant-operator.dev/restore-drill"]);
  assert.equal(await w.api.collectionExists(temp), false, "the temporary collection is gone");
  const said = await events(w.ns, "drill");
  assert.match(said, /DrillVerified: Drill verified: restored backup /);
  assert.match(said, new RegExp(`DeletedTemporaryCollection: Deleted collection ${temp}`));

  await kubectl(["delete", "-n", w.ns, "qdrantrestore", "drill", "--wait=false"]);
  await eventually("the drill restore to be gone", async () => ((await getObj(w.ns, "qdrantrestore", "drill")) === undefined ? true : undefined));
});
