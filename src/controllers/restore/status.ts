/**
 * The QdrantRestore's status for each step (decide.ts), as a pure function of the current status, the
 * step and the clock. Conditions:
 * - `Accepted`: the spec is valid;
 * - `Ready`: True once restored (reason Restored), or between runs with the target there (Watching) or the
 *   next drill scheduled (DrillScheduled); False with the reason of what it waits for or failed of;
 * - `Failed`: True with the reason while the phase is Failed, False otherwise once a run began;
 * - `Verified` (drills): True when the last drill's restore was verified, False with the reason it was not.
 * `kubectl wait --for=condition=Ready` waits for a restored collection, `--for=condition=Failed` for the
 * opposite.
 */
import type { QdrantRestoreStatus } from "../../api/v1alpha1/restore.ts";
import { toKubeTime } from "../../runtime/conditions.ts";
import { withConditions, type ConditionUpdate } from "../shared/conditions.ts";
import type { RestoreStep } from "./decide.ts";
import type { Policy } from "./spec.ts";

export const WAITING_FOR_TURN = "WaitingForTurn";
export const VERIFIED = "Verified";

const ACCEPTED: ConditionUpdate = { type: "Accepted", status: "True", reason: "Validated", message: "The spec is valid." };

/** What the status needs beside the step: the policy, and the temporary collection recorded before a drill's Job. */
export interface StatusContext {
  policy?: Policy;
  generation?: number;
  now: Date;
}

/** A step of the reconcile that is not a decision: a drill's temporary collection recorded before its Job is created. */
export type StatusStep = RestoreStep | { kind: "RecordTarget"; targetCollection: string; backupId: string };

export function isFinished(status: QdrantRestoreStatus | undefined, policy: Policy | undefined): boolean {
  return (policy ?? "Once") === "Once" && (status?.phase === "Succeeded" || status?.phase === "Failed");
}

const runningMessage = (jobName: string, attempt: number, max: number, backupId?: string, target?: string) =>
  `Job ${jobName} is restoring${backupId ? ` backup ${backupId}` : ""}${target ? ` into collection ${target}` : ""} (attempt ${attempt} of ${max}).`;

function secondsBetween(start: string | undefined, end: string | undefined): number | undefined {
  const s = Date.parse(start ?? "");
  const e = Date.parse(end ?? "");
  return Number.isFinite(s) && Number.isFinite(e) && e >= s ? Math.round((e - s) / 10) / 100 : undefined;
}

export function statusFor(current: QdrantRestoreStatus | undefined, step: StatusStep, c: StatusContext): QdrantRestoreStatus {
  const now = toKubeTime(c.now);
  const base: QdrantRestoreStatus = { ...current, ...(c.generation !== undefined ? { observedGeneration: c.generation } : {}) };
  const conds = (...updates: ConditionUpdate[]) => withConditions(current?.conditions, c.generation, c.now, ...updates);
  const drill = c.policy === "Drill";
  switch (step.kind) {
    case "Observe":
    case "Done":
      return current ?? {};
    case "Invalid":
      return {
        ...base,
        phase: current?.phase ?? "Pending",
        conditions: conds({ type: "Accepted", status: "False", reason: "InvalidSpec", message: step.message }, { type: "Ready", status: "False", reason: "InvalidSpec", message: step.message }),
      };
    case "RecordTarget":
      return { ...base, phase: current?.phase ?? "Pending", targetCollection: step.targetCollection, backupId: step.backupId };
    case "Wait": {
      const phase = step.phase === "Keep" ? (current?.phase === "Watching" || current?.phase === "Failed" ? current.phase : "Pending") : step.phase;
      return {
        ...base,
        phase,
        ...(step.targetCollection !== undefined && phase !== "Running" ? { targetCollection: step.targetCollection } : {}),
        ...(step.backupId !== undefined && phase !== "Running" ? { backupId: step.backupId } : {}),
        conditions: conds(ACCEPTED, { type: "Ready", status: "False", reason: step.reason, message: step.message }),
      };
    }
    case "Watch": {
      const next = step.nextScheduleTime ? { nextScheduleTime: toKubeTime(step.nextScheduleTime) } : {};
      if (step.keep) return { ...base, ...next };
      return { ...base, ...next, phase: "Watching", conditions: conds(ACCEPTED, { type: "Ready", status: "True", reason: step.reason, message: step.message }) };
    }
    case "Adopt": {
      const j = step.job;
      const fresh = j.attempt === 1;
      return {
        ...base,
        ...(fresh ? clearedRun(base) : {}),
        phase: "Running",
        jobName: j.name,
        jobCount: j.n,
        attempt: j.attempt,
        ...(j.targetCollection ? { targetCollection: j.targetCollection } : {}),
        ...(j.backupId ? { backupId: j.backupId } : {}),
        ...(fresh ? { startTime: j.createdAt ?? now } : {}),
        ...(j.scheduledTime ? { lastScheduleTime: j.scheduledTime } : {}),
        conditions: conds(ACCEPTED, { type: "Ready", status: "False", reason: "Running", message: `Job ${j.name} is restoring${j.backupId ? ` backup ${j.backupId}` : ""} (attempt ${j.attempt}).` }),
      };
    }
    case "Start": {
      const fresh = step.startTime === undefined;
      const backupId = step.source.candidate.backupId;
      const message = runningMessage(step.jobName, step.attempt, step.maxAttempts, backupId, step.targetCollection);
      return {
        ...(fresh ? clearedRun(base) : base),
        phase: "Running",
        jobName: step.jobName,
        jobCount: step.n,
        attempt: step.attempt,
        backupId,
        targetCollection: step.targetCollection,
        startTime: step.startTime ?? now,
        ...(step.scheduledTime ? { lastScheduleTime: toKubeTime(step.scheduledTime) } : {}),
        ...(step.source.expectedPoints !== undefined ? { pointsCount: { expected: step.source.expectedPoints } } : {}),
        conditions: conds(ACCEPTED, { type: "Ready", status: "False", reason: "Running", message }, { type: "Failed", status: "False", reason: "Running", message }),
      };
    }
    case "Running":
      return {
        ...base,
        phase: "Running",
        conditions: conds(ACCEPTED, { type: "Ready", status: "False", reason: "Running", message: runningMessage(step.jobName, step.attempt, step.maxAttempts, current?.backupId, current?.targetCollection) }),
      };
    case "Complete": {
      const r = step.result;
      const verified = r?.verifiedTime ?? step.completionTime ?? now;
      const start = current?.startTime ?? r?.startTime;
      const duration = secondsBetween(start, verified);
      const target = r?.targetCollection ?? current?.targetCollection ?? "";
      const backupId = r?.backupId ?? current?.backupId;
      const points = r ? ` (${r.pointsCount.actual} point${r.pointsCount.actual === 1 ? "" : "s"})` : "";
      const took = duration !== undefined ? ` in ${duration} s` : "";
      const what = `backup ${backupId ?? ""} into collection ${target}${points}${took}`;
      const note = step.note ? ` ${step.note}` : "";
      const then = c.policy === "IfMissing" ? " It is restored again whenever it is missing." : "";
      const restored = drill ? `Drill verified: restored ${what}, then deleted the temporary collection.${note}` : `Restored ${what}.${step.switchAlias ? ` Alias ${step.switchAlias.alias} points at it.` : ""}${note}${then}`;
      const nextDrill = drill && step.nextScheduleTime ? ` Next drill at ${toKubeTime(step.nextScheduleTime)}.` : "";
      const ready: ConditionUpdate = { type: "Ready", status: "True", reason: drill ? "DrillScheduled" : "Restored", message: `${restored}${nextDrill}` };
      return {
        ...base,
        phase: c.policy === "Once" || c.policy === undefined ? "Succeeded" : "Watching",
        ...(backupId ? { backupId } : {}),
        ...(target ? { targetCollection: target } : {}),
        completionTime: verified,
        ...(duration !== undefined ? { durationSeconds: duration } : {}),
        ...(r ? { pointsCount: { ...(r.pointsCount.expected !== undefined ? { expected: r.pointsCount.expected } : {}), actual: r.pointsCount.actual } } : {}),
        restoreCount: (current?.restoreCount ?? 0) + 1,
        ...(drill ? { lastVerifiedTime: verified } : { lastRestoreTime: verified }),
        ...(step.nextScheduleTime ? { nextScheduleTime: toKubeTime(step.nextScheduleTime) } : {}),
        conditions: conds(
          ACCEPTED,
          ready,
          { type: "Failed", status: "False", reason: "Restored", message: restored },
          ...(drill ? [{ type: VERIFIED, status: "True" as const, reason: "Restored", message: restored }] : []),
        ),
      };
    }
    case "Fail": {
      const message = step.message;
      return {
        ...base,
        phase: "Failed",
        ...(step.targetCollection ? { targetCollection: step.targetCollection } : {}),
        ...(step.backupId ? { backupId: step.backupId } : {}),
        completionTime: step.completionTime ?? now,
        ...(step.scheduledTime ? { lastScheduleTime: toKubeTime(step.scheduledTime) } : {}),
        ...(step.nextScheduleTime ? { nextScheduleTime: toKubeTime(step.nextScheduleTime) } : {}),
        conditions: conds(
          ACCEPTED,
          { type: "Ready", status: "False", reason: step.reason, message },
          { type: "Failed", status: "True", reason: step.reason, message },
          ...(drill ? [{ type: VERIFIED, status: "False" as const, reason: step.reason, message }] : []),
        ),
      };
    }
  }
}

/** A new run starts clean: what the last run measured is not this one's. */
function clearedRun(s: QdrantRestoreStatus): QdrantRestoreStatus {
  const { completionTime: _c, durationSeconds: _d, pointsCount: _p, ...rest } = s;
  return rest;
}
