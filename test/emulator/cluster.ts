/**
 * The set of peers plus the shared consensus state. Everything that in Qdrant goes through Raft (collection
 * create/delete/update, aliases, replica placement and states) goes through {@link Cluster.commit}, which
 * bumps the commit index, persists the state on every peer and then makes each peer's local shard stores
 * match the placement. Point reads and writes are routed here to the replica that holds each shard.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { randomUUID } from "node:crypto";
import type { CollectionConfig } from "./collection-config.ts";
import {
  freshConsensus,
  loadConsensus,
  persistConsensus,
  type CollectionMeta,
  type ConsensusState,
  type ReplicaState,
} from "./consensus.ts";
import { badInput, collectionExists, collectionNotFound, serviceError } from "./errors.ts";
import { PeerNode } from "./peer.ts";
import { CollectionHealth } from "./collection-health.ts";
import { RecoverySettle } from "./recovery-settle.ts";
import type { ShardStore } from "./shard-store.ts";

export interface ClusterOptions {
  dataDir: string;
  peerCount: number;
  port: number;
  /** Host of peer i (0-based). */
  hostOf: (index: number) => string;
}

export class Cluster {
  readonly peers: PeerNode[];
  readonly distributed: boolean;
  /** The opt-in window after a recover in which restored replicas are not Active yet (recovery-settle.ts). */
  readonly recoverySettle = new RecoverySettle();
  /** Opt-in yellow/grey/red status per collection name, held until released (collection-health.ts). */
  readonly collectionHealth = new CollectionHealth();
  state: ConsensusState;

  constructor(opts: ClusterOptions) {
    const dirs = Array.from({ length: opts.peerCount }, (_, i) => path.join(opts.dataDir, `peer-${i + 1}`));
    const loaded = loadConsensus(dirs.map((d) => path.join(d, "storage")));
    if (loaded !== undefined && loaded.peerIds.length !== opts.peerCount) {
      throw new Error(
        `data dir ${opts.dataDir} holds a ${loaded.peerIds.length}-peer deployment, not ${opts.peerCount} peers`,
      );
    }
    this.state = loaded ?? freshConsensus(opts.peerCount);
    this.distributed = opts.peerCount > 1;
    this.peers = dirs.map(
      (dir, i) => new PeerNode(i, this.state.peerIds[i] ?? 0, opts.hostOf(i), opts.port, dir),
    );
    for (const peer of this.peers) persistConsensus(peer.storageDir, this.state);
    this.reconcileLocalShards();
  }

  /** Applies a metadata change cluster-wide, as one Raft commit. */
  commit(mutate: (s: ConsensusState) => void): void {
    mutate(this.state);
    this.state.commit += 1;
    for (const peer of this.peers) persistConsensus(peer.storageDir, this.state);
    this.reconcileLocalShards();
  }

  /** Opens the stores placement says a peer holds; deletes local data placement no longer mentions. */
  reconcileLocalShards(): void {
    for (const peer of this.peers) {
      for (const [name, meta] of Object.entries(this.state.collections)) {
        const wanted = new Set<number>();
        for (const [shardId, replicas] of Object.entries(meta.shards)) {
          if (String(peer.id) in replicas) wanted.add(Number(shardId));
        }
        for (const id of wanted) peer.ensureShard(name, id);
        for (const id of peer.localShardIds(name)) if (!wanted.has(id)) peer.dropShard(name, id);
      }
      for (const name of peer.collectionsWithData()) {
        if (!(name in this.state.collections)) peer.dropCollection(name);
      }
    }
  }

  peerById(id: number): PeerNode | undefined {
    return this.peers.find((p) => p.id === id);
  }

  /** Resolves an alias (checked first, as Qdrant does) or a collection name; 404 when neither exists. */
  resolve(name: string): string {
    const target = this.state.aliases[name];
    if (target !== undefined && target in this.state.collections) return target;
    if (name in this.state.collections) return name;
    throw collectionNotFound(name);
  }

  meta(name: string): CollectionMeta {
    const meta = this.state.collections[name];
    if (meta === undefined) throw collectionNotFound(name);
    return meta;
  }

  /**
   * Spreads `shardNumber × rf` replicas over the peers, each going to the least loaded peers first (counting
   * replicas of every collection), which is how Qdrant balances a new collection.
   */
  placement(shardNumber: number, rf: number): Record<string, Record<string, ReplicaState>> {
    const load = new Map<number, number>(this.peers.map((p) => [p.id, 0]));
    for (const meta of Object.values(this.state.collections)) {
      for (const replicas of Object.values(meta.shards)) {
        for (const peerId of Object.keys(replicas)) load.set(Number(peerId), (load.get(Number(peerId)) ?? 0) + 1);
      }
    }
    const shards: Record<string, Record<string, ReplicaState>> = {};
    for (let s = 0; s < shardNumber; s++) {
      const chosen = [...this.peers]
        .sort((a, b) => (load.get(a.id) ?? 0) - (load.get(b.id) ?? 0) || a.index - b.index)
        .slice(0, Math.min(rf, this.peers.length));
      const replicas: Record<string, ReplicaState> = {};
      shards[String(s)] = replicas;
      for (const p of chosen) {
        replicas[String(p.id)] = "Active";
        load.set(p.id, (load.get(p.id) ?? 0) + 1);
      }
    }
    return shards;
  }

  createCollection(name: string, config: CollectionConfig): void {
    if (name in this.state.collections) throw collectionExists(name);
    if (name in this.state.aliases) {
      throw badInput(`Can't create collection with name ${name}. Alias with the same name already exists`);
    }
    const shards = this.placement(config.params.shard_number, config.params.replication_factor);
    this.commit((s) => {
      s.collections[name] = { config, uuid: randomUUID(), shards, payloadSchema: {} };
    });
    for (const peer of this.peers) fs.mkdirSync(path.join(peer.snapshotsDir, name), { recursive: true });
  }

  /** Deletes a collection and the aliases pointing to it; false when it does not exist (not a 404). */
  deleteCollection(name: string): boolean {
    if (!(name in this.state.collections)) return false;
    this.commit((s) => {
      delete s.collections[name];
      for (const [alias, target] of Object.entries(s.aliases)) if (target === name) delete s.aliases[alias];
    });
    return true;
  }

  /** Shard ids in order, e.g. [0, 1, 2]. */
  shardIds(collection: string): number[] {
    return Object.keys(this.meta(collection).shards)
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** The replica a read through `via` uses: the local one if active, else any active replica on a live peer. */
  readStore(collection: string, shardId: number, via: PeerNode): ShardStore {
    const replicas = this.meta(collection).shards[String(shardId)] ?? {};
    const candidates = Object.entries(replicas)
      .filter(([, state]) => state === "Active")
      .map(([peerId]) => this.peerById(Number(peerId)))
      .filter((p): p is PeerNode => p !== undefined && p.up)
      .sort((a, b) => (a === via ? -1 : b === via ? 1 : a.index - b.index));
    const peer = candidates[0];
    const store = peer?.shard(collection, shardId);
    if (store === undefined) {
      throw serviceError(`The replica set for shard ${shardId} on peer ${via.id} has no active replica`);
    }
    return store;
  }

  /**
   * The replica a read through `via` uses; undefined while the shard is inside a recovery's settle window
   * with no Active replica (the restored one not activated yet): counts, scrolls and reads then miss its
   * points instead of failing, as Qdrant's did (recovery-settle.ts).
   */
  readableStore(collection: string, shardId: number, via: PeerNode): ShardStore | undefined {
    if (!this.recoverySettle.isSettling(this, collection, shardId)) return this.readStore(collection, shardId, via);
    try {
      return this.readStore(collection, shardId, via);
    } catch {
      return undefined;
    }
  }

  /**
   * Stores a write must reach. Replicas on peers that are down miss the write and are marked Dead (Qdrant
   * deactivates a replica that failed an update); with no live active replica the write fails.
   */
  writeStores(collection: string, shardId: number, via: PeerNode): ShardStore[] {
    const replicas = this.meta(collection).shards[String(shardId)] ?? {};
    const stores: ShardStore[] = [];
    const missed: number[] = [];
    for (const [peerId, state] of Object.entries(replicas)) {
      if (state !== "Active") continue;
      const peer = this.peerById(Number(peerId));
      const store = peer?.up === true ? peer.shard(collection, shardId) : undefined;
      if (store !== undefined) stores.push(store);
      else missed.push(Number(peerId));
    }
    if (stores.length === 0) {
      throw serviceError(`The replica set for shard ${shardId} on peer ${via.id} has no active replica`);
    }
    if (missed.length > 0) {
      this.commit((s) => {
        const shard = s.collections[collection]?.shards[String(shardId)];
        if (shard !== undefined) for (const id of missed) shard[String(id)] = "Dead";
      });
    }
    return stores;
  }

  /** Copies a replica's data onto another peer's replica (an instant shard transfer). */
  copyShard(collection: string, shardId: number, from: PeerNode, to: PeerNode): void {
    const source = from.shard(collection, shardId);
    const target = to.ensureShard(collection, shardId);
    if (source === undefined || source === target) return;
    const tmp = path.join(to.tmpDir, `transfer-${randomUUID()}.bin`);
    fs.copyFileSync(source.file, tmp);
    target.replaceWith(tmp);
    target.lastVersion = Math.max(target.lastVersion, source.lastVersion);
  }

  /** When a peer comes back, its Dead replicas are re-synced from an active one and reactivated. */
  resyncPeer(peer: PeerNode): void {
    const fixes: Array<[string, string]> = [];
    for (const [name, meta] of Object.entries(this.state.collections)) {
      for (const [shardId, replicas] of Object.entries(meta.shards)) {
        if (replicas[String(peer.id)] !== "Dead") continue;
        const sourceId = Object.entries(replicas).find(
          ([id, st]) => st === "Active" && this.peerById(Number(id))?.up === true,
        )?.[0];
        const source = sourceId !== undefined ? this.peerById(Number(sourceId)) : undefined;
        if (source === undefined) continue;
        this.copyShard(name, Number(shardId), source, peer);
        fixes.push([name, shardId]);
      }
    }
    if (fixes.length > 0) {
      this.commit((s) => {
        for (const [name, shardId] of fixes) {
          const shard = s.collections[name]?.shards[shardId];
          if (shard !== undefined) shard[String(peer.id)] = "Active";
        }
      });
    }
  }

  close(): void {
    this.recoverySettle.close();
    for (const peer of this.peers) peer.closeAll();
  }
}
