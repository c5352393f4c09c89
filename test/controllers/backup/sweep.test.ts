/**
 * The sweep after a failed backup, against what a real killed run leaves: the `job backup` process is
 * SIGKILLed mid-upload of its second collection (first collection complete), then the sweep runs as the
 * manager would once the Job has failed for good.
 */
import { after, before, describe, it, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { AdminClient } from "../../emulator/admin-client.ts";
import { startEmulator, type EmulatorHandle } from "../../emulator/index.ts";
import { eventually } from "../../helpers/eventually.ts";
import { s3Client, useBucket } from "../../helpers/s3.ts";
import { holdingProxy, listKeys, makePlan, multipartUploads, qdrant, seedCollection, startJobMidUpload } from "../../jobs/backup-harness.ts";
import { manifestKey, snapshotKey } from "../../../src/backup/layout/object-keys.ts";
import { sweepFailedBackup } from "../../../src/controllers/backup/sweep.ts";
import { QdrantApi } from "../../../src/qdrant/client.ts";

const MIB = 1024 * 1024;

describe("sweepFailedBackup", () => {
  let emu: EmulatorHandle;
  let admin: AdminClient;
  before(async () => {
    emu = await startEmulator();
    admin = new AdminClient(emu.adminUrl);
    await seedCollection(emu.url, "a-small", 3);
    await seedCollection(emu.url, "docs", 48, { payloadBytes: 512 * 1024 });
  });
  after(async () => {
    await emu.stop();
  });

  it("deletes the killed run's snapshot, upload and incomplete objects; keeps a complete collection and a person's snapshot", async (t) => {
    const bucket = await useBucket(t);
    const s3 = s3Client();
    // Held only on the big collection's download: a-small (first) completes, docs is mid-upload.
    const proxy = await holdingProxy(emu.url, 12 * MIB);
    t.after(() => proxy.close());
    const person = await qdrant<{ name: string }>(emu.url, "POST", "/collections/docs/snapshots?wait=true");
    // Qdrant names snapshots to the second: one made in the same second would be the same file.
    const second = Math.floor(Date.now() / 1000);
    await eventually("the next second", () => Promise.resolve(Math.floor(Date.now() / 1000) > second ? true : undefined));
    const plan = makePlan(proxy.url, bucket, { collections: { names: ["a-small", "docs"] } });
    const peerId = String((await admin.peers())[0]!.id);
    const parts = (collection: string) => ({ namespace: plan.source.namespace, connection: plan.source.connection, collection, backupId: plan.backupId });
    const docsKey = snapshotKey(parts("docs"), peerId);

    const job = await startJobMidUpload(plan, proxy, s3, bucket, docsKey);
    job.child.kill("SIGKILL");
    await job.wait();
    proxy.release();

    const before = await listKeys(s3, bucket);
    assert.ok(before.includes(manifestKey(parts("a-small"))), `a-small completed: ${before.join(", ")}`);
    assert.ok(before.some((k) => k.includes("/docs/") && k.includes("/_pending/")), "docs has a pending marker");
    const onDisk = (await admin.files(1)).snapshots.filter((f) => f.path.startsWith("docs/") && f.path.endsWith(".snapshot")).map((f) => f.path);
    assert.equal(onDisk.length, 2, `the person's and the killed run's snapshots: ${onDisk.join(", ")}`);

    const ref = { namespace: plan.source.namespace, connection: plan.source.connection, backupId: plan.backupId };
    const swept = await sweepFailedBackup(s3, bucket, ref, new QdrantApi({ url: emu.url, timeoutMs: 10_000 }));
    assert.deepEqual(swept, { snapshots: 1, markers: 1, abortedUploads: 1, incompleteObjects: 0 });

    assert.deepEqual(await multipartUploads(s3, bucket, docsKey), [], "no multipart upload");
    assert.deepEqual(await listKeys(s3, bucket), [manifestKey(parts("a-small")), snapshotKey(parts("a-small"), peerId)].sort(), "the complete collection stays, nothing of docs");
    const left = (await admin.files(1)).snapshots.filter((f) => f.path.endsWith(".snapshot")).map((f) => f.path);
    assert.deepEqual(left, [`docs/${person.name}`], "only the person's snapshot is left on the peer");

    // Again: nothing left to do.
    assert.deepEqual(await sweepFailedBackup(s3, bucket, ref, new QdrantApi({ url: emu.url, timeoutMs: 10_000 })), { snapshots: 0, markers: 0, abortedUploads: 0, incompleteObjects: 0 });
  });

  /** A bucket holding one snapshot object of a backup that has no manifest. */
  async function incompleteBackup(t: TestContext) {
    const bucket = await useBucket(t);
    const s3 = s3Client();
    const plan = makePlan(emu.url, bucket);
    const ref = { namespace: plan.source.namespace, connection: plan.source.connection, backupId: plan.backupId };
    const key = snapshotKey({ ...ref, collection: "docs" }, "1");
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: "half a snapshot" }));
    return { bucket, s3, ref, key };
  }

  it("deletes the objects of a directory without a manifest", async (t) => {
    const { bucket, s3, ref } = await incompleteBackup(t);
    const other = snapshotKey({ ...ref, backupId: makePlan(emu.url, bucket).backupId, collection: "docs" }, "1");
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: other, Body: "another backup's" }));
    assert.deepEqual(await sweepFailedBackup(s3, bucket, ref, new QdrantApi({ url: emu.url, timeoutMs: 10_000 })), { snapshots: 0, markers: 0, abortedUploads: 0, incompleteObjects: 1 });
    assert.deepEqual(await listKeys(s3, bucket), [other], "another backup's objects are not touched");
  });

  it("stops, deleting nothing, once the reconcile's signal is aborted (a manager that lost its lease)", async (t) => {
    const { bucket, s3, ref, key } = await incompleteBackup(t);
    const lost = new AbortController();
    lost.abort(new Error("lost the lease"));
    await assert.rejects(sweepFailedBackup(s3, bucket, ref, new QdrantApi({ url: emu.url, timeoutMs: 10_000 }), { signal: lost.signal }), (err) => err === lost.signal.reason);
    assert.deepEqual(await listKeys(s3, bucket), [key], "the incomplete backup is still there for the new leader's sweep");
  });
});
