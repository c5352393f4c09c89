/**
 * The periodic checks' heartbeat, on the manager's registry: a QdrantConnection's (Qdrant answers with
 * its address and key) and a QdrantBackupLocation's (the bucket is usable). Their statuses are written
 * only when a check changes what they say (check-time.ts), so how long ago the last check ran is read
 * here: alert when `time() - qdrant_operator_check_timestamp_seconds` grows past a few intervals (the
 * manager stopped checking), or on `qdrant_operator_check_ready == 0` (it checks, and the check fails).
 * Per process, as Prometheus expects: a new manager sets both at its first check of each object.
 */
import { Gauge, type Registry } from "prom-client";

type Labels = "kind" | "namespace" | "name";

export class CheckMetrics {
  readonly time: Gauge<Labels>;
  readonly ready: Gauge<Labels>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.time = new Gauge({ name: "qdrant_operator_check_timestamp_seconds", help: "When the manager last checked a QdrantConnection or a QdrantBackupLocation, whatever the outcome.", labelNames: ["kind", "namespace", "name"], registers });
    this.ready = new Gauge({ name: "qdrant_operator_check_ready", help: "1 when the last check of a QdrantConnection or a QdrantBackupLocation found it usable (its Ready condition), else 0.", labelNames: ["kind", "namespace", "name"], registers });
  }

  /** At every check, with its outcome. */
  checked(kind: string, namespace: string, name: string, ready: boolean, at: Date): void {
    this.time.set({ kind, namespace, name }, at.getTime() / 1000);
    this.ready.set({ kind, namespace, name }, ready ? 1 : 0);
  }

  /** A deleted object's series go with it. */
  forget(kind: string, namespace: string, name: string): void {
    this.time.remove({ kind, namespace, name });
    this.ready.remove({ kind, namespace, name });
  }
}
