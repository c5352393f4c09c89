/**
 * What a Job and its pods say about the work, for every kind of Job: Running, Succeeded with the result
 * its container wrote to the termination message, or Failed with a reason and message. A kind supplies
 * its container's name and its result reader (src/jobs/protocol/termination-message.ts: its success
 * schema; the failure is every Job's). Pure, so every odd message a kubelet can hand back (empty, a log
 * tail, JSON cut at 4 KiB) and every way a Job ends is a table test.
 *
 * Only the Job's terminal conditions (Complete, Failed) end it: the interim SuccessCriteriaMet and
 * FailureTarget come while pods may still be terminating. On Failed the last attempt's words are the
 * answer (each retry is a new pod: restartPolicy Never), falling back to the Job controller's reason.
 */
import { REASON_PATTERN } from "../../jobs/protocol/failure.ts";
import type { ParsedMessage, ReadFailure, ResultReader } from "../../jobs/protocol/termination-message.ts";
import type { ContainerStateTerminated, JobCondition, JobObject, PodObject } from "./job-objects.ts";

export type JobOutcome<S> =
  | { phase: "Running"; startTime?: string }
  /** `result` is absent when the Job completed but its message could not be read; `note` says why. */
  | { phase: "Succeeded"; result?: S; note?: string; startTime?: string; completionTime?: string }
  /**
   * `detail`: the failure result's fields of the kind's own (all but ok, reason, message, retryable), when
   * it had any, e.g. a restore's `claim` on the collection it may have half-created.
   */
  /** `retryable`: what the Job's own failure said, when it said it. */
  | { phase: "Failed"; reason: string; message: string; retryable?: boolean; detail?: Record<string, unknown>; startTime?: string; completionTime?: string };

export interface OutcomeReading<S extends { ok: true }> {
  /** The container whose termination message holds the result (the one podFailurePolicy names). */
  container: string;
  results: ResultReader<S | ReadFailure>;
  /** Where the truth is when a completed Job's result cannot be read, e.g. "the manifests in the bucket". */
  authority: string;
}

function condition(job: JobObject, type: string): JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === type && c.status === "True");
}

function terminatedStates(pods: PodObject[], container: string): Array<{ pod: PodObject; state: ContainerStateTerminated }> {
  const out: Array<{ pod: PodObject; state: ContainerStateTerminated }> = [];
  for (const pod of pods) {
    const cs = pod.status?.containerStatuses?.find((c) => c.name === container);
    const state = cs?.state?.terminated ?? cs?.lastState?.terminated;
    if (state) out.push({ pod, state });
  }
  return out;
}

const time = (s: string | undefined): number => (s ? Date.parse(s) || 0 : 0);

/**
 * The pod of the Job's last failed attempt (by when its container finished) and what its termination
 * message says: the Job's answer once it failed, and what a retried backup's status shows while the
 * next attempt is due (backup/attempts.ts).
 */
export function lastFailedAttempt<S extends { ok: true }>(pods: PodObject[], how: Pick<OutcomeReading<S>, "container" | "results">): { last?: { pod: PodObject; state: ContainerStateTerminated }; parsed: ParsedMessage<S | ReadFailure> } {
  const last = terminatedStates(pods, how.container)
    .filter((t) => t.state.exitCode !== 0)
    .sort((a, b) => time(a.state.finishedAt ?? a.pod.metadata?.creationTimestamp) - time(b.state.finishedAt ?? b.pod.metadata?.creationTimestamp))
    .at(-1);
  return { ...(last ? { last } : {}), parsed: how.results.parse(last?.state.message) };
}

export function readJobOutcome<S extends { ok: true }>(job: JobObject, pods: PodObject[], how: OutcomeReading<S>): JobOutcome<S> {
  const startTime = job.status?.startTime;
  const times = (completion?: string) => ({ ...(startTime ? { startTime } : {}), ...(completion ? { completionTime: completion } : {}) });
  const complete = condition(job, "Complete");
  if (complete) {
    const ok = terminatedStates(pods, how.container).find((t) => t.state.exitCode === 0);
    const parsed = how.results.parse(ok?.state.message);
    const completion = job.status?.completionTime ?? complete.lastTransitionTime;
    if (parsed.kind === "result" && parsed.result.ok) return { phase: "Succeeded", result: parsed.result, ...times(completion) };
    const note = !ok
      ? "no pod of the Job is left to read its result from"
      : parsed.kind === "text"
        ? `its termination message is not a result: ${parsed.text}`
        : parsed.kind === "none"
          ? "its termination message is empty"
          : "its termination message reports a failure although it exited 0";
    return { phase: "Succeeded", note: `The Job completed but ${note}; ${how.authority} are authoritative.`, ...times(completion) };
  }
  const failed = condition(job, "Failed");
  if (!failed) return startTime ? { phase: "Running", startTime } : { phase: "Running" };
  const completion = failed.lastTransitionTime;
  const jobReason = failed.reason && REASON_PATTERN.test(failed.reason) ? failed.reason : "JobFailed";
  const jobMessage = failed.message ?? "the Job failed";
  const { last, parsed } = lastFailedAttempt(pods, how);
  if (parsed.kind === "result" && !parsed.result.ok) {
    const f = parsed.result;
    return { phase: "Failed", reason: f.reason, message: f.message, ...(typeof f.retryable === "boolean" ? { retryable: f.retryable } : {}), ...(f.detail ? { detail: f.detail } : {}), ...times(completion) };
  }
  if (parsed.kind === "text") return { phase: "Failed", reason: jobReason, message: `${jobMessage}; the last attempt exited ${last!.state.exitCode}: ${parsed.text}`, ...times(completion) };
  const exit = last ? `; the last attempt exited ${last.state.exitCode}${last.state.reason ? ` (${last.state.reason})` : ""}` : "";
  return { phase: "Failed", reason: jobReason, message: `${jobMessage}${exit}`, ...times(completion) };
}
