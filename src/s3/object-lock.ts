/**
 * S3 Object Lock, the manager's side (#15): does the bucket have it, what versions a prefix holds, until
 * when S3 retains them, and deleting versions for good.
 *
 * Why versions: a bucket with Object Lock is versioned, and a DeleteObject without a VersionId only adds
 * a delete marker: the data stays (and is billed) while every listing says it is gone. On a lock location
 * a backup's data is therefore deleted version by version (ListObjectVersions, then DeleteObjects with
 * each VersionId), delete markers included.
 *
 * Why a refusal needs reading: S3 refuses to delete a retained version, MinIO with InvalidRequest ("Object
 * is WORM protected and cannot be overwritten"), AWS with AccessDenied. AccessDenied is also what a policy
 * without s3:DeleteObjectVersion gets, so a refused version is asked for its retention: a retain-until in
 * the future is BackupLocked, anything else the refusal it is. "The future" by S3's clock, which may be
 * behind ours: a date passed by less than CLOCK_SKEW_MS still counts.
 */
import {
  DeleteObjectsCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  ListObjectVersionsCommand,
  S3ServiceException,
  type S3Client,
} from "@aws-sdk/client-s3";
import { CLOCK_SKEW_MS, latestRetainUntil, lockedUntilMessage, lockVerdict } from "../backup/retention/lock-until.ts";
import { BackupLockedError, OperatorError } from "../errors.ts";
import { s3Code, s3Error } from "./client.ts";

export interface ObjectLockCheck {
  enabled: boolean;
}

/**
 * Whether the bucket has Object Lock enabled. No configuration (ObjectLockConfigurationNotFoundError, a
 * 404) is "not enabled"; any other failure is thrown as s3Error maps it (a policy without
 * s3:GetBucketObjectLockConfiguration is S3_ACCESS_DENIED naming the credentials).
 */
export async function checkObjectLock(client: S3Client, bucket: string): Promise<ObjectLockCheck> {
  try {
    const res = await client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
    return { enabled: res.ObjectLockConfiguration?.ObjectLockEnabled === "Enabled" };
  } catch (err) {
    if (err instanceof S3ServiceException && (s3Code(err) === "ObjectLockConfigurationNotFoundError" || (err.$metadata.httpStatusCode === 404 && err.name !== "NoSuchBucket"))) return { enabled: false };
    throw s3Error(err, bucket, "GetObjectLockConfiguration");
  }
}

/** One version of an object, or one delete marker. */
export interface ObjectVersion {
  key: string;
  versionId: string;
  deleteMarker: boolean;
}

/** Every version and delete marker under `prefix`, all pages, in S3's order (by key, newest version first). */
export async function listObjectVersions(client: S3Client, bucket: string, prefix: string): Promise<ObjectVersion[]> {
  const out: ObjectVersion[] = [];
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  for (;;) {
    const page = await send(bucket, "ListObjectVersions", () => client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionMarker })));
    const found = [
      ...(page.Versions ?? []).map((v) => ({ key: v.Key, versionId: v.VersionId, deleteMarker: false })),
      ...(page.DeleteMarkers ?? []).map((m) => ({ key: m.Key, versionId: m.VersionId, deleteMarker: true })),
    ];
    for (const v of found) if (v.key !== undefined && v.versionId !== undefined) out.push({ key: v.key, versionId: v.versionId, deleteMarker: v.deleteMarker });
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    versionMarker = page.NextVersionIdMarker;
    if (keyMarker === undefined && versionMarker === undefined) break;
  }
  return out;
}

/**
 * The "directories" right under `prefix` that hold any version or delete marker (ListObjectVersions with
 * a delimiter): unlike ListObjectsV2, it still finds a directory whose every current object is a delete
 * marker, so data hidden by someone's unversioned delete is found and deleted too.
 */
export async function listVersionPrefixes(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  for (;;) {
    const page = await send(bucket, "ListObjectVersions", () =>
      client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, Delimiter: "/", KeyMarker: keyMarker, VersionIdMarker: versionMarker })),
    );
    for (const p of page.CommonPrefixes ?? []) if (p.Prefix && !out.includes(p.Prefix)) out.push(p.Prefix);
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    versionMarker = page.NextVersionIdMarker;
    if (keyMarker === undefined && versionMarker === undefined) break;
  }
  return out;
}

/**
 * Until when S3 retains one version (GetObjectRetention); undefined for a delete marker, a version
 * without retention (NoSuchObjectLockConfiguration: the pending markers, written unlocked), or one
 * already gone.
 */
export async function retainUntilOf(client: S3Client, bucket: string, v: ObjectVersion): Promise<Date | undefined> {
  if (v.deleteMarker) return undefined;
  try {
    const res = await client.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: v.key, VersionId: v.versionId }));
    return res.Retention?.RetainUntilDate;
  } catch (err) {
    if (err instanceof S3ServiceException && ["NoSuchObjectLockConfiguration", "NoSuchKey", "NoSuchVersion", "InvalidRequest"].includes(s3Code(err) ?? "")) {
      // InvalidRequest: S3's answer for a bucket without Object Lock (nothing retains anything there).
      return undefined;
    }
    throw s3Error(err, bucket, "GetObjectRetention");
  }
}

/** The latest retain-until S3 has for any of `versions` (one GetObjectRetention each; delete markers skipped). */
export async function latestRetention(client: S3Client, bucket: string, versions: readonly ObjectVersion[]): Promise<Date | undefined> {
  const dates: Array<Date | undefined> = [];
  for (const v of versions) dates.push(await retainUntilOf(client, bucket, v));
  return latestRetainUntil(dates);
}

/** S3 deletes at most this many versions per DeleteObjects call. */
const DELETE_BATCH = 1000;

/**
 * Deletes each version for good (DeleteObjects by key and VersionId; one already gone counts as
 * deleted). A version S3 keeps under Object Lock becomes a BackupLockedError "Locked until <date>", the
 * date the latest of `knownUntil` and what S3 says of the refused versions; other refusals are
 * S3_ACCESS_DENIED / S3_ERROR naming the first key. Versions of a batch that S3 accepted are gone either
 * way: callers order their calls (manifests first) so that a stop half-way never leaves a backup that
 * looks complete.
 */
export async function deleteObjectVersions(client: S3Client, bucket: string, versions: readonly ObjectVersion[], now: Date, knownUntil?: Date): Promise<void> {
  for (let i = 0; i < versions.length; i += DELETE_BATCH) {
    const batch = versions.slice(i, i + DELETE_BATCH);
    const res = await send(bucket, "DeleteObjects", () =>
      client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((v) => ({ Key: v.key, VersionId: v.versionId })), Quiet: true } })),
    );
    const failed = (res.Errors ?? []).filter((e) => e.Code !== "NoSuchKey" && e.Code !== "NoSuchVersion");
    if (failed.length === 0) continue;
    const refused = failed.filter((e) => e.Code === "AccessDenied" || (e.Code === "InvalidRequest" && /WORM|retention|lock/i.test(e.Message ?? "")));
    const refusedVersions = batch.filter((v) => refused.some((e) => e.Key === v.key && (e.VersionId === undefined || e.VersionId === v.versionId)));
    const worm = refused.some((e) => e.Code === "InvalidRequest");
    const s3Until = refusedVersions.length > 0 ? await latestRetention(client, bucket, refusedVersions) : undefined;
    // A refusal is the lock's while its date is ahead of S3's clock, which may be behind ours.
    const verdict = lockVerdict([knownUntil, s3Until], new Date(now.getTime() - CLOCK_SKEW_MS));
    const first = failed[0]!;
    const detail = `${failed.length} of ${batch.length} versions not deleted (first: ${first.Key ?? "?"}: ${first.Code ?? "?"} ${first.Message ?? ""})`.trim();
    if (verdict.kind === "Locked" || (worm && refusedVersions.length > 0)) {
      const until = verdict.kind === "Locked" ? verdict.until : latestRetainUntil([knownUntil, s3Until]);
      throw new BackupLockedError(until, `${lockedUntilMessage(until)}: S3 Object Lock keeps the backup's objects in bucket "${bucket}" (DeleteObjects: ${detail})`);
    }
    const code = first.Code === "AccessDenied" ? "S3_ACCESS_DENIED" : "S3_ERROR";
    throw new OperatorError(code, `DeleteObjects on bucket "${bucket}": ${detail}`);
  }
}

async function send<T>(bucket: string, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw s3Error(err, bucket, what);
  }
}
