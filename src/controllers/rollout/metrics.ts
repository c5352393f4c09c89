/**
 * CollectionRollout metrics on the manager's registry (served at /metrics), labelled by namespace and
 * rollout:
 * - `qdrant_operator_rollout_phase{phase}`: 1 for the rollout's current phase, 0 for every other, set from
 *   the status on every reconcile (so a restarted manager reports every rollout again at once);
 * - `qdrant_operator_rollout_copied_points` / `_total_points`: copyFrom's progress, from status.copy;
 * - `qdrant_operator_rollout_gate_failures_total{gate}`: a gate row seen failing, counted once per
 *   evaluation that writes it (a gate failing for ten minutes at a 5 s recheck counts 120: the rate is
 *   what an alert reads);
 * - `qdrant_operator_rollout_switch_duration_seconds`: how long the one alias request took (promotion,
 *   rollback, switch-back), observed once per switch made.
 *
 * Crash window: a manager that dies between a switch and observing it loses that one observation (metrics
 * are per process, as Prometheus expects).
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { CollectionRolloutStatus } from "../../api/v1alpha1/rollout.ts";
import type { GateResult } from "./gates/types.ts";

export const ROLLOUT_PHASES = ["Pending", "Preparing", "Validating", "AwaitingPromotion", "Promoted", "RolledBack", "Failed", "Aborted"] as const;
const SWITCH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class RolloutMetrics {
  readonly phase: Gauge<"namespace" | "rollout" | "phase">;
  readonly gateFailures: Counter<"namespace" | "rollout" | "gate">;
  readonly switchDuration: Histogram<"namespace" | "rollout">;
  readonly copiedPoints: Gauge<"namespace" | "rollout">;
  readonly totalPoints: Gauge<"namespace" | "rollout">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.phase = new Gauge({ name: "qdrant_operator_rollout_phase", help: "1 for the rollout's current phase, 0 for the others.", labelNames: ["namespace", "rollout", "phase"], registers });
    this.gateFailures = new Counter({ name: "qdrant_operator_rollout_gate_failures_total", help: "Gate evaluations that found a gate failing, by gate (the row's name).", labelNames: ["namespace", "rollout", "gate"], registers });
    this.switchDuration = new Histogram({ name: "qdrant_operator_rollout_switch_duration_seconds", help: "Duration of the one alias request of a switch (promotion, rollback, switch-back).", labelNames: ["namespace", "rollout"], buckets: SWITCH_BUCKETS, registers });
    this.copiedPoints = new Gauge({ name: "qdrant_operator_rollout_copied_points", help: "copyFrom: points copied into green so far (green's own record).", labelNames: ["namespace", "rollout"], registers });
    this.totalPoints = new Gauge({ name: "qdrant_operator_rollout_total_points", help: "copyFrom: the source's points when the copy started.", labelNames: ["namespace", "rollout"], registers });
  }

  /** From any status: the phase gauges and the copy's progress. */
  observeStatus(namespace: string, rollout: string, status: CollectionRolloutStatus | undefined): void {
    const current = status?.phase ?? "Pending";
    for (const phase of ROLLOUT_PHASES) this.phase.set({ namespace, rollout, phase }, phase === current ? 1 : 0);
    const copy = status?.copy;
    if (copy) {
      this.copiedPoints.set({ namespace, rollout }, copy.copiedPoints);
      if (copy.totalPoints !== undefined) this.totalPoints.set({ namespace, rollout }, copy.totalPoints);
    }
  }

  /**
   * Once per evaluation written (a Validating step, and the Fail that ends the gates): each failing row.
   * A gate Job still running has no verdict yet, so its row is not a failure.
   */
  observeGates(namespace: string, rollout: string, results: readonly GateResult[]): void {
    for (const r of results) if (!r.passed && r.observed !== "running") this.gateFailures.inc({ namespace, rollout, gate: r.name });
  }

  observeSwitch(namespace: string, rollout: string, seconds: number): void {
    this.switchDuration.observe({ namespace, rollout }, seconds);
  }

  /** A deleted rollout's gauges go with it. */
  forget(namespace: string, rollout: string): void {
    for (const phase of ROLLOUT_PHASES) this.phase.remove({ namespace, rollout, phase });
    this.copiedPoints.remove({ namespace, rollout });
    this.totalPoints.remove({ namespace, rollout });
  }
}
