/**
 * The backup of one collection (mode Collection): a snapshot on every peer that holds shards of it, all
 * at once, each streamed from its own peer into S3 (peer-snapshots.ts), then the node-local snapshots
 * deleted, then the manifest written last.
 * - A retry that finds this collection's manifest already written (a crash in a later collection) does
 *   not redo it.
 * - A kill before the manifest leaves an incomplete backup that the retry redoes; after it, only
 *   markers, which the retry removes.
 */
import { OperatorError } from "../../errors.ts";
import { backupPrefix, manifestKey, snapshotKey, type BackupKeyParts } from "../../backup/layout/object-keys.ts";
import { MANIFEST_VERSION, type Manifest } from "../../backup/layout/manifest.ts";
import { OPERATOR_VERSION } from "../../version.ts";
import type { BackupJobCollectionResult } from "./contract.ts";
import { existingManifest, manifestSource, putManifest } from "./manifest-io.ts";
import { PeerSnapshots, type Holder } from "./peer-snapshots.ts";
import { collectionConfig, collectionPlacement, countExact } from "./qdrant-calls.ts";
import type { RunContext } from "./run-context.ts";

interface ShardHolder extends Holder {
  shardIds: number[];
}

export async function backupCollection(ctx: RunContext, collection: string, aliases: string[]): Promise<BackupJobCollectionResult> {
  const { plan, s3, log } = ctx;
  const parts: BackupKeyParts = {
    ...(plan.s3.prefix !== undefined ? { prefix: plan.s3.prefix } : {}),
    namespace: plan.source.namespace,
    connection: plan.source.connection,
    collection,
    backupId: plan.backupId,
  };
  const mKey = manifestKey(parts);
  const clog = log.child({ collection });
  const snapshots = new PeerSnapshots<ShardHolder>(ctx, { collection }, backupPrefix(parts));

  const holders = await findHolders(ctx, collection);
  await snapshots.cleanUpEarlierRun(holders, holders.map((h) => snapshotKey(parts, h.peerId)));

  const done = await existingManifest(s3, plan.s3.bucket, mKey);
  if (done !== undefined) {
    clog.info({ manifestKey: mKey }, "Manifest already written by an earlier run; collection is backed up");
    return resultFrom(done, mKey);
  }

  try {
    const snapshotStartTime = new Date();
    await snapshots.createAll(holders);
    const snapshotEndTime = new Date();

    // Right after the snapshots: the nearest this can get to their point in time.
    const pointsCount = await countExact(ctx.access, plan.qdrant.url, collection);
    const config = await collectionConfig(ctx.access, plan.qdrant.url, collection);

    const uploaded = await snapshots.uploadAll((peerId) => snapshotKey(parts, peerId));
    // The snapshots are safe in S3: free the peers' disks before committing.
    await snapshots.deleteAll(true);

    const manifest: Manifest = {
      version: MANIFEST_VERSION,
      backupId: plan.backupId,
      mode: "Collection",
      source: manifestSource(plan),
      operator: { version: OPERATOR_VERSION },
      qdrant: { version: ctx.topology.version, distributed: ctx.topology.mode === "Distributed" },
      collection: { name: collection, pointsCount, aliases, config },
      peers: uploaded.map((u) => ({ peerId: u.holder.peerId, shardIds: u.holder.shardIds, snapshotStartTime: u.snapshotStartTime, snapshotEndTime: u.snapshotEndTime, file: u.file })),
      timings: {
        startTime: ctx.startTime.toISOString(),
        snapshotStartTime: snapshotStartTime.toISOString(),
        snapshotEndTime: snapshotEndTime.toISOString(),
        completionTime: new Date().toISOString(),
      },
    };
    await putManifest(s3, plan, mKey, manifest);
    clog.info({ manifestKey: mKey, pointsCount, peers: uploaded.length }, "Wrote manifest");
    return resultFrom(manifest, mKey);
  } finally {
    await snapshots.deleteAll(false);
  }
}

/** The peers with a replica of some shard of the collection, each by its own REST URL. */
async function findHolders(ctx: RunContext, collection: string): Promise<ShardHolder[]> {
  const placements = await Promise.all(ctx.topology.peers.map(async (p) => ({ url: p.url, ...(await collectionPlacement(ctx.access, p.url, collection)) })));
  const byId = new Map<string, ShardHolder>();
  for (const p of placements) {
    if (p.localShardIds.length > 0 && !byId.has(p.peerId)) byId.set(p.peerId, { peerId: p.peerId, url: p.url, shardIds: p.localShardIds });
  }
  if (byId.size === 0) throw new OperatorError("QDRANT_API_ERROR", `no peer of ${ctx.plan.qdrant.url} holds a shard of collection "${collection}"`);
  return [...byId.values()];
}

function resultFrom(m: Manifest, key: string): BackupJobCollectionResult {
  return {
    name: m.collection?.name ?? "",
    manifestKey: key,
    pointsCount: m.collection?.pointsCount ?? 0,
    sizeBytes: m.peers.reduce((n, p) => n + p.file.size, 0),
    files: m.peers.map((p) => ({ peerId: p.peerId, key: p.file.key, size: p.file.size, sha256: p.file.sha256 })),
  };
}
