/**
 * The adapter's recovery on a distributed Qdrant, peer by peer, as the restore Job does it: each source
 * peer's snapshot recovered on a peer of a fresh 3-peer cluster (the first call alone, as it creates the
 * collection cluster-wide, then the others at once), and what the Job's verification reads meanwhile:
 * `collectionCluster` on every peer reports local AND remote replica states, which stay `ManualRecovery`
 * while Qdrant's activation has not committed (the emulator's opt-in settle window; a real Qdrant's lasts
 * well under a second), and a count then misses their points. On emulators of its own: it needs a fresh
 * cluster and the settle window of the admin API.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { QdrantApi } from "../../src/qdrant/client.ts";
import { AdminClient } from "../emulator/admin-client.ts";
import { startEmulator, type EmulatorHandle } from "../emulator/index.ts";

async function readAll(body: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe("QdrantApi recovery on a distributed Qdrant", () => {
  let source: EmulatorHandle;
  let fresh: EmulatorHandle;
  let server: Server;
  let base: string;
  const files = new Map<string, Buffer>();
  const snapshots: Array<{ name: string; size: number; checksum: string }> = [];
  let expected: unknown[] = [];

  before(async () => {
    source = await startEmulator({ peers: 3 });
    fresh = await startEmulator({ peers: 3 });
    server = createServer((req, res) => {
      const body = files.get(req.url ?? "");
      if (body === undefined) res.writeHead(404).end();
      else res.writeHead(200, { "content-length": body.length }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const api = new QdrantApi({ url: source.url, timeoutMs: 30_000 });
    await api.createCollection("docs", { vectors: { size: 2, distance: "Dot" }, shard_number: 3 });
    await api.upsert("docs", Array.from({ length: 300 }, (_, i) => ({ id: i + 1, vector: [i, 1], payload: { i } })));
    expected = (await api.scroll("docs", { limit: 1000, with_payload: true, with_vector: true })).points;
    for (const peer of source.peers) {
      const made = await api.at(peer).createSnapshot({ collection: "docs" });
      files.set(`/${made.name}`, await readAll((await api.at(peer).downloadSnapshot({ collection: "docs" }, made.name)).body));
      snapshots.push({ name: made.name, size: made.size, checksum: made.checksum ?? "" });
    }
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await source.stop();
    await fresh.stop();
  });

  it("restores every peer's shards, the first call creating the collection; replicas report ManualRecovery everywhere until activated", async () => {
    const admin = new AdminClient(fresh.adminUrl);
    const api = new QdrantApi({ url: fresh.url, timeoutMs: 30_000 });
    await admin.recoverySettle(600_000, "restored");
    const recover = (i: number) =>
      api.at(fresh.peers[i] ?? "").recoverSnapshot("restored", { location: `${base}/${snapshots[i]?.name}`, checksum: snapshots[i]?.checksum, priority: "snapshot" });
    await recover(0);
    await Promise.all([recover(1), recover(2)]);

    for (const peer of fresh.peers) {
      const placement = await api.at(peer).collectionCluster("restored");
      const states = [...placement.localShards.map((s) => s.state), ...placement.remoteShards.map((s) => s.state)];
      assert.equal(states.length, 3, `${peer} sees all three replicas`);
      assert.deepEqual([...new Set(states)], ["ManualRecovery"], `${peer}: local and remote replicas still recovering`);
      assert.ok(placement.remoteShards.every((s) => /^\d+$/.test(s.peerId) && s.peerId !== placement.peerId));
      assert.ok((await api.at(peer).count("restored")) < 300, "a count now misses the recovering shards");
    }

    await admin.recoverySettle(0, "restored");
    for (const peer of fresh.peers) {
      const placement = await api.at(peer).collectionCluster("restored");
      assert.ok([...placement.localShards, ...placement.remoteShards].every((s) => s.state === "Active"));
      assert.equal(await api.at(peer).count("restored"), 300);
    }
    assert.equal((await api.collectionInfo("restored")).status, "green");
    assert.deepEqual((await api.scroll("restored", { limit: 1000, with_payload: true, with_vector: true })).points, expected);
  });

  it("uploads every peer's snapshot to its peer at once, streamed, and gets the same placement and points", async () => {
    const api = new QdrantApi({ url: fresh.url, timeoutMs: 30_000 });
    const target = "uploaded";
    const upload = (i: number) => {
      const s = snapshots[i];
      const bytes = files.get(`/${s?.name}`) ?? Buffer.alloc(0);
      return api.at(fresh.peers[i] ?? "").uploadSnapshot(target, Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]), { size: bytes.length, filename: s?.name ?? "", checksum: s?.checksum });
    };
    await upload(0);
    await Promise.all([upload(1), upload(2)]);
    const sourceApi = new QdrantApi({ url: source.url, timeoutMs: 30_000 });
    for (const [i, peer] of fresh.peers.entries()) {
      const had = (await sourceApi.at(source.peers[i] ?? "").collectionCluster("docs")).localShards.map((s) => [s.shardId, s.pointsCount]);
      const got = (await api.at(peer).collectionCluster(target)).localShards.map((s) => [s.shardId, s.pointsCount]);
      assert.deepEqual(got, had, `peer ${i + 1} holds what source peer ${i + 1} held`);
    }
    assert.equal(await api.count(target), 300);
  });
});
