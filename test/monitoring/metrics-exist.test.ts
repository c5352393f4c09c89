/**
 * Every metric an alert or a dashboard panel names is served by the real manager: the manager runs against
 * the test control plane and its /metrics `# TYPE` lines (prom-client writes them for every registered
 * metric, with or without samples) must name each one. Only the series Prometheus makes itself may be
 * missing, and they are listed here.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startManager } from "../helpers/manager.ts";
import { eventually, useNamespace } from "../helpers/testenv.ts";
import { dashboardQueries, ruleExpressions } from "./artefacts.ts";
import { familyName, metricNames } from "./promql-names.ts";

/** Made by Prometheus, not by the manager. None is used today; listed so adding one is a decision. */
const PROMETHEUS_MADE = new Set<string>(["up", "ALERTS", "ALERTS_FOR_STATE"]);

test("the names the tokenizer finds", () => {
  assert.deepEqual(
    metricNames('sum by (namespace) (increase(a_total{reason=~"Job.*"}[1h]) or b_total offset 5m) > on (x) group_left() 2 * c unless d'),
    ["a_total", "b_total", "c", "d"],
  );
  assert.deepEqual(metricNames("histogram_quantile(0.95, sum by (le) (rate(h_bucket[5m]))) + 1e3"), ["h_bucket"]);
});

test("every metric the alerts and the dashboard name is in the manager's /metrics", async (t) => {
  const namespace = await useNamespace(t, "monitoring");
  const mgr = await startManager(t, [namespace]);
  const address = await eventually("the manager's metrics address", async () => /"address":"([^"]+)"[^\n]*Starting metrics and health server/.exec(await mgr.log())?.[1], 30_000);
  const body = await (await fetch(`http://${address}/metrics`)).text();
  const typed = new Set([...body.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));

  const used = new Map<string, string>();
  for (const r of await ruleExpressions()) for (const n of metricNames(r.expr)) used.set(n, `alert ${r.rule}`);
  for (const q of await dashboardQueries()) for (const n of metricNames(q.expr)) used.set(n, `panel "${q.panel}"`);
  assert.ok(used.size >= 25, `${used.size} names found`);
  const missing = [...used].filter(([n]) => !PROMETHEUS_MADE.has(n) && !typed.has(familyName(n, typed)));
  assert.deepEqual(missing, [], `not in the manager's /metrics:\n${missing.map(([n, where]) => `${n} (${where})`).join("\n")}`);
});
