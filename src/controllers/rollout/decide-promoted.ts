/**
 * Promoted: the alias points at green. What may be left: a rollback asked for (spec.rollback), the
 * analysis window (golden queries every ANALYSIS_RECHECK_MS; a failure is recorded first, then switched
 * back when switchBackOnFailure, default true), and retainPrevious (the previous collection deleted that
 * long after promotion, never while the analysis runs or after it failed, never when the alias points at
 * it). `promotedPlan` says, from the status and the clock alone, whether anything is due now or when it
 * will be, so a Promoted rollout with nothing due costs no observation.
 *
 * A rollback or switch-back is a switch like the promotion: it is made only when no other rollout holds the
 * alias (holder.ts; a later rollout of the alias, begun from green, holds it once this one's analysis is
 * over) — otherwise Wait WaitingForAlias naming it ("superseded by …"), the alias untouched.
 *
 * Crash windows: a rollback or switch-back killed after its switch and before its status write
 * (rollout.alias-switched-back-before-status) is seen as done (the alias points at the previous collection
 * while a rollback or a failed analysis asks for it: RolledBack, adopted); a deletion killed midway is
 * repeated (the act finds the collection gone).
 */
import { ERROR_CODES } from "../../errors.ts";
import { analysisEndMs, analysisWindowMs, retainPreviousMs, switchBackOnFailure } from "./spec.ts";
import { ANALYSIS_RECHECK_MS, failingSummary, observe, RECORDED_MS, WAIT_MS, type Ctx, type View } from "./decide-shared.ts";
import type { GateEvaluation, RolloutStep } from "./steps.ts";
import type { RolloutObject } from "./types.ts";

/** A plain reason (status.ts): spec.abort on a promoted rollout does nothing. */
export const ABORT_IGNORED = "AbortIgnored";

/** What status.ts writes as Ready for a Promoted step (anything else was a Wait's). */
const PROMOTED_REASONS: readonly string[] = ["Promoted", "Analyzing", ERROR_CODES.ANALYSIS_FAILED.reason];

export interface PromotedPlan {
  /** A rollback or switch-back was found impossible at this generation (said once: Ready RollbackImpossible). */
  impossible: boolean;
  rollback: boolean;
  /** The analysis failed (recorded) and is to be switched back. */
  switchBack: boolean;
  analysisRunning: boolean;
  analysisFailed: boolean;
  /** A check is due now (analysisEnd: the window is over, the last check ends it). */
  analysisDue: boolean;
  analysisEnd: boolean;
  deleteDue: boolean;
  /** Nothing due now: when the next thing is (undefined: never). */
  nextMs?: number;
  due: boolean;
}

export function promotedPlan(r: RolloutObject, now: number): PromotedPlan {
  const status = r.status ?? {};
  const promotedAt = Date.parse(status.promotedAt ?? "");
  const since = Number.isFinite(promotedAt) ? promotedAt : now;
  const window = analysisWindowMs(r.spec);
  const analysisFailed = status.analysis?.passed === false;
  const analysisRunning = window !== undefined && status.analysis?.passed === undefined;
  const previous = status.previousCollection || undefined;
  // A rollback (or switch-back) found impossible (previous gone, or never was) at this generation is not tried again until
  // the spec changes: a deleted collection does not come back by waiting.
  const ready = status.conditions?.find((x) => x.type === "Ready");
  const impossible = ready?.reason === ERROR_CODES.ROLLBACK_IMPOSSIBLE.reason && ready.observedGeneration === r.metadata?.generation;
  const rollback = r.spec.rollback === true && !impossible;
  const switchBack = analysisFailed && switchBackOnFailure(r.spec) && previous !== undefined && !impossible;
  let next: number | undefined;
  const later = (at: number) => (next = next === undefined ? at : Math.min(next, at));
  let analysisDue = false;
  let analysisEnd = false;
  if (analysisRunning) {
    const end = analysisEndMs(r.spec, status.promotedAt) ?? since + window;
    if (now >= end) analysisDue = analysisEnd = true;
    else {
      const last = Date.parse(status.analysis?.lastCheckTime ?? "");
      const at = Number.isFinite(last) ? Math.min(last + ANALYSIS_RECHECK_MS, end) : now;
      if (now >= at) analysisDue = true;
      else later(at);
    }
  }
  let deleteDue = false;
  const retain = retainPreviousMs(r.spec);
  if (retain !== undefined && previous !== undefined && !status.previousDeletedAt && !analysisFailed) {
    const at = Math.max(since + retain, analysisRunning ? since + (window ?? 0) : 0);
    if (analysisRunning) later(at);
    else if (now >= at) deleteDue = true;
    else later(at);
  }
  const due = rollback || switchBack || analysisDue || deleteDue;
  return { impossible, rollback, switchBack, analysisRunning, analysisFailed, analysisDue, analysisEnd, deleteDue, due, ...(next !== undefined && !due ? { nextMs: Math.max(1, next - now) } : {}) };
}

/** Nothing due: Done, or one status write when the Ready condition no longer says what the rollout is. */
export function finishedPromoted(c: Ctx, plan: PromotedPlan): RolloutStep {
  const { r, status } = c;
  const ready = status.conditions?.find((x) => x.type === "Ready");
  const previous = status.previousCollection || null;
  const requeue = plan.nextMs !== undefined ? { requeueMs: plan.nextMs } : {};
  if (plan.impossible) return { kind: "Done", ...requeue };
  if (r.spec.abort === true) {
    if (ready?.reason === ABORT_IGNORED) return { kind: "Done", ...requeue };
    const back = previous ? ` Set spec.rollback: true to point it back at ${previous}.` : "";
    return { kind: "Wait", phase: "Promoted", reason: ABORT_IGNORED, message: `spec.abort: abort applies before promotion; alias ${r.spec.alias} points at ${r.spec.collection} since ${status.promotedAt ?? "the switch"}.${back}`, requeueMs: plan.nextMs ?? WAIT_MS };
  }
  // Ready still says what a Wait said (abort ignored, the alias moved, Qdrant unreachable…): say Promoted again.
  if (ready && !PROMOTED_REASONS.includes(ready.reason)) return { kind: "Promoted", previous, adopted: false, ...requeue };
  return { kind: "Done", ...requeue };
}

/** Something is due (plan.due): the references and Qdrant have been observed by the caller. */
export function decidePromoted(c: Ctx, v: View, plan: PromotedPlan): RolloutStep {
  const { r, status } = c;
  const alias = r.spec.alias;
  const green = r.spec.collection;
  const previous = status.previousCollection || null;

  if (previous !== null && v.aliasTarget === previous && (plan.rollback || plan.switchBack)) {
    return plan.rollback
      ? { kind: "RolledBack", reason: "RolledBack", message: `Alias ${alias} points back at ${previous} (spec.rollback).`, adopted: true }
      : { kind: "RolledBack", reason: ERROR_CODES.ANALYSIS_FAILED.reason, message: `Alias ${alias} was switched back to ${previous}: analysis failed: ${failingSummary(status.analysis?.results)}.`, adopted: true };
  }
  if (plan.rollback || plan.switchBack) {
    const field = plan.rollback ? "spec.rollback" : "spec.analysis.switchBackOnFailure";
    if (previous === null) {
      return c.wait(ERROR_CODES.ROLLBACK_IMPOSSIBLE.reason, `${field}: alias ${alias} did not exist before this rollout switched it to ${green}, so there is nothing to point it back at`);
    }
    if (v.aliasTarget !== green) {
      return c.wait(ERROR_CODES.ALIAS_MOVED.reason, `${field}: alias ${alias} points at ${v.aliasTarget ?? "nothing"}, not at ${green} which this rollout promoted; it is not switched back to ${previous} over that change`);
    }
    if (!v.previous?.exists) {
      const gone = status.previousDeletedAt ? ` (deleted at ${status.previousDeletedAt}, spec.retainPrevious)` : "";
      return c.wait(ERROR_CODES.ROLLBACK_IMPOSSIBLE.reason, `${field}: the previous collection ${previous} is gone${gone}; alias ${alias} stays on ${green}`);
    }
    // One rollout per alias: a later rollout of this alias (begun from green) holds it now; switching back
    // under it would move the alias away from what it judges against. Waited for, as any rollout waits.
    if (c.o.holder === undefined) return observe("holder");
    const h = c.o.holder;
    if (h !== null && !(h.namespace === r.metadata?.namespace && h.name === r.metadata?.name)) {
      return c.wait(
        ERROR_CODES.ALIAS_HELD.reason,
        `${field}: superseded by CollectionRollout ${h.namespace}/${h.name}, which is rolling out alias ${alias} on the same Qdrant; alias ${alias} is not switched back to ${previous} under it (looked at again when it is Promoted, RolledBack, Failed or Aborted)`,
      );
    }
    return plan.rollback
      ? { kind: "Switch", from: green, to: previous, reason: "Rollback", message: `Rolled back alias ${alias} to ${previous} (from ${green})` }
      : { kind: "Switch", from: green, to: previous, reason: "SwitchBack", message: `Switched alias ${alias} back to ${previous} (from ${green}): analysis failed: ${failingSummary(status.analysis?.results)}` };
  }
  if (plan.analysisDue) {
    if (v.aliasTarget !== green) {
      return c.wait(ERROR_CODES.ALIAS_MOVED.reason, `spec.analysis: alias ${alias} points at ${v.aliasTarget ?? "nothing"}, not at ${green} which this rollout promoted; the analysis checks green as the active collection`);
    }
    const lastPassed = (status.analysis?.results?.length ?? 0) > 0 && status.analysis?.results?.every((x) => x.passed) === true;
    if (plan.analysisEnd && lastPassed) return { kind: "Promoted", previous, adopted: false, analysisEnded: true, ...afterAnalysis(c) };
    if (c.o.analysis === undefined) return observe("analysis");
    const a: GateEvaluation = c.o.analysis.fatal ? { ...c.o.analysis, allPassed: false } : c.o.analysis;
    if (!a.allPassed) {
      const act = switchBackOnFailure(r.spec) && previous !== null;
      return { kind: "Promoted", previous, adopted: false, analysis: a, ...(act ? { requeueMs: RECORDED_MS } : {}) };
    }
    if (plan.analysisEnd) return { kind: "Promoted", previous, adopted: false, analysis: a, analysisEnded: true, ...afterAnalysis(c) };
    const end = analysisEndMs(r.spec, status.promotedAt);
    const left = end !== undefined ? end - c.now : ANALYSIS_RECHECK_MS;
    return { kind: "Promoted", previous, adopted: false, analysis: a, requeueMs: Math.max(1, Math.min(ANALYSIS_RECHECK_MS, left)) };
  }
  if (plan.deleteDue && previous !== null) {
    if (v.aliasTarget === previous) {
      return c.wait(ERROR_CODES.ALIAS_MOVED.reason, `spec.retainPrevious: alias ${alias} points at ${previous} again (someone switched it back), so ${previous} is not deleted`);
    }
    return { kind: "DeletePrevious", collection: previous };
  }
  return { kind: "Done" };
}

/** After the analysis ended passing: when retainPrevious is due. */
function afterAnalysis(c: Ctx): { requeueMs?: number } {
  const retain = retainPreviousMs(c.r.spec);
  if (retain === undefined || !c.status.previousCollection) return {};
  const at = Date.parse(c.status.promotedAt ?? "") + retain;
  return { requeueMs: Number.isFinite(at) ? Math.max(1, at - c.now) : RECORDED_MS };
}
