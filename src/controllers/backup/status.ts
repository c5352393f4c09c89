/**
 * The QdrantBackup's status for each step of its life, as a pure function of the current status and
 * what the reconcile found. Conditions: `Accepted` (the spec is valid), `Ready` (True once the backup
 * succeeded: `kubectl wait --for=condition=Ready` waits for a finished backup), and `Failed` (True once it
 * failed for good; False once it succeeded), so either outcome can be waited for. A failed backup whose
 * Job ran also gets `CleanedUp` once the manager has swept what the Job's runs may have left. While the
 * Job retries a failed attempt (attempts.ts), Ready is False with that attempt's reason and says which
 * attempt failed and which runs next, as a restore's does (shared/failed-attempt.ts); `attempt` is the
 * attempt the Job is on.
 */
import type { QdrantBackupStatus } from "../../api/v1alpha1/backup.ts";
import { ERROR_CODES } from "../../errors.ts";
import { withConditions, type ConditionUpdate } from "../shared/conditions.ts";
import type { CleanupOutcome } from "./cleanup.ts";
import type { JobOutcome } from "./job-result.ts";
import type { RetriedAttempt } from "./attempts.ts";
import { failedAttemptMessage } from "../shared/failed-attempt.ts";

/** Condition of a failed backup: whether what its Job's runs left (snapshots, uploads) is gone. */
export const CLEANED_UP = "CleanedUp";

export type BackupStep =
  /** The spec does not match the schema: nothing can be done until it is fixed. */
  | { kind: "Invalid"; message: string }
  /** Waiting for something that may appear (a reference, a Secret): not terminal. */
  | { kind: "Waiting"; reason: string; message: string }
  /** Failed before or without a Job result (a ReadOnly location, a foreign Job, a lost Job, a Job the apiserver refuses: InvalidSpec). */
  | { kind: "Failed"; reason: string; message: string; jobName?: string; backupId?: string }
  /**
   * The Job exists: its outcome decides. `attempt`: the one it is on (attempts.ts attemptOfJob);
   * `retried`: while it runs, the attempt that failed and is retried (its message already says it in
   * the backup's terms and redacted), which Ready shows instead of plain Running.
   */
  | { kind: "Job"; jobName: string; backupId: string; outcome: JobOutcome; attempt?: number; retried?: RetriedAttempt }
  /** A failed backup's sweep (cleanup.ts): only the CleanedUp condition changes. */
  | { kind: "Cleanup"; outcome: CleanupOutcome };

const ACCEPTED: ConditionUpdate = { type: "Accepted", status: "True", reason: "Validated", message: "The spec is valid." };

export function isTerminal(status: QdrantBackupStatus | undefined): boolean {
  return status?.phase === "Succeeded" || status?.phase === "Failed";
}

export function statusFor(current: QdrantBackupStatus | undefined, step: BackupStep, generation: number | undefined, now: Date): QdrantBackupStatus {
  const base: QdrantBackupStatus = { ...current, ...(generation !== undefined ? { observedGeneration: generation } : {}) };
  const conds = (...updates: ConditionUpdate[]) => withConditions(current?.conditions, generation, now, ...updates);
  switch (step.kind) {
    case "Invalid":
      return {
        ...base,
        conditions: conds({ type: "Accepted", status: "False", reason: "InvalidSpec", message: step.message }, { type: "Ready", status: "False", reason: "InvalidSpec", message: step.message }),
      };
    case "Waiting":
      return { ...base, phase: "Pending", conditions: conds(ACCEPTED, { type: "Ready", status: "False", reason: step.reason, message: step.message }) };
    case "Failed":
      return failed(base, conds, step.reason, step.message, { ...(step.jobName ? { jobName: step.jobName } : {}), ...(step.backupId ? { backupId: step.backupId } : {}) });
    case "Job":
      return fromJob(base, conds, step);
    case "Cleanup":
      return { ...base, conditions: conds(cleanedUp(step.outcome)) };
  }
}

/** The CleanedUp condition of a failed backup: True once its sweep found or removed everything left. */
function cleanedUp(o: CleanupOutcome): ConditionUpdate {
  const anything = o.kind === "Done" && o.swept.snapshots + o.swept.abortedUploads + o.swept.incompleteObjects > 0;
  if (o.kind === "Done") return { type: CLEANED_UP, status: "True", reason: anything ? "LeftoversDeleted" : "NothingLeft", message: o.message };
  return { type: CLEANED_UP, status: "False", reason: o.kind === "Wait" ? "WaitingForPods" : "CleanupFailed", message: o.message };
}

/** A failed backup whose Job ran and whose sweep has not succeeded yet: the reconcile sweeps it. */
export function needsCleanup(status: QdrantBackupStatus | undefined): boolean {
  if (status?.phase !== "Failed" || status.jobName === undefined) return false;
  return status.conditions?.find((c) => c.type === CLEANED_UP)?.status !== "True";
}

/**
 * A failed backup. Failed for InvalidSpec (spec.job holds what the apiserver refuses in a Job, found
 * before the create or by its 422: child-validation.ts, invalid-child.ts) is not Accepted either: the
 * spec is immutable, so that backup can never run, and being terminal it is never retried.
 */
function failed(base: QdrantBackupStatus, conds: (...u: ConditionUpdate[]) => QdrantBackupStatus["conditions"], reason: string, message: string, extra: Partial<QdrantBackupStatus>): QdrantBackupStatus {
  const accepted: ConditionUpdate = reason === ERROR_CODES.INVALID_SPEC.reason ? { type: "Accepted", status: "False", reason, message } : ACCEPTED;
  return {
    ...base,
    ...extra,
    phase: "Failed",
    failure: { reason, message },
    conditions: conds(accepted, { type: "Ready", status: "False", reason, message }, { type: "Failed", status: "True", reason, message }),
  };
}

function fromJob(base: QdrantBackupStatus, conds: (...u: ConditionUpdate[]) => QdrantBackupStatus["conditions"], step: Extract<BackupStep, { kind: "Job" }>): QdrantBackupStatus {
  const { outcome, jobName } = step;
  const ids = { jobName, backupId: step.backupId, ...(step.attempt !== undefined ? { attempt: step.attempt } : {}) };
  const times = { ...(outcome.startTime ? { startTime: outcome.startTime } : {}), ...("completionTime" in outcome && outcome.completionTime ? { completionTime: outcome.completionTime } : {}) };
  switch (outcome.phase) {
    case "Running": {
      // A retried attempt keeps its reason in Ready until the Job ends or another attempt fails.
      const r = step.retried;
      const ready: ConditionUpdate = r
        ? { type: "Ready", status: "False", reason: r.reason, message: failedAttemptMessage(r, r.next) }
        : { type: "Ready", status: "False", reason: "Running", message: `Job ${jobName} is running the backup.` };
      return { ...base, ...ids, ...times, phase: "Running", conditions: conds(ACCEPTED, ready) };
    }
    case "Failed":
      return failed(base, conds, outcome.reason, outcome.message, { ...ids, ...times });
    case "Succeeded": {
      const r = outcome.result;
      if (!r) {
        const message = outcome.note ?? "The Job completed.";
        return { ...base, ...ids, ...times, phase: "Succeeded", conditions: conds(ACCEPTED, { type: "Ready", status: "True", reason: "Succeeded", message }, { type: "Failed", status: "False", reason: "Succeeded", message }) };
      }
      // Collection mode: one entry per collection with its manifest. FullStorage: the storage's
      // collections (the one manifest and the files are top-level).
      const collections = r.collections
        ? r.collections.map((c) => ({ name: c.name, manifestKey: c.manifestKey, pointsCount: c.pointsCount, ...(c.files ? { files: c.files.map((f) => ({ ...f })) } : {}) }))
        : (r.storage?.collections ?? []).map((c) => ({ name: c.name, ...(c.pointsCount !== undefined ? { pointsCount: c.pointsCount } : {}), aliases: [...c.aliases] }));
      const what = r.collections
        ? `${collections.length} collection${collections.length === 1 ? "" : "s"}`
        : `the full storage (${collections.length} collection${collections.length === 1 ? "" : "s"}, ${r.files?.length ?? 0} peer snapshot${r.files?.length === 1 ? "" : "s"})`;
      // What a backup of all or a pattern left out is in its manifests (excluded); the message names it.
      const left = r.excluded?.length ? ` Left out ${r.excluded.length === 1 ? "a collection" : `${r.excluded.length} collections`} the operator is building: ${r.excluded.map((e) => e.name).join(", ")}.` : "";
      // A result read from the manifests keeps the note on why the Job's own could not be read.
      const locked = r.objectLock ? ` Locked (${r.objectLock.mode}) until ${r.objectLock.retainUntil}.` : "";
      const message = `Backed up ${what} (${r.sizeBytes} bytes) as ${r.backupId}.${left}${locked}${outcome.note ? ` ${outcome.note}` : ""}`;
      return {
        ...base,
        ...ids,
        backupId: r.backupId,
        phase: "Succeeded",
        startTime: r.startTime,
        completionTime: r.completionTime,
        sizeBytes: r.sizeBytes,
        ...(r.collections || r.storage ? { collections } : {}),
        ...(r.manifestKey ? { manifestKey: r.manifestKey } : {}),
        ...(r.files ? { files: r.files.map((f) => ({ ...f })) } : {}),
        ...(r.objectLock ? { objectLock: { ...r.objectLock } } : {}),
        conditions: conds(ACCEPTED, { type: "Ready", status: "True", reason: "Succeeded", message }, { type: "Failed", status: "False", reason: "Succeeded", message }),
      };
    }
  }
}
