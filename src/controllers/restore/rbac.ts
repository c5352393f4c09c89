/** What the QdrantRestore controller needs from the apiserver (see src/rbac/permission.ts). */
import { allow, type PermissionSet } from "../../rbac/permission.ts";
import { JOBS, PODS, QDRANT_BACKUP_LOCATIONS, QDRANT_BACKUPS, QDRANT_CONNECTIONS, QDRANT_RESTORES, SECRETS } from "../resources.ts";

export const RBAC: PermissionSet = {
  owner: "restore",
  permissions: [
    allow(QDRANT_RESTORES, ["list", "watch"], "its informer"),
    allow(QDRANT_RESTORES, ["patch"], "adds and removes the drill finalizer (policy Drill)"),
    allow(QDRANT_RESTORES, ["patch"], "writes phase, results and conditions", { subresource: "status" }),
    // blockOwnerDeletion on the Job it owns needs this where OwnerReferencesPermissionEnforcement is on.
    allow(QDRANT_RESTORES, ["update"], "owns its Jobs with blockOwnerDeletion", { subresource: "finalizers" }),
    allow(QDRANT_CONNECTIONS, ["list", "watch"], "informer: the target connection (its status changes wake IfMissing restores)"),
    allow(QDRANT_BACKUP_LOCATIONS, ["list", "watch"], "informer: the source's location"),
    allow(QDRANT_BACKUPS, ["list", "watch"], "informer: backupRef and latest sources, among the cluster's backups"),
    allow(JOBS, ["list", "watch"], "informer: the restores' Jobs (by label)"),
    allow(JOBS, ["get", "create", "delete"], "runs each attempt as a Job (GET when the cache lags), deletes a drill's Job when the restore is deleted"),
    allow(PODS, ["list"], "reads a finished Job's pods for the result in their termination message"),
    allow(SECRETS, ["get"], "checks the Secrets the Job mounts exist, and reads the API key and S3 credentials for the target and source checks"),
    allow({ group: "", plural: "services" }, ["get"], "resolves a connection's Service port"),
  ],
};
