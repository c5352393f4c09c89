/** What the QdrantConnection controller needs from the apiserver (see src/rbac/permission.ts). */
import { allow, type PermissionSet } from "../../rbac/permission.ts";
import { QDRANT_CONNECTIONS, SECRETS } from "../resources.ts";

export const RBAC: PermissionSet = {
  owner: "qdrant-connection",
  permissions: [
    allow(QDRANT_CONNECTIONS, ["list", "watch"], "its informer"),
    allow(QDRANT_CONNECTIONS, ["patch"], "writes Ready, version, mode and peers", { subresource: "status" }),
    allow(SECRETS, ["get"], "reads the API key and CA of spec.apiKeySecretRef / tls (never lists or watches Secrets)"),
    allow({ group: "", plural: "services" }, ["get"], "resolves spec.service's named port"),
  ],
};
