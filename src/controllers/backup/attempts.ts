/**
 * A backup's attempts. Unlike a restore (a Job per attempt, made by its controller), a backup has one Job
 * and the Job controller retries it: a pod that fails (restartPolicy Never, exit code 1: retryable) is
 * counted in the Job's status.failed and replaced by a new pod after the Job controller's backoff, up to
 * spec.backoffLimit (spec.job.backoffLimit, default 3) times. All the while the Job has not ended, so the
 * backup is Running; this says what the status shows then: which attempt failed, why (its pod's
 * termination message), and which attempt runs next and when.
 *
 * Read from the cluster alone — the Job's status.failed, conditions and backoffLimit, and its pods —
 * never from the manager's memory: a manager restarted during the backoff, or while the next attempt
 * runs, writes the same status. Pure, so every way a retry can look is a table test.
 *
 * Only a retry the Job controller has decided is reported: nothing before it counted the pod failed, and
 * nothing once the Job is failing for good (a FailureTarget condition: exit code 2 under the
 * podFailurePolicy, the backoffLimit reached, the deadline passed) or a result said no retry helps.
 */
import type { Condition } from "../../runtime/conditions.ts";
import { reportsFailedAttempt, type NextAttempt } from "../shared/failed-attempt.ts";
import { jobFinished, type JobObject, type PodObject } from "../shared/job-objects.ts";
import { lastFailedAttempt } from "../shared/job-outcome.ts";
import { results } from "./job-result.ts";
import { CONTAINER_NAME } from "./names.ts";

/** The Job controller's backoff before it replaces a failed pod: 10 s, 20 s, 40 s, … up to 6 min (the Job documentation's figures). */
const JOB_RETRY_BASE_MS = 10_000;
const JOB_RETRY_MAX_MS = 6 * 60_000;
/** The Job API's own default, for a Job that does not say (every Job the operator builds does). */
const KUBERNETES_DEFAULT_BACKOFF_LIMIT = 6;

/** The Job controller's wait after the `failed`-th failed pod, before the next one. */
export function jobRetryDelayMs(failed: number): number {
  return Math.min(JOB_RETRY_MAX_MS, JOB_RETRY_BASE_MS * 2 ** Math.max(0, failed - 1));
}

/** An attempt that failed while the Job goes on: the next attempt is due (`startsAt`) or running (`startedAt`). */
export interface RetriedAttempt {
  /** The attempt that failed, from 1 (the Job's status.failed). */
  attempt: number;
  /** 1 + the Job's backoffLimit. */
  maxAttempts: number;
  reason: string;
  /** The attempt's own words (not yet explained in terms of the backup's references: explain-failure.ts). */
  message: string;
  next: NextAttempt;
}

const condition = (job: JobObject, type: string) => job.status?.conditions?.some((c) => c.type === type && c.status === "True") ?? false;

/**
 * The attempt the Job is on, from 1: one more than the pods it counted failed while it goes on or
 * completes; the last one (its failed pods) once it failed.
 */
export function attemptOfJob(job: JobObject): number {
  const failed = job.status?.failed ?? 0;
  return condition(job, "Failed") ? Math.max(1, failed) : failed + 1;
}

/** The failed attempt of a Job that retries it, or undefined (nothing failed, or no retry comes). */
export function retriedAttempt(job: JobObject, pods: PodObject[], now: Date): RetriedAttempt | undefined {
  if (jobFinished(job) || condition(job, "FailureTarget")) return undefined;
  const failed = job.status?.failed ?? 0;
  const limit = typeof job.spec?.backoffLimit === "number" ? job.spec.backoffLimit : KUBERNETES_DEFAULT_BACKOFF_LIMIT;
  const maxAttempts = limit + 1;
  if (failed <= 0 || failed >= maxAttempts) return undefined;
  const { last, parsed } = lastFailedAttempt(pods, { container: CONTAINER_NAME, results });
  if (parsed.kind === "result" && !parsed.result.ok && parsed.result.retryable === false) return undefined;
  const pod = last ? `pod ${last.pod.metadata?.name ?? ""}` : "its pod";
  const exited = last ? `${pod} exited ${last.state.exitCode}${last.state.reason ? ` (${last.state.reason})` : ""}` : `${pod} failed and is gone`;
  const { reason, message } =
    parsed.kind === "result" && !parsed.result.ok
      ? { reason: parsed.result.reason, message: parsed.result.message }
      : { reason: "BackupFailed", message: parsed.kind === "text" ? `${exited}: ${parsed.text}` : exited };
  return { attempt: failed, maxAttempts, reason, message, next: nextAttempt(pods, last?.state.finishedAt, failed, now) };
}

/** The pod running the next attempt (one not ended), else when the Job controller's backoff ends. */
function nextAttempt(pods: PodObject[], failedAt: string | undefined, failed: number, now: Date): NextAttempt {
  const running = pods
    .filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase !== "Failed" && p.status?.phase !== "Succeeded")
    .filter((p) => !p.status?.containerStatuses?.some((c) => c.name === CONTAINER_NAME && c.state?.terminated))
    .map((p) => p.status?.startTime ?? p.metadata?.creationTimestamp)
    .filter((t): t is string => t !== undefined)
    .sort()
    .at(-1);
  if (running) return { startedAt: running };
  const since = Date.parse(failedAt ?? "");
  return { startsAt: new Date((Number.isFinite(since) ? since : now.getTime()) + jobRetryDelayMs(failed)), approximate: true };
}

/**
 * Whether `retried` is news: the status before (its Ready condition, read from the backup) did not report
 * that attempt yet. So its Warning Event comes once per failed attempt, two attempts failing alike get
 * one each, and a manager restarted mid-retry does not repeat it. Read from Ready's words rather than
 * status.attempt, which an older CRD's schema prunes.
 */
export function newlyRetried(before: readonly Condition[] | undefined, retried: RetriedAttempt | undefined): boolean {
  if (!retried) return false;
  const ready = before?.find((c) => c.type === "Ready");
  return !(ready?.reason === retried.reason && reportsFailedAttempt(ready.message, retried));
}
