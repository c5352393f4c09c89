/**
 * One set of node-local snapshots of one scope (a collection, or the full storage): created on every
 * holder peer at once, each streamed from its own peer into S3, then deleted. Both backup modes use it;
 * they differ only in which peers hold data and what the manifest says.
 *
 * Order and why:
 * 1. cleanUpEarlierRun: delete the snapshots an earlier (killed) run of this backup id recorded in its
 *    markers, and abort its multipart uploads.
 * 2. createAll: all holders' snapshots together (Promise.allSettled), so the backup's point in time is as
 *    close to one instant across the cluster as Qdrant allows; a marker is written as each create returns.
 * 3. uploadAll: peer after peer, so memory stays that of one upload whatever the number of peers.
 * 4. deleteAll(strict): free the peers' disks once the bytes are safe in S3, before the manifest. The
 *    caller also calls deleteAll(false) in a `finally`, so a failure at any step leaves no snapshot.
 * Crash windows: see pending-markers.ts (a kill between a create's answer and its marker's PUT).
 */
import { crashWindow } from "../../crash-windows.ts";
import type { ManifestFile } from "../../backup/layout/manifest.ts";
import type { CleanupRegistry } from "../protocol/cleanup-registry.ts";
import type { RunContext } from "./run-context.ts";
import { abortDanglingUploads, deleteMarker, knownPeerUrl, listMarkers, writeMarker } from "../../backup/store/pending-markers.ts";
import { scopeName, type SnapshotDescription, type SnapshotScope } from "../../qdrant/snapshots.ts";
import { streamSnapshotToS3 } from "./stream-upload.ts";

/** A peer whose data the backup needs, by its own REST URL. */
export interface Holder {
  peerId: string;
  url: string;
}

interface Created<H extends Holder> {
  holder: H;
  snapshot: SnapshotDescription;
  markerKey?: string;
  unregister?: () => void;
  startTime: Date;
  endTime: Date;
  deleted: boolean;
}

export interface UploadedSnapshot<H extends Holder> {
  holder: H;
  snapshotStartTime: string;
  snapshotEndTime: string;
  file: ManifestFile;
}

export class PeerSnapshots<H extends Holder> {
  readonly #ctx: RunContext;
  readonly #scope: SnapshotScope;
  /** The backup's directory in the bucket: markers live under it. */
  readonly #dir: string;
  readonly #created: Array<Created<H>> = [];

  constructor(ctx: RunContext, scope: SnapshotScope, dir: string) {
    this.#ctx = ctx;
    this.#scope = scope;
    this.#dir = dir;
  }

  /** Deletes the snapshots an earlier run of this backup id recorded, and aborts its uploads under `dir`. */
  async cleanUpEarlierRun(holders: readonly Holder[], keys: string[]): Promise<void> {
    const { s3, plan, qdrant, log } = this.#ctx;
    const bucket = plan.s3.bucket;
    for (const m of await listMarkers(s3, bucket, this.#dir)) {
      const scope: SnapshotScope = m.collection === undefined ? { fullStorage: true } : { collection: m.collection };
      // Only at a peer this run found itself: the marker's URL comes from the bucket (see sweep.ts's why).
      const url = knownPeerUrl(holders.map((h) => ({ id: h.peerId, url: h.url })), m);
      if (url === undefined) {
        log.warn({ scope: scopeName(scope), peerId: m.peerId, snapshot: m.snapshot }, "Left the snapshot an earlier run made on a peer this run does not know; the backup's sweep looks for it on the connection's peers");
        continue;
      }
      const existed = await qdrant.at(url).deleteSnapshot(scope, m.snapshot);
      log.info({ scope: scopeName(scope), peerId: m.peerId, snapshot: m.snapshot, existed }, "Deleted snapshot left by an earlier run");
      await deleteMarker(s3, bucket, m.key);
    }
    const aborted = await abortDanglingUploads(s3, bucket, this.#dir, keys);
    if (aborted > 0) log.info({ scope: scopeName(this.#scope), aborted }, "Aborted multipart uploads left by an earlier run");
  }

  /** Creates every holder's snapshot at once; returns when all are made, throws the first failure. */
  async createAll(holders: readonly H[]): Promise<void> {
    const settled = await Promise.allSettled(holders.map((h) => this.#createOn(h)));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
  }

  async #createOn(holder: H): Promise<void> {
    const { s3, plan, log, cleanup } = this.#ctx;
    const peer = this.#ctx.qdrant.at(holder.url);
    const scope = this.#scope;
    const what = scopeName(scope);
    const startTime = new Date();
    log.info({ scope: what, peerId: holder.peerId, peerUrl: holder.url }, "Creating snapshot");
    const snapshot = await peer.createSnapshot(scope);
    const entry: Created<H> = { holder, snapshot, startTime, endTime: new Date(), deleted: false };
    this.#created.push(entry);
    entry.unregister = cleanup.add(`delete snapshot ${snapshot.name} on peer ${holder.peerId}`, async () => {
      await peer.deleteSnapshot(scope, snapshot.name);
      if (entry.markerKey) await deleteMarker(s3, plan.s3.bucket, entry.markerKey);
    });
    log.info({ scope: what, peerId: holder.peerId, snapshot: snapshot.name, size: snapshot.size, checksum: snapshot.checksum }, "Created snapshot");
    if (snapshot.checksum === undefined) log.warn({ scope: what, snapshot: snapshot.name }, "Qdrant reported no checksum; the SHA-256 computed while uploading is recorded unchecked");
    // Crash window backup-job.snapshot-created-before-marker (open: no marker names the snapshot yet).
    crashWindow("backup-job.snapshot-created-before-marker");
    entry.markerKey = await writeMarker(s3, plan.s3.bucket, this.#dir, {
      peerId: holder.peerId,
      peerUrl: holder.url,
      ...("collection" in scope ? { collection: scope.collection } : {}),
      snapshot: snapshot.name,
    });
  }

  /** Streams each created snapshot into the object `keyFor(peerId)`, peer after peer. */
  async uploadAll(keyFor: (peerId: string) => string): Promise<Array<UploadedSnapshot<H>>> {
    const { qdrant, s3, plan, log, cleanup } = this.#ctx;
    const bucket = plan.s3.bucket;
    const out: Array<UploadedSnapshot<H>> = [];
    for (const c of this.#created) {
      const key = keyFor(c.holder.peerId);
      const unregisterUpload = registerAbort(cleanup, s3, bucket, key);
      const started = Date.now();
      let file;
      try {
        file = await streamSnapshotToS3(qdrant.at(c.holder.url), this.#scope, c.snapshot, {
          s3,
          bucket,
          key,
          ...(plan.s3.serverSideEncryption ? { serverSideEncryption: plan.s3.serverSideEncryption } : {}),
          ...(plan.s3.storageClass ? { storageClass: plan.s3.storageClass } : {}),
          ...(this.#ctx.objects.encode ? { encoding: this.#ctx.objects.encode } : {}),
          ...(this.#ctx.objects.objectLock ? { objectLock: this.#ctx.objects.objectLock } : {}),
        });
      } finally {
        unregisterUpload();
      }
      log.info(
        { scope: scopeName(this.#scope), peerId: c.holder.peerId, snapshot: c.snapshot.name, key, size: file.size, sha256: file.sha256, ...(file.stored ? { storedSize: file.stored.size } : {}), seconds: (Date.now() - started) / 1000 },
        "Uploaded snapshot",
      );
      out.push({
        holder: c.holder,
        snapshotStartTime: c.startTime.toISOString(),
        snapshotEndTime: c.endTime.toISOString(),
        file: { key, size: file.size, sha256: file.sha256, qdrantSnapshotName: c.snapshot.name, ...this.#ctx.objects.manifestEncoding, ...(file.stored ? { stored: file.stored } : {}) },
      });
    }
    return out;
  }

  /** Deletes the snapshots not yet deleted, then their markers. `strict`: a failure fails the backup (success path). */
  async deleteAll(strict: boolean): Promise<void> {
    const { qdrant, s3, plan, log } = this.#ctx;
    const what = scopeName(this.#scope);
    for (const c of this.#created) {
      if (c.deleted) continue;
      try {
        await qdrant.at(c.holder.url).deleteSnapshot(this.#scope, c.snapshot.name);
        c.deleted = true;
        c.unregister?.();
        log.info({ scope: what, peerId: c.holder.peerId, snapshot: c.snapshot.name }, "Deleted snapshot");
        if (c.markerKey) await deleteMarker(s3, plan.s3.bucket, c.markerKey);
      } catch (err) {
        if (strict) throw err;
        log.warn({ scope: what, peerId: c.holder.peerId, snapshot: c.snapshot.name, err: (err as Error).message }, "Could not delete snapshot; the next run of this backup retries");
      }
    }
  }
}

function registerAbort(cleanup: CleanupRegistry, s3: RunContext["s3"], bucket: string, key: string): () => void {
  return cleanup.add(`abort the multipart upload of ${key}`, () => abortDanglingUploads(s3, bucket, key, [key]));
}

