/**
 * QdrantRestore: bring a collection back from a backup — once (the default: restore, record success and
 * never again, even when GitOps re-applies it), whenever the collection is missing (self-healing), or as
 * a periodic drill into a throwaway collection that proves the backups restore.
 */
import { Type, type Static } from "@sinclair/typebox";
import { CronSchedule } from "../cron-schedule.ts";
import { cel, CollectionName, ObjectName, StringEnum } from "../schema-helpers.ts";
import { Conditions, JobSettings, LocalObjectReference } from "./common.ts";

export const BackupSource = Type.Object(
  {
    backupRef: Type.Optional({ ...LocalObjectReference, description: "A QdrantBackup in this namespace." }),
    location: Type.Optional(
      Type.Object(
        {
          locationRef: LocalObjectReference,
          backupId: Type.String({ description: "The backup's id in the bucket (see `backups list`).", minLength: 1 }),
          sourceNamespace: Type.Optional(ObjectName("Namespace the backup was made in (part of its keys). Without it the bucket is searched for the id.")),
          sourceConnection: Type.Optional(ObjectName("QdrantConnection the backup was made through (part of its keys). Without it the bucket is searched for the id.")),
        },
        { description: "A backup found in a bucket by id: what a fresh cluster with only the bucket has." },
      ),
    ),
    latest: Type.Optional(
      Type.Object(
        {
          locationRef: LocalObjectReference,
          collection: CollectionName("The collection whose latest successful backup to use."),
          scheduleRef: Type.Optional({ ...LocalObjectReference, description: "Only backups made by this schedule." }),
          notAfter: Type.Optional(Type.String({ format: "date-time", description: "Only backups completed at or before this time (point-in-time choice)." })),
        },
        { description: "The newest successful backup of a collection, read from the bucket's manifests." },
      ),
    ),
  },
  {
    description: "Which backup: exactly one of backupRef, location or latest.",
    ...cel({ rule: "[has(self.backupRef), has(self.location), has(self.latest)].filter(x, x).size() == 1", message: "set exactly one of backupRef, location or latest" }),
  },
);
export type BackupSource = Static<typeof BackupSource>;

export const Verification = Type.Object(
  {
    waitForGreen: Type.Optional(Type.Boolean({ description: "Wait until the collection is green.", default: true })),
    comparePointsCount: Type.Optional(Type.Boolean({ description: "Fail unless the points count equals the manifest's.", default: true })),
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, default: 1800, description: "How long the checks may take once every peer's recover call returned; past it the attempt fails VerificationTimeout (retryable)." })),
  },
  { description: "Checks after the restore; status records them and the duration (the RTO)." },
);

export const QdrantRestoreSpec = Type.Object(
  {
    source: BackupSource,
    sourceCollection: Type.Optional(CollectionName("The collection within the backup; required when the backup holds several.")),
    target: Type.Object(
      {
        connectionRef: { ...LocalObjectReference, description: "The Qdrant to restore into (may differ from the backup's: migrations)." },
        collection: Type.Optional(CollectionName("Name of the restored collection; defaults to the backed-up name. Never an alias: recovering into an alias overwrites the collection behind it, so the operator refuses.")),
        alias: Type.Optional(CollectionName("Point this alias at the restored collection once verified.")),
      },
      { description: "Where to restore." },
    ),
    policy: Type.Optional(
      StringEnum(["Once", "IfMissing", "Drill"] as const, {
        description: "Once: restore once and record it. IfMissing: restore whenever the target collection does not exist (checked every checkIntervalSeconds and when Qdrant restarts). Drill: on drill.schedule restore the latest backup into a temporary collection, verify, delete it.",
        default: "Once",
      }),
    ),
    overwrite: Type.Optional(Type.Boolean({ description: "Replace an existing target collection. Without it a restore onto an existing collection fails and changes nothing.", default: false })),
    checkIntervalSeconds: Type.Optional(Type.Integer({ description: "IfMissing: how often to check.", minimum: 10, default: 60 })),
    drill: Type.Optional(
      Type.Object({
        schedule: CronSchedule("Cron expression of the drills (5 fields, or @hourly, @daily, @weekly, @monthly, @yearly).", "spec.drill.timeZone"),
        timeZone: Type.Optional(Type.String()),
      }),
    ),
    method: Type.Optional(
      StringEnum(["Auto", "Pull", "Upload"] as const, {
        description: "Pull: Qdrant downloads the snapshot from a presigned URL (nothing flows through the operator). Upload: a Job streams it into Qdrant, for a Qdrant that cannot reach the storage. Auto: Pull, unless the backup is a FullStorage archive or compressed or encrypted (then Upload: Qdrant cannot take a collection out of an archive, decompress or decrypt what it downloads; Pull with such a backup fails MethodNotPossible).",
        default: "Auto",
      }),
    ),
    priority: Type.Optional(StringEnum(["snapshot", "replica", "no_sync"] as const, { description: "Qdrant's recovery priority.", default: "snapshot" })),
    verify: Type.Optional(Verification),
    job: Type.Optional(JobSettings),
  },
  {
    description: "A restore of a backup into a Qdrant collection.",
    ...cel(
      { rule: "(has(self.policy) && self.policy == 'Drill') == has(self.drill)", message: "drill is required with policy Drill and allowed only then", fieldPath: ".drill" },
      { rule: "!has(self.policy) || self.policy != 'Drill' || !has(self.target.alias)", message: "a drill's temporary collection cannot get an alias", fieldPath: ".target.alias" },
      { rule: "self.source == oldSelf.source", message: "source is immutable; create a new QdrantRestore", fieldPath: ".source" },
    ),
  },
);
export type QdrantRestoreSpec = Static<typeof QdrantRestoreSpec>;

export const QdrantRestoreStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  conditions: Type.Optional(Conditions),
  phase: Type.Optional(StringEnum(["Pending", "Running", "Succeeded", "Failed", "Watching"] as const)),
  backupId: Type.Optional(Type.String({ description: "The backup that was (or is being) restored." })),
  targetCollection: Type.Optional(Type.String()),
  startTime: Type.Optional(Type.String({ format: "date-time" })),
  completionTime: Type.Optional(Type.String({ format: "date-time" })),
  durationSeconds: Type.Optional(Type.Number({ minimum: 0, description: "Time from start to verified: the recovery time users track." })),
  pointsCount: Type.Optional(Type.Object({ expected: Type.Optional(Type.Integer()), actual: Type.Optional(Type.Integer()) })),
  restoreCount: Type.Optional(Type.Integer({ minimum: 0, description: "Restores done (IfMissing and Drill restore more than once)." })),
  lastRestoreTime: Type.Optional(Type.String({ format: "date-time" })),
  lastVerifiedTime: Type.Optional(Type.String({ format: "date-time", description: "Drill: when a restore was last verified." })),
  jobName: Type.Optional(Type.String({ description: "The Job of the current (or last) attempt." })),
  attempt: Type.Optional(Type.Integer({ minimum: 1, description: "This run's attempt: 1, then one more for each retry of a retryable failure (at most 1 + spec.job.backoffLimit)." })),
  jobCount: Type.Optional(Type.Integer({ minimum: 0, description: "Jobs this restore has started, over all its runs: the next Job is restore-<name>-<jobCount+1>." })),
  lastScheduleTime: Type.Optional(Type.String({ format: "date-time", description: "Drill: the schedule's tick the last drill was started for." })),
  nextScheduleTime: Type.Optional(Type.String({ format: "date-time", description: "Drill: when the next drill is due." })),
});
export type QdrantRestoreStatus = Static<typeof QdrantRestoreStatus>;
