/**
 * The objects the QdrantBackupSchedule controller reads, as plain JSON (timestamps are strings), and the
 * names it stamps on the QdrantBackups it creates.
 */
import type { QdrantBackupSpec, QdrantBackupStatus } from "../../api/v1alpha1/backup.ts";
import type { QdrantBackupScheduleSpec, QdrantBackupScheduleStatus } from "../../api/v1alpha1/backup-schedule.ts";
import type { KubeObject } from "../../runtime/resource.ts";

export interface ScheduleObject extends KubeObject {
  spec: QdrantBackupScheduleSpec;
  status?: QdrantBackupScheduleStatus;
}

export interface ScheduledBackupObject extends KubeObject {
  spec: QdrantBackupSpec;
  status?: QdrantBackupStatus;
}

/**
 * Only the fields retention reads to tell which backups a QdrantRestore protects (protection.ts, which
 * hands the source to selectBackup); all
 * optional, because objects stored before a schema change reach the cache too.
 */
export interface RestoreObject extends KubeObject {
  spec?: {
    source?: {
      backupRef?: { name?: string };
      location?: { locationRef?: { name?: string }; backupId?: string; sourceNamespace?: string };
      latest?: { locationRef?: { name?: string }; collection?: string; scheduleRef?: { name?: string }; notAfter?: string };
    };
    sourceCollection?: string;
    policy?: string;
  };
  status?: { backupId?: string; phase?: string };
}

/** status.history keeps this many backups, newest first. */
export const HISTORY_LIMIT = 10;
