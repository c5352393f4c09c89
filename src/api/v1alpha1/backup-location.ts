/**
 * QdrantBackupLocation: where backups live (an S3-compatible bucket and prefix) and how to reach it.
 * Its own resource, like Velero's BackupStorageLocation: every schedule, backup and restore names it,
 * credentials stay in one place, and a fresh cluster that has only the bucket can point a ReadOnly
 * location at it and restore.
 */
import { Type, type Static } from "@sinclair/typebox";
import { cel, StringEnum } from "../schema-helpers.ts";
import { Conditions, SecretKeySelector } from "./common.ts";

export const S3Credentials = Type.Object(
  {
    secretRef: Type.Optional(
      Type.Object(
        {
          name: Type.String({ description: "Secret in the same namespace.", minLength: 1 }),
          accessKeyIdKey: Type.Optional(Type.String({ default: "AWS_ACCESS_KEY_ID" })),
          secretAccessKeyKey: Type.Optional(Type.String({ default: "AWS_SECRET_ACCESS_KEY" })),
          sessionTokenKey: Type.Optional(Type.String({ description: "Key of a session token, for temporary credentials." })),
        },
        { description: "Static credentials from a Secret." },
      ),
    ),
    fromEnvironment: Type.Optional(
      Type.Boolean({ description: "Use the pod's own identity (IRSA / EKS Pod Identity, instance profile, AWS_* env): the AWS SDK's default chain." }),
    ),
  },
  {
    description: "Credentials for the bucket: exactly one of secretRef or fromEnvironment: true.",
    ...cel({ rule: "has(self.secretRef) != (has(self.fromEnvironment) && self.fromEnvironment)", message: "set exactly one of secretRef or fromEnvironment: true" }),
  },
);

export const S3Location = Type.Object(
  {
    bucket: Type.String({ description: "Bucket name.", minLength: 3, maxLength: 63, pattern: "^[a-z0-9][a-z0-9.-]*[a-z0-9]$" }),
    prefix: Type.Optional(Type.String({ description: "Key prefix under which this location's backups are written, e.g. qdrant/prod.", maxLength: 512, pattern: "^([^/].*[^/]|[^/])?$" })),
    region: Type.Optional(Type.String({ description: "Bucket region.", default: "us-east-1" })),
    endpoint: Type.Optional(Type.String({ description: "S3 endpoint for S3-compatible storage (MinIO, Ceph, R2…); empty means AWS.", pattern: "^https?://" })),
    forcePathStyle: Type.Optional(Type.Boolean({ description: "Path-style addressing (bucket in the path), which most S3-compatible stores need.", default: false })),
    credentials: S3Credentials,
    caSecretRef: Type.Optional({ ...SecretKeySelector, description: "PEM CA bundle for a private endpoint's certificate." }),
    serverSideEncryption: Type.Optional(
      Type.Object(
        {
          type: StringEnum(["AES256", "aws:kms"] as const, { description: "SSE-S3 (AES256) or SSE-KMS." }),
          kmsKeyId: Type.Optional(Type.String({ description: "KMS key id or ARN (aws:kms)." })),
        },
        { ...cel({ rule: "self.type == 'aws:kms' || !has(self.kmsKeyId)", message: "kmsKeyId applies only to type aws:kms", fieldPath: ".kmsKeyId" }) },
      ),
    ),
    storageClass: Type.Optional(Type.String({ description: "Storage class of written objects, e.g. STANDARD_IA." })),
  },
  { description: "An S3-compatible bucket." },
);

export const QdrantBackupLocationSpec = Type.Object(
  {
    s3: S3Location,
    accessMode: Type.Optional(
      StringEnum(["ReadWrite", "ReadOnly"] as const, {
        description: "ReadOnly: restores may read, nothing writes or deletes (a bucket shared with another cluster).",
        default: "ReadWrite",
      }),
    ),
    compression: Type.Optional(
      Type.Object(
        {
          algorithm: StringEnum(["None", "Zstd"] as const, { default: "None", description: "Zstd: the backup Job compresses each snapshot while streaming it (objects end in .zst; the zstd command reads them)." }),
          level: Type.Optional(Type.Integer({ minimum: 1, maximum: 22, description: "Zstandard level (default 3): higher is smaller and slower." })),
        },
        {
          description: "Streaming compression of snapshot objects: the backup Job compresses each snapshot with zstd while streaming it (objects end in .zst; `zstd -d` reads them). Qdrant cannot pull such objects itself: restores stream them through a Job (method Upload, which Auto chooses; Pull is refused).",
          ...cel({ rule: "self.algorithm == 'Zstd' || !has(self.level)", message: "level applies only to algorithm Zstd", fieldPath: ".level" }),
        },
      ),
    ),
    encryption: Type.Optional(
      Type.Object(
        {
          keySecretRef: {
            ...SecretKeySelector,
            description:
              "Secret key holding an age key file: AGE-SECRET-KEY-1… identities and/or age1… recipients, one per line, # comments. Backups are encrypted to the first identity's recipient and to every recipient line; restores try every identity. To rotate, put the new identity first and keep the old one after it until the old backups are gone.",
          },
        },
        { description: "Client-side encryption in the age format, after compression: the backup Job encrypts each snapshot while streaming it (objects end in .age; `age -d -i <identities>` decrypts them). Qdrant cannot pull such objects itself: restores decrypt them in a Job (method Upload, which Auto chooses; Pull is refused), after opening every object's header, so a wrong key changes nothing." },
      ),
    ),
    objectLock: Type.Optional(
      Type.Object(
        {
          mode: StringEnum(["Governance", "Compliance"] as const, { description: "S3 Object Lock retention mode of every object of a backup." }),
          retainDays: Type.Integer({ minimum: 1, maximum: 36500, description: "Each backup's objects (its manifest included) cannot be deleted for this many days after the backup; retention prunes a backup only after that date." }),
        },
        {
          description:
            "Immutable backups through S3 Object Lock (#15). The bucket must have Object Lock enabled (otherwise Ready is False, reason ObjectLockNotEnabled, and no backup starts). Deleting a backup's data (deletionPolicy Delete, retention) deletes every version of its objects, and never before its retain-until date: it reports \"Locked until <date>\" and deletes them after it. Every object of a backup, its manifest included, is written with this mode and a retain-until date of the backup Job's start plus retainDays (status.objectLock of the QdrantBackup).",
        },
      ),
    ),
  },
  { description: "Where backups live." },
);
export type QdrantBackupLocationSpec = Static<typeof QdrantBackupLocationSpec>;

export const QdrantBackupLocationStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  conditions: Type.Optional(Conditions),
  lastValidationTime: Type.Optional(
    Type.String({
      format: "date-time",
      description: "When a validation (every five minutes) last changed this status. One that finds everything as recorded writes nothing; when the last one ran is the manager's metric qdrant_operator_check_timestamp_seconds.",
    }),
  ),
});
export type QdrantBackupLocationStatus = Static<typeof QdrantBackupLocationStatus>;
