/**
 * S3 Object Lock against the environment's real MinIO (#15), with root credentials (the shared env's
 * minio-user helper predates the lock actions): a bucket without Object Lock is told apart from one with
 * it, naming spec.objectLock and the bucket; S3 itself refuses to delete a retained version; our deletion
 * of a retained backup deletes nothing and says "Locked until <date>" with the latest date S3 knows (a
 * retention extended past the status's date included), even when our clock claims the date has passed;
 * and once the date has passed it deletes every version and delete marker.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { DeleteObjectCommand, ListObjectVersionsCommand, PutObjectCommand, PutObjectRetentionCommand, S3ServiceException } from "@aws-sdk/client-s3";
import { deleteBackupData } from "../../src/controllers/backup/delete-data.ts";
import { checkLocationObjectLock } from "../../src/controllers/shared/resolve-location.ts";
import { isBackupLocked, isOperatorError } from "../../src/errors.ts";
import { checkObjectLock } from "../../src/s3/object-lock.ts";
import { s3Client, useBucket, useLockBucket } from "../helpers/s3.ts";

const ID = "20261202T020004Z-4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d";
const ref = { namespace: "prod", connection: "qdrant", backupId: ID };
const DIR = `prod/qdrant/_collections/policies/${ID}/`;

test("checkObjectLock: a plain bucket has none (ObjectLockNotEnabled names spec.objectLock and the bucket), a lock bucket has it", async (t) => {
  const plain = await useBucket(t);
  const locked = await useLockBucket(t);
  const s3 = s3Client();
  t.after(() => s3.destroy());
  assert.deepEqual(await checkObjectLock(s3, plain), { enabled: false });
  assert.deepEqual(await checkObjectLock(s3, locked), { enabled: true });
  await assert.rejects(checkLocationObjectLock(s3, plain, { mode: "Governance" }), (err) => {
    assert.ok(isOperatorError(err, "OBJECT_LOCK_NOT_ENABLED"));
    assert.equal(err.reason, "ObjectLockNotEnabled");
    assert.ok(err.message.startsWith(`spec.objectLock: bucket "${plain}" has no Object Lock configuration`), err.message);
    return true;
  });
  await checkLocationObjectLock(s3, locked, { mode: "Governance" });
});

test("a retained backup: S3 refuses the version delete, ours deletes nothing and waits for the latest date, then deletes every version", async (t) => {
  const bucket = await useLockBucket(t);
  const s3 = s3Client();
  t.after(() => s3.destroy());
  // Written as the Job writes them: each object with its retain-until, a few seconds ahead.
  const statusUntil = new Date(Date.now() + 4_000);
  const put = (key: string, body: string) =>
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${DIR}${key}`, Body: body, ObjectLockMode: "GOVERNANCE", ObjectLockRetainUntilDate: statusUntil }));
  const manifest = await put("manifest.json", "{}");
  const snapshot = await put("peer-1.snapshot", "data");
  await put("peer-1.snapshot", "data, written again"); // a second version
  // Someone extends the snapshot's retention past the status's date (Governance allows extending).
  const s3Until = new Date(statusUntil.getTime() + 3_000);
  await s3.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: `${DIR}peer-1.snapshot`, VersionId: snapshot.VersionId, Retention: { Mode: "GOVERNANCE", RetainUntilDate: s3Until } }));
  // A delete without a version id only hides the data under a delete marker.
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${DIR}manifest.json` }));

  await assert.rejects(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${DIR}manifest.json`, VersionId: manifest.VersionId })), (err) => {
    assert.ok(err instanceof S3ServiceException);
    assert.ok(["InvalidRequest", "AccessDenied"].includes(err.name), err.name);
    return true;
  });

  const versions = async () => {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    return (page.Versions?.length ?? 0) + (page.DeleteMarkers?.length ?? 0);
  };
  assert.equal(await versions(), 4);
  const expected = `Locked until ${new Date(Math.ceil(s3Until.getTime() / 1000) * 1000).toISOString().replace(/\.\d+Z$/, "Z")}`;
  await assert.rejects(deleteBackupData(s3, bucket, ref, { now: new Date(), knownUntil: statusUntil.toISOString() }), (err) => {
    assert.ok(isBackupLocked(err));
    assert.ok(err.message.startsWith(`${expected}: `), err.message);
    return true;
  });
  assert.equal(await versions(), 4, "a locked backup is not touched");

  // Our clock says the date has passed, S3's does not: S3 refuses the manifest's versions, reported as Locked.
  await assert.rejects(deleteBackupData(s3, bucket, ref, { now: new Date(s3Until.getTime() + 60_000) }), (err) => {
    assert.ok(isBackupLocked(err), String(err));
    assert.ok(err.message.startsWith("Locked until "), err.message);
    return true;
  });
  assert.ok((await versions()) >= 3, "only unretained versions (the delete marker) may have gone");

  // The retain-until date itself, not readiness: S3 allows the delete from then on.
  await sleep(Math.max(0, s3Until.getTime() - Date.now() + 1_000));
  const deleted = await deleteBackupData(s3, bucket, ref, { now: new Date(), knownUntil: statusUntil.toISOString() });
  assert.ok(deleted.manifests >= 1 && deleted.objects >= 2, JSON.stringify(deleted));
  assert.equal(await versions(), 0, "every version and delete marker is gone");
});
