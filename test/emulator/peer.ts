/**
 * One emulated Qdrant peer: its id, its address (peer i on 127.0.0.(i+1), as a StatefulSet pod has its own
 * host), its own storage/snapshots/tmp directories and the shard replicas it holds locally.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ShardStore } from "./shard-store.ts";

export interface PeerStats {
  snapshotCreationRunning: Map<string, number>;
  snapshotRecoveryRunning: Map<string, number>;
  snapshotCreatedTotal: Map<string, number>;
  /** "METHOD /route/template" → status → count. */
  responses: Map<string, Map<number, number>>;
}

export class PeerNode {
  readonly index: number;
  readonly id: number;
  readonly host: string;
  port: number;
  readonly dir: string;
  readonly storageDir: string;
  readonly snapshotsDir: string;
  readonly tmpDir: string;
  up = true;
  /** How often the peer was taken down: a request begun before the last time belongs to a dead process. */
  downs = 0;
  readonly stats: PeerStats = {
    snapshotCreationRunning: new Map(),
    snapshotRecoveryRunning: new Map(),
    snapshotCreatedTotal: new Map(),
    responses: new Map(),
  };
  private readonly shards = new Map<string, Map<number, ShardStore>>();

  constructor(index: number, id: number, host: string, port: number, dir: string) {
    this.index = index;
    this.id = id;
    this.host = host;
    this.port = port;
    this.dir = dir;
    this.storageDir = path.join(dir, "storage");
    this.snapshotsDir = path.join(dir, "snapshots");
    this.tmpDir = path.join(dir, "tmp");
    for (const d of [this.storageDir, this.snapshotsDir, this.tmpDir]) fs.mkdirSync(d, { recursive: true });
  }

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  /** Qdrant's internal (p2p) port is the REST port + 2 by default (6333 → 6335). */
  get p2pUri(): string {
    return `http://${this.host}:${this.port + 2}/`;
  }

  collectionDir(collection: string): string {
    return path.join(this.storageDir, "collections", collection);
  }

  shardFile(collection: string, shardId: number): string {
    return path.join(this.collectionDir(collection), String(shardId), "points.bin");
  }

  shard(collection: string, shardId: number): ShardStore | undefined {
    return this.shards.get(collection)?.get(shardId);
  }

  localShardIds(collection: string): number[] {
    return [...(this.shards.get(collection)?.keys() ?? [])].sort((a, b) => a - b);
  }

  ensureShard(collection: string, shardId: number): ShardStore {
    let byId = this.shards.get(collection);
    if (byId === undefined) {
      byId = new Map();
      this.shards.set(collection, byId);
    }
    let store = byId.get(shardId);
    if (store === undefined) {
      store = ShardStore.open(this.shardFile(collection, shardId));
      byId.set(shardId, store);
    }
    return store;
  }

  dropShard(collection: string, shardId: number): void {
    const byId = this.shards.get(collection);
    const store = byId?.get(shardId);
    if (store !== undefined) store.close();
    byId?.delete(shardId);
    fs.rmSync(path.dirname(this.shardFile(collection, shardId)), { recursive: true, force: true });
  }

  dropCollection(collection: string): void {
    for (const store of this.shards.get(collection)?.values() ?? []) store.close();
    this.shards.delete(collection);
    fs.rmSync(this.collectionDir(collection), { recursive: true, force: true });
  }

  /** Collections that have local data, including ones consensus no longer knows (to clean them up). */
  collectionsWithData(): string[] {
    const dir = path.join(this.storageDir, "collections");
    return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  }

  closeAll(): void {
    for (const byId of this.shards.values()) for (const store of byId.values()) store.close();
    this.shards.clear();
  }
}
