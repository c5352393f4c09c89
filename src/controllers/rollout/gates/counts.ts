/**
 * The gates that read counts and statuses, pure: `minPoints`, `pointsWithinPercent` and `requireGreen`,
 * each one row of status.gates from what Qdrant reported (evaluate.ts asks). Rows carry the numbers, so
 * a rollout held on blue says why in `kubectl get -o yaml` ("1180 points", "≥ 1200").
 */
import type { GateResult } from "./types.ts";

/** `minPoints`: green's exact count at least N. */
export function minPointsRow(green: { collection: string; points: number }, min: number): GateResult {
  const passed = green.points >= min;
  return {
    name: "minPoints",
    passed,
    observed: `${green.points} points`,
    threshold: `≥ ${min}`,
    ...(passed ? {} : { message: `${green.collection} holds ${green.points} points, ${min - green.points} short of ${min}` }),
  };
}

/** A percentage as the rows show it: two decimals. */
export function formatPercent(x: number): string {
  return `${x.toFixed(2)} %`;
}

/**
 * `pointsWithinPercent`: |green − active| / max(active, 1) × 100 ≤ P. With no active collection (no alias
 * yet, or its collection is gone) there is nothing to compare with and the row passes, saying so.
 */
export function pointsWithinPercentRow(green: { collection: string; points: number }, active: { collection: string; points: number } | { none: string }, percent: number): GateResult {
  const threshold = `≤ ${formatPercent(percent)}`;
  if ("none" in active) return { name: "pointsWithinPercent", passed: true, observed: `${green.points} points`, threshold, message: active.none };
  const diff = (Math.abs(green.points - active.points) / Math.max(active.points, 1)) * 100;
  // A tolerance for floating point only: 5 of 100 is 5 %, not 5.000000000000001 %.
  const passed = diff <= percent + 1e-9;
  return {
    name: "pointsWithinPercent",
    passed,
    observed: `${formatPercent(diff)} (${green.points} vs ${active.points} points)`,
    threshold,
    message: `${green.collection} holds ${green.points} points, ${active.collection} ${active.points}`,
  };
}

/** What GET /collections/{c} says about a collection's health. */
export interface CollectionHealth {
  /** green, yellow, grey or red. */
  status: string;
  /** Qdrant's `optimizer_status`: "ok", or `{ error }`. */
  optimizerStatus: "ok" | { error: string };
}

function optimizerText(s: CollectionHealth["optimizerStatus"]): string {
  return s === "ok" ? "ok" : `error (${s.error})`;
}

const WHY: Record<string, string> = {
  yellow: "Qdrant is optimizing it (indexing, merging segments)",
  grey: "optimizations are pending and not triggered (Qdrant starts them with the next update to the collection)",
  red: "an operation failed on it and was not recovered",
};

/**
 * `requireGreen`: Qdrant's collection status "green" and optimizer_status "ok".
 *
 * This is what "indexing caught up" means on Qdrant. `indexed_vectors_count` is deliberately not compared
 * with the points count: Qdrant leaves segments below the optimizer's `indexing_threshold` (kilobytes of
 * vectors) unindexed on purpose and searches them exactly, so a small collection reports 0 indexed vectors
 * for ever and would never pass; a collection that is still building its index is "yellow" (Qdrant turns
 * it yellow while optimizers run, and back to green when they are done), which this gate waits out.
 */
export function requireGreenRow(collection: string, health: CollectionHealth): GateResult {
  const passed = health.status === "green" && health.optimizerStatus === "ok";
  const why = [
    health.status !== "green" ? `${collection} is ${health.status}: ${WHY[health.status] ?? "not green"}` : undefined,
    health.optimizerStatus !== "ok" ? `its optimizer reports an error: ${health.optimizerStatus.error}` : undefined,
  ].filter((s) => s !== undefined);
  return {
    name: "requireGreen",
    passed,
    observed: `status ${health.status}, optimizer ${optimizerText(health.optimizerStatus)}`,
    threshold: "status green, optimizer ok",
    ...(passed ? {} : { message: why.join("; ") }),
  };
}
