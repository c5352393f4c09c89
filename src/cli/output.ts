/**
 * What the plugin prints: kubectl-style tables (upper-case headers, columns padded with three spaces,
 * `<none>` for nothing) by default, or the same data as JSON or YAML for scripts (`-o json|yaml`).
 */
import { stringify } from "yaml";
import type { OutputFormat } from "./args.ts";

export type Row = Record<string, string>;

/** A table with these columns (keys of each row), printed in order. */
export function table(columns: readonly string[], rows: readonly Row[]): string {
  if (rows.length === 0) return "";
  const cells = [columns.map((c) => c.toUpperCase()), ...rows.map((r) => columns.map((c) => r[c] || "<none>"))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]! + 3))).join("").trimEnd()).join("\n") + "\n";
}

/** Writes `data` as the format asks; `render` makes the table (or the screen) from it. */
export function emit(format: OutputFormat, data: unknown, render: () => string): void {
  if (format === "json") process.stdout.write(JSON.stringify(data, null, 2) + "\n");
  else if (format === "yaml") process.stdout.write(stringify(data));
  else process.stdout.write(render());
}

/** kubectl's short ages: 45s, 12m, 5h, 3d, 2y. */
export function age(since: string | Date | undefined, now = new Date()): string {
  if (since === undefined) return "";
  const t = typeof since === "string" ? Date.parse(since) : since.getTime();
  if (Number.isNaN(t)) return "";
  const s = Math.max(0, Math.floor((now.getTime() - t) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 2 * 86_400) return `${Math.floor(s / 3600)}h`;
  if (s < 365 * 86_400) return `${Math.floor(s / 86_400)}d`;
  return `${Math.floor(s / (365 * 86_400))}y`;
}

/** Bytes in binary units, as `kubectl top` prints them: 512B, 1.5KiB, 20MiB. */
export function size(bytes: number | undefined): string {
  if (bytes === undefined) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v}B` : `${v >= 10 ? Math.round(v) : v.toFixed(1)}${units[i]}`;
}

/** The Ready condition's reason and message of an object, for "what is wrong" lines. */
export function readyProblem(obj: { status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] } }): string | undefined {
  const c = obj.status?.conditions?.find((x) => x.type === "Ready");
  return c?.status === "False" ? `${c.reason ?? ""}${c.message ? `: ${c.message}` : ""}` : undefined;
}
