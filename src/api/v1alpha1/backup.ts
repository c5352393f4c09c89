/**
 * QdrantBackup: one backup of some collections (or of the whole storage) of one Qdrant, written to one
 * location. A person creating one is "backup now"; a schedule creates one per tick. The spec is
 * immutable: a backup is a record of what was done, not a desired state to converge to.
 */
import { Type, type Static } from "@sinclair/typebox";
import { cel, StringEnum } from "../schema-helpers.ts";
import { CollectionSelector, Conditions, DeletionPolicy, JobSettings, LocalObjectReference } from "./common.ts";

export const BackupMode = StringEnum(["Collection", "FullStorage"] as const, {
  description: "Collection: a snapshot of each selected collection on every peer that holds shards of it. FullStorage: POST /snapshots (all collections and aliases) on every peer.",
  default: "Collection",
});

export const QdrantBackupSpec = Type.Object(
  {
    connectionRef: { ...LocalObjectReference, description: "The QdrantConnection to back up." },
    locationRef: { ...LocalObjectReference, description: "The QdrantBackupLocation to write to." },
    mode: Type.Optional(BackupMode),
    collections: Type.Optional(CollectionSelector),
    deletionPolicy: Type.Optional(DeletionPolicy),
    job: Type.Optional(JobSettings),
  },
  {
    description: "What to back up and where.",
    ...cel(
      { rule: "self == oldSelf", message: "a QdrantBackup's spec is immutable; create a new one" },
      { rule: "(has(self.mode) && self.mode == 'FullStorage') ? !has(self.collections) : has(self.collections)", message: "collections is required in Collection mode and not allowed in FullStorage mode", fieldPath: ".collections" },
    ),
  },
);
export type QdrantBackupSpec = Static<typeof QdrantBackupSpec>;

export const BackupFile = Type.Object({
  peerId: Type.String({ description: "Qdrant peer that made the snapshot." }),
  key: Type.String({ description: "Object key of the snapshot." }),
  size: Type.Integer({ minimum: 0 }),
  sha256: Type.String({ pattern: "^[0-9a-f]{64}$" }),
});

export const BackupCollectionStatus = Type.Object({
  name: Type.String(),
  manifestKey: Type.Optional(Type.String({ description: "Key of this collection's manifest: written last, its presence is what makes the collection's backup complete." })),
  pointsCount: Type.Optional(Type.Integer({ minimum: 0 })),
  aliases: Type.Optional(Type.Array(Type.String())),
  files: Type.Optional(Type.Array(BackupFile)),
});

export const BackupPhase = StringEnum(["Pending", "Running", "Succeeded", "Failed"] as const);

export const QdrantBackupStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  conditions: Type.Optional(Conditions),
  phase: Type.Optional(BackupPhase),
  backupId: Type.Optional(Type.String({ description: "Identity of the backup in the bucket (part of every object key)." })),
  manifestKey: Type.Optional(Type.String({ description: "FullStorage mode: key of the backup's one manifest (Collection mode has one per collection, in collections[])." })),
  files: Type.Optional(Type.Array(BackupFile, { description: "FullStorage mode: one snapshot archive per peer (Collection mode lists files per collection)." })),
  startTime: Type.Optional(Type.String({ format: "date-time" })),
  completionTime: Type.Optional(Type.String({ format: "date-time" })),
  sizeBytes: Type.Optional(Type.Integer({ minimum: 0 })),
  collections: Type.Optional(Type.Array(BackupCollectionStatus, { description: "Collection mode: each backed-up collection. FullStorage mode: the collections the storage held." })),
  jobName: Type.Optional(Type.String()),
  attempt: Type.Optional(Type.Integer({ minimum: 1, description: "The attempt the backup's Job is on: 1, then one more for each of its pods that failed and was retried (at most 1 + spec.job.backoffLimit); a failed backup's last." })),
  objectLock: Type.Optional(
    Type.Object(
      { mode: StringEnum(["Governance", "Compliance"] as const), retainUntil: Type.String({ format: "date-time" }) },
      { description: "S3 Object Lock of the backup's objects, as its Job wrote them: retention never prunes it before retainUntil." },
    ),
  ),
  failure: Type.Optional(Type.Object({ reason: Type.String(), message: Type.String() }, { description: "Why the backup failed, as the Job reported it." })),
});
export type QdrantBackupStatus = Static<typeof QdrantBackupStatus>;
