/**
 * The objects the QdrantBackup controller reads, as plain JSON (timestamps are strings), and the
 * resource types of the Kubernetes kinds it works with.
 */
import type { QdrantBackupSpec, QdrantBackupStatus } from "../../api/v1alpha1/backup.ts";
import type { KubeObject } from "../../runtime/resource.ts";

export interface BackupObject extends KubeObject {
  spec: QdrantBackupSpec;
  status?: QdrantBackupStatus;
}

export { JOBS, PODS } from "../resources.ts";

export interface JobCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** The part of a batch/v1 Job's JSON the controller reads. */
export interface JobObject extends KubeObject {
  spec?: Record<string, unknown>;
  status?: {
    conditions?: JobCondition[];
    startTime?: string;
    completionTime?: string;
    active?: number;
    failed?: number;
    succeeded?: number;
  };
}

export interface ContainerStateTerminated {
  exitCode: number;
  reason?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
}

/** The part of a Pod's JSON the controller reads: its containers' terminated states. */
export interface PodObject extends KubeObject {
  status?: {
    phase?: string;
    startTime?: string;
    containerStatuses?: Array<{ name: string; state?: { terminated?: ContainerStateTerminated }; lastState?: { terminated?: ContainerStateTerminated } }>;
  };
}
