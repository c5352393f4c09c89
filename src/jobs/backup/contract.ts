/**
 * The contract between the QdrantBackup controller and the `job backup` command its Job runs.
 *
 * Input: the plan as JSON in the BACKUP_PLAN environment variable (nothing secret in it), and the
 * secrets as environment variables the pod spec fills from Secrets with secretKeyRef — so no credential
 * is ever written into a Job object, and the Job's pod needs no Kubernetes API rights.
 *
 * Output: one JSON line (BackupJobResult) in the container's termination message
 * (/dev/termination-log, at most 4 KiB: kubelets truncate beyond it), which the controller reads from
 * the Pod's status. The exit code tells the Job controller whether to retry: see EXIT_CODES.
 */

/** Environment variables of the backup Job's container. */
export const BACKUP_ENV = {
  plan: "BACKUP_PLAN",
  qdrantApiKey: "QDRANT_API_KEY",
  awsAccessKeyId: "AWS_ACCESS_KEY_ID",
  awsSecretAccessKey: "AWS_SECRET_ACCESS_KEY",
  awsSessionToken: "AWS_SESSION_TOKEN",
  /** Path of a PEM file (a mounted Secret) with Qdrant's CA. */
  qdrantCaFile: "QDRANT_CA_FILE",
  /** Path of a PEM file (a mounted Secret) with the S3 endpoint's CA. */
  s3CaFile: "S3_CA_FILE",
  /** Where to write the result; defaults to /dev/termination-log. */
  resultFile: "RESULT_FILE",
} as const;

/**
 * Exit codes. The Job's podFailurePolicy ends the Job at once on PERMANENT (retrying cannot fix a
 * missing collection or a refused key); any other failure is retried up to backoffLimit.
 */
export const EXIT_CODES = { SUCCESS: 0, RETRYABLE: 1, PERMANENT: 2 } as const;

export interface BackupJobPlan {
  version: 1;
  /** backupId(creationTimestamp, uid) of the QdrantBackup: fixed before the Job starts, so retries write the same keys. */
  backupId: string;
  mode: "Collection" | "FullStorage";
  /** Collection mode: which collections, resolved by the Job when it starts. */
  collections?: { names?: string[]; all?: boolean; pattern?: string };
  qdrant: {
    url: string;
    timeoutSeconds: number;
    discovery: { mode: "Cluster" | "Static" | "None"; restPort: number; scheme: "http" | "https"; urls?: string[] };
    tls?: { serverName?: string; insecureSkipVerify?: boolean };
  };
  s3: {
    bucket: string;
    prefix?: string;
    region: string;
    endpoint?: string;
    forcePathStyle: boolean;
    serverSideEncryption?: { type: "AES256" | "aws:kms"; kmsKeyId?: string };
    storageClass?: string;
  };
  /** Recorded in every manifest, and part of every key (namespace, connection). */
  source: {
    namespace: string;
    connection: string;
    backupName: string;
    backupUid: string;
    scheduleName?: string;
    scheduledTime?: string;
    clusterId?: string;
  };
  operatorVersion: string;
}

export interface BackupJobFile {
  peerId: string;
  key: string;
  size: number;
  sha256: string;
}

export interface BackupJobCollectionResult {
  name: string;
  manifestKey: string;
  pointsCount: number;
  sizeBytes: number;
  /** Dropped when the message would exceed 4 KiB; the manifest has them. */
  files?: BackupJobFile[];
}

export type BackupJobResult =
  | {
      ok: true;
      backupId: string;
      startTime: string;
      completionTime: string;
      sizeBytes: number;
      /** Collection mode: one entry per collection, each with its own manifest. */
      collections?: BackupJobCollectionResult[];
      /** FullStorage mode: the backup's one manifest, its files (one per peer) and what the storage held. */
      manifestKey?: string;
      files?: BackupJobFile[];
      storage?: { collections: Array<{ name: string; pointsCount?: number; aliases: string[] }> };
    }
  | {
      ok: false;
      /** CamelCase, from src/errors.ts (e.g. QdrantError, StorageAccessDenied, CollectionNotFound). */
      reason: string;
      /** What failed, in Qdrant's or S3's own words (e.g. "No space left on device"); secrets scrubbed. */
      message: string;
      retryable: boolean;
    };

/** Termination messages beyond this are truncated by the kubelet. */
export const MAX_RESULT_BYTES = 4096;
