/**
 * Schedule metrics on the manager's registry (served at /metrics), labelled by namespace and schedule.
 * They exist for the "backup too old for its schedule" alert: the last success timestamp alone cannot say
 * whether a backup is late (a weekly schedule's 3-day-old backup is fine, an hourly one's is not), so the
 * schedule says how often it runs and when it runs next. Set from every reconcile of an accepted,
 * unsuspended schedule; removed when the schedule is suspended, invalid or deleted, so a paused schedule
 * is never "late".
 */
import { Gauge, type Registry } from "prom-client";
import { nextScheduleTime, type ParsedSchedule } from "../../backup/schedule/parse-schedule.ts";

type Labels = "namespace" | "schedule";

export class ScheduleMetrics {
  readonly interval: Gauge<Labels>;
  readonly nextRun: Gauge<Labels>;

  constructor(registry: Registry | undefined) {
    const registers = registry ? [registry] : [];
    this.interval = new Gauge({
      name: "qdrant_operator_backup_schedule_interval_seconds",
      help: "Seconds between the schedule's next tick and the one after it (its period; for an irregular cron, the coming gap).",
      labelNames: ["namespace", "schedule"],
      registers,
    });
    this.nextRun = new Gauge({ name: "qdrant_operator_backup_schedule_next_run_timestamp_seconds", help: "When the schedule's next tick is due.", labelNames: ["namespace", "schedule"], registers });
  }

  /** From a reconcile that scheduled `next`: the period is measured from `next` to the tick after it. */
  observeScheduled(namespace: string, schedule: string, parsed: ParsedSchedule, next: Date): void {
    const after = nextScheduleTime(parsed, next);
    this.interval.set({ namespace, schedule }, (after.getTime() - next.getTime()) / 1000);
    this.nextRun.set({ namespace, schedule }, next.getTime() / 1000);
  }

  /** Suspended, invalid or deleted: no backup is expected, so none is late. */
  forget(namespace: string, schedule: string): void {
    this.interval.remove({ namespace, schedule });
    this.nextRun.remove({ namespace, schedule });
  }
}
