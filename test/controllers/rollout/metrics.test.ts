/** RolloutMetrics: the phase gauges (one 1, the rest 0), copy progress, gate failures by gate, the switch histogram, and forgetting. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Registry } from "prom-client";
import { RolloutMetrics } from "../../../src/controllers/rollout/metrics.ts";

test("the phase gauge is 1 for the current phase only, copy progress follows status.copy, a deleted rollout's gauges go", async () => {
  const registry = new Registry();
  const m = new RolloutMetrics(registry);
  m.observeStatus("prod", "v2", { phase: "Preparing", copy: { copiedPoints: 300, totalPoints: 1000 } });
  let text = await registry.metrics();
  assert.match(text, /qdrant_operator_rollout_phase\{namespace="prod",rollout="v2",phase="Preparing"\} 1/);
  for (const other of ["Pending", "Validating", "AwaitingPromotion", "Promoted", "RolledBack", "Failed", "Aborted"]) {
    assert.match(text, new RegExp(`qdrant_operator_rollout_phase\\{namespace="prod",rollout="v2",phase="${other}"\\} 0`));
  }
  assert.match(text, /qdrant_operator_rollout_copied_points\{namespace="prod",rollout="v2"\} 300/);
  assert.match(text, /qdrant_operator_rollout_total_points\{namespace="prod",rollout="v2"\} 1000/);

  m.observeStatus("prod", "v2", { phase: "Promoted" });
  text = await registry.metrics();
  assert.match(text, /qdrant_operator_rollout_phase\{namespace="prod",rollout="v2",phase="Promoted"\} 1/);
  assert.match(text, /qdrant_operator_rollout_phase\{namespace="prod",rollout="v2",phase="Preparing"\} 0/);

  // No status yet counts as Pending.
  m.observeStatus("prod", "v3", undefined);
  assert.match(await registry.metrics(), /qdrant_operator_rollout_phase\{namespace="prod",rollout="v3",phase="Pending"\} 1/);

  m.forget("prod", "v2");
  text = await registry.metrics();
  assert.doesNotMatch(text, /rollout="v2"/);
  assert.match(text, /rollout="v3"/);
});

test("gate failures count per failing row, passing rows not at all; each switch is observed", async () => {
  const registry = new Registry();
  const m = new RolloutMetrics(registry);
  const rows = [
    { name: "minPoints", passed: false, observed: "10 points", threshold: "≥ 1000" },
    { name: "requireGreen", passed: true },
    { name: "goldenQuery/top", passed: false },
    // A gate Job still running has no verdict: not a failure.
    { name: "job", passed: false, observed: "running" },
  ];
  m.observeGates("prod", "v2", rows);
  m.observeGates("prod", "v2", rows);
  m.observeSwitch("prod", "v2", 0.012);
  const text = await registry.metrics();
  assert.match(text, /qdrant_operator_rollout_gate_failures_total\{namespace="prod",rollout="v2",gate="minPoints"\} 2/);
  assert.match(text, /qdrant_operator_rollout_gate_failures_total\{namespace="prod",rollout="v2",gate="goldenQuery\/top"\} 2/);
  assert.doesNotMatch(text, /gate="requireGreen"/);
  assert.doesNotMatch(text, /gate="job"/);
  assert.match(text, /qdrant_operator_rollout_switch_duration_seconds_count\{namespace="prod",rollout="v2"\} 1/);
  assert.match(text, /qdrant_operator_rollout_switch_duration_seconds_sum\{namespace="prod",rollout="v2"\} 0.012/);
});
