/**
 * The one Job template of the operator: every kind of Job (backup now; restore upload, rollout copy and
 * gate Jobs next) is the operator's image running `job <kind>`, its plan in an environment variable and
 * its secrets as references, under the settings of the resource's `spec.job`. Kinds differ only in
 * their name, labels, args, plan and which references' Secrets they get, so those are the inputs and the
 * rest is decided here once. It is controller-side (it builds a V1Job; the Job's own side of the
 * contract is src/jobs/protocol/), and beside the reference resolvers in this folder because their
 * output — secretKeyRef env entries, Secret volumes and mounts — is what `secretEnv`, `volumes` and
 * `volumeMounts` take, so handing a Job a connection's or a location's Secrets is one call.
 *
 * Pure: the same inputs always give the same Job, so a retried reconcile builds exactly what the first
 * did and the deterministic name decides who created it (AlreadyExists, then adopt by controller uid).
 *
 * What every Job gets and never lacks: a controller owner reference (deleting the resource deletes the
 * Job), no service-account token (automountServiceAccountToken: false; results go back through the
 * termination message, so the pod needs no API rights), a non-root-escalating container with a
 * read-only root filesystem and no capabilities, RuntimeDefault seccomp, a small /tmp, restartPolicy
 * Never (each retry is a new pod, whose termination message the controller reads), and a
 * podFailurePolicy that fails the Job at once on exit code 2 (a failure no retry can fix).
 */
import type { V1EnvVar, V1Job, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import type { JobSettings } from "../../api/v1alpha1/common.ts";
import { EXIT_CODES } from "../../jobs/protocol/exit-codes.ts";
import { controllerReference, type KubeObject } from "../../runtime/resource.ts";

/**
 * V8 settings of every Job's Node process (a kind may add to them): a small young generation. Streamed
 * chunks die young, and collecting them often keeps the Job's memory low and flat (bench/backup-vs-pipe.ts,
 * 2 GiB: peak RSS 141 MiB, 228 MiB with the default young generation).
 */
export const JOB_NODE_OPTIONS = "--max-semi-space-size=1";

export const DEFAULT_BACKOFF_LIMIT = 3;
export const DEFAULT_TTL_SECONDS = 86_400;

export interface JobTemplateInput {
  /** The Job's name: deterministic per owner, so it is the lock (≤ 63 characters). */
  name: string;
  /** The resource the Job works for: its controller owner, in its namespace. */
  owner: KubeObject;
  /** `app.kubernetes.io/component`, e.g. "backup". */
  component: string;
  /** The kind's own labels (e.g. which QdrantBackup), on the Job and its pod; they win over spec.job.podLabels. */
  labels: Record<string, string>;
  /** The container's name; the podFailurePolicy names it, and the outcome reader reads its state. */
  container: string;
  /** `job <kind>` and its arguments (a user's gate Job: its own args). */
  args: string[];
  /** Replaces the image's entrypoint: only a user's own Job (a rollout's gate Job) sets it. */
  command?: string[];
  /** The manager's --default-job-image: used unless spec.job.image says otherwise. */
  defaultImage: string;
  /** Literal environment (the plan; nothing secret). */
  env: V1EnvVar[];
  /** Secrets by reference: secretKeyRef entries and the path variables of mounted Secret files. */
  secretEnv?: V1EnvVar[];
  /** Secret volumes (a CA) and where the container mounts them. */
  volumes?: V1Volume[];
  volumeMounts?: V1VolumeMount[];
  /** The resource's spec.job. */
  settings?: JobSettings | undefined;
  /**
   * Forces the Job's backoffLimit whatever spec.job.backoffLimit says: a kind whose controller makes the
   * retries itself (restores: each attempt a new Job with its own plan, so a retry can be told what the
   * attempt before it did) runs one pod per Job (0), and reads spec.job.backoffLimit as its own bound.
   */
  backoffLimit?: number;
  /** Annotations on the Job (not its pod): what the controller reads back when it adopts the Job. */
  annotations?: Record<string, string>;
}

/** The Job for `input`; see the module comment for what every Job carries and never does. */
export function jobTemplate(input: JobTemplateInput): V1Job {
  const job = input.settings ?? {};
  const labels = { "app.kubernetes.io/name": "qdrant-operator", "app.kubernetes.io/component": input.component, "app.kubernetes.io/managed-by": "qdrant-operator", ...input.labels };
  const resources = job.resources
    ? {
        ...(job.resources.limits ? { limits: stringValues(job.resources.limits) } : {}),
        ...(job.resources.requests ? { requests: stringValues(job.resources.requests) } : {}),
      }
    : undefined;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: input.name,
      namespace: input.owner.metadata?.namespace,
      labels,
      ...(input.annotations ? { annotations: { ...input.annotations } } : {}),
      ownerReferences: [controllerReference(input.owner)],
    },
    spec: {
      backoffLimit: input.backoffLimit ?? job.backoffLimit ?? DEFAULT_BACKOFF_LIMIT,
      ...(job.activeDeadlineSeconds !== undefined ? { activeDeadlineSeconds: job.activeDeadlineSeconds } : {}),
      ttlSecondsAfterFinished: job.ttlSecondsAfterFinished ?? DEFAULT_TTL_SECONDS,
      // Exit code 2 is a failure no retry can fix (a missing collection, a refused key): end the Job now.
      podFailurePolicy: { rules: [{ action: "FailJob", onExitCodes: { containerName: input.container, operator: "In", values: [EXIT_CODES.PERMANENT] } }] },
      template: {
        metadata: {
          labels: { ...job.podLabels, ...labels },
          ...(job.podAnnotations ? { annotations: { ...job.podAnnotations } } : {}),
        },
        spec: {
          restartPolicy: "Never",
          automountServiceAccountToken: false,
          ...(job.serviceAccountName ? { serviceAccountName: job.serviceAccountName } : {}),
          ...(job.nodeSelector ? { nodeSelector: { ...job.nodeSelector } } : {}),
          ...(job.tolerations ? { tolerations: job.tolerations.map((t) => ({ ...t })) } : {}),
          ...(job.affinity ? { affinity: structuredClone(job.affinity) } : {}),
          ...(job.priorityClassName ? { priorityClassName: job.priorityClassName } : {}),
          securityContext: { seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: input.container,
              image: job.image ?? input.defaultImage,
              ...(job.imagePullPolicy ? { imagePullPolicy: job.imagePullPolicy } : {}),
              ...(input.command ? { command: [...input.command] } : {}),
              args: [...input.args],
              env: [...input.env, ...(input.secretEnv ?? [])],
              // The root filesystem is read-only; Node and the SDKs may still want a scratch /tmp.
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }, ...(input.volumeMounts ?? [])],
              ...(resources ? { resources } : {}),
              terminationMessagePolicy: "FallbackToLogsOnError",
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
            },
          ],
          volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }, ...(input.volumes ?? [])],
        },
      },
    },
  };
}

function stringValues(m: Record<string, number | string>): Record<string, string> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)]));
}
