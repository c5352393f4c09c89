/**
 * The Job a QdrantBackup runs: the operator's Job template (src/controllers/shared/job-template.ts) with
 * `job backup`, its plan in BACKUP_PLAN and its secrets as secretKeyRef environment variables
 * (src/jobs/backup/contract.ts). Pure: the same backup, connection, location and settings always give
 * the same Job, so a retried reconcile builds exactly what the first one did and the deterministic name
 * (names.ts) decides who created it. The plan is checked against its schema before the Job is built: a
 * plan the Job would refuse is a bug found here, before anything runs.
 */
import type { V1Job } from "@kubernetes/client-node";
import { backupId } from "../../backup/layout/backup-id.ts";
import { BACKUP_ENV, type BackupJobPlan, type ExcludedCollection } from "../../jobs/backup/contract.ts";
import { backupPlan } from "../../jobs/backup/plan.ts";
import { callTimeoutSeconds, connectionUrl, peerDiscovery, tlsOptions } from "../../qdrant/endpoint.ts";
import { s3Target } from "../../s3/client.ts";
import { JOB_NODE_OPTIONS, jobTemplate } from "../shared/job-template.ts";
import { connectionJobEnvironment, type QdrantConnectionObject } from "../shared/resolve-connection.ts";
import { locationJobEnvironment, locationKeyJobEnvironment, type BackupLocationObject } from "../shared/resolve-location.ts";
import { mergeJobEnvironments } from "../shared/secrets.ts";
import { AGE_SCHEME } from "../../backup/codec/types.ts";
import { SCHEDULE_LABEL, SCHEDULED_TIME_ANNOTATION } from "../../api/labels.ts";
import { BACKUP_LABEL, backupJobName, CONTAINER_NAME, labelValue } from "./names.ts";
import type { BackupObject } from "./types.ts";


export interface JobBuildSettings {
  /** The manager's --default-job-image: the Job runs the operator's own CLI unless spec.job.image says otherwise. */
  defaultImage: string;
  /** Recorded in the plan (and so in every manifest). */
  operatorVersion: string;
  /**
   * Qdrant's REST URL, when the controller had to look up a Service's named port; otherwise the URL is
   * derived from the connection's spec (connectionUrl).
   */
  qdrantUrl?: string;
  /**
   * Collections the operator is building on this Qdrant (collections-being-built.ts): a backup of `all`
   * or a pattern leaves them out; one of explicit names does not get the list at all.
   */
  exclude?: readonly ExcludedCollection[];
}

/** The plan the Job executes (nothing secret in it). */
export function buildBackupPlan(backup: BackupObject, connection: QdrantConnectionObject, location: BackupLocationObject, settings: JobBuildSettings): BackupJobPlan {
  const meta = backup.metadata ?? {};
  const namespace = meta.namespace ?? "";
  if (!meta.name || !meta.uid || !meta.creationTimestamp) throw new RangeError("the QdrantBackup needs metadata.name, uid and creationTimestamp (read it from the apiserver)");
  const conn = connection.spec;
  const tls = tlsOptions(conn);
  const s3 = location.spec.s3;
  const mode = backup.spec.mode ?? "Collection";
  const sel = backup.spec.collections;
  const scheduleName = meta.labels?.[SCHEDULE_LABEL];
  const scheduledTime = meta.annotations?.[SCHEDULED_TIME_ANNOTATION];
  return {
    version: 1,
    backupId: backupId(new Date(meta.creationTimestamp), meta.uid),
    mode,
    ...(mode === "Collection" && sel
      ? { collections: { ...(sel.names ? { names: [...sel.names] } : {}), ...(sel.all ? { all: true as const } : {}), ...(sel.pattern !== undefined ? { pattern: sel.pattern } : {}) } }
      : {}),
    qdrant: {
      url: settings.qdrantUrl ?? connectionUrl(conn, connection.metadata?.namespace ?? namespace),
      timeoutSeconds: callTimeoutSeconds(conn),
      discovery: peerDiscovery(conn),
      ...(tls ? { tls } : {}),
    },
    s3: {
      bucket: s3.bucket,
      ...(s3.prefix ? { prefix: s3.prefix } : {}),
      ...s3Target(s3),
      ...(s3.serverSideEncryption ? { serverSideEncryption: { ...s3.serverSideEncryption } } : {}),
      ...(s3.storageClass ? { storageClass: s3.storageClass } : {}),
    },
    source: {
      namespace,
      connection: backup.spec.connectionRef.name,
      backupName: meta.name,
      backupUid: meta.uid,
      ...(scheduleName ? { scheduleName } : {}),
      ...(scheduledTime ? { scheduledTime } : {}),
    },
    ...encodingOf(location),
    operatorVersion: settings.operatorVersion,
    ...(mode === "Collection" && sel && sel.names === undefined && settings.exclude?.length ? { exclude: settings.exclude.map((e) => ({ ...e })) } : {}),
  };
}

/** Default zstd level: zstd's own default, a good speed/size balance for snapshots. */
export const DEFAULT_ZSTD_LEVEL = 3;

/** The location's compression, encryption and Object Lock, as the plan says them (the key file itself goes by env). */
function encodingOf(location: BackupLocationObject): Pick<BackupJobPlan, "encoding" | "objectLock"> {
  const { compression, encryption, objectLock } = location.spec;
  const zstd = compression?.algorithm === "Zstd" ? { algorithm: "zstd" as const, level: compression.level ?? DEFAULT_ZSTD_LEVEL } : undefined;
  const age = encryption ? { scheme: AGE_SCHEME, keyRef: `${encryption.keySecretRef.name}/${encryption.keySecretRef.key}` } : undefined;
  return {
    ...(zstd || age ? { encoding: { ...(zstd ? { compression: zstd } : {}), ...(age ? { encryption: age } : {}) } } : {}),
    ...(objectLock ? { objectLock: { mode: objectLock.mode, retainDays: objectLock.retainDays } } : {}),
  };
}

/** The Job for `backup`; throws InvalidBackupPlan when the plan would not pass the Job's own check. */
export function buildBackupJob(backup: BackupObject, connection: QdrantConnectionObject, location: BackupLocationObject, settings: JobBuildSettings): V1Job {
  const name = backup.metadata?.name ?? "";
  const plan = backupPlan.check(buildBackupPlan(backup, connection, location, settings));
  // Secrets by reference only: the API key and S3 credentials by secretKeyRef, each CA a mounted Secret.
  // The age key file too, when the location encrypts (by secretKeyRef: the plan names only its Secret).
  const secrets = mergeJobEnvironments(connectionJobEnvironment(connection.spec), locationJobEnvironment(location.spec), locationKeyJobEnvironment(location.spec));
  return jobTemplate({
    name: backupJobName(name),
    owner: backup,
    component: "backup",
    labels: { [BACKUP_LABEL]: labelValue(name) },
    container: CONTAINER_NAME,
    args: ["job", "backup"],
    defaultImage: settings.defaultImage,
    env: [
      { name: BACKUP_ENV.plan, value: JSON.stringify(plan) },
      { name: "NODE_OPTIONS", value: JOB_NODE_OPTIONS },
    ],
    secretEnv: secrets.env,
    volumes: secrets.volumes,
    volumeMounts: secrets.volumeMounts,
    settings: backup.spec.job,
  });
}
