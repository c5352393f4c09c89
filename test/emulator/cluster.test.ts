import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { allPoints, downloadTo, emulatorOnly, errorText, raw, REAL_QDRANT_URL, startTarget, uniqueName, uploadSnapshot, type TestTarget } from "./harness.ts";
import { readTarEntries } from "./tar.ts";

interface ClusterInfo {
  peer_id: number;
  shard_count: number;
  local_shards: Array<{ shard_id: number; points_count: number; state: string }>;
  remote_shards: Array<{ shard_id: number; peer_id: number; state: string }>;
}

// A 3-peer cluster on 127.0.0.1-3 needs the emulator (or QDRANT_PEERS naming three real peers).
const needsEmulator = REAL_QDRANT_URL !== undefined && (process.env.QDRANT_PEERS ?? "").split(",").length < 3;

describe("3-peer cluster", { skip: needsEmulator ? "needs the emulator or QDRANT_PEERS with three peers" : false }, () => {
  let target: TestTarget;
  let work: string;
  before(async () => {
    target = await startTarget({ peers: 3 });
    work = fs.mkdtempSync(path.join(os.tmpdir(), "emu-cluster-test-"));
  });
  after(async () => {
    await target.close();
    fs.rmSync(work, { recursive: true, force: true });
    assert.ok(target.assertAllValid() > 0, "no JSON response was checked");
  });

  async function clusterInfo(t: TestTarget, peer: number, name: string): Promise<ClusterInfo> {
    return (await t.client(peer).api().collectionClusterInfo({ collection_name: name })).data.result as ClusterInfo;
  }

  it("reports peers with p2p URIs from which each REST address derives", async () => {
    const ids = new Set<number>();
    for (let i = 0; i < 3; i++) {
      const r = await raw(`${target.peers[i]}/cluster`);
      const status = (r.json as { result: { status: string; peer_id: number; peers: Record<string, { uri: string }>; raft_info: { role: string; leader: number } } }).result;
      assert.equal(status.status, "enabled");
      ids.add(status.peer_id);
      assert.equal(Object.keys(status.peers).length, 3);
      const mine = new URL(status.peers[String(status.peer_id)]?.uri ?? "");
      const direct = new URL(target.directPeers[i] ?? "");
      assert.equal(mine.hostname, direct.hostname, "a peer's REST host is its p2p host");
      assert.equal(mine.hostname, `127.0.0.${i + 1}`);
      assert.equal(status.raft_info.role, i === 0 ? "Leader" : "Follower");
    }
    assert.equal(ids.size, 3);
  });

  it("spreads shards over peers and sees the whole collection through any peer", async () => {
    const name = uniqueName("spread");
    await target.client(1).createCollection(name, { vectors: { size: 2, distance: "Dot" } });
    await target.client(2).upsert(name, { points: Array.from({ length: 300 }, (_, i) => ({ id: i, vector: [i, 1], payload: { i } })) });
    let total = 0;
    for (let p = 1; p <= 3; p++) {
      const info = await clusterInfo(target, p, name);
      assert.equal(info.shard_count, 3);
      assert.equal(info.local_shards.length, 1, `peer ${p} holds one shard`);
      assert.equal(info.remote_shards.length, 2);
      total += info.local_shards[0]?.points_count ?? 0;
      assert.equal((await target.client(p).count(name)).count, 300);
      assert.equal((await target.client(p).getCollection(name)).points_count, 300);
    }
    assert.equal(total, 300);
  });

  it("takes per-peer snapshots holding only local shards, and restores them on a brand-new cluster", async (t) => {
    if (emulatorOnly(t, "starts a second cluster on demand")) return;
    const name = uniqueName("perpeer");
    await target.client(1).createCollection(name, { vectors: { size: 2, distance: "Cosine" } });
    await target.client(3).upsert(name, { points: Array.from({ length: 300 }, (_, i) => ({ id: i, vector: [1, i], payload: { i } })) });
    const expected = await allPoints(target.client(1), name);
    const files: string[] = [];
    const placement: number[][] = [];
    for (let p = 1; p <= 3; p++) {
      const info = await clusterInfo(target, p, name);
      const local = info.local_shards.map((s) => s.shard_id);
      placement.push(local);
      const desc = await target.client(p).createSnapshot(name);
      assert.ok(desc !== null);
      assert.ok(desc.name.startsWith(`${name}-${info.peer_id}-`), "the peer id is in the name");
      const file = path.join(work, desc.name);
      assert.equal((await downloadTo(`${target.peers[p - 1]}/collections/${name}/snapshots/${desc.name}`, file)).sha256, desc.checksum);
      const withData = (await readTarEntries(file)).filter((e) => e.name.endsWith("/segments/points.bin")).map((e) => Number(e.name.split("/")[0]));
      assert.deepEqual(withData, local, `peer ${p}'s snapshot holds only its local shards`);
      files.push(file);
    }

    const fresh = await startTarget({ peers: 3 });
    try {
      for (let p = 1; p <= 3; p++) {
        const r = await uploadSnapshot(`${fresh.peers[p - 1]}/collections/${name}/snapshots/upload?priority=snapshot`, files[p - 1] ?? "");
        assert.equal(r.status, 200, r.text);
      }
      for (let p = 1; p <= 3; p++) {
        const info = await clusterInfo(fresh, p, name);
        assert.deepEqual(info.local_shards.map((s) => s.shard_id), placement[p - 1], `peer ${p} got its shards back`);
        assert.ok(info.local_shards.every((s) => s.state === "Active"));
        assert.equal((await fresh.client(p).count(name)).count, 300);
      }
      assert.deepEqual(await allPoints(fresh.client(2), name), expected);
    } finally {
      await fresh.close();
    }
    assert.ok(fresh.assertAllValid() > 0);
  });

  it("settles other replicas by priority when restoring a replicated shard", async (t) => {
    if (emulatorOnly(t, "inspects replica placement after a targeted restore")) return;
    const name = uniqueName("rf2");
    const c1 = target.client(1);
    await c1.createCollection(name, { vectors: { size: 2, distance: "Dot" }, shard_number: 1, replication_factor: 2 });
    await c1.upsert(name, { points: [{ id: 1, vector: [1, 1] }] });
    const holders = async (): Promise<number[]> => {
      const out: number[] = [];
      for (let p = 1; p <= 3; p++) if ((await clusterInfo(target, p, name)).local_shards.length > 0) out.push(p);
      return out;
    };
    const before = await holders();
    assert.equal(before.length, 2);
    const holder = before[0] ?? 1;
    const outsider = [1, 2, 3].find((p) => !before.includes(p)) ?? 3;
    const desc = await target.client(holder).createSnapshot(name);
    const file = path.join(work, `rf2-${desc?.name}`);
    await downloadTo(`${target.peers[holder - 1]}/collections/${name}/snapshots/${desc?.name}`, file);
    await c1.upsert(name, { points: [{ id: 2, vector: [2, 2] }] });
    // priority=snapshot on a third peer: it becomes a replica, rf-1 = 1 other survives (re-synced), one is removed.
    const r = await uploadSnapshot(`${target.peers[outsider - 1]}/collections/${name}/snapshots/upload?priority=snapshot`, file);
    assert.equal(r.status, 200, r.text);
    const after = await holders();
    assert.equal(after.length, 2);
    assert.ok(after.includes(outsider));
    for (const p of after) {
      const info = await clusterInfo(target, p, name);
      assert.equal(info.local_shards[0]?.state, "Active");
      assert.equal(info.local_shards[0]?.points_count, 1, "every replica holds the snapshot's data");
    }
  });

  it("keeps live data with priority=replica and lets replicas diverge with no_sync", async (t) => {
    if (emulatorOnly(t, "inspects replica placement after a targeted restore")) return;
    for (const priority of ["replica", "no_sync"] as const) {
      const name = uniqueName(priority.replace("_", ""));
      const c1 = target.client(1);
      await c1.createCollection(name, { vectors: { size: 2, distance: "Dot" }, shard_number: 1, replication_factor: 1 });
      await c1.upsert(name, { points: [{ id: 1, vector: [1, 1] }] });
      let owner = 1;
      for (let p = 1; p <= 3; p++) if ((await clusterInfo(target, p, name)).local_shards.length > 0) owner = p;
      const outsider = owner === 3 ? 1 : 3;
      const desc = await target.client(owner).createSnapshot(name);
      const file = path.join(work, `${priority}-${desc?.name}`);
      await downloadTo(`${target.peers[owner - 1]}/collections/${name}/snapshots/${desc?.name}`, file);
      await c1.upsert(name, { points: [{ id: 2, vector: [2, 2] }] });
      const r = await uploadSnapshot(`${target.peers[outsider - 1]}/collections/${name}/snapshots/upload?priority=${priority}`, file);
      assert.equal(r.status, 200, r.text);
      const mine = (await clusterInfo(target, outsider, name)).local_shards[0];
      const theirs = (await clusterInfo(target, owner, name)).local_shards[0];
      assert.equal(mine?.state, "Active");
      assert.equal(theirs?.points_count, 2, "the live replica is untouched");
      assert.equal(mine?.points_count, priority === "replica" ? 2 : 1, priority === "replica" ? "live data wins" : "the snapshot's data, diverging");
    }
  });

  it("serves shard snapshots for local shards only", async () => {
    const name = uniqueName("shardsnap");
    await target.client(1).createCollection(name, { vectors: { size: 2, distance: "Dot" } });
    await target.client(1).upsert(name, { points: Array.from({ length: 30 }, (_, i) => ({ id: i, vector: [i, 0] })) });
    const info = await clusterInfo(target, 2, name);
    const local = info.local_shards[0]?.shard_id ?? 0;
    const remote = info.remote_shards[0]?.shard_id ?? 0;
    const c2 = target.client(2);
    const desc = await c2.createShardSnapshot(name, local, { wait: true });
    assert.match(desc?.name ?? "", new RegExp(`^${name}-shard-${local}-\\d{4}(-\\d{2}){5}\\.snapshot$`));
    assert.equal((await c2.listShardSnapshots(name, local)).length, 1);
    const notLocal = await raw(`${target.peers[1]}/collections/${name}/shards/${remote}/snapshots`, { method: "POST" });
    assert.equal(notLocal.status, 400);
    assert.match(errorText(notLocal) ?? "", new RegExp(`^Wrong input: Shard ${remote} is not a local or queue proxy shard`));
    const unknown = await raw(`${target.peers[1]}/collections/${name}/shards/9/snapshots`, { method: "POST" });
    assert.equal(unknown.status, 404);
    assert.equal(errorText(unknown), "Not found: shard 9 not found");

    const file = path.join(work, desc?.name ?? "shard.snapshot");
    await downloadTo(`${target.peers[1]}/collections/${name}/shards/${local}/snapshots/${desc?.name}`, file);
    const localCount = info.local_shards[0]?.points_count ?? 0;
    await c2.delete(name, { filter: {} });
    assert.equal((await c2.count(name)).count, 0);
    const up = await uploadSnapshot(`${target.peers[1]}/collections/${name}/shards/${local}/snapshots/upload`, file);
    assert.equal(up.status, 200, up.text);
    assert.equal((await c2.count(name)).count, localCount);
    const streamed = await fetch(`${target.peers[1]}/collections/${name}/shards/${local}/snapshot`);
    assert.equal(streamed.status, 200);
    assert.ok((await streamed.arrayBuffer()).byteLength > 0);
    assert.equal(await c2.deleteShardSnapshot(name, local, desc?.name ?? "", { wait: true }), true);
  });

  it("refuses connections while a peer is down and catches it up when it comes back", async (t) => {
    if (emulatorOnly(t, "takes a peer down through the admin API")) return;
    const name = uniqueName("downup");
    const c1 = target.client(1);
    await c1.createCollection(name, { vectors: { size: 2, distance: "Dot" }, shard_number: 3, replication_factor: 2 });
    await target.admin?.peerDown(3);
    await assert.rejects(fetch(`${target.directPeers[2]}/collections`), "peer 3 refuses connections");
    await c1.upsert(name, { points: Array.from({ length: 20 }, (_, i) => ({ id: i, vector: [i, 0] })) });
    assert.equal((await c1.count(name)).count, 20);
    await target.admin?.peerUp(3);
    const info = await clusterInfo(target, 3, name);
    assert.ok(info.local_shards.every((s) => s.state === "Active"));
    assert.equal((await target.client(3).count(name)).count, 20);
    assert.equal(info.local_shards.reduce((n, s) => n + s.points_count, 0) > 0, true);
  });
});
