/**
 * The sweep after a backup's Job has failed for good. Each run of the Job cleans up after itself, and a
 * retry cleans up after a killed run (pending markers); what is left is the last run's mess when that run
 * was killed (OOM, node loss, activeDeadlineSeconds) and no retry followed:
 * - node-local snapshots named by the run's pending markers: deleted on their own peers, then the markers.
 *   Only snapshots a marker of this backup names are touched, never someone else's; and only on a peer
 *   the connection itself lists (by the marker's peer id, or its URL among the connection's peers): a
 *   marker is an object in the bucket, and whoever can write the bucket must not be able to send the
 *   connection's API key to a host of their choosing. A marker naming an unknown peer is dropped and
 *   counted in `unknownPeerSnapshots`, its snapshot left for a person;
 * - intents of creates the last run was killed in (src/backup/store/resolve-intent.ts, the same function
 *   the Job's next run calls): the one snapshot of the scope on that peer named in the intent's time
 *   window is deleted (counted in `snapshots`); several, none is, and their names go to
 *   `ambiguousSnapshots`; an intent naming a peer the connection does not list is dropped and counted in
 *   `unknownPeerIntents`. Unlike in the Job, no turn is held here: the next backup of the same Qdrant
 *   may already run. So the window ends at `until`, when the backup was marked Failed (cleanup.ts), after
 *   which alone that backup can snapshot: only one that snapshotted the same scope on the same peer
 *   within the skew (30 s) of it, when the killed create made nothing, could be taken for the killed run's;
 * - multipart uploads under the backup's directories: aborted (invisible to listings, but billed);
 * - snapshot objects in a directory without a manifest: an incomplete backup, deleted. A directory
 *   with a manifest is a complete backup of that collection (a multi-collection backup can fail after
 *   some collections were done) and is kept: it restores, and retention or deletionPolicy decide its end.
 *
 * On an Object Lock location (`versioned`) the incomplete objects are deleted by version (every version
 * and delete marker of the directory, the unlocked pending markers' included), unless S3 still retains
 * one: then the directory is left whole and counted in `lockedObjects`/`lockedUntil` (not an error: the
 * backup's own deletion, by retention or deletionPolicy Delete, removes it after the date).
 *
 * Runs only once the Job is Failed, when none of its pods runs any more, so it never races a writer.
 * Idempotent: markers are deleted only after their snapshot is, so a sweep that stops half-way (Qdrant
 * unreachable, a crash, the reconcile's signal) is finished by the next one.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { MANIFEST_FILE } from "../../backup/layout/object-keys.ts";
import { deleteMarker, knownPeerUrl, listPending, PENDING_DIR } from "../../backup/store/pending-markers.ts";
import { resolveIntent } from "../../backup/store/resolve-intent.ts";
import type { QdrantApi } from "../../qdrant/client.ts";
import type { Peer } from "../../qdrant/peers.ts";
import { latestRetainUntil } from "../../backup/retention/lock-until.ts";
import { deleteObjectVersions, listObjectVersions, listVersionPrefixes } from "../../s3/object-lock.ts";
import { abortDirUploads, backupDirs, deleteKeys, listKeys, retentionVerdict, type BackupDataRef, type VersionedDelete } from "./delete-data.ts";

export interface SweepResult {
  /** Node-local snapshots deleted (those already gone are not counted). */
  snapshots: number;
  markers: number;
  abortedUploads: number;
  /** Objects of incomplete (manifest-less) directories deleted. */
  incompleteObjects: number;
  /** Snapshots whose marker names a peer the connection does not list: left on it, their markers dropped. */
  unknownPeerSnapshots?: number;
  /** Intents whose peer the connection does not list: dropped, whatever they may have left is a person's to find. */
  unknownPeerIntents?: number;
  /** Snapshots a killed create may have made, more than one for one intent: none deleted, named here. */
  ambiguousSnapshots?: string[];
  /** Object Lock: versions of incomplete directories left because S3 retains them, and until when. */
  lockedObjects?: number;
  lockedUntil?: Date;
}

/**
 * `qdrant`: the backup's connection (key, TLS, timeout); `peers`: the peers it lists now (discoverTopology),
 * where each marker's snapshot is deleted. `until`: the end of an intent's window (default now). `signal` (the reconcile's) stops the Qdrant calls and the sweep
 * between steps.
 */
export async function sweepFailedBackup(
  client: S3Client,
  bucket: string,
  ref: BackupDataRef,
  qdrant: QdrantApi,
  peers: readonly Peer[],
  opts: { signal?: AbortSignal; versioned?: VersionedDelete; until?: Date } = {},
): Promise<SweepResult> {
  const { signal, versioned } = opts;
  const out: SweepResult = { snapshots: 0, markers: 0, abortedUploads: 0, incompleteObjects: 0 };
  for (const dir of await backupDirs(client, bucket, ref, versioned ? listVersionPrefixes : undefined)) {
    // Uploads first: their keys are known from the markers, which go next.
    const before = await listKeys(client, bucket, dir);
    out.abortedUploads += await abortDirUploads(client, bucket, dir, before);
    const { markers, intents } = await listPending(client, bucket, dir);
    for (const m of markers) {
      signal?.throwIfAborted();
      const scope = m.collection === undefined ? { fullStorage: true as const } : { collection: m.collection };
      const url = knownPeerUrl(peers, m);
      if (url === undefined) out.unknownPeerSnapshots = (out.unknownPeerSnapshots ?? 0) + 1;
      else if (await qdrant.at(url).deleteSnapshot(scope, m.snapshot, { signal })) out.snapshots++;
      await deleteMarker(client, bucket, m.key);
      out.markers++;
    }
    for (const i of intents) {
      signal?.throwIfAborted();
      const r = await resolveIntent(i, { s3: client, bucket, qdrant, peers, markers, until: opts.until ?? new Date(), ...(signal ? { signal } : {}) });
      if (r.kind === "Deleted" && r.existed) out.snapshots++;
      else if (r.kind === "Ambiguous") out.ambiguousSnapshots = [...(out.ambiguousSnapshots ?? []), ...r.snapshots];
      else if (r.kind === "UnknownPeer") {
        await deleteMarker(client, bucket, i.key);
        out.unknownPeerIntents = (out.unknownPeerIntents ?? 0) + 1;
      }
    }
    if (before.length === 0 || before.includes(`${dir}${MANIFEST_FILE}`)) continue;
    signal?.throwIfAborted();
    const incomplete = before.filter((k) => !k.startsWith(`${dir}${PENDING_DIR}`));
    if (versioned) {
      const versions = await listObjectVersions(client, bucket, dir);
      const verdict = await retentionVerdict(client, bucket, versions, versioned);
      if (verdict.kind === "Locked") {
        out.lockedObjects = (out.lockedObjects ?? 0) + versions.length;
        out.lockedUntil = latestRetainUntil([out.lockedUntil, verdict.until]);
        continue;
      }
      await deleteObjectVersions(client, bucket, versions, versioned.now, versioned.knownUntil === undefined ? undefined : new Date(versioned.knownUntil));
      out.incompleteObjects += incomplete.length;
      continue;
    }
    await deleteKeys(client, bucket, incomplete);
    out.incompleteObjects += incomplete.length;
  }
  return out;
}
