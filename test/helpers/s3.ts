/** S3 helpers for tests: a client for the environment's storage, a bucket per test, a one-bucket user. */
import { randomBytes } from "node:crypto";
import type { TestContext } from "node:test";
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, ListObjectVersionsCommand, S3Client } from "@aws-sdk/client-s3";
import { createBucketUser, type S3Credentials } from "../env/minio.ts";
import { testEnv } from "./testenv.ts";

export function s3Client(creds?: S3Credentials): S3Client {
  const { endpoint, region, accessKeyId, secretAccessKey } = testEnv().s3;
  return new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: creds ?? { accessKeyId, secretAccessKey },
  });
}

/** Creates a uniquely named bucket and empties and removes it when the test ends. */
export async function useBucket(t: TestContext): Promise<string> {
  const s3 = s3Client();
  const bucket = `test-${randomBytes(6).toString("hex")}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  t.after(async () => {
    for (;;) {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length === 0) break;
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
    }
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    s3.destroy();
  });
  return bucket;
}

/**
 * Creates a uniquely named bucket with Object Lock enabled (so versioned), with root credentials; when
 * the test ends every version and delete marker is deleted, bypassing Governance retention, and the
 * bucket removed. Tests lock with Governance only (or a retain-until that has passed by then): a
 * Compliance version could not be removed before its date.
 */
export async function useLockBucket(t: TestContext): Promise<string> {
  const s3 = s3Client();
  const bucket = `lock-${randomBytes(6).toString("hex")}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  t.after(async () => {
    for (;;) {
      const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
      const all = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId! }));
      if (all.length === 0) break;
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, BypassGovernanceRetention: true, Delete: { Objects: all } }));
    }
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    s3.destroy();
  });
  return bucket;
}

/** Credentials of a new user that may use only `bucket` (needs the local MinIO's admin helper). */
export async function bucketOnlyUser(bucket: string): Promise<S3Credentials> {
  const env = testEnv();
  if (!env.local?.minioUser || env.external.s3) throw new Error("a one-bucket user needs the local MinIO (S3_ENDPOINT points elsewhere)");
  return createBucketUser(env.local.minioUser, env.s3, bucket);
}
