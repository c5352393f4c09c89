/**
 * A QdrantBackupLocation whose S3 endpoint is served over TLS by a private CA (`spec.s3.caSecretRef`),
 * with the real manager: the location is Ready, a backup succeeds, retention prunes an old backup's
 * objects, a failed backup's sweep finishes, and deletionPolicy Delete's finalizer deletes a backup's
 * objects. Every one of these but the backup itself is a call from the manager, which used to ignore the CA the Job mounted (so backups
 * succeeded while everything else failed on the certificate); the manager and the Job now build their
 * clients with one builder from one resolver (src/controllers/shared/resolve-location.ts).
 *
 * The environment's MinIO is plain HTTP, so the test starts its own over TLS (test/helpers/minio-tls.ts).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { API_VERSION } from "../src/api/group.ts";
import { backupId } from "../src/backup/layout/backup-id.ts";
import { manifestKey, snapshotKey } from "../src/backup/layout/object-keys.ts";
import { ensureCrds } from "../test/helpers/crds.ts";
import { kubectl } from "../test/helpers/kubectl.ts";
import { startManager } from "../test/helpers/manager.ts";
import { startTlsMinio } from "../test/helpers/minio-tls.ts";
import { apiKeyForSecret, qdrantUnderTest, useCollection } from "../test/helpers/qdrant.ts";
import { eventually, useNamespace } from "../test/helpers/testenv.ts";
import { apply, backupObj, condition, getBackup, getJson, secret, waitForPhase } from "./helpers/backup-world.ts";

const PREFIX = "qdrant/private-ca";
const DAY = 86_400_000;

interface Obj {
  metadata: { name: string; uid: string; creationTimestamp: string };
  status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }>; prune?: { prunedTotal?: number } };
}

const kubeTime = (d: Date) => d.toISOString().replace(/\.\d+Z$/, "Z");
const get = async (ns: string, resource: string, name: string): Promise<Obj> => JSON.parse((await kubectl(["get", "-n", ns, resource, name, "-o", "json"])).stdout) as Obj;

async function keysIn(s3: S3Client, bucket: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (out.Contents ?? []).map((o) => o.Key ?? "").sort();
}

test("a location with a private-CA S3 endpoint: Ready, a backup, a prune, the failed-backup sweep and a Delete finalizer all work", async (t) => {
  await ensureCrds();
  const ns = await useNamespace(t, "e2e-private-ca");
  const minio = await startTlsMinio(t);
  const bucket = await minio.createBucket();
  const apiKey = apiKeyForSecret();
  const qdrant = qdrantUnderTest();
  const collection = await useCollection(t, "policies");

  await apply(ns, [
    secret("qdrant-key", { "api-key": apiKey }),
    secret("s3-creds", { AWS_ACCESS_KEY_ID: minio.accessKeyId, AWS_SECRET_ACCESS_KEY: minio.secretAccessKey }),
    secret("s3-ca", { "ca.crt": minio.caPem }),
    { apiVersion: API_VERSION, kind: "QdrantConnection", metadata: { name: "qdrant" }, spec: { url: qdrant.url, apiKeySecretRef: { name: "qdrant-key", key: "api-key" }, peers: { mode: "None" } } },
    {
      apiVersion: API_VERSION,
      kind: "QdrantBackupLocation",
      metadata: { name: "s3" },
      spec: { s3: { bucket, prefix: PREFIX, endpoint: minio.endpoint, region: minio.region, forcePathStyle: true, credentials: { secretRef: { name: "s3-creds" } }, caSecretRef: { name: "s3-ca", key: "ca.crt" } } },
    },
    // Yearly, so no tick comes during the test; keepLast 1 over two successful backups prunes the older.
    { apiVersion: API_VERSION, kind: "QdrantBackupSchedule", metadata: { name: "yearly" }, spec: { schedule: "0 0 1 1 *", connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: [collection] }, retention: { keepLast: 1 } } },
  ]);

  // Two finished backups of the schedule with their objects in the bucket, as the Job leaves them; their
  // status is written before the manager starts, so it never starts a Job for them.
  const sched = await get(ns, "qdrantbackupschedule", "yearly");
  const owner = { apiVersion: API_VERSION, kind: "QdrantBackupSchedule", name: "yearly", uid: sched.metadata.uid, controller: true, blockOwnerDeletion: true };
  const keysOf = new Map<string, string[]>();
  for (const [i, name] of ["old", "newer"].entries()) {
    await apply(ns, [{ ...backupObj(name, { collections: { names: [collection] } }), metadata: { name, ownerReferences: [owner] } }]);
    const b = await get(ns, "qdrantbackup", name);
    const id = backupId(new Date(b.metadata.creationTimestamp), b.metadata.uid);
    const parts = { prefix: PREFIX, namespace: ns, connection: "qdrant", collection, backupId: id };
    const keys = [manifestKey(parts), snapshotKey(parts, "1")];
    keysOf.set(name, keys);
    for (const key of keys) await minio.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `${name}:${key}` }));
    const start = new Date(Date.now() - (2 - i) * DAY);
    await kubectl(["patch", "-n", ns, "qdrantbackup", name, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status: { phase: "Succeeded", backupId: id, startTime: kubeTime(start), completionTime: kubeTime(new Date(start.getTime() + 60_000)), collections: [{ name: collection, manifestKey: keys[0] }] } })]);
  }

  await startManager(t, [ns]);

  // 1. The location's check uses the CA.
  const location = await eventually("the location to be checked", async () => {
    const l = await get(ns, "qdrantbackuplocation", "s3");
    return l.status?.conditions?.find((c) => c.type === "Ready") ? l : undefined;
  });
  const ready = location.status?.conditions?.find((c) => c.type === "Ready");
  assert.equal(ready?.status, "True", `Ready: ${JSON.stringify(ready)}`);
  assert.equal(ready?.reason, "Available");

  // 2. Retention prunes the older backup: its objects, then the QdrantBackup; the newer one stays whole.
  await eventually("the older backup pruned", async () => ((await get(ns, "qdrantbackupschedule", "yearly")).status?.prune?.prunedTotal === 1 ? true : undefined));
  await eventually("QdrantBackup old deleted", async () => ((await getJson(ns, "qdrantbackup", "old")) === undefined ? true : undefined));
  assert.deepEqual(await keysIn(minio.client, bucket), [...keysOf.get("newer")!].sort());

  // 3. A backup through the Job (which mounts the CA), with deletionPolicy Delete.
  await apply(ns, [backupObj("manual", { deletionPolicy: "Delete", collections: { names: [collection] } })]);
  const done = await waitForPhase(ns, "manual", "Succeeded", 120_000);
  const manual = done.status?.collections?.[0]?.manifestKey;
  assert.ok(manual, JSON.stringify(done.status));
  const manualKeys = (await keysIn(minio.client, bucket)).filter((k) => k.includes(done.status!.backupId!));
  assert.ok(manualKeys.includes(manual), `the manifest is in the bucket: ${manualKeys.join(", ")}`);
  assert.ok(manualKeys.length >= 2, "and the snapshot");

  // 4. Deleting it: the finalizer deletes its objects (manifest first) with the location's client, then lets go.
  await kubectl(["delete", "-n", ns, "qdrantbackup", "manual", "--wait=false"]);
  await eventually("QdrantBackup manual gone", async () => ((await getJson(ns, "qdrantbackup", "manual")) === undefined ? true : undefined), 60_000);
  assert.deepEqual(await keysIn(minio.client, bucket), [...keysOf.get("newer")!].sort(), "only the newer backup's objects are left");

  // 5. A backup that fails (its collection does not exist): the manager's sweep reads the bucket with the CA too.
  await apply(ns, [backupObj("missing", { collections: { names: ["absent"] } })]);
  await waitForPhase(ns, "missing", "Failed", 120_000);
  const swept = await eventually("the failed backup's sweep", async () => {
    const b = await getBackup(ns, "missing");
    const c = condition(b, "CleanedUp");
    return c && c.reason !== "WaitingForPods" ? c : undefined;
  }, 60_000);
  assert.equal(swept.status, "True", `CleanedUp: ${JSON.stringify(swept)}`);
});
