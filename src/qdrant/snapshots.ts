/**
 * Snapshot deletion on one peer, shared by the backup Job (its own snapshots, as it goes) and the
 * manager's sweep of a failed backup (the snapshots a killed run's markers name). Snapshots are per peer,
 * so `ep.url` is that peer's own REST URL, never a load-balanced Service.
 */
import { isOperatorError } from "../errors.ts";
import type { KeyScope } from "../backup/layout/object-keys.ts";
import { qdrantJson, type QdrantEndpoint } from "./rest.ts";

/** Whose snapshot: one collection's (`/collections/{c}/snapshots`) or the whole storage's (`/snapshots`). */
export type SnapshotScope = KeyScope;

export function snapshotsPath(scope: SnapshotScope): string {
  return "fullStorage" in scope ? "/snapshots" : `/collections/${encodeURIComponent(scope.collection)}/snapshots`;
}

/** Which scope, in words for logs and messages. */
export function scopeName(scope: SnapshotScope): string {
  return "fullStorage" in scope ? "the full storage" : `collection "${scope.collection}"`;
}

/** Deletes a snapshot; false when it was already gone (a retry, or someone else deleted it). */
export async function deleteSnapshot(ep: QdrantEndpoint, scope: SnapshotScope, name: string): Promise<boolean> {
  try {
    await qdrantJson<boolean>(ep, "DELETE", `${snapshotsPath(scope)}/${encodeURIComponent(name)}?wait=true`);
    return true;
  } catch (err) {
    if (isOperatorError(err, "QDRANT_NOT_FOUND")) return false;
    throw err;
  }
}
