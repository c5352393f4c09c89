/**
 * `job backup` in mode FullStorage: `POST /snapshots` on every peer at once, each archive streamed from
 * its own peer into `…/_storage/<backupId>/`, one manifest last. Checks the manifest against the bytes in
 * the bucket, that an archive holds every collection and the aliases (config.json) and that the
 * collection snapshots inside it recover to the same points, and that nothing is left on the peers' disks
 * (backup-crash.test.ts has the retry after a SIGKILL).
 */
import { after, before, describe, it, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmulator, type EmulatorHandle } from "../emulator/index.ts";
import { AdminClient } from "../emulator/admin-client.ts";
import { readEntry, readTarEntries } from "../emulator/tar.ts";
import { parseManifest, type Manifest } from "../../src/backup/layout/manifest.ts";
import { manifestKey, snapshotKey } from "../../src/backup/layout/object-keys.ts";
import { EXIT_CODES } from "../../src/jobs/protocol/exit-codes.ts";
import { s3Client, useBucket } from "../helpers/s3.ts";
import { allPoints, fullStoragePlan, listKeys, objectBytes, qdrant, runJob, seedCollection, storageParts, uploadAndRecover } from "./backup-harness.ts";

async function readManifest(bucket: string, key: string): Promise<Manifest> {
  const parsed = parseManifest(await objectBytes(s3Client(), bucket, key), { key });
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
  return parsed.manifest;
}

/** The archive's entries by name, read from a temp copy of its bytes. */
async function archive(t: TestContext, bytes: Buffer): Promise<{ file: string; names: string[]; config: { collections_mapping: Record<string, string>; collections_aliases: Record<string, string> } }> {
  const dir = mkdtempSync(join(tmpdir(), "full-snapshot-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "archive.tar");
  writeFileSync(file, bytes);
  const entries = await readTarEntries(file);
  const config = entries.find((e) => e.name === "config.json");
  assert.ok(config, `config.json in ${entries.map((e) => e.name).join(", ")}`);
  return { file, names: entries.map((e) => e.name), config: JSON.parse((await readEntry(file, config)).toString("utf8")) as never };
}

async function entryBytes(file: string, name: string): Promise<Buffer> {
  const entry = (await readTarEntries(file)).find((e) => e.name === name);
  assert.ok(entry, `${name} in the archive`);
  return readEntry(file, entry);
}

describe("job backup FullStorage, standalone Qdrant", () => {
  let emu: EmulatorHandle;
  let admin: AdminClient;
  before(async () => {
    emu = await startEmulator();
    admin = new AdminClient(emu.adminUrl);
    await seedCollection(emu.url, "docs", 120);
    await seedCollection(emu.url, "other", 5);
    await qdrant(emu.url, "POST", "/collections/aliases", { actions: [{ create_alias: { alias_name: "docs-live", collection_name: "docs" } }] });
  });
  after(async () => {
    await emu.stop();
  });

  it("uploads one archive with every collection and the aliases; its manifest matches the bucket, and the collections inside recover", async (t) => {
    const bucket = await useBucket(t);
    const plan = fullStoragePlan(emu.url, bucket);
    const run = await runJob(plan);
    assert.equal(run.code, EXIT_CODES.SUCCESS, run.stdout + run.stderr);

    const s3 = s3Client();
    const mKey = manifestKey(storageParts(plan));
    assert.match(mKey, new RegExp(`/_storage/${plan.backupId}/manifest\\.json$`));
    const m = await readManifest(bucket, mKey);
    assert.equal(m.mode, "FullStorage");
    assert.equal(m.collection, undefined);
    assert.deepEqual(m.storage?.collections, [
      { name: "docs", pointsCount: 120, aliases: ["docs-live"] },
      { name: "other", pointsCount: 5, aliases: [] },
    ]);
    assert.equal(m.peers.length, 1);
    const peer = m.peers[0]!;
    assert.deepEqual(peer.collections, [
      { name: "docs", shardIds: [0] },
      { name: "other", shardIds: [0] },
    ]);
    assert.equal(peer.peerId, String((await admin.peers())[0]!.id), "the peer's real id, not the discovery's name for it");
    assert.match(peer.file.qdrantSnapshotName ?? "", /^full-snapshot-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.snapshot$/);
    assert.equal(peer.file.key, snapshotKey(storageParts(plan), peer.peerId));
    const bytes = await objectBytes(s3, bucket, peer.file.key);
    assert.equal(peer.file.size, bytes.length);
    assert.equal(peer.file.sha256, createHash("sha256").update(bytes).digest("hex"));

    // Only the archive and the manifest; nothing left on the peer.
    assert.deepEqual(await listKeys(s3, bucket), [peer.file.key, mKey].sort());
    assert.deepEqual(await admin.files(1), { snapshots: [], tmp: [] });

    // The result the controller reads.
    assert.ok(run.result?.ok);
    assert.equal(run.result.collections, undefined);
    assert.equal(run.result.manifestKey, mKey);
    assert.equal(run.result.sizeBytes, bytes.length);
    assert.deepEqual(run.result.files, [{ peerId: peer.peerId, key: peer.file.key, size: bytes.length, sha256: peer.file.sha256 }]);
    assert.deepEqual(run.result.storage, m.storage);

    // The archive: both collections' snapshots and a config.json with the aliases; each inner snapshot
    // recovers into a fresh Qdrant with the same points.
    const a = await archive(t, bytes);
    assert.deepEqual(Object.keys(a.config.collections_mapping).sort(), ["docs", "other"]);
    assert.deepEqual(a.config.collections_aliases, { "docs-live": "docs" });
    const fresh = await startEmulator();
    t.after(() => fresh.stop());
    for (const [collection, inner] of Object.entries(a.config.collections_mapping)) {
      assert.ok(a.names.includes(inner), `${inner} in the archive`);
      const snap = await entryBytes(a.file, inner);
      await uploadAndRecover(fresh.url, collection, snap, createHash("sha256").update(snap).digest("hex"));
      assert.deepEqual(await allPoints(fresh.url, collection), await allPoints(emu.url, collection), collection);
    }
  });
});

describe("job backup FullStorage, 3-peer cluster", () => {
  let emu: EmulatorHandle;
  let admin: AdminClient;
  before(async () => {
    emu = await startEmulator({ peers: 3 });
    admin = new AdminClient(emu.adminUrl);
    await seedCollection(emu.url, "docs", 90, { shardNumber: 3 });
  });
  after(async () => {
    await emu.stop();
  });

  it("takes one archive per peer, all at once, each from its own peer, and records which shards each holds", async (t) => {
    const bucket = await useBucket(t);
    const plan = fullStoragePlan(emu.url, bucket);
    // Each peer takes 300 ms to make its archive: one after another, the creations could not overlap.
    await admin.delayNext({ method: "POST", path: "/snapshots" }, 300, 3);
    const run = await runJob(plan);
    assert.equal(run.code, EXIT_CODES.SUCCESS, run.stdout + run.stderr);
    const m = await readManifest(bucket, manifestKey(storageParts(plan)));
    assert.equal(m.qdrant.distributed, true);
    const peers = await admin.peers();
    assert.deepEqual(m.peers.map((p) => p.peerId).sort(), peers.map((p) => String(p.id)).sort());
    assert.deepEqual(m.peers.flatMap((p) => p.collections?.flatMap((c) => c.shardIds) ?? []).sort(), [0, 1, 2]);
    assert.deepEqual(m.storage?.collections, [{ name: "docs", pointsCount: 90, aliases: [] }]);
    const latestStart = Math.max(...m.peers.map((p) => Date.parse(p.snapshotStartTime!)));
    const earliestEnd = Math.min(...m.peers.map((p) => Date.parse(p.snapshotEndTime!)));
    assert.ok(latestStart <= earliestEnd, "archives were created concurrently");
    const s3 = s3Client();
    for (const p of m.peers) {
      const bytes = await objectBytes(s3, bucket, p.file.key);
      assert.equal(p.file.sha256, createHash("sha256").update(bytes).digest("hex"));
      // Each peer's archive holds a snapshot of its own shards only.
      const a = await archive(t, bytes);
      assert.deepEqual(Object.keys(a.config.collections_mapping), ["docs"]);
    }
    const logs = run.stdout.trim().split("\n").map((l) => JSON.parse(l) as { msg: string; peerId?: string; peerUrl?: string });
    for (const p of peers) assert.equal(logs.find((l) => l.msg === "Creating snapshot" && l.peerId === String(p.id))?.peerUrl, p.url, `peer ${p.id} was called on its own URL`);
    for (let p = 1; p <= 3; p++) assert.deepEqual(await admin.files(p), { snapshots: [], tmp: [] }, `nothing left on peer ${p}`);
  });
});
