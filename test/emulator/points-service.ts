/**
 * Point operations over a collection spread across shards and peers: every write is routed to the shard
 * that owns the id and applied to each active replica; every read merges one replica per shard, so any peer
 * sees the whole collection, as in Qdrant.
 */
import type { Cluster } from "./cluster.ts";
import { vectorSpecs, type Json } from "./collection-config.ts";
import { badInput, formatError, notFound } from "./errors.ts";
import { matchesFilter } from "./filter.ts";
import type { PeerNode } from "./peer.ts";
import { compareKeys, keyToId, parsePointId, pointKey, shardOf, type PointId } from "./point-id.ts";
import { decodePoint, encodePoint, prepareVectors, recordOut, withSelected, type StoredPoint } from "./point-format.ts";
import { higherIsBetter, passesThreshold, prepareVector, score } from "./scoring.ts";
import type { ShardStore } from "./shard-store.ts";

export interface UpdateResult {
  operation_id: number;
  status: "acknowledged" | "completed";
}

/** A point with its score, before it is rendered as a ScoredPoint. */
export interface ScoredCandidate {
  key: string;
  point: StoredPoint;
  version: number;
  score: number;
}

export interface PointInput {
  id: unknown;
  vector: unknown;
  payload?: unknown;
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A collection as seen through one peer. */
export class CollectionView {
  readonly cluster: Cluster;
  readonly via: PeerNode;
  readonly name: string;

  constructor(cluster: Cluster, via: PeerNode, name: string) {
    this.cluster = cluster;
    this.via = via;
    this.name = name;
  }

  get config() {
    return this.cluster.meta(this.name).config;
  }

  private shardFor(key: string): number {
    return shardOf(key, this.config.params.shard_number);
  }

  /** Applies `fn` to every live replica of the point's shard with one shared version number. */
  private write(key: string, fn: (store: ShardStore, version: number) => void): number {
    const stores = this.cluster.writeStores(this.name, this.shardFor(key), this.via);
    const version = Math.max(...stores.map((s) => s.lastVersion)) + 1;
    for (const store of stores) {
      fn(store, version);
      store.lastVersion = Math.max(store.lastVersion, version);
    }
    return version;
  }

  readPoint(key: string): StoredPoint | undefined {
    const rec = this.cluster.readableStore(this.name, this.shardFor(key), this.via)?.read(key);
    return rec === undefined ? undefined : decodePoint(rec.body);
  }

  readWithVersion(key: string): { point: StoredPoint; version: number } | undefined {
    const rec = this.cluster.readableStore(this.name, this.shardFor(key), this.via)?.read(key);
    return rec === undefined ? undefined : { point: decodePoint(rec.body), version: rec.version };
  }

  /** All live keys, one replica per shard, in Qdrant's id order. */
  allKeys(): string[] {
    const keys: string[] = [];
    for (const shardId of this.cluster.shardIds(this.name)) {
      for (const k of this.cluster.readableStore(this.name, shardId, this.via)?.keys() ?? []) keys.push(k);
    }
    return keys.sort(compareKeys);
  }

  /** Keys of the points matching `filter`, in id order (reads payloads only when there is a filter). */
  matchingKeys(filter: unknown): string[] {
    const keys = this.allKeys();
    if (filter === undefined || filter === null) return keys;
    return keys.filter((key) => {
      const p = this.readPoint(key);
      return p !== undefined && matchesFilter(filter, { key, payload: p.payload, vectorNames: Object.keys(p.vector) });
    });
  }

  count(filter?: unknown): number {
    if (filter === undefined || filter === null) {
      return this.cluster
        .shardIds(this.name)
        .reduce((n, id) => n + (this.cluster.readableStore(this.name, id, this.via)?.count ?? 0), 0);
    }
    return this.matchingKeys(filter).length;
  }

  upsert(points: PointInput[]): UpdateResult {
    const prepared = points.map((p) => {
      const id = parsePointId(p.id);
      if (p.payload !== undefined && p.payload !== null && !isObject(p.payload)) {
        throw formatError("invalid type: expected a map for `payload`");
      }
      const payload = isObject(p.payload) ? p.payload : {};
      return { id, key: pointKey(id), point: { id, vector: prepareVectors(this.config, p.vector), payload } };
    });
    let op = 0;
    for (const p of prepared) {
      const body = encodePoint(p.point);
      op = Math.max(op, this.write(p.key, (store, version) => store.put(p.key, version, body)));
    }
    return { operation_id: op, status: "completed" };
  }

  /** Expands the batch form `{ids, vectors, payloads}` into points. */
  static batchToPoints(batch: unknown): PointInput[] {
    if (!isObject(batch) || !Array.isArray(batch.ids)) throw formatError("missing field `ids`");
    const { ids, vectors, payloads } = batch;
    const payloadList: unknown[] = Array.isArray(payloads) ? (payloads as unknown[]) : [];
    return (ids as unknown[]).map((id, i) => {
      let vector: unknown;
      if (Array.isArray(vectors)) vector = vectors[i];
      else if (isObject(vectors)) {
        const named: Json = {};
        for (const [name, list] of Object.entries(vectors)) if (Array.isArray(list)) named[name] = list[i];
        vector = named;
      } else throw formatError("missing field `vectors`");
      if (vector === undefined) throw badInput("Wrong number of vectors in batch");
      return { id, vector, payload: payloadList[i] ?? undefined };
    });
  }

  /** Resolves a PointsSelector (`{points: [...]}` or `{filter}`) to existing keys. */
  selectKeys(selector: Json): string[] {
    if (Array.isArray(selector.points)) {
      return [...new Set(selector.points.map((id) => pointKey(parsePointId(id))))];
    }
    if ("filter" in selector) return this.matchingKeys(selector.filter);
    throw formatError("data did not match any variant of untagged enum PointsSelector");
  }

  deletePoints(keys: string[]): UpdateResult {
    let op = 0;
    for (const key of keys) op = Math.max(op, this.write(key, (store, version) => store.remove(key, version)));
    return { operation_id: op, status: "completed" };
  }

  /** Rewrites the payload of existing points (set, overwrite, delete keys or clear). */
  updatePayloads(keys: string[], change: (payload: Json) => Json): UpdateResult {
    let op = 0;
    for (const key of keys) {
      const current = this.readPoint(key);
      if (current === undefined) continue;
      const next = { ...current, payload: change(structuredClone(current.payload)) };
      const body = encodePoint(next);
      op = Math.max(op, this.write(key, (store, version) => store.put(key, version, body)));
    }
    return { operation_id: op, status: "completed" };
  }

  retrieve(ids: unknown[], withPayload: unknown, withVector: unknown): Json[] {
    const out: Json[] = [];
    const seen = new Set<string>();
    for (const raw of ids) {
      const key = pointKey(parsePointId(raw));
      if (seen.has(key)) continue;
      seen.add(key);
      const p = this.readPoint(key);
      if (p !== undefined) out.push(recordOut(this.config, key, p, withPayload, withVector));
    }
    return out;
  }

  getOne(id: PointId, displayId: string): Json {
    const key = pointKey(id);
    const p = this.readPoint(key);
    if (p === undefined) throw notFound(`No point with id ${displayId} found`);
    return recordOut(this.config, key, p, true, true);
  }

  scroll(body: Json): { points: Json[]; next_page_offset: PointId | null } {
    const limit = body.limit === undefined || body.limit === null ? 10 : Number(body.limit);
    const withPayload = body.with_payload ?? true;
    const withVector = body.with_vector ?? body.with_vectors ?? false;
    let keys = this.matchingKeys(body.filter);
    if (body.order_by !== undefined && body.order_by !== null) {
      return { points: this.orderedScroll(keys, body.order_by, limit, withPayload, withVector), next_page_offset: null };
    }
    if (body.offset !== undefined && body.offset !== null) {
      const from = pointKey(parsePointId(body.offset));
      keys = keys.filter((k) => compareKeys(k, from) >= 0);
    }
    const page = keys.slice(0, limit);
    const next = keys[limit];
    return {
      points: page.flatMap((k) => {
        const p = this.readPoint(k);
        return p === undefined ? [] : [recordOut(this.config, k, p, withPayload, withVector)];
      }),
      next_page_offset: next === undefined ? null : keyToId(next),
    };
  }

  private orderedScroll(keys: string[], orderBy: unknown, limit: number, withPayload: unknown, withVector: unknown): Json[] {
    const spec = typeof orderBy === "string" ? { key: orderBy } : isObject(orderBy) ? orderBy : {};
    const field = String(spec.key);
    const desc = spec.direction === "desc";
    const rows: Array<{ key: string; p: StoredPoint; value: number }> = [];
    for (const key of keys) {
      const p = this.readPoint(key);
      const raw = p === undefined ? undefined : p.payload[field];
      const value = typeof raw === "number" ? raw : typeof raw === "string" ? Date.parse(raw) : NaN;
      if (p !== undefined && !Number.isNaN(value)) rows.push({ key, p, value });
    }
    rows.sort((a, b) => (desc ? b.value - a.value : a.value - b.value) || compareKeys(a.key, b.key));
    const start = typeof spec.start_from === "number" ? spec.start_from : undefined;
    const filtered = start === undefined ? rows : rows.filter((r) => (desc ? r.value <= start : r.value >= start));
    return filtered.slice(0, limit).map((r) => ({
      ...recordOut(this.config, r.key, r.p, withPayload, withVector),
      order_value: r.value,
    }));
  }

  /** Exact nearest-neighbour search over every point (small collections only). */
  nearest(
    vector: number[],
    using: string,
    opts: { filter?: unknown; limit: number; offset: number; threshold?: number; withPayload: unknown; withVector: unknown },
  ): Json[] {
    const accept = (key: string, point: StoredPoint): boolean =>
      matchesFilter(opts.filter, { key, payload: point.payload, vectorNames: Object.keys(point.vector) });
    return this.scoreNearest(vector, using, undefined, accept, opts.threshold)
      .slice(opts.offset, opts.offset + opts.limit)
      .map((r) => this.scoredOut(r.key, r.point, r.version, r.score, opts.withPayload, opts.withVector));
  }

  /**
   * Scores `keys` (every point when undefined) that `accept` lets through against `vector` on the named
   * vector `using`, best first in the metric's direction; equal scores in id order (Qdrant leaves ties
   * unordered). `threshold` drops points worse than it.
   */
  scoreNearest(
    vector: number[],
    using: string,
    keys: string[] | undefined,
    accept: (key: string, point: StoredPoint) => boolean,
    threshold?: number,
  ): ScoredCandidate[] {
    const spec = vectorSpecs(this.config).get(using);
    if (spec === undefined) throw badInput(`Not existing vector name error: ${using}`);
    if (vector.length !== spec.size) {
      throw badInput(`Vector dimension error: expected dim: ${spec.size}, got ${vector.length}`);
    }
    const query = prepareVector(vector, spec.distance);
    const scored: ScoredCandidate[] = [];
    for (const key of keys ?? this.allKeys()) {
      const rec = this.readWithVersion(key);
      if (rec === undefined || !accept(key, rec.point)) continue;
      const stored = rec.point.vector[using];
      if (!Array.isArray(stored)) continue;
      const s = score(stored as number[], query, spec.distance);
      if (threshold !== undefined && !passesThreshold(s, threshold, spec.distance)) continue;
      scored.push({ key, point: rec.point, version: rec.version, score: s });
    }
    const better = higherIsBetter(spec.distance);
    return scored.sort((a, b) => (better ? b.score - a.score : a.score - b.score) || compareKeys(a.key, b.key));
  }

  scoredOut(key: string, p: StoredPoint, version: number, s: number, withPayload: unknown, withVector: unknown): Json {
    return withSelected({ id: p.id, version, score: s }, this.config, p, withPayload, withVector);
  }
}
