/**
 * What the validation controller needs from the apiserver (see src/rbac/permission.ts), for the kinds the
 * manager runs it on (src/manager/run.ts): those whose own controller is not built yet.
 */
import { allow, type PermissionSet } from "../../rbac/permission.ts";
import { COLLECTION_ROLLOUTS } from "../resources.ts";

export const RBAC: PermissionSet = {
  owner: "validation",
  permissions: [
    allow(COLLECTION_ROLLOUTS, ["list", "watch"], "its informer"),
    allow(COLLECTION_ROLLOUTS, ["patch"], "writes Accepted and Ready", { subresource: "status" }),
  ],
};
