/**
 * Prometheus metrics of the runtime. Names and labels follow controller-runtime and client-go
 * (controller_runtime_reconcile_total, workqueue_depth, leader_election_master_status…), so dashboards and
 * alerts written for Go operators work unchanged. Each manager owns a Registry rather than using the
 * global one: two managers in one test process must not share counters.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { QueueMetrics } from "./work-queue.ts";

/** Reconcile outcomes as the `result` label reports them. */
export type ReconcileResultLabel = "success" | "requeue" | "requeue_after" | "error" | "terminal_error";

const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const QUEUE_BUCKETS = [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1000];

export class RuntimeMetrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<"controller" | "result">;
  readonly reconcileErrors: Counter<"controller">;
  readonly terminalReconcileErrors: Counter<"controller">;
  readonly reconcileTime: Histogram<"controller">;
  readonly activeWorkers: Gauge<"controller">;
  readonly maxConcurrentReconciles: Gauge<"controller">;
  readonly queueDepth: Gauge<"name">;
  readonly queueAdds: Counter<"name">;
  readonly queueLatency: Histogram<"name">;
  readonly workDuration: Histogram<"name">;
  readonly queueRetries: Counter<"name">;
  readonly leaderStatus: Gauge<"name">;

  constructor(registry: Registry = new Registry(), opts: { defaultMetrics?: boolean } = {}) {
    this.registry = registry;
    const registers = [registry];
    this.reconcileTotal = new Counter({ name: "controller_runtime_reconcile_total", help: "Reconciles per controller and result.", labelNames: ["controller", "result"], registers });
    this.reconcileErrors = new Counter({ name: "controller_runtime_reconcile_errors_total", help: "Reconciles that failed with an error (retried with backoff).", labelNames: ["controller"], registers });
    this.terminalReconcileErrors = new Counter({
      name: "controller_runtime_terminal_reconcile_errors_total",
      help: "Reconciles that failed with a terminal error (not retried until the object changes).",
      labelNames: ["controller"],
      registers,
    });
    this.reconcileTime = new Histogram({ name: "controller_runtime_reconcile_time_seconds", help: "Duration of reconciles.", labelNames: ["controller"], buckets: RECONCILE_BUCKETS, registers });
    this.activeWorkers = new Gauge({ name: "controller_runtime_active_workers", help: "Workers running a reconcile right now.", labelNames: ["controller"], registers });
    this.maxConcurrentReconciles = new Gauge({ name: "controller_runtime_max_concurrent_reconciles", help: "Workers per controller.", labelNames: ["controller"], registers });
    this.queueDepth = new Gauge({ name: "workqueue_depth", help: "Keys waiting in the work queue.", labelNames: ["name"], registers });
    this.queueAdds = new Counter({ name: "workqueue_adds_total", help: "Adds to the work queue.", labelNames: ["name"], registers });
    this.queueLatency = new Histogram({ name: "workqueue_queue_duration_seconds", help: "Time a key waits in the queue before a worker takes it.", labelNames: ["name"], buckets: QUEUE_BUCKETS, registers });
    this.workDuration = new Histogram({ name: "workqueue_work_duration_seconds", help: "Time a worker holds a key.", labelNames: ["name"], buckets: QUEUE_BUCKETS, registers });
    this.queueRetries = new Counter({ name: "workqueue_retries_total", help: "Rate-limited re-adds.", labelNames: ["name"], registers });
    this.leaderStatus = new Gauge({ name: "leader_election_master_status", help: "1 while this process holds the leader lease, else 0.", labelNames: ["name"], registers });
    if (opts.defaultMetrics) collectDefaultMetrics({ register: registry });
  }

  /** Work-queue hooks labelled with the queue's (the controller's) name. */
  queueMetrics(name: string): QueueMetrics {
    return {
      depth: (n) => this.queueDepth.set({ name }, n),
      added: () => this.queueAdds.inc({ name }),
      queueLatency: (s) => this.queueLatency.observe({ name }, s),
      workDuration: (s) => this.workDuration.observe({ name }, s),
      retried: () => this.queueRetries.inc({ name }),
    };
  }

  /** A constant 1 gauge `<prefix>_build_info` whose labels say what is running. */
  setBuildInfo(prefix: string, labels: Record<string, string>): void {
    const gauge = new Gauge({ name: `${prefix}_build_info`, help: "Build information; the value is always 1.", labelNames: Object.keys(labels), registers: [this.registry] });
    gauge.set(labels, 1);
  }
}
