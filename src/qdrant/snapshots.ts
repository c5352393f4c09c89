/**
 * Snapshot calls on one peer, raw HTTP (js-client cannot stream a snapshot file, and its calls always
 * have a timeout): create with no client-side timeout (a large snapshot takes many minutes before Qdrant
 * answers), list, download as a Node stream, delete. Snapshots are per peer, so `ep.url` is that peer's own
 * REST URL, never a load-balanced Service. Reached through QdrantApi (client.ts).
 *
 * The long calls (create, download) are bounded only by the caller's signal, a dead peer (the connection
 * resets) and, in a Job, its activeDeadlineSeconds.
 */
import type { Readable } from "node:stream";
import { isOperatorError } from "../errors.ts";
import type { KeyScope } from "../backup/layout/object-keys.ts";
import { collectionPath, pathSegment } from "./path.ts";
import { qdrantJson, qdrantRequest, type QdrantEndpoint, type RawCallOptions } from "./rest.ts";

/** Whose snapshot: one collection's (`/collections/{c}/snapshots`) or the whole storage's (`/snapshots`). */
export type SnapshotScope = KeyScope;

export interface SnapshotDescription {
  name: string;
  size: number;
  /** Lower-case hex SHA-256, when Qdrant reports one. */
  checksum?: string;
}

export interface SnapshotDownload {
  /** The snapshot's bytes, 256 KiB reads; errors when the peer or the caller's signal cuts it. */
  body: Readable;
  contentLength?: number;
}

export function snapshotsPath(scope: SnapshotScope): string {
  return "fullStorage" in scope ? "/snapshots" : `${collectionPath(scope.collection)}/snapshots`;
}

/** A snapshot's name as a path segment: the name is Qdrant's (from its answer), so a bad one is Qdrant's error. */
function snapshotSegment(name: string): string {
  return pathSegment(name, "snapshot name", "QDRANT_API_ERROR");
}

/** Which scope, in words for logs and messages. */
export function scopeName(scope: SnapshotScope): string {
  return "fullStorage" in scope ? "the full storage" : `collection "${scope.collection}"`;
}

/** POST …/snapshots?wait=true with no client-side timeout: a large snapshot takes as long as it takes. */
export async function createSnapshot(ep: QdrantEndpoint, scope: SnapshotScope, opts: RawCallOptions = {}): Promise<SnapshotDescription> {
  const r = await qdrantJson<SnapshotDescription>(ep, "POST", `${snapshotsPath(scope)}?wait=true`, undefined, { ...opts, noTimeout: true });
  return { name: r.name, size: r.size, ...(r.checksum ? { checksum: r.checksum.toLowerCase() } : {}) };
}

/**
 * GET …/snapshots: the names Qdrant lists here (directory order). An unknown collection is
 * QDRANT_NOT_FOUND, as Qdrant answers.
 */
export async function listSnapshots(ep: QdrantEndpoint, scope: SnapshotScope, opts: RawCallOptions = {}): Promise<string[]> {
  const r = await qdrantJson<Array<{ name?: unknown }>>(ep, "GET", snapshotsPath(scope), undefined, opts);
  return (Array.isArray(r) ? r : []).flatMap((s) => (typeof s?.name === "string" ? [s.name] : []));
}

/** Deletes a snapshot; false when it was already gone (a retry, or someone else deleted it). */
export async function deleteSnapshot(ep: QdrantEndpoint, scope: SnapshotScope, name: string, opts: RawCallOptions = {}): Promise<boolean> {
  try {
    await qdrantJson<boolean>(ep, "DELETE", `${snapshotsPath(scope)}/${snapshotSegment(name)}?wait=true`, undefined, opts);
    return true;
  } catch (err) {
    if (isOperatorError(err, "QDRANT_NOT_FOUND")) return false;
    throw err;
  }
}

/**
 * Starts a snapshot download, with no client-side timeout (hundreds of GiB take as long as they take).
 * undici's `request` (not fetch) so the body is a Node stream of Buffers: no web-stream conversion per
 * chunk on the hot path.
 */
export async function downloadSnapshot(ep: QdrantEndpoint, scope: SnapshotScope, name: string, opts: RawCallOptions = {}): Promise<SnapshotDownload> {
  const res = await qdrantRequest(ep, "GET", `${snapshotsPath(scope)}/${snapshotSegment(name)}`, { ...opts, noTimeout: true, accept: "application/octet-stream" });
  const len = res.headers["content-length"];
  return { body: res.body, ...(typeof len === "string" && /^\d+$/.test(len) ? { contentLength: Number(len) } : {}) };
}
