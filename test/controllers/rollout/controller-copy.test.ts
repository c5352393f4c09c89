/**
 * copyFrom in the real manager: v1 (one shard) → v2 with two shards, copied by the copy Job, the progress
 * mirrored into status.copy from green's own record, the points identical, the alias switched once; and
 * copyFrom without a config, where green is made like its source.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { copyProgressOf } from "../../../src/controllers/rollout/observe.ts";
import { allPoints } from "../../helpers/qdrant.ts";
import { apply, eventMatching, rolloutWorld, waitFor } from "./rollout-world.ts";

test("copyFrom v1 → v2 with another shard_number: the copy Job copies every point as it is, then the alias switches", async (t) => {
  // Dot, not Cosine: Qdrant normalizes Cosine vectors on every upsert, and normalizing a unit vector again
  // may move its last float32 bit, so only a distance that stores vectors as given can be compared exactly.
  const w = await rolloutWorld(t, "rollout-copy", { blue: { points: 300, config: { vectors: { size: 4, distance: "Dot" } } } });
  await apply(w.ns, [w.rollout("v2", { source: { copyFrom: { config: { vectors: { size: 4, distance: "Dot" }, shard_number: 2 }, batchSize: 64 } }, gates: { minPoints: 300, pointsWithinPercent: 0 } })]);
  const done = await waitFor(w.ns, "v2", "Promoted", (r) => r.status?.phase === "Promoted", { timeoutMs: 300_000 });
  assert.equal(await w.aliasTarget(), w.green);
  assert.equal((await w.api.collectionInfo(w.green)).config.params.shard_number, 2);
  assert.deepEqual(await allPoints(w.green), await allPoints(w.blue));
  // Green's own record of the copy is the truth; status.copy mirrors it while the Job runs (a copy that
  // finished before the controller looked has only the record).
  const record = copyProgressOf(await w.api.collectionMetadata(w.green));
  assert.deepEqual([record?.copied, record?.total, record?.done], [300, 300, true]);
  if (done.status?.copy) assert.ok(done.status.copy.copiedPoints <= 300, JSON.stringify(done.status.copy));
  assert.equal(done.status?.jobName, "rollout-v2-1");
  assert.equal(await w.greenOwner(), done.metadata.uid);
  const said = await eventMatching(w.ns, "v2", /Switched: /);
  assert.match(said, /Created: Created Job rollout-v2-1 copying /);
});

test("copyFrom without config: green is made like its source (its vectors and shard number)", async (t) => {
  const w = await rolloutWorld(t, "rollout-copy-like", { blue: { points: 30, config: { vectors: { size: 4, distance: "Dot" }, shard_number: 3 } } });
  await apply(w.ns, [w.rollout("v2", { source: { copyFrom: {} }, gates: { minPoints: 30 } })]);
  await waitFor(w.ns, "v2", "Promoted", (r) => r.status?.phase === "Promoted", { timeoutMs: 300_000 });
  const [blue, green] = [(await w.api.collectionInfo(w.blue)).config.params, (await w.api.collectionInfo(w.green)).config.params];
  assert.deepEqual(green, blue);
  assert.deepEqual(await allPoints(w.green), await allPoints(w.blue));
});
