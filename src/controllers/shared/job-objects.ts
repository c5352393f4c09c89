/**
 * The parts of batch/v1 Jobs and their Pods that the operator's controllers read, as plain JSON
 * (timestamps are strings). Every kind of Job is read through these (job-outcome.ts).
 */
import type { KubeObject } from "../../runtime/resource.ts";

export interface JobCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** The part of a batch/v1 Job's JSON a controller reads. */
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

/** The part of a Pod's JSON a controller reads: its containers' terminated states. */
export interface PodObject extends KubeObject {
  status?: {
    phase?: string;
    startTime?: string;
    containerStatuses?: Array<{ name: string; state?: { terminated?: ContainerStateTerminated }; lastState?: { terminated?: ContainerStateTerminated } }>;
  };
}

/**
 * True once the Job has ended for good (Complete or Failed). Only these terminal conditions: the interim
 * SuccessCriteriaMet and FailureTarget come while its pods may still be terminating.
 */
export function jobFinished(job: JobObject): boolean {
  return job.status?.conditions?.some((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True") ?? false;
}
