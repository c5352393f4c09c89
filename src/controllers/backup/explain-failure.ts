/**
 * Turns a failed Job's words into a status message that says what to fix. Qdrant's and S3's own words are
 * kept; the backup's spec has no URL, key or bucket, so the message also names the QdrantConnection or
 * QdrantBackupLocation and its field. A failure that was retried says how often, and what bounds it.
 */
import { DEFAULT_ACCESS_KEY_ID_KEY, DEFAULT_SECRET_ACCESS_KEY_KEY, type BackupLocationObject } from "../shared/resolve-location.ts";
import type { QdrantConnectionObject } from "../shared/resolve-connection.ts";
import type { JobOutcome } from "./job-result.ts";
import type { JobObject } from "../shared/job-objects.ts";

export function explainFailure(outcome: JobOutcome, job: JobObject, connection: QdrantConnectionObject, location: BackupLocationObject): JobOutcome {
  if (outcome.phase !== "Failed") return outcome;
  const conn = `QdrantConnection ${connection.metadata?.name ?? ""}`;
  const loc = `QdrantBackupLocation ${location.metadata?.name ?? ""}`;
  const namespace = location.metadata?.namespace ?? "";
  const keyRef = connection.spec.apiKeySecretRef;
  const creds = location.spec.s3.credentials.secretRef;
  const { message } = outcome;
  let explained: string;
  switch (outcome.reason) {
    case "QdrantUnreachable":
      explained = `${conn} did not answer: ${message}; check its ${connection.spec.url !== undefined ? "spec.url" : "spec.service"} and that Qdrant is running and reachable from the Job's pod`;
      break;
    case "QdrantUnauthorized":
      explained = keyRef
        ? `${conn} spec.apiKeySecretRef: Qdrant refused the API key from Secret ${namespace}/${keyRef.name} key "${keyRef.key}": ${message}; put Qdrant's API key there`
        : `${conn} has no spec.apiKeySecretRef and Qdrant asks for an API key: ${message}`;
      break;
    case "QdrantError":
    case "QdrantNotFound":
      explained = `${conn}: ${message}`;
      break;
    case "CollectionNotFound":
      explained = `spec.collections (in the Qdrant of ${conn}): ${message}`;
      break;
    case "StorageAccessDenied": {
      const from = creds ? `Secret ${namespace}/${creds.name} (keys ${creds.accessKeyIdKey ?? DEFAULT_ACCESS_KEY_ID_KEY}, ${creds.secretAccessKeyKey ?? DEFAULT_SECRET_ACCESS_KEY_KEY})` : "the Job pod's own identity (no spec.s3.credentials.secretRef)";
      explained = `${loc} ${message}; the credentials come from ${from}`;
      break;
    }
    case "BucketNotFound":
      explained = `${loc} ${message}; create the bucket or name an existing one`;
      break;
    case "StorageUnreachable":
    case "StorageError":
      explained = `${loc} (${location.spec.s3.endpoint ? `spec.s3.endpoint ${location.spec.s3.endpoint}` : "AWS S3"}): ${message}`;
      break;
    default:
      explained = message;
  }
  const failedCondition = job.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True");
  if (failedCondition?.reason === "BackoffLimitExceeded") {
    const attempts = job.status?.failed ?? 0;
    const limit = typeof job.spec?.backoffLimit === "number" ? ` ${job.spec.backoffLimit}` : "";
    explained += ` (tried ${attempts} time${attempts === 1 ? "" : "s"}; spec.job.backoffLimit${limit} bounds the retries)`;
  }
  return { ...outcome, message: explained };
}
