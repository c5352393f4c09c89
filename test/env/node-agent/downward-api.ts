/**
 * The downward API: pod fields (fieldRef) and container resources (resourceFieldRef) as strings, for env
 * values and downwardAPI volume files, formatted as the kubelet formats them. Resource limits that a
 * container does not set default to the node's allocatable, as on a real node.
 */
import type { Container, ObjectFieldSelector, Pod, ResourceFieldSelector } from "./types.ts";

/** The only IP a process on this node can be reached at; see README (no pod network). */
export const NODE_IP = "127.0.0.1";

export interface NodeResources {
  cpu: string;
  memory: string;
  "ephemeral-storage"?: string;
}

/** Formats labels or annotations as a downwardAPI volume does: sorted `key="value"` lines. */
function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(m![k])}`)
    .join("\n");
}

const SUBSCRIPT = /^metadata\.(labels|annotations)\['(.+)'\]$/;

/** Resolves a fieldRef; throws for a path the API would not accept either. */
export function podFieldValue(pod: Pod, ref: ObjectFieldSelector, forVolume: boolean): string {
  const path = ref.fieldPath;
  const sub = SUBSCRIPT.exec(path);
  if (sub) {
    const map = sub[1] === "labels" ? pod.metadata.labels : pod.metadata.annotations;
    return map?.[sub[2]!] ?? "";
  }
  switch (path) {
    case "metadata.name":
      return pod.metadata.name ?? "";
    case "metadata.namespace":
      return pod.metadata.namespace ?? "";
    case "metadata.uid":
      return pod.metadata.uid ?? "";
    case "metadata.labels":
    case "metadata.annotations":
      if (!forVolume) break;
      return formatMap(path === "metadata.labels" ? pod.metadata.labels : pod.metadata.annotations);
    case "spec.nodeName":
      return pod.spec.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec.serviceAccountName ?? "";
    case "status.hostIP":
    case "status.hostIPs":
    case "status.podIP":
    case "status.podIPs":
      return NODE_IP;
  }
  throw new Error(`unsupported fieldPath ${JSON.stringify(path)}`);
}

const SUFFIXES: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** Parses a resource.Quantity string ("500m", "2Gi", "1e3") into a number. */
export function parseQuantity(q: string | number): number {
  if (typeof q === "number") return q;
  const m = /^([+-]?[0-9.]+)(?:[eE]([+-]?[0-9]+))?([a-zA-Z]*)$/.exec(q.trim());
  const factor = m ? SUFFIXES[m[3] ?? ""] : undefined;
  if (!m || factor === undefined) throw new Error(`invalid quantity ${JSON.stringify(q)}`);
  return Number(m[1]) * 10 ** Number(m[2] ?? 0) * factor;
}

/** Resolves a resourceFieldRef for `container` (the one named in the selector, for volumes). */
export function resourceFieldValue(pod: Pod, container: Container | undefined, ref: ResourceFieldSelector, node: NodeResources): string {
  const target = ref.containerName ? [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find((c) => c.name === ref.containerName) : container;
  if (!target) throw new Error(`resourceFieldRef: container ${JSON.stringify(ref.containerName ?? "")} not found`);
  const [kind, resource] = ref.resource.split(".", 2) as [string, string | undefined];
  if ((kind !== "limits" && kind !== "requests") || !resource) throw new Error(`unsupported resource ${JSON.stringify(ref.resource)}`);
  const set = kind === "limits" ? target.resources?.limits : target.resources?.requests;
  const nodeValue = (node as unknown as Record<string, string | undefined>)[resource];
  const raw = set?.[resource] ?? (kind === "limits" ? nodeValue : undefined) ?? 0;
  const value = parseQuantity(raw);
  const divisor = parseQuantity(ref.divisor ?? 1) || 1;
  if (resource === "cpu") return String(Math.ceil(Math.round(value * 1000) / Math.round(divisor * 1000)));
  return String(Math.ceil(value / divisor));
}
