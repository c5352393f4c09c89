/** What the QdrantConnection controller needs from the apiserver (see src/rbac/permission.ts). */
import { allow, type PermissionSet } from "../../rbac/permission.ts";
import { QDRANT_CONNECTIONS, SECRETS } from "../resources.ts";

export const RBAC: PermissionSet = {
  owner: "qdrant-connection",
  permissions: [
    allow(QDRANT_CONNECTIONS, ["list", "watch"], "its informer"),
    allow(QDRANT_CONNECTIONS, ["patch"], "writes Ready, version, mode and peers", { subresource: "status" }),
    allow(SECRETS, ["get"], "reads the API key and CA Secrets the connection names, one by one"),
    allow({ group: "", plural: "services" }, ["get"], "resolves spec.service's named port"),
  ],
};
