/**
 * Where a backup's objects live in the bucket. The layout, under the location's prefix:
 *
 *   <prefix>/<namespace>/<connection>/_collections/<collection>/<backupId>/manifest.json
 *   <prefix>/<namespace>/<connection>/_collections/<collection>/<backupId>/peer-<peerId>.snapshot[.zst][.age]
 *   <prefix>/<namespace>/<connection>/_storage/<backupId>/manifest.json           (FullStorage mode)
 *   <prefix>/<namespace>/<connection>/_storage/<backupId>/peer-<peerId>.snapshot…
 *
 * Why:
 * - The bucket alone is enough: a fresh cluster lists `…/_collections/<collection>/` to see every backup
 *   of a collection in time order (backup ids start with the time) and reads one manifest to restore.
 *   An id alone is found by listing namespaces and connections with delimiter "/" and one HEAD each.
 * - Namespace and QdrantConnection name in the key: same-named collections of different Qdrants, or of
 *   different namespaces, never share a prefix. The uid in the backup id keeps two clusters that use the
 *   same namespace and connection names (and the same bucket and prefix) from ever overwriting each other;
 *   their backups do appear in one listing, which is what a standby cluster restoring a primary's
 *   backups wants. Clusters that must not see each other use different location prefixes.
 * - One directory and one manifest per collection (a QdrantBackup of several collections writes several):
 *   a restore is of one collection, and its manifest is everything it needs. Each manifest is written
 *   last in its directory; a directory without one is an incomplete backup, whatever else it holds
 *   (see incompleteBackups).
 * - The scope words `_collections` and `_storage` are not DNS names, so no namespace or connection can
 *   look like one: a key read against the wrong prefix (a bucket shared by locations with nested
 *   prefixes, "" and "qdrant") puts a scope word where a name must be, or a name where a scope word
 *   must be, and is refused instead of misread.
 * - Snapshot files are named by peer (the unit Qdrant snapshots and restores); suffixes show the
 *   encoding for people browsing the bucket, the manifest is authoritative.
 */
import { isBackupId, parseBackupId } from "./backup-id.ts";
import { decodeCollectionSegment, encodeCollectionSegment, isCollectionSegment } from "./collection-segment.ts";

export const MANIFEST_FILE = "manifest.json";
/** S3's limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PEER_ID = /^[0-9]{1,20}$/;
const SNAPSHOT_FILE = /^peer-([0-9]{1,20})\.snapshot(\.zst)?(\.age)?$/;
const COLLECTIONS = "_collections";
const STORAGE = "_storage";

/** Whose backups: the location's prefix and the Qdrant (QdrantConnection's namespace and name). */
export interface KeyBase {
  /** The location's spec.s3.prefix; empty or absent for the bucket's root. */
  prefix?: string;
  namespace: string;
  connection: string;
}

/** Which data: one collection, or the whole storage (FullStorage mode). */
export type KeyScope = { collection: string } | { fullStorage: true };

export type BackupKeyParts = KeyBase & KeyScope & { backupId: string };

export interface SnapshotEncoding {
  compression?: "zstd";
  encrypted?: boolean;
}

/** The "directory" of everything under one Qdrant: list it with delimiter "/" to see scopes. */
export function connectionPrefix(base: KeyBase): string {
  return `${locationRoot(base.prefix)}${checkName(base.namespace, "namespace", DNS_LABEL, 63)}/${checkName(base.connection, "connection", DNS_SUBDOMAIN, 253)}/`;
}

/** The prefix under which one collection's (or the storage's) backups sit: list it to find them. */
export function manifestPrefixFor(where: KeyBase & KeyScope): string {
  const scope = "fullStorage" in where ? `${STORAGE}/` : `${COLLECTIONS}/${encodeCollectionSegment(where.collection)}/`;
  return checkLength(`${connectionPrefix(where)}${scope}`);
}

/** The "directory" of one backup of one collection (or of the storage). */
export function backupPrefix(parts: BackupKeyParts): string {
  if (!isBackupId(parts.backupId)) throw new RangeError(`${JSON.stringify(parts.backupId)} is not a backup id`);
  return checkLength(`${manifestPrefixFor(parts)}${parts.backupId}/`);
}

/** The manifest: written last; its existence is what makes the backup complete. */
export function manifestKey(parts: BackupKeyParts): string {
  return checkLength(`${backupPrefix(parts)}${MANIFEST_FILE}`);
}

/** The snapshot object of one peer. */
export function snapshotKey(parts: BackupKeyParts, peerId: string, encoding: SnapshotEncoding = {}): string {
  return checkLength(`${backupPrefix(parts)}${snapshotFileName(peerId, encoding)}`);
}

/** The last segment of a peer's snapshot object, e.g. `peer-1234.snapshot.zst`. */
export function snapshotFileName(peerId: string, encoding: SnapshotEncoding = {}): string {
  if (!PEER_ID.test(peerId)) throw new RangeError(`${JSON.stringify(peerId)} is not a Qdrant peer id (a decimal u64)`);
  const suffix = `${encoding.compression === "zstd" ? ".zst" : ""}${encoding.encrypted === true ? ".age" : ""}`;
  return `peer-${peerId}.snapshot${suffix}`;
}

export interface ParsedBackupKey {
  namespace: string;
  connection: string;
  /** The collection; undefined for FullStorage, and for a shortened segment (the manifest has the name). */
  collection?: string;
  /** The key segment of the collection, always present in Collection mode. */
  collectionSegment?: string;
  fullStorage: boolean;
  backupId: string;
  /** The backup's creation time and QdrantBackup uid, from the id. */
  backupTime: Date;
  backupUid: string;
  /** The directory of this backup, ending in "/". */
  backupPrefix: string;
  file: { kind: "manifest" } | { kind: "snapshot"; peerId: string; compression?: "zstd"; encrypted: boolean };
}

/** Reads any object key of this layout under `prefix`; undefined for keys that are not ours. */
export function parseBackupKey(key: string, prefix?: string): ParsedBackupKey | undefined {
  const root = locationRoot(prefix);
  if (!key.startsWith(root)) return undefined;
  const segs = key.slice(root.length).split("/");
  const [namespace, connection, scope] = segs;
  if (namespace === undefined || connection === undefined || !DNS_LABEL.test(namespace) || namespace.length > 63) return undefined;
  if (!DNS_SUBDOMAIN.test(connection) || connection.length > 253) return undefined;

  let collectionSegment: string | undefined;
  let rest: string[];
  if (scope === COLLECTIONS && segs.length === 6) {
    const segment = segs[3] as string;
    if (!isCollectionSegment(segment)) return undefined;
    collectionSegment = segment;
    rest = segs.slice(4);
  } else if (scope === STORAGE && segs.length === 5) {
    rest = segs.slice(3);
  } else {
    return undefined;
  }
  const [id, fileName] = rest as [string, string];
  const parsedId = parseBackupId(id);
  if (parsedId === undefined) return undefined;
  const file = parseFileName(fileName);
  if (file === undefined) return undefined;

  const collection = collectionSegment === undefined ? undefined : decodeCollectionSegment(collectionSegment);
  return {
    namespace,
    connection,
    ...(collection !== undefined ? { collection } : {}),
    ...(collectionSegment !== undefined ? { collectionSegment } : {}),
    fullStorage: collectionSegment === undefined,
    backupId: id,
    backupTime: parsedId.time,
    backupUid: parsedId.uid,
    backupPrefix: key.slice(0, key.length - fileName.length),
    file,
  };
}

/** Reads a manifest key; undefined for any other key (snapshot objects, foreign objects). */
export function parseManifestKey(key: string, prefix?: string): (ParsedBackupKey & { file: { kind: "manifest" } }) | undefined {
  const parsed = parseBackupKey(key, prefix);
  return parsed?.file.kind === "manifest" ? (parsed as ParsedBackupKey & { file: { kind: "manifest" } }) : undefined;
}

function parseFileName(name: string): ParsedBackupKey["file"] | undefined {
  if (name === MANIFEST_FILE) return { kind: "manifest" };
  const m = SNAPSHOT_FILE.exec(name);
  if (m === null) return undefined;
  return { kind: "snapshot", peerId: m[1] as string, ...(m[2] !== undefined ? { compression: "zstd" as const } : {}), encrypted: m[3] !== undefined };
}

/** The location's root in the bucket: "" for no prefix, else the prefix with exactly one trailing "/". */
export function locationRoot(prefix: string | undefined): string {
  const p = (prefix ?? "").replace(/^\/+|\/+$/g, "");
  return p === "" ? "" : `${p}/`;
}

function checkName(value: string, what: string, shape: RegExp, max: number): string {
  if (value.length > max || !shape.test(value)) throw new RangeError(`${JSON.stringify(value)} is not a valid ${what} name`);
  return value;
}

function checkLength(key: string): string {
  const bytes = Buffer.byteLength(key, "utf8");
  if (bytes > MAX_KEY_BYTES) {
    throw new RangeError(`object key would be ${bytes} bytes, over S3's ${MAX_KEY_BYTES}: shorten the location's prefix (or the QdrantConnection's name)`);
  }
  return key;
}
