/**
 * Retention's deletion on an Object Lock location (prune-data.ts), against the environment's real MinIO
 * with root credentials: a backup whose status names no lock but whose objects S3 retains (the status
 * lost, or the retention extended) is not touched, and the prune fails with BackupLocked "Locked until
 * <S3's date>", which the schedule reports and waits out instead of a PruneFailed retry; after the date
 * the same prune deletes every version.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { ListObjectVersionsCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { backupIdOf } from "../../src/backup/layout/backup-id.ts";
import { s3PruneBackupData } from "../../src/controllers/backup-schedule/prune-data.ts";
import type { ScheduledBackupObject } from "../../src/controllers/backup-schedule/types.ts";
import type { OperatorContext } from "../../src/controllers/shared/context.ts";
import { isBackupLocked } from "../../src/errors.ts";
import { Redactor } from "../../src/runtime/redact.ts";
import { s3Client, useLockBucket } from "../helpers/s3.ts";
import { testEnv } from "../helpers/testenv.ts";

test("prune of a backup S3 retains: nothing deleted, Locked until S3's date; after it, every version goes", async (t) => {
  const bucket = await useLockBucket(t);
  const s3 = s3Client();
  t.after(() => s3.destroy());
  const env = testEnv().s3;
  const location = {
    metadata: { name: "s3", namespace: "prod", uid: "loc-1", generation: 1 },
    spec: { s3: { bucket, prefix: "q", endpoint: env.endpoint, region: env.region, forcePathStyle: true, credentials: { secretRef: { name: "s3-creds" } } }, objectLock: { mode: "Governance", retainDays: 1 } },
  };
  const secret = { data: { AWS_ACCESS_KEY_ID: Buffer.from(env.accessKeyId).toString("base64"), AWS_SECRET_ACCESS_KEY: Buffer.from(env.secretAccessKey).toString("base64") } };
  const ctx = {
    client: { get: () => Promise.resolve(location), request: () => Promise.resolve(secret) },
    redactor: new Redactor(),
    clock: { now: () => new Date() },
  } as unknown as OperatorContext;
  const backup = {
    metadata: { name: "nightly-1", namespace: "prod", uid: "4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d", creationTimestamp: "2026-12-02T02:00:04Z" },
    spec: { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: ["policies"] } },
    status: { phase: "Succeeded" },
  } as unknown as ScheduledBackupObject;
  const dir = `q/prod/qdrant/_collections/policies/${backupIdOf(backup.metadata)}/`;
  const until = new Date(Math.ceil((Date.now() + 3_000) / 1000) * 1000);
  for (const key of ["manifest.json", "peer-1.snapshot"]) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${dir}${key}`, Body: key, ObjectLockMode: "GOVERNANCE", ObjectLockRetainUntilDate: until }));
  }
  const count = async () => {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    return (page.Versions?.length ?? 0) + (page.DeleteMarkers?.length ?? 0);
  };

  const prune = s3PruneBackupData(ctx);
  await assert.rejects(prune(backup), (err) => {
    assert.ok(isBackupLocked(err), String(err));
    assert.equal(err.retainUntil?.getTime(), until.getTime());
    assert.ok(err.message.startsWith(`Locked until ${until.toISOString().replace(/\.\d+Z$/, "Z")}: `), err.message);
    return true;
  });
  assert.equal(await count(), 2, "nothing deleted");

  await sleep(Math.max(0, until.getTime() - Date.now() + 1_000)); // the retain-until date itself, not readiness
  assert.deepEqual(await prune(backup), { deletedObjects: 2 });
  assert.equal(await count(), 0);
});
