/**
 * A full-storage backup (mode FullStorage): `POST /snapshots` on every peer at once — each peer's archive
 * holds a snapshot of every collection's local shards plus a config.json with the collections and the
 * aliases — streamed into `…/_storage/<backupId>/peer-<id>.snapshot`, then one manifest written last.
 *
 * Why every peer, not only those with shards: restoring a full-storage snapshot is a Qdrant startup flag
 * (`--storage-snapshot`) run per node, so a cluster restore needs one archive per node; a peer with no
 * shard yields a small archive that still carries the aliases.
 *
 * What the manifest adds beside the files: per peer, which collections' shards its archive holds; for the
 * storage, each collection's exact points count and aliases, read right after the snapshots (the nearest
 * this can get to their point in time). A collection created or deleted during those seconds may be in
 * the archives but not in the manifest's list, or the reverse; the archives' config.json is authoritative.
 */
import { isOperatorError } from "../../errors.ts";
import type { BackupKeyParts } from "../../backup/layout/object-keys.ts";
import { storedBytes, type Manifest } from "../../backup/layout/manifest.ts";
import type { BackupJobResult } from "./contract.ts";
import type { Holder } from "./peer-snapshots.ts";
import type { RunContext } from "./run-context.ts";
import { runSnapshotBackup } from "./snapshot-backup.ts";

export type StorageResult = Pick<Extract<BackupJobResult, { ok: true }>, "manifestKey" | "files" | "storage" | "sizeBytes">;

export async function backupStorage(ctx: RunContext): Promise<StorageResult> {
  const { plan } = ctx;
  const parts: BackupKeyParts = {
    ...(plan.s3.prefix !== undefined ? { prefix: plan.s3.prefix } : {}),
    namespace: plan.source.namespace,
    connection: plan.source.connection,
    fullStorage: true,
    backupId: plan.backupId,
  };
  const holders = await everyPeer(ctx);
  const { manifest, key } = await runSnapshotBackup(ctx, {
    parts,
    holders,
    log: ctx.log,
    describe: () => storageContents(ctx, holders),
    scope: (contents) => ({ mode: "FullStorage", storage: { collections: contents.collections } }),
    peer: (holder, contents) => ({ collections: contents.shardsByPeer.get(holder.peerId) ?? [] }),
  });
  return resultFrom(manifest, key);
}

/** Every peer of the topology with its real (numeric) peer id, which the discovery names may not be. */
async function everyPeer(ctx: RunContext): Promise<Holder[]> {
  const found = await Promise.all(ctx.topology.peers.map(async (p) => ({ peerId: await ctx.qdrant.at(p.url).peerId(), url: p.url })));
  const byId = new Map<string, Holder>();
  for (const h of found) if (!byId.has(h.peerId)) byId.set(h.peerId, h);
  return [...byId.values()];
}

interface StorageContents {
  collections: NonNullable<Manifest["storage"]>["collections"];
  shardsByPeer: Map<string, Array<{ name: string; shardIds: number[] }>>;
}

async function storageContents(ctx: RunContext, holders: Holder[]): Promise<StorageContents> {
  const qdrant = ctx.qdrant;
  const [names, aliases] = await Promise.all([qdrant.listCollections(), qdrant.listAliases()]);
  const collections: StorageContents["collections"] = [];
  const shardsByPeer: StorageContents["shardsByPeer"] = new Map(holders.map((h) => [h.peerId, []]));
  for (const name of [...names].sort()) {
    try {
      const pointsCount = await qdrant.count(name, { exact: true });
      const placements = await Promise.all(holders.map(async (h) => ({ peerId: h.peerId, shardIds: (await qdrant.at(h.url).collectionCluster(name)).localShards.map((s) => s.shardId) })));
      collections.push({ name, pointsCount, aliases: aliases.filter((a) => a.collection === name).map((a) => a.alias).sort() });
      for (const p of placements) if (p.shardIds.length > 0) shardsByPeer.get(p.peerId)?.push({ name, shardIds: p.shardIds });
    } catch (err) {
      // Deleted since the listing: whether the archives hold it, their config.json says.
      if (!isOperatorError(err, "QDRANT_NOT_FOUND")) throw err;
      ctx.log.info({ collection: name }, "Collection deleted while the storage was backed up; left out of the manifest's list");
    }
  }
  return { collections, shardsByPeer };
}

function resultFrom(m: Manifest, key: string): StorageResult {
  return {
    manifestKey: key,
    // What the bucket holds: the stored objects' bytes (smaller than the snapshots when compressed).
    sizeBytes: storedBytes(m),
    files: m.peers.map((p) => ({ peerId: p.peerId, key: p.file.key, size: p.file.size, sha256: p.file.sha256 })),
    storage: { collections: (m.storage?.collections ?? []).map((c) => ({ name: c.name, ...(c.pointsCount !== undefined ? { pointsCount: c.pointsCount } : {}), aliases: c.aliases })) },
  };
}
