/**
 * The contract between the CollectionRollout controller and the `job copy` command its copy Jobs run (the
 * same protocol as every Job: src/jobs/protocol/). The controller creates green (with its config and the
 * owner stamp in its metadata) before the first copy Job; the Job only moves points: it scrolls the source
 * collection in id order (vectors and payloads, `batchSize` points a page) and upserts each page into green
 * with wait=true, reading the next page while the last one is being written.
 *
 * Progress lives in green itself: after a page is upserted (and so applied), the Job merges CopyProgress
 * into green's collection metadata under COPY_METADATA (src/controllers/rollout/names.ts), at most about
 * once a second and always after the last page. A Job killed at any moment leaves a record that is at most
 * a few pages behind the points: the next attempt starts from `nextOffset` and upserts those pages again,
 * which rewrites the same ids with the same vectors and payloads (no point is lost, none duplicated: ids are
 * the identity). The controller mirrors the record into status.copy; `resumeFrom` in the plan is what the
 * controller last saw in the record, for the Job's log only. A green without a record is started from the
 * first point whatever the plan says: the Job writes its record before its first page, so a green with no
 * record is a new one (deleted and created again), and resuming it from an old offset would lose every
 * point before it.
 *
 * Points written to the source after the copy scrolled past their id are not copied (a copy is of the
 * source as the scroll saw it): the gates (pointsWithinPercent, golden queries) are what judges the result.
 *
 * Failures (src/errors.ts): green not stamped with plan.rollout.uid, or an alias → GreenExists, permanent (the
 * Job never writes into it); green gone → GreenMissing and the source gone → SourceNotFound, retryable (the
 * controller looks again); Qdrant's 4xx to an upsert (another vector size or name) → CopyFailed, permanent,
 * saying that a new vector size needs source.external; anything transient → retryable, the next attempt
 * resuming from the record.
 *
 * Input: the plan as JSON in COPY_PLAN (nothing secret), plus every Job's environment (API key, CA).
 * Output: one JSON line (CopyJobResult) in the termination message, and the exit code. Copy Jobs run one pod
 * (backoffLimit 0): the controller retries retryable failures with a new Job, as restores do.
 */
import { Type, type Static } from "@sinclair/typebox";
import { JOB_ENV } from "../protocol/env.ts";
import type { JobFailure } from "../protocol/failure.ts";
import { QdrantPlan } from "../protocol/qdrant-plan.ts";

export const COPY_ENV = { plan: "COPY_PLAN", ...JOB_ENV } as const;

const Name = () => Type.String({ minLength: 1 });
const Count = Type.Integer({ minimum: 0 });
/** A Qdrant point id: an unsigned integer or a UUID string. */
export const PointId = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ minLength: 1 })]);
export type PointId = Static<typeof PointId>;

export const CopyJobPlan = Type.Object({
  version: Type.Literal(1),
  rollout: Type.Object({ namespace: Name(), name: Name(), uid: Name() }),
  attempt: Type.Integer({ minimum: 1 }),
  /** The collection to copy from (the active one, or copyFrom.collection). */
  source: Name(),
  /** Green: exists (the controller created it) and is stamped with this rollout's uid; the Job checks both first. */
  target: Name(),
  batchSize: Type.Integer({ minimum: 1, maximum: 10_000 }),
  /** What the controller last saw in green's record (logged only: green's own record is where a copy resumes). */
  resumeFrom: Type.Optional(PointId),
  qdrant: QdrantPlan,
});
export type CopyJobPlan = Static<typeof CopyJobPlan>;

/** What green's metadata holds under COPY_METADATA while and after the copy runs. */
export const CopyProgress = Type.Object({
  /** Points upserted so far over every attempt (pages redone after a resume count once: the count restarts from the record). */
  copied: Count,
  /** The source's exact count when the first attempt started. */
  total: Type.Optional(Count),
  /** Where the next page starts; absent when done. */
  nextOffset: Type.Optional(PointId),
  done: Type.Boolean(),
  /** The attempt that wrote the record. */
  attempt: Type.Integer({ minimum: 1 }),
});
export type CopyProgress = Static<typeof CopyProgress>;

export const CopyJobSuccess = Type.Object({
  ok: Type.Literal(true),
  copiedPoints: Count,
  totalPoints: Type.Optional(Count),
  /** Pages this attempt upserted. */
  batches: Count,
  /** Where this attempt started (undefined: from the beginning). */
  resumedFrom: Type.Optional(PointId),
  durationSeconds: Type.Number({ minimum: 0 }),
});
export type CopyJobSuccess = Static<typeof CopyJobSuccess>;

export type CopyJobResult = CopyJobSuccess | JobFailure;
