/**
 * The Qdrant calls the backup Job makes, each on one peer's own REST URL. Two kinds:
 * - ordinary calls (cluster info, counts, config, aliases, deletes) get the plan's timeoutSeconds;
 * - snapshot create and download get no client-side timeout at all (undici headersTimeout and
 *   bodyTimeout 0, no abort signal): creating a large snapshot can take many minutes before Qdrant
 *   answers, and a download of hundreds of GiB takes as long as it takes. A dead peer still ends them
 *   (the connection resets), and the Job's activeDeadlineSeconds bounds the whole run.
 * The JSON calls go through qdrantJson (src/qdrant/rest.ts), which keeps every `peer_id` as its exact
 * decimal text.
 */
import { readFileSync } from "node:fs";
import type { Readable } from "node:stream";
import { Agent, request, type Dispatcher } from "undici";
import { OperatorError } from "../../errors.ts";
import { describeFetchError, qdrantError, qdrantJson, tlsConnectOptions, type QdrantEndpoint } from "../../qdrant/rest.ts";
import { deleteSnapshot as deleteOnPeer, snapshotsPath, type SnapshotScope } from "../../qdrant/snapshots.ts";

export interface QdrantAccess {
  apiKey?: string;
  timeoutMs: number;
  /** Ordinary calls. */
  dispatcher: Dispatcher;
  /** Snapshot create and download: no headers or body timeout. */
  longDispatcher: Dispatcher;
}

export function qdrantAccess(opts: { apiKey?: string; timeoutSeconds: number; caFile?: string; serverName?: string; insecureSkipVerify?: boolean }): QdrantAccess {
  const connect = tlsConnectOptions({
    ...(opts.caFile ? { caPem: readFileSync(opts.caFile, "utf8") } : {}),
    ...(opts.serverName ? { serverName: opts.serverName } : {}),
    ...(opts.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
  });
  return {
    ...(opts.apiKey ? { apiKey: opts.apiKey } : {}),
    timeoutMs: opts.timeoutSeconds * 1000,
    dispatcher: new Agent({ connect }),
    longDispatcher: new Agent({ connect, headersTimeout: 0, bodyTimeout: 0 }),
  };
}

export interface SnapshotDescription {
  name: string;
  size: number;
  checksum?: string;
}

export interface CollectionPlacement {
  peerId: string;
  localShardIds: number[];
}

const enc = encodeURIComponent;

export async function listCollections(access: QdrantAccess, url: string): Promise<string[]> {
  const r = await call<{ collections: Array<{ name: string }> }>(access, url, "GET", "/collections");
  return r.collections.map((c) => c.name);
}

export async function listAliases(access: QdrantAccess, url: string): Promise<Array<{ alias: string; collection: string }>> {
  const r = await call<{ aliases: Array<{ alias_name: string; collection_name: string }> }>(access, url, "GET", "/aliases");
  return r.aliases.map((a) => ({ alias: a.alias_name, collection: a.collection_name }));
}

/** GET /collections/{c}: the collection's info; the manifest keeps its `config`. */
export async function collectionConfig(access: QdrantAccess, url: string, collection: string): Promise<Record<string, unknown>> {
  const r = await call<{ config?: Record<string, unknown> }>(access, url, "GET", `/collections/${enc(collection)}`);
  return r.config ?? {};
}

export async function countExact(access: QdrantAccess, url: string, collection: string): Promise<number> {
  const r = await call<{ count: number }>(access, url, "POST", `/collections/${enc(collection)}/points/count`, { body: { exact: true } });
  return r.count;
}

/** Which shards of the collection this peer holds a replica of, and the peer's id. */
export async function collectionPlacement(access: QdrantAccess, url: string, collection: string): Promise<CollectionPlacement> {
  const r = await call<{ peer_id: string; local_shards: Array<{ shard_id: number }> }>(access, url, "GET", `/collections/${enc(collection)}/cluster`);
  return { peerId: String(r.peer_id), localShardIds: r.local_shards.map((s) => s.shard_id).sort((a, b) => a - b) };
}

/**
 * This peer's id: from GET /cluster when distributed; a standalone Qdrant (cluster disabled) reports its
 * id only per collection, so the first collection's placement gives it, and "0" stands for a standalone
 * Qdrant with no collection at all (nothing in a backup of it depends on the id).
 */
export async function peerIdOf(access: QdrantAccess, url: string): Promise<string> {
  const r = await call<{ status: string; peer_id?: string }>(access, url, "GET", "/cluster");
  if (r.status === "enabled" && r.peer_id !== undefined) return String(r.peer_id);
  const [first] = await listCollections(access, url);
  return first === undefined ? "0" : (await collectionPlacement(access, url, first)).peerId;
}

/** POST …/snapshots?wait=true with no client-side timeout: a large snapshot takes as long as it takes. */
export async function createSnapshot(access: QdrantAccess, url: string, scope: SnapshotScope): Promise<SnapshotDescription> {
  const r = await call<SnapshotDescription>(access, url, "POST", `${snapshotsPath(scope)}?wait=true`, { long: true });
  return { name: r.name, size: r.size, ...(r.checksum ? { checksum: r.checksum.toLowerCase() } : {}) };
}

/** Deletes a snapshot on this peer; false when it was already gone. */
export function deleteSnapshot(access: QdrantAccess, url: string, scope: SnapshotScope, name: string): Promise<boolean> {
  return deleteOnPeer(endpoint(access, url, false), scope, name);
}

/**
 * Starts a snapshot download. undici's `request` (not fetch) so the body is a Node stream of Buffers:
 * no web-stream conversion per chunk on the hot path, and 1 MiB reads.
 */
export async function downloadSnapshot(access: QdrantAccess, url: string, scope: SnapshotScope, name: string): Promise<{ body: Readable; contentLength?: number }> {
  const path = `${snapshotsPath(scope)}/${enc(name)}`;
  const headers: Record<string, string> = { accept: "application/octet-stream" };
  if (access.apiKey) headers["api-key"] = access.apiKey;
  let res: Dispatcher.ResponseData;
  try {
    res = await request(`${url}${path}`, { method: "GET", headers, dispatcher: access.longDispatcher, highWaterMark: 256 * 1024 });
  } catch (err) {
    throw new OperatorError("QDRANT_UNREACHABLE", `GET ${url}${path}: ${describeFetchError(err)}`, { cause: err });
  }
  if (res.statusCode !== 200) throw qdrantError(res.statusCode, await res.body.text(), `GET ${url}${path}`);
  const len = res.headers["content-length"];
  return { body: res.body, ...(typeof len === "string" && /^\d+$/.test(len) ? { contentLength: Number(len) } : {}) };
}

interface CallOptions {
  body?: unknown;
  /** Snapshot create: no client-side timeout (the long dispatcher has none either). */
  long?: boolean;
}

function endpoint(access: QdrantAccess, url: string, long: boolean): QdrantEndpoint {
  return { url, timeoutMs: long ? 0 : access.timeoutMs, dispatcher: long ? access.longDispatcher : access.dispatcher, ...(access.apiKey ? { apiKey: access.apiKey } : {}) };
}

function call<T>(access: QdrantAccess, url: string, method: string, path: string, opts: CallOptions = {}): Promise<T> {
  return qdrantJson<T>(endpoint(access, url, opts.long === true), method, path, opts.body);
}
