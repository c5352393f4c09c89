/**
 * One set of node-local snapshots of one scope (a collection, or the full storage): created on every
 * holder peer at once, each streamed from its own peer into S3, then deleted. Both backup modes use it;
 * they differ only in which peers hold data and what the manifest says.
 *
 * Order and why:
 * 1. cleanUpEarlierRun: delete the snapshots an earlier (killed) run of this backup id recorded in its
 *    markers, resolve its intents (the one snapshot a create it was killed in may have made), and abort
 *    its multipart uploads.
 * 2. createAll: all holders' snapshots together (Promise.allSettled), so the backup's point in time is as
 *    close to one instant across the cluster as Qdrant allows; an intent is written before each create
 *    is sent, a marker as it returns, then the intent is deleted.
 * 3. uploadAll: peer after peer, so memory stays that of one upload whatever the number of peers.
 * 4. deleteAll(strict): free the peers' disks once the bytes are safe in S3, before the manifest. The
 *    caller also calls deleteAll(false) in a `finally`, so a failure at any step leaves no snapshot.
 * Crash windows (pending-markers.ts says what closes them): backup-job.snapshot-created-before-marker (a
 * kill between a create's answer and its marker's PUT: the intent names the scope and time), and
 * backup-job.marker-written-before-intent-deleted (the intent is resolved by the marker beside it).
 */
import { crashWindow } from "../../crash-windows.ts";
import type { ManifestFile } from "../../backup/layout/manifest.ts";
import type { CleanupRegistry } from "../protocol/cleanup-registry.ts";
import type { RunContext } from "./run-context.ts";
import { abortDanglingUploads, deleteMarker, knownPeerUrl, listPending, writeIntent, writeMarker } from "../../backup/store/pending-markers.ts";
import { resolveIntent } from "../../backup/store/resolve-intent.ts";
import { qdrantAnswer } from "../../qdrant/rest.ts";
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
  /** Set until the intent is deleted (after the marker is written). */
  intentKey: string | undefined;
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
    const { markers, intents } = await listPending(s3, bucket, this.#dir);
    const peers = holders.map((h) => ({ id: h.peerId, url: h.url }));
    for (const m of markers) {
      const scope: SnapshotScope = m.collection === undefined ? { fullStorage: true } : { collection: m.collection };
      // Only at a peer this run found itself: the marker's URL comes from the bucket (see sweep.ts's why).
      const url = knownPeerUrl(peers, m);
      if (url === undefined) {
        log.warn({ scope: scopeName(scope), peerId: m.peerId, snapshot: m.snapshot }, "Left the snapshot an earlier run made on a peer this run does not know; the backup's sweep looks for it on the connection's peers");
        continue;
      }
      const existed = await qdrant.at(url).deleteSnapshot(scope, m.snapshot);
      log.info({ scope: scopeName(scope), peerId: m.peerId, snapshot: m.snapshot, existed }, "Deleted snapshot left by an earlier run");
      await deleteMarker(s3, bucket, m.key);
    }
    for (const i of intents) {
      const fields = { scope: scopeName(this.#scope), peerId: i.peerId, notBefore: i.notBefore };
      const r = await resolveIntent(i, { s3, bucket, qdrant, peers, markers, until: new Date() });
      if (r.kind === "Deleted") log.info({ ...fields, snapshot: r.snapshot, existed: r.existed, foundBy: "intent" }, "Deleted snapshot left by an earlier run");
      else if (r.kind === "Ambiguous") log.warn({ ...fields, snapshots: r.snapshots }, "Left the snapshots an earlier run killed during a create may have made: more than one matches its time, and a person's may be among them; delete the earlier run's by hand");
      else if (r.kind === "UnknownPeer") log.warn(fields, "Left the intent of an earlier run's create on a peer this run does not know; the backup's sweep looks for it on the connection's peers");
      else if (r.kind === "NoCollection") log.info(fields, "The collection of an earlier run's interrupted create is gone; nothing to look for");
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
    const bucket = plan.s3.bucket;
    const collection = "collection" in scope ? { collection: scope.collection } : {};
    const startTime = new Date();
    // Before the request: from here on a snapshot nothing names yet may appear (the intent names its scope and time).
    const intentKey = await writeIntent(s3, bucket, this.#dir, { peerId: holder.peerId, peerUrl: holder.url, ...collection, notBefore: startTime.toISOString() });
    log.info({ scope: what, peerId: holder.peerId, peerUrl: holder.url }, "Creating snapshot");
    let snapshot;
    try {
      snapshot = await peer.createSnapshot(scope);
    } catch (err) {
      // Qdrant's own refusal made no snapshot (it removes its temp files); a lost answer may have: the intent stays for the next run.
      if (qdrantAnswer(err) !== undefined) await deleteMarker(s3, bucket, intentKey);
      throw err;
    }
    const entry: Created<H> = { holder, snapshot, intentKey, startTime, endTime: new Date(), deleted: false };
    this.#created.push(entry);
    entry.unregister = cleanup.add(`delete snapshot ${snapshot.name} on peer ${holder.peerId}`, async () => {
      await peer.deleteSnapshot(scope, snapshot.name);
      await this.#deleteRecords(entry);
    });
    log.info({ scope: what, peerId: holder.peerId, snapshot: snapshot.name, size: snapshot.size, checksum: snapshot.checksum }, "Created snapshot");
    if (snapshot.checksum === undefined) log.warn({ scope: what, snapshot: snapshot.name }, "Qdrant reported no checksum; the SHA-256 computed while uploading is recorded unchecked");
    // Crash window backup-job.snapshot-created-before-marker: no marker names the snapshot yet; its intent does.
    crashWindow("backup-job.snapshot-created-before-marker");
    entry.markerKey = await writeMarker(s3, bucket, this.#dir, { peerId: holder.peerId, peerUrl: holder.url, ...collection, snapshot: snapshot.name });
    // Crash window backup-job.marker-written-before-intent-deleted: the intent is resolved by the marker beside it.
    crashWindow("backup-job.marker-written-before-intent-deleted");
    await deleteMarker(s3, bucket, intentKey);
    entry.intentKey = undefined;
  }

  /** The snapshot is gone: its marker, and its intent if the marker's PUT failed before the intent went. */
  async #deleteRecords(entry: Created<H>): Promise<void> {
    const bucket = this.#ctx.plan.s3.bucket;
    if (entry.markerKey) await deleteMarker(this.#ctx.s3, bucket, entry.markerKey);
    if (entry.intentKey) await deleteMarker(this.#ctx.s3, bucket, entry.intentKey);
    entry.intentKey = undefined;
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
    const { qdrant, log } = this.#ctx;
    const what = scopeName(this.#scope);
    for (const c of this.#created) {
      if (c.deleted) continue;
      try {
        await qdrant.at(c.holder.url).deleteSnapshot(this.#scope, c.snapshot.name);
        c.deleted = true;
        c.unregister?.();
        log.info({ scope: what, peerId: c.holder.peerId, snapshot: c.snapshot.name }, "Deleted snapshot");
        await this.#deleteRecords(c);
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

