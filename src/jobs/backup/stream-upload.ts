/**
 * One snapshot from the peer that made it straight into an S3 object: the download's body runs through
 * a Transform that counts and hashes it (SHA-256) and into a lib-storage multipart upload. No temp file,
 * and memory bounded by (queueSize + 1) parts whatever the snapshot's size.
 *
 * The checks run in the Transform's flush, i.e. after the last byte and before lib-storage can complete
 * the upload: a short or corrupt download makes the stream fail, so the upload is aborted and no object
 * (let alone a manifest) claims to be the snapshot.
 */
import { createHash } from "node:crypto";
import { Readable, Transform, type TransformCallback } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { OperatorError } from "../../errors.ts";
import { choosePartSize } from "./part-size.ts";
import { downloadSnapshot, type QdrantAccess, type SnapshotDescription } from "./qdrant-calls.ts";

/** Parts uploaded in parallel per snapshot: enough to keep the link busy, few enough to bound memory. */
export const UPLOAD_QUEUE_SIZE = 3;

export interface StreamTarget {
  s3: S3Client;
  bucket: string;
  key: string;
  serverSideEncryption?: { type: "AES256" | "aws:kms"; kmsKeyId?: string };
  storageClass?: string;
  /** Called once the multipart upload exists (or, for a small snapshot, never). */
  onPart?: (partNumber: number, loadedBytes: number) => void;
}

export interface StreamedFile {
  size: number;
  sha256: string;
}

/** Thrown from the Transform so the caller can tell our checks from transport failures. */
class SnapshotMismatch extends Error {}

export async function streamSnapshotToS3(access: QdrantAccess, peerUrl: string, collection: string, snapshot: SnapshotDescription, target: StreamTarget): Promise<StreamedFile> {
  const { body, contentLength } = await downloadSnapshot(access, peerUrl, collection, snapshot.name);
  const source = Readable.fromWeb(body);
  const hash = createHash("sha256");
  let size = 0;
  let digest = "";
  const where = `snapshot ${snapshot.name} from ${peerUrl}`;
  const check = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      size += chunk.length;
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      digest = hash.digest("hex");
      if (size !== snapshot.size) return cb(new SnapshotMismatch(`${where}: downloaded ${size} bytes, Qdrant reported ${snapshot.size}`));
      if (snapshot.checksum !== undefined && digest !== snapshot.checksum) {
        return cb(new SnapshotMismatch(`${where}: SHA-256 of the downloaded bytes is ${digest}, Qdrant's checksum is ${snapshot.checksum}`));
      }
      cb();
    },
  });
  // pipe() does not forward errors: a cut download must fail the upload's input.
  source.on("error", (err) => check.destroy(err));
  source.pipe(check);

  const upload = new Upload({
    client: target.s3,
    partSize: choosePartSize(Math.max(snapshot.size, contentLength ?? 0)),
    queueSize: UPLOAD_QUEUE_SIZE,
    leavePartsOnError: false,
    params: {
      Bucket: target.bucket,
      Key: target.key,
      Body: check,
      ContentType: "application/x-tar",
      ...(target.serverSideEncryption ? { ServerSideEncryption: target.serverSideEncryption.type } : {}),
      ...(target.serverSideEncryption?.kmsKeyId ? { SSEKMSKeyId: target.serverSideEncryption.kmsKeyId } : {}),
      ...(target.storageClass ? { StorageClass: target.storageClass as "STANDARD" } : {}),
      Metadata: { "qdrant-snapshot": snapshot.name, sha256: snapshot.checksum ?? "" },
    },
  });
  if (target.onPart) upload.on("httpUploadProgress", (p) => target.onPart?.(p.part ?? 0, p.loaded ?? 0));
  try {
    await upload.done();
  } catch (err) {
    throw classify(err, check, where);
  } finally {
    if (!source.destroyed) source.destroy();
    if (!check.destroyed) check.destroy();
  }
  return { size, sha256: digest };
}

/**
 * Which side failed: our own check, the download (Qdrant), or S3. lib-storage rethrows whichever error
 * ended the upload; the stream's own error tells the download side apart.
 */
function classify(err: unknown, stream: Transform, where: string): unknown {
  if (err instanceof SnapshotMismatch) return new OperatorError("SNAPSHOT_CORRUPT", err.message, { cause: err });
  const streamErr = stream.errored;
  if (streamErr !== null && (err === streamErr || !(err instanceof Error && "$metadata" in err))) {
    if (streamErr instanceof SnapshotMismatch) return new OperatorError("SNAPSHOT_CORRUPT", streamErr.message, { cause: streamErr });
    const e = streamErr as Error & { cause?: { code?: string; message?: string } };
    const why = e.cause?.code ?? e.cause?.message ?? e.message;
    return new OperatorError("QDRANT_UNREACHABLE", `${where}: the download broke off (${why})`, { cause: streamErr });
  }
  return err;
}
