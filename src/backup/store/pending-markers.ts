/**
 * Crash safety for what a run leaves outside S3's own bookkeeping: node-local snapshots and multipart
 * uploads. A process that is SIGKILLed (OOM, node loss, a Job deleted with no grace) cleans up nothing, so:
 *
 * - Right after a snapshot create returns, a marker object `<backupPrefix>_pending/<peerId>/<name>` is
 *   written naming the snapshot, its peer (id and URL) and collection. It is deleted once the snapshot is.
 *   Every run of a backup id (the Job's retries share it) starts by deleting the snapshots its markers
 *   name, then the markers. Only snapshots named by a marker of this backup are ever deleted, so another
 *   backup's (or a person's) snapshot is never touched.
 *   Crash window: a kill between the create's answer and the marker's PUT (one small request) leaves
 *   a snapshot no marker names; nothing deletes it but a person (or a future sweep by name pattern).
 *   A marker without `collection` names a full-storage snapshot (`/snapshots/{name}`).
 *   Name clash: Qdrant names snapshots to the second (`{collection}-{peer}-{time}`), so a snapshot a
 *   person makes of the same collection on the same peer in the same second as the Job is the same
 *   file, and goes when the Job deletes its own. Backups themselves take turns per connection
 *   (src/controllers/backup/one-at-a-time.ts) so two of them never clash this way.
 *   The same holds when the create's answer itself is lost (Qdrant finished, we were killed first).
 * - Multipart uploads under the backup's prefix are aborted at the start of every run: they can only be
 *   a killed run's (a backup id is never shared by two running Jobs), and their parts cost storage
 *   while invisible to listings. lib-storage aborts its own upload on an ordinary failure.
 *
 * The markers sit under the backup's prefix, where layout parsing sees them as foreign keys (so they
 * never make a backup look complete), and a prune of an incomplete backup's prefix removes stragglers.
 */
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { encodeCollectionSegment } from "../layout/collection-segment.ts";
import { s3Error } from "../../s3/client.ts";

export const PENDING_DIR = "_pending/";

export interface PendingSnapshot {
  peerId: string;
  peerUrl: string;
  /** The collection whose snapshot it is; absent for a full-storage snapshot. */
  collection?: string;
  snapshot: string;
}

export interface PendingMarker extends PendingSnapshot {
  key: string;
}

export function markerKey(backupPrefix: string, p: PendingSnapshot): string {
  return `${backupPrefix}${PENDING_DIR}${p.peerId}/${encodeCollectionSegment(p.snapshot)}`;
}

export async function writeMarker(s3: S3Client, bucket: string, backupPrefix: string, p: PendingSnapshot): Promise<string> {
  const key = markerKey(backupPrefix, p);
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(p), ContentType: "application/json" }));
  } catch (err) {
    throw s3Error(err, bucket, "PutObject");
  }
  return key;
}

export async function deleteMarker(s3: S3Client, bucket: string, key: string): Promise<void> {
  try {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  } catch (err) {
    throw s3Error(err, bucket, "DeleteObject");
  }
}

/**
 * The markers a previous run of this backup left. A marker whose body does not read as one (not JSON,
 * fields missing or of the wrong type, a peer or snapshot other than its key names, a peer URL that is
 * not http(s)) is left out: it names no snapshot that could be deleted safely, and the prune of the
 * backup's prefix removes it with the rest. Throws coded S3 errors only.
 */
export async function listMarkers(s3: S3Client, bucket: string, backupPrefix: string): Promise<PendingMarker[]> {
  const out: PendingMarker[] = [];
  let token: string | undefined;
  do {
    let page;
    try {
      page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${backupPrefix}${PENDING_DIR}`, ...(token ? { ContinuationToken: token } : {}) }));
    } catch (err) {
      throw s3Error(err, bucket, "ListObjectsV2");
    }
    for (const o of page.Contents ?? []) {
      if (!o.Key) continue;
      let text: string;
      try {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }));
        text = got.Body ? await got.Body.transformToString() : "";
      } catch (err) {
        throw s3Error(err, bucket, "GetObject");
      }
      const marker = readMarker(o.Key, text);
      if (marker !== undefined) out.push(marker);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** A marker's body read against its key (see listMarkers); undefined when it is not one. Never throws. */
export function readMarker(key: string, text: string): PendingMarker | undefined {
  let p: unknown;
  try {
    p = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof p !== "object" || p === null || Array.isArray(p)) return undefined;
  const { peerId, peerUrl, collection, snapshot } = p as Record<string, unknown>;
  if (typeof peerId !== "string" || !/^[0-9]{1,20}$/.test(peerId) || typeof snapshot !== "string" || snapshot === "" || typeof peerUrl !== "string") return undefined;
  if (collection !== undefined && typeof collection !== "string") return undefined;
  if (!/^https?:\/\//.test(peerUrl) || !URL.canParse(peerUrl)) return undefined;
  // The key is `<backupPrefix>_pending/<peerId>/<snapshot segment>`: a body that names another is not this key's.
  if (!key.endsWith(`${PENDING_DIR}${peerId}/${encodeCollectionSegment(snapshot)}`)) return undefined;
  return { peerId, peerUrl, snapshot, ...(collection !== undefined ? { collection } : {}), key };
}

/**
 * Aborts every multipart upload under `prefix`, and of each of `keys` (some stores, MinIO among them,
 * list uploads of an exact key more reliably than by prefix). Returns how many were aborted.
 */
export async function abortDanglingUploads(s3: S3Client, bucket: string, prefix: string, keys: string[] = []): Promise<number> {
  const seen = new Set<string>();
  for (const p of [prefix, ...keys]) {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      let page;
      try {
        page = await s3.send(
          new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: p, ...(keyMarker ? { KeyMarker: keyMarker } : {}), ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}) }),
        );
      } catch (err) {
        throw s3Error(err, bucket, "ListMultipartUploads");
      }
      for (const u of page.Uploads ?? []) {
        if (!u.Key || !u.UploadId || seen.has(u.UploadId) || !u.Key.startsWith(prefix)) continue;
        seen.add(u.UploadId);
        try {
          await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
        } catch (err) {
          if ((err as { name?: string }).name !== "NoSuchUpload") throw s3Error(err, bucket, "AbortMultipartUpload");
        }
      }
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
      if (!keyMarker && !uploadIdMarker) break;
    }
  }
  return seen.size;
}

/**
 * The REST URL of a marker's peer among `peers` (the ones the connection lists, or this run found): by
 * peer id, else by the very URL; undefined when it names neither. A marker's own URL is never followed:
 * it is an object in the bucket, and whoever can write the bucket must not be able to send the API key to
 * a host of their choosing.
 */
export function knownPeerUrl(peers: ReadonlyArray<{ id: string; url: string }>, marker: { peerId: string; peerUrl: string }): string | undefined {
  const norm = (u: string) => u.replace(/\/+$/, "");
  return peers.find((p) => p.id === marker.peerId)?.url ?? peers.find((p) => norm(p.url) === norm(marker.peerUrl))?.url;
}
