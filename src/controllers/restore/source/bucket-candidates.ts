/**
 * A restore's bucket candidates: one listing of the narrowest prefix that holds every backup its source
 * can name, grouped by the layout's one rule (groupListing: no manifest, no backup), and the manifests
 * of the complete ones selection needs, read through the ManifestCache; then candidatesFromListing.
 *
 * The prefix, by source (the layout: src/backup/layout/object-keys.ts):
 * - backupRef: the QdrantBackup's own directory of the collection to restore (`…/_collections/<c>/<id>/`,
 *   or `…/_storage/<id>/`), since its namespace, connection, id and mode are known; none when the
 *   cluster does not say which collection (several, and no spec.sourceCollection: selection then fails
 *   SourceCollectionRequired from the QdrantBackup alone);
 * - location + backupId: with sourceNamespace and sourceConnection, that Qdrant's prefix; with only the
 *   namespace, the namespace's; without them the location's whole prefix — a fresh cluster restoring
 *   from the bucket alone knows nothing else;
 * - latest: the restore's namespace's prefix (latest reads backups made in the restore's namespace,
 *   through any connection).
 *
 * What is read: for backupRef and location, the manifests of that backup id (one per collection
 * directory found, usually one); for latest, every complete backup of that collection under the prefix.
 * Not newest first with a stop: selectBackup orders by the manifest's completion time, and an id tells
 * only when its QdrantBackup was created — a long backup created first can complete after one created
 * later, and the schedule a backup was made by is in its manifest too — so the choice is the one over
 * everything only when every candidate's manifest was read. The cache makes that a one-time cost per
 * manifest; incomplete backups (no manifest), full-storage backups and other collections are never read.
 */
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { encodeCollectionSegment } from "../../../backup/layout/collection-segment.ts";
import { groupListing, type ListedBackup } from "../../../backup/layout/listing.ts";
import type { ParseManifestResult } from "../../../backup/layout/manifest.ts";
import { connectionPrefix, locationRoot, manifestKey, manifestPrefixFor } from "../../../backup/layout/object-keys.ts";
import type { BackupCandidate } from "../../../backup/select/candidate.ts";
import { candidatesFromListing } from "../../../backup/select/from-listing.ts";
import { s3Error } from "../../../s3/client.ts";
import type { ManifestCache, ManifestPlace } from "./manifest-cache.ts";

/** Manifests read at once. */
const MANIFEST_READS = 8;

/** What to list and which listed backups matter. */
export interface BucketQuery {
  /** The key prefix to list (under the location's prefix). */
  listPrefix: string;
  /** The listed backups selection can use (others are left out: they cannot match the source). */
  wanted: (b: ListedBackup) => boolean;
}

/** backupRef: the one directory of that backup holding `scope`. */
export function backupDirectoryQuery(prefix: string | undefined, ref: { namespace: string; connection: string; backupId: string } & ({ collection: string } | { fullStorage: true })): BucketQuery {
  const listPrefix = `${manifestPrefixFor({ ...(prefix ? { prefix } : {}), ...ref })}${ref.backupId}/`;
  return { listPrefix, wanted: (b) => b.backupId === ref.backupId };
}

/** location + backupId: that id under the Qdrant, the namespace, or the whole location the source narrows to. */
export function backupIdQuery(prefix: string | undefined, loc: { backupId: string; sourceNamespace?: string; sourceConnection?: string }): BucketQuery {
  const root = locationRoot(prefix);
  const listPrefix =
    loc.sourceNamespace !== undefined && loc.sourceConnection !== undefined
      ? connectionPrefix({ ...(prefix ? { prefix } : {}), namespace: loc.sourceNamespace, connection: loc.sourceConnection })
      : loc.sourceNamespace !== undefined
        ? `${root}${loc.sourceNamespace}/`
        : root;
  return {
    listPrefix,
    wanted: (b) => b.backupId === loc.backupId && (loc.sourceNamespace === undefined || b.namespace === loc.sourceNamespace) && (loc.sourceConnection === undefined || b.connection === loc.sourceConnection),
  };
}

/** latest: the collection's backups made in the restore's namespace (any connection; Collection mode only). */
export function latestQuery(prefix: string | undefined, namespace: string, collection: string): BucketQuery {
  const segment = encodeCollectionSegment(collection);
  return { listPrefix: `${locationRoot(prefix)}${namespace}/`, wanted: (b) => !b.fullStorage && b.namespace === namespace && b.collectionSegment === segment };
}

export interface BucketRead {
  candidates: BackupCandidate[];
  /** How many keys the listing returned. */
  listed: number;
  /** Every manifest key the listing showed (wanted or not). */
  manifestKeys: Set<string>;
}

/**
 * Lists `query.listPrefix` (one ListObjectsV2 listing, page by page), groups it, reads the manifests of
 * the wanted complete backups, and returns their candidates (`location`: the location's name).
 * Throws coded S3 errors (s3Error), or the abort's reason.
 */
export async function bucketCandidates(
  place: ManifestPlace & { prefix?: string },
  location: string,
  query: BucketQuery,
  manifests: ManifestCache,
  signal?: AbortSignal,
): Promise<BucketRead> {
  const keys = await listKeys(place.client, place.bucket, query.listPrefix, signal);
  const grouped = groupListing(keys, place.prefix);
  const wanted = grouped.complete.filter(query.wanted);
  const read = new Map<string, ParseManifestResult>();
  const gone = new Set<string>();
  let next = 0;
  const worker = async () => {
    while (next < wanted.length) {
      const key = wanted[next++]!.manifestKey!;
      const got = await manifests.read(place, key, signal);
      if (got.ok || !got.missing) read.set(key, got.ok ? got : { ok: false, error: got.error });
      else gone.add(key);
    }
  };
  await Promise.all(Array.from({ length: Math.min(MANIFEST_READS, wanted.length) }, worker));
  // A manifest deleted since the listing (a prune's first step) leaves an incomplete backup, as the
  // listing would now show it.
  const complete = wanted.filter((b) => !gone.has(b.manifestKey!));
  const incomplete = [...grouped.incomplete.filter(query.wanted), ...wanted.filter((b) => gone.has(b.manifestKey!))];
  const manifestKeys = new Set(grouped.complete.map((b) => b.manifestKey!).filter((k) => !gone.has(k)));
  return { candidates: candidatesFromListing({ complete, incomplete }, { location, manifests: read }), listed: keys.length, manifestKeys };
}

/**
 * Where the layout puts a candidate's manifest under a location's prefix; undefined when it cannot be
 * told (a Collection-mode candidate whose collection is not known, names the layout refuses). From the
 * candidate's namespace, connection, id and collection — never from a QdrantBackup's
 * status.manifestKey, which a hand edit could point at another backup.
 */
export function layoutManifestKey(c: BackupCandidate, prefix: string | undefined): string | undefined {
  if (c.mode === "Collection" && c.collection === undefined) return undefined;
  const scope = c.mode === "FullStorage" ? { fullStorage: true as const } : { collection: c.collection! };
  try {
    return manifestKey({ ...(prefix ? { prefix } : {}), namespace: c.namespace, connection: c.connection, backupId: c.backupId, ...scope });
  } catch {
    return undefined;
  }
}

/**
 * The cluster's candidates that the listing shows have no manifest at this location: a QdrantBackup that
 * Succeeded, but whose directory, inside the prefix just listed, holds no manifest (objects deleted by
 * hand or by a lifecycle rule, or written to another location). The bucket is what a restore reads, so
 * each is a bucket candidate in state Incomplete, as a listed directory without a manifest is, and
 * selectBackup (whose merge lets the bucket's state win) passes over it: `latest` picks the newest backup
 * that is there, instead of one whose manifest a GET would then not find.
 */
export function absentFromBucket(cluster: readonly BackupCandidate[], listed: ReadonlySet<string>, listPrefix: string, prefix: string | undefined): BackupCandidate[] {
  const out: BackupCandidate[] = [];
  for (const c of cluster) {
    if (c.origin !== "Cluster") continue;
    const key = layoutManifestKey(c, prefix);
    if (key === undefined || !key.startsWith(listPrefix) || listed.has(key)) continue;
    // Its location stays the QdrantBackup's: one of another location is not this location's backup at all
    // (a location + backupId source then finds no such backup here, and says so).
    out.push({ ...c, origin: "Bucket", state: "Incomplete", manifestKey: key });
  }
  return out;
}

async function listKeys(client: S3Client, bucket: string, prefix: string, signal?: AbortSignal): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    let page;
    try {
      page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }), signal ? { abortSignal: signal } : {});
    } catch (err) {
      throw s3Error(err, bucket, "ListObjectsV2");
    }
    for (const o of page.Contents ?? []) if (o.Key) out.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}
