/**
 * What a rollout's Job says (RolloutJobState), for both kinds, through the shared outcome reader
 * (src/controllers/shared/job-outcome.ts), which decides Running / Succeeded / Failed from the Job's
 * terminal conditions alone:
 *
 * - copy Jobs (the operator's `job copy`): the result in the copy container's termination message
 *   (CopyJobSuccess, or every Job's failure). Retryable as the failure says; otherwise as the registry says
 *   for its reason; a failure with no result at all (an OOM kill, a pod lost with its node, a Job deleted)
 *   is retryable: green's own record makes a new attempt resume, never redo the whole or lose a point.
 *   A completed Job whose message cannot be read is Succeeded without `copy`: green's record
 *   (COPY_METADATA, done) is authoritative then.
 * - gate Jobs (the user's image in GATE_CONTAINER): the exit code is the verdict and the process writes no
 *   JSON, so the container's terminated state is read, not a result: Complete → Succeeded; anything else —
 *   a non-zero exit, a kill, a deadline, a pod that never ran — Failed GateJobFailed, never retryable (a
 *   verdict of no is not asked again), with the exit code, the kubelet's reason and what the container left
 *   in its termination message (its log tail: FallbackToLogsOnError).
 *
 * A Job that is not there is Missing (deleted, or its TTL ran out): for a gate Job never a pass.
 */
import { ERROR_CODES } from "../../errors.ts";
import { copyResults } from "../../jobs/copy/result.ts";
import type { ReadFailure, ResultReader } from "../../jobs/protocol/termination-message.ts";
import { MAX_TEXT } from "../../jobs/protocol/termination-message.ts";
import type { ContainerStateTerminated, JobObject, PodObject } from "../shared/job-objects.ts";
import { readJobOutcome } from "../shared/job-outcome.ts";
import { jobKindOf } from "./build-copy-job.ts";
import { COPY_CONTAINER, GATE_CONTAINER } from "./names.ts";
import type { RolloutJobState } from "./steps.ts";

const registry = new Map<string, boolean>();
// The first entry of a reason wins: CopyFailed is retryable unless the Job said otherwise (COPY_REFUSED).
for (const c of Object.values(ERROR_CODES)) if (!registry.has(c.reason)) registry.set(c.reason, c.retryable);

/** A gate Job's termination message is never a result: whatever its container left there is text. */
const gateText: ResultReader<{ ok: true } | ReadFailure> = {
  parse(message) {
    const text = (message ?? "").trim();
    if (text === "") return { kind: "none" };
    return { kind: "text", text: text.length > MAX_TEXT ? `…${text.slice(text.length - MAX_TEXT + 1)}` : text };
  },
};

/** What a rollout Job (copy or gate, by its JOB_KIND_ANNOTATION) and its pods say; `undefined`: the Job is gone. */
export function rolloutJobOutcome(job: JobObject | undefined, pods: PodObject[]): RolloutJobState {
  if (!job) return { phase: "Missing" };
  return jobKindOf(job)?.kind === "gate" ? gateOutcome(job, pods) : copyOutcome(job, pods);
}

function copyOutcome(job: JobObject, pods: PodObject[]): RolloutJobState {
  const outcome = readJobOutcome(job, pods, { container: COPY_CONTAINER, results: copyResults, authority: "green's own copy record (its collection metadata)" });
  switch (outcome.phase) {
    case "Running":
      return outcome;
    case "Succeeded":
      return { phase: "Succeeded", ...(outcome.result ? { copy: outcome.result } : {}), ...(outcome.completionTime ? { completionTime: outcome.completionTime } : {}) };
    case "Failed": {
      const retryable = outcome.retryable ?? registry.get(outcome.reason) ?? true;
      return { phase: "Failed", reason: outcome.reason, message: outcome.message, retryable, ...(outcome.completionTime ? { completionTime: outcome.completionTime } : {}) };
    }
  }
}

function gateOutcome(job: JobObject, pods: PodObject[]): RolloutJobState {
  const outcome = readJobOutcome(job, pods, { container: GATE_CONTAINER, results: gateText, authority: "the Job's Complete condition" });
  switch (outcome.phase) {
    case "Running":
      return outcome;
    case "Succeeded":
      return { phase: "Succeeded", ...(outcome.completionTime ? { completionTime: outcome.completionTime } : {}) };
    case "Failed":
      return { phase: "Failed", reason: ERROR_CODES.GATE_JOB_FAILED.reason, message: gateFailure(job, pods), retryable: false, ...(outcome.completionTime ? { completionTime: outcome.completionTime } : {}) };
  }
}

/** "gate Job rollout-x-3 failed: container "gate" exited 3 (Error): <its words>", or the Job's own reason when no container ended. */
function gateFailure(job: JobObject, pods: PodObject[]): string {
  const name = job.metadata?.name ?? "";
  const last = lastTerminated(pods);
  if (last) {
    const words = gateText.parse(last.message);
    const said = words.kind === "text" ? `: ${words.text}` : "";
    const kill = last.exitCode > 128 ? `, killed by signal ${last.exitCode - 128}` : "";
    return `gate Job ${name} failed: its container "${GATE_CONTAINER}" exited ${last.exitCode} (${last.reason ?? "no reason given"}${kill})${said}; a gate Job that does not exit 0 is a no`;
  }
  const failed = job.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True");
  const why = [failed?.reason, failed?.message].filter(Boolean).join(": ");
  return `gate Job ${name} failed before its container "${GATE_CONTAINER}" ended${why ? ` (${why})` : ""}; a gate Job that does not exit 0 is a no`;
}

function lastTerminated(pods: PodObject[]): ContainerStateTerminated | undefined {
  const states: Array<{ state: ContainerStateTerminated; at: number }> = [];
  for (const pod of pods) {
    const cs = pod.status?.containerStatuses?.find((c) => c.name === GATE_CONTAINER);
    const state = cs?.state?.terminated ?? cs?.lastState?.terminated;
    if (state) states.push({ state, at: Date.parse(state.finishedAt ?? pod.metadata?.creationTimestamp ?? "") || 0 });
  }
  return states.sort((a, b) => a.at - b.at).at(-1)?.state;
}
