/**
 * Restore metrics on the manager's registry (served at /metrics), labelled by namespace and restore. The
 * counters and the histogram are fed once, on the reconcile that records a run's end; the two timestamp
 * gauges are set from the status on every reconcile (every restore is reconciled when the manager starts),
 * so a restarted manager reports the last success and the last verified drill again instead of nothing.
 *
 * Crash window: a manager that dies between writing a run's end and observing it loses that one
 * observation of the counters and histogram (metrics are per process, as Prometheus expects).
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { QdrantRestoreStatus } from "../../api/v1alpha1/restore.ts";

type Labels = "namespace" | "restore";
const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 28_800];

export class RestoreMetrics {
  readonly duration: Histogram<Labels>;
  readonly bytes: Counter<Labels>;
  readonly failures: Counter<Labels | "reason">;
  readonly drillFailures: Counter<Labels | "reason">;
  readonly lastSuccess: Gauge<Labels>;
  readonly lastVerified: Gauge<Labels>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.duration = new Histogram({ name: "qdrant_operator_restore_duration_seconds", help: "Duration of successful restores, from the run's start to verified (the recovery time).", labelNames: ["namespace", "restore"], buckets: DURATION_BUCKETS, registers });
    this.bytes = new Counter({ name: "qdrant_operator_restore_bytes_total", help: "Bytes recovered by successful restores.", labelNames: ["namespace", "restore"], registers });
    this.failures = new Counter({ name: "qdrant_operator_restore_failures_total", help: "Failed restore runs (and drills) by reason.", labelNames: ["namespace", "restore", "reason"], registers });
    // Drills' failures apart as well, so a failing drill (the backups may not restore) can be told from a failing restore.
    this.drillFailures = new Counter({ name: "qdrant_operator_restore_drill_failures_total", help: "Failed restore drills by reason (also counted in qdrant_operator_restore_failures_total).", labelNames: ["namespace", "restore", "reason"], registers });
    this.lastSuccess = new Gauge({ name: "qdrant_operator_restore_last_success_timestamp_seconds", help: "When the restore last restored its collection (not drills).", labelNames: ["namespace", "restore"], registers });
    this.lastVerified = new Gauge({ name: "qdrant_operator_restore_drill_last_verified_timestamp_seconds", help: "When a restore drill last verified that the backups restore: alert when it is old.", labelNames: ["namespace", "restore"], registers });
  }

  /** Once, when a successful run's status has just been written. */
  observeSucceeded(namespace: string, restore: string, status: QdrantRestoreStatus, bytes: number | undefined): void {
    if (status.durationSeconds !== undefined) this.duration.observe({ namespace, restore }, status.durationSeconds);
    if (bytes !== undefined) this.bytes.inc({ namespace, restore }, bytes);
    this.observeStatus(namespace, restore, status);
  }

  /** Once, when a failed run's status has just been written. */
  observeFailed(namespace: string, restore: string, reason: string, drill = false): void {
    this.failures.inc({ namespace, restore, reason });
    if (drill) this.drillFailures.inc({ namespace, restore, reason });
  }

  /** From any status: the timestamp gauges. */
  observeStatus(namespace: string, restore: string, status: QdrantRestoreStatus | undefined): void {
    const success = Date.parse(status?.lastRestoreTime ?? "");
    if (Number.isFinite(success)) this.lastSuccess.set({ namespace, restore }, success / 1000);
    const verified = Date.parse(status?.lastVerifiedTime ?? "");
    if (Number.isFinite(verified)) this.lastVerified.set({ namespace, restore }, verified / 1000);
  }

  /** A deleted restore's series go with it. */
  forget(namespace: string, restore: string): void {
    this.lastSuccess.remove({ namespace, restore });
    this.lastVerified.remove({ namespace, restore });
  }
}
