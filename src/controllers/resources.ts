/** ResourceType descriptors of the operator's kinds (and the core kinds it reads), for the runtime. */
import { GROUP, VERSION } from "../api/group.ts";
import { KINDS } from "../api/kinds.ts";
import type { ResourceType } from "../runtime/resource.ts";

function ours(kind: string): ResourceType {
  const def = KINDS.find((k) => k.kind === kind);
  if (!def) throw new Error(`unknown kind ${kind}`);
  return { group: GROUP, version: VERSION, plural: def.plural, kind, namespaced: true };
}

export const QDRANT_CONNECTIONS = ours("QdrantConnection");
export const QDRANT_BACKUP_LOCATIONS = ours("QdrantBackupLocation");
export const QDRANT_BACKUP_SCHEDULES = ours("QdrantBackupSchedule");
export const QDRANT_BACKUPS = ours("QdrantBackup");
export const QDRANT_RESTORES = ours("QdrantRestore");
export const COLLECTION_ROLLOUTS = ours("CollectionRollout");

export const SECRETS: ResourceType = { group: "", version: "v1", plural: "secrets", kind: "Secret", namespaced: true };
export const JOBS: ResourceType = { group: "batch", version: "v1", plural: "jobs", kind: "Job", namespaced: true };
export const PODS: ResourceType = { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true };
