/**
 * The CollectionRollout's status for each step (decide.ts), as a pure function of the current status, the
 * step and the clock. Conditions:
 * - `Ready`: True only once promoted and done judging (no analysis window, or it ended passing): reason
 *   Promoted; RolledBack: False RolledBack (or AnalysisFailed); otherwise False with what the rollout is
 *   doing or waiting for (Building, Validating, AwaitingPromotion, Analyzing, a registry reason…);
 * - `GatesPassed`: absent until green is first judged; True when every gate passed (the message counts
 *   them), False with the failing rows in numbers ("minPoints 800 points < 1000; goldenQuery/top overlap
 *   0.60 (6/10) < 0.80"), Unknown while the gate Job (run once the Qdrant gates pass) has not said;
 * - `Promoted`: True once the alias was switched to green, False before and after a roll back.
 * `kubectl wait --for=condition=Promoted` waits for the switch, `--for=condition=Ready` for the end.
 *
 * Every reason is the error registry's (src/errors.ts) or one of PLAIN_REASONS. Observe and Done write
 * nothing; every other step writes the phase, its conditions and observedGeneration.
 */
import type { CollectionRolloutSpec, CollectionRolloutStatus } from "../../api/v1alpha1/rollout.ts";
import { toKubeTime } from "../../runtime/conditions.ts";
import { withConditions, type ConditionUpdate } from "../shared/conditions.ts";
import { failingSummary, judgedAt } from "./decide-shared.ts";
import { JOB_ROW } from "./decide-validate.ts";
import { analysisEndMs } from "./spec.ts";
import { greenRestoreName } from "./names.ts";
import type { GateResult } from "./gates/types.ts";
import type { CopyProgress } from "../../jobs/copy/contract.ts";
import type { GateEvaluation, RolloutStep } from "./steps.ts";

/** Reasons that are not errors (not in the registry): what a rollout is doing. */
export const PLAIN_REASONS = [
  "Pending",
  "Preparing",
  "Building",
  "Validating",
  "GatesPassed",
  "GatesNotPassed",
  "GateJobRunning",
  "AwaitingPromotion",
  "BackingUpActive",
  "Analyzing",
  "AnalysisPassed",
  "Promoted",
  "RolledBack",
  "Aborting",
  "Aborted",
  "AbortIgnored",
  "DeletedPrevious",
] as const;

export interface StatusContext {
  generation?: number;
  now: Date;
  /** The rollout's spec: the alias in messages, and whether an analysis window follows the switch. */
  spec?: CollectionRolloutSpec;
  /** The rollout's name (the kubectl patch command AwaitingPromotion shows). */
  name?: string;
}

const gatesPassed = (rows: readonly GateResult[]): ConditionUpdate => ({
  type: "GatesPassed",
  status: "True",
  reason: "GatesPassed",
  message: `All ${rows.length} gate${rows.length === 1 ? "" : "s"} passed${rows.length > 0 ? `: ${rows.map((r) => r.name).join(", ")}` : ""}.`,
});
const gatesFailing = (rows: readonly GateResult[], reason = "GatesNotPassed"): ConditionUpdate => ({ type: "GatesPassed", status: "False", reason, message: `Gates not passed: ${failingSummary(rows)}.` });
const gateJobRunning = (jobName: string): ConditionUpdate => ({ type: "GatesPassed", status: "Unknown", reason: "GateJobRunning", message: `Every Qdrant gate passed; gate Job ${jobName} is running.` });
/** Passed, failing, or — every Qdrant gate passed and the gate Job runs — not said yet. */
function gatesCondition(g: GateEvaluation, jobName: string | undefined): ConditionUpdate {
  if (g.allPassed) return gatesPassed(g.results);
  const others = g.results.filter((r) => r.name !== JOB_ROW);
  const job = g.results.find((r) => r.name === JOB_ROW);
  if (job && !job.passed && job.observed === "running" && others.every((r) => r.passed)) return gateJobRunning(jobName ?? "");
  return gatesFailing(g.results);
}

function mirror(p: CopyProgress): NonNullable<CollectionRolloutStatus["copy"]> {
  return { copiedPoints: p.copied, ...(p.total !== undefined ? { totalPoints: p.total } : {}), ...(p.nextOffset !== undefined ? { nextOffset: p.nextOffset } : {}), done: p.done };
}

/** A new run (Begin) forgets everything the last one recorded, except how many Jobs were numbered. */
function fresh(s: CollectionRolloutStatus): CollectionRolloutStatus {
  const { observedGeneration, conditions, jobCount } = s;
  return {
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
    ...(conditions ? { conditions: conditions.filter((c) => c.type === "Ready") } : {}),
    ...(jobCount !== undefined ? { jobCount } : {}),
  };
}

export function statusFor(current: CollectionRolloutStatus | undefined, step: RolloutStep, c: StatusContext): CollectionRolloutStatus {
  const now = toKubeTime(c.now);
  const before = current ?? {};
  const base: CollectionRolloutStatus = { ...before, ...(c.generation !== undefined ? { observedGeneration: c.generation } : {}) };
  const conds = (s: CollectionRolloutStatus, ...updates: ConditionUpdate[]) => withConditions(s.conditions, c.generation, c.now, ...updates);
  const ready = (status: "True" | "False", reason: string, message: string): ConditionUpdate => ({ type: "Ready", status, reason, message });
  const with_ = (s: CollectionRolloutStatus, ...updates: ConditionUpdate[]): CollectionRolloutStatus => ({ ...s, conditions: conds(s, ...updates) });
  const { alias, green, greenC, Alias } = names(c);
  switch (step.kind) {
    case "Observe":
    case "Done":
      return before;
    case "Invalid":
      return with_({ ...base, phase: before.phase ?? "Pending" }, ready("False", step.reason, step.message));
    case "Wait": {
      const s: CollectionRolloutStatus = { ...base, phase: step.phase };
      return with_(s, ready("False", step.reason, step.message));
    }
    case "Begin": {
      const s: CollectionRolloutStatus = { ...fresh(base), phase: "Preparing", activeCollection: step.activeCollection ?? "" };
      const from = step.activeCollection ? `${alias} points at ${step.activeCollection}` : `${alias} does not exist yet`;
      return with_(
        s,
        ready("False", "Preparing", `Building ${greenC}; ${from}.`),
        { type: "Promoted", status: "False", reason: "Pending", message: `Not switched: ${from}.` },
      );
    }
    case "CreateGreen": {
      // A new green starts from nothing: no earlier green's copy figures (the copy resumes from green's own record only).
      const { copy: _gone, ...rest } = base;
      return with_({ ...rest, phase: "Preparing" }, ready("False", "Building", `Created ${greenC}${step.source ? ` (configured like ${step.source})` : ""}.`));
    }
    case "CreateRestore":
      return with_({ ...base, phase: "Preparing", restoreName: step.name }, ready("False", "Building", `Created QdrantRestore ${step.name} to restore the backup into ${greenC}.`));
    case "StampGreen": {
      // The restore's name too: a manager killed after creating it (rollout.restore-created-before-status) never wrote it.
      const restoreName = before.restoreName ?? (c.name ? greenRestoreName(c.name) : undefined);
      return with_({ ...base, phase: "Preparing", ...(restoreName ? { restoreName } : {}) }, ready("False", "Building", `Restored ${greenC}; stamped it as this rollout's.`));
    }
    case "StartCopy":
      return with_(
        { ...base, phase: "Preparing", jobName: step.jobName, jobCount: step.n },
        ready("False", "Building", `Job ${step.jobName} is copying collection ${step.source} into ${green} (attempt ${step.attempt}${step.resumeFrom !== undefined ? `, resuming at point ${step.resumeFrom}` : ""}).`),
      );
    case "Adopt": {
      const j = step.job;
      if (j.kind === "gate") {
        const rows = [...(before.gates ?? []).filter((r) => r.name !== JOB_ROW), jobRunning(j.name)];
        return with_(
          { ...base, phase: "Validating", jobName: j.name, jobCount: j.n, gates: rows, gatesStartTime: before.gatesStartTime ?? now },
          ready("False", "Validating", `Every Qdrant gate passed; gate Job ${j.name} is running.`),
          gateJobRunning(j.name),
        );
      }
      return with_({ ...base, phase: "Preparing", jobName: j.name, jobCount: j.n }, ready("False", "Building", `Job ${j.name} is copying points into ${green} (attempt ${j.attempt}).`));
    }
    case "Building":
      return with_({ ...base, phase: "Preparing", ...(step.copy ? { copy: mirror(step.copy) } : {}) }, ready("False", "Building", step.message));
    case "Validating":
      return with_(
        { ...base, phase: "Validating", gates: step.gates.results, gatesStartTime: startedAt(before, c, now) },
        ready("False", "Validating", step.message),
        gatesCondition(step.gates, before.jobName),
      );
    case "StartGateJob": {
      const rows = [...step.gates.results.filter((r) => r.name !== JOB_ROW), jobRunning(step.jobName)];
      return with_(
        { ...base, phase: "Validating", jobName: step.jobName, jobCount: step.n, gates: rows, gatesStartTime: startedAt(before, c, now) },
        ready("False", "Validating", `Every Qdrant gate passed; gate Job ${step.jobName} is running (its exit code is the verdict).`),
        gateJobRunning(step.jobName),
      );
    }
    case "AwaitPromotion": {
      const rows = step.gates?.results ?? before.gates ?? [];
      const who = c.name ?? "<name>";
      return with_(
        { ...base, phase: "AwaitingPromotion", gates: rows },
        ready("False", "AwaitingPromotion", `All gates passed; promote with: kubectl patch collectionrollout ${who} --type merge -p '{"spec":{"promotion":{"approved":true}}}'`),
        gatesPassed(rows),
      );
    }
    case "CreateBackup":
      return with_({ ...base, backupName: step.name }, ready("False", "BackingUpActive", `Created QdrantBackup ${step.name} of collection ${step.collection}; ${alias} is switched when it succeeds.`));
    case "Switch":
      // The status once the switch succeeded (the controller writes Promoted/RolledBack itself; this is the same).
      if (step.reason === "Promote") return statusFor(current, { kind: "Promoted", previous: step.from, adopted: false }, c);
      return statusFor(current, { kind: "RolledBack", reason: step.reason === "Rollback" ? "RolledBack" : "AnalysisFailed", message: step.message ?? `${Alias} points at ${step.to} again.`, adopted: false }, c);
    case "Promoted":
      return promoted(before, base, step, c, now);
    case "RolledBack":
      return with_(
        { ...base, phase: "RolledBack", rolledBackAt: now, failure: { reason: step.reason, message: step.message }, ...(step.reason === "AnalysisFailed" && base.analysis ? { analysis: { ...base.analysis, passed: false, endTime: base.analysis.endTime ?? now } } : {}) },
        ready("False", step.reason, step.message),
        { type: "Promoted", status: "False", reason: "RolledBack", message: step.message },
      );
    case "DeletePrevious":
      return with_({ ...base, phase: "Promoted", previousDeletedAt: now }, ready("True", "Promoted", `${Alias} points at ${green}; deleted the previous collection ${step.collection} (spec.retainPrevious).`));
    case "Abort":
      return with_({ ...base, phase: "Aborted", failure: { reason: "Aborted", message: step.message } }, ready("False", "Aborted", step.message), { type: "Promoted", status: "False", reason: "Aborted", message: step.message });
    case "Fail":
      return with_(
        { ...base, phase: "Failed", failure: { reason: step.reason, message: step.message }, ...(step.gates ? { gates: step.gates.results } : {}) },
        ready("False", step.reason, step.message),
        ...(step.gates ? [gatesFailing(step.gates.results, step.reason)] : []),
      );
  }
}

/** gatesStartTime: kept while judging at this generation; now at the first judgment of a generation (an edited spec is judged again, its timeout too). */
function startedAt(before: CollectionRolloutStatus, c: StatusContext, now: string): string {
  return judgedAt(before, c.generation) ? (before.gatesStartTime ?? now) : now;
}

/** How messages name the alias and green: from the spec when the context has it, in words otherwise. */
function names(c: StatusContext): { alias: string; Alias: string; green: string; greenC: string } {
  const alias = c.spec ? `alias ${c.spec.alias}` : "the alias";
  return { alias, Alias: alias.charAt(0).toUpperCase() + alias.slice(1), green: c.spec?.collection ?? "the green collection", greenC: c.spec ? `collection ${c.spec.collection}` : "the green collection" };
}

function jobRunning(jobName: string): GateResult {
  return { name: JOB_ROW, passed: false, observed: "running", threshold: "exit 0", message: `Job ${jobName} is running` };
}

function promoted(before: CollectionRolloutStatus, base: CollectionRolloutStatus, step: Extract<RolloutStep, { kind: "Promoted" }>, c: StatusContext, now: string): CollectionRolloutStatus {
  const { green, Alias } = names(c);
  const switching = before.phase !== "Promoted";
  const s: CollectionRolloutStatus = { ...base, phase: "Promoted" };
  if (switching) {
    s.promotedAt = now;
    if (step.previous) s.previousCollection = step.previous;
    else delete s.previousCollection;
    delete s.failure;
    // The gate Job's row ran to its end if the switch was made on it.
    if (s.gates && !step.adopted) s.gates = s.gates.map((r) => (r.name === JOB_ROW && !r.passed && r.observed === "running" ? { ...r, passed: true, observed: "exit 0", message: "succeeded" } : r));
  }
  const analysis = { ...(s.analysis ?? {}) };
  if (step.analysis) {
    analysis.results = step.analysis.results;
    analysis.lastCheckTime = now;
    if (!step.analysis.allPassed) {
      analysis.passed = false;
      analysis.endTime = now;
    }
  }
  if (step.analysisEnded && analysis.passed === undefined) {
    analysis.passed = (analysis.results ?? []).every((r) => r.passed);
    analysis.endTime = now;
  }
  if (step.analysis || step.analysisEnded) s.analysis = analysis;
  const from = (step.previous ?? s.previousCollection) ? ` (from ${step.previous ?? s.previousCollection})` : "";
  const switched = `${Alias} points at ${green}${from}${step.adopted ? "; found switched after a restart, recorded without a second switch" : ""}.`;
  const windowOpen = c.spec?.analysis !== undefined && analysis.passed === undefined;
  let readyUpdate: ConditionUpdate;
  if (analysis.passed === false) {
    const back = c.spec?.analysis?.switchBackOnFailure === false ? " spec.analysis.switchBackOnFailure is false, so the alias stays; set spec.rollback: true to switch back." : " Switching back.";
    readyUpdate = { type: "Ready", status: "False", reason: "AnalysisFailed", message: `Analysis failed: ${failingSummary(analysis.results)}.${back}` };
  } else if (windowOpen) {
    const checks = analysis.results ? ` Last check: ${analysis.results.filter((r) => r.passed).length} of ${analysis.results.length} passed.` : "";
    readyUpdate = { type: "Ready", status: "False", reason: "Analyzing", message: `${switched} Analysis (spec.analysis.window ${c.spec?.analysis?.window ?? ""}) runs until ${analysisEnd(s, c) ?? "its window ends"}.${checks}` };
  } else {
    const ended = analysis.passed === true ? ` Analysis passed (${(analysis.results ?? []).length} checks).` : "";
    readyUpdate = { type: "Ready", status: "True", reason: "Promoted", message: `${switched}${ended}` };
  }
  return {
    ...s,
    conditions: withConditions(s.conditions, c.generation, c.now, readyUpdate, { type: "Promoted", status: "True", reason: "Promoted", message: switched }, ...(switching && (s.gates ?? []).every((r) => r.passed) ? [gatesPassed(s.gates ?? [])] : [])),
  };
}

function analysisEnd(s: CollectionRolloutStatus, c: StatusContext): string | undefined {
  const end = analysisEndMs(c.spec, s.promotedAt);
  return end === undefined ? undefined : toKubeTime(new Date(end));
}
