/**
 * Rollouts on the 3-peer cluster (the environment's emulated one, or QDRANT_PEERS), v1 having a shard on
 * every peer, the connection listing the peers:
 * - copyFrom into a v2 with another shard_number and replication_factor 2: every peer sees the alias on
 *   v2 and v2 holds v1's points through any peer; then `rollback: true` points the alias back at v1 on
 *   every peer;
 * - external: v2 made from its 8-dim config on the cluster and filled through another peer than the
 *   connection's, judged by a golden query by point id against the 4-dim v1;
 * - fromBackup: a backup of the 3-peer v1 (a file per peer) restored into v2 by the rollout's QdrantRestore.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { QdrantApi } from "../src/qdrant/client.ts";
import { qdrantUnderTest } from "../test/helpers/qdrant.ts";
import { backedUp, collectionExists } from "./helpers/restore-world.ts";
import {
  aliasTarget,
  assertSamePoints,
  applyRollout,
  blueGreen,
  collectionConfig,
  eightDimPoints,
  eventsWithReason,
  patchRolloutSpec,
  pointsOf,
  rolloutObj,
  sharedWorld,
  waitForCollection,
  waitForRolloutPhase,
} from "./helpers/rollout-world.ts";

test("rollouts on a 3-peer cluster: copyFrom with a new topology and rollback, external, fromBackup", { concurrency: true }, async (t) => {
  const { w, v1 } = await sharedWorld(t, "e2e-rollout-dist", { distributed: true });
  const { peers } = qdrantUnderTest();
  assert.equal(peers[0], w.qdrant.url, "the connection's URL is the first peer");
  const onEveryPeer = async (alias: string, collection: string) => {
    for (const url of peers) assert.equal(await aliasTarget(url, alias, w.apiKey), collection, `peer ${url}`);
  };

  await Promise.all([
    t.test("copyFrom into shard_number 2 × replication_factor 2: the alias on v2 on every peer, then rollback", async (st) => {
      const bg = await blueGreen(st, w, "topo");
      await applyRollout(w, rolloutObj("topology", bg.alias, bg.green, {
        source: { copyFrom: { config: { vectors: { size: 4, distance: "Cosine" }, shard_number: 2, replication_factor: 2 }, batchSize: 6 } },
        gates: { minPoints: 20, pointsWithinPercent: 0, goldenQueries: [{ name: "by-id", query: { query: 7 }, topK: 5, minOverlap: 1 }] },
      }));
      await waitForRolloutPhase(w.ns, "topology", "Promoted", 180_000);
      await onEveryPeer(bg.alias, bg.green);
      const config = await collectionConfig(peers[1]!, bg.green, w.apiKey);
      assert.deepEqual([config.params.shard_number, config.params.replication_factor], [2, 2]);
      for (const url of peers) assertSamePoints(await pointsOf(w, bg.alias, url), v1, `v1's points through the alias on ${url}`);
      assert.equal((await eventsWithReason(w.ns, "topology", "Switched")).length, 1);

      await patchRolloutSpec(w.ns, "topology", { rollback: true });
      await waitForRolloutPhase(w.ns, "topology", "RolledBack");
      await onEveryPeer(bg.alias, bg.blue);
      assert.equal(await collectionExists(peers[2]!, bg.green, w.apiKey), true, "v2 kept");
    }),

    t.test("external: v2 made on the cluster from its 8-dim config, filled through another peer, judged by a golden query by id", async (st) => {
      const bg = await blueGreen(st, w, "emb8");
      await applyRollout(w, rolloutObj("embeddings", bg.alias, bg.green, {
        source: { external: { config: { vectors: { size: 8, distance: "Cosine" }, shard_number: 3 } } },
        gates: { minPoints: 20, goldenQueries: [{ name: "by-id", query: { query: 5 }, topK: 5, minOverlap: 0.8 }], timeout: "5m" },
      }));
      await waitForCollection(w, bg.green, peers[2]);
      await new QdrantApi({ url: peers[2]!, apiKey: w.apiKey, timeoutMs: 30_000 }).upsert(bg.green, eightDimPoints(v1));
      await waitForRolloutPhase(w.ns, "embeddings", "Promoted", 180_000);
      await onEveryPeer(bg.alias, bg.green);
    }),

    t.test("fromBackup: a 3-peer backup of v1 restored into v2", async (st) => {
      const bg = await blueGreen(st, w, "restored");
      const b = await backedUp(w, "v1-backup");
      assert.ok(b.files.length > 1, "a file per peer");
      await applyRollout(w, rolloutObj("from-backup", bg.alias, bg.green, {
        source: { fromBackup: { source: { backupRef: { name: b.name } }, sourceCollection: bg.blue } },
        gates: { minPoints: 20, pointsWithinPercent: 0, timeout: "5m" },
      }));
      await waitForRolloutPhase(w.ns, "from-backup", "Promoted", 240_000);
      await onEveryPeer(bg.alias, bg.green);
      assert.deepEqual(await pointsOf(w, bg.green, peers[1]), v1);
    }),
  ]);
});
