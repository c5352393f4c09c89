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
 * Qdrant keeps an uploaded file in the collection's snapshots directory (API-NOTES §3): the Job deletes
 * it once the call returned (before it may delete the collection on a failure: a deleted collection's
 * snapshots directory stays on disk and is out of the API's reach).
 */
import { createHash } from "node:crypto";
import { Transform, type Readable } from "node:stream";
import { GetObjectCommand, NoSuchKey } from "@aws-sdk/client-s3";
import { OperatorError } from "../../errors.ts";
import { s3Error } from "../../s3/client.ts";
import type { RestorePeerFile } from "./contract.ts";
import type { RestoreContext } from "./run-context.ts";

/** Streams `file` into the peer at `peerUrl`; resolves to the bytes uploaded. */
export async function uploadOnPeer(ctx: RestoreContext, file: RestorePeerFile, peerUrl: string): Promise<number> {
  const { plan } = ctx;
  const peer = ctx.qdrant.at(peerUrl);
  const filename = uploadName(plan.backupId, file.sourcePeerId);
  const body = await openObject(ctx, file);
  try {
    if (plan.mode === "FullStorage") return await uploadFromArchive(ctx, file, body, peerUrl, filename);
    const { bytes } = await peer.uploadSnapshot(plan.targetCollection, body, { size: file.size, filename, checksum: file.sha256, priority: plan.priority }, { signal: ctx.signal });
    return bytes;
  } finally {
    if (!body.destroyed) body.destroy();
    await peer.deleteSnapshot({ collection: plan.targetCollection }, filename).catch((err: unknown) => {
      ctx.log.debug({ peerUrl, snapshot: filename, err: (err as Error).message }, "Could not delete the uploaded snapshot file");
    });
  }
}

/** The name Qdrant keeps the upload under: `.snapshot`, so that its listing shows it and the Job can delete it. */
export function uploadName(backupId: string, sourcePeerId: string): string {
  return `restore-${backupId}-peer-${sourcePeerId}.snapshot`.replace(/[^A-Za-z0-9._-]/g, "_");
}

/** The object's body, checked to be the size the manifest says (a different object is not this backup). */
async function openObject(ctx: RestoreContext, file: RestorePeerFile): Promise<Readable> {
  const { plan } = ctx;
  let got;
  try {
    got = await ctx.s3.send(new GetObjectCommand({ Bucket: plan.s3.bucket, Key: file.key }), { abortSignal: ctx.signal });
  } catch (err) {
    if (err instanceof NoSuchKey || (err as { name?: string }).name === "NoSuchKey") {
      throw new OperatorError("BACKUP_OBJECTS_MISSING", `object ${file.key} of backup ${plan.backupId} is missing from bucket "${plan.s3.bucket}"`, { cause: err });
    }
    throw s3Error(err, plan.s3.bucket, "GetObject");
  }
  const body = got.Body as Readable | undefined;
  if (!body) throw new OperatorError("S3_ERROR", `GetObject ${file.key} on bucket "${plan.s3.bucket}": the answer has no body`);
  if (got.ContentLength !== undefined && got.ContentLength !== file.size) {
    body.destroy();
    throw new OperatorError("BACKUP_OBJECTS_MISSING", `object ${file.key} of backup ${plan.backupId} is ${got.ContentLength} bytes, the manifest says ${file.size}`);
  }
  return body;
}

async function uploadFromArchive(ctx: RestoreContext, file: RestorePeerFile, archive: Readable, peerUrl: string, filename: string): Promise<number> {
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
