/**
 * The backup of one collection: snapshots on every peer that holds shards of it, all at once, each
 * streamed from its own peer into S3, then the node-local snapshots deleted, then the manifest written
 * last. Order and why:
 * 1. Clean up what an earlier run of this backup id left (markers' snapshots, multipart uploads).
 * 2. If that run already wrote this collection's manifest, the collection is done: a retry after a
 *    crash in a later collection does not redo it.
 * 3. Create all peers' snapshots together (Promise.all), so the backup's point in time is as close to
 *    one instant across the cluster as Qdrant allows; a marker is written as each create returns.
 * 4. Upload peer after peer: memory stays that of one upload whatever the number of peers.
 * 5. Delete the snapshots (they are safe in S3), then write the manifest. A kill before the manifest
 *    leaves an incomplete backup that the retry redoes; after it, only markers that the retry removes.
 * On any failure the snapshots already created are deleted before the error is reported.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { Logger } from "pino";
import { OperatorError } from "../../errors.ts";
import { backupPrefix, manifestKey, snapshotKey, type BackupKeyParts } from "../../backup/layout/object-keys.ts";
import { parseManifest, serializeManifest, MANIFEST_VERSION, type Manifest, type ManifestPeer } from "../../backup/layout/manifest.ts";
import type { Topology } from "../../qdrant/peers.ts";
import { s3Error } from "../../s3/client.ts";
import { OPERATOR_VERSION } from "../../version.ts";
import type { BackupJobCollectionResult, BackupJobPlan } from "./contract.ts";
import type { CleanupRegistry } from "./cleanup-registry.ts";
import { abortDanglingUploads, deleteMarker, listMarkers, writeMarker } from "./pending-markers.ts";
import { collectionConfig, collectionPlacement, countExact, createSnapshot, deleteSnapshot, type QdrantAccess, type SnapshotDescription } from "./qdrant-calls.ts";
import { streamSnapshotToS3 } from "./stream-upload.ts";

export interface RunContext {
  plan: BackupJobPlan;
  access: QdrantAccess;
  s3: S3Client;
  topology: Topology;
  log: Logger;
  startTime: Date;
  /** Undo steps for a SIGTERM: the snapshots not yet deleted, the uploads not yet finished. */
  cleanup: CleanupRegistry;
}

interface Holder {
  peerId: string;
  url: string;
  shardIds: number[];
}

interface Created extends Holder {
  snapshot: SnapshotDescription;
  markerKey?: string;
  unregister?: () => void;
  startTime: Date;
  endTime: Date;
  deleted: boolean;
}

export async function backupCollection(ctx: RunContext, collection: string, aliases: string[]): Promise<BackupJobCollectionResult> {
  const { plan, s3, log } = ctx;
  const bucket = plan.s3.bucket;
  const parts: BackupKeyParts = {
    ...(plan.s3.prefix !== undefined ? { prefix: plan.s3.prefix } : {}),
    namespace: plan.source.namespace,
    connection: plan.source.connection,
    collection,
    backupId: plan.backupId,
  };
  const dir = backupPrefix(parts);
  const mKey = manifestKey(parts);
  const clog = log.child({ collection });

  const holders = await findHolders(ctx, collection);
  await cleanUpEarlierRun(ctx, collection, dir, holders, holders.map((h) => snapshotKey(parts, h.peerId)));

  const done = await existingManifest(s3, bucket, mKey);
  if (done !== undefined) {
    clog.info({ manifestKey: mKey }, "Manifest already written by an earlier run; collection is backed up");
    return resultFrom(done, mKey);
  }

  const created: Created[] = [];
  try {
    const snapshotStartTime = new Date();
    const settled = await Promise.allSettled(holders.map((h) => createOnPeer(ctx, collection, dir, h, created)));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
    const snapshotEndTime = new Date();

    // Right after the snapshots: the nearest this can get to their point in time.
    const pointsCount = await countExact(ctx.access, plan.qdrant.url, collection);
    const config = await collectionConfig(ctx.access, plan.qdrant.url, collection);

    const peers: ManifestPeer[] = [];
    for (const c of created) {
      const key = snapshotKey(parts, c.peerId);
      const unregisterUpload = ctx.cleanup.add(`abort the multipart upload of ${key}`, () => abortDanglingUploads(s3, bucket, key, [key]));
      const started = Date.now();
      let file;
      try {
        file = await streamSnapshotToS3(ctx.access, c.url, collection, c.snapshot, {
          s3,
          bucket,
          key,
          ...(plan.s3.serverSideEncryption ? { serverSideEncryption: plan.s3.serverSideEncryption } : {}),
          ...(plan.s3.storageClass ? { storageClass: plan.s3.storageClass } : {}),
        });
      } finally {
        unregisterUpload();
      }
      clog.info({ peerId: c.peerId, snapshot: c.snapshot.name, key, size: file.size, sha256: file.sha256, seconds: (Date.now() - started) / 1000 }, "Uploaded snapshot");
      peers.push({
        peerId: c.peerId,
        shardIds: c.shardIds,
        snapshotStartTime: c.startTime.toISOString(),
        snapshotEndTime: c.endTime.toISOString(),
        file: { key, size: file.size, sha256: file.sha256, qdrantSnapshotName: c.snapshot.name },
      });
    }

    // The snapshots are safe in S3: free the peers' disks before committing.
    await deleteCreated(ctx, collection, created, true);

    const manifest: Manifest = {
      version: MANIFEST_VERSION,
      backupId: plan.backupId,
      mode: "Collection",
      source: definedOnly(plan.source),
      operator: { version: OPERATOR_VERSION },
      qdrant: { version: ctx.topology.version, distributed: ctx.topology.mode === "Distributed" },
      collection: { name: collection, pointsCount, aliases, config },
      peers,
      timings: {
        startTime: ctx.startTime.toISOString(),
        snapshotStartTime: snapshotStartTime.toISOString(),
        snapshotEndTime: snapshotEndTime.toISOString(),
        completionTime: new Date().toISOString(),
      },
    };
    const body = serializeManifest(manifest, mKey);
    try {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: mKey, Body: body, ContentType: "application/json", ...sse(plan) }));
    } catch (err) {
      throw s3Error(err, bucket, "PutObject");
    }
    clog.info({ manifestKey: mKey, pointsCount, peers: peers.length }, "Wrote manifest");
    return resultFrom(manifest, mKey);
  } finally {
    await deleteCreated(ctx, collection, created, false);
  }
}

/** The peers with a replica of some shard of the collection, each by its own REST URL. */
async function findHolders(ctx: RunContext, collection: string): Promise<Holder[]> {
  const placements = await Promise.all(ctx.topology.peers.map(async (p) => ({ url: p.url, ...(await collectionPlacement(ctx.access, p.url, collection)) })));
  const byId = new Map<string, Holder>();
  for (const p of placements) {
    if (p.localShardIds.length > 0 && !byId.has(p.peerId)) byId.set(p.peerId, { peerId: p.peerId, url: p.url, shardIds: p.localShardIds });
  }
  if (byId.size === 0) throw new OperatorError("QDRANT_API_ERROR", `no peer of ${ctx.plan.qdrant.url} holds a shard of collection "${collection}"`);
  return [...byId.values()];
}

async function createOnPeer(ctx: RunContext, collection: string, dir: string, h: Holder, created: Created[]): Promise<void> {
  const startTime = new Date();
  ctx.log.info({ collection, peerId: h.peerId, peerUrl: h.url }, "Creating snapshot");
  const snapshot = await createSnapshot(ctx.access, h.url, collection);
  const entry: Created = { ...h, snapshot, startTime, endTime: new Date(), deleted: false };
  created.push(entry);
  entry.unregister = ctx.cleanup.add(`delete snapshot ${snapshot.name} on peer ${h.peerId}`, async () => {
    await deleteSnapshot(ctx.access, h.url, collection, snapshot.name);
    if (entry.markerKey) await deleteMarker(ctx.s3, ctx.plan.s3.bucket, entry.markerKey);
  });
  ctx.log.info({ collection, peerId: h.peerId, snapshot: snapshot.name, size: snapshot.size, checksum: snapshot.checksum }, "Created snapshot");
  if (snapshot.checksum === undefined) ctx.log.warn({ collection, snapshot: snapshot.name }, "Qdrant reported no checksum; the SHA-256 computed while uploading is recorded unchecked");
  entry.markerKey = await writeMarker(ctx.s3, ctx.plan.s3.bucket, dir, { peerId: h.peerId, peerUrl: h.url, collection, snapshot: snapshot.name });
}

/** Deletes the run's snapshots, then their markers. `strict`: a failure fails the backup (success path). */
async function deleteCreated(ctx: RunContext, collection: string, created: Created[], strict: boolean): Promise<void> {
  for (const c of created) {
    if (c.deleted) continue;
    try {
      await deleteSnapshot(ctx.access, c.url, collection, c.snapshot.name);
      c.deleted = true;
      c.unregister?.();
      ctx.log.info({ collection, peerId: c.peerId, snapshot: c.snapshot.name }, "Deleted snapshot");
      if (c.markerKey) await deleteMarker(ctx.s3, ctx.plan.s3.bucket, c.markerKey);
    } catch (err) {
      if (strict) throw err;
      ctx.log.warn({ collection, peerId: c.peerId, snapshot: c.snapshot.name, err: (err as Error).message }, "Could not delete snapshot; the next run of this backup retries");
    }
  }
}

/** Deletes the snapshots an earlier (killed) run of this backup id recorded, and aborts its uploads. */
async function cleanUpEarlierRun(ctx: RunContext, collection: string, dir: string, holders: Holder[], keys: string[]): Promise<void> {
  const bucket = ctx.plan.s3.bucket;
  for (const m of await listMarkers(ctx.s3, bucket, dir)) {
    const url = holders.find((h) => h.peerId === m.peerId)?.url ?? m.peerUrl;
    const existed = await deleteSnapshot(ctx.access, url, m.collection, m.snapshot);
    ctx.log.info({ collection, peerId: m.peerId, snapshot: m.snapshot, existed }, "Deleted snapshot left by an earlier run");
    await deleteMarker(ctx.s3, bucket, m.key);
  }
  const aborted = await abortDanglingUploads(ctx.s3, bucket, dir, keys);
  if (aborted > 0) ctx.log.info({ collection, aborted }, "Aborted multipart uploads left by an earlier run");
}

async function existingManifest(s3: S3Client, bucket: string, key: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    text = await got.Body!.transformToString();
  } catch (err) {
    if ((err as { name?: string }).name === "NoSuchKey") return undefined;
    throw s3Error(err, bucket, "GetObject");
  }
  const parsed = parseManifest(text, { key });
  return parsed.ok ? parsed.manifest : undefined;
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

export function sse(plan: BackupJobPlan): { ServerSideEncryption?: "AES256" | "aws:kms"; SSEKMSKeyId?: string } {
  const s = plan.s3.serverSideEncryption;
  if (!s) return {};
  return { ServerSideEncryption: s.type, ...(s.kmsKeyId ? { SSEKMSKeyId: s.kmsKeyId } : {}) };
}

function definedOnly<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
