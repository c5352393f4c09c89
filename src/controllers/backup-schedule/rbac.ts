/** What the QdrantBackupSchedule controller needs from the apiserver (see src/rbac/permission.ts). */
import { allow, type PermissionSet } from "../../rbac/permission.ts";
import { QDRANT_BACKUP_LOCATIONS, QDRANT_BACKUP_SCHEDULES, QDRANT_BACKUPS, QDRANT_RESTORES, SECRETS } from "../resources.ts";

export const RBAC: PermissionSet = {
  owner: "backup-schedule",
  permissions: [
    allow(QDRANT_BACKUP_SCHEDULES, ["list", "watch"], "its informer"),
    allow(QDRANT_BACKUP_SCHEDULES, ["patch"], "writes lastScheduleTime, the retention summary and conditions", { subresource: "status" }),
    // blockOwnerDeletion on the backups it owns needs this where OwnerReferencesPermissionEnforcement is on.
    allow(QDRANT_BACKUP_SCHEDULES, ["update"], "owns its backups with blockOwnerDeletion", { subresource: "finalizers" }),
    allow(QDRANT_BACKUPS, ["list", "watch"], "informer: the schedule's backups, for ticks and retention"),
    allow(QDRANT_BACKUPS, ["get", "create", "delete"], "creates a backup per tick (adopting one it finds by name), deletes pruned and replaced ones"),
    allow(QDRANT_RESTORES, ["list", "watch"], "informer: restores protect the backups they name from retention"),
    allow(QDRANT_BACKUP_LOCATIONS, ["get"], "reads a pruned backup's location"),
    allow(SECRETS, ["get"], "reads that location's S3 credentials to delete the pruned data"),
  ],
};
