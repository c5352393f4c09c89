/**
 * Snapshot recovery, following Qdrant's order of work: obtain the archive (file://, http(s) download or an
 * upload), verify the checksum, unpack and validate it in a temp directory, and only then create the
 * collection (if missing), check compatibility and restore each shard present in the snapshot, settling
 * the other replicas according to `priority`. A bad archive therefore never leaves a half-made collection.
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { createHash, randomUUID } from "node:crypto";
import { STATUS_CODES } from "node:http";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { Cluster } from "./cluster.ts";
import type { ReplicaState } from "./consensus.ts";
import { badInput, badRequest, formatError, forbidden, notFound, queryFormatError, serviceError, validationError } from "./errors.ts";
import type { PeerNode } from "./peer.ts";
import { applyStates } from "./recovery-settle.ts";
import { unpackCollectionSnapshot, unpackShardSnapshot } from "./snapshot-archive.ts";
import { checksumsEqual, hashFile } from "./snapshot-files.ts";

export type Priority = "no_sync" | "snapshot" | "replica";

/** Parses `priority`; Qdrant's default is `snapshot` (the Rust `#[default]`). */
export function parsePriority(v: unknown, inQuery: boolean): Priority {
  if (v === undefined || v === null) return "snapshot";
  if (v === "no_sync" || v === "snapshot" || v === "replica") return v;
  const shown = typeof v === "string" ? v : JSON.stringify(v);
  const msg = `unknown variant \`${shown}\`, expected one of \`no_sync\`, \`snapshot\`, \`replica\``;
  throw inQuery ? queryFormatError(msg) : formatError(msg);
}

/** Validates a checksum's shape (64 hex characters) with the validator's 422 texts. */
export function validateChecksum(v: unknown, where: "JSON body" | "query parameters"): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw formatError("invalid type: expected a string for `checksum`");
  if (v.length !== 64) throw validationError(where, ["checksum: invalid_sha256_hash"]);
  if (!/^[0-9a-fA-F]{64}$/.test(v)) throw validationError(where, ["checksum: invalid characters, expected 0-9, a-f, A-F"]);
  return v;
}

export interface FetchedSnapshot {
  file: string;
  /** Set when the file is a download the emulator must delete afterwards. */
  temporary: boolean;
  /** Known when it was computed while downloading. */
  sha256?: string;
}

/** Rust's `{:?}` of a path: a double-quoted string with quotes, backslashes, newlines and tabs escaped. */
export function rustDebugPath(p: string): string {
  return `"${p.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\t/g, "\\t")}"`;
}

/**
 * A `file://` location, checked in the order of Qdrant's `download_snapshot`
 * (lib/storage/src/content_manager/snapshots/download.rs, `"file"` arm, and its `validate_snapshot_path`):
 * 1. `Url::to_file_path` fails for a host other than `localhost`: 400 `Invalid snapshot URI, …`;
 * 2. the path does not exist (`Path::exists`, which follows symlinks): 400 `Snapshot file "…" does not exist`,
 *    whether or not the path is inside the snapshots directory;
 * 3. both paths are canonicalised (symlinks and `..` resolved) and the file must lie under the
 *    canonical snapshots directory (`toc.snapshots_path()`, the root, not the collection's subdirectory):
 *    otherwise 403 `Snapshot file path must be inside the snapshots directory "<canonical root>"`.
 * The canonical path is what gets recovered.
 */
export function resolveFileLocation(peer: PeerNode, url: URL): string {
  if (url.host !== "" && url.host !== "localhost") {
    throw badRequest("Invalid snapshot URI, file path must be absolute or on localhost");
  }
  const file = decodeURIComponent(url.pathname);
  if (!fs.existsSync(file)) throw badRequest(`Snapshot file ${rustDebugPath(file)} does not exist`);
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch (err) {
    throw badRequest(`Failed to resolve snapshot path ${rustDebugPath(file)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let root: string;
  try {
    root = fs.realpathSync(peer.snapshotsDir);
  } catch (err) {
    throw serviceError(`Failed to resolve snapshots directory ${rustDebugPath(peer.snapshotsDir)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  // `Path::starts_with` compares whole components, so `/snap` does not contain `/snapshots-2/x`.
  if (real !== root && !real.startsWith(root + path.sep)) {
    throw forbidden(`Snapshot file path must be inside the snapshots directory ${rustDebugPath(root)}`);
  }
  return real;
}

/** Downloads an http(s) snapshot into the peer's temp dir, hashing it on the way. */
async function download(peer: PeerNode, url: URL, apiKey: string | undefined): Promise<FetchedSnapshot> {
  const dir = path.join(peer.tmpDir, "download");
  await fsp.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${randomUUID()}.snapshot`);
  let res: Response;
  try {
    res = await fetch(url, { headers: apiKey !== undefined ? { "api-key": apiKey } : {} });
  } catch {
    // `From<reqwest::Error> for StorageError` (lib/storage/src/content_manager/errors.rs) wraps it as
    // "Http request error: {err}"; reqwest prints a connect failure as "error sending request for url (…)".
    throw serviceError(`Http request error: error sending request for url (${url.href})`);
  }
  if (!res.ok || res.body === null) {
    await res.body?.cancel();
    throw badInput(`Failed to download tar from ${url.href}: status - ${res.status} ${STATUS_CODES[res.status] ?? ""}`.trimEnd());
  }
  const hash = createHash("sha256");
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), tap, fs.createWriteStream(file));
  } catch (err) {
    await fsp.rm(file, { force: true });
    // Qdrant unpacks while it streams (download_tar.rs): a broken stream surfaces as an unpack failure.
    throw serviceError(`Failed to unpack tar archive: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { file, temporary: true, sha256: hash.digest("hex") };
}

/** Turns a recover `location` into a local file (Qdrant accepts http, https and file). */
export async function fetchLocation(peer: PeerNode, location: string, apiKey: string | undefined): Promise<FetchedSnapshot> {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw formatError("relative URL without a base");
  }
  const scheme = url.protocol.replace(/:$/, "");
  if (scheme === "file") return { file: resolveFileLocation(peer, url), temporary: false };
  if (scheme === "http" || scheme === "https") return download(peer, url, apiKey);
  // `Url`'s Display is the serialised URL (scheme lower-cased), as WHATWG's `href` is.
  throw badRequest(`URL ${url.href} with scheme ${scheme} is not supported`);
}

/** Verifies the (optional) expected checksum of a fetched snapshot: 400 on mismatch, before any change. */
export async function verifyChecksum(fetched: FetchedSnapshot, expected: string | undefined): Promise<void> {
  if (expected === undefined) return;
  const actual = fetched.sha256 ?? (await hashFile(fetched.file));
  if (!checksumsEqual(actual, expected)) {
    throw badInput(`Snapshot checksum mismatch: expected ${expected}, got ${actual}`);
  }
}

async function withStaging<T>(peer: PeerNode, prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  await fsp.mkdir(peer.tmpDir, { recursive: true });
  const dir = await fsp.mkdtemp(path.join(peer.tmpDir, prefix));
  try {
    return await fn(dir);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

/** Canonical JSON (sorted keys) so configs compare by content, not key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

/**
 * Puts restored data into `peer`'s replica of a shard and settles the other replicas per `priority`
 * (Qdrant's rules; transfers and re-syncs complete instantly here). With `settle` (a collection recover;
 * whether shard recovery has the same window is not checked) on a distributed cluster, the final states
 * wait out the admin API's settle window (recovery-settle.ts).
 */
export function restoreShard(cluster: Cluster, peer: PeerNode, collection: string, shardId: number, dataFile: string, priority: Priority, settle = false): void {
  const key = String(shardId);
  const me = String(peer.id);
  if (!(me in (cluster.meta(collection).shards[key] ?? {}))) {
    cluster.commit((s) => {
      const shard = s.collections[collection]?.shards[key];
      if (shard !== undefined) shard[me] = "Partial";
    });
  }
  peer.ensureShard(collection, shardId).replaceWith(dataFile);
  const replicas = cluster.meta(collection).shards[key] ?? {};
  const others = Object.entries(replicas)
    .filter(([id, state]) => id !== me && state === "Active")
    .map(([id]) => id);
  const rf = cluster.meta(collection).config.params.replication_factor;
  const states: Record<string, ReplicaState | undefined> = { [me]: "Active" };
  if (others.length > 0 && priority === "snapshot") {
    let toRemove = Math.max(0, others.length - (rf - 1));
    for (const id of others) {
      if (toRemove > 0) {
        toRemove -= 1;
        states[id] = undefined;
      } else {
        // Marked Dead and re-synced from the restored replica; the sync is instant here.
        const target = cluster.peerById(Number(id));
        if (target !== undefined) cluster.copyShard(collection, shardId, peer, target);
        states[id] = "Active";
      }
    }
  } else if (others.length > 0 && priority === "replica") {
    const source = cluster.peerById(Number(others[0]));
    if (source !== undefined) cluster.copyShard(collection, shardId, source, peer);
  }
  const settleMs = settle && cluster.distributed ? cluster.recoverySettle.windowFor(collection) : 0;
  if (settleMs === 0) {
    applyStates(cluster, collection, shardId, states);
    return;
  }
  // Qdrant activates through a consensus proposal it does not wait for (recovery-settle.ts): until it
  // commits, the restored replica is ManualRecovery and the replicas `snapshot` keeps are Dead.
  const during: Record<string, ReplicaState | undefined> = {};
  for (const [id, state] of Object.entries(states)) during[id] = id === me ? "ManualRecovery" : state === "Active" && priority === "snapshot" ? "Dead" : state;
  cluster.recoverySettle.begin(cluster, collection, shardId, settleMs, during, states);
}

function bump(map: Map<string, number>, key: string, by: number): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

/** Recovers a collection snapshot file on `peer` into `name` (an alias recovers its target). */
export async function recoverCollection(cluster: Cluster, peer: PeerNode, name: string, file: string, priority: Priority): Promise<void> {
  bump(peer.stats.snapshotRecoveryRunning, name, 1);
  try {
    await withStaging(peer, `col-${name}-recovery-`, async (staging) => {
      const snap = await unpackCollectionSnapshot(file, staging);
      let target: string;
      try {
        target = cluster.resolve(name);
      } catch {
        cluster.createCollection(name, snap.config);
        cluster.commit((s) => {
          const meta = s.collections[name];
          if (meta !== undefined) meta.payloadSchema = snap.payloadSchema;
        });
        target = name;
      }
      const current = cluster.meta(target).config.params;
      if (canonical(snap.config.params.vectors) !== canonical(current.vectors)) {
        throw badInput(
          `Snapshot is not compatible with existing collection: Collection vectors: ${JSON.stringify(current.vectors)} Snapshot Vectors: ${JSON.stringify(snap.config.params.vectors)}`,
        );
      }
      if (snap.config.params.shard_number !== current.shard_number) {
        throw badInput(
          `Snapshot is not compatible with existing collection: Collection shard number: ${current.shard_number} Snapshot shard number: ${snap.config.params.shard_number}`,
        );
      }
      for (const [shardId, shard] of snap.shards) {
        if (shard.dataFile !== undefined) restoreShard(cluster, peer, target, shardId, shard.dataFile, priority, true);
      }
    });
  } finally {
    bump(peer.stats.snapshotRecoveryRunning, name, -1);
  }
}

/** Recovers a shard snapshot file into this peer's replica of `shardId` (the collection must exist). */
export async function recoverShard(cluster: Cluster, peer: PeerNode, collection: string, shardId: number, file: string, priority: Priority): Promise<void> {
  if (!(String(shardId) in cluster.meta(collection).shards)) throw notFound(`shard ${shardId} not found`);
  await withStaging(peer, `shard-${collection}-${shardId}-recovery-`, async (staging) => {
    const dataFile = await unpackShardSnapshot(file, staging);
    restoreShard(cluster, peer, collection, shardId, dataFile, priority);
  });
}
