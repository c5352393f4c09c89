/**
 * A backup's whole list of collections when its Job's result was cut to fit the 4 KiB termination
 * message (`truncated`, src/jobs/backup/result.ts), or when the Job completed and its result could not
 * be read at all. status.collections is what retention's protection
 * and restores read from the cluster (src/backup/select/from-backups.ts): a backup of 200 collections
 * whose status lists 40 would look, to a `latest` restore of the 41st, as if it did not hold it, and the
 * newest backup of that collection would be pruned under the restore. So before the status says
 * Succeeded, the controller reads the backup's manifests from the bucket — once per such backup, never
 * per schedule reconcile — and records every collection.
 *
 * What is read: the collection directories under the backup's Qdrant (one LIST with delimiter "/"), then
 * `<dir>/<backupId>/manifest.json` in each (a GET, or NoSuchKey for a collection this backup did not
 * hold), at most MANIFEST_READS at a time; FullStorage: its one manifest. The entries added carry no file
 * lists (the manifests have them, and a status must stay far below the apiserver's object size limit).
 *
 * A crash between the reads and the status write loses nothing: the Job and its result stay (the Job's
 * TTL is a day), so the next reconcile reads them again.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { storedBytes, type Manifest } from "../../backup/layout/manifest.ts";
import { MANIFEST_FILE, manifestKey } from "../../backup/layout/object-keys.ts";
import { isOperatorError } from "../../errors.ts";
import type { BackupJobCollectionResult, BackupJobSuccess } from "../../jobs/backup/contract.ts";
import { existingManifest } from "../../jobs/backup/manifest-io.ts";
import type { OperatorContext } from "../shared/context.ts";
import { withLocationS3, type BackupLocationObject } from "../shared/resolve-location.ts";
import { backupDataRef, backupDirs, type BackupDataRef } from "./delete-data.ts";
import type { JobOutcome } from "./job-result.ts";
import type { BackupObject } from "./types.ts";

/** GETs of manifests in flight at once. */
const MANIFEST_READS = 8;

export interface ReadManifest {
  key: string;
  manifest: Manifest;
}

/**
 * The outcome with the whole list of collections when its result was cut, or with a result read from
 * the manifests when the Job completed without one the controller could read (its termination message
 * empty or not JSON: the note says so); otherwise as it is. An S3 failure that may pass is thrown (the
 * reconcile is retried, the status stays Running meanwhile); one that will not (access denied, no
 * bucket) leaves what the Job said and says so in a Warning Event.
 */
export async function completeCollections(ctx: OperatorContext, backup: BackupObject, location: BackupLocationObject, outcome: JobOutcome): Promise<JobOutcome> {
  if (!needsBucketCollections(outcome)) return outcome;
  const mode = backup.spec.mode ?? "Collection";
  try {
    const ref = (prefix: string | undefined) => backupDataRef(backup, prefix);
    const manifests = await withLocationS3(ctx, location, ({ client, bucket, prefix }) => readBackupManifests(client, bucket, ref(prefix), mode));
    if (outcome.result) return { ...outcome, result: withBucketCollections(outcome.result, manifests) };
    const result = resultFromManifests(ref(undefined).backupId, mode, manifests);
    return result ? { ...outcome, result, note: `${outcome.note ?? "The Job completed without a readable result"} The status lists what they say.` } : outcome;
  } catch (err) {
    if (!isOperatorError(err) || err.retryable) throw err;
    const listed = outcome.result?.collections?.length ?? outcome.result?.storage?.collections.length ?? 0;
    ctx.events.event({
      regarding: backup,
      type: "Warning",
      reason: "CollectionsNotListed",
      action: "Backup",
      note: `The Job's result lists ${listed} of the backup's collections (${outcome.result ? "cut to fit its termination message" : "it had no readable result"}), and the manifests could not be read to list the rest: ${ctx.redactor.scrub(err.message)}. Restores by latest may not see this backup.`,
    });
    return outcome;
  }
}

/** True when the outcome is a success whose result lists only some collections, or that has no result. */
export function needsBucketCollections(outcome: JobOutcome): outcome is Extract<JobOutcome, { phase: "Succeeded" }> {
  return outcome.phase === "Succeeded" && (outcome.result === undefined || outcome.result.truncated === true);
}

/**
 * The result a Job would have reported, from the backup's manifests alone (mode `mode`, id `backupId`):
 * the collections by name (Collection mode) or the one manifest, its files and the storage's collections
 * (FullStorage); times from the manifests. Undefined when the bucket holds none of its manifests.
 */
export function resultFromManifests(backupId: string, mode: "Collection" | "FullStorage", manifests: readonly ReadManifest[]): BackupJobSuccess | undefined {
  const ours = manifests.filter((m) => m.manifest.backupId === backupId && m.manifest.mode === mode);
  if (ours.length === 0) return undefined;
  const times = (k: "startTime" | "completionTime") => ours.map((m) => m.manifest.timings[k]).sort();
  // The latest retain-until of any manifest: no object of the backup may be pruned before it.
  const lock = ours.map((m) => m.manifest.objectLock).filter((l) => l !== undefined).sort((a, b) => Date.parse(a.retainUntil) - Date.parse(b.retainUntil)).at(-1);
  const base = {
    ok: true as const,
    backupId,
    startTime: times("startTime")[0]!,
    completionTime: times("completionTime").at(-1)!,
    sizeBytes: ours.reduce((n, m) => n + storedBytes(m.manifest), 0),
    ...(lock ? { objectLock: { ...lock } } : {}),
  };
  if (mode === "FullStorage") {
    const { key, manifest } = ours[0]!;
    return {
      ...base,
      manifestKey: key,
      files: manifest.peers.map((p) => ({ peerId: p.peerId, key: p.file.key, size: p.file.size, sha256: p.file.sha256 })),
      storage: { collections: (manifest.storage?.collections ?? []).map((c) => ({ name: c.name, ...(c.pointsCount !== undefined ? { pointsCount: c.pointsCount } : {}), aliases: [...c.aliases] })) },
    };
  }
  return withBucketCollections({ ...base, collections: [], truncated: true }, ours);
}

/**
 * The result with every collection the manifests of this backup list: the result's own entries first
 * (they came from the Job), then the ones only the bucket has, by name. No longer truncated.
 */
export function withBucketCollections(result: BackupJobSuccess, manifests: readonly ReadManifest[]): BackupJobSuccess {
  const ours = manifests.filter((m) => m.manifest.backupId === result.backupId);
  const { truncated: _cut, ...whole } = result;
  if (result.storage) {
    const full = ours.find((m) => m.manifest.mode === "FullStorage")?.manifest.storage;
    return full ? { ...whole, storage: { collections: full.collections.map((c) => ({ name: c.name, ...(c.pointsCount !== undefined ? { pointsCount: c.pointsCount } : {}), aliases: [...c.aliases] })) } } : result;
  }
  const known = new Set((result.collections ?? []).map((c) => c.name));
  const added: BackupJobCollectionResult[] = [];
  for (const { key, manifest } of ours) {
    const c = manifest.collection;
    if (manifest.mode !== "Collection" || c === undefined || known.has(c.name)) continue;
    known.add(c.name);
    added.push({ name: c.name, manifestKey: key, pointsCount: c.pointsCount, sizeBytes: storedBytes(manifest) });
  }
  added.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { ...whole, collections: [...(result.collections ?? []), ...added] };
}

/** The manifests of one backup id under its Qdrant's prefix (Collection mode: every collection's; FullStorage: the one). */
export async function readBackupManifests(client: S3Client, bucket: string, ref: BackupDataRef, mode: "Collection" | "FullStorage"): Promise<ReadManifest[]> {
  const keys =
    mode === "FullStorage"
      ? [manifestKey({ ...ref, fullStorage: true })]
      : (await backupDirs(client, bucket, ref)).filter((dir) => dir.includes("/_collections/")).map((dir) => `${dir}${MANIFEST_FILE}`);
  const out: ReadManifest[] = [];
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      const manifest = await existingManifest(client, bucket, key);
      if (manifest) out.push({ key, manifest });
    }
  };
  await Promise.all(Array.from({ length: Math.min(MANIFEST_READS, keys.length) }, worker));
  return out;
}
