/** What the QdrantBackup controller needs from the apiserver (see src/rbac/permission.ts). */
import { allow, type PermissionSet } from "../../rbac/permission.ts";
import { COLLECTION_ROLLOUTS, JOBS, PODS, QDRANT_BACKUP_LOCATIONS, QDRANT_BACKUPS, QDRANT_CONNECTIONS, QDRANT_RESTORES, SECRETS } from "../resources.ts";

export const RBAC: PermissionSet = {
  owner: "backup",
  permissions: [
    allow(QDRANT_BACKUPS, ["list", "watch"], "its informer"),
    allow(QDRANT_BACKUPS, ["patch"], "adds and removes the data finalizer (deletionPolicy: Delete)"),
    allow(QDRANT_BACKUPS, ["patch"], "writes phase, results and conditions", { subresource: "status" }),
    // blockOwnerDeletion on the Job it owns needs this where OwnerReferencesPermissionEnforcement is on.
    allow(QDRANT_BACKUPS, ["update"], "owns its Job with blockOwnerDeletion", { subresource: "finalizers" }),
    allow(QDRANT_CONNECTIONS, ["list", "watch"], "informer: the backup's connection"),
    allow(QDRANT_BACKUP_LOCATIONS, ["list", "watch"], "informer: the backup's location"),
    allow(QDRANT_RESTORES, ["list", "watch"], "informer: drills' temporary collections, which backups of all or a pattern leave out"),
    allow(COLLECTION_ROLLOUTS, ["list", "watch"], "informer: rollouts' green collections before promotion, which backups of all or a pattern leave out"),
    allow(JOBS, ["list", "watch"], "informer: the backups' Jobs (by label)"),
    allow(JOBS, ["get", "create", "delete"], "runs the backup as a Job (GET when the cache lags), deletes it when the backup is deleted"),
    allow(PODS, ["list"], "reads a finished Job's pods for the result in their termination message"),
    allow(SECRETS, ["get"], "checks the Secrets the Job mounts exist, and reads credentials for the sweep and the Delete finalizer"),
    allow({ group: "", plural: "services" }, ["get"], "resolves a connection's Service port for the Job"),
  ],
};
