/**
 * Snapshot creation. As in Qdrant, the archive is built under the peer's temp directory, its SHA-256 goes
 * to the `.checksum` side file first, and only then is the archive renamed into the snapshots directory,
 * so a listed snapshot always has its checksum and a failed creation leaves nothing behind.
 */
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { randomUUID } from "node:crypto";
import type { Cluster } from "./cluster.ts";
import { asQdrantError, badInput, notFound } from "./errors.ts";
import type { PeerNode } from "./peer.ts";
import { writeCollectionSnapshot, writeShardSnapshot } from "./snapshot-archive.ts";
import {
  checksumPath,
  collectionSnapshotName,
  describeSnapshot,
  fullSnapshotName,
  shardSnapshotName,
  writeChecksumFile,
  type SnapshotDescription,
} from "./snapshot-files.ts";
import { TarWriter } from "./tar.ts";

export const collectionSnapshotDir = (peer: PeerNode, collection: string): string => path.join(peer.snapshotsDir, collection);
export const shardSnapshotDir = (peer: PeerNode, collection: string, shardId: number): string =>
  path.join(peer.snapshotsDir, collection, "shards", String(shardId));

function bump(map: Map<string, number>, key: string, by: number): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

/** Builds an archive in tmp with `build`, then publishes it (checksum file first, atomic rename). */
async function publish(peer: PeerNode, dir: string, name: string, build: (tmpFile: string) => Promise<string>): Promise<SnapshotDescription> {
  await fsp.mkdir(peer.tmpDir, { recursive: true });
  const tmpFile = path.join(peer.tmpDir, `${name}-arc-${randomUUID()}`);
  const finalFile = path.join(dir, name);
  let checksumWritten = false;
  try {
    const checksum = await build(tmpFile);
    await fsp.mkdir(dir, { recursive: true });
    await writeChecksumFile(finalFile, checksum);
    checksumWritten = true;
    await fsp.rename(tmpFile, finalFile);
  } catch (err) {
    await fsp.rm(tmpFile, { force: true });
    if (checksumWritten) await fsp.rm(checksumPath(finalFile), { force: true });
    throw asQdrantError(err);
  }
  return describeSnapshot(finalFile);
}

export async function createCollectionSnapshot(cluster: Cluster, peer: PeerNode, collection: string): Promise<SnapshotDescription> {
  cluster.meta(collection);
  const stats = peer.stats;
  bump(stats.snapshotCreationRunning, collection, 1);
  try {
    const desc = await publish(peer, collectionSnapshotDir(peer, collection), collectionSnapshotName(collection, peer.id), (tmp) =>
      writeCollectionSnapshot(cluster, peer, collection, tmp),
    );
    bump(stats.snapshotCreatedTotal, collection, 1);
    return desc;
  } finally {
    bump(stats.snapshotCreationRunning, collection, -1);
  }
}

/** Checks the shard exists (404) and is held by this peer (400), as Qdrant does for shard snapshots. */
export function assertLocalShard(cluster: Cluster, peer: PeerNode, collection: string, shardId: number): void {
  const meta = cluster.meta(collection);
  if (!(String(shardId) in meta.shards)) throw notFound(`shard ${shardId} not found`);
  if (peer.shard(collection, shardId) === undefined) {
    throw badInput(`Shard ${shardId} is not a local or queue proxy shard`);
  }
}

export async function createShardSnapshot(cluster: Cluster, peer: PeerNode, collection: string, shardId: number): Promise<SnapshotDescription> {
  assertLocalShard(cluster, peer, collection, shardId);
  const replicas = cluster.meta(collection).shards[String(shardId)] ?? {};
  return publish(peer, shardSnapshotDir(peer, collection, shardId), shardSnapshotName(collection, shardId), (tmp) =>
    writeShardSnapshot(peer, collection, shardId, replicas, tmp),
  );
}

/**
 * Full-storage snapshot: a collection snapshot of every collection (built in tmp, moved into the archive and
 * not kept) plus `config.json` with the collection → file mapping and the aliases.
 */
export async function createFullSnapshot(cluster: Cluster, peer: PeerNode): Promise<SnapshotDescription> {
  const parts: Array<{ collection: string; name: string; file: string }> = [];
  try {
    for (const collection of Object.keys(cluster.state.collections).sort()) {
      const name = collectionSnapshotName(collection, peer.id);
      const file = path.join(peer.tmpDir, `${name}-full-${randomUUID()}`);
      await writeCollectionSnapshot(cluster, peer, collection, file);
      parts.push({ collection, name, file });
    }
    return await publish(peer, peer.snapshotsDir, fullSnapshotName(), async (tmp) => {
      const tar = await TarWriter.create(tmp);
      try {
        for (const part of parts) {
          const fh = await fsp.open(part.file, "r");
          try {
            const size = (await fh.stat()).size;
            await tar.addStream(part.name, size, (write) => TarWriter.copyRange(fh, 0, size, write));
          } finally {
            await fh.close();
          }
        }
        const config = {
          collections_mapping: Object.fromEntries(parts.map((p) => [p.collection, p.name])),
          collections_aliases: { ...cluster.state.aliases },
        };
        await tar.addBuffer("config.json", Buffer.from(JSON.stringify(config)));
        return await tar.finish();
      } catch (err) {
        await tar.abort();
        throw err;
      }
    });
  } finally {
    for (const part of parts) await fsp.rm(part.file, { force: true });
  }
}
