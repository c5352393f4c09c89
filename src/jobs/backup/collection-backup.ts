/**
 * The backup of one collection (mode Collection): a snapshot on every peer that holds shards of it, all
 * at once, through the steps of snapshot-backup.ts. The manifest records the collection's exact points
 * count, config and aliases, and which shards each peer's file holds. A retry that finds this
 * collection's manifest already written (a crash in a later collection) does not redo it.
 */
import { OperatorError } from "../../errors.ts";
import type { BackupKeyParts } from "../../backup/layout/object-keys.ts";
import { storedBytes, type Manifest } from "../../backup/layout/manifest.ts";
import type { BackupJobCollectionResult, ExcludedCollection } from "./contract.ts";
import type { Holder } from "./peer-snapshots.ts";
import type { RunContext } from "./run-context.ts";
import { runSnapshotBackup } from "./snapshot-backup.ts";

interface ShardHolder extends Holder {
  shardIds: number[];
}

/** `excluded`: what the backup left out (leaveOut in run-backup.ts), recorded in every manifest it writes. */
export async function backupCollection(ctx: RunContext, collection: string, aliases: string[], excluded: readonly ExcludedCollection[] = []): Promise<BackupJobCollectionResult> {
  const { plan } = ctx;
  const parts: BackupKeyParts = {
    ...(plan.s3.prefix !== undefined ? { prefix: plan.s3.prefix } : {}),
    namespace: plan.source.namespace,
    connection: plan.source.connection,
    collection,
    backupId: plan.backupId,
  };
  const { manifest, key } = await runSnapshotBackup(ctx, {
    parts,
    holders: await findHolders(ctx, collection),
    log: ctx.log.child({ collection }),
    describe: async () => ({
      pointsCount: await ctx.qdrant.count(collection, { exact: true }),
      config: await ctx.qdrant.collectionConfig(collection),
    }),
    scope: ({ pointsCount, config }) => ({ mode: "Collection", collection: { name: collection, pointsCount, aliases, config }, ...(excluded.length > 0 ? { excluded: excluded.map((e) => ({ ...e })) } : {}) }),
    peer: (holder) => ({ shardIds: holder.shardIds }),
  });
  return resultFrom(manifest, key);
}

/** The peers with a replica of some shard of the collection, each by its own REST URL. */
async function findHolders(ctx: RunContext, collection: string): Promise<ShardHolder[]> {
  const placements = await Promise.all(ctx.topology.peers.map(async (p) => ({ url: p.url, ...(await ctx.qdrant.at(p.url).collectionCluster(collection)) })));
  const byId = new Map<string, ShardHolder>();
  for (const p of placements) {
    const shardIds = p.localShards.map((s) => s.shardId);
    if (shardIds.length > 0 && !byId.has(p.peerId)) byId.set(p.peerId, { peerId: p.peerId, url: p.url, shardIds });
  }
  if (byId.size === 0) throw new OperatorError("QDRANT_API_ERROR", `no peer of ${ctx.plan.qdrant.url} holds a shard of collection "${collection}"`);
  return [...byId.values()];
}

function resultFrom(m: Manifest, key: string): BackupJobCollectionResult {
  return {
    name: m.collection?.name ?? "",
    manifestKey: key,
    pointsCount: m.collection?.pointsCount ?? 0,
    // What the bucket holds: the stored objects' bytes (smaller than the snapshots when compressed).
    sizeBytes: storedBytes(m),
    files: m.peers.map((p) => ({ peerId: p.peerId, key: p.file.key, size: p.file.size, sha256: p.file.sha256 })),
  };
}
