/**
 * The Upload method on one peer: the Job streams the file's object from S3 into
 * `POST /collections/{c}/snapshots/upload?wait=true&priority=&checksum=` (a multipart body of known
 * length built around the stream by the adapter: no temp file, memory flat whatever the size).
 *
 * FullStorage: the object is the source peer's full-storage archive; the one collection's snapshot is
 * an entry inside it (src/backup/layout/storage-archive.ts openCollectionEntry). The archive streams
 * through a SHA-256 hash, the entry is uploaded as it streams past (with no checksum: nobody knows the
 * entry's own), and before the upload's closing boundary (`beforeEnd`) the rest of the archive is read
 * and its hash compared with the manifest's: a mismatch aborts the upload, so Qdrant never recovers
 * bytes from an archive that is not the one backed up.
 *
 * Compressed or encrypted (#15): the object streams through its decoder first (encoded.ts), so the
 * multipart body (Collection) or the archive (FullStorage) is the snapshot's bytes as Qdrant made them;
 * the object's own size and SHA-256 are checked in `beforeEnd` too.
 *
 * Qdrant keeps an uploaded file in the collection's snapshots directory (API-NOTES §3): the Job deletes
 * it once the call returned (before it may delete the collection on a failure: a deleted collection's
 * snapshots directory stays on disk and is out of the API's reach).
 */
import { createHash } from "node:crypto";
import { Readable, Transform } from "node:stream";
import { OperatorError } from "../../errors.ts";
import type { RestorePeerFile } from "./contract.ts";
import { isEncoded, openDecoded } from "./encoded.ts";
import type { RestoreContext } from "./run-context.ts";
import { openObject } from "./stored-object.ts";

/**
 * Streams `file` into the peer at `peerUrl`; resolves to the bytes uploaded (the snapshot's). A
 * compressed or encrypted object is decoded on the way (encoded.ts), its stored bytes checked before the
 * upload's closing boundary.
 */
export async function uploadOnPeer(ctx: RestoreContext, file: RestorePeerFile, peerUrl: string): Promise<number> {
  const { plan } = ctx;
  const peer = ctx.qdrant.at(peerUrl);
  const filename = uploadName(plan.backupId, file.sourcePeerId);
  const stored = await openObject(ctx, file);
  let archive: Readable | undefined;
  try {
    const decoded = isEncoded(file) ? await openDecoded(ctx, file, stored) : undefined;
    if (plan.mode === "FullStorage") {
      archive = decoded ? Readable.from(decoded.body, { objectMode: false }) : stored;
      return await uploadFromArchive(ctx, file, archive, peerUrl, filename, decoded ? () => decoded.check({ snapshot: false }) : undefined);
    }
    const meta = { size: file.size, filename, checksum: file.sha256, priority: plan.priority, ...(decoded ? { beforeEnd: () => Promise.resolve(decoded.check({ snapshot: true })) } : {}) };
    const { bytes } = await peer.uploadSnapshot(plan.targetCollection, decoded?.body ?? stored, meta, { signal: ctx.signal });
    return bytes;
  } finally {
    if (archive && !archive.destroyed) archive.destroy();
    if (!stored.destroyed) stored.destroy();
    await peer.deleteSnapshot({ collection: plan.targetCollection }, filename).catch((err: unknown) => {
      ctx.log.debug({ peerUrl, snapshot: filename, err: (err as Error).message }, "Could not delete the uploaded snapshot file");
    });
  }
}

/** The name Qdrant keeps the upload under: `.snapshot`, so that its listing shows it and the Job can delete it. */
export function uploadName(backupId: string, sourcePeerId: string): string {
  return `restore-${backupId}-peer-${sourcePeerId}.snapshot`.replace(/[^A-Za-z0-9._-]/g, "_");
}

/** `checkStored`: an encoded object's own check (encoded.ts), made once the whole archive was read. */
async function uploadFromArchive(ctx: RestoreContext, file: RestorePeerFile, archive: Readable, peerUrl: string, filename: string, checkStored?: () => void): Promise<number> {
  const { plan } = ctx;
  const hash = createHash("sha256");
  let archiveBytes = 0;
  const hashed = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      archiveBytes += chunk.length;
      done(null, chunk);
    },
  });
  archive.on("error", (err) => hashed.destroy(err));
  archive.pipe(hashed);
  let mismatch: OperatorError | undefined;
  try {
    // Loaded only for a FullStorage restore: a collection-mode Job never reads a tar.
    const { openCollectionEntry } = await import("../../backup/layout/storage-archive.ts");
    const entry = await openCollectionEntry(hashed, plan.sourceCollection, { peerId: file.sourcePeerId, signal: ctx.signal });
    ctx.log.info({ key: file.key, entry: entry.name, size: entry.size, peerUrl }, "Uploading the collection's snapshot out of the peer's archive");
    const { bytes } = await ctx.qdrant.at(peerUrl).uploadSnapshot(
      plan.targetCollection,
      entry.body,
      {
        size: entry.size,
        filename,
        priority: plan.priority,
        beforeEnd: async () => {
          await entry.rest();
          checkStored?.();
          const digest = hash.digest("hex");
          if (archiveBytes !== file.size || digest !== file.sha256) {
            mismatch = new OperatorError(
              "SNAPSHOT_CHECKSUM_MISMATCH",
              `archive ${file.key} of backup ${plan.backupId}: ${archiveBytes !== file.size ? `${archiveBytes} bytes, the manifest says ${file.size}` : `SHA-256 ${digest}, the manifest says ${file.sha256}`}; the upload was aborted`,
            );
            throw mismatch;
          }
        },
      },
      { signal: ctx.signal },
    );
    return bytes;
  } catch (err) {
    throw mismatch ?? err;
  } finally {
    if (!hashed.destroyed) hashed.destroy();
  }
}
