/**
 * The operator's one registry of coded errors. Each code maps to the CamelCase reason a condition or
 * Event shows and says whether retrying can help, so controllers decide retry-vs-terminal from the code
 * instead of from message text. Runtime-level errors (conflicts, leader election) live in
 * src/runtime/errors.ts, which knows nothing about Qdrant or S3.
 */

export const ERROR_CODES = {
  INVALID_SPEC: { reason: "InvalidSpec", retryable: false, summary: "the resource's spec is invalid" },
  SECRET_NOT_FOUND: { reason: "SecretNotFound", retryable: true, summary: "a referenced Secret or key does not exist" },
  SECRET_NOT_READABLE: { reason: "SecretNotReadable", retryable: true, summary: "the operator may not read a referenced Secret (its RBAC, or an admission policy, refuses it)" },
  JOB_REFUSED: { reason: "JobRefused", retryable: true, summary: "the apiserver refused to create a Job (a ResourceQuota, an admission webhook or policy, the operator's RBAC)" },
  REFERENCE_NOT_FOUND: { reason: "ReferenceNotFound", retryable: true, summary: "a referenced resource does not exist" },
  QDRANT_UNREACHABLE: { reason: "QdrantUnreachable", retryable: true, summary: "Qdrant did not answer" },
  QDRANT_UNAUTHORIZED: { reason: "QdrantUnauthorized", retryable: false, summary: "Qdrant refused the API key" },
  QDRANT_API_ERROR: { reason: "QdrantError", retryable: true, summary: "Qdrant answered with an error" },
  QDRANT_NOT_FOUND: { reason: "QdrantNotFound", retryable: false, summary: "Qdrant does not have the named object" },
  S3_UNREACHABLE: { reason: "StorageUnreachable", retryable: true, summary: "the object storage did not answer" },
  S3_ACCESS_DENIED: { reason: "StorageAccessDenied", retryable: false, summary: "the object storage refused the credentials" },
  S3_BUCKET_NOT_FOUND: { reason: "BucketNotFound", retryable: false, summary: "the bucket does not exist" },
  S3_ENCRYPTION_REFUSED: { reason: "ServerSideEncryptionRefused", retryable: false, summary: "the object storage refused a write with the location's server-side encryption" },
  S3_ERROR: { reason: "StorageError", retryable: true, summary: "the object storage answered with an error" },
  BACKUP_PLAN_INVALID: { reason: "InvalidBackupPlan", retryable: false, summary: "the backup Job's plan is invalid" },
  COLLECTION_NOT_FOUND: { reason: "CollectionNotFound", retryable: false, summary: "a collection to back up does not exist" },
  JOB_TERMINATED: { reason: "Terminated", retryable: true, summary: "the Job's process was asked to stop (SIGTERM) before it finished" },
  SNAPSHOT_CORRUPT: { reason: "SnapshotCorrupt", retryable: true, summary: "a downloaded snapshot's size or checksum differs from what Qdrant reported" },
  BACKUP_NOT_FOUND: { reason: "BackupNotFound", retryable: true, summary: "no backup matches a restore's source (it may appear later)" },
  BACKUP_NOT_USABLE: { reason: "BackupNotUsable", retryable: true, summary: "the backups a restore's source matches are incomplete, unfinished, failed or being deleted" },
  SOURCE_COLLECTION_REQUIRED: { reason: "SourceCollectionRequired", retryable: false, summary: "the backup holds several collections and the restore does not say which" },
  COLLECTION_NOT_IN_BACKUP: { reason: "CollectionNotInBackup", retryable: false, summary: "the backup does not hold the collection the restore names" },
  MANIFEST_UNREADABLE: { reason: "ManifestUnreadable", retryable: true, summary: "a backup's manifest cannot be read or is corrupt" },
  BACKUP_OBJECTS_MISSING: { reason: "BackupObjectsMissing", retryable: true, summary: "objects a backup's manifest lists are missing from the bucket, or differ in size" },
  BACKUP_UNSUPPORTED: { reason: "UnsupportedBackup", retryable: false, summary: "the backup needs a transformation this operator cannot do (a codec or encryption scheme it does not know)" },
  // Compression, client-side encryption and Object Lock (#15)
  ENCRYPTION_KEY_INVALID: { reason: "InvalidEncryptionKey", retryable: false, summary: "the location's encryption key Secret does not hold a usable age key file (no AGE-SECRET-KEY-1 identity or age1 recipient)" },
  ENCRYPTION_KEY_REQUIRED: { reason: "EncryptionKeyRequired", retryable: true, summary: "the backup is encrypted and its location names no encryption key (spec.encryption.keySecretRef)" },
  DECRYPT_WRONG_IDENTITY: { reason: "WrongEncryptionKey", retryable: false, summary: "cannot decrypt: none of the key file's identities opens the backup's objects (wrong identity)" },
  BACKUP_CORRUPT: { reason: "BackupCorrupt", retryable: false, summary: "a stored object fails to decrypt or decompress, or its bytes differ from the manifest's checksum" },
  OBJECT_LOCK_NOT_ENABLED: { reason: "ObjectLockNotEnabled", retryable: false, summary: "the location asks for Object Lock and its bucket has none (it must be created with Object Lock enabled)" },
  BACKUP_LOCKED: { reason: "Locked", retryable: true, summary: "S3 Object Lock keeps the backup's objects until a date: it is pruned after it" },
  METHOD_NOT_POSSIBLE: { reason: "MethodNotPossible", retryable: false, summary: "the restore's method cannot restore this backup (Pull of a backup the Job must transform)" },
  TARGET_EXISTS: { reason: "TargetExists", retryable: true, summary: "the restore's target collection exists and overwrite is not set" },
  TARGET_IS_ALIAS: { reason: "TargetIsAlias", retryable: true, summary: "the restore's target collection name is an alias (recovering into it would overwrite the collection behind it)" },
  TARGET_INCOMPATIBLE: { reason: "TargetIncompatible", retryable: false, summary: "the existing target collection's vectors or shard number differ from the backup's, so it cannot be overwritten in place" },
  TOPOLOGY_MISMATCH: { reason: "TopologyMismatch", retryable: true, summary: "the target Qdrant has fewer peers than the backup has peers with data" },
  SNAPSHOT_CHECKSUM_MISMATCH: { reason: "ChecksumMismatch", retryable: false, summary: "Qdrant found a snapshot's checksum differs from the manifest's" },
  RESTORE_PLAN_INVALID: { reason: "InvalidRestorePlan", retryable: false, summary: "the restore Job's plan is invalid" },
  VERIFICATION_FAILED: { reason: "VerificationFailed", retryable: false, summary: "the restored collection failed a check (points count, shard states)" },
  VERIFICATION_TIMEOUT: { reason: "VerificationTimeout", retryable: true, summary: "the restored collection did not become green and Active within verify.timeoutSeconds" },
  RESTORE_PARTIAL: { reason: "RestorePartial", retryable: false, summary: "an overwrite in place failed after some peers recovered: the target holds a mix" },
  // CollectionRollout (src/controllers/rollout/)
  ALIAS_HELD: { reason: "WaitingForAlias", retryable: true, summary: "another CollectionRollout is rolling out the same alias on the same Qdrant; this one waits for it" },
  ALIAS_IS_COLLECTION: { reason: "AliasIsCollection", retryable: true, summary: "a collection has the alias's name (Qdrant forbids an alias named like a collection)" },
  GREEN_IS_ACTIVE: { reason: "GreenIsActive", retryable: false, summary: "the green collection is the one the alias points at (or the copy's source)" },
  GREEN_IS_ALIAS: { reason: "GreenIsAlias", retryable: true, summary: "the green collection's name is an alias" },
  GREEN_NOT_OURS: { reason: "GreenExists", retryable: true, summary: "the green collection exists and this rollout did not create it (the name is the lock)" },
  GREEN_MISSING: { reason: "GreenMissing", retryable: true, summary: "external: the green collection does not exist yet (your pipeline creates it), or it went away" },
  SOURCE_NOT_FOUND: { reason: "SourceNotFound", retryable: true, summary: "the collection to copy from does not exist (no active collection behind the alias, or copyFrom.collection is missing)" },
  COLLECTION_CONFIG_REFUSED: { reason: "CollectionConfigRefused", retryable: false, summary: "Qdrant refused to create the green collection with the given config" },
  COPY_FAILED: { reason: "CopyFailed", retryable: true, summary: "the copy Job failed to copy the points" },
  COPY_PLAN_INVALID: { reason: "InvalidCopyPlan", retryable: false, summary: "the copy Job's plan is invalid" },
  COPY_REFUSED: { reason: "CopyFailed", retryable: false, summary: "Qdrant refused the copied points (a vector size or name green's config does not have): copyFrom copies vectors as they are" },
  COPY_GREEN_NOT_OURS: { reason: "GreenExists", retryable: false, summary: "the copy Job's target is not stamped with its rollout's uid: it never writes into a collection another created" },
  GOLDEN_QUERY_REFUSED: { reason: "GoldenQueryRefused", retryable: false, summary: "Qdrant refused a golden query (a vector of the wrong dimension, an unknown vector name, a bad filter)" },
  GATES_TIMED_OUT: { reason: "GatesTimedOut", retryable: false, summary: "the gates did not all pass within gates.timeout" },
  GATE_JOB_FAILED: { reason: "GateJobFailed", retryable: false, summary: "the gate Job failed, was killed or was deleted: its verdict is no" },
  RESTORE_FAILED: { reason: "RestoreFailed", retryable: false, summary: "fromBackup: the QdrantRestore that builds green failed" },
  BACKUP_BEFORE_SWITCH_FAILED: { reason: "BackupBeforeSwitchFailed", retryable: false, summary: "backupActiveFirst: the backup of the active collection failed, so the alias was not switched" },
  SWITCH_FAILED: { reason: "SwitchFailed", retryable: true, summary: "the alias switch request failed or the re-read aliases do not show it" },
  ANALYSIS_FAILED: { reason: "AnalysisFailed", retryable: false, summary: "a post-promotion check failed (and the alias was switched back when switchBackOnFailure is set)" },
  ROLLBACK_IMPOSSIBLE: { reason: "RollbackImpossible", retryable: false, summary: "rollback asked, but the previous collection is gone or the alias has moved on to another collection" },
  GREEN_IN_USE: { reason: "GreenInUse", retryable: true, summary: "green is not deleted: an alias points at it (Qdrant would delete the alias with it)" },
  PREVIOUS_IN_USE: { reason: "PreviousInUse", retryable: true, summary: "retainPrevious is due, but an alias points at the previous collection: it is not deleted while anything may query it" },
  JOB_CONFLICT: { reason: "JobConflict", retryable: false, summary: "a Job named as the operator's next Job for this resource exists and is not this resource's" },
  ALIAS_MOVED: { reason: "AliasMoved", retryable: false, summary: "the alias points at a collection this rollout neither started from nor built (someone else switched it)" },
} as const satisfies Record<string, { reason: string; retryable: boolean; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class OperatorError extends Error {
  readonly code: ErrorCode;
  /** CamelCase reason for conditions and Events. */
  readonly reason: string;
  readonly retryable: boolean;
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "OperatorError";
    this.code = code;
    this.reason = ERROR_CODES[code].reason;
    this.retryable = ERROR_CODES[code].retryable;
  }
}

export function isOperatorError(err: unknown, code?: ErrorCode): err is OperatorError {
  return err instanceof OperatorError && (code === undefined || err.code === code);
}

/**
 * BACKUP_LOCKED with the date S3 keeps the backup's objects until (undefined: S3 refused a delete and
 * named none, e.g. a legal hold). Callers wait until then instead of retrying: a retry before the date is
 * refused again.
 */
export class BackupLockedError extends OperatorError {
  readonly retainUntil: Date | undefined;
  constructor(retainUntil: Date | undefined, message: string, options?: ErrorOptions) {
    super("BACKUP_LOCKED", message, options);
    this.name = "BackupLockedError";
    this.retainUntil = retainUntil;
  }
}

export function isBackupLocked(err: unknown): err is BackupLockedError {
  return err instanceof BackupLockedError;
}
