/**
 * The environment variables through which any of the operator's Jobs receives a QdrantConnection's and a
 * QdrantBackupLocation's Secrets: the same names for every kind of Job that reaches Qdrant or S3 (backup
 * now; restore upload and rollout copy next), so the reference resolvers hand over a connection or a
 * location the same way whatever the Job. The values come by secretKeyRef (the kubelet resolves them on
 * the node; the Job object names only the Secret), the CAs as mounted Secret files whose paths are here.
 * Each kind adds its own plan variable.
 */
export const JOB_ENV = {
  qdrantApiKey: "QDRANT_API_KEY",
  awsAccessKeyId: "AWS_ACCESS_KEY_ID",
  awsSecretAccessKey: "AWS_SECRET_ACCESS_KEY",
  awsSessionToken: "AWS_SESSION_TOKEN",
  /** Path of a PEM file (a mounted Secret) with Qdrant's CA. */
  qdrantCaFile: "QDRANT_CA_FILE",
  /** Path of a PEM file (a mounted Secret) with the S3 endpoint's CA. */
  s3CaFile: "S3_CA_FILE",
  /** The location's age key file (spec.encryption.keySecretRef), for Jobs that encrypt or decrypt objects. */
  encryptionKeys: "ENCRYPTION_KEYS",
  /** Where to write the result; defaults to /dev/termination-log (termination-message.ts). */
  resultFile: "RESULT_FILE",
} as const;

/** The variables whose values are secrets: every Job command registers them with its redactor. */
export const JOB_SECRET_ENV = [JOB_ENV.qdrantApiKey, JOB_ENV.awsSecretAccessKey, JOB_ENV.awsSessionToken, JOB_ENV.encryptionKeys] as const;
