/**
 * The cache indexes the schedule controller looks up instead of scanning a namespace's QdrantBackups
 * (or every watched namespace's QdrantRestores) on each event: a schedule's own backups, a backup by its
 * id, and the restores that name a backup by name, by id, or through `latest`. Each index function reads
 * only its object, as ObjectCache requires.
 */
import { backupIdOf } from "../../backup/layout/backup-id.ts";
import { namespacedValue } from "../../runtime/indexers.ts";
import type { RestoreObject, ScheduledBackupObject } from "./types.ts";

/** QdrantBackups by backup id (derived from metadata, as protection.ts does: never from status). */
export const BACKUP_ID_INDEX = "backups.backup-id";
export const byBackupId = (b: ScheduledBackupObject): string[] => {
  try {
    return [backupIdOf(b.metadata)];
  } catch {
    return [];
  }
};

/** QdrantRestores by the "namespace/name" of the QdrantBackup spec.source.backupRef names. */
export const RESTORE_BACKUP_REF_INDEX = "restores.backup-ref";
export const byBackupRef = (r: RestoreObject): string[] => {
  const name = r.spec?.source?.backupRef?.name;
  return name ? [namespacedValue(r.metadata?.namespace, name)] : [];
};

/** QdrantRestores by each backup id they name: spec.source.location.backupId and status.backupId. */
export const RESTORE_BACKUP_ID_INDEX = "restores.backup-id";
export const byReferencedId = (r: RestoreObject): string[] => {
  const ids = [r.spec?.source?.location?.backupId, r.status?.backupId].filter((id): id is string => !!id);
  return ids.length === 2 && ids[0] === ids[1] ? [ids[0]!] : ids;
};

/** QdrantRestores with a `latest` source, by their namespace: `latest` may pick any backup there. */
export const RESTORE_LATEST_INDEX = "restores.latest";
export const byLatestNamespace = (r: RestoreObject): string[] => (r.spec?.source?.latest ? [r.metadata?.namespace ?? ""] : []);
