import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { V1Container, V1Job } from "@kubernetes/client-node";
import type { QdrantBackupSpec } from "../../../src/api/v1alpha1/backup.ts";
import type { QdrantBackupLocationSpec } from "../../../src/api/v1alpha1/backup-location.ts";
import type { QdrantConnectionSpec } from "../../../src/api/v1alpha1/qdrant-connection.ts";
import type { BackupLocationObject } from "../../../src/controllers/shared/resolve-location.ts";
import { buildBackupJob, buildBackupPlan, type JobBuildSettings } from "../../../src/controllers/backup/build-job.ts";
import type { BackupObject } from "../../../src/controllers/backup/types.ts";
import { isOperatorError } from "../../../src/errors.ts";
import type { QdrantConnectionObject } from "../../../src/controllers/shared/resolve-connection.ts";

const UID = "4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d";

function backup(spec: Partial<QdrantBackupSpec> = {}, meta: Record<string, unknown> = {}): BackupObject {
  return {
    apiVersion: "qdrant-operator.dev/v1alpha1",
    kind: "QdrantBackup",
    metadata: { name: "policies-manual", namespace: "prod", uid: UID, creationTimestamp: "2026-01-15T02:00:04Z", generation: 1, ...meta },
    spec: { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: ["policies"] }, ...spec },
  };
}
function connection(spec: Partial<QdrantConnectionSpec> = {}): QdrantConnectionObject {
  return { metadata: { name: "qdrant", namespace: "prod" }, spec: { url: "http://qdrant.prod.svc:6333/", apiKeySecretRef: { name: "qdrant-key", key: "api-key" }, ...spec } };
}
function location(spec: Partial<QdrantBackupLocationSpec> = {}): BackupLocationObject {
  return {
    metadata: { name: "s3", namespace: "prod" },
    spec: { s3: { bucket: "backups", prefix: "qdrant/prod", endpoint: "http://minio:9000", forcePathStyle: true, credentials: { secretRef: { name: "s3-creds" } } }, ...spec },
  };
}
const SETTINGS: JobBuildSettings = { defaultImage: "ghcr.io/qdrant-operator/qdrant-operator:dev", operatorVersion: "0.1.0" };

const containerOf = (job: V1Job): V1Container => job.spec!.template.spec!.containers[0]!;
const envOf = (job: V1Job, name: string) => containerOf(job).env!.find((e) => e.name === name);

describe("buildBackupJob", () => {
  test("names the Job after the backup, owned by it (controller), labelled, never restarted in place", () => {
    const job = buildBackupJob(backup(), connection(), location(), SETTINGS);
    assert.equal(job.metadata?.name, "backup-policies-manual");
    assert.equal(job.metadata?.namespace, "prod");
    assert.deepEqual(job.metadata?.ownerReferences, [{ apiVersion: "qdrant-operator.dev/v1alpha1", kind: "QdrantBackup", name: "policies-manual", uid: UID, controller: true, blockOwnerDeletion: true }]);
    assert.equal(job.metadata?.labels?.["qdrant-operator.dev/backup"], "policies-manual");
    assert.equal(job.spec?.template.metadata?.labels?.["qdrant-operator.dev/backup"], "policies-manual");
    assert.equal(job.spec?.template.spec?.restartPolicy, "Never");
    assert.equal(job.spec?.template.spec?.automountServiceAccountToken, false);
    assert.deepEqual(containerOf(job).args, ["job", "backup"]);
    assert.equal(containerOf(job).terminationMessagePolicy, "FallbackToLogsOnError");
    assert.deepEqual(buildBackupJob(backup(), connection(), location(), SETTINGS), job, "deterministic");
  });

  test("exit code 2 of the backup container fails the Job at once", () => {
    const job = buildBackupJob(backup(), connection(), location(), SETTINGS);
    assert.deepEqual(job.spec?.podFailurePolicy, { rules: [{ action: "FailJob", onExitCodes: { containerName: containerOf(job).name, operator: "In", values: [2] } }] });
  });

  test("a long backup name still gives a Job name of at most 63 characters", () => {
    const job = buildBackupJob(backup({}, { name: "n".repeat(200) }), connection(), location(), SETTINGS);
    assert.ok(job.metadata!.name!.length <= 63);
    assert.ok(job.metadata!.labels!["qdrant-operator.dev/backup"]!.length <= 63);
  });

  test("secrets are referenced by name and key, never carried as values", () => {
    const job = buildBackupJob(
      backup(),
      connection({ url: "https://qdrant:6333", tls: { caSecretRef: { name: "qdrant-ca", key: "ca.pem" }, serverName: "qdrant.internal" } }),
      location({ s3: { bucket: "backups", credentials: { secretRef: { name: "s3-creds", accessKeyIdKey: "id", secretAccessKeyKey: "secret", sessionTokenKey: "token" } }, caSecretRef: { name: "minio-ca", key: "ca.crt" } } }),
      SETTINGS,
    );
    const ref = (name: string) => envOf(job, name)?.valueFrom?.secretKeyRef;
    assert.deepEqual(ref("QDRANT_API_KEY"), { name: "qdrant-key", key: "api-key" });
    assert.deepEqual(ref("AWS_ACCESS_KEY_ID"), { name: "s3-creds", key: "id" });
    assert.deepEqual(ref("AWS_SECRET_ACCESS_KEY"), { name: "s3-creds", key: "secret" });
    assert.deepEqual(ref("AWS_SESSION_TOKEN"), { name: "s3-creds", key: "token" });
    for (const name of ["QDRANT_API_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]) assert.equal(envOf(job, name)?.value, undefined, `${name} has no literal value`);
    // CA files are mounted Secrets, their paths in the environment.
    assert.equal(envOf(job, "QDRANT_CA_FILE")?.value, "/etc/qdrant-operator/qdrant-ca/ca.crt");
    assert.equal(envOf(job, "S3_CA_FILE")?.value, "/etc/qdrant-operator/s3-ca/ca.crt");
    const volumes = job.spec!.template.spec!.volumes!;
    assert.deepEqual(volumes.find((v) => v.name === "qdrant-ca")?.secret, { secretName: "qdrant-ca", items: [{ key: "ca.pem", path: "ca.crt" }] });
    assert.deepEqual(volumes.find((v) => v.name === "s3-ca")?.secret, { secretName: "minio-ca", items: [{ key: "ca.crt", path: "ca.crt" }] });
    assert.ok(containerOf(job).volumeMounts!.some((m) => m.name === "qdrant-ca" && m.mountPath === "/etc/qdrant-operator/qdrant-ca" && m.readOnly));
    // The plan has no credential-shaped field at all.
    assert.doesNotMatch(envOf(job, "BACKUP_PLAN")!.value!, /apiKey|secret|accessKey|token|password/i);
  });

  test("an encrypting location gives the Job its key file by secretKeyRef, never as a value, and the plan only its Secret's name", () => {
    const job = buildBackupJob(backup(), connection(), location({ encryption: { keySecretRef: { name: "backup-age", key: "keys.txt" } } }), SETTINGS);
    assert.deepEqual(envOf(job, "ENCRYPTION_KEYS")?.valueFrom?.secretKeyRef, { name: "backup-age", key: "keys.txt" });
    assert.equal(envOf(job, "ENCRYPTION_KEYS")?.value, undefined);
    const plan = JSON.parse(envOf(job, "BACKUP_PLAN")!.value!) as { encoding?: unknown };
    assert.deepEqual(plan.encoding, { encryption: { scheme: "age-v1", keyRef: "backup-age/keys.txt" } });
    // Without encryption, no key variable at all.
    assert.equal(envOf(buildBackupJob(backup(), connection(), location(), SETTINGS), "ENCRYPTION_KEYS"), undefined);
  });

  test("credentials from the pod's identity add no AWS variables", () => {
    const job = buildBackupJob(backup(), connection({ apiKeySecretRef: undefined }), location({ s3: { bucket: "backups", credentials: { fromEnvironment: true } } }), SETTINGS);
    assert.deepEqual(containerOf(job).env!.map((e) => e.name), ["BACKUP_PLAN", "NODE_OPTIONS"]);
  });

  const settingsCases: Array<[string, QdrantBackupSpec["job"], (job: V1Job) => void]> = [
    ["defaults: backoffLimit 3, a day's TTL, the manager's image, no deadline", undefined, (job) => {
      assert.equal(job.spec?.backoffLimit, 3);
      assert.equal(job.spec?.ttlSecondsAfterFinished, 86400);
      assert.equal(job.spec?.activeDeadlineSeconds, undefined);
      assert.equal(containerOf(job).image, SETTINGS.defaultImage);
      assert.equal(job.spec?.template.spec?.serviceAccountName, undefined);
    }],
    [
      "every setting is carried over",
      {
        image: "registry.example.com/qdrant-operator:1.2.3",
        imagePullPolicy: "Always",
        resources: { limits: { memory: "256Mi", cpu: 1 }, requests: { cpu: "100m" } },
        nodeSelector: { pool: "backup" },
        tolerations: [{ key: "dedicated", operator: "Equal", value: "backup", effect: "NoSchedule" }],
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] }] } } },
        serviceAccountName: "backup-irsa",
        priorityClassName: "low",
        backoffLimit: 0,
        activeDeadlineSeconds: 3600,
        ttlSecondsAfterFinished: 0,
        podLabels: { team: "search", "qdrant-operator.dev/backup": "spoofed" },
        podAnnotations: { "cluster-autoscaler.kubernetes.io/safe-to-evict": "false" },
      },
      (job) => {
        const pod = job.spec!.template;
        assert.equal(containerOf(job).image, "registry.example.com/qdrant-operator:1.2.3");
        assert.equal(containerOf(job).imagePullPolicy, "Always");
        assert.deepEqual(containerOf(job).resources, { limits: { memory: "256Mi", cpu: "1" }, requests: { cpu: "100m" } });
        assert.deepEqual(pod.spec?.nodeSelector, { pool: "backup" });
        assert.deepEqual(pod.spec?.tolerations, [{ key: "dedicated", operator: "Equal", value: "backup", effect: "NoSchedule" }]);
        assert.equal(pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchExpressions?.[0]?.key, "zone");
        assert.equal(pod.spec?.serviceAccountName, "backup-irsa");
        assert.equal(pod.spec?.priorityClassName, "low");
        assert.equal(job.spec?.backoffLimit, 0);
        assert.equal(job.spec?.activeDeadlineSeconds, 3600);
        assert.equal(job.spec?.ttlSecondsAfterFinished, 0);
        assert.equal(pod.metadata?.labels?.team, "search");
        assert.equal(pod.metadata?.labels?.["qdrant-operator.dev/backup"], "policies-manual", "our label wins over a pod label of the same key");
        assert.deepEqual(pod.metadata?.annotations, { "cluster-autoscaler.kubernetes.io/safe-to-evict": "false" });
      },
    ],
  ];
  for (const [what, jobSettings, check] of settingsCases) {
    test(`job settings: ${what}`, () => check(buildBackupJob(backup(jobSettings ? { job: jobSettings } : {}), connection(), location(), SETTINGS)));
  }
});

describe("buildBackupPlan", () => {
  test("carries the backup id, the connection, the location and the source", () => {
    const plan = buildBackupPlan(backup(), connection(), location(), SETTINGS);
    assert.deepEqual(plan, {
      version: 1,
      backupId: `20260115T020004Z-${UID}`,
      mode: "Collection",
      collections: { names: ["policies"] },
      qdrant: { url: "http://qdrant.prod.svc:6333", timeoutSeconds: 30, discovery: { mode: "Cluster", restPort: 6333, scheme: "http" } },
      s3: { bucket: "backups", prefix: "qdrant/prod", region: "us-east-1", endpoint: "http://minio:9000", forcePathStyle: true },
      source: { namespace: "prod", connection: "qdrant", backupName: "policies-manual", backupUid: UID },
      operatorVersion: "0.1.0",
    });
  });

  test("the schedule's label and annotation, static peers, TLS settings, SSE and storage class", () => {
    const plan = buildBackupPlan(
      backup({}, { labels: { "qdrant-operator.dev/schedule": "nightly" }, annotations: { "qdrant-operator.dev/scheduled-time": "2026-01-15T02:00:00Z" } }),
      connection({ url: "https://qdrant:6333", timeoutSeconds: 5, peers: { mode: "Static", urls: ["https://q-0:6333", "https://q-1:6333"] }, tls: { serverName: "qdrant.internal", insecureSkipVerify: true } }),
      location({ s3: { bucket: "backups", region: "eu-west-1", credentials: { fromEnvironment: true }, serverSideEncryption: { type: "aws:kms", kmsKeyId: "arn:key" }, storageClass: "STANDARD_IA" } }),
      SETTINGS,
    );
    assert.deepEqual(plan.source, { namespace: "prod", connection: "qdrant", backupName: "policies-manual", backupUid: UID, scheduleName: "nightly", scheduledTime: "2026-01-15T02:00:00Z" });
    assert.deepEqual(plan.qdrant, {
      url: "https://qdrant:6333",
      timeoutSeconds: 5,
      discovery: { mode: "Static", restPort: 6333, scheme: "https", urls: ["https://q-0:6333", "https://q-1:6333"] },
      tls: { serverName: "qdrant.internal", insecureSkipVerify: true },
    });
    assert.deepEqual(plan.s3, { bucket: "backups", region: "eu-west-1", forcePathStyle: false, serverSideEncryption: { type: "aws:kms", kmsKeyId: "arn:key" }, storageClass: "STANDARD_IA" });
  });

  test("the location's compression (level 3 unless given), encryption and Object Lock", () => {
    const at = (spec: Partial<QdrantBackupLocationSpec>) => {
      const p = buildBackupPlan(backup(), connection(), location(spec), SETTINGS);
      return { encoding: p.encoding, objectLock: p.objectLock };
    };
    assert.deepEqual(at({}), { encoding: undefined, objectLock: undefined });
    assert.deepEqual(at({ compression: { algorithm: "None" } }), { encoding: undefined, objectLock: undefined });
    assert.deepEqual(at({ compression: { algorithm: "Zstd" } }).encoding, { compression: { algorithm: "zstd", level: 3 } });
    assert.deepEqual(at({ compression: { algorithm: "Zstd", level: 19 }, encryption: { keySecretRef: { name: "k", key: "age" } } }).encoding, {
      compression: { algorithm: "zstd", level: 19 },
      encryption: { scheme: "age-v1", keyRef: "k/age" },
    });
    assert.deepEqual(at({ objectLock: { mode: "Compliance", retainDays: 30 } }), { encoding: undefined, objectLock: { mode: "Compliance", retainDays: 30 } });
  });

  test("FullStorage mode carries no collections", () => {
    const plan = buildBackupPlan(backup({ mode: "FullStorage", collections: undefined }), connection(), location(), SETTINGS);
    assert.equal(plan.mode, "FullStorage");
    assert.equal(plan.collections, undefined);
  });

  test("a plan the Job would refuse is refused before the Job exists, naming the field", () => {
    // Static peers without URLs: the CRD's CEL rule refuses it, but objects written before a schema change reach the controller too.
    assert.throws(
      () => buildBackupJob(backup(), connection({ peers: { mode: "Static" } }), location(), SETTINGS),
      (err: unknown) => isOperatorError(err, "BACKUP_PLAN_INVALID") && /plan\.qdrant\.discovery\.urls: must list the peers/.test(err.message),
    );
  });

  test("needs the uid and creation time the apiserver assigns", () => {
    assert.throws(() => buildBackupPlan(backup({}, { uid: undefined }), connection(), location(), SETTINGS), /uid/);
  });
});

