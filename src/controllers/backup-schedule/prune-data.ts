/**
 * Deleting a pruned backup's data from the bucket. Retention is what deletes data, whatever the
 * QdrantBackup's deletionPolicy says (that policy is about a person deleting the object).
 *
 * Order, so that a half-deleted backup never looks complete: every manifest first (the commit marker:
 * once it is gone, a listing of the bucket shows the backup as incomplete, never as restorable), then the
 * other objects under each backup directory, then — the caller's part — the QdrantBackup object.
 * Crash windows: manifests deleted but objects left → the QdrantBackup still exists, the next reconcile
 * plans the same prune and deletes again (deleting a missing key succeeds); objects deleted but the
 * QdrantBackup left → the same, with nothing left to delete.
 *
 * Which keys: src/controllers/backup/delete-data.ts (shared with deletionPolicy Delete) finds every
 * object of the backup's id under its Qdrant's prefix by listing; the id comes from the QdrantBackup's
 * metadata (creationTimestamp + uid), never from its status, so a hand-edited status can never make
 * retention delete someone else's objects.
 *
 * On an Object Lock location every version is deleted (delete-data.ts), and a backup any version of
 * which S3 still retains is not touched: BackupLockedError, which the schedule reports and waits out.
 */
import { OperatorError } from "../../errors.ts";
import { backupDataRef, deleteBackupData, versionedDelete } from "../backup/delete-data.ts";
import type { OperatorContext } from "../shared/context.ts";
import { findLocation, locationNotFound, withLocationS3 } from "../shared/resolve-location.ts";
import type { ScheduledBackupObject } from "./types.ts";

/** Deletes the backup's data in the bucket (not the QdrantBackup object). Idempotent. */
export type PruneBackupData = (backup: ScheduledBackupObject) => Promise<PruneDataResult>;

export interface PruneDataResult {
  /** Objects deleted, manifests included. */
  deletedObjects: number;
}

/**
 * The production PruneBackupData: reads the backup's QdrantBackupLocation (the schedule controller does
 * not watch locations, so from the apiserver) and uses its client, credentials and CA
 * (shared/resolve-location.ts); refuses a ReadOnly location (a standby cluster reading a primary's
 * bucket must never delete from it).
 */
export function s3PruneBackupData(ctx: OperatorContext): PruneBackupData {
  return async (backup) => {
    const namespace = backup.metadata?.namespace ?? "";
    const locName = backup.spec.locationRef.name;
    const location = await findLocation(ctx, namespace, locName);
    if (!location) throw new OperatorError("REFERENCE_NOT_FOUND", `QdrantBackup ${backup.metadata?.name ?? ""}: ${locationNotFound(namespace, locName)}, so its data cannot be pruned`);
    if (location.spec.accessMode === "ReadOnly") {
      throw new OperatorError("S3_ACCESS_DENIED", `QdrantBackupLocation ${locName} is ReadOnly: retention cannot prune ${backup.metadata?.name ?? ""}'s data; prune from the cluster that writes the bucket`);
    }
    return withLocationS3(ctx, location, async ({ client, bucket, prefix }) => {
      // Object Lock: by version, and a backup S3 still retains is left whole (BackupLockedError).
      const deleted = await deleteBackupData(client, bucket, backupDataRef(backup, prefix), versionedDelete(location, backup, ctx.clock.now()));
      return { deletedObjects: deleted.manifests + deleted.objects };
    });
  };
}
