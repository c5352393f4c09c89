/**
 * One snapshot from the peer that made it straight into an S3 object: each chunk of the download is
 * counted and hashed (SHA-256), encoded when the location asks (zstd, then age: src/backup/codec/), and
 * the encoded chunks counted and hashed again as they are copied into a pooled part buffer of a
 * multipart upload (src/s3/multipart-upload.ts). No temp file, and memory bounded by (queueSize + 1)
 * parts plus the codec's few buffers whatever the snapshot's size.
 *
 * The checks run after the last byte and before the upload is completed: a short or corrupt download
 * aborts the upload, so no object (let alone a manifest) claims to be the snapshot. The encoder cannot
 * end before its input has: when the upload's last chunk has arrived, every downloaded byte has been
 * counted.
 *
 * With Object Lock, the object is written with its mode and retain-until date (S3 takes them on the
 * CreateMultipartUpload or the single PutObject), and every part carries a Content-MD5, which S3
 * requires of an upload with a retention period.
 */
import { crashWindow } from "../../crash-windows.ts";
import { createHash } from "node:crypto";
import type { S3Client } from "@aws-sdk/client-s3";
import { isOperatorError, OperatorError } from "../../errors.ts";
import { s3Error } from "../../s3/client.ts";
import { multipartUpload } from "../../s3/multipart-upload.ts";
import { choosePartSize } from "./part-size.ts";
import { encodeSnapshot } from "../../backup/codec/encode.ts";
import type { EncodeSettings } from "../../backup/codec/types.ts";
import type { QdrantApi } from "../../qdrant/client.ts";
import type { SnapshotDescription, SnapshotScope } from "../../qdrant/snapshots.ts";

/** Parts uploaded in parallel per snapshot: enough to keep the link busy, few enough to bound memory. */
export const UPLOAD_QUEUE_SIZE = 2;

export interface StreamTarget {
  s3: S3Client;
  bucket: string;
  key: string;
  serverSideEncryption?: { type: "AES256" | "aws:kms"; kmsKeyId?: string };
  storageClass?: string;
  /** Compress and/or encrypt while streaming; the object's bytes are then the encoded ones. */
  encoding?: EncodeSettings;
  /** S3 Object Lock: the object cannot be deleted or overwritten before `retainUntil`. */
  objectLock?: { mode: "GOVERNANCE" | "COMPLIANCE"; retainUntil: Date };
  /** Called once the multipart upload exists (or, for a small snapshot, never). */
  onPart?: (partNumber: number, loadedBytes: number) => void;
}

export interface StreamedFile {
  /** The snapshot's bytes as Qdrant made them. */
  size: number;
  sha256: string;
  /** The object's own bytes, when an encoding makes them differ. */
  stored?: { size: number; sha256: string };
}

/**
 * The part size for an object of a snapshot of `size` bytes: age adds 16 bytes per 64 KiB chunk and a
 * header, and zstd can grow incompressible data by a few bytes per block, so the encoded object may be
 * a little larger than the snapshot; 1% and a MiB more is far beyond either.
 */
function partSizeFor(size: number, encoded: boolean): number {
  return choosePartSize(encoded ? Math.ceil(size * 1.01) + 1024 * 1024 : size);
}

/** Thrown from the Transform so the caller can tell our checks from transport failures. */
class SnapshotMismatch extends Error {}

/** `peer`: the adapter at the peer that made the snapshot (snapshots are node-local). */
export async function streamSnapshotToS3(peer: QdrantApi, scope: SnapshotScope, snapshot: SnapshotDescription, target: StreamTarget): Promise<StreamedFile> {
  const { body, contentLength } = await peer.downloadSnapshot(scope, snapshot.name);
  const hash = createHash("sha256");
  const storedHash = createHash("sha256");
  const encoded = target.encoding?.compression !== undefined || target.encoding?.encryption !== undefined;
  let size = 0;
  let storedSize = 0;
  let digest = "";
  let parts = 0;
  const where = `snapshot ${snapshot.name} from ${peer.url}`;
  let downloadError: Error | undefined;
  body.on("error", (err) => (downloadError ??= err));
  try {
    const snapshotBytes = counted(body as AsyncIterable<Buffer>, (chunk) => {
      size += chunk.length;
      hash.update(chunk);
    });
    await multipartUpload(encoded ? encodeSnapshot(snapshotBytes, target.encoding!) : snapshotBytes, {
      client: target.s3,
      partSize: partSizeFor(Math.max(snapshot.size, contentLength ?? 0), encoded),
      contentMd5: target.objectLock !== undefined,
      concurrency: UPLOAD_QUEUE_SIZE,
      params: {
        Bucket: target.bucket,
        Key: target.key,
        ContentType: encoded ? "application/octet-stream" : "application/x-tar",
        ...(target.serverSideEncryption ? { ServerSideEncryption: target.serverSideEncryption.type } : {}),
        ...(target.serverSideEncryption?.kmsKeyId ? { SSEKMSKeyId: target.serverSideEncryption.kmsKeyId } : {}),
        ...(target.storageClass ? { StorageClass: target.storageClass as "STANDARD" } : {}),
        ...(target.objectLock ? { ObjectLockMode: target.objectLock.mode, ObjectLockRetainUntilDate: target.objectLock.retainUntil } : {}),
        Metadata: { "qdrant-snapshot": snapshot.name, sha256: snapshot.checksum ?? "" },
      },
      onChunk(chunk) {
        storedSize += chunk.length;
        storedHash.update(chunk);
      },
      onStarted() {
        // Crash window backup-job.multipart-started-before-complete: an open multipart upload under the backup's prefix.
        crashWindow("backup-job.multipart-started-before-complete");
        target.onPart?.(++parts, size);
      },
      // After the last byte, before the upload completes: a short or corrupt download must never
      // become an object (let alone one a manifest names).
      beforeComplete() {
        digest = hash.digest("hex");
        if (size !== snapshot.size) throw new SnapshotMismatch(`${where}: downloaded ${size} bytes, Qdrant reported ${snapshot.size}`);
        if (snapshot.checksum !== undefined && digest !== snapshot.checksum) {
          throw new SnapshotMismatch(`${where}: SHA-256 of the downloaded bytes is ${digest}, Qdrant's checksum is ${snapshot.checksum}`);
        }
      },
    });
  } catch (err) {
    throw classify(err, downloadError, where, target);
  } finally {
    if (!body.destroyed) body.destroy();
  }
  return encoded ? { size, sha256: digest, stored: { size: storedSize, sha256: storedHash.digest("hex") } } : { size, sha256: digest };
}

/** `source`, each chunk seen by `see` as it passes. */
async function* counted(source: AsyncIterable<Buffer>, see: (chunk: Buffer) => void): AsyncIterable<Buffer> {
  for await (const chunk of source) {
    see(chunk);
    yield chunk;
  }
}

/**
 * Which side failed: our own check, the download (Qdrant), or S3. The download stream's own error tells
 * the download side apart from an S3 answer. An SDK error (it carries `$metadata`, a refused connection
 * after the SDK's retries too) is S3's, coded by s3Error: S3 going away mid-upload is StorageUnreachable
 * naming the bucket, not an InternalError with a bare "connect ECONNREFUSED".
 */
function classify(err: unknown, downloadError: Error | undefined, where: string, target: StreamTarget): unknown {
  if (err instanceof SnapshotMismatch) return new OperatorError("SNAPSHOT_CORRUPT", err.message, { cause: err });
  if (downloadError !== undefined && (err === downloadError || !(err instanceof Error && "$metadata" in err))) {
    const e = downloadError as Error & { cause?: { code?: string; message?: string }; code?: string };
    const why = e.code ?? e.cause?.code ?? e.cause?.message ?? e.message;
    return new OperatorError("QDRANT_UNREACHABLE", `${where}: the download broke off (${why})`, { cause: downloadError });
  }
  if (err instanceof Error && !("$metadata" in err) && /terminated|socket|ECONNRESET|aborted/i.test(err.message + String((err as { code?: string }).code))) {
    return new OperatorError("QDRANT_UNREACHABLE", `${where}: the download broke off (${(err as { code?: string }).code ?? err.message})`, { cause: err });
  }
  if (err instanceof Error && "$metadata" in err && !isOperatorError(err)) return s3Error(err, target.bucket, `the upload of ${target.key}`);
  return err;
}
