/** What the CollectionRollout controller needs from the apiserver (see src/rbac/permission.ts). */
import { allow, type PermissionSet } from "../../rbac/permission.ts";
import { COLLECTION_ROLLOUTS, JOBS, PODS, QDRANT_BACKUP_LOCATIONS, QDRANT_BACKUPS, QDRANT_CONNECTIONS, QDRANT_RESTORES, SECRETS } from "../resources.ts";

export const RBAC: PermissionSet = {
  owner: "rollout",
  permissions: [
    allow(COLLECTION_ROLLOUTS, ["list", "watch"], "its informer (and the other rollouts of the same alias)"),
    allow(COLLECTION_ROLLOUTS, ["patch"], "writes phase, gates, copy progress and conditions", { subresource: "status" }),
    // blockOwnerDeletion on the Jobs and the QdrantRestore it owns needs this where OwnerReferencesPermissionEnforcement is on.
    allow(COLLECTION_ROLLOUTS, ["update"], "owns its Jobs and its QdrantRestore with blockOwnerDeletion", { subresource: "finalizers" }),
    allow(QDRANT_CONNECTIONS, ["list", "watch"], "informer: the rollout's connection (and which Qdrant other rollouts' connections reach)"),
    allow(QDRANT_BACKUP_LOCATIONS, ["list", "watch"], "informer: backupActiveFirst's location"),
    allow(QDRANT_RESTORES, ["list", "watch"], "informer: the fromBackup QdrantRestore that builds green"),
    allow(QDRANT_RESTORES, ["get", "create", "delete"], "creates the fromBackup QdrantRestore (GET when its name is taken), deletes it on abort before it started"),
    allow(QDRANT_BACKUPS, ["list", "watch"], "informer: the backupActiveFirst QdrantBackup"),
    allow(QDRANT_BACKUPS, ["get", "create"], "creates the QdrantBackup of the active collection before the switch (GET when its name is taken)"),
    allow(JOBS, ["list", "watch"], "informer: the rollouts' copy and gate Jobs (by label)"),
    allow(JOBS, ["get", "create", "delete"], "runs the copy and gate Jobs (GET when the cache lags), deletes a running one on abort"),
    allow(PODS, ["list"], "reads a finished Job's pods for the result in their termination message"),
    allow(SECRETS, ["get"], "checks the Secrets the Jobs mount exist, and reads the API key and CA to call Qdrant"),
    allow({ group: "", plural: "services" }, ["get"], "resolves a connection's Service port"),
  ],
};
