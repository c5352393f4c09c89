/**
 * Crash safety for what a run leaves outside S3's own bookkeeping: node-local snapshots and multipart
 * uploads. A process that is SIGKILLed (OOM, node loss, a Job deleted with no grace) cleans up nothing, so:
 *
 * - Right before a snapshot create is sent, an intent object `<backupPrefix>_pending/<peerId>/_intent/<scope>`
 *   is written: the peer (id and URL), the collection (absent: the full storage) and `notBefore`, the
 *   time taken just before the request. It says "a snapshot of this scope may appear on this peer from
 *   now on", before anything names it.
 * - Right after the create returns, a marker object `<backupPrefix>_pending/<peerId>/<name>` is
 *   written naming the snapshot, its peer (id and URL) and collection; then the intent is deleted. The
 *   marker is deleted once the snapshot is.
 *   Every run of a backup id (the Job's retries share it) starts by deleting the snapshots its markers
 *   name, then the markers; then it resolves the intents left (resolve-intent.ts; the failed backup's
 *   sweep does the same): the one snapshot of that scope on that peer whose Qdrant-made name falls in the
 *   intent's time window is deleted; several such snapshots, none is (a warning names them).
 *   Crash window backup-job.snapshot-created-before-marker (a kill between the create's answer and the
 *   marker's PUT, or a create whose answer was lost): closed by the intent.
 *   Crash window backup-job.marker-written-before-intent-deleted: marker and intent both left; the
 *   marker's peer is the intent's, so the intent is resolved by it and deleted without a look at Qdrant.
 *   What stays open: a create Qdrant finishes only after the resolver looked (the request cut by the
 *   kill while Qdrant still builds a large snapshot) is found by neither; and a snapshot a person makes
 *   of the same scope on the same peer in the window, when the killed create made none, is the one
 *   candidate and is deleted.
 *   A marker or intent without `collection` names a full-storage snapshot (`/snapshots/{name}`).
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
/** Under a peer's pending dir: one intent per scope (a backup directory has one scope). */
export const INTENT_DIR = "_intent/";
/** The intent segment of a full-storage scope: "~" alone is never what encodeCollectionSegment makes. */
const FULL_STORAGE_INTENT = "~full-storage";

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

/** A create about to be sent: see the module's TSDoc. */
export interface SnapshotIntent {
  peerId: string;
  peerUrl: string;
  /** The collection; absent for a full-storage snapshot. */
  collection?: string;
  /** ISO time taken just before the create request. */
  notBefore: string;
}

export interface PendingIntent extends SnapshotIntent {
  key: string;
}

export function markerKey(backupPrefix: string, p: PendingSnapshot): string {
  return `${backupPrefix}${PENDING_DIR}${p.peerId}/${encodeCollectionSegment(p.snapshot)}`;
}

export async function writeMarker(s3: S3Client, bucket: string, backupPrefix: string, p: PendingSnapshot): Promise<string> {
  return putPending(s3, bucket, markerKey(backupPrefix, p), p);
}

export function intentKey(backupPrefix: string, p: { peerId: string; collection?: string }): string {
  return `${backupPrefix}${PENDING_DIR}${p.peerId}/${INTENT_DIR}${p.collection === undefined ? FULL_STORAGE_INTENT : encodeCollectionSegment(p.collection)}`;
}

export async function writeIntent(s3: S3Client, bucket: string, backupPrefix: string, p: SnapshotIntent): Promise<string> {
  return putPending(s3, bucket, intentKey(backupPrefix, p), p);
}

/** Writes a marker's or an intent's JSON body at `key`; returns the key. */
async function putPending(s3: S3Client, bucket: string, key: string, body: PendingSnapshot | SnapshotIntent): Promise<string> {
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(body), ContentType: "application/json" }));
  } catch (err) {
    throw s3Error(err, bucket, "PutObject");
  }
  return key;
}

/** Deletes a marker or an intent. */
export async function deleteMarker(s3: S3Client, bucket: string, key: string): Promise<void> {
  try {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  } catch (err) {
    throw s3Error(err, bucket, "DeleteObject");
  }
}

/**
 * The markers and intents a previous run of this backup left. One whose body does not read as one (not
 * JSON, fields missing or of the wrong type, a peer, snapshot or scope other than its key names, a peer
 * URL that is not http(s), a notBefore that is no ISO time) is left out: it names nothing that could be
 * deleted safely, and the prune of the backup's prefix removes it with the rest. Throws coded S3 errors only.
 */
export async function listPending(s3: S3Client, bucket: string, backupPrefix: string): Promise<{ markers: PendingMarker[]; intents: PendingIntent[] }> {
  const markers: PendingMarker[] = [];
  const intents: PendingIntent[] = [];
  const dir = `${backupPrefix}${PENDING_DIR}`;
  let token: string | undefined;
  do {
    let page;
    try {
      page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: dir, ...(token ? { ContinuationToken: token } : {}) }));
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
      if (isIntentKey(o.Key.slice(dir.length))) {
        const intent = readIntent(o.Key, text);
        if (intent !== undefined) intents.push(intent);
      } else {
        const marker = readMarker(o.Key, text);
        if (marker !== undefined) markers.push(marker);
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return { markers, intents };
}

/** The markers a previous run of this backup left (see listPending). */
export async function listMarkers(s3: S3Client, bucket: string, backupPrefix: string): Promise<PendingMarker[]> {
  return (await listPending(s3, bucket, backupPrefix)).markers;
}

/** `<peerId>/_intent/…` under the pending dir; a marker's last segment never holds a "/". */
function isIntentKey(rest: string): boolean {
  return /^[^/]*\/_intent\//.test(rest);
}

/**
 * What a marker's and an intent's body share: a JSON object with a peer id (a u64) and an http(s) peer
 * URL (never followed: knownPeerUrl); undefined otherwise. Never throws.
 */
function pendingBody(text: string): (Record<string, unknown> & { peerId: string; peerUrl: string }) | undefined {
  let p: unknown;
  try {
    p = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof p !== "object" || p === null || Array.isArray(p)) return undefined;
  const { peerId, peerUrl } = p as Record<string, unknown>;
  if (typeof peerId !== "string" || !/^[0-9]{1,20}$/.test(peerId) || typeof peerUrl !== "string") return undefined;
  if (!/^https?:\/\//.test(peerUrl) || !URL.canParse(peerUrl)) return undefined;
  return { ...(p as Record<string, unknown>), peerId, peerUrl };
}

/** A marker's body read against its key (see listMarkers); undefined when it is not one. Never throws. */
export function readMarker(key: string, text: string): PendingMarker | undefined {
  const p = pendingBody(text);
  if (p === undefined) return undefined;
  const { peerId, peerUrl, collection, snapshot } = p;
  if (typeof snapshot !== "string" || snapshot === "") return undefined;
  if (collection !== undefined && typeof collection !== "string") return undefined;
  // The key is `<backupPrefix>_pending/<peerId>/<snapshot segment>`: a body that names another is not this key's.
  if (!key.endsWith(`${PENDING_DIR}${peerId}/${encodeCollectionSegment(snapshot)}`)) return undefined;
  return { peerId, peerUrl, snapshot, ...(collection !== undefined ? { collection } : {}), key };
}

/** An intent's body read against its key (see listPending); undefined when it is not one. Never throws. */
export function readIntent(key: string, text: string): PendingIntent | undefined {
  const p = pendingBody(text);
  if (p === undefined) return undefined;
  const { peerId, peerUrl, collection, notBefore } = p;
  if (collection !== undefined && (typeof collection !== "string" || collection === "")) return undefined;
  if (typeof notBefore !== "string" || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(notBefore) || Number.isNaN(Date.parse(notBefore))) return undefined;
  // The key is `<backupPrefix>_pending/<peerId>/_intent/<scope segment>`: a body that names another is not this key's.
  if (!key.endsWith(intentKey("", { peerId, ...(collection !== undefined ? { collection } : {}) }))) return undefined;
  return { peerId, peerUrl, notBefore, ...(collection !== undefined ? { collection } : {}), key };
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
 * The REST URL of a marker's (or an intent's) peer among `peers` (the ones the connection lists, or this run found): by
 * peer id, else by the very URL; undefined when it names neither. A marker's own URL is never followed:
 * it is an object in the bucket, and whoever can write the bucket must not be able to send the API key to
 * a host of their choosing.
 */
export function knownPeerUrl(peers: ReadonlyArray<{ id: string; url: string }>, marker: { peerId: string; peerUrl: string }): string | undefined {
  const norm = (u: string) => u.replace(/\/+$/, "");
  return peers.find((p) => p.id === marker.peerId)?.url ?? peers.find((p) => norm(p.url) === norm(marker.peerUrl))?.url;
}
