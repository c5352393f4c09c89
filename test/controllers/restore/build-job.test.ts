/** The restore Job's Secrets (#15): an encrypted backup's Job gets the location's key file by secretKeyRef, and only such a Job. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { V1Job } from "@kubernetes/client-node";
import type { Manifest } from "../../../src/backup/layout/manifest.ts";
import { buildRestoreJob, type RestoreAttempt } from "../../../src/controllers/restore/build-job.ts";
import type { ResolvedOk } from "../../../src/controllers/restore/decide.ts";
import type { RestoreObject } from "../../../src/controllers/restore/types.ts";
import type { QdrantConnectionObject } from "../../../src/controllers/shared/resolve-connection.ts";

const SHA = "a".repeat(64);
const BACKUP_ID = "20260115T020000Z-0b8a4d2e-0000-4000-8000-000000000001";
const restore: RestoreObject = {
  apiVersion: "qdrant-operator.dev/v1alpha1",
  kind: "QdrantRestore",
  metadata: { name: "r", namespace: "prod", uid: "4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d" },
  spec: { target: { connectionRef: { name: "qdrant" } }, source: { latest: { locationRef: { name: "s3" }, collection: "docs" } } },
};
const connection: QdrantConnectionObject = { metadata: { name: "qdrant", namespace: "prod" }, spec: { url: "http://qdrant:6333" } };
const settings = { defaultImage: "img:dev", address: { url: "http://qdrant:6333", timeoutSeconds: 10, discovery: { mode: "Cluster" as const, restPort: 6333, scheme: "http" as const } } };

function attempt(files: ResolvedOk["files"], encryption = true): RestoreAttempt {
  const source: ResolvedOk = {
    ok: true,
    location: {
      metadata: { name: "s3", namespace: "prod" },
      spec: { s3: { bucket: "backups", credentials: { secretRef: { name: "s3-creds" } } }, ...(encryption ? { encryption: { keySecretRef: { name: "age-key", key: "keys.txt" } } } : {}) },
    },
    candidate: { origin: "Bucket", backupId: BACKUP_ID, location: "s3", namespace: "prod", connection: "qdrant", mode: "Collection", collection: "docs", state: "Complete" },
    manifestKey: "k/manifest.json",
    manifest: {} as Manifest,
    sourceCollection: "docs",
    files,
    mode: "Collection",
  };
  return { jobName: "restore-r-1", attempt: 1, ownedTarget: false, method: "Upload", targetCollection: "docs", source };
}

const envOf = (job: V1Job) => job.spec!.template.spec!.containers[0]!.env!;

describe("restore Job: the encryption key", () => {
  test("an encrypted backup's Job gets ENCRYPTION_KEYS from the location's keySecretRef; the plan carries only the file's codec", () => {
    const files = [{ sourcePeerId: "1", shardIds: [0], key: "k/1.snapshot.zst.age", size: 10, sha256: SHA, stored: { size: 9, sha256: SHA }, compression: { algorithm: "zstd" as const }, encryption: { scheme: "age-v1" as const, keyRef: "age-key/keys.txt" } }];
    const job = buildRestoreJob(restore, connection, attempt(files), settings);
    const keys = envOf(job).filter((e) => e.name === "ENCRYPTION_KEYS");
    assert.deepEqual(keys, [{ name: "ENCRYPTION_KEYS", valueFrom: { secretKeyRef: { name: "age-key", key: "keys.txt" } } }]);
    const plan = JSON.parse(envOf(job).find((e) => e.name === "RESTORE_PLAN")!.value!) as { method: string; files: Array<Record<string, unknown>> };
    assert.equal(plan.method, "Upload");
    assert.deepEqual(plan.files[0]!.encryption, { scheme: "age-v1", keyRef: "age-key/keys.txt" });
    assert.deepEqual(plan.files[0]!.stored, { size: 9, sha256: SHA });
  });

  test("a backup with no encrypted file gets no key, even from a location that encrypts", () => {
    const files = [{ sourcePeerId: "1", shardIds: [0], key: "k/1.snapshot.zst", size: 10, sha256: SHA, stored: { size: 9, sha256: SHA }, compression: { algorithm: "zstd" as const } }];
    const job = buildRestoreJob(restore, connection, attempt(files), settings);
    assert.equal(envOf(job).find((e) => e.name === "ENCRYPTION_KEYS"), undefined);
  });
});
