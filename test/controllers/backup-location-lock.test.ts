/**
 * The location's Object Lock check and the gate on backups (#15), through the real manager (as its
 * generated ServiceAccount) against the environment's MinIO, with root credentials (the one-bucket user's
 * lock actions are exercised by e2e/backup-object-lock.test.ts): spec.objectLock on a plain bucket
 * is Ready False ObjectLockNotEnabled naming spec.objectLock and the bucket, and a backup to it waits with
 * that reason and gets no Job; on a bucket with Object Lock it is Ready.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { API_VERSION } from "../../src/api/group.ts";
import { ensureCrds } from "../helpers/crds.ts";
import { kubectl } from "../helpers/kubectl.ts";
import { startManager } from "../helpers/manager.ts";
import { apiKeyForSecret, qdrantUnderTest } from "../helpers/qdrant.ts";
import { useBucket, useLockBucket } from "../helpers/s3.ts";
import { testEnv, useNamespace } from "../helpers/testenv.ts";
import { apply, condition, waitFor } from "./restore/restore-world.ts";

test("spec.objectLock: Ready False ObjectLockNotEnabled on a plain bucket, and its backups wait; Ready on a lock bucket", async (t) => {
  await ensureCrds();
  const ns = await useNamespace(t, "lock-loc");
  const plain = await useBucket(t);
  const locked = await useLockBucket(t);
  await startManager(t, [ns]);
  const env = testEnv().s3;
  const location = (name: string, bucket: string) => ({
    apiVersion: API_VERSION,
    kind: "QdrantBackupLocation",
    metadata: { name },
    spec: { s3: { bucket, endpoint: env.endpoint, region: env.region, forcePathStyle: true, credentials: { secretRef: { name: "s3-creds" } } }, objectLock: { mode: "Governance", retainDays: 7 } },
  });
  await apply(ns, [
    { apiVersion: "v1", kind: "Secret", metadata: { name: "s3-creds" }, stringData: { AWS_ACCESS_KEY_ID: env.accessKeyId, AWS_SECRET_ACCESS_KEY: env.secretAccessKey } },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "qdrant-key" }, stringData: { "api-key": apiKeyForSecret() } },
    { apiVersion: API_VERSION, kind: "QdrantConnection", metadata: { name: "qdrant" }, spec: { url: qdrantUnderTest().url, apiKeySecretRef: { name: "qdrant-key", key: "api-key" }, peers: { mode: "None" } } },
    location("plain", plain),
    location("locked", locked),
    { apiVersion: API_VERSION, kind: "QdrantBackup", metadata: { name: "b1" }, spec: { connectionRef: { name: "qdrant" }, locationRef: { name: "plain" }, collections: { names: ["policies"] } } },
  ]);

  const refused = await waitFor(ns, "qdrantbackuplocation", "plain", "Ready False", (o) => condition(o, "Ready")?.status === "False");
  const ready = condition(refused, "Ready");
  assert.equal(ready?.reason, "ObjectLockNotEnabled", ready?.message ?? "");
  assert.ok(ready?.message?.startsWith(`spec.objectLock: bucket "${plain}" has no Object Lock configuration`), ready?.message);

  const ok = await waitFor(ns, "qdrantbackuplocation", "locked", "Ready True", (o) => condition(o, "Ready")?.status === "True");
  assert.match(condition(ok, "Ready")?.message ?? "", /Object Lock enabled \(Governance, 7 days\)/);

  const waiting = await waitFor(ns, "qdrantbackup", "b1", "waiting on the location", (o) => (o.status?.conditions ?? []).some((c) => c.reason === "ObjectLockNotEnabled"));
  assert.notEqual(waiting.status?.phase, "Running");
  const jobs = (await kubectl(["get", "-n", ns, "jobs", "-o", "name"])).stdout.trim();
  assert.equal(jobs, "", "no Job for a backup to a location whose bucket lacks Object Lock");
});
