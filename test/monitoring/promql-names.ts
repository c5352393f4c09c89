/**
 * The metric names a PromQL expression reads, by a small tokenizer: promtool has no command that prints
 * a parsed expression's selectors (`promtool promql format` only pretty-prints), so this is the one
 * place we read PromQL ourselves. It only has to find names; promtool itself checks that each expression
 * parses (rules.test.ts, dashboard.test.ts), so malformed input never reaches this.
 */
const KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or", "unless", "atan2", "inf", "nan"]);

export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // string literals (label values, regexes)
    .replace(/\{[^}]*\}/g, " ") // label matchers
    .replace(/\[[^\]]*\]/g, " ") // range and subquery durations
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " "); // label lists
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(?=\s*(\()?)/g)) {
    const word = m[0];
    const start = m.index;
    if (start > 0 && /[0-9.]/.test(stripped[start - 1]!)) continue; // the unit of a number or duration: 5m, 1e3
    if (m[1] !== undefined || KEYWORDS.has(word.toLowerCase())) continue; // function calls and keywords
    names.add(word);
  }
  return [...names];
}

/** A histogram's or summary's series name, as its `# TYPE` line names it. */
export function familyName(name: string, typed: ReadonlySet<string>): string {
  if (typed.has(name)) return name;
  const base = name.replace(/_(?:bucket|sum|count)$/, "");
  return typed.has(base) ? base : name;
}
