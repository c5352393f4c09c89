/**
 * Reading and writing a backup's manifest, the commit marker that is written last. A retry that finds
 * its own manifest already written knows that part of the backup is done and does not redo it.
 */
import { createHash } from "node:crypto";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { parseManifest, serializeManifest, type Manifest } from "../../backup/layout/manifest.ts";
import { s3Error } from "../../s3/client.ts";
import type { BackupJobPlan } from "./contract.ts";

/** The manifest at `key` if it exists and is valid; undefined when absent (or unreadable: the run redoes it). */
export async function existingManifest(s3: S3Client, bucket: string, key: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    text = await got.Body!.transformToString();
  } catch (err) {
    if ((err as { name?: string }).name === "NoSuchKey") return undefined;
    throw s3Error(err, bucket, "GetObject");
  }
  const parsed = parseManifest(text, { key });
  return parsed.ok ? parsed.manifest : undefined;
}

/**
 * Checks the manifest (serializeManifest refuses an invalid one) and writes it, locked like the
 * snapshots when the location asks (with the Content-MD5 S3 requires of a locked write).
 */
export async function putManifest(s3: S3Client, plan: BackupJobPlan, key: string, manifest: Manifest, lock?: { mode: "GOVERNANCE" | "COMPLIANCE"; retainUntil: Date }): Promise<void> {
  const body = serializeManifest(manifest, key);
  const locked = lock ? { ObjectLockMode: lock.mode, ObjectLockRetainUntilDate: lock.retainUntil, ContentMD5: createHash("md5").update(body).digest("base64") } : {};
  try {
    await s3.send(new PutObjectCommand({ Bucket: plan.s3.bucket, Key: key, Body: body, ContentType: "application/json", ...sse(plan), ...locked }));
  } catch (err) {
    throw s3Error(err, plan.s3.bucket, "PutObject");
  }
}

/** The plan's SSE settings as PutObject parameters. */
export function sse(plan: BackupJobPlan): { ServerSideEncryption?: "AES256" | "aws:kms"; SSEKMSKeyId?: string } {
  const s = plan.s3.serverSideEncryption;
  if (!s) return {};
  return { ServerSideEncryption: s.type, ...(s.kmsKeyId ? { SSEKMSKeyId: s.kmsKeyId } : {}) };
}

/** The manifest's `source`, without the keys the plan left undefined (the schema has no nulls). */
export function manifestSource(plan: BackupJobPlan): Manifest["source"] {
  return Object.fromEntries(Object.entries(plan.source).filter(([, v]) => v !== undefined)) as Manifest["source"];
}
