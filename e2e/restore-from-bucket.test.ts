/**
 * A restore from the bucket alone, as after a disaster: the QdrantBackup resources are gone (deletionPolicy
 * Retain, so their data stays), and a fresh namespace with its own manager has only a connection, a
 * location on the same bucket and restores. `location` + `backupId` (with sourceNamespace and
 * sourceConnection, and without them: the bucket is searched for the id) each restore the same points; and
 * `latest` (the newest complete backup of the collection, read from the manifests of the restore's own
 * namespace, so here the original namespace without its QdrantBackups) picks the newer of two backups.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { API_VERSION } from "../src/api/group.ts";
import { kubectl } from "../test/helpers/kubectl.ts";
import { startManager } from "../test/helpers/manager.ts";
import { eventually, testEnv, useNamespace } from "../test/helpers/testenv.ts";
import { allPoints, apply, getJson, secret, world } from "./helpers/backup-world.ts";
import { backedUp, cleanupOnQdrant, restoreObj, waitForRestorePhase } from "./helpers/restore-world.ts";

test("from the bucket alone: location + backupId, and latest, in a fresh namespace without QdrantBackups", async (t) => {
  const w = await world(t, "e2e-restore-bucket");
  const older = await backedUp(w, "older", { deletionPolicy: "Retain" });
  const newer = await backedUp(w, "newer", { deletionPolicy: "Retain" });
  const original = await allPoints(w.qdrant.url, w.collection, w.apiKey);
  for (const name of ["older", "newer"]) await kubectl(["delete", "-n", w.ns, "qdrantbackup", name, "--wait=true", "--timeout=60s"]);
  await eventually("the QdrantBackups to be gone", async () => ((await getJson(w.ns, "qdrantbackup", "newer")) === undefined && (await getJson(w.ns, "qdrantbackup", "older")) === undefined ? true : undefined));

  // The fresh cluster: a namespace, its manager, a connection and a location on the same bucket.
  const ns = await useNamespace(t, "e2e-restore-fresh");
  await startManager(t, [ns]);
  await apply(ns, [
    secret("qdrant-key", { "api-key": w.apiKey }),
    secret("s3-creds", { AWS_ACCESS_KEY_ID: w.s3AccessKeyId, AWS_SECRET_ACCESS_KEY: w.s3SecretKey }),
    { apiVersion: API_VERSION, kind: "QdrantConnection", metadata: { name: "qdrant" }, spec: { url: w.qdrant.url, apiKeySecretRef: { name: "qdrant-key", key: "api-key" }, peers: { mode: "None" } } },
    {
      apiVersion: API_VERSION,
      kind: "QdrantBackupLocation",
      metadata: { name: "s3" },
      spec: { s3: { bucket: w.bucket, prefix: "qdrant/e2e", endpoint: testEnv().s3.endpoint, region: testEnv().s3.region, forcePathStyle: true, credentials: { secretRef: { name: "s3-creds" } } } },
    },
  ]);
  const byId = `${w.collection}_byid`;
  const searched = `${w.collection}_searched`;
  const latest = `${w.collection}_latest`;
  cleanupOnQdrant(t, w.qdrant.url, w.apiKey, [byId, searched, latest]);
  await apply(ns, [
    restoreObj("by-id", { location: { locationRef: { name: "s3" }, backupId: older.backupId, sourceNamespace: w.ns, sourceConnection: "qdrant" } }, { sourceCollection: w.collection, target: { collection: byId } }),
    restoreObj("searched", { location: { locationRef: { name: "s3" }, backupId: older.backupId } }, { sourceCollection: w.collection, target: { collection: searched } }),
  ]);
  // latest reads the backups made in the restore's own namespace (bucket-candidates.ts: a fresh cluster
  // recreates the namespace under its old name): here the original one, whose QdrantBackups are gone.
  await apply(w.ns, [restoreObj("latest", { latest: { locationRef: { name: "s3" }, collection: w.collection } }, { target: { collection: latest } })]);

  const r1 = await waitForRestorePhase(ns, "by-id", "Succeeded");
  assert.equal(r1.status?.backupId, older.backupId);
  assert.deepEqual(await allPoints(w.qdrant.url, byId, w.apiKey), original, "location + backupId restores the points");
  const r2 = await waitForRestorePhase(ns, "searched", "Succeeded");
  assert.equal(r2.status?.backupId, older.backupId, "the bucket searched for the id finds the same backup");
  assert.deepEqual(await allPoints(w.qdrant.url, searched, w.apiKey), original);
  const r3 = await waitForRestorePhase(w.ns, "latest", "Succeeded");
  assert.equal(r3.status?.backupId, newer.backupId, "latest is the newer of the two");
  assert.deepEqual(await allPoints(w.qdrant.url, latest, w.apiKey), original);
  const jobs = JSON.parse((await kubectl(["get", "qdrantbackups", "-n", ns, "-o", "json"])).stdout) as { items: unknown[] };
  assert.equal(jobs.items.length, 0, "the fresh namespace has no QdrantBackup at all");
});
