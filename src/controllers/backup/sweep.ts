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
import { deleteMarker, knownPeerUrl, listMarkers, PENDING_DIR } from "../../backup/store/pending-markers.ts";
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
  /** Object Lock: versions of incomplete directories left because S3 retains them, and until when. */
  lockedObjects?: number;
  lockedUntil?: Date;
}

/**
 * `qdrant`: the backup's connection (key, TLS, timeout); `peers`: the peers it lists now (discoverTopology),
 * where each marker's snapshot is deleted. `signal` (the reconcile's) stops the Qdrant calls and the sweep
 * between steps.
 */
export async function sweepFailedBackup(
  client: S3Client,
  bucket: string,
  ref: BackupDataRef,
  qdrant: QdrantApi,
  peers: readonly Peer[],
  opts: { signal?: AbortSignal; versioned?: VersionedDelete } = {},
): Promise<SweepResult> {
  const { signal, versioned } = opts;
  const out: SweepResult = { snapshots: 0, markers: 0, abortedUploads: 0, incompleteObjects: 0 };
  for (const dir of await backupDirs(client, bucket, ref, versioned ? listVersionPrefixes : undefined)) {
    // Uploads first: their keys are known from the markers, which go next.
    const before = await listKeys(client, bucket, dir);
    out.abortedUploads += await abortDirUploads(client, bucket, dir, before);
    for (const m of await listMarkers(client, bucket, dir)) {
      signal?.throwIfAborted();
      const scope = m.collection === undefined ? { fullStorage: true as const } : { collection: m.collection };
      const url = knownPeerUrl(peers, m);
      if (url === undefined) out.unknownPeerSnapshots = (out.unknownPeerSnapshots ?? 0) + 1;
      else if (await qdrant.at(url).deleteSnapshot(scope, m.snapshot, { signal })) out.snapshots++;
      await deleteMarker(client, bucket, m.key);
      out.markers++;
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
