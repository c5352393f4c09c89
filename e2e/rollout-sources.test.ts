/**
 * The two other ways green gets its data, each ending with the alias on v2:
 * - `external`, the new-embedding-model case: the rollout creates v2 from its config (8-dimensional
 *   vectors where v1 has 4) stamped as its own, and waits while the test, playing the user's pipeline,
 *   fills it; the gates decide when it is ready. A golden query by point id (`"query": 5`: nearest to that
 *   point's own vector in each collection) compares the 4-dim v1 with the 8-dim v2, so it works across
 *   embedding models.
 * - `fromBackup`: a QdrantBackup of v1 restored into v2 through a QdrantRestore the rollout owns.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { backedUp, getRestore } from "./helpers/restore-world.ts";
import {
  OWNER_METADATA,
  aliasTarget,
  assertOneSwitch,
  apiOf,
  applyRollout,
  blueGreen,
  collectionConfig,
  collectionMetadata,
  eightDimPoints,
  getRollout,
  pointsOf,
  queryIds,
  rolloutObj,
  sharedWorld,
  waitForRollout,
  waitForCollection,
  waitForRolloutPhase,
} from "./helpers/rollout-world.ts";

test("external and fromBackup sources, each v1 → v2 behind its alias", { concurrency: true }, async (t) => {
  const { w, v1 } = await sharedWorld(t, "e2e-rollout-sources");

  await Promise.all([
    t.test("external: v2 made from its 8-dim config, filled by the user's pipeline, judged by a golden query by point id across 4 and 8 dimensions", async (st) => {
      const bg = await blueGreen(st, w, "emb8");
      await applyRollout(w, rolloutObj("embeddings", bg.alias, bg.green, {
        source: { external: { config: { vectors: { size: 8, distance: "Cosine" } } } },
        gates: { minPoints: 20, requireGreen: true, goldenQueries: [{ name: "neighbours-of-5", query: { query: 5 }, topK: 5, minOverlap: 0.8 }], timeout: "5m" },
      }));
      // The rollout makes v2 (8 dims, stamped ours) and judges it empty: held, the alias on v1.
      await waitForCollection(w, bg.green);
      const rollout = await getRollout(w.ns, "embeddings");
      assert.deepEqual((await collectionMetadata(w.qdrant.url, bg.green, w.apiKey))[OWNER_METADATA], { namespace: w.ns, name: "embeddings", uid: rollout.metadata.uid });
      assert.deepEqual((await collectionConfig(w.qdrant.url, bg.green, w.apiKey)).params.vectors, { size: 8, distance: "Cosine" });
      const waiting = await waitForRollout(w.ns, "embeddings", "Validating with minPoints failing on the empty v2", (r) =>
        r.status?.phase === "Validating" && (r.status.gates ?? []).some((g) => g.name === "minPoints" && !g.passed));
      assert.match(waiting.status!.gates!.find((g) => g.name === "minPoints")!.observed ?? "", /\b0 points\b/);
      assert.equal(await aliasTarget(w.qdrant.url, bg.alias, w.apiKey), bg.blue, "held on v1 while v2 is empty");

      // The "new model": each 4-dim vector written twice over, so cosine neighbours are the same ids.
      const v2 = eightDimPoints(v1);
      await apiOf(w).upsert(bg.green, v2);
      assert.deepEqual(await queryIds(w.qdrant.url, bg.green, { query: 5 }, 5, w.apiKey), await queryIds(w.qdrant.url, bg.blue, { query: 5 }, 5, w.apiKey), "the premise: the same neighbours by id");
      const r = await waitForRolloutPhase(w.ns, "embeddings", "Promoted", 120_000);
      const golden = r.status?.gates?.find((g) => g.name === "goldenQuery/neighbours-of-5");
      assert.equal(golden?.passed, true, JSON.stringify(r.status?.gates));
      assert.match(golden?.observed ?? "", /1\.00 \(5\/5\)/);
      assert.equal(await aliasTarget(w.qdrant.url, bg.alias, w.apiKey), bg.green);
      assert.deepEqual(await pointsOf(w, bg.alias), await pointsOf(w, bg.green), "reads through the alias see the 8-dim v2");
      assert.equal(r.status?.previousCollection, bg.blue);
      assert.equal(r.status?.jobCount ?? 0, 0, "external runs no copy Job");
      await assertOneSwitch(w.ns, "embeddings", bg.alias, bg.green, bg.blue);
    }),

    t.test("fromBackup: a QdrantBackup of v1 restored into v2 by the rollout's own QdrantRestore", async (st) => {
      const bg = await blueGreen(st, w, "restored");
      const b = await backedUp(w, "v1-backup");
      await applyRollout(w, rolloutObj("from-backup", bg.alias, bg.green, {
        source: { fromBackup: { source: { backupRef: { name: b.name } }, sourceCollection: bg.blue } },
        gates: { minPoints: 20, pointsWithinPercent: 0, timeout: "5m" },
      }));
      const r = await waitForRolloutPhase(w.ns, "from-backup", "Promoted", 240_000);
      assert.equal(r.status?.restoreName, "rollout-from-backup");
      const restore = await getRestore(w.ns, "rollout-from-backup");
      assert.equal(restore.status?.phase, "Succeeded");
      assert.equal(restore.status?.targetCollection, bg.green);
      assert.equal((restore as unknown as { metadata: { ownerReferences?: Array<{ uid: string; controller?: boolean }> } }).metadata.ownerReferences?.find((o) => o.controller)?.uid, r.metadata.uid, "the restore is the rollout's");
      assert.deepEqual((await collectionMetadata(w.qdrant.url, bg.green, w.apiKey))[OWNER_METADATA], { namespace: w.ns, name: "from-backup", uid: r.metadata.uid }, "stamped ours once restored");
      assert.equal(await aliasTarget(w.qdrant.url, bg.alias, w.apiKey), bg.green);
      assert.deepEqual(await pointsOf(w, bg.green), v1, "v2 holds the backed-up v1 points");
      assert.deepEqual(await pointsOf(w, bg.blue), v1, "v1 untouched");
      await assertOneSwitch(w.ns, "from-backup", bg.alias, bg.green, bg.blue);
    }),
  ]);
});
