/**
 * Resolving an intent a killed run of a backup left (pending-markers.ts): the one function both the
 * Job's next run (peer-snapshots.ts cleanUpEarlierRun) and the failed backup's sweep
 * (src/controllers/backup/sweep.ts) call, after they have dealt with the markers listed beside it.
 *
 * 1. A marker of this backup on the intent's peer: the create the intent announced returned and was
 *    marked (crash window backup-job.marker-written-before-intent-deleted; one run writes one intent per
 *    peer, and a run starts only once the earlier run's are resolved). The intent is deleted, Qdrant not asked.
 * 2. Otherwise the peer's snapshots of the scope are listed and the candidates picked by the pure rule
 *    (src/qdrant/snapshot-names.ts intentCandidates): exactly one is the killed run's, and is deleted;
 *    none, nothing to do; several, none is deleted (a person's may be among them: never delete what
 *    cannot be told to be ours) and the caller warns with their names. Then the intent is deleted.
 *
 * Why one candidate is ours: the Job's retries of one backup take turns with every other backup of the
 * same Qdrant (src/controllers/backup/one-at-a-time.ts), so between the intent and the window's end no
 * other backup's Job creates snapshots there (the sweep holds no turn, so its window ends when the backup
 * was marked Failed: see sweep.ts); only a person could.
 *
 * The intent's peer URL is never followed, as a marker's (knownPeerUrl): a peer the caller does not know
 * is `UnknownPeer`, the intent kept, and the caller decides (the Job leaves it for the sweep, which
 * drops it).
 *
 * Idempotent: the intent is deleted last, so a resolver that stops half-way is redone by the next.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { isOperatorError } from "../../errors.ts";
import type { QdrantApi } from "../../qdrant/client.ts";
import type { CallOptions } from "../../qdrant/rest.ts";
import { intentCandidates } from "../../qdrant/snapshot-names.ts";
import type { SnapshotScope } from "../../qdrant/snapshots.ts";
import { deleteMarker, knownPeerUrl, type PendingIntent, type PendingMarker } from "./pending-markers.ts";

export type IntentOutcome =
  /** A marker of this backup on that peer already accounts for the create. */
  | { kind: "Marked" }
  | { kind: "Deleted"; snapshot: string; existed: boolean }
  | { kind: "None" }
  | { kind: "Ambiguous"; snapshots: string[] }
  /** The collection is gone from Qdrant: its snapshots cannot be listed (nor deleted) through the API. */
  | { kind: "NoCollection" }
  | { kind: "UnknownPeer" };

export interface ResolveIntentDeps {
  s3: S3Client;
  bucket: string;
  /** The backup's connection (key, TLS); `.at(url)` of a known peer. */
  qdrant: QdrantApi;
  /** The peers the caller found itself (the run's holders, or the connection's). */
  peers: ReadonlyArray<{ id: string; url: string }>;
  /** The markers listed beside the intent (as listed, before any was deleted). */
  markers: readonly PendingMarker[];
  /** The window's end: the resolver's now in the Job; when the backup was marked Failed in the sweep. */
  until: Date;
  signal?: AbortSignal;
}

export function intentScope(p: { collection?: string }): SnapshotScope {
  return p.collection === undefined ? { fullStorage: true } : { collection: p.collection };
}

export async function resolveIntent(intent: PendingIntent, deps: ResolveIntentDeps): Promise<IntentOutcome> {
  const { s3, bucket, markers, signal } = deps;
  const scope = intentScope(intent);
  const onPeer = markers.filter((m) => m.peerId === intent.peerId && m.collection === intent.collection);
  if (onPeer.length > 0) {
    await deleteMarker(s3, bucket, intent.key);
    return { kind: "Marked" };
  }
  const url = knownPeerUrl(deps.peers, intent);
  if (url === undefined) return { kind: "UnknownPeer" };
  const opts: CallOptions = signal ? { signal } : {};
  const peer = deps.qdrant.at(url);
  let listed: string[];
  try {
    listed = await peer.listSnapshots(scope, opts);
  } catch (err) {
    if (!isOperatorError(err, "QDRANT_NOT_FOUND") || "fullStorage" in scope) throw err;
    await deleteMarker(s3, bucket, intent.key);
    return { kind: "NoCollection" };
  }
  const candidates = intentCandidates({ scope, peerId: intent.peerId, notBefore: new Date(intent.notBefore), until: deps.until }, listed, new Set(markers.map((m) => m.snapshot)));
  let out: IntentOutcome;
  if (candidates.length === 1) {
    const snapshot = candidates[0]!;
    out = { kind: "Deleted", snapshot, existed: await peer.deleteSnapshot(scope, snapshot, opts) };
  } else out = candidates.length === 0 ? { kind: "None" } : { kind: "Ambiguous", snapshots: candidates };
  await deleteMarker(s3, bucket, intent.key);
  return out;
}
