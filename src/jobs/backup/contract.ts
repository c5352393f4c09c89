/**
 * The contract between the QdrantBackup controller and the `job backup` command its Job runs, as TypeBox
 * schemas: the controller checks the plan it builds against BackupJobPlan before it creates the Job, the
 * Job checks it again when it starts (plan.ts), and the controller reads the Job's result through
 * BackupJobSuccess (src/controllers/backup/job-result.ts). The protocol around them — the environment,
 * the termination message, exit codes, SIGTERM, redaction — is every Job's (src/jobs/protocol/).
 *
 * Input: the plan as JSON in BACKUP_PLAN (nothing secret in it), and the secrets as environment
 * variables the pod spec fills from Secrets with secretKeyRef — so no credential is ever written into a
 * Job object, and the Job's pod needs no Kubernetes API rights.
 *
 * Output: one JSON line (BackupJobResult) in the container's termination message, and the exit code.
 */
import { Type, type Static } from "@sinclair/typebox";
import { StringEnum } from "../../api/schema-helpers.ts";
import { JOB_ENV } from "../protocol/env.ts";
import { HttpUrl, QdrantPlan } from "../protocol/qdrant-plan.ts";
import type { JobFailure } from "../protocol/failure.ts";
import { DROP_INVALID_ITEMS } from "../protocol/schema-check.ts";

/** Environment variables of the backup Job's container: its plan, and every Job's (src/jobs/protocol/env.ts). */
export const BACKUP_ENV = { plan: "BACKUP_PLAN", ...JOB_ENV } as const;

const Name = (description?: string) => Type.String({ minLength: 1, ...(description ? { description } : {}) });
const Count = Type.Integer({ minimum: 0 });

/** A collection a backup leaves out on purpose, and why (in the plan, every manifest and the result). */
export const ExcludedCollection = Type.Object({ name: Name(), reason: Name() });
export type ExcludedCollection = Static<typeof ExcludedCollection>;

export const BackupJobPlan = Type.Object({
  version: Type.Literal(1),
  backupId: Name("backupId(creationTimestamp, uid) of the QdrantBackup: fixed before the Job starts, so retries write the same keys."),
  mode: StringEnum(["Collection", "FullStorage"] as const),
  /** Collection mode: which collections, resolved by the Job when it starts. */
  collections: Type.Optional(
    Type.Object({
      names: Type.Optional(Type.Array(Name(), { minItems: 1 })),
      all: Type.Optional(Type.Literal(true)),
      pattern: Type.Optional(Name()),
    }),
  ),
  qdrant: QdrantPlan,
  s3: Type.Object({
    bucket: Name(),
    prefix: Type.Optional(Type.String()),
    region: Name(),
    endpoint: Type.Optional(HttpUrl),
    forcePathStyle: Type.Boolean(),
    serverSideEncryption: Type.Optional(Type.Object({ type: StringEnum(["AES256", "aws:kms"] as const), kmsKeyId: Type.Optional(Type.String()) })),
    storageClass: Type.Optional(Type.String()),
  }),
  /**
   * How each snapshot object is stored (the location's spec.compression and spec.encryption): compress,
   * then encrypt, both while streaming. The age key file itself comes by the ENCRYPTION_KEYS variable
   * (JOB_ENV.encryptionKeys, from the Secret by secretKeyRef), never in the plan.
   */
  encoding: Type.Optional(
    Type.Object({
      compression: Type.Optional(Type.Object({ algorithm: Type.Literal("zstd"), level: Type.Integer({ minimum: 1, maximum: 22 }) })),
      /** keyRef: which Secret key holds the key file ("<secret>/<key>"), recorded in the manifest. */
      encryption: Type.Optional(Type.Object({ scheme: Type.Literal("age-v1"), keyRef: Name() })),
    }),
  ),
  /** The location's spec.objectLock: every object of the backup, manifest included, is written locked until the Job's start plus retainDays. */
  objectLock: Type.Optional(Type.Object({ mode: StringEnum(["Governance", "Compliance"] as const), retainDays: Type.Integer({ minimum: 1 }) })),
  /** Recorded in every manifest, and part of every key (namespace, connection). */
  source: Type.Object({
    namespace: Name(),
    connection: Name(),
    backupName: Name(),
    backupUid: Name(),
    scheduleName: Type.Optional(Type.String()),
    scheduledTime: Type.Optional(Type.String()),
    clusterId: Type.Optional(Type.String()),
  }),
  operatorVersion: Name(),
  /**
   * Collections the operator is building on this Qdrant (a drill's temporary collection, a rollout's
   * green one before promotion), which `all` and a pattern leave out; names in `collections.names` are
   * backed up whatever this says. Computed by the controller (src/controllers/backup/collections-being-built.ts).
   */
  exclude: Type.Optional(Type.Array(ExcludedCollection)),
});
export type BackupJobPlan = Static<typeof BackupJobPlan>;

export const BackupJobFile = Type.Object({ peerId: Type.String(), key: Type.String(), size: Count, sha256: Type.String({ pattern: "^[0-9a-f]{64}$" }) });
export type BackupJobFile = Static<typeof BackupJobFile>;

/** A status must never show a checksum that is not one: malformed file entries are left out, the rest kept. */
const Files = Type.Array(BackupJobFile, { [DROP_INVALID_ITEMS]: true });

export const BackupJobCollectionResult = Type.Object({
  name: Type.String(),
  manifestKey: Type.String(),
  pointsCount: Count,
  sizeBytes: Count,
  /** Dropped when the message would exceed 4 KiB; the manifest has them. */
  files: Type.Optional(Files),
});
export type BackupJobCollectionResult = Static<typeof BackupJobCollectionResult>;

export const BackupJobSuccess = Type.Object({
  ok: Type.Literal(true),
  backupId: Type.String(),
  startTime: Type.String(),
  completionTime: Type.String(),
  sizeBytes: Count,
  /** Collection mode: one entry per collection, each with its own manifest. */
  collections: Type.Optional(Type.Array(BackupJobCollectionResult)),
  /** FullStorage mode: the backup's one manifest, its files (one per peer) and what the storage held. */
  manifestKey: Type.Optional(Type.String()),
  files: Type.Optional(Files),
  /** Collection mode, `all` or a pattern: the collections it matched and left out (the plan's exclude that existed). */
  excluded: Type.Optional(Type.Array(ExcludedCollection)),
  /** Set when the location asks for Object Lock: the retain-until date every object of the backup was written with. */
  objectLock: Type.Optional(Type.Object({ mode: StringEnum(["Governance", "Compliance"] as const), retainUntil: Type.String() })),
  /** Set when collections (or the storage's collections) were cut from the end to fit the termination message; the manifests list them all. */
  truncated: Type.Optional(Type.Literal(true)),
  storage: Type.Optional(
    Type.Object({
      collections: Type.Array(
        Type.Object({ name: Type.String(), pointsCount: Type.Optional(Count), aliases: Type.Array(Type.String(), { [DROP_INVALID_ITEMS]: true }) }),
        { [DROP_INVALID_ITEMS]: true },
      ),
    }),
  ),
});
export type BackupJobSuccess = Static<typeof BackupJobSuccess>;

export type BackupJobResult = BackupJobSuccess | JobFailure;
