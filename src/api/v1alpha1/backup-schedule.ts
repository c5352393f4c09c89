/**
 * QdrantBackupSchedule: creates a QdrantBackup at every cron tick and prunes old ones by retention.
 * Mirrors CronJob's fields (schedule, timeZone, suspend, concurrencyPolicy, startingDeadlineSeconds) so
 * that nobody has to learn new words for the same ideas.
 */
import { Type, type Static } from "@sinclair/typebox";
import { CronSchedule } from "../cron-schedule.ts";
import { cel, Duration, StringEnum } from "../schema-helpers.ts";
import { CollectionSelector, Conditions, DeletionPolicy, JobSettings, LocalObjectReference } from "./common.ts";
import { BackupMode, BackupPhase } from "./backup.ts";

const keep = (what: string) => Type.Optional(Type.Integer({ description: `Keep the newest successful backup of each of the last N ${what}.`, minimum: 0, maximum: 10000 }));

export const Retention = Type.Object(
  {
    keepLast: Type.Optional(Type.Integer({ description: "Keep the N newest successful backups.", minimum: 0, maximum: 10000 })),
    keepHourly: keep("hours"),
    keepDaily: keep("days"),
    keepWeekly: keep("ISO weeks"),
    keepMonthly: keep("months"),
    keepYearly: keep("years"),
    maxAge: Type.Optional(Duration("Delete successful backups older than this (e.g. 30d), unless a keep rule keeps them.")),
    failedBackupsToKeep: Type.Optional(Type.Integer({ description: "Failed QdrantBackups kept for inspection; they never take a retention slot.", minimum: 0, maximum: 100, default: 3 })),
    dryRun: Type.Optional(Type.Boolean({ description: "Report in status what would be pruned, and prune nothing.", default: false })),
  },
  {
    description:
      "Grandfather-father-son retention over successful backups. The newest successful backup, running backups and backups a QdrantRestore names are never pruned.",
  },
);
export type Retention = Static<typeof Retention>;

export const QdrantBackupScheduleSpec = Type.Object(
  {
    schedule: CronSchedule("Cron expression (5 fields: minute hour day-of-month month day-of-week) or @hourly, @daily, @weekly, @monthly, @yearly.", "spec.timeZone"),
    timeZone: Type.Optional(Type.String({ description: "IANA time zone of the schedule, e.g. Europe/Berlin. Defaults to UTC.", pattern: "^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$", maxLength: 64 })),
    suspend: Type.Optional(Type.Boolean({ description: "Create no new backups (running ones finish).", default: false })),
    concurrencyPolicy: Type.Optional(
      StringEnum(["Allow", "Forbid", "Replace"] as const, { description: "What a tick does while a backup of this schedule still runs.", default: "Forbid" }),
    ),
    startingDeadlineSeconds: Type.Optional(Type.Integer({ description: "A tick missed by more than this is skipped. After downtime at most one catch-up run happens either way.", minimum: 1 })),
    connectionRef: LocalObjectReference,
    locationRef: LocalObjectReference,
    mode: Type.Optional(BackupMode),
    collections: Type.Optional(CollectionSelector),
    retention: Type.Optional(Retention),
    deletionPolicy: Type.Optional(DeletionPolicy),
    job: Type.Optional(JobSettings),
    backupLabels: Type.Optional(Type.Unsafe<Record<string, string>>({ type: "object", additionalProperties: { type: "string" }, description: "Labels for the QdrantBackups it creates." })),
  },
  {
    description: "A cron schedule of backups and their retention.",
    ...cel({ rule: "(has(self.mode) && self.mode == 'FullStorage') ? !has(self.collections) : has(self.collections)", message: "collections is required in Collection mode and not allowed in FullStorage mode", fieldPath: ".collections" }),
  },
);
export type QdrantBackupScheduleSpec = Static<typeof QdrantBackupScheduleSpec>;

export const QdrantBackupScheduleStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  conditions: Type.Optional(Conditions),
  lastScheduleTime: Type.Optional(Type.String({ format: "date-time" })),
  nextScheduleTime: Type.Optional(Type.String({ format: "date-time" })),
  lastSuccessfulTime: Type.Optional(Type.String({ format: "date-time" })),
  active: Type.Optional(Type.Array(Type.String(), { description: "QdrantBackups of this schedule that are running." })),
  history: Type.Optional(
    Type.Array(
      Type.Object({ name: Type.String(), phase: BackupPhase, scheduledTime: Type.String({ format: "date-time" }), completionTime: Type.Optional(Type.String({ format: "date-time" })) }),
      { description: "The last few backups, newest first.", maxItems: 20 },
    ),
  ),
  prune: Type.Optional(
    Type.Object(
      { lastPruneTime: Type.Optional(Type.String({ format: "date-time" })), wouldPrune: Type.Optional(Type.Array(Type.String())), prunedTotal: Type.Optional(Type.Integer({ minimum: 0 })) },
      { description: "Retention results; wouldPrune lists the backups a dry run would delete." },
    ),
  ),
});
export type QdrantBackupScheduleStatus = Static<typeof QdrantBackupScheduleStatus>;
