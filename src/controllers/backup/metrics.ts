/**
 * Backup metrics on the manager's registry (served at /metrics). Counters and the histogram are fed once,
 * on the reconcile that records a backup's end; the gauges are set from every finished backup's status
 * each time it is reconciled (every backup is, when the manager starts), so a restarted manager reports
 * the last success again instead of nothing.
 *
 * Crash window: a manager that dies between writing a backup's terminal status and observing it loses
 * that one observation of the counters and histogram (metrics are per process, as Prometheus expects).
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { QdrantBackupStatus } from "../../api/v1alpha1/backup.ts";

type Labels = "namespace" | "schedule" | "collection";
const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 28_800];

export class BackupMetrics {
  readonly duration: Histogram<"namespace" | "schedule" | "phase">;
  readonly bytes: Counter<"namespace" | "schedule">;
  readonly lastSizeBytes: Gauge<"namespace" | "schedule">;
  readonly lastSuccess: Gauge<Labels>;
  readonly failures: Counter<"namespace" | "schedule" | "reason">;
  readonly finished: Counter<"namespace" | "schedule" | "phase">;
  readonly lastStatus: Gauge<"namespace" | "schedule">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.duration = new Histogram({ name: "qdrant_operator_backup_duration_seconds", help: "Duration of finished backups, from the Job's start to its end.", labelNames: ["namespace", "schedule", "phase"], buckets: DURATION_BUCKETS, registers });
    this.bytes = new Counter({ name: "qdrant_operator_backup_bytes_total", help: "Bytes written to object storage by successful backups.", labelNames: ["namespace", "schedule"], registers });
    this.lastSizeBytes = new Gauge({ name: "qdrant_operator_backup_last_size_bytes", help: "Size of the last successful backup (of a schedule; \"\" for backups made by hand).", labelNames: ["namespace", "schedule"], registers });
    this.lastSuccess = new Gauge({ name: "qdrant_operator_backup_last_success_timestamp_seconds", help: "Completion time of the last successful backup of a collection (\"\" for full-storage backups).", labelNames: ["namespace", "schedule", "collection"], registers });
    this.failures = new Counter({ name: "qdrant_operator_backup_failures_total", help: "Failed backups by reason.", labelNames: ["namespace", "schedule", "reason"], registers });
    this.finished = new Counter({ name: "qdrant_operator_backups_total", help: "Finished backups by phase.", labelNames: ["namespace", "schedule", "phase"], registers });
    this.lastStatus = new Gauge({
      name: "qdrant_operator_backup_last_status",
      help: "1 if the newest finished backup (of a schedule; \"\" for backups made by hand) succeeded, 0 if it failed: alert on 0.",
      labelNames: ["namespace", "schedule"],
      registers,
    });
  }

  /** Once, when a backup's terminal status has just been written. */
  observeFinished(namespace: string, schedule: string, status: QdrantBackupStatus): void {
    const phase = status.phase ?? "Unknown";
    this.finished.inc({ namespace, schedule, phase });
    const start = Date.parse(status.startTime ?? "");
    const end = Date.parse(status.completionTime ?? "");
    if (Number.isFinite(start) && Number.isFinite(end) && end >= start) this.duration.observe({ namespace, schedule, phase }, (end - start) / 1000);
    if (phase === "Failed") this.failures.inc({ namespace, schedule, reason: status.failure?.reason ?? "Unknown" });
    if (phase === "Succeeded" && status.sizeBytes !== undefined) this.bytes.inc({ namespace, schedule }, status.sizeBytes);
  }

  /** From any finished status: the gauges move forward only (reconciling an older backup never wins). */
  observeTerminal(namespace: string, schedule: string, status: QdrantBackupStatus): void {
    if (status.phase !== "Succeeded" && status.phase !== "Failed") return;
    const end = Date.parse(status.completionTime ?? "") / 1000;
    if (!Number.isFinite(end)) return;
    const scheduleKey = JSON.stringify([namespace, schedule]);
    if ((this.#latestStatus.get(scheduleKey) ?? -Infinity) <= end) {
      this.#latestStatus.set(scheduleKey, end);
      this.lastStatus.set({ namespace, schedule }, status.phase === "Succeeded" ? 1 : 0);
    }
    if (status.phase !== "Succeeded") return;
    // A full-storage backup (its one manifestKey is top-level) counts as "" rather than per collection.
    const collections = status.manifestKey !== undefined ? [""] : (status.collections?.map((c) => c.name) ?? [""]);
    for (const collection of collections) {
      const labels = { namespace, schedule, collection };
      const key = JSON.stringify([namespace, schedule, collection]);
      if ((this.#latest.get(key) ?? -Infinity) >= end) continue;
      this.#latest.set(key, end);
      this.lastSuccess.set(labels, end);
    }
    const key = JSON.stringify([namespace, schedule]);
    if ((this.#latestSize.get(key) ?? -Infinity) < end && status.sizeBytes !== undefined) {
      this.#latestSize.set(key, end);
      this.lastSizeBytes.set({ namespace, schedule }, status.sizeBytes);
    }
  }

  readonly #latest = new Map<string, number>();
  readonly #latestSize = new Map<string, number>();
  readonly #latestStatus = new Map<string, number>();
}
