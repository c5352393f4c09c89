/**
 * `/metrics` (Prometheus text) and `/telemetry`, built from the cluster state and the peer's counters. The
 * metric names are Qdrant's, so dashboards and the operator's scraping code can be tested against them.
 */
import type { Cluster } from "./cluster.ts";
import { vectorSpecs } from "./collection-config.ts";
import type { PeerNode } from "./peer.ts";
import { QDRANT_VERSION } from "./snapshot-archive.ts";

const startedAt = new Date();

function esc(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

class PromText {
  private readonly lines: string[] = [];
  family(name: string, help: string, type: "counter" | "gauge", samples: Array<[Record<string, string>, number]>): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const l = Object.entries(labels).map(([k, v]) => `${k}="${esc(v)}"`);
      this.lines.push(`${name}${l.length > 0 ? `{${l.join(",")}}` : ""} ${value}`);
    }
  }
  toString(): string {
    return `${this.lines.join("\n")}\n`;
  }
}

/** Points in a collection as counted through `peer` (missing replicas count as zero). */
function pointsOf(cluster: Cluster, peer: PeerNode, name: string): number {
  let n = 0;
  for (const id of cluster.shardIds(name)) {
    try {
      n += cluster.readStore(name, id, peer).count;
    } catch {
      // A shard with no live replica contributes nothing to the gauge.
    }
  }
  return n;
}

export function renderMetrics(cluster: Cluster, peer: PeerNode): string {
  const p = new PromText();
  const names = Object.keys(cluster.state.collections).sort();
  p.family("app_info", "information about qdrant server", "gauge", [[{ name: "qdrant", version: QDRANT_VERSION }, 1]]);
  p.family("app_status_recovery_mode", "features enabled in qdrant server", "gauge", [[{}, 0]]);
  p.family("collections_total", "number of collections", "gauge", [[{}, names.length]]);
  let vectors = 0;
  const pointSamples: Array<[Record<string, string>, number]> = [];
  const vectorSamples: Array<[Record<string, string>, number]> = [];
  for (const name of names) {
    const points = pointsOf(cluster, peer, name);
    pointSamples.push([{ collection: name }, points]);
    for (const vname of vectorSpecs(cluster.meta(name).config).keys()) {
      vectorSamples.push([{ collection: name, vector: vname }, points]);
      vectors += points;
    }
  }
  p.family("collections_vector_total", "total number of vectors in all collections", "gauge", [[{}, vectors]]);
  p.family("collection_points", "approximate amount of points per collection", "gauge", pointSamples);
  p.family("collection_vectors", "amount of vectors grouped by vector name", "gauge", vectorSamples);
  const stat = (m: Map<string, number>): Array<[Record<string, string>, number]> =>
    [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, v]) => [{ id }, v]);
  p.family("snapshot_creation_running", "number of snapshot creations currently running", "gauge", stat(peer.stats.snapshotCreationRunning));
  p.family("snapshot_recovery_running", "number of snapshot recovery operations currently running", "gauge", stat(peer.stats.snapshotRecoveryRunning));
  p.family("snapshot_created_total", "total number of snapshots created", "counter", stat(peer.stats.snapshotCreatedTotal));
  p.family("cluster_enabled", "is cluster support enabled", "gauge", [[{}, cluster.distributed ? 1 : 0]]);
  if (cluster.distributed) {
    p.family("cluster_peers_total", "total number of cluster peers", "gauge", [[{}, cluster.peers.length]]);
    p.family("cluster_term", "current cluster term", "counter", [[{}, cluster.state.term]]);
    p.family("cluster_commit", "index of last committed (finalized) operation cluster peer is aware of", "counter", [[{ peer_id: String(peer.id) }, cluster.state.commit]]);
    p.family("cluster_pending_operations_total", "total number of pending operations for cluster peer", "gauge", [[{}, 0]]);
    p.family("cluster_voter", "is cluster peer a voter or learner", "gauge", [[{}, 1]]);
  }
  const totals: Array<[Record<string, string>, number]> = [];
  for (const [endpoint, byStatus] of [...peer.stats.responses.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const [method = "", path = ""] = endpoint.split(" ");
    for (const [status, count] of byStatus) totals.push([{ method, endpoint: path, status: String(status) }, count]);
  }
  if (totals.length > 0) p.family("rest_responses_total", "total number of responses", "counter", totals);
  return p.toString();
}

/** A minimal TelemetryData: app, collection counts and the cluster part. */
export function telemetry(cluster: Cluster, peer: PeerNode): unknown {
  const names = Object.keys(cluster.state.collections);
  return {
    id: `emulator-peer-${peer.id}`,
    app: { name: "qdrant", version: QDRANT_VERSION, startup: startedAt.toISOString() },
    collections: {
      number_of_collections: names.length,
      collections: names.sort().map((name) => {
        const meta = cluster.meta(name);
        return { vectors: pointsOf(cluster, peer, name), optimizers_status: "ok", params: meta.config.params };
      }),
    },
    cluster: cluster.distributed
      ? {
          enabled: true,
          status: {
            number_of_peers: cluster.peers.length,
            term: cluster.state.term,
            commit: cluster.state.commit,
            pending_operations: 0,
            role: peer.index === 0 ? "Leader" : "Follower",
            is_voter: true,
            peer_id: peer.id,
            consensus_thread_status: { consensus_thread_status: "working", last_update: new Date().toISOString() },
          },
        }
      : { enabled: false },
  };
}
