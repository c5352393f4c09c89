/** A QdrantRestore as the controller reads it from its cache. */
import type { QdrantRestoreSpec, QdrantRestoreStatus } from "../../api/v1alpha1/restore.ts";
import type { KubeObject } from "../../runtime/resource.ts";

export interface RestoreObject extends KubeObject {
  spec: QdrantRestoreSpec;
  status?: QdrantRestoreStatus;
}
