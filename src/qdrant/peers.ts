/**
 * Finding every peer of a Qdrant deployment. Snapshots are per peer, so backups must talk to each peer's
 * REST address, never to a load-balanced Service. GET /cluster lists peers with their p2p URIs
 * (port 6335 by default); the REST address is the same host on the REST port.
 */
import type { QdrantApi } from "./client.ts";
import type { CallOptions } from "./rest.ts";

export interface Peer {
  /** Qdrant's u64 peer id, as a string (exact beyond 2^53). */
  id: string;
  url: string;
}

export interface Topology {
  mode: "Standalone" | "Distributed";
  version: string;
  /** This endpoint's own peer id, when distributed. */
  selfId?: string;
  peers: Peer[];
}

export interface PeerDiscoverySettings {
  mode: "Cluster" | "Static" | "None";
  restPort: number;
  scheme: "http" | "https";
  urls?: string[];
}

/** The REST URL of a peer from its p2p URI: same host, the REST port and scheme. */
export function restUrlFromP2p(p2pUri: string, scheme: "http" | "https", restPort: number): string {
  const u = new URL(p2pUri);
  return `${scheme}://${u.hostname.includes(":") ? `[${u.hostname}]` : u.hostname}:${restPort}`;
}

export async function discoverTopology(qdrant: QdrantApi, settings: PeerDiscoverySettings, opts: CallOptions = {}): Promise<Topology> {
  const version = await qdrant.version(opts);
  if (settings.mode === "Static") {
    return { mode: "Distributed", version, peers: (settings.urls ?? []).map((url, i) => ({ id: `static-${i}`, url: url.replace(/\/+$/, "") })) };
  }
  if (settings.mode === "None") return { mode: "Standalone", version, peers: [{ id: "standalone", url: qdrant.url }] };
  const cluster = await qdrant.clusterStatus(opts);
  if (cluster.status !== "enabled" || !cluster.peers) return { mode: "Standalone", version, peers: [{ id: "standalone", url: qdrant.url }] };
  const peers = Object.entries(cluster.peers)
    .map(([id, p]) => ({ id, url: restUrlFromP2p(p.uri, settings.scheme, settings.restPort) }))
    .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  return { mode: "Distributed", version, ...(cluster.peer_id !== undefined ? { selfId: cluster.peer_id } : {}), peers };
}
