/**
 * Turns a failed Job's words into a status message that says what to fix. Qdrant's and S3's own words are
 * kept; the backup's spec has no URL, key or bucket, so the message also names the QdrantConnection or
 * QdrantBackupLocation and its field (a connection's failures in the words its own condition uses:
 * shared/explain-connection.ts). A failure that was retried says how often, and what bounds it.
 */
import { DEFAULT_ACCESS_KEY_ID_KEY, DEFAULT_SECRET_ACCESS_KEY_KEY, type BackupLocationObject } from "../shared/resolve-location.ts";
import type { QdrantConnectionObject } from "../shared/resolve-connection.ts";
import { explainConnectionFailure } from "../shared/explain-connection.ts";
import type { JobOutcome } from "./job-result.ts";
import type { JobObject } from "../shared/job-objects.ts";

export function explainFailure(outcome: JobOutcome, job: JobObject, connection: QdrantConnectionObject, location: BackupLocationObject): JobOutcome {
  if (outcome.phase !== "Failed") return outcome;
  let explained = explainWords(outcome.reason, outcome.message, connection, location);
  const failedCondition = job.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True");
  if (failedCondition?.reason === "BackoffLimitExceeded") {
    const attempts = job.status?.failed ?? 0;
    const limit = typeof job.spec?.backoffLimit === "number" ? ` ${job.spec.backoffLimit}` : "";
    explained += ` (tried ${attempts} time${attempts === 1 ? "" : "s"}; spec.job.backoffLimit${limit} bounds the retries)`;
  }
  return { ...outcome, message: explained };
}

/** A failure's words (the Job's, or one retried attempt's: attempts.ts) naming the reference and field to fix. */
export function explainWords(reason: string, message: string, connection: QdrantConnectionObject, location: BackupLocationObject): string {
  return explainConnectionFailure(reason, message, connection, { from: "the Job's pod" }) ?? explainOther(reason, message, connection, location);
}

/** A failure that is not the connection's: a collection, or the location's bucket and credentials. */
function explainOther(reason: string, message: string, connection: QdrantConnectionObject, location: BackupLocationObject): string {
  const loc = `QdrantBackupLocation ${location.metadata?.name ?? ""}`;
  const namespace = location.metadata?.namespace ?? "";
  const creds = location.spec.s3.credentials.secretRef;
  switch (reason) {
    case "CollectionNotFound":
      return `spec.collections (in the Qdrant of QdrantConnection ${connection.metadata?.name ?? ""}): ${message}`;
    case "StorageAccessDenied": {
      const from = creds ? `Secret ${namespace}/${creds.name} (keys ${creds.accessKeyIdKey ?? DEFAULT_ACCESS_KEY_ID_KEY}, ${creds.secretAccessKeyKey ?? DEFAULT_SECRET_ACCESS_KEY_KEY})` : "the Job pod's own identity (no spec.s3.credentials.secretRef)";
      return `${loc} ${message}; the credentials come from ${from}`;
    }
    case "BucketNotFound":
      return `${loc} ${message}; create the bucket or name an existing one`;
    case "ServerSideEncryptionRefused":
      return `${loc} ${message}`;
    case "StorageUnreachable":
    case "StorageError":
      return `${loc} (${location.spec.s3.endpoint ? `spec.s3.endpoint ${location.spec.s3.endpoint}` : "AWS S3"}): ${message}`;
    default:
      return message;
  }
}
