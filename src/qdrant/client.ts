/**
 * The operator's one Qdrant adapter: a QdrantApi is one REST address (a connection's URL, or one peer's
 * own URL through `at`) with the connection's key, TLS and timeout. The manager (connection check, sweep
 * of failed backups, the restore and rollout controllers) and the Jobs (backup; restore upload and rollout
 * copy) all call Qdrant through it.
 *
 * Two transports underneath, chosen per call:
 * - @qdrant/js-client-rest (js-client.ts) for collections, aliases and points (count, query, upsert, scroll);
 * - raw undici (rest.ts, snapshots.ts) where js-client cannot: snapshot streams, `/cluster` and
 *   `/collections/{c}/cluster` (u64 peer ids kept as exact text), and calls with no client-side timeout.
 *
 * A name that goes into a URL path is refused when it is `.`, `..` or empty and percent-encoded otherwise
 * (path.ts): no call ever resolves to another endpoint (`/collections/../snapshots`).
 *
 * Every call takes an optional AbortSignal, combined with the call's own timeout and with the signal the
 * object was bound to (`withSignal`): a reconcile binds its signal once, so a manager that lost its lease
 * stops every call it has in flight. An aborted call rejects with the signal's reason (see CallOptions).
 *
 * What backups use; what restores use: recovery from a URL (`PUT /collections/{c}/snapshots/recover`)
 * and from a streamed multipart upload (`POST /collections/{c}/snapshots/upload?priority=&checksum=`),
 * both raw (recover.ts) and with no client-side timeout, as createSnapshot; Qdrant's refusals there
 * coded SNAPSHOT_CHECKSUM_MISMATCH and TARGET_INCOMPATIBLE; and the calls restores and rollouts need
 * that js-client makes trivially (create/delete collection, one-request alias switch, count, query,
 * upsert, scroll).
 */
import type { Readable } from "node:stream";
import type { Schemas } from "@qdrant/js-client-rest";
import { openApiFor, viaJsClient, type OpenApi } from "./js-client.ts";
import { collectionPath } from "./path.ts";
import { CallDeadline, qdrantJson, type CallOptions, type QdrantEndpoint, type RawCallOptions } from "./rest.ts";
import { recoverSnapshot, uploadSnapshot, type RecoverFromUrl, type UploadMeta } from "./recover.ts";
import { createSnapshot, deleteSnapshot, downloadSnapshot, listSnapshots, type SnapshotDescription, type SnapshotDownload, type SnapshotScope } from "./snapshots.ts";

export type { RecoverFromUrl, RecoverPriority, UploadMeta } from "./recover.ts";

/** GET /cluster: whether the deployment is distributed, this peer's id, and every peer's p2p URI. */
export interface ClusterStatus {
  status: "enabled" | "disabled";
  /** Exact decimal text. */
  peer_id?: string;
  peers?: Record<string, { uri: string }>;
}

/** GET /collections/{c}/cluster: where the collection's shards are, seen from this peer. */
export interface CollectionCluster {
  /** This peer's id, exact decimal text. */
  peerId: string;
  /** Shards this peer holds a replica of, by id. */
  localShards: Array<{ shardId: number; pointsCount: number; state: string }>;
  /** Replicas on other peers. */
  remoteShards: Array<{ shardId: number; peerId: string; state: string }>;
}

export interface Alias {
  alias: string;
  collection: string;
}

/** One action of an alias switch; a list of them is applied by Qdrant in one request. */
export type AliasAction = Schemas["AliasOperations"];
export type CollectionConfig = Schemas["CreateCollection"];
export type QueryRequest = Schemas["QueryRequest"];
export type QueryResponse = Schemas["QueryResponse"];
export type Filter = Schemas["Filter"];
export type PointStruct = Schemas["PointStruct"];
export type ScrollRequest = Schemas["ScrollRequest"];
export type ScrollResult = Schemas["ScrollResult"];

export class QdrantApi {
  readonly endpoint: QdrantEndpoint;
  readonly #bound: AbortSignal | undefined;
  #openApi: OpenApi | undefined;
  /** `at` is called per call on a peer; one object (and one js-client) per address. */
  readonly #peers = new Map<string, QdrantApi>();

  constructor(endpoint: QdrantEndpoint, signal?: AbortSignal) {
    this.endpoint = { ...endpoint, url: endpoint.url.replace(/\/+$/, "") };
    this.#bound = signal;
  }

  /** The REST base URL, without a trailing slash. */
  get url(): string {
    return this.endpoint.url;
  }

  /** The same key, TLS, timeout and bound signal, at another REST address (one peer's own URL). */
  at(url: string): QdrantApi {
    const key = url.replace(/\/+$/, "");
    if (key === this.url) return this;
    let peer = this.#peers.get(key);
    if (!peer) this.#peers.set(key, (peer = new QdrantApi({ ...this.endpoint, url: key }, this.#bound)));
    return peer;
  }

  /** The same address, every call also stopped by `signal` (a reconcile's). */
  withSignal(signal: AbortSignal | undefined): QdrantApi {
    if (signal === undefined) return this;
    return new QdrantApi(this.endpoint, this.#bound ? AbortSignal.any([this.#bound, signal]) : signal);
  }

  // --- service (raw) ---

  /** GET /: the version Qdrant reports. */
  async version(opts: CallOptions = {}): Promise<string> {
    return (await qdrantJson<{ version: string }>(this.endpoint, "GET", "/", undefined, this.#raw(opts))).version;
  }

  /** GET /cluster, raw so that `peer_id` keeps its exact decimal text. */
  clusterStatus(opts: CallOptions = {}): Promise<ClusterStatus> {
    return qdrantJson<ClusterStatus>(this.endpoint, "GET", "/cluster", undefined, this.#raw(opts));
  }

  /**
   * This peer's id: from GET /cluster when distributed; a standalone Qdrant (cluster disabled) reports its
   * id only per collection, so the first collection's placement gives it, and "0" stands for a standalone
   * Qdrant with no collection at all (nothing in a backup of it depends on the id).
   */
  async peerId(opts: CallOptions = {}): Promise<string> {
    const r = await this.clusterStatus(opts);
    if (r.status === "enabled" && r.peer_id !== undefined) return String(r.peer_id);
    const [first] = await this.listCollections(opts);
    return first === undefined ? "0" : (await this.collectionCluster(first, opts)).peerId;
  }

  // --- collections ---

  async listCollections(opts: CallOptions = {}): Promise<string[]> {
    const r = await this.#js(opts, "GET", "/collections", (api, init) => api.getCollections({}, init));
    return r.collections.map((c) => c.name);
  }

  async collectionExists(collection: string, opts: CallOptions = {}): Promise<boolean> {
    const r = await this.#js(opts, "GET", `${collectionPath(collection)}/exists`, (api, init) => api.collectionExists({ collection_name: collection }, init));
    return r.exists;
  }

  /** GET /collections/{c}: the collection's info (status, counts, config). */
  async collectionInfo(collection: string, opts: CallOptions = {}): Promise<Schemas["CollectionInfo"]> {
    return this.#js(opts, "GET", collectionPath(collection), (api, init) => api.getCollection({ collection_name: collection }, init));
  }

  /** The collection's config as Qdrant reports it (what a backup's manifest keeps). */
  async collectionConfig(collection: string, opts: CallOptions = {}): Promise<Record<string, unknown>> {
    return (await this.collectionInfo(collection, opts)).config ?? {};
  }

  /** PUT /collections/{c}. Qdrant refuses (409) a name that exists. */
  async createCollection(collection: string, config: CollectionConfig, opts: CallOptions = {}): Promise<void> {
    await this.#js(opts, "PUT", collectionPath(collection), (api, init) => api.createCollection({ collection_name: collection, ...config }, init));
  }

  /** DELETE /collections/{c}; false when there was no such collection. */
  async deleteCollection(collection: string, opts: CallOptions = {}): Promise<boolean> {
    return this.#js(opts, "DELETE", collectionPath(collection), (api, init) => api.deleteCollection({ collection_name: collection }, init));
  }

  /**
   * PATCH /collections/{c} with `metadata` only: Qdrant merges the keys into the collection's metadata (a
   * key set to null is removed). What a rollout's copy Job records its progress with, and the controller
   * stamps a restored green with (src/controllers/rollout/names.ts).
   */
  async updateCollectionMetadata(collection: string, metadata: Record<string, unknown>, opts: CallOptions = {}): Promise<void> {
    await this.#js(opts, "PATCH", collectionPath(collection), (api, init) => api.updateCollection({ collection_name: collection, metadata }, init));
  }

  /** The collection's metadata (Qdrant ≥ 1.16 reports it in the config); {} when it has none. */
  async collectionMetadata(collection: string, opts: CallOptions = {}): Promise<Record<string, unknown>> {
    const config = (await this.collectionInfo(collection, opts)).config as { metadata?: Record<string, unknown> | null } | undefined;
    return config?.metadata ?? {};
  }

  /** GET /collections/{c}/cluster, raw so that peer ids keep their exact decimal text. */
  async collectionCluster(collection: string, opts: CallOptions = {}): Promise<CollectionCluster> {
    const r = await qdrantJson<{
      peer_id: string;
      local_shards: Array<{ shard_id: number; points_count?: number; state: string }>;
      remote_shards?: Array<{ shard_id: number; peer_id: string; state: string }>;
    }>(this.endpoint, "GET", `${collectionPath(collection)}/cluster`, undefined, this.#raw(opts));
    return {
      peerId: String(r.peer_id),
      localShards: r.local_shards.map((s) => ({ shardId: s.shard_id, pointsCount: s.points_count ?? 0, state: s.state })).sort((a, b) => a.shardId - b.shardId),
      remoteShards: (r.remote_shards ?? []).map((s) => ({ shardId: s.shard_id, peerId: String(s.peer_id), state: s.state })),
    };
  }

  // --- aliases ---

  async listAliases(opts: CallOptions = {}): Promise<Alias[]> {
    const r = await this.#js(opts, "GET", "/aliases", (api, init) => api.getCollectionsAliases({}, init));
    return r.aliases.map((a) => ({ alias: a.alias_name, collection: a.collection_name }));
  }

  /**
   * POST /collections/aliases: every action in ONE request, which is how an alias switches with no moment
   * without it (`[delete_alias, create_alias]`, or one `create_alias`, which re-points). Qdrant applies the
   * actions in order and not as a transaction: a failing action leaves the ones before it applied.
   */
  async updateAliases(actions: AliasAction[], opts: CallOptions = {}): Promise<void> {
    await this.#js(opts, "POST", "/collections/aliases", (api, init) => api.updateAliases({ actions }, init));
  }

  /**
   * What a name is on this Qdrant: a collection (exists), an alias (aliasOf: the collection behind it),
   * or free. What a restore asks about its target, in the manager before its Job and in the Job again
   * right before it acts; a name that is an alias must never be recovered into.
   */
  async nameState(name: string, opts: CallOptions = {}): Promise<{ exists: boolean; aliasOf?: string }> {
    const [aliases, exists] = await Promise.all([this.listAliases(opts), this.collectionExists(name, opts)]);
    const alias = aliases.find((a) => a.alias === name);
    return { exists, ...(alias ? { aliasOf: alias.collection } : {}) };
  }

  // --- points ---

  /** PUT /collections/{c}/points?wait=true: the points are applied when this returns (a rollout's copy). */
  async upsert(collection: string, points: PointStruct[], opts: CallOptions = {}): Promise<void> {
    await this.#js(opts, "PUT", `${collectionPath(collection)}/points`, (api, init) => api.upsertPoints({ collection_name: collection, wait: true, points }, init));
  }

  /** POST /collections/{c}/points/scroll: one page; `next_page_offset` continues it. */
  async scroll(collection: string, request: ScrollRequest, opts: CallOptions = {}): Promise<ScrollResult> {
    return this.#js(opts, "POST", `${collectionPath(collection)}/points/scroll`, (api, init) => api.scrollPoints({ collection_name: collection, ...request }, init));
  }

  /** POST /collections/{c}/points/count; exact unless asked otherwise. */
  async count(collection: string, query: { exact?: boolean; filter?: Filter } = {}, opts: CallOptions = {}): Promise<number> {
    const r = await this.#js(opts, "POST", `${collectionPath(collection)}/points/count`, (api, init) =>
      api.countPoints({ collection_name: collection, exact: query.exact ?? true, ...(query.filter ? { filter: query.filter } : {}) }, init),
    );
    return r.count;
  }

  /** POST /collections/{c}/points/query: the Query API (what a rollout's gates and a drill's check run). */
  async query(collection: string, request: QueryRequest, opts: CallOptions = {}): Promise<QueryResponse> {
    return this.#js(opts, "POST", `${collectionPath(collection)}/points/query`, (api, init) => api.queryPoints({ collection_name: collection, ...request }, init));
  }

  // --- snapshots on this peer (raw) ---

  /** Creates a snapshot here, with no client-side timeout. */
  createSnapshot(scope: SnapshotScope, opts: CallOptions = {}): Promise<SnapshotDescription> {
    return createSnapshot(this.endpoint, scope, this.#raw(opts));
  }

  /** The names of the snapshots of `scope` here; QDRANT_NOT_FOUND for an unknown collection. */
  listSnapshots(scope: SnapshotScope, opts: CallOptions = {}): Promise<string[]> {
    return listSnapshots(this.endpoint, scope, this.#raw(opts));
  }

  /** Deletes a snapshot here; false when it was already gone. */
  deleteSnapshot(scope: SnapshotScope, name: string, opts: CallOptions = {}): Promise<boolean> {
    return deleteSnapshot(this.endpoint, scope, name, this.#raw(opts));
  }

  /** Starts a download of a snapshot made here; the body ends, or errors, with the peer or the signal. */
  downloadSnapshot(scope: SnapshotScope, name: string, opts: CallOptions = {}): Promise<SnapshotDownload> {
    return downloadSnapshot(this.endpoint, scope, name, this.#raw(opts));
  }

  // --- recovery on this peer (raw, no client-side timeout) ---

  /**
   * PUT /collections/{c}/snapshots/recover?wait=true: this peer downloads `location` (a presigned URL)
   * and recovers it; creates the collection (cluster-wide) when it does not exist. A checksum that
   * differs is SNAPSHOT_CHECKSUM_MISMATCH and a target whose vectors or shard number differ is
   * TARGET_INCOMPATIBLE, both refused before anything changed.
   */
  recoverSnapshot(collection: string, req: RecoverFromUrl, opts: CallOptions = {}): Promise<void> {
    return recoverSnapshot(this.endpoint, collection, req, this.#raw(opts));
  }

  /**
   * POST /collections/{c}/snapshots/upload?wait=true: streams `body` (exactly `meta.size` bytes) to
   * this peer as a multipart upload and waits for it to recover. The request is aborted, incomplete,
   * when the body is shorter or longer than `meta.size` (SNAPSHOT_CORRUPT), when the source errors, or
   * when `meta.beforeEnd` rejects; errors as recoverSnapshot's otherwise.
   */
  uploadSnapshot(collection: string, body: Readable | AsyncIterable<Uint8Array>, meta: UploadMeta, opts: CallOptions = {}): Promise<{ bytes: number }> {
    return uploadSnapshot(this.endpoint, collection, body, meta, this.#raw(opts));
  }

  #raw(opts: CallOptions): RawCallOptions {
    return { ...(opts.signal ? { signal: opts.signal } : {}), ...(this.#bound ? { bound: this.#bound } : {}) };
  }

  #js<T>(opts: CallOptions, method: string, path: string, send: (api: OpenApi, init: RequestInit) => Promise<{ data: { result?: T } }>): Promise<T> {
    this.#openApi ??= openApiFor(this.endpoint);
    const api = this.#openApi;
    return viaJsClient(this.endpoint, new CallDeadline(this.endpoint.timeoutMs, opts.signal, this.#bound), { method, path, send: (init) => send(api, init) });
  }
}
