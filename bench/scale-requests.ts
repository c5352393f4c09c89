/**
 * Apiserver requests over a window, counted two ways in one vocabulary (verb as the apiserver says it:
 * LIST, WATCH, GET, CREATE, PATCH, UPDATE, DELETE; resource as `resource[/subresource]`, with its group):
 * - from the apiserver's own /metrics (`apiserver_request_total`, read with the admin kubeconfig and
 *   diffed between the window's ends): every client counts, so on a shared environment other tests do
 *   too, and the bench's own reads of /metrics (two GETs of a non-resource URL, which have no resource);
 * - from the counting proxy the manager talks through (e2e/helpers/apiserver-counter.ts): the manager's
 *   requests alone.
 */
import type { Recorded } from "../e2e/helpers/apiserver-counter.ts";
import type { KubeClient } from "../src/runtime/rest-client.ts";
import { parseMetrics, type Sample } from "./scale-manager.ts";

export const OUR_GROUP = "qdrant-operator.dev";

export interface Counted {
  verb: string;
  group: string;
  resource: string;
  n: number;
}

export class RequestWindow {
  readonly counts: Counted[];
  readonly seconds: number;

  constructor(counts: Counted[], seconds: number) {
    this.counts = counts.filter((c) => c.n > 0).sort((a, b) => b.n - a.n);
    this.seconds = seconds;
  }

  perMinute(pred: (c: Counted) => boolean = () => true): number {
    return (this.counts.filter(pred).reduce((a, c) => a + c.n, 0) * 60) / this.seconds;
  }

  /** LISTs of anything (a periodic relist would show here). */
  lists(): number {
    return this.perMinute((c) => c.verb === "LIST");
  }

  /** Status writes: PATCH, UPDATE or APPLY of a status subresource. */
  statusWrites(pred: (c: Counted) => boolean = () => true): number {
    return this.perMinute((c) => /^(PATCH|UPDATE|APPLY)$/.test(c.verb) && c.resource.endsWith("/status") && pred(c));
  }

  lines(top = 12): string[] {
    const f = (n: number) => ((n * 60) / this.seconds).toFixed(1).padStart(7);
    const rows = this.counts.slice(0, top).map((c) => `${f(c.n)}/min  ${c.verb} ${c.resource}${c.group ? `.${c.group}` : ""}`);
    if (this.counts.length > top) rows.push(`${f(this.counts.slice(top).reduce((a, c) => a + c.n, 0))}/min  (${this.counts.length - top} more kinds)`);
    return rows;
  }
}

/** apiserver_request_total, summed by verb, group and resource/subresource. */
function requestTotals(samples: Sample[]): Map<string, Counted> {
  const out = new Map<string, Counted>();
  for (const s of samples) {
    if (s.name !== "apiserver_request_total") continue;
    const { verb = "", group = "", resource = "", subresource = "" } = s.labels;
    const r = resource + (subresource ? `/${subresource}` : "");
    const key = `${verb} ${group} ${r}`;
    const c = out.get(key) ?? { verb, group, resource: r, n: 0 };
    c.n += s.value;
    out.set(key, c);
  }
  return out;
}

/** Reads the apiserver's /metrics now; `since(before)` is the window between two reads. */
export async function apiserverRequests(admin: KubeClient): Promise<{ at: number; totals: Map<string, Counted> }> {
  const text = await admin.request<string>("GET", "/metrics");
  return { at: Date.now(), totals: requestTotals(parseMetrics(String(text))) };
}

export function apiserverWindow(before: Awaited<ReturnType<typeof apiserverRequests>>, after: Awaited<ReturnType<typeof apiserverRequests>>): RequestWindow {
  const counts: Counted[] = [];
  for (const [key, c] of after.totals) counts.push({ ...c, n: c.n - (before.totals.get(key)?.n ?? 0) });
  return new RequestWindow(counts, (after.at - before.at) / 1000);
}

/** The apiserver's verb and the resource of one proxied request. */
export function classify(r: Recorded): Omit<Counted, "n"> {
  // /api/v1/... or /apis/<group>/<version>/..., then [namespaces/<ns>/]<resource>[/<name>[/<subresource>]]
  const parts = r.path.split("/").filter(Boolean);
  const group = parts[0] === "apis" ? (parts[1] ?? "") : "";
  let rest = parts.slice(parts[0] === "apis" ? 3 : 2);
  if (rest[0] === "namespaces" && rest.length > 2) rest = rest.slice(2);
  const [resource = r.path, name, sub] = rest;
  const watch = /(^|&)watch=(true|1)(&|$)/.test(r.query);
  const verbs: Record<string, string> = { GET: name ? "GET" : watch ? "WATCH" : "LIST", POST: "CREATE", PUT: "UPDATE", PATCH: "PATCH", DELETE: name ? "DELETE" : "DELETECOLLECTION" };
  return { verb: verbs[r.method] ?? r.method, group, resource: resource + (sub ? `/${sub}` : "") };
}

export function proxyWindow(requests: Recorded[], seconds: number): RequestWindow {
  const m = new Map<string, Counted>();
  for (const r of requests) {
    const c = classify(r);
    const key = `${c.verb} ${c.group} ${c.resource}`;
    const e = m.get(key) ?? { ...c, n: 0 };
    e.n++;
    m.set(key, e);
  }
  return new RequestWindow([...m.values()], seconds);
}
