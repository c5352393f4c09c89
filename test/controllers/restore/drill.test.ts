/**
 * A Drill restore in the real manager: at its schedule's tick it restores the latest backup into a
 * temporary collection, verifies it, deletes it and publishes lastVerifiedTime and Verified; between
 * drills it watches; it carries the drill finalizer, and deleting it removes that and the restore.
 *
 * The manager's clock runs 65 s ahead (src/manager/test-clock.ts), so the first minute tick after the
 * drill's creation has come when the controller first sees it: the drill runs at once (the one catch-up
 * run of decide-tick) instead of at the next real minute boundary.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { API_VERSION } from "../../../src/api/group.ts";
import { drillCollectionName } from "../../../src/controllers/restore/names.ts";
import { CLOCK_OFFSET_ENV } from "../../../src/manager/test-clock.ts";
import { kubectl } from "../../helpers/kubectl.ts";
import { eventually } from "../../helpers/testenv.ts";
import { apply, condition, events, getObj, restoreWorld, waitFor } from "./restore-world.ts";

test("Drill: restores into its temporary collection at the tick, verifies, deletes it and publishes lastVerifiedTime", async (t) => {
  const w = await restoreWorld(t, "restore-drill", { managerEnv: { [CLOCK_OFFSET_ENV]: "65000" } });
  await apply(w.ns, [
    {
      apiVersion: API_VERSION,
      kind: "QdrantRestore",
      metadata: { name: "drill" },
      spec: { policy: "Drill", drill: { schedule: "* * * * *" }, source: { latest: { locationRef: { name: "s3" }, collection: w.collection } }, target: { connectionRef: { name: "qdrant" } } },
    },
  ]);
  const created = await waitFor(w.ns, "qdrantrestore", "drill", "seen", (o) => o.metadata.uid !== undefined, 10_000);
  const temp = drillCollectionName(w.collection, created.metadata.uid);
  t.after(() => w.api.deleteCollection(temp).catch(() => undefined));

  const verified = await waitFor(w.ns, "qdrantrestore", "drill", "verified", (o) => o.status?.lastVerifiedTime !== undefined, 120_000);
  assert.equal(verified.status?.phase, "Watching");
  assert.equal(verified.status?.targetCollection, temp);
  assert.equal(verified.status?.backupId, w.backupId);
  assert.deepEqual(verified.status?.pointsCount, { expected: 20, actual: 20 });
  assert.equal(verified.status?.restoreCount, 1);
  assert.equal(verified.status?.lastRestoreTime, undefined, "a drill restores nothing anyone uses");
  assert.deepEqual([condition(verified, "Verified")?.status, condition(verified, "Ready")?.reason], ["True", "DrillScheduled"]);
  assert.ok(Date.parse(verified.status?.nextScheduleTime ?? "") > Date.parse(verified.status?.lastVerifiedTime ?? ""), "the next drill is announced");
  assert.deepEqual(verified.metadata.finalizers, ["qdrant-operator.dev/restore-drill"]);
  assert.equal(await w.api.collectionExists(temp), false, "the temporary collection is gone");
  const said = await events(w.ns, "drill");
  assert.match(said, /DrillVerified: Drill verified: restored backup /);
  assert.match(said, new RegExp(`DeletedTemporaryCollection: Deleted collection ${temp}`));

  await kubectl(["delete", "-n", w.ns, "qdrantrestore", "drill", "--wait=false"]);
  await eventually("the drill restore to be gone", async () => ((await getObj(w.ns, "qdrantrestore", "drill")) === undefined ? true : undefined));
});
