/**
 * Every kind of the API with its names, schema and `kubectl get` columns. crds/*.yaml is generated from
 * this (npm run generate:crds) and a test fails when the committed YAML is stale.
 */
import type { TSchema } from "@sinclair/typebox";
import { QdrantBackupSpec, QdrantBackupStatus } from "./v1alpha1/backup.ts";
import { QdrantBackupLocationSpec, QdrantBackupLocationStatus } from "./v1alpha1/backup-location.ts";
import { QdrantBackupScheduleSpec, QdrantBackupScheduleStatus } from "./v1alpha1/backup-schedule.ts";
import { QdrantConnectionSpec, QdrantConnectionStatus } from "./v1alpha1/qdrant-connection.ts";
import { QdrantRestoreSpec, QdrantRestoreStatus } from "./v1alpha1/restore.ts";
import { CollectionRolloutSpec, CollectionRolloutStatus } from "./v1alpha1/rollout.ts";

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: TSchema;
  status: TSchema;
  columns: PrinterColumn[];
}

const ready: PrinterColumn = { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' };
const reason: PrinterColumn = { name: "Reason", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].reason', priority: 1 };
const age: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };

export const KINDS: KindDefinition[] = [
  {
    kind: "QdrantConnection",
    plural: "qdrantconnections",
    singular: "qdrantconnection",
    shortNames: ["qconn"],
    description: "How to reach a Qdrant deployment: address, API key, TLS, and how to find every peer of a cluster.",
    spec: QdrantConnectionSpec,
    status: QdrantConnectionStatus,
    columns: [
      { name: "URL", type: "string", jsonPath: ".spec.url" },
      { name: "Version", type: "string", jsonPath: ".status.version" },
      { name: "Mode", type: "string", jsonPath: ".status.mode" },
      ready,
      reason,
      age,
    ],
  },
  {
    kind: "QdrantBackupLocation",
    plural: "qdrantbackuplocations",
    singular: "qdrantbackuplocation",
    shortNames: ["qbl"],
    description: "Where backups live: an S3-compatible bucket and prefix, with its credentials.",
    spec: QdrantBackupLocationSpec,
    status: QdrantBackupLocationStatus,
    columns: [
      { name: "Bucket", type: "string", jsonPath: ".spec.s3.bucket" },
      { name: "Prefix", type: "string", jsonPath: ".spec.s3.prefix" },
      { name: "Access", type: "string", jsonPath: ".spec.accessMode" },
      ready,
      reason,
      age,
    ],
  },
  {
    kind: "QdrantBackupSchedule",
    plural: "qdrantbackupschedules",
    singular: "qdrantbackupschedule",
    shortNames: ["qbs"],
    description: "Creates a QdrantBackup on a cron schedule and prunes old backups by retention.",
    spec: QdrantBackupScheduleSpec,
    status: QdrantBackupScheduleStatus,
    columns: [
      { name: "Schedule", type: "string", jsonPath: ".spec.schedule" },
      { name: "Suspend", type: "boolean", jsonPath: ".spec.suspend" },
      { name: "Last Schedule", type: "date", jsonPath: ".status.lastScheduleTime" },
      { name: "Last Success", type: "date", jsonPath: ".status.lastSuccessfulTime" },
      { name: "Next", type: "string", jsonPath: ".status.nextScheduleTime", priority: 1 },
      ready,
      reason,
      age,
    ],
  },
  {
    kind: "QdrantBackup",
    plural: "qdrantbackups",
    singular: "qdrantbackup",
    shortNames: ["qb"],
    description: "One backup of some collections (or the whole storage) of a Qdrant, streamed to a backup location.",
    spec: QdrantBackupSpec,
    status: QdrantBackupStatus,
    columns: [
      { name: "Phase", type: "string", jsonPath: ".status.phase" },
      { name: "Size", type: "integer", jsonPath: ".status.sizeBytes" },
      { name: "Started", type: "date", jsonPath: ".status.startTime" },
      { name: "Completed", type: "date", jsonPath: ".status.completionTime" },
      { name: "Backup ID", type: "string", jsonPath: ".status.backupId", priority: 1 },
      reason,
      age,
    ],
  },
  {
    kind: "QdrantRestore",
    plural: "qdrantrestores",
    singular: "qdrantrestore",
    shortNames: ["qr"],
    description: "Restores a collection from a backup: once, whenever it is missing, or as a periodic drill.",
    spec: QdrantRestoreSpec,
    status: QdrantRestoreStatus,
    columns: [
      { name: "Policy", type: "string", jsonPath: ".spec.policy" },
      { name: "Target", type: "string", jsonPath: ".status.targetCollection" },
      { name: "Phase", type: "string", jsonPath: ".status.phase" },
      { name: "Duration", type: "number", jsonPath: ".status.durationSeconds", priority: 1 },
      ready,
      reason,
      age,
    ],
  },
  {
    kind: "CollectionRollout",
    plural: "collectionrollouts",
    singular: "collectionrollout",
    shortNames: ["crol"],
    description: "A blue/green rollout of a Qdrant collection behind an alias.",
    spec: CollectionRolloutSpec,
    status: CollectionRolloutStatus,
    columns: [
      { name: "Alias", type: "string", jsonPath: ".spec.alias" },
      { name: "Active", type: "string", jsonPath: ".status.activeCollection" },
      { name: "Green", type: "string", jsonPath: ".spec.collection" },
      { name: "Phase", type: "string", jsonPath: ".status.phase" },
      ready,
      reason,
      age,
    ],
  },
];
