/**
 * Every object a chosen manifest lists exists with the size the manifest says (one HEAD each, a few at
 * a time): a backup whose snapshot was deleted by hand, or cut short by a copy between buckets, is said
 * before a Job starts, naming the keys, instead of failing half-way through a restore. The size is the
 * object's own (`stored.size` when compression or encryption makes it differ from the snapshot's).
 *
 * Not a checksum: that would read every byte. Qdrant verifies the sha256 when it recovers (Pull), and
 * the Job when it streams (Upload).
 */
import { HeadObjectCommand, S3ServiceException, type S3Client } from "@aws-sdk/client-s3";
import type { RestorePeerFile } from "../../../jobs/restore/contract.ts";
import { s3Error } from "../../../s3/client.ts";
import { failure, type SourceFailure } from "./failure.ts";

const HEADS = 8;
/** Problems named in one message; the rest are counted. */
const SHOWN = 5;

/** Undefined when every object is there with its size; else BackupObjectsMissing naming them. Throws coded S3 errors. */
export async function checkObjects(client: S3Client, bucket: string, manifestKey: string, files: readonly RestorePeerFile[], signal?: AbortSignal): Promise<SourceFailure | undefined> {
  const problems: Array<{ index: number; text: string }> = [];
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const index = next++;
      const f = files[index]!;
      const want = f.stored?.size ?? f.size;
      const size = await headSize(client, bucket, f.key, signal);
      if (size === undefined) problems.push({ index, text: `object ${f.key} (peer ${f.sourcePeerId}) does not exist` });
      else if (size !== want) problems.push({ index, text: `object ${f.key} (peer ${f.sourcePeerId}) is ${size} bytes, not ${want}` });
    }
  };
  await Promise.all(Array.from({ length: Math.min(HEADS, files.length) }, worker));
  if (problems.length === 0) return undefined;
  problems.sort((a, b) => a.index - b.index);
  const shown = problems.slice(0, SHOWN).map((p) => p.text);
  const more = problems.length > SHOWN ? ` (and ${problems.length - SHOWN} more)` : "";
  return failure("BACKUP_OBJECTS_MISSING", `manifest ${manifestKey} lists objects the bucket "${bucket}" does not hold as listed: ${shown.join("; ")}${more}`);
}

/**
 * The object's size, or undefined when there is none at `key`. A HEAD's 404 has no body, so a missing
 * bucket would look the same; the resolver has listed and read from the bucket just before.
 */
async function headSize(client: S3Client, bucket: string, key: string, signal?: AbortSignal): Promise<number | undefined> {
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), signal ? { abortSignal: signal } : {});
    return head.ContentLength ?? 0;
  } catch (err) {
    if (err instanceof S3ServiceException && err.name !== "NoSuchBucket" && (err.name === "NotFound" || err.name === "NoSuchKey" || err.$metadata.httpStatusCode === 404)) return undefined;
    throw s3Error(err, bucket, "HeadObject");
  }
}
