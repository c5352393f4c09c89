/**
 * The QdrantBackup as the controller reads it, as plain JSON (timestamps are strings). Jobs and Pods are
 * every controller's: src/controllers/shared/job-objects.ts, and their resource types
 * src/controllers/resources.ts.
 */
import type { QdrantBackupSpec, QdrantBackupStatus } from "../../api/v1alpha1/backup.ts";
import type { KubeObject } from "../../runtime/resource.ts";

export interface BackupObject extends KubeObject {
  spec: QdrantBackupSpec;
  status?: QdrantBackupStatus;
}

