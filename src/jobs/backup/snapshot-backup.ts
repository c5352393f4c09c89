/**
 * The steps every backup directory goes through, whatever the mode: clean up an earlier run of this
 * backup id, stop if that run already committed the directory, snapshot every holder at once, read what
 * the manifest records beside the files, upload, delete the snapshots, then write the manifest last.
 * Collection mode runs it once per collection, FullStorage once for the storage; they differ in the
 * holders, in what they read after the snapshots, and in the manifest's scope section.
 *
 * A kill before the manifest leaves an incomplete backup that the retry redoes; after it, only markers,
 * which the retry removes. On any failure the snapshots already made are deleted before the error is
 * reported (the `finally`).
 */
import { crashWindow } from "../../crash-windows.ts";
import type { Logger } from "pino";
import { backupPrefix, manifestKey, snapshotKey, type BackupKeyParts } from "../../backup/layout/object-keys.ts";
import { MANIFEST_VERSION, type Manifest, type ManifestPeer } from "../../backup/layout/manifest.ts";
import { OPERATOR_VERSION } from "../../version.ts";
import { existingManifest, manifestSource, putManifest } from "./manifest-io.ts";
import { PeerSnapshots, type Holder, type UploadedSnapshot } from "./peer-snapshots.ts";
import type { RunContext } from "./run-context.ts";
import { objectLockRecord } from "./object-settings.ts";

export interface SnapshotBackup<H extends Holder, D> {
  parts: BackupKeyParts;
  holders: H[];
  log: Logger;
  /** Read right after the snapshots: the nearest this can get to their point in time. */
  describe: () => Promise<D>;
  /** The manifest's scope section (`collection` or `storage`, and what Collection mode left out) and each peer's own fields. */
  scope: (described: D) => Pick<Manifest, "mode" | "collection" | "storage" | "excluded">;
  peer: (holder: H, described: D) => Partial<ManifestPeer>;
}

/** Runs the steps; returns the manifest written (or the one an earlier run wrote) and its key. */
export async function runSnapshotBackup<H extends Holder, D>(ctx: RunContext, b: SnapshotBackup<H, D>): Promise<{ manifest: Manifest; key: string }> {
  const { plan, s3 } = ctx;
  const key = manifestKey(b.parts);
  const lock = objectLockRecord(ctx.objects);
  const snapshotScope = "fullStorage" in b.parts ? { fullStorage: true as const } : { collection: b.parts.collection };
  const snapshots = new PeerSnapshots<H>(ctx, snapshotScope, backupPrefix(b.parts));
  const keyFor = (peerId: string) => snapshotKey(b.parts, peerId, ctx.objects.keyEncoding);
  await snapshots.cleanUpEarlierRun(b.holders, b.holders.map((h) => keyFor(h.peerId)));

  const done = await existingManifest(s3, plan.s3.bucket, key);
  if (done !== undefined) {
    b.log.info({ manifestKey: key }, "Manifest already written by an earlier run; nothing to redo");
    return { manifest: done, key };
  }
  try {
    const snapshotStartTime = new Date();
    await snapshots.createAll(b.holders);
    const snapshotEndTime = new Date();
    const described = await b.describe();
    const uploaded: Array<UploadedSnapshot<H>> = await snapshots.uploadAll(keyFor);
    // Crash window backup-job.uploaded-before-manifest: objects without a manifest, snapshots still on the peers.
    crashWindow("backup-job.uploaded-before-manifest");
    // The snapshots are safe in S3: free the peers' disks before committing.
    await snapshots.deleteAll(true);
    const manifest: Manifest = {
      version: MANIFEST_VERSION,
      backupId: plan.backupId,
      ...b.scope(described),
      source: manifestSource(plan),
      operator: { version: OPERATOR_VERSION },
      qdrant: { version: ctx.topology.version, distributed: ctx.topology.mode === "Distributed" },
      peers: uploaded.map((u) => ({ peerId: u.holder.peerId, ...b.peer(u.holder, described), snapshotStartTime: u.snapshotStartTime, snapshotEndTime: u.snapshotEndTime, file: u.file })),
      timings: {
        startTime: ctx.startTime.toISOString(),
        snapshotStartTime: snapshotStartTime.toISOString(),
        snapshotEndTime: snapshotEndTime.toISOString(),
        completionTime: new Date().toISOString(),
      },
      ...(lock ? { objectLock: lock } : {}),
    };
    await putManifest(s3, plan, key, manifest, ctx.objects.objectLock);
    b.log.info({ manifestKey: key, peers: uploaded.length }, "Wrote manifest");
    return { manifest, key };
  } finally {
    await snapshots.deleteAll(false);
  }
}
