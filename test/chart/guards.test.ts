/**
 * The chart's own guards, on a copy of it: the PrometheusRule needs a rule file with groups (whatever
 * files/prometheus-rules.yaml holds), and a template whose generated role lost its rules stops the
 * rendering rather than granting nothing. NOTES.txt says what to apply first.
 */
import assert from "node:assert/strict";
import { cp, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CHART, helm } from "./tools.ts";

async function chartCopy(): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), "qdrant-operator-chart-")), "qdrant-operator");
  await cp(CHART, dir, { recursive: true });
  return dir;
}

test("a rule file without groups stops the PrometheusRule, naming the file", async () => {
  const chart = await chartCopy();
  await writeFile(join(chart, "files", "prometheus-rules.yaml"), "rules: []\n");
  await assert.rejects(helm(["template", "x", chart, "--set", "metrics.prometheusRule.enabled=true"]), /files\/prometheus-rules.yaml must be a Prometheus rule file with groups:/);
  await helm(["template", "x", chart]); // disabled, the file is not read
});

test("the rule file's groups become the PrometheusRule's spec as they are", async () => {
  const chart = await chartCopy();
  await writeFile(join(chart, "files", "prometheus-rules.yaml"),
    "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        annotations:\n          summary: '{{ $labels.instance }} is down'\n");
  const { stdout } = await helm(["template", "x", chart, "--set", "metrics.prometheusRule.enabled=true", "--show-only", "templates/prometheus-rule.yaml"]);
  assert.match(stdout, /alert: A/);
  assert.match(stdout, /summary: '\{\{ \$labels\.instance \}\} is down'/);
});

test("a generated role without rules stops the rendering", async () => {
  const chart = await chartCopy();
  await writeFile(join(chart, "rbac", "cluster-role.yaml"), "kind: ClusterRole\n");
  await assert.rejects(helm(["template", "x", chart]), /rbac\/cluster-role.yaml has no rules: run npm run generate/);
});

test("NOTES.txt says what to apply first", async () => {
  const { stdout } = await helm(["install", "qdrant-operator", CHART, "--dry-run=client", "-n", "qdrant-operator",
    "--set", "metrics.serviceMonitor.enabled=true", "--set", "watch.namespaces={team-a}"]);
  const notes = stdout.slice(stdout.indexOf("NOTES:"));
  assert.match(notes, /Apply before installing or upgrading this chart:/);
  assert.match(notes, /prometheus-operator's CRDs \(ServiceMonitor, PrometheusRule\)/);
  assert.match(notes, /the watched namespaces must exist: team-a/);
  assert.match(notes, /helm show crds <this chart> \| kubectl apply --server-side -f -/);
});
