/**
 * The Job of one copy attempt (a StartCopy step): the operator's one Job template
 * (src/controllers/shared/job-template.ts) with `job copy`, its plan in COPY_PLAN (src/jobs/copy/contract.ts)
 * and the connection's Secrets (API key, CA) by reference. backoffLimit is forced to 0: the controller makes
 * the retries, each a new Job `rollout-<name>-<n>` (n = status.jobCount + 1) that resumes from green's own
 * record. Pure: the same inputs give the same Job, so a repeated reconcile builds what the first did and the
 * deterministic name decides who created it. The plan is checked with the Job's own checker first: a plan
 * the Job would refuse is a bug found here, before anything runs.
 *
 * Adoption (a manager killed between the create and the status write): `jobKindOf` reads back what the Job
 * is (copy or gate, JOB_KIND_ANNOTATION) and its attempt (ATTEMPT_ANNOTATION) from the Job itself.
 */
import type { V1Job } from "@kubernetes/client-node";
import { COPY_ENV, type CopyJobPlan } from "../../jobs/copy/contract.ts";
import { copyPlan } from "../../jobs/copy/plan.ts";
import { JOB_NODE_OPTIONS, jobTemplate } from "../shared/job-template.ts";
import { connectionJobEnvironment, qdrantPlanOf, type ConnectionJobSettings, type QdrantConnectionObject } from "../shared/resolve-connection.ts";
import { ATTEMPT_ANNOTATION, COPY_CONTAINER, JOB_KIND_ANNOTATION, labelValue, ROLLOUT_LABEL, type RolloutJobKind } from "./names.ts";
import type { RolloutStep } from "./steps.ts";
import type { RolloutObject } from "./types.ts";

/**
 * V8 settings of the copy Job's Node process: every Job's, with a young generation large enough for a page.
 * A page (256 points of 128 floats and a payload: ~0.7 MB of JSON, as much again parsed and re-serialised)
 * lives across the upsert it is sent with; with every Job's 1 MiB semi-space it is promoted and dies in the
 * old generation, so the Job spent ~30% more CPU per point than a plain loop, and was slower for it on a
 * busy node. With 16 MiB pages die young: the same CPU per point as the loop, peak RSS as flat
 * (bench/rollout-copy-vs-loop.ts). The later flag wins in V8.
 */
export const COPY_JOB_NODE_OPTIONS = `${JOB_NODE_OPTIONS} --max-semi-space-size=16`;

/** copyFrom.batchSize when the spec leaves it out. */
export const DEFAULT_COPY_BATCH_SIZE = 256;

export type StartCopy = Extract<RolloutStep, { kind: "StartCopy" }>;

/** The plan the Job executes (nothing secret in it). */
export function buildCopyPlan(rollout: RolloutObject, step: StartCopy, settings: ConnectionJobSettings): CopyJobPlan {
  const meta = rollout.metadata ?? {};
  if (!meta.name || !meta.uid || !meta.namespace) throw new RangeError("the CollectionRollout needs metadata.name, namespace and uid (read it from the apiserver)");
  const addr = settings.address;
  return {
    version: 1,
    rollout: { namespace: meta.namespace, name: meta.name, uid: meta.uid },
    attempt: step.attempt,
    source: step.source,
    target: rollout.spec.collection,
    batchSize: rollout.spec.source.copyFrom?.batchSize ?? DEFAULT_COPY_BATCH_SIZE,
    ...(step.resumeFrom !== undefined ? { resumeFrom: step.resumeFrom } : {}),
    qdrant: qdrantPlanOf(addr),
  };
}

/** The Job of `step`; throws InvalidCopyPlan when the plan would not pass the Job's own check. */
export function buildCopyJob(rollout: RolloutObject, connection: QdrantConnectionObject, step: StartCopy, settings: ConnectionJobSettings): V1Job {
  const plan = copyPlan.check(buildCopyPlan(rollout, step, settings));
  const secrets = connectionJobEnvironment(connection.spec);
  return jobTemplate({
    name: step.jobName,
    owner: rollout,
    component: "rollout",
    labels: { [ROLLOUT_LABEL]: labelValue(rollout.metadata?.name ?? "") },
    annotations: { [JOB_KIND_ANNOTATION]: "copy" satisfies RolloutJobKind, [ATTEMPT_ANNOTATION]: String(step.attempt) },
    container: COPY_CONTAINER,
    args: ["job", "copy"],
    defaultImage: settings.defaultImage,
    env: [
      { name: COPY_ENV.plan, value: JSON.stringify(plan) },
      { name: "NODE_OPTIONS", value: COPY_JOB_NODE_OPTIONS },
    ],
    secretEnv: secrets.env,
    volumes: secrets.volumes,
    volumeMounts: secrets.volumeMounts,
    settings: rollout.spec.job,
    backoffLimit: 0,
  });
}

/**
 * What a Job of a rollout is, read back from its annotations: its kind and attempt. undefined when it carries
 * no kind this operator knows (not a rollout Job: never adopted). A missing or malformed attempt reads as 1.
 */
export function jobKindOf(job: { metadata?: { annotations?: Record<string, string> } }): { kind: RolloutJobKind; attempt: number } | undefined {
  const ann = job.metadata?.annotations ?? {};
  const kind = ann[JOB_KIND_ANNOTATION];
  if (kind !== "copy" && kind !== "gate") return undefined;
  const attempt = Number(ann[ATTEMPT_ANNOTATION]);
  return { kind, attempt: Number.isInteger(attempt) && attempt >= 1 ? attempt : 1 };
}
