/**
 * A Drill restore in the real manager: at its schedule's tick it restores the latest backup into a
 * temporary collection, verifies it, deletes it and publishes lastVerifiedTime and Verified; between
 * drills it watches; it carries the drill finalizer, and deleting it removes that and the restore.
 *
 * The drill is daily at a minute T a little ahead, and the manager's clock runs just past T
 * (src/manager/test-clock.ts): the tick has come when the controller first sees the drill, so it runs at
 * once (decide-tick's one catch-up run), and the next one is a day away, so nothing runs again while the
 * test looks.
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
  // T: a whole minute at least 60 s ahead, so the drill (created after the world) is created before it.
  const tick = new Date(Math.ceil((Date.now() + 60_000) / 60_000) * 60_000);
  const offsetMs = tick.getTime() - Date.now() + 5_000;
  const w = await restoreWorld(t, "restore-drill", { managerEnv: { [CLOCK_OFFSET_ENV]: String(offsetMs) } });
  assert.ok(Date.now() < tick.getTime(), "the world was ready before the tick");
  await apply(w.ns, [
    {
      apiVersion: API_VERSION,
      kind: "QdrantRestore",
      metadata: { name: "drill" },
      spec: { policy: "Drill", drill: { schedule: `${tick.getUTCMinutes()} ${tick.getUTCHours()} * * *` }, source: { latest: { locationRef: { name: "s3" }, collection: w.collection } }, target: { connectionRef: { name: "qdrant" } } },
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
  assert.equal(verified.status?.nextScheduleTime, new Date(tick.getTime() + 86_400_000).toISOString().replace(".000Z", "Z"), "the next drill is announced, a day later");
  assert.deepEqual(verified.metadata.finalizers, ["qdrant-operator.dev/restore-drill"]);
  assert.equal(await w.api.collectionExists(temp), false, "the temporary collection is gone");
  const said = await events(w.ns, "drill");
  assert.match(said, /DrillVerified: Drill verified: restored backup /);
  assert.match(said, new RegExp(`DeletedTemporaryCollection: Deleted collection ${temp}`));

  await kubectl(["delete", "-n", w.ns, "qdrantrestore", "drill", "--wait=false"]);
  await eventually("the drill restore to be gone", async () => ((await getObj(w.ns, "qdrantrestore", "drill")) === undefined ? true : undefined));
});
