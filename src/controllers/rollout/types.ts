/** A CollectionRollout as the controller reads it from its cache. */
import type { CollectionRolloutSpec, CollectionRolloutStatus } from "../../api/v1alpha1/rollout.ts";
import type { KubeObject } from "../../runtime/resource.ts";

export interface RolloutObject extends KubeObject {
  spec: CollectionRolloutSpec;
  status?: CollectionRolloutStatus;
}
