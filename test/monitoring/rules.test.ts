/**
 * The chart's alert rules, checked by the real promtool: `check rules` on the file, `test rules` on the
 * unit tests that show each alert firing and not firing, and a guard that every alert has a test.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { parse } from "yaml";
import { RULES_FILE, RULES_TEST_FILE, ruleExpressions } from "./artefacts.ts";
import { promtool } from "./promtool.ts";

test("promtool check rules passes on the chart's rule file", async () => {
  const r = await promtool(["check", "rules", RULES_FILE]);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /SUCCESS: \d+ rules found/);
});

test("promtool test rules: every alert's unit tests pass", async () => {
  const r = await promtool(["test", "rules", RULES_TEST_FILE]);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /SUCCESS/);
});

test("every alert is tested both firing and not firing, with severity, summary, description and runbook_url", async () => {
  const rules = parse(await readFile(RULES_FILE, "utf8")) as { groups: Array<{ rules: Array<{ alert?: string; labels?: Record<string, string>; annotations?: Record<string, string> }> }> };
  const tests = parse(await readFile(RULES_TEST_FILE, "utf8")) as { tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }> };
  const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
  const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
  assert.ok(alerts.length >= 10);
  for (const a of alerts) {
    assert.match(a.labels?.severity ?? "", /^(critical|warning|info)$/, `${a.alert}: severity`);
    for (const k of ["summary", "description", "runbook_url"]) assert.ok(a.annotations?.[k], `${a.alert}: annotation ${k}`);
    assert.equal(a.annotations!.runbook_url, `docs/alerts.md#${(a.alert ?? "").toLowerCase()}`, `${a.alert}: runbook_url is its section of docs/alerts.md (test/docs/references.test.ts checks the section exists)`);
    const mine = cases.filter((c) => c.alertname === a.alert);
    assert.ok(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${a.alert}: a test where it fires`);
    assert.ok(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${a.alert}: a test where it does not fire`);
  }
  assert.ok((await ruleExpressions()).length === alerts.length);
});

test("a broken unit test fails promtool test rules (the check is real)", async (t) => {
  const { mkdtemp, writeFile } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = await mkdtemp(join(tmpdir(), "rules-test-"));
  t.after(async () => (await import("node:fs/promises")).rm(dir, { recursive: true, force: true }));
  const broken = (await readFile(RULES_TEST_FILE, "utf8"))
    .replace("../../charts/qdrant-operator/files/prometheus-rules.yaml", RULES_FILE)
    .replace("exp_labels: { severity: warning, namespace: prod, schedule: nightly }", "exp_labels: { severity: critical, namespace: prod, schedule: nightly }");
  await writeFile(join(dir, "broken.test.yaml"), broken);
  const r = await promtool(["test", "rules", join(dir, "broken.test.yaml")]);
  assert.notEqual(r.code, 0, r.output);
  assert.match(r.output, /QdrantBackupFailed/);
});
