/**
 * Service and cluster routes: version, health probes, metrics, telemetry, `/cluster` and the per-collection
 * cluster view (local and remote shards), plus the shard moves Qdrant offers on `POST …/cluster`.
 */
import { badInput, badRequest, notFound, standaloneMode } from "./errors.ts";
import { readJsonObject, sendJson, sendText } from "./http-util.ts";
import { renderMetrics, telemetry } from "./metrics.ts";
import type { PeerNode } from "./peer.ts";
import { isObject, resolvedCollection } from "./route-helpers.ts";
import { route, type Route, type RouteContext } from "./router.ts";
import { QDRANT_VERSION } from "./snapshot-archive.ts";

export const QDRANT_COMMIT = "74f3e85b9473c62560006c043e13737ce6b48412";

function clusterStatus(ctx: RouteContext): unknown {
  const { cluster, peer } = ctx;
  if (!cluster.distributed) return { status: "disabled" };
  const leader = cluster.peers[0];
  return {
    status: "enabled",
    peer_id: peer.id,
    peers: Object.fromEntries(cluster.peers.map((p) => [String(p.id), { uri: p.p2pUri }])),
    raft_info: {
      term: cluster.state.term,
      commit: cluster.state.commit,
      pending_operations: 0,
      leader: leader?.id ?? null,
      role: peer === leader ? "Leader" : "Follower",
      is_voter: true,
    },
    consensus_thread_status: { consensus_thread_status: "working", last_update: new Date().toISOString() },
    message_send_failures: {},
  };
}

function collectionClusterInfo(ctx: RouteContext): unknown {
  const name = resolvedCollection(ctx);
  const { cluster, peer } = ctx;
  const meta = cluster.meta(name);
  const local: unknown[] = [];
  const remote: unknown[] = [];
  for (const shardId of cluster.shardIds(name)) {
    for (const [peerId, state] of Object.entries(meta.shards[String(shardId)] ?? {})) {
      if (Number(peerId) === peer.id) {
        local.push({ shard_id: shardId, points_count: peer.shard(name, shardId)?.count ?? 0, state });
      } else remote.push({ shard_id: shardId, peer_id: Number(peerId), state });
    }
  }
  return { peer_id: peer.id, shard_count: meta.config.params.shard_number, local_shards: local, remote_shards: remote, shard_transfers: [] };
}

function peerArg(ctx: RouteContext, id: unknown): PeerNode {
  const peer = typeof id === "number" ? ctx.cluster.peerById(id) : undefined;
  if (peer === undefined) throw badInput(`Peer ${String(id)} does not exist`);
  return peer;
}

/** move_shard / replicate_shard / drop_replica, completed instantly (no transfer is ever in flight). */
function updateCollectionCluster(ctx: RouteContext, body: Record<string, unknown>): boolean {
  const { cluster } = ctx;
  if (!cluster.distributed) throw badRequest("Distributed mode disabled");
  const name = resolvedCollection(ctx);
  const op = body.move_shard ?? body.replicate_shard ?? body.drop_replica;
  if (!isObject(op)) throw badRequest("the emulator supports move_shard, replicate_shard and drop_replica only");
  const shardId = Number(op.shard_id);
  const replicas = cluster.meta(name).shards[String(shardId)];
  if (replicas === undefined) throw notFound(`shard ${shardId} not found`);
  if (body.drop_replica !== undefined) {
    const peer = peerArg(ctx, op.peer_id);
    if (!(String(peer.id) in replicas)) throw badInput(`Shard ${shardId} doesn't have a replica on peer ${peer.id}`);
    if (Object.keys(replicas).length === 1) throw badInput(`Shard ${shardId} must have at least one replica`);
    cluster.commit((s) => {
      delete s.collections[name]?.shards[String(shardId)]?.[String(peer.id)];
    });
    return true;
  }
  const from = peerArg(ctx, op.from_peer_id);
  const to = peerArg(ctx, op.to_peer_id);
  if (replicas[String(from.id)] !== "Active") throw badInput(`Shard ${shardId} is not active on peer ${from.id}`);
  if (String(to.id) in replicas) throw badInput(`Shard ${shardId} is already involved in transfer or present on peer ${to.id}`);
  cluster.commit((s) => {
    const shard = s.collections[name]?.shards[String(shardId)];
    if (shard !== undefined) shard[String(to.id)] = "Partial";
  });
  cluster.copyShard(name, shardId, from, to);
  cluster.commit((s) => {
    const shard = s.collections[name]?.shards[String(shardId)];
    if (shard === undefined) return;
    shard[String(to.id)] = "Active";
    if (body.move_shard !== undefined) delete shard[String(from.id)];
  });
  return true;
}

export function serviceRoutes(): Route[] {
  return [
    route("GET", "/", "open", (ctx) => {
      sendJson(ctx.res, 200, { title: "qdrant - vector search engine", version: QDRANT_VERSION, commit: QDRANT_COMMIT });
      return Promise.resolve({ handled: true });
    }),
    ...["/healthz", "/livez"].map((p) =>
      route("GET", p, "open", (ctx) => {
        sendText(ctx.res, 200, "healthz check passed");
        return Promise.resolve({ handled: true });
      }),
    ),
    route("GET", "/readyz", "open", (ctx) => {
      sendText(ctx.res, 200, "all shards are ready");
      return Promise.resolve({ handled: true });
    }),
    route("GET", "/metrics", "read", (ctx) => {
      const text = renderMetrics(ctx.cluster, ctx.peer);
      ctx.res.writeHead(200, { "content-type": "text/plain; version=0.0.4", "content-length": Buffer.byteLength(text) });
      ctx.res.end(text);
      return Promise.resolve({ handled: true });
    }),
    route("GET", "/telemetry", "read", (ctx) => Promise.resolve({ ok: telemetry(ctx.cluster, ctx.peer) })),
    route("GET", "/cluster", "read", (ctx) => Promise.resolve({ ok: clusterStatus(ctx) })),
    route("POST", "/cluster/recover", "write", (ctx) => {
      if (!ctx.cluster.distributed) throw standaloneMode();
      return Promise.resolve({ ok: true });
    }),
    route("DELETE", "/cluster/peer/{peer_id}", "write", (ctx) => {
      if (!ctx.cluster.distributed) throw standaloneMode();
      throw badInput("the emulator has a fixed set of peers; use the admin API to take a peer down");
    }),
    route("GET", "/collections/{collection_name}/cluster", "read", (ctx) => Promise.resolve({ ok: collectionClusterInfo(ctx) })),
    route("POST", "/collections/{collection_name}/cluster", "write", async (ctx) => ({
      ok: updateCollectionCluster(ctx, await readJsonObject(ctx.req)),
    })),
  ];
}
