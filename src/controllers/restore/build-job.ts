/**
 * The Job of one restore attempt: the operator's one Job template (src/controllers/shared/job-template.ts)
 * with `job restore`, its plan in RESTORE_PLAN (src/jobs/restore/contract.ts) and the Secrets of the target
 * connection (API key, CA) and of the backup's location (S3 credentials, CA; and, for an encrypted backup
 * only, its age key file as ENCRYPTION_KEYS: never in the plan or the Job's spec) by reference. backoffLimit is
 * forced to 0: the controller makes the retries, each a new Job whose plan says whether it owns the target
 * (decide.ts). Pure: the same inputs give the same Job, so a repeated reconcile builds what the first did
 * and the deterministic name decides who created it. The plan is checked with the Job's own checker first:
 * a plan the Job would refuse is a bug found here, before anything runs.
 */
import type { V1Job } from "@kubernetes/client-node";
import { RESTORE_ENV, type RestoreJobPlan } from "../../jobs/restore/contract.ts";
import { restorePlan } from "../../jobs/restore/plan.ts";
import { s3Target } from "../../s3/client.ts";
import { JOB_NODE_OPTIONS, jobTemplate } from "../shared/job-template.ts";
import { connectionJobEnvironment, qdrantPlanOf, type ConnectionJobSettings, type QdrantConnectionObject } from "../shared/resolve-connection.ts";
import { locationJobEnvironment, locationKeyJobEnvironment } from "../shared/resolve-location.ts";
import { mergeJobEnvironments, type JobEnvironment } from "../shared/secrets.ts";
import { needsEncryptionKey } from "./source/encryption-key.ts";
import type { ResolvedOk } from "./decide.ts";
import { ATTEMPT_ANNOTATION, CONTAINER_NAME, labelValue, RESTORE_LABEL, SCHEDULED_TIME_ANNOTATION } from "./names.ts";
import type { RestoreObject } from "./types.ts";

/**
 * V8 settings of the restore Job's Node process: the backup Job's small young generation, and `gc`
 * exposed so that an upload's body runs a minor GC every few MiB it streams (src/qdrant/recover.ts
 * youngCollector): its chunks are off-heap garbage the young generation alone would leave to pile up
 * until a full GC (bench/restore-upload-vs-pipe.ts, Upload at 0.5 and 2 GiB: peak RSS 166 and 152 MiB
 * without it, 114 and 119 MiB with it, and faster: no full GCs).
 */
export const RESTORE_JOB_NODE_OPTIONS = `${JOB_NODE_OPTIONS} --expose-gc`;

/**
 * How long a Pull's presigned URLs are valid. S3 checks the expiry when a request starts, not while its
 * body streams, and the Job presigns each URL right before its recover call, so an hour is plenty; a
 * leaked URL (a Qdrant log line) reads the object for no longer than that.
 */
export const PRESIGN_SECONDS = 3_600;

export interface RestoreAttempt {
  jobName: string;
  attempt: number;
  ownedTarget: boolean;
  method: "Pull" | "Upload";
  targetCollection: string;
  source: ResolvedOk;
  scheduledTime?: Date;
}

/** The plan the Job executes (nothing secret in it). */
export function buildRestorePlan(restore: RestoreObject, a: RestoreAttempt, settings: ConnectionJobSettings): RestoreJobPlan {
  const meta = restore.metadata ?? {};
  if (!meta.name || !meta.uid || !meta.namespace) throw new RangeError("the QdrantRestore needs metadata.name, namespace and uid (read it from the apiserver)");
  const spec = restore.spec;
  const s3 = a.source.location.spec.s3;
  const v = spec.verify ?? {};
  const addr = settings.address;
  return {
    version: 1,
    restore: { namespace: meta.namespace, name: meta.name, uid: meta.uid },
    attempt: a.attempt,
    backupId: a.source.candidate.backupId,
    mode: a.source.mode,
    sourceCollection: a.source.sourceCollection,
    targetCollection: a.targetCollection,
    method: a.method,
    priority: spec.priority ?? "snapshot",
    overwrite: spec.overwrite ?? false,
    ownedTarget: a.ownedTarget,
    files: a.source.files.map((f) => ({ ...f, shardIds: [...f.shardIds] })),
    ...(a.source.expectedPoints !== undefined ? { expectedPoints: a.source.expectedPoints } : {}),
    verify: { waitForGreen: v.waitForGreen ?? true, comparePointsCount: v.comparePointsCount ?? true, timeoutSeconds: v.timeoutSeconds ?? 1800 },
    qdrant: qdrantPlanOf(addr),
    s3: { bucket: s3.bucket, ...s3Target(s3) },
    presignSeconds: PRESIGN_SECONDS,
  };
}

/** The Job of attempt `a`; throws InvalidRestorePlan when the plan would not pass the Job's own check. */
export function buildRestoreJob(restore: RestoreObject, connection: QdrantConnectionObject, a: RestoreAttempt, settings: ConnectionJobSettings): V1Job {
  const name = restore.metadata?.name ?? "";
  const plan = restorePlan.check(buildRestorePlan(restore, a, settings));
  const secrets = mergeJobEnvironments(connectionJobEnvironment(connection.spec), locationJobEnvironment(a.source.location.spec), encryptionKeyEnvironment(a.source));
  return jobTemplate({
    name: a.jobName,
    owner: restore,
    component: "restore",
    labels: { [RESTORE_LABEL]: labelValue(name) },
    annotations: { [ATTEMPT_ANNOTATION]: String(a.attempt), ...(a.scheduledTime ? { [SCHEDULED_TIME_ANNOTATION]: a.scheduledTime.toISOString() } : {}) },
    container: CONTAINER_NAME,
    args: ["job", "restore"],
    defaultImage: settings.defaultImage,
    env: [
      { name: RESTORE_ENV.plan, value: JSON.stringify(plan) },
      { name: "NODE_OPTIONS", value: RESTORE_JOB_NODE_OPTIONS },
    ],
    secretEnv: secrets.env,
    volumes: secrets.volumes,
    volumeMounts: secrets.volumeMounts,
    settings: restore.spec.job,
    backoffLimit: 0,
  });
}

/**
 * ENCRYPTION_KEYS by secretKeyRef when a file is encrypted (resolve-source checked that the location
 * names the key and that its Secret holds a usable one); nothing otherwise: a Job that only reads plain
 * objects has no use for the key, so it never gets it.
 */
function encryptionKeyEnvironment(source: ResolvedOk): JobEnvironment {
  return needsEncryptionKey(source.files) ? locationKeyJobEnvironment(source.location.spec) : { env: [], volumes: [], volumeMounts: [] };
}

/** What adopting a Job reads back from it: its attempt and drill tick (annotations), its target and backup (its plan). */
export function attemptOfJob(job: { metadata?: { annotations?: Record<string, string> }; spec?: unknown }): { attempt: number; targetCollection?: string; backupId?: string; scheduledTime?: string } {
  const ann = job.metadata?.annotations ?? {};
  const attempt = Number.parseInt(ann[ATTEMPT_ANNOTATION] ?? "", 10);
  const env = (job.spec as { template?: { spec?: { containers?: Array<{ name?: string; env?: Array<{ name?: string; value?: string }> }> } } } | undefined)?.template?.spec?.containers
    ?.find((c) => c.name === CONTAINER_NAME)
    ?.env?.find((e) => e.name === RESTORE_ENV.plan)?.value;
  let plan: Partial<RestoreJobPlan>;
  try {
    plan = env ? (JSON.parse(env) as Partial<RestoreJobPlan>) : {};
  } catch {
    plan = {};
  }
  return {
    attempt: Number.isInteger(attempt) && attempt >= 1 ? attempt : typeof plan.attempt === "number" ? plan.attempt : 1,
    ...(typeof plan.targetCollection === "string" ? { targetCollection: plan.targetCollection } : {}),
    ...(typeof plan.backupId === "string" ? { backupId: plan.backupId } : {}),
    ...(ann[SCHEDULED_TIME_ANNOTATION] ? { scheduledTime: ann[SCHEDULED_TIME_ANNOTATION] } : {}),
  };
}
