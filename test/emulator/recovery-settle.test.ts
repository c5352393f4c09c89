/**
 * The opt-in settle window after a recover on a distributed cluster (recovery-settle.ts): the restored
 * replicas report ManualRecovery on every peer and their points are missing from counts until Qdrant's
 * activation proposal "commits" — what a restore's verification must wait out. Off by default (the other
 * cluster tests see Active at once), none on a standalone Qdrant, and ended either by its timer or by
 * turning it off. Every JSON answer goes through the validating proxy.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { downloadTo, eventually, REAL_QDRANT_URL, startTarget, uniqueName, uploadSnapshot, type TestTarget } from "./harness.ts";

interface ClusterInfo {
  peer_id: number;
  local_shards: Array<{ shard_id: number; points_count: number; state: string }>;
  remote_shards: Array<{ shard_id: number; peer_id: number; state: string }>;
}

async function clusterInfo(t: TestTarget, peer: number, name: string): Promise<ClusterInfo> {
  return (await t.client(peer).api().collectionClusterInfo({ collection_name: name })).data.result as ClusterInfo;
}

/** Every replica's state as one peer reports it: "shard/peer" → state. */
async function states(t: TestTarget, peer: number, name: string): Promise<Map<string, string>> {
  const info = await clusterInfo(t, peer, name);
  const out = new Map<string, string>();
  for (const s of info.local_shards) out.set(`${s.shard_id}/${info.peer_id}`, s.state);
  for (const s of info.remote_shards) out.set(`${s.shard_id}/${s.peer_id}`, s.state);
  return out;
}

async function allActive(t: TestTarget, name: string): Promise<boolean> {
  for (let p = 1; p <= 3; p++) if ([...(await states(t, p, name)).values()].some((s) => s !== "Active")) return false;
  return true;
}

describe("recovery settle window (emulator admin API)", { skip: REAL_QDRANT_URL !== undefined ? "needs the emulator's admin API" : false }, () => {
  let source: TestTarget;
  let work: string;
  const name = uniqueName("settle");
  const files: string[] = [];
  /** Points per source peer (each holds one of the three shards). */
  const perPeer: number[] = [];
  before(async () => {
    source = await startTarget({ peers: 3 });
    work = fs.mkdtempSync(path.join(os.tmpdir(), "emu-settle-test-"));
    await source.client(1).createCollection(name, { vectors: { size: 2, distance: "Dot" }, shard_number: 3 });
    await source.client(1).upsert(name, { points: Array.from({ length: 300 }, (_, i) => ({ id: i, vector: [i, 1], payload: { i } })) });
    for (let p = 1; p <= 3; p++) {
      const info = await clusterInfo(source, p, name);
      perPeer.push(info.local_shards.reduce((n, s) => n + s.points_count, 0));
      const desc = await source.client(p).createSnapshot(name);
      const file = path.join(work, desc?.name ?? `p${p}.snapshot`);
      await downloadTo(`${source.peers[p - 1]}/collections/${name}/snapshots/${desc?.name}`, file);
      files.push(file);
    }
  });
  after(async () => {
    await source.close();
    fs.rmSync(work, { recursive: true, force: true });
    assert.ok(source.assertAllValid() > 0, "no JSON response was checked");
  });

  async function upload(t: TestTarget, peer: number): Promise<void> {
    const r = await uploadSnapshot(`${t.peers[peer - 1]}/collections/${name}/snapshots/upload?priority=snapshot`, files[peer - 1] ?? "");
    assert.equal(r.status, 200, r.text);
  }

  it("keeps restored replicas ManualRecovery on every peer and their points out of counts until the window ends", async () => {
    const fresh = await startTarget({ peers: 3 });
    try {
      await fresh.admin?.recoverySettle(600_000, name);
      // The first recover creates the collection cluster-wide; the others run at once.
      await upload(fresh, 1);
      await Promise.all([upload(fresh, 2), upload(fresh, 3)]);
      for (let p = 1; p <= 3; p++) {
        const seen = await states(fresh, p, name);
        assert.equal(seen.size, 3, `peer ${p} sees the three replicas`);
        assert.deepEqual([...new Set(seen.values())], ["ManualRecovery"], `peer ${p}: every restored replica is still recovering`);
        assert.equal((await fresh.client(p).count(name, { exact: true })).count, 0, "no shard is readable yet");
      }
      const info = await clusterInfo(fresh, 1, name);
      assert.ok(info.local_shards.every((s) => s.points_count > 0), "the data is there, only not active");

      await fresh.admin?.recoverySettle(0, name);
      assert.equal(await allActive(fresh, name), true);
      for (let p = 1; p <= 3; p++) assert.equal((await fresh.client(p).count(name, { exact: true })).count, 300);
    } finally {
      await fresh.close();
    }
    assert.ok(fresh.assertAllValid() > 0);
  });

  it("is a count one shard short when only the last recover's replica has not settled", async () => {
    const fresh = await startTarget({ peers: 3 });
    try {
      await upload(fresh, 1);
      await upload(fresh, 2);
      await fresh.admin?.recoverySettle(600_000, name);
      await upload(fresh, 3);
      const peer3 = (await clusterInfo(fresh, 3, name)).local_shards;
      assert.deepEqual(peer3.map((s) => s.state), ["ManualRecovery"]);
      const remote = (await clusterInfo(fresh, 1, name)).remote_shards.filter((s) => s.state !== "Active");
      assert.equal(remote.length, 1, "peer 1 sees peer 3's replica recovering too");
      assert.equal((await fresh.client(1).count(name, { exact: true })).count, 300 - (perPeer[2] ?? 0));
      await fresh.admin?.recoverySettle(0);
      assert.equal((await fresh.client(1).count(name, { exact: true })).count, 300);
    } finally {
      await fresh.close();
    }
  });

  it("ends by itself after its ms", async () => {
    const fresh = await startTarget({ peers: 3 });
    try {
      await fresh.admin?.recoverySettle(200);
      for (let p = 1; p <= 3; p++) await upload(fresh, p);
      await eventually(() => allActive(fresh, name), "every replica Active after the window");
      assert.equal((await fresh.client(2).count(name, { exact: true })).count, 300);
    } finally {
      await fresh.close();
    }
  });

  it("has no window on a standalone Qdrant, which activates before it answers", async () => {
    const solo = await startTarget();
    try {
      await solo.admin?.recoverySettle(600_000);
      const c = uniqueName("solo");
      await solo.client(1).createCollection(c, { vectors: { size: 2, distance: "Dot" } });
      await solo.client(1).upsert(c, { points: [{ id: 1, vector: [1, 1] }], wait: true });
      const desc = await solo.client(1).createSnapshot(c);
      const file = path.join(work, `solo-${desc?.name}`);
      await downloadTo(`${solo.peers[0]}/collections/${c}/snapshots/${desc?.name}`, file);
      const r = await uploadSnapshot(`${solo.peers[0]}/collections/${c}-copy/snapshots/upload`, file);
      assert.equal(r.status, 200, r.text);
      assert.equal((await solo.client(1).count(`${c}-copy`)).count, 1);
      const info = await clusterInfo(solo, 1, `${c}-copy`);
      assert.deepEqual(info.local_shards.map((s) => s.state), ["Active"]);
    } finally {
      await solo.close();
    }
    assert.ok(solo.assertAllValid() > 0);
  });
});
