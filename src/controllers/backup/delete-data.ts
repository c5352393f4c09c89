/**
 * Deletes one backup's objects from the bucket: every collection directory (and the full-storage
 * directory) of its backup id under one Qdrant's prefix. Used by a QdrantBackup with deletionPolicy
 * Delete, and meant for retention too.
 *
 * Order is the point: all manifests first, then any multipart upload a killed Job left open (found
 * through its pending markers, so before they go), then everything else. A manifest is the commit marker of a collection's backup, so once the first step
 * is done nothing of this backup looks complete to a listing or a restore, even if the deletion stops
 * half-way (crash, lost credentials). Running it again finishes the job: it is idempotent, and finds the
 * objects by listing rather than from what a status remembers, so objects of a Job that failed before
 * reporting anything are found too.
 *
 * On an Object Lock location (#15) the bucket is versioned, and a delete by key would only add a delete
 * marker over data that stays: there every version and delete marker is deleted by VersionId, in the
 * same order (every manifest version first). S3 is asked first (GetObjectRetention of every version),
 * and a backup any of whose versions is retained past `now` (or past the date its QdrantBackup's status
 * gives) is not touched at all: BackupLockedError "Locked until <date>", the latest date known. Crash
 * window: a retention extended between that question and the delete refuses a version half-way; the
 * manifests went first, so the rest never looks complete, and the next run finishes after the new date.
 */
import { crashWindow } from "../../crash-windows.ts";
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { backupIdOf, isBackupId } from "../../backup/layout/backup-id.ts";
import { connectionPrefix, MANIFEST_FILE, snapshotFileName, type KeyBase } from "../../backup/layout/object-keys.ts";
import { abortDanglingUploads, listMarkers, PENDING_DIR } from "../../backup/store/pending-markers.ts";
import { lockedUntilMessage, lockVerdict, type LockVerdict } from "../../backup/retention/lock-until.ts";
import { BackupLockedError, OperatorError } from "../../errors.ts";
import { s3Error } from "../../s3/client.ts";
import { deleteObjectVersions, latestRetention, listObjectVersions, listVersionPrefixes, type ObjectVersion } from "../../s3/object-lock.ts";

export interface BackupDataRef extends KeyBase {
  backupId: string;
}

/**
 * Where a QdrantBackup's data lives, from its metadata and spec alone (the backup id is
 * backupId(creationTimestamp, uid), fixed before its Job ran): never from its status, so a hand-edited
 * status cannot point a deletion at another backup's objects.
 */
export function backupDataRef(
  backup: { metadata?: { namespace?: string; uid?: string; creationTimestamp?: string }; spec: { connectionRef: { name: string } } },
  locationPrefix: string | undefined,
): BackupDataRef {
  const meta = backup.metadata ?? {};
  return {
    ...(locationPrefix ? { prefix: locationPrefix } : {}),
    namespace: meta.namespace ?? "",
    connection: backup.spec.connectionRef.name,
    backupId: backupIdOf(meta),
  };
}

export interface DeletedData {
  manifests: number;
  objects: number;
  abortedUploads: number;
}

/** S3 deletes at most this many keys per DeleteObjects call. */
const DELETE_BATCH = 1000;

/**
 * How to delete on a location with spec.objectLock (or a backup whose status says its Job locked it):
 * by version, at `now` (the controller's clock), `knownUntil` the QdrantBackup's status.objectLock.retainUntil.
 */
export interface VersionedDelete {
  now: Date;
  knownUntil?: Date | string;
}

/** Whether a backup's data is deleted by version: its location asks for Object Lock, or its Job locked it. */
export function versionedDelete(
  location: { spec: { objectLock?: unknown } },
  backup: { status?: { objectLock?: { retainUntil: string } } },
  now: Date,
): VersionedDelete | undefined {
  const known = backup.status?.objectLock?.retainUntil;
  if (location.spec.objectLock === undefined && known === undefined) return undefined;
  return { now, ...(known !== undefined ? { knownUntil: known } : {}) };
}

export async function deleteBackupData(client: S3Client, bucket: string, ref: BackupDataRef, versioned?: VersionedDelete): Promise<DeletedData> {
  if (versioned) return deleteBackupVersions(client, bucket, ref, versioned);
  const dirs = await backupDirs(client, bucket, ref);
  const manifests: string[] = [];
  const others: string[] = [];
  for (const dir of dirs) {
    for (const key of await listKeys(client, bucket, dir)) (key === `${dir}${MANIFEST_FILE}` ? manifests : others).push(key);
  }
  await deleteKeys(client, bucket, manifests);
  // Crash window backup-data.manifests-deleted-before-objects: incomplete now, the objects still there.
  crashWindow("backup-data.manifests-deleted-before-objects");
  let abortedUploads = 0;
  for (const dir of dirs) abortedUploads += await abortDirUploads(client, bucket, dir, others.filter((k) => k.startsWith(dir)));
  await deleteKeys(client, bucket, others);
  return { manifests: manifests.length, objects: others.length, abortedUploads };
}

/**
 * Whether `versions` may be deleted now: S3's retention of each (GetObjectRetention) and the date the
 * QdrantBackup's status knows, the latest of them against `opts.now`. Shared by the backup's deletion and
 * the failed-run sweep, so both wait for the same date.
 */
export async function retentionVerdict(client: S3Client, bucket: string, versions: readonly ObjectVersion[], opts: VersionedDelete): Promise<LockVerdict> {
  const known = opts.knownUntil === undefined ? undefined : new Date(opts.knownUntil);
  return lockVerdict([known, await latestRetention(client, bucket, versions)], opts.now);
}

async function deleteBackupVersions(client: S3Client, bucket: string, ref: BackupDataRef, opts: VersionedDelete): Promise<DeletedData> {
  const dirs = await backupDirs(client, bucket, ref, listVersionPrefixes);
  const byDir = new Map<string, ObjectVersion[]>();
  for (const dir of dirs) byDir.set(dir, await listObjectVersions(client, bucket, dir));
  const all = [...byDir.values()].flat();
  // Asked before anything is deleted: a backup S3 keeps is left whole, not half-deleted.
  const known = opts.knownUntil === undefined ? undefined : new Date(opts.knownUntil);
  const verdict = await retentionVerdict(client, bucket, all, opts);
  if (verdict.kind === "Locked") {
    throw new BackupLockedError(verdict.until, `${lockedUntilMessage(verdict.until)}: S3 Object Lock keeps backup ${ref.backupId}'s objects in bucket "${bucket}"; they are deleted after that date`);
  }
  const isManifest = (v: ObjectVersion) => dirs.some((dir) => v.key === `${dir}${MANIFEST_FILE}`);
  const manifests = all.filter(isManifest);
  const others = all.filter((v) => !isManifest(v));
  await deleteObjectVersions(client, bucket, manifests, opts.now, known);
  let abortedUploads = 0;
  for (const [dir, versions] of byDir) {
    const keys = [...new Set(versions.filter((v) => !v.deleteMarker && !isManifest(v)).map((v) => v.key))];
    abortedUploads += await abortDirUploads(client, bucket, dir, keys);
  }
  await deleteObjectVersions(client, bucket, others, opts.now, known);
  return { manifests: manifests.length, objects: others.length, abortedUploads };
}

/**
 * Every directory the backup may have written: its full-storage directory and one per collection
 * directory under its Qdrant's prefix (found by listing, so no status is trusted). Most hold nothing.
 */
export async function backupDirs(
  client: S3Client,
  bucket: string,
  ref: BackupDataRef,
  listPrefixes: (client: S3Client, bucket: string, prefix: string) => Promise<string[]> = listCommonPrefixes,
): Promise<string[]> {
  if (!isBackupId(ref.backupId)) throw new RangeError(`${JSON.stringify(ref.backupId)} is not a backup id`);
  const base = connectionPrefix(ref);
  const dirs = [`${base}_storage/${ref.backupId}/`];
  for (const collectionDir of await listPrefixes(client, bucket, `${base}_collections/`)) dirs.push(`${collectionDir}${ref.backupId}/`);
  return dirs;
}

async function listCommonPrefixes(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await send(bucket, "ListObjectsV2", () => client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: "/", ContinuationToken: token })));
    for (const p of page.CommonPrefixes ?? []) if (p.Prefix) out.push(p.Prefix);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

export async function listKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await send(bucket, "ListObjectsV2", () => client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token })));
    for (const o of page.Contents ?? []) if (o.Key) out.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

export async function deleteKeys(client: S3Client, bucket: string, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += DELETE_BATCH) {
    const batch = keys.slice(i, i + DELETE_BATCH);
    const res = await send(bucket, "DeleteObjects", () => client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })));
    const failed = (res.Errors ?? []).filter((e) => e.Code !== "NoSuchKey");
    if (failed.length > 0) {
      const first = failed[0]!;
      const code = first.Code === "AccessDenied" ? "S3_ACCESS_DENIED" : "S3_ERROR";
      throw new OperatorError(code, `DeleteObjects on bucket "${bucket}": ${failed.length} of ${batch.length} keys not deleted (first: ${first.Key ?? "?"}: ${first.Code ?? "?"} ${first.Message ?? ""})`.trim());
    }
  }
}

/**
 * Aborts the multipart uploads under a backup directory: by prefix, and by the exact key of every
 * snapshot object its pending markers say a run was writing (MinIO lists uploads only by exact key, and
 * an upload in progress is no object yet). Call it before the markers are deleted.
 */
export async function abortDirUploads(client: S3Client, bucket: string, dir: string, keys: readonly string[]): Promise<number> {
  const pending = `${dir}${PENDING_DIR}`;
  const markers = keys.some((k) => k.startsWith(pending)) ? await listMarkers(client, bucket, dir) : [];
  const candidates = new Set(markers.filter((m) => /^\d{1,20}$/.test(m.peerId)).map((m) => `${dir}${snapshotFileName(m.peerId)}`));
  return abortDanglingUploads(client, bucket, dir, [...candidates]);
}

async function send<T>(bucket: string, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw s3Error(err, bucket, what);
  }
}
