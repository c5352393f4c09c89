/**
 * The thin S3 adapter: a client for a QdrantBackupLocation (static credentials from a Secret, or the
 * SDK's default chain for the pod's own identity), and S3 errors turned into coded errors whose messages
 * say what to fix.
 */
import { HeadBucketCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import type { S3Location } from "../api/v1alpha1/backup-location.ts";
import type { Static } from "@sinclair/typebox";
import { OperatorError } from "../errors.ts";

export type S3LocationSpec = Static<typeof S3Location>;

export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export function s3ClientFor(spec: S3LocationSpec, credentials: StaticCredentials | undefined): S3Client {
  return new S3Client({
    region: spec.region ?? "us-east-1",
    ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
    forcePathStyle: spec.forcePathStyle ?? false,
    ...(credentials ? { credentials } : {}),
    maxAttempts: 3,
  });
}

/** Maps an SDK error of an operation on `bucket` to a coded error. */
export function s3Error(err: unknown, bucket: string, what: string): OperatorError {
  if (err instanceof S3ServiceException) {
    const status = err.$metadata.httpStatusCode;
    if (err.name === "NoSuchBucket" || (err.name === "NotFound" && what === "HeadBucket")) {
      return new OperatorError("S3_BUCKET_NOT_FOUND", `spec.s3.bucket: bucket "${bucket}" does not exist`, { cause: err });
    }
    const code = s3Code(err);
    if (status === 403 || ["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "Forbidden"].includes(err.name)) {
      return new OperatorError("S3_ACCESS_DENIED", `spec.s3.credentials: ${what} on bucket "${bucket}" was refused (${code ?? `HTTP ${status ?? "?"}`}); check the access key, secret and the bucket's policy`, { cause: err });
    }
    return new OperatorError("S3_ERROR", `${what} on bucket "${bucket}": ${code ? `${code} ` : ""}(HTTP ${status ?? "?"})`, { cause: err });
  }
  const cause = (err as { cause?: { code?: string } } | undefined)?.cause?.code ?? (err as { code?: string } | undefined)?.code;
  return new OperatorError("S3_UNREACHABLE", `${what} on bucket "${bucket}": ${cause ?? (err instanceof Error ? err.message : String(err))}`, { cause: err });
}

/**
 * S3's error code, or undefined when S3 sent none: a HEAD request's answer has no body, and the SDK then
 * names the error "Unknown" with the message "UnknownError", which says nothing to a reader.
 */
export function s3Code(err: S3ServiceException): string | undefined {
  return err.name && err.name !== "Unknown" && err.name !== "UnknownError" ? err.name : undefined;
}

/** S3's own words, without the SDK's placeholders for an answer that had none. */
export function s3Words(err: S3ServiceException): string | undefined {
  const m = err.message;
  return m && m !== "UnknownError" && m !== "Unknown" ? m : undefined;
}

/** Checks the bucket exists and the credentials may use it. */
export async function checkBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (err) {
    throw s3Error(err, bucket, "HeadBucket");
  }
}
