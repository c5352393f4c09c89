/**
 * `job backup` as the Job's pod runs it: a child process against emulators started here and the shared
 * MinIO. Checks what the controller and a later restore rely on: the result file, the exit code, the
 * manifest (written last, sha256 and size of the bytes really uploaded), and that nothing is left behind
 * (no node-local snapshot, no multipart upload).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startEmulator, type EmulatorHandle } from "../emulator/index.ts";
import { AdminClient } from "../emulator/admin-client.ts";
import { parseManifest, type Manifest } from "../../src/backup/layout/manifest.ts";
import { backupPrefix, manifestKey } from "../../src/backup/layout/object-keys.ts";
import type { BackupJobPlan } from "../../src/jobs/backup/contract.ts";
import { EXIT_CODES } from "../../src/jobs/protocol/exit-codes.ts";
import { s3Client, useBucket } from "../helpers/s3.ts";
import { allPoints, listKeys, makePlan, multipartUploads, objectBytes, qdrant, runJob, seedCollection, uploadAndRecover } from "./backup-harness.ts";

function keyParts(plan: BackupJobPlan, collection: string) {
  return { namespace: plan.source.namespace, connection: plan.source.connection, collection, backupId: plan.backupId, ...(plan.s3.prefix ? { prefix: plan.s3.prefix } : {}) };
}

async function readManifest(bucket: string, key: string): Promise<Manifest> {
  const parsed = parseManifest(await objectBytes(s3Client(), bucket, key), { key });
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
  return parsed.manifest;
}

async function snapshotFilesOnDisk(admin: AdminClient, peers: number): Promise<string[]> {
  const out: string[] = [];
  for (let p = 1; p <= peers; p++) {
    const f = await admin.files(p);
    out.push(...f.snapshots.map((s) => `peer ${p}: ${s.path}`), ...f.tmp.map((s) => `peer ${p} tmp: ${s.path}`));
  }
  return out;
}

describe("job backup, standalone Qdrant", () => {
  let emu: EmulatorHandle;
  let admin: AdminClient;
  before(async () => {
    emu = await startEmulator();
    admin = new AdminClient(emu.adminUrl);
    await seedCollection(emu.url, "docs", 300);
    await qdrant(emu.url, "POST", "/collections/aliases", { actions: [{ create_alias: { alias_name: "docs-live", collection_name: "docs" } }] });
    await seedCollection(emu.url, "other", 5);
  });
  after(async () => {
    await emu.stop();
  });

  it("uploads the snapshot with a manifest whose sha256 and size are the uploaded bytes', and the bytes recover to the same points", async (t) => {
    const bucket = await useBucket(t);
    const plan = makePlan(emu.url, bucket, { prefix: "qdrant/prod" });
    const run = await runJob(plan);
    assert.equal(run.code, EXIT_CODES.SUCCESS, run.stdout + run.stderr);

    const s3 = s3Client();
    const mKey = manifestKey(keyParts(plan, "docs"));
    const m = await readManifest(bucket, mKey);
    assert.equal(m.collection?.name, "docs");
    assert.equal(m.collection?.pointsCount, 300);
    assert.deepEqual(m.collection?.aliases, ["docs-live"]);
    assert.equal((m.collection?.config as { params?: { vectors?: { size?: number } } }).params?.vectors?.size, 4);
    assert.equal(m.qdrant.version, "1.19.0");
    assert.equal(m.qdrant.distributed, false);
    assert.equal(m.source.backupUid, plan.source.backupUid);
    assert.equal(m.peers.length, 1);
    const file = m.peers[0]!.file;
    const bytes = await objectBytes(s3, bucket, file.key);
    assert.equal(file.size, bytes.length);
    assert.equal(file.sha256, createHash("sha256").update(bytes).digest("hex"));
    assert.match(file.qdrantSnapshotName ?? "", new RegExp(`^docs-${m.peers[0]!.peerId}-`));
    assert.deepEqual(m.peers[0]!.shardIds, [0]);

    // Only the snapshot and the manifest: no pending marker, no multipart upload, nothing on the peer's disk.
    assert.deepEqual(await listKeys(s3, bucket), [file.key, mKey].sort());
    assert.deepEqual(await multipartUploads(s3, bucket, file.key), []);
    assert.deepEqual(await snapshotFilesOnDisk(admin, 1), []);

    // The result the controller reads.
    assert.ok(run.result?.ok);
    assert.equal(run.result.backupId, plan.backupId);
    assert.equal(run.result.sizeBytes, bytes.length);
    assert.deepEqual(run.result.collections, [
      { name: "docs", manifestKey: mKey, pointsCount: 300, sizeBytes: bytes.length, files: [{ peerId: m.peers[0]!.peerId, key: file.key, size: file.size, sha256: file.sha256 }] },
    ]);
    assert.ok(Buffer.byteLength(run.resultText) <= 4096);
    // Kubernetes-style JSON logs.
    const msgs = run.stdout.trim().split("\n").map((l) => (JSON.parse(l) as { msg: string }).msg);
    for (const m of ["Created snapshot", "Uploaded snapshot", "Wrote manifest", "Backup succeeded"]) assert.ok(msgs.includes(m), `log has "${m}": ${msgs.join(" | ")}`);

    // Restorable: the uploaded bytes recover into a fresh Qdrant with the same points.
    const fresh = await startEmulator();
    t.after(() => fresh.stop());
    await uploadAndRecover(fresh.url, "docs", bytes, m.peers[0]!.file.sha256);
    assert.deepEqual(await allPoints(fresh.url, "docs"), await allPoints(emu.url, "docs"));
  });

  it("backs up every collection a pattern selects (anchored), one manifest each", async (t) => {
    const bucket = await useBucket(t);
    const plan = makePlan(emu.url, bucket, { collections: { pattern: "doc|oth.*" } });
    const run = await runJob(plan);
    assert.equal(run.code, EXIT_CODES.SUCCESS, run.stdout + run.stderr);
    assert.ok(run.result?.ok);
    // "doc" alone does not match "docs": the pattern is anchored.
    assert.deepEqual(run.result.collections?.map((c) => [c.name, c.pointsCount]), [["other", 5]]);
    await readManifest(bucket, manifestKey(keyParts(plan, "other")));
  });

  it("waits for a snapshot create and download slower than timeoutSeconds, which still bounds the ordinary calls", async (t) => {
    const bucket = await useBucket(t);
    const plan = makePlan(emu.url, bucket);
    const quick = { ...plan, qdrant: { ...plan.qdrant, timeoutSeconds: 1 } };
    await admin.delayNext({ method: "POST", path: "/collections/{collection_name}/snapshots" }, 2500);
    await admin.delayNext({ method: "GET", path: "/collections/{collection_name}/snapshots/{snapshot_name}" }, 2500);
    const slow = await runJob(quick);
    assert.equal(slow.code, EXIT_CODES.SUCCESS, slow.stdout + slow.stderr);
    await readManifest(bucket, manifestKey(keyParts(plan, "docs")));

    await admin.delayNext({ method: "GET", path: "/collections" }, 2500);
    const stalled = await runJob({ ...quick, backupId: makePlan(emu.url, bucket).backupId });
    assert.equal(stalled.code, EXIT_CODES.RETRYABLE, stalled.stdout + stalled.stderr);
    assert.ok(stalled.result && !stalled.result.ok);
    assert.equal(stalled.result.reason, "QdrantUnreachable");
    assert.match(stalled.result.message, /GET .*\/collections: no answer within 1000 ms/);
    assert.deepEqual(await snapshotFilesOnDisk(admin, 1), []);
  });

  it("fails with exit 1 and Qdrant's words when snapshot creation fails, leaving no manifest and nothing on disk", async (t) => {
    const bucket = await useBucket(t);
    await admin.failNext({ method: "POST", path: "/collections/{collection_name}/snapshots" }, 500, "Service internal error: No space left on device (os error 28)");
    const plan = makePlan(emu.url, bucket);
    const run = await runJob(plan);
    assert.equal(run.code, EXIT_CODES.RETRYABLE, run.stdout + run.stderr);
    assert.ok(run.result && !run.result.ok);
    assert.equal(run.result.reason, "QdrantError");
    assert.equal(run.result.retryable, true);
    assert.match(run.result.message, /No space left on device/);
    assert.deepEqual(await listKeys(s3Client(), bucket), []);
    assert.deepEqual(await snapshotFilesOnDisk(admin, 1), []);
  });

  it("fails with exit 1 when the download is cut, aborting the upload and deleting the snapshot", async (t) => {
    const bucket = await useBucket(t);
    await admin.cutNext({ path: "/collections/{collection_name}/snapshots/{snapshot_name}" }, 4096);
    const plan = makePlan(emu.url, bucket);
    const run = await runJob(plan);
    assert.equal(run.code, EXIT_CODES.RETRYABLE, run.stdout + run.stderr);
    assert.ok(run.result && !run.result.ok);
    assert.equal(run.result.reason, "QdrantUnreachable");
    assert.deepEqual(await listKeys(s3Client(), bucket), []);
    assert.deepEqual(await snapshotFilesOnDisk(admin, 1), []);
  });

  it("fails permanently (exit 2) for a missing collection, and says an alias is not a collection", async (t) => {
    const bucket = await useBucket(t);
    const missing = await runJob(makePlan(emu.url, bucket, { collections: { names: ["docs", "nope"] } }));
    assert.equal(missing.code, EXIT_CODES.PERMANENT, missing.stdout + missing.stderr);
    assert.ok(missing.result && !missing.result.ok);
    assert.equal(missing.result.reason, "CollectionNotFound");
    assert.equal(missing.result.message, 'collection "nope" does not exist');

    const alias = await runJob(makePlan(emu.url, bucket, { collections: { names: ["docs-live"] } }));
    assert.equal(alias.code, EXIT_CODES.PERMANENT);
    assert.ok(alias.result && !alias.result.ok);
    assert.match(alias.result.message, /collection "docs-live" does not exist \("docs-live" is an alias of collection "docs"/);
    assert.deepEqual(await listKeys(s3Client(), bucket), []);
    assert.deepEqual(await snapshotFilesOnDisk(admin, 1), []);
  });

  it("fails permanently (exit 2) with wrong S3 credentials, saying so without the secret", async (t) => {
    const bucket = await useBucket(t);
    const secret = "wrong-secret-value-123456";
    const run = await runJob(makePlan(emu.url, bucket), { secretAccessKey: secret });
    assert.equal(run.code, EXIT_CODES.PERMANENT, run.stdout + run.stderr);
    assert.ok(run.result && !run.result.ok);
    assert.equal(run.result.reason, "StorageAccessDenied");
    assert.match(run.result.message, /credentials/);
    assert.ok(!run.resultText.includes(secret) && !run.stdout.includes(secret) && !run.stderr.includes(secret));
    assert.deepEqual(await snapshotFilesOnDisk(admin, 1), []);
  });

  it("fails permanently (exit 2) for a missing bucket", async () => {
    const run = await runJob(makePlan(emu.url, "no-such-bucket-for-backup-tests"));
    assert.equal(run.code, EXIT_CODES.PERMANENT, run.stdout + run.stderr);
    assert.ok(run.result && !run.result.ok);
    assert.equal(run.result.reason, "BucketNotFound");
  });

  it("fails permanently (exit 2) on a bad plan, naming the fields", async () => {
    const run = await runJob(JSON.stringify({ ...makePlan(emu.url, "b"), backupId: "yesterday", collections: { names: ["a"], all: true } }));
    assert.equal(run.code, EXIT_CODES.PERMANENT);
    assert.ok(run.result && !run.result.ok);
    assert.equal(run.result.reason, "InvalidBackupPlan");
    assert.match(run.result.message, /plan\.backupId: "yesterday" is not a backup id/);
    assert.match(run.result.message, /plan\.collections: must have exactly one of names, all, pattern/);
    const notJson = await runJob("{");
    assert.equal(notJson.code, EXIT_CODES.PERMANENT);
    assert.match(notJson.resultText, /BACKUP_PLAN is not JSON/);
  });
});

describe("job backup, Qdrant with an API key", () => {
  let emu: EmulatorHandle;
  const apiKey = "the-right-key-0123456789";
  before(async () => {
    emu = await startEmulator({ apiKey });
    await seedCollection(emu.url, "docs", 20, { apiKey });
  });
  after(async () => {
    await emu.stop();
  });

  it("backs up with the key, and fails permanently (exit 2) with a wrong one, without logging it", async (t) => {
    const bucket = await useBucket(t);
    const good = await runJob(makePlan(emu.url, bucket), { apiKey });
    assert.equal(good.code, EXIT_CODES.SUCCESS, good.stdout + good.stderr);
    assert.ok(!good.stdout.includes(apiKey));

    const wrong = "a-wrong-key-9876543210";
    const bad = await runJob(makePlan(emu.url, bucket), { apiKey: wrong });
    assert.equal(bad.code, EXIT_CODES.PERMANENT, bad.stdout + bad.stderr);
    assert.ok(bad.result && !bad.result.ok);
    assert.equal(bad.result.reason, "QdrantUnauthorized");
    assert.match(bad.result.message, /401 Invalid API key/);
    assert.ok(!bad.resultText.includes(wrong) && !bad.stdout.includes(wrong));
  });
});

describe("job backup, 3-peer cluster", () => {
  let emu: EmulatorHandle;
  let admin: AdminClient;
  before(async () => {
    emu = await startEmulator({ peers: 3 });
    admin = new AdminClient(emu.adminUrl);
    await seedCollection(emu.url, "docs", 300, { shardNumber: 3 });
  });
  after(async () => {
    await emu.stop();
  });

  it("takes one snapshot per peer, each fetched from its own peer, and lists 3 files in the manifest", async (t) => {
    const bucket = await useBucket(t);
    const plan = makePlan(emu.url, bucket);
    // Each peer takes 300 ms to make its snapshot: one after another, the creations could not overlap.
    await admin.delayNext({ method: "POST", path: "/collections/{collection_name}/snapshots" }, 300, 3);
    const run = await runJob(plan);
    assert.equal(run.code, EXIT_CODES.SUCCESS, run.stdout + run.stderr);
    const m = await readManifest(bucket, manifestKey(keyParts(plan, "docs")));
    assert.equal(m.qdrant.distributed, true);
    const peers = await admin.peers();
    assert.deepEqual(m.peers.map((p) => p.peerId).sort(), peers.map((p) => String(p.id)).sort());
    assert.deepEqual(m.peers.flatMap((p) => p.shardIds ?? []).sort(), [0, 1, 2]);
    const s3 = s3Client();
    for (const p of m.peers) {
      assert.match(p.file.qdrantSnapshotName ?? "", new RegExp(`^docs-${p.peerId}-`), "the snapshot was made by this peer");
      const bytes = await objectBytes(s3, bucket, p.file.key);
      assert.equal(p.file.sha256, createHash("sha256").update(bytes).digest("hex"));
      assert.equal(p.file.size, bytes.length);
    }
    // The snapshots were made together: every peer's creation started before any other one ended.
    const latestStart = Math.max(...m.peers.map((p) => Date.parse(p.snapshotStartTime!)));
    const earliestEnd = Math.min(...m.peers.map((p) => Date.parse(p.snapshotEndTime!)));
    assert.ok(latestStart <= earliestEnd, "snapshots were created concurrently");
    // Fetched from its own peer: a snapshot lives only on the disk of the peer that made it (a download from
    // any other peer is a 404), and the job called each peer on its own URL.
    const logs = run.stdout.trim().split("\n").map((l) => JSON.parse(l) as { msg: string; peerId?: string; peerUrl?: string });
    for (const p of peers) {
      const line = logs.find((l) => l.msg === "Creating snapshot" && l.peerId === String(p.id));
      assert.equal(line?.peerUrl, p.url, `peer ${p.id} was called on its own URL`);
    }
    assert.deepEqual(await snapshotFilesOnDisk(admin, 3), []);
    assert.equal((await listKeys(s3, bucket, backupPrefix(keyParts(plan, "docs")))).length, 4);
  });
});
