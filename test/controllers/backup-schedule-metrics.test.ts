/** ScheduleMetrics: the period and next run the "backup too old for its schedule" alert reads. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Registry } from "prom-client";
import { parseSchedule } from "../../src/backup/schedule/parse-schedule.ts";
import { ScheduleMetrics } from "../../src/controllers/backup-schedule/metrics.ts";

test("the period is the gap after the next tick; forget removes both series", async () => {
  const registry = new Registry();
  const m = new ScheduleMetrics(registry);
  const hourly = parseSchedule("0 * * * *", undefined);
  const weekdays = parseSchedule("0 2 * * 1-5", undefined);
  assert.ok(hourly.ok && weekdays.ok);
  m.observeScheduled("prod", "hourly", hourly.schedule, new Date("2026-03-02T10:00:00Z"));
  // Friday 02:00: the next tick is Monday's, three days on.
  m.observeScheduled("prod", "weekdays", weekdays.schedule, new Date("2026-03-06T02:00:00Z"));
  let text = await registry.metrics();
  assert.match(text, /qdrant_operator_backup_schedule_interval_seconds\{namespace="prod",schedule="hourly"\} 3600/);
  assert.match(text, /qdrant_operator_backup_schedule_interval_seconds\{namespace="prod",schedule="weekdays"\} 259200/);
  assert.match(text, new RegExp(`qdrant_operator_backup_schedule_next_run_timestamp_seconds\\{namespace="prod",schedule="hourly"\\} ${Date.parse("2026-03-02T10:00:00Z") / 1000}`));
  m.forget("prod", "hourly");
  text = await registry.metrics();
  assert.doesNotMatch(text, /schedule="hourly"/);
  assert.match(text, /schedule="weekdays"/);
});
