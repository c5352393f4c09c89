/**
 * The chart's monitoring artefacts as the tests use them: the rule file's path and expressions, and the
 * dashboard's panel queries. Reading them (the `yaml` package, JSON.parse) only lists what to look for:
 * whether the rules and the queries are valid is promtool's verdict (rules.test.ts, dashboard.test.ts).
 */
import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { join } from "node:path";
import { REPO_ROOT } from "../env/paths.ts";

export const RULES_FILE = join(REPO_ROOT, "charts", "qdrant-operator", "files", "prometheus-rules.yaml");
export const RULES_TEST_FILE = join(REPO_ROOT, "test", "monitoring", "prometheus-rules.test.yaml");
export const DASHBOARD_FILE = join(REPO_ROOT, "charts", "qdrant-operator", "files", "dashboard.json");

export interface PanelQuery {
  panel: string;
  expr: string;
}

interface Panel {
  title?: string;
  targets?: Array<{ expr?: string }>;
  panels?: Panel[];
}

export async function dashboardQueries(): Promise<PanelQuery[]> {
  const dashboard = JSON.parse(await readFile(DASHBOARD_FILE, "utf8")) as { panels?: Panel[] };
  const out: PanelQuery[] = [];
  const walk = (panels: Panel[] | undefined) => {
    for (const p of panels ?? []) {
      for (const t of p.targets ?? []) if (t.expr !== undefined) out.push({ panel: p.title ?? "", expr: t.expr });
      walk(p.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

/**
 * Grafana's interval variables are not PromQL: replaced by a duration (what Grafana does before it
 * sends the query), so promtool parses what Prometheus would receive.
 */
export function asPrometheusQuery(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, "5m");
}

/** A rule file (JSON is YAML) with one recording rule per query, for `promtool check rules`. */
export function recordingRulesFile(queries: readonly PanelQuery[]): string {
  return JSON.stringify({ groups: [{ name: "dashboard", rules: queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: asPrometheusQuery(q.expr) })) }] }, null, 2);
}

/** Each alerting or recording rule's name and expression. */
export async function ruleExpressions(): Promise<Array<{ rule: string; expr: string }>> {
  const file = parse(await readFile(RULES_FILE, "utf8")) as { groups: Array<{ rules: Array<{ alert?: string; record?: string; expr: string }> }> };
  return file.groups.flatMap((g) => g.rules.map((r) => ({ rule: r.alert ?? r.record ?? "", expr: r.expr })));
}
