/**
 * What the rollout's decision files (decide.ts, decide-build.ts, decide-validate.ts, decide-promoted.ts)
 * share: the timings, the context of one decision and the messages several of them give. Pure.
 */
import { ERROR_CODES } from "../../errors.ts";
import type { CollectionRolloutStatus } from "../../api/v1alpha1/rollout.ts";
import type { GateResult } from "./gates/types.ts";
import type { Need, Observed, Phase, QdrantView, RolloutStep } from "./steps.ts";
import type { RolloutObject } from "./types.ts";

export { retryDelayMs } from "../restore/decide.ts";

/** Validating: evaluate the gates again this often (a count, a status, a few queries). */
export const GATE_RECHECK_MS = 5_000;
/** Promoted with analysis.window: run the golden queries again this often. */
export const ANALYSIS_RECHECK_MS = 5_000;
/** The copy Job runs: mirror its progress this often (Job events wake the rollout sooner when it ends). */
export const BUILDING_RECHECK_MS = 5_000;
/** The fromBackup restore runs: a safety net (its status changes wake the rollout). */
export const RESTORE_RECHECK_MS = 30_000;
/** A missing reference, a stranger's green, an unreachable Qdrant, another rollout's alias: look again this often. */
export const WAIT_MS = 30_000;
/** Act on a decision the status has just recorded (the gates passed, the analysis failed): at once. */
export const RECORDED_MS = 1;

export type View = Extract<QdrantView, { reachable: true }>;

export interface Ctx {
  r: RolloutObject;
  o: Observed;
  status: CollectionRolloutStatus;
  phase: Phase | undefined;
  name: string;
  uid: string;
  now: number;
  /** A Wait keeping the phase a begun rollout is in (a rollout that has not begun waits Pending). */
  wait(reason: string, message: string, requeueMs?: number): RolloutStep;
}

export const observe = (need: Need): RolloutStep => ({ kind: "Observe", need });

/**
 * Green has been judged at `generation`: the GatesPassed condition (written by every judgment: the rows,
 * a gate Job started, a pass) carries it. Not so after a spec edit: the gates are judged again from the
 * start (a new gate Job if one is configured; gates.timeout counted again from the first evaluation).
 */
export function judgedAt(status: CollectionRolloutStatus, generation: number | undefined): boolean {
  const cond = status.conditions?.find((x) => x.type === "GatesPassed");
  return cond !== undefined && cond.observedGeneration === generation;
}

/** The phases between Begin and the switch: something may have been made (green, a Job, a restore). */
export function hasBegun(phase: Phase | undefined): boolean {
  return phase === "Preparing" || phase === "Validating" || phase === "AwaitingPromotion";
}

export function context(r: RolloutObject, o: Observed): Ctx {
  const status = r.status ?? {};
  const phase = status.phase;
  return {
    r,
    o,
    status,
    phase,
    name: r.metadata?.name ?? "",
    uid: r.metadata?.uid ?? "",
    now: o.now.getTime(),
    wait: (reason, message, requeueMs = WAIT_MS) => ({ kind: "Wait", phase: hasBegun(phase) || phase === "Promoted" ? phase! : "Pending", reason, message, requeueMs }),
  };
}

/** Source external without a config: green is the user's (never ours, never deleted; it may have any owner stamp or none). */
export const userOwnedGreen = (c: Ctx): boolean => c.r.spec.source.external !== undefined && c.r.spec.source.external.config === undefined;

export const ours = (c: Ctx, v: View): boolean => v.green.exists && v.green.owner?.uid === c.uid && c.uid !== "";

/** Green exists and this rollout did not create it: never written to, never deleted. */
export function strangersGreen(c: Ctx, v: View): RolloutStep {
  const green = c.r.spec.collection;
  const owner = v.green.owner;
  const who = owner ? ` (its metadata says CollectionRollout ${owner.namespace}/${owner.name}, uid ${owner.uid}, created it)` : "";
  return c.wait(
    ERROR_CODES.GREEN_NOT_OURS.reason,
    `spec.collection: collection ${green} exists on the Qdrant and this rollout did not create it${who}; the name is the lock, so it is never written to or deleted: delete or rename it, or choose another spec.collection`,
  );
}

/** "800 points < 1000" from a row's observed "800 points" and threshold "≥ 1000": what failed, in numbers. */
export function failedRow(row: GateResult): string {
  const negated = row.threshold?.replace(/^≥\s*/, "< ").replace(/^≤\s*/, "> ").replace(/^>=\s*/, "< ").replace(/^<=\s*/, "> ");
  const numbers = [row.observed, negated && negated !== row.threshold ? negated : row.threshold ? `(wanted ${row.threshold})` : undefined].filter((x) => x !== undefined && x !== "");
  const detail = numbers.length > 0 ? numbers.join(" ") : (row.message ?? "failed");
  return `${row.name} ${detail}`;
}

/** The failing rows in one line: "minPoints 800 points < 1000; goldenQuery/top overlap 0.60 (6/10) < 0.80". */
export function failingSummary(rows: readonly GateResult[] | undefined): string {
  const failing = (rows ?? []).filter((r) => !r.passed);
  return failing.length === 0 ? "none failing" : failing.map(failedRow).join("; ");
}

export const seconds = (ms: number): string => (ms % 60_000 === 0 && ms >= 60_000 ? `${ms / 60_000}m` : `${Math.round(ms / 1000)}s`);
