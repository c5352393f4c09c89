/**
 * Which Qdrant a QdrantConnection reaches, as the set of names it is known by. Turns (turns.ts) are
 * taken per Qdrant, not per QdrantConnection: connections are namespaced, and two teams' connections
 * (or one team's two) to the same Qdrant must not snapshot, restore or copy on it at the same time.
 *
 * Kubernetes cannot tell us that two addresses are one process, so a connection's identity is every
 * name it gives evidence for, and two connections are the same Qdrant when their names overlap
 * (transitively: see `lineOf` in turns.ts):
 * - `service:<namespace>/<name>` — a `spec.service`, or a URL whose host is a Service's cluster DNS name
 *   (`<name>.<namespace>.svc`, with or without the cluster domain after it). Any port: a Service's ports
 *   are one Qdrant's. A named port needs no lookup.
 * - a short host is the cluster's DNS search path at work: a one-label host (`http://qdrant:6333`) is
 *   the Service of that name in the connection's own namespace (`service:<namespace>/qdrant`, and never
 *   an address: `qdrant` in two namespaces is two Qdrants); a two-label host (`qdrant.team-a`) may be
 *   the Service `qdrant` of namespace `team-a`, so it names that Service besides its address.
 * - `address:<host>:<port>` — any other URL: host lower-cased and without a trailing dot, the port
 *   explicit (80/443 by scheme), scheme and path dropped (http and https on one host:port are one
 *   listener). Pod DNS names (`qdrant-0.qdrant-headless.ns.svc…`) are cut after `.svc` the same way.
 * - from the connection's last check (status.peers): `peer:<id>` for each peer id Qdrant reported in
 *   cluster mode (random u64s Qdrant draws per peer, so equal ids are one cluster whatever address
 *   reached it: an Ingress, a pod IP, an alias), and the address of each peer (which also joins a Static
 *   connection listing pod addresses to a Cluster one). The placeholder ids of Static and standalone
 *   checks ("static-0", "standalone") are not identities and are left out.
 *
 * Only names that could be one Qdrant are matched; the error is one-sided: two names for one Qdrant that
 * share nothing (an IP and a DNS name, with no check yet to report peer ids) are taken for two, and their
 * work may overlap as it did before turns were per Qdrant; two Qdrants are never merged unless they share
 * a name, which costs only waiting.
 */
import type { QdrantConnectionSpec, QdrantConnectionStatus } from "../../../api/v1alpha1/qdrant-connection.ts";

/** The names of one address written in `namespace`, or none when it does not parse. */
export function addressNames(url: string, namespace: string): string[] {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return [];
  }
  let host = u.hostname.toLowerCase().replace(/\.$/, "");
  const svc = host.indexOf(".svc.");
  if (svc >= 0) host = host.slice(0, svc + ".svc".length);
  const service = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc$/.exec(host);
  if (service) return [`service:${service[2]}/${service[1]}`];
  const label = "[a-z0-9](?:[a-z0-9-]*[a-z0-9])?";
  if (new RegExp(`^${label}$`).test(host) && !/^\d+$/.test(host) && host !== "localhost") return [`service:${namespace}/${host}`];
  const port = u.port || (u.protocol === "https:" ? "443" : "80");
  const address = `address:${host}:${port}`;
  const serviceInNamespace = new RegExp(`^(${label})\\.(${label})$`).exec(host);
  return serviceInNamespace && !/^[\d.]+$/.test(host) ? [address, `service:${serviceInNamespace[2]}/${serviceInNamespace[1]}`].sort() : [address];
}

/**
 * Every name `namespace`'s connection `spec` (with its last check's `status`) reaches its Qdrant by,
 * sorted and without repeats.
 */
export function qdrantNames(namespace: string, spec: Partial<QdrantConnectionSpec> | undefined, status?: QdrantConnectionStatus): string[] {
  const names = new Set<string>();
  if (spec?.service?.name) names.add(`service:${spec.service.namespace ?? namespace}/${spec.service.name}`);
  if (spec?.url) for (const n of addressNames(spec.url, namespace)) names.add(n);
  for (const peer of status?.peers ?? []) {
    if (/^\d+$/.test(peer.id)) names.add(`peer:${peer.id}`);
    for (const n of addressNames(peer.url, namespace)) names.add(n);
  }
  return [...names].sort();
}
