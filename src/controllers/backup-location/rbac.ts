/** What the QdrantBackupLocation controller needs from the apiserver (see src/rbac/permission.ts). */
import { allow, type PermissionSet } from "../../rbac/permission.ts";
import { QDRANT_BACKUP_LOCATIONS, SECRETS } from "../resources.ts";

export const RBAC: PermissionSet = {
  owner: "backup-location",
  permissions: [
    allow(QDRANT_BACKUP_LOCATIONS, ["list", "watch"], "its informer"),
    allow(QDRANT_BACKUP_LOCATIONS, ["patch"], "writes Ready and lastValidationTime", { subresource: "status" }),
    allow(SECRETS, ["get"], "reads the S3 credentials and CA the location names"),
  ],
};
