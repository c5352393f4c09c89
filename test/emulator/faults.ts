/**
 * Fault injection for tests: "the next N requests matching this route fail / are delayed / have their body
 * cut". Faults live outside Qdrant's API (they are set through the admin port) and are consumed as they fire.
 */
export type FaultAction = "fail" | "delay" | "cut";

export interface FaultSpec {
  /** HTTP method; any method when absent. */
  method?: string;
  /**
   * Path pattern: a route template as in the OpenAPI spec (`/collections/{collection_name}/snapshots`), or
   * a glob over the concrete path where `*` matches within a segment and `**` across segments.
   */
  path: string;
  /** 1-based peer index; every peer when absent. */
  peer?: number;
  /** How many matching requests the fault applies to (default 1). */
  count?: number;
  action: FaultAction;
  /** fail: HTTP status (default 500). */
  status?: number;
  /** fail: the error text, sent verbatim as `status.error` (or as the text body on download routes). */
  message?: string;
  /** delay: milliseconds to wait before handling the request. */
  delayMs?: number;
  /** cut: bytes of the response body sent before the connection is dropped. */
  afterBytes?: number;
}

export interface Fault extends FaultSpec {
  id: number;
  remaining: number;
  fired: number;
}

function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] ?? "";
    if (ch === "*" && pattern[i + 1] === "*") {
      re += ".*";
      i++;
    } else if (ch === "*") re += "[^/]*";
    else if (ch === "{") {
      const end = pattern.indexOf("}", i);
      if (end < 0) re += "\\{";
      else {
        re += "[^/]+";
        i = end;
      }
    } else re += ch.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

export class FaultRegistry {
  private readonly faults: Fault[] = [];
  private nextId = 1;

  add(spec: FaultSpec): Fault {
    if (typeof spec.path !== "string" || spec.path === "") throw new Error("fault needs a path");
    if (!["fail", "delay", "cut"].includes(spec.action)) throw new Error(`unknown fault action ${String(spec.action)}`);
    const fault: Fault = { ...spec, id: this.nextId++, remaining: spec.count ?? 1, fired: 0 };
    this.faults.push(fault);
    return fault;
  }

  list(): Fault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  remove(id: number): boolean {
    const i = this.faults.findIndex((f) => f.id === id);
    if (i >= 0) this.faults.splice(i, 1);
    return i >= 0;
  }

  clear(): void {
    this.faults.length = 0;
  }

  /**
   * Consumes and returns the faults that apply to this request (at most one per action, oldest first).
   * `template` is the matched route template, `path` the decoded concrete path.
   */
  take(method: string, path: string, template: string | undefined, peerNumber: number): Fault[] {
    const taken = new Map<FaultAction, Fault>();
    for (const f of this.faults) {
      if (taken.has(f.action) || f.remaining <= 0) continue;
      if (f.method !== undefined && f.method.toUpperCase() !== method) continue;
      if (f.peer !== undefined && f.peer !== peerNumber) continue;
      if (f.path !== template && !globToRegExp(f.path).test(path)) continue;
      taken.set(f.action, f);
    }
    for (const f of taken.values()) {
      f.remaining -= 1;
      f.fired += 1;
    }
    for (let i = this.faults.length - 1; i >= 0; i--) if ((this.faults[i]?.remaining ?? 0) <= 0) this.faults.splice(i, 1);
    return [...taken.values()];
  }
}
