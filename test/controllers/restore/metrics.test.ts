/** RestoreMetrics: what a run's end feeds, and the timestamp gauges set again from any status (a restarted manager). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Registry } from "prom-client";
import { RestoreMetrics } from "../../../src/controllers/restore/metrics.ts";

test("a success feeds duration, bytes and the last-success gauge; a drill the verified gauge; failures count by reason", async () => {
  const registry = new Registry();
  const m = new RestoreMetrics(registry);
  m.observeSucceeded("prod", "heal", { durationSeconds: 42, lastRestoreTime: "2026-03-01T12:00:00Z" }, 1000);
  m.observeSucceeded("prod", "drill", { durationSeconds: 7, lastVerifiedTime: "2026-03-01T13:00:00Z" }, 10);
  m.observeFailed("prod", "heal", "ChecksumMismatch");
  m.observeFailed("prod", "heal", "ChecksumMismatch");
  const text = await registry.metrics();
  assert.match(text, /qdrant_operator_restore_duration_seconds_sum\{namespace="prod",restore="heal"\} 42/);
  assert.match(text, /qdrant_operator_restore_bytes_total\{namespace="prod",restore="heal"\} 1000/);
  assert.match(text, /qdrant_operator_restore_failures_total\{namespace="prod",restore="heal",reason="ChecksumMismatch"\} 2/);
  assert.match(text, new RegExp(`qdrant_operator_restore_last_success_timestamp_seconds\\{namespace="prod",restore="heal"\\} ${Date.parse("2026-03-01T12:00:00Z") / 1000}`));
  assert.match(text, new RegExp(`qdrant_operator_restore_drill_last_verified_timestamp_seconds\\{namespace="prod",restore="drill"\\} ${Date.parse("2026-03-01T13:00:00Z") / 1000}`));
  assert.doesNotMatch(text, /last_success_timestamp_seconds\{namespace="prod",restore="drill"\}/, "a drill restores nothing anyone uses");

  // A new process: the gauges come back from the status alone.
  const fresh = new Registry();
  new RestoreMetrics(fresh).observeStatus("prod", "heal", { lastRestoreTime: "2026-03-01T12:00:00Z" });
  assert.match(await fresh.metrics(), /qdrant_operator_restore_last_success_timestamp_seconds\{namespace="prod",restore="heal"\} \d+/);
  m.forget("prod", "heal");
  assert.doesNotMatch(await registry.metrics(), /last_success_timestamp_seconds\{namespace="prod",restore="heal"\}/);
});

test("a drill's failure is counted as a restore failure and as a drill failure; a restore's only as the first", async () => {
  const registry = new Registry();
  const m = new RestoreMetrics(registry);
  m.observeFailed("prod", "weekly", "VerifyFailed", true);
  m.observeFailed("prod", "heal", "ChecksumMismatch");
  const text = await registry.metrics();
  assert.match(text, /qdrant_operator_restore_failures_total\{namespace="prod",restore="weekly",reason="VerifyFailed"\} 1/);
  assert.match(text, /qdrant_operator_restore_drill_failures_total\{namespace="prod",restore="weekly",reason="VerifyFailed"\} 1/);
  assert.doesNotMatch(text, /qdrant_operator_restore_drill_failures_total\{namespace="prod",restore="heal"/);
});
