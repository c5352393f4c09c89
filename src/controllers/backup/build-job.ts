/**
 * The Job a QdrantBackup runs: the operator's image with `job backup`, its plan in BACKUP_PLAN and its
 * secrets as secretKeyRef environment variables (src/jobs/backup/contract.ts). Pure: the same backup,
 * connection, location and settings always give the same Job, so a retried reconcile builds exactly
 * what the first one did and the deterministic name (names.ts) decides who created it.
 *
 * What the Job never carries: a secret's value (the kubelet resolves secretKeyRef on the node, so the
 * Job object, its events and `kubectl get job -o yaml` show only Secret names), and Kubernetes API
 * rights (automountServiceAccountToken: false; the result goes back through the termination message).
 */
import type { V1EnvVar, V1Job, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import type { QdrantConnectionSpec } from "../../api/v1alpha1/qdrant-connection.ts";
import { backupId } from "../../backup/layout/backup-id.ts";
import { BACKUP_ENV, EXIT_CODES, type BackupJobPlan } from "../../jobs/backup/contract.ts";
import { controllerReference } from "../../runtime/resource.ts";
import type { BackupLocationObject } from "../shared/resolve-location.ts";
import type { QdrantConnectionObject } from "../shared/resolve-connection.ts";
import { BACKUP_LABEL, backupJobName, CONTAINER_NAME, labelValue, SCHEDULE_LABEL, SCHEDULED_TIME_ANNOTATION } from "./names.ts";
import type { BackupObject } from "./types.ts";


/** V8 settings of the backup Job's Node process (see the env below). */
export const JOB_NODE_OPTIONS = "--max-semi-space-size=1";
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
}

const DEFAULT_BACKOFF_LIMIT = 3;
const DEFAULT_TTL_SECONDS = 86_400;
const QDRANT_CA_DIR = "/etc/qdrant-operator/qdrant-ca";
const S3_CA_DIR = "/etc/qdrant-operator/s3-ca";
const CA_FILE = "ca.crt";

/** True when the connection names a Service port by name, which only the Service can turn into a number. */
export function needsPortLookup(spec: QdrantConnectionSpec): boolean {
  const port = spec.service?.port;
  return spec.url === undefined && typeof port === "string" && !/^\d+$/.test(port);
}

/** Qdrant's REST URL as the Job's pod reaches it: the spec's URL, or the Service's cluster DNS name. */
export function connectionUrl(spec: QdrantConnectionSpec, namespace: string, resolvedPort?: number): string {
  if (spec.url !== undefined) return spec.url.replace(/\/+$/, "");
  const svc = spec.service;
  if (!svc) throw new RangeError("a QdrantConnection has url or service");
  const ns = svc.namespace ?? namespace;
  const port = resolvedPort ?? (needsPortLookup(spec) ? undefined : Number(svc.port ?? 6333));
  if (port === undefined) throw new RangeError(`spec.service.port "${String(svc.port)}" is a name: resolve it first`);
  return `${spec.tls !== undefined ? "https" : "http"}://${svc.name}.${ns}.svc:${port}`;
}

/** The plan the Job executes (nothing secret in it). */
export function buildBackupPlan(backup: BackupObject, connection: QdrantConnectionObject, location: BackupLocationObject, settings: JobBuildSettings): BackupJobPlan {
  const meta = backup.metadata ?? {};
  const namespace = meta.namespace ?? "";
  if (!meta.name || !meta.uid || !meta.creationTimestamp) throw new RangeError("the QdrantBackup needs metadata.name, uid and creationTimestamp (read it from the apiserver)");
  const conn = connection.spec;
  const url = settings.qdrantUrl ?? connectionUrl(conn, connection.metadata?.namespace ?? namespace);
  const https = url.startsWith("https://");
  const s3 = location.spec.s3;
  const mode = backup.spec.mode ?? "Collection";
  const sel = backup.spec.collections;
  const scheduleName = meta.labels?.[SCHEDULE_LABEL];
  const scheduledTime = meta.annotations?.[SCHEDULED_TIME_ANNOTATION];
  const tls = conn.tls ? { ...(conn.tls.serverName ? { serverName: conn.tls.serverName } : {}), ...(conn.tls.insecureSkipVerify ? { insecureSkipVerify: true } : {}) } : undefined;
  return {
    version: 1,
    backupId: backupId(new Date(meta.creationTimestamp), meta.uid),
    mode,
    ...(mode === "Collection" && sel
      ? { collections: { ...(sel.names ? { names: [...sel.names] } : {}), ...(sel.all ? { all: true } : {}), ...(sel.pattern !== undefined ? { pattern: sel.pattern } : {}) } }
      : {}),
    qdrant: {
      url,
      timeoutSeconds: conn.timeoutSeconds ?? 30,
      discovery: {
        mode: conn.peers?.mode ?? "Cluster",
        restPort: conn.peers?.restPort ?? 6333,
        scheme: conn.peers?.scheme ?? (https ? "https" : "http"),
        ...(conn.peers?.urls ? { urls: [...conn.peers.urls] } : {}),
      },
      ...(tls && Object.keys(tls).length > 0 ? { tls } : {}),
    },
    s3: {
      bucket: s3.bucket,
      ...(s3.prefix ? { prefix: s3.prefix } : {}),
      region: s3.region ?? "us-east-1",
      ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
      forcePathStyle: s3.forcePathStyle ?? false,
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
    operatorVersion: settings.operatorVersion,
  };
}

/** The Job for `backup`; see the module comment for what it carries and what it never does. */
export function buildBackupJob(backup: BackupObject, connection: QdrantConnectionObject, location: BackupLocationObject, settings: JobBuildSettings): V1Job {
  const meta = backup.metadata ?? {};
  const name = backupJobName(meta.name ?? "");
  const plan = buildBackupPlan(backup, connection, location, settings);
  const job = backup.spec.job ?? {};
  const labels = { "app.kubernetes.io/name": "qdrant-operator", "app.kubernetes.io/component": "backup", "app.kubernetes.io/managed-by": "qdrant-operator", [BACKUP_LABEL]: labelValue(meta.name ?? "") };

  const env: V1EnvVar[] = [
    { name: BACKUP_ENV.plan, value: JSON.stringify(plan) },
    // A small young generation: the download's socket buffers die young, and collecting them often keeps
    // the Job's memory low and flat (bench/backup-vs-pipe.ts, 2 GiB: peak RSS 141 MiB, 228 MiB with the
    // default young generation).
    { name: "NODE_OPTIONS", value: JOB_NODE_OPTIONS },
  ];
  const volumes: V1Volume[] = [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }];
  const mounts: V1VolumeMount[] = [{ name: "tmp", mountPath: "/tmp" }];
  const fromSecret = (envName: string, secret: string, key: string): V1EnvVar => ({ name: envName, valueFrom: { secretKeyRef: { name: secret, key } } });

  const conn = connection.spec;
  if (conn.apiKeySecretRef) env.push(fromSecret(BACKUP_ENV.qdrantApiKey, conn.apiKeySecretRef.name, conn.apiKeySecretRef.key));
  const creds = location.spec.s3.credentials.secretRef;
  if (creds) {
    env.push(fromSecret(BACKUP_ENV.awsAccessKeyId, creds.name, creds.accessKeyIdKey ?? "AWS_ACCESS_KEY_ID"));
    env.push(fromSecret(BACKUP_ENV.awsSecretAccessKey, creds.name, creds.secretAccessKeyKey ?? "AWS_SECRET_ACCESS_KEY"));
    if (creds.sessionTokenKey) env.push(fromSecret(BACKUP_ENV.awsSessionToken, creds.name, creds.sessionTokenKey));
  }
  const caVolume = (volume: string, dir: string, envName: string, ref: { name: string; key: string }) => {
    volumes.push({ name: volume, secret: { secretName: ref.name, items: [{ key: ref.key, path: CA_FILE }] } });
    mounts.push({ name: volume, mountPath: dir, readOnly: true });
    env.push({ name: envName, value: `${dir}/${CA_FILE}` });
  };
  if (conn.tls?.caSecretRef) caVolume("qdrant-ca", QDRANT_CA_DIR, BACKUP_ENV.qdrantCaFile, conn.tls.caSecretRef);
  if (location.spec.s3.caSecretRef) caVolume("s3-ca", S3_CA_DIR, BACKUP_ENV.s3CaFile, location.spec.s3.caSecretRef);

  const resources = job.resources
    ? {
        ...(job.resources.limits ? { limits: stringValues(job.resources.limits) } : {}),
        ...(job.resources.requests ? { requests: stringValues(job.resources.requests) } : {}),
      }
    : undefined;

  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name,
      namespace: meta.namespace,
      labels,
      ownerReferences: [controllerReference(backup)],
    },
    spec: {
      backoffLimit: job.backoffLimit ?? DEFAULT_BACKOFF_LIMIT,
      ...(job.activeDeadlineSeconds !== undefined ? { activeDeadlineSeconds: job.activeDeadlineSeconds } : {}),
      ttlSecondsAfterFinished: job.ttlSecondsAfterFinished ?? DEFAULT_TTL_SECONDS,
      // Exit code 2 is a failure no retry can fix (a missing collection, a refused key): end the Job now.
      podFailurePolicy: { rules: [{ action: "FailJob", onExitCodes: { containerName: CONTAINER_NAME, operator: "In", values: [EXIT_CODES.PERMANENT] } }] },
      template: {
        metadata: {
          labels: { ...job.podLabels, ...labels },
          ...(job.podAnnotations ? { annotations: { ...job.podAnnotations } } : {}),
        },
        spec: {
          restartPolicy: "Never",
          automountServiceAccountToken: false,
          ...(job.serviceAccountName ? { serviceAccountName: job.serviceAccountName } : {}),
          ...(job.nodeSelector ? { nodeSelector: { ...job.nodeSelector } } : {}),
          ...(job.tolerations ? { tolerations: job.tolerations.map((t) => ({ ...t })) } : {}),
          ...(job.affinity ? { affinity: structuredClone(job.affinity) } : {}),
          ...(job.priorityClassName ? { priorityClassName: job.priorityClassName } : {}),
          securityContext: { seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: CONTAINER_NAME,
              image: job.image ?? settings.defaultImage,
              ...(job.imagePullPolicy ? { imagePullPolicy: job.imagePullPolicy } : {}),
              args: ["job", "backup"],
              env,
              volumeMounts: mounts,
              ...(resources ? { resources } : {}),
              terminationMessagePolicy: "FallbackToLogsOnError",
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
            },
          ],
          volumes,
        },
      },
    },
  };
}

function stringValues(m: Record<string, number | string>): Record<string, string> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)]));
}
