/**
 * Reading a file's object out of the plan's bucket (the Upload method): the whole object, checked to be
 * the size the manifest says it is, or only its first bytes (an age header: encoded.ts). Errors are the
 * registry's: a missing object is BACKUP_OBJECTS_MISSING naming its key, anything else S3's own, also
 * when S3 goes away mid-body (the body's own error is coded by s3Error: StorageUnreachable naming the
 * bucket, not an InternalError "aborted" that the upload to Qdrant would pass on).
 */
import { PassThrough, type Readable } from "node:stream";
import { GetObjectCommand, NoSuchKey } from "@aws-sdk/client-s3";
import { OperatorError } from "../../errors.ts";
import { s3Error } from "../../s3/client.ts";
import type { RestorePeerFile } from "./contract.ts";
import type { RestoreContext } from "./run-context.ts";

/**
 * The object's body, checked to be the size the manifest says (a different object is not this
 * backup): the stored size when the object is compressed or encrypted, the snapshot's otherwise.
 */
export async function openObject(ctx: RestoreContext, file: RestorePeerFile): Promise<Readable> {
  const { body, contentLength } = await getObject(ctx, file);
  const want = file.stored?.size ?? file.size;
  if (contentLength !== undefined && contentLength !== want) {
    body.destroy();
    throw new OperatorError("BACKUP_OBJECTS_MISSING", `object ${file.key} of backup ${ctx.plan.backupId} is ${contentLength} bytes, the manifest says ${want}`);
  }
  return body;
}

/** The object's first `bytes` bytes (fewer when it is shorter): a ranged GET, so nothing else is transferred. */
export async function openObjectStart(ctx: RestoreContext, file: RestorePeerFile, bytes: number): Promise<Readable> {
  return (await getObject(ctx, file, `bytes=0-${bytes - 1}`)).body;
}

async function getObject(ctx: RestoreContext, file: RestorePeerFile, range?: string): Promise<{ body: Readable; contentLength?: number }> {
  const { plan } = ctx;
  let got;
  try {
    got = await ctx.s3.send(new GetObjectCommand({ Bucket: plan.s3.bucket, Key: file.key, ...(range ? { Range: range } : {}) }), { abortSignal: ctx.signal });
  } catch (err) {
    if (err instanceof NoSuchKey || (err as { name?: string }).name === "NoSuchKey") {
      throw new OperatorError("BACKUP_OBJECTS_MISSING", `object ${file.key} of backup ${plan.backupId} is missing from bucket "${plan.s3.bucket}"`, { cause: err });
    }
    throw s3Error(err, plan.s3.bucket, "GetObject");
  }
  const raw = got.Body as Readable | undefined;
  if (!raw) throw new OperatorError("S3_ERROR", `GetObject ${file.key} on bucket "${plan.s3.bucket}": the answer has no body`);
  return { body: coded(raw, plan.s3.bucket, file.key), ...(got.ContentLength !== undefined ? { contentLength: got.ContentLength } : {}) };
}

/** `raw`'s bytes; its error (S3 gone mid-body) as s3Error's. Destroying the result destroys `raw`. */
function coded(raw: Readable, bucket: string, key: string): Readable {
  const out = new PassThrough();
  raw.on("error", (err) => out.destroy(s3Error(err, bucket, `reading ${key}`)));
  out.on("close", () => raw.destroy());
  raw.pipe(out);
  return out;
}
