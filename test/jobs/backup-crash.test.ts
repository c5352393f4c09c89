/**
 * A backup Job's process SIGKILLed mid-upload (OOM, node loss) cleans up nothing; the retry of the same
 * plan (Collection or FullStorage mode) must: no manifest from the killed run, and after the retry no dangling multipart upload and no
 * snapshot on the peer's disk, and a complete backup.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { startEmulator, type EmulatorHandle } from "../emulator/index.ts";
import { AdminClient } from "../emulator/admin-client.ts";
import { parseManifest } from "../../src/backup/layout/manifest.ts";
import { manifestKey, snapshotKey } from "../../src/backup/layout/object-keys.ts";
import { EXIT_CODES } from "../../src/jobs/protocol/exit-codes.ts";
import { s3Client, useBucket } from "../helpers/s3.ts";
import { fullStoragePlan, holdingProxy, listKeys, makePlan, multipartUploads, objectBytes, runJob, seedCollection, startJobMidUpload, storageParts } from "./backup-harness.ts";

const MIB = 1024 * 1024;

describe("job backup killed mid-upload", () => {
  let emu: EmulatorHandle;
  let admin: AdminClient;
  before(async () => {
    emu = await startEmulator();
    admin = new AdminClient(emu.adminUrl);
    // ~24 MiB of payload: a snapshot of three 8 MiB parts.
    await seedCollection(emu.url, "docs", 48, { payloadBytes: 512 * 1024 });
  });
  after(async () => {
    await emu.stop();
  });

  it("leaves no manifest; the retry cleans up the snapshot and the multipart upload, and succeeds", async (t) => {
    const bucket = await useBucket(t);
    const s3 = s3Client();
    // The download stops after 12 MiB and stays open: part 1 is uploaded, part 2 is being read.
    const proxy = await holdingProxy(emu.url, 12 * MIB);
    t.after(() => proxy.close());
    const plan = makePlan(proxy.url, bucket);
    const parts = { namespace: plan.source.namespace, connection: plan.source.connection, collection: "docs", backupId: plan.backupId };

    const peerId = String((await admin.peers())[0]!.id);
    const key = snapshotKey(parts, peerId);
    const first = await startJobMidUpload(plan, proxy, s3, bucket, key);
    first.child.kill("SIGKILL");
    const killed = await first.wait();
    assert.equal(killed.signal, "SIGKILL");
    assert.equal(killed.result, undefined, "a killed process writes no result");

    // What the crash left: a snapshot on the peer, its pending marker, a multipart upload; no manifest.
    const mKey = manifestKey(parts);
    const leftKeys = await listKeys(s3, bucket);
    assert.ok(!leftKeys.includes(mKey), "no manifest");
    assert.ok(leftKeys.some((k) => k.includes("/_pending/")), `a pending marker: ${leftKeys.join(", ")}`);
    const leftOnDisk = (await admin.files(1)).snapshots.filter((f) => f.path.endsWith(".snapshot"));
    assert.equal(leftOnDisk.length, 1, "the killed run's snapshot is still on the peer");
    assert.equal((await multipartUploads(s3, bucket, key)).length, 1);

    // The retry: same plan (same backup id), the download no longer held.
    proxy.release();
    const retry = await runJob(plan);
    assert.equal(retry.code, EXIT_CODES.SUCCESS, retry.stdout + retry.stderr);
    const logs = retry.stdout.trim().split("\n").map((l) => JSON.parse(l) as { msg: string; snapshot?: string; aborted?: number });
    assert.ok(leftOnDisk[0]!.path.endsWith(logs.find((l) => l.msg === "Deleted snapshot left by an earlier run")?.snapshot ?? "?"), "the marker's snapshot was deleted");
    assert.equal(logs.find((l) => l.msg === "Aborted multipart uploads left by an earlier run")?.aborted, 1);

    assert.deepEqual(await multipartUploads(s3, bucket, key), [], "no dangling multipart upload");
    assert.deepEqual(await admin.files(1), { snapshots: [], tmp: [] }, "nothing on the peer's disk");
    assert.deepEqual(await listKeys(s3, bucket), [key, mKey].sort(), "the snapshot and the manifest, no marker");
    const parsed = parseManifest(await objectBytes(s3, bucket, mKey), { key: mKey });
    assert.ok(parsed.ok);
    const bytes = await objectBytes(s3, bucket, key);
    assert.ok(bytes.length > 16 * MIB, `a multipart-sized snapshot (${bytes.length} bytes)`);
    assert.equal(parsed.manifest.peers[0]!.file.sha256, createHash("sha256").update(bytes).digest("hex"));
    assert.equal(parsed.manifest.collection?.pointsCount, 48);
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: mKey }));
  });

  it("on SIGTERM mid-upload deletes its snapshot and marker, aborts the upload, and exits 1 with reason Terminated", async (t) => {
    const bucket = await useBucket(t);
    const s3 = s3Client();
    const proxy = await holdingProxy(emu.url, 12 * MIB);
    t.after(() => proxy.close());
    const plan = makePlan(proxy.url, bucket);
    const parts = { namespace: plan.source.namespace, connection: plan.source.connection, collection: "docs", backupId: plan.backupId };
    const key = snapshotKey(parts, String((await admin.peers())[0]!.id));

    const job = await startJobMidUpload(plan, proxy, s3, bucket, key);
    job.child.kill("SIGTERM");
    const run = await job.wait();
    assert.equal(run.code, EXIT_CODES.RETRYABLE, run.stdout + run.stderr);
    assert.ok(run.result && !run.result.ok);
    assert.equal(run.result.reason, "Terminated");
    assert.deepEqual(await multipartUploads(s3, bucket, key), [], "no multipart upload");
    assert.deepEqual(await listKeys(s3, bucket), [], "no marker, no object, no manifest");
    assert.deepEqual(await admin.files(1), { snapshots: [], tmp: [] }, "nothing on the peer's disk");
  });

  it("FullStorage: the retry deletes the killed run's archive on the peer, aborts its upload, and succeeds", async (t) => {
    const bucket = await useBucket(t);
    const s3 = s3Client();
    const proxy = await holdingProxy(emu.url, 12 * MIB);
    t.after(() => proxy.close());
    const plan = fullStoragePlan(proxy.url, bucket);
    const key = snapshotKey(storageParts(plan), String((await admin.peers())[0]!.id));

    const first = await startJobMidUpload(plan, proxy, s3, bucket, key);
    first.child.kill("SIGKILL");
    assert.equal((await first.wait()).signal, "SIGKILL");
    const mKey = manifestKey(storageParts(plan));
    assert.ok(!(await listKeys(s3, bucket)).includes(mKey), "no manifest");
    const left = (await admin.files(1)).snapshots.filter((f) => /^full-snapshot-.*\.snapshot$/.test(f.path));
    assert.equal(left.length, 1, "the killed run's archive is still on the peer");

    proxy.release();
    const retry = await runJob(plan);
    assert.equal(retry.code, EXIT_CODES.SUCCESS, retry.stdout + retry.stderr);
    const logs = retry.stdout.trim().split("\n").map((l) => JSON.parse(l) as { msg: string; snapshot?: string });
    assert.equal(logs.find((l) => l.msg === "Deleted snapshot left by an earlier run")?.snapshot, left[0]!.path);
    assert.deepEqual(await multipartUploads(s3, bucket, key), [], "no dangling multipart upload");
    assert.deepEqual(await admin.files(1), { snapshots: [], tmp: [] }, "nothing on the peer's disk");
    assert.deepEqual(await listKeys(s3, bucket), [key, mKey].sort(), "the archive and the manifest, no marker");
    const parsed = parseManifest(await objectBytes(s3, bucket, mKey), { key: mKey });
    assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
    const m = parsed.manifest;
    assert.equal(m.peers[0]!.file.sha256, createHash("sha256").update(await objectBytes(s3, bucket, key)).digest("hex"));
  });
});
