/**
 * A backup of a collection with a shard on every peer of the environment's 3-peer cluster, restored into a
 * fresh 3-peer emulated cluster (a second QdrantConnection listing its peers): each source peer's file is
 * recovered on a target peer of its own, so the target's peers hold the same shards with the same point
 * counts as the source's (compared as GET /collections/{c}/cluster answers, peer ids aside), every replica
 * Active, and the collection holds the same points.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { API_VERSION } from "../src/api/group.ts";
import { startEmulator } from "../test/emulator/index.ts";
import { needsEmulatorFaults, qdrantUnderTest } from "../test/helpers/qdrant.ts";
import { allPoints, apply, world } from "./helpers/backup-world.ts";
import { backedUp, collectionCluster, collectionNames, restoreObj, waitForRestorePhase, type ClusterInfo } from "./helpers/restore-world.ts";

/** Each peer's local shards as sorted "shard:points" lists, the peers in a canonical order. */
function placement(infos: ClusterInfo[]): string[][] {
  return infos.map((i) => i.local_shards.map((s) => `${s.shard_id}:${s.points_count}`).sort()).sort((a, b) => a.join().localeCompare(b.join()));
}

test("a 3-peer backup restored into a fresh 3-peer cluster: each peer's shards back, every replica Active, the same points", async (t) => {
  needsEmulatorFaults(t, "the fresh target cluster is an emulator the test starts");
  const w = await world(t, "e2e-restore-dist", { distributed: true });
  const b = await backedUp(w);
  assert.ok(b.files.length > 1, `a file per peer: ${JSON.stringify(b.files)}`);

  const fresh = await startEmulator({ peers: 3 });
  t.after(() => fresh.stop());
  await apply(w.ns, [
    { apiVersion: API_VERSION, kind: "QdrantConnection", metadata: { name: "fresh" }, spec: { url: fresh.peers[0], peers: { mode: "Static", urls: fresh.peers } } },
    restoreObj("spread", { backupRef: { name: b.name } }, { target: { connectionRef: { name: "fresh" } } }),
  ]);
  const r = await waitForRestorePhase(w.ns, "spread", "Succeeded", 180_000);
  assert.equal(r.status?.targetCollection, w.collection);
  assert.deepEqual(r.status?.pointsCount, { expected: 20, actual: 20 });

  const { peers } = qdrantUnderTest();
  const source = await Promise.all(peers.map((url) => collectionCluster(url, w.collection)));
  const target = await Promise.all(fresh.peers.map((url) => collectionCluster(url, w.collection)));
  assert.deepEqual(placement(target), placement(source), "each target peer holds a source peer's shards, with its points");
  for (const info of target) {
    for (const s of info.local_shards) assert.equal(s.state, "Active", `peer ${info.peer_id} shard ${s.shard_id}`);
    for (const s of info.remote_shards) assert.equal(s.state, "Active", `peer ${info.peer_id} sees shard ${s.shard_id} on ${s.peer_id}`);
  }
  assert.deepEqual(await allPoints(fresh.peers[0]!, w.collection), await allPoints(peers[0]!, w.collection), "the same points");
  for (const url of fresh.peers) assert.deepEqual(await collectionNames(url), [w.collection], "the fresh cluster holds the restored collection only");
});
