/**
 * The Grafana dashboard: every panel query parses with the real promtool (written as recording rules into
 * a temporary rule file for `promtool check rules`), a broken query fails that check, and the dashboard has
 * the datasource variable its panels use and a unit on every panel.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { DASHBOARD_FILE, dashboardQueries, recordingRulesFile, type PanelQuery } from "./artefacts.ts";
import { promtool } from "./promtool.ts";

async function checkQueries(t: TestContext, queries: readonly PanelQuery[]) {
  const dir = await mkdtemp(join(tmpdir(), "dashboard-rules-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "dashboard.rules.yaml");
  await writeFile(file, recordingRulesFile(queries));
  return promtool(["check", "rules", file]);
}

test("every panel query of the dashboard parses with promtool", async (t) => {
  const queries = await dashboardQueries();
  assert.ok(queries.length >= 20, `${queries.length} queries`);
  const r = await checkQueries(t, queries);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, new RegExp(`SUCCESS: ${queries.length} rules found`));
});

test("a broken query fails the check (the check is real)", async (t) => {
  const queries = await dashboardQueries();
  const broken = queries.map((q, i) => (i === 3 ? { ...q, expr: q.expr.replace(/\)\s*$/, "") } : q));
  const r = await checkQueries(t, broken);
  assert.notEqual(r.code, 0, r.output);
  assert.match(r.output, /dashboard:query_3|parse error/);
});

test("a datasource variable, used by every panel, and a unit on every panel", async () => {
  const d = JSON.parse(await readFile(DASHBOARD_FILE, "utf8")) as {
    templating: { list: Array<{ name: string; type: string; query: string }> };
    panels: Array<{ type: string; title: string; datasource?: { uid: string }; fieldConfig?: { defaults?: { unit?: string } } }>;
  };
  assert.ok(d.templating.list.some((v) => v.name === "datasource" && v.type === "datasource" && v.query === "prometheus"));
  for (const p of d.panels.filter((p) => p.type !== "row")) {
    assert.equal(p.datasource?.uid, "${datasource}", p.title);
    assert.ok(p.fieldConfig?.defaults?.unit, `${p.title}: unit`);
  }
});
