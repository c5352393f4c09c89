/**
 * Bad input on QdrantBackups, end to end (the real manager, Job controller, node agent, MinIO and the
 * Qdrant emulator): an unreachable Qdrant, a refused API key, a missing collection (or an alias named
 * instead of its collection), refused S3 credentials, a missing bucket, a failure after the snapshot
 * exists, and missing Secrets or keys. Each ends in conditions whose message names what to fix and holds
 * no secret value; failures leave no snapshot on Qdrant's disk and no manifest in the bucket; what may
 * appear later (a Secret) waits, and the backup runs once it exists.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { test } from "node:test";
import { HeadBucketCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { API_VERSION } from "../src/api/group.ts";
import { AdminClient } from "../test/emulator/admin-client.ts";
import { kubectl } from "../test/helpers/kubectl.ts";
import { useCollection } from "../test/helpers/qdrant.ts";
import { s3Client } from "../test/helpers/s3.ts";
import { eventually, testEnv } from "../test/helpers/testenv.ts";
import { apply, backupObj, condition, getBackup, getJson, secret, waitForPhase, world, type Job, type World } from "./helpers/backup-world.ts";

/** A port on 127.0.0.1 that nothing listens on: bound, then released. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const location = (name: string, spec: { bucket: string; secret?: string }) => ({
  apiVersion: API_VERSION,
  kind: "QdrantBackupLocation",
  metadata: { name },
  spec: { s3: { bucket: spec.bucket, prefix: "qdrant/e2e", endpoint: testEnv().s3.endpoint, region: testEnv().s3.region, forcePathStyle: true, credentials: { secretRef: { name: spec.secret ?? "s3-creds" } } } },
});
const connection = (name: string, url: string, keySecret = "qdrant-key") => ({
  apiVersion: API_VERSION,
  kind: "QdrantConnection",
  metadata: { name },
  spec: { url, apiKeySecretRef: { name: keySecret, key: "api-key" }, peers: { mode: "None" } },
});

interface JobWithStatus extends Job {
  status?: { failed?: number; conditions?: Array<{ type: string; status: string; reason?: string }> };
}

/** The backup's status, its Events and the manager's log hold none of the given secret values. */
async function assertNoSecretIn(w: World, name: string, secrets: string[]): Promise<void> {
  const texts = [JSON.stringify(await getBackup(w.ns, name)), (await kubectl(["get", "events.events.k8s.io", "-n", w.ns, "--field-selector", `regarding.name=${name}`, "-o", "json"])).stdout];
  for (const text of texts) for (const value of secrets) assert.ok(!text.includes(value), `a secret value in what ${name} shows`);
}

/** The Job's pods failed `failed` times and the Job ended for `reason` (PodFailurePolicy or BackoffLimitExceeded). */
async function assertJobEnded(ns: string, name: string, reason: string, failed: number): Promise<void> {
  const job = await getJson<JobWithStatus>(ns, "job", `backup-${name}`);
  const cond = job?.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True");
  assert.deepEqual([cond?.reason, job?.status?.failed], [reason, failed], `Job backup-${name}`);
}

test("Job failures: each backup ends Failed naming what to fix, and leaves no snapshot, upload or manifest", async (t) => {
  const w = await world(t, "e2e-backup-bad", { ownEmulator: "a Qdrant that refuses a wrong API key, failed downloads of every snapshot, and its whole disk and /metrics read" });
  const admin = new AdminClient(w.qdrant.adminUrl);
  const res = await fetch(`${w.qdrant.url}/collections/aliases`, { method: "POST", headers: { "api-key": w.apiKey, "content-type": "application/json" }, body: JSON.stringify({ actions: [{ create_alias: { alias_name: "policies_production", collection_name: "policies" } }] }) });
  assert.equal(res.status, 200);
  const downUrl = `http://127.0.0.1:${await freePort()}`;
  const wrongSecretKey = `wrong-${randomBytes(12).toString("hex")}`;
  const wrongApiKey = `qk-wrong-${randomBytes(12).toString("hex")}`;
  const missingBucket = `missing-${randomBytes(6).toString("hex")}`;
  const root = testEnv().s3;
  // Every download of a snapshot fails: the snapshot exists by then, so the Job must delete it.
  await admin.failNext({ method: "GET", path: "/collections/{collection_name}/snapshots/{snapshot_name}" }, 500, "Service internal error: disk read failed", 10);
  await apply(w.ns, [
    secret("qdrant-wrong", { "api-key": wrongApiKey }),
    secret("s3-wrong", { AWS_ACCESS_KEY_ID: w.s3AccessKeyId, AWS_SECRET_ACCESS_KEY: wrongSecretKey }),
    // MinIO answers a one-bucket user 403 for any other bucket: the root user sees that it is missing.
    secret("s3-root", { AWS_ACCESS_KEY_ID: root.accessKeyId, AWS_SECRET_ACCESS_KEY: root.secretAccessKey }),
    connection("down", downUrl),
    connection("wrong-key", w.qdrant.url, "qdrant-wrong"),
    location("wrong-creds", { bucket: w.bucket, secret: "s3-wrong" }),
    location("no-bucket", { bucket: missingBucket, secret: "s3-root" }),
    // Retryable: tried backoffLimit + 1 times. The others are permanent: one attempt despite backoffLimit 3.
    backupObj("unreachable", { connectionRef: { name: "down" }, job: { backoffLimit: 1 } }),
    backupObj("refused-key", { connectionRef: { name: "wrong-key" } }),
    backupObj("no-collection", { collections: { names: ["policies", "nope"] } }),
    backupObj("alias", { collections: { names: ["policies_production"] } }),
    backupObj("wrong-creds", { locationRef: { name: "wrong-creds" } }),
    backupObj("no-bucket", { locationRef: { name: "no-bucket" } }),
    backupObj("download-fails", { job: { backoffLimit: 0 } }),
  ]);
  const ns = w.ns;
  const expected: Array<[name: string, reason: string, message: RegExp[], jobReason: string, attempts: number]> = [
    ["unreachable", "QdrantUnreachable", [/^QdrantConnection down did not answer: /, new RegExp(`GET ${downUrl}/: ECONNREFUSED`), /check its spec\.url and that Qdrant is running/, /tried 2 times; spec\.job\.backoffLimit 1 bounds the retries/], "BackoffLimitExceeded", 2],
    ["refused-key", "QdrantUnauthorized", [new RegExp(`^QdrantConnection wrong-key spec\\.apiKeySecretRef: Qdrant refused the API key from Secret ${ns}/qdrant-wrong key "api-key": `), /401 Invalid API key/], "PodFailurePolicy", 1],
    ["no-collection", "CollectionNotFound", [/^spec\.collections \(in the Qdrant of QdrantConnection qdrant\): collection "nope" does not exist$/], "PodFailurePolicy", 1],
    ["alias", "CollectionNotFound", [/collection "policies_production" does not exist \("policies_production" is an alias of collection "policies"; name the collection\)/], "PodFailurePolicy", 1],
    ["wrong-creds", "StorageAccessDenied", [new RegExp(`^QdrantBackupLocation wrong-creds spec\\.s3\\.bucket, spec\\.s3\\.credentials: HeadBucket on bucket "${w.bucket}" was refused \\(HTTP 403\\): the bucket is missing, or not permitted for these credentials; check the bucket's name, the access key and secret, and the bucket's policy; `), new RegExp(`the credentials come from Secret ${ns}/s3-wrong \\(keys AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY\\)$`)], "PodFailurePolicy", 1],
    ["no-bucket", "BucketNotFound", [new RegExp(`^QdrantBackupLocation no-bucket spec\\.s3\\.bucket: bucket "${missingBucket}" does not exist`), /create the bucket or name an existing one$/], "PodFailurePolicy", 1],
    ["download-fails", "QdrantError", [/^QdrantConnection qdrant: GET .*\/collections\/policies\/snapshots\/.*: 500 Service internal error: disk read failed/, /tried 1 time; spec\.job\.backoffLimit 0 bounds the retries/], "BackoffLimitExceeded", 1],
  ];
  const secrets = [w.apiKey, w.s3SecretKey, wrongSecretKey, wrongApiKey, root.secretAccessKey];
  await Promise.all(
    expected.map(async ([name, reason, message, jobReason, attempts]) => {
      const b = await waitForPhase(ns, name, "Failed", 90_000);
      assert.equal(b.status?.failure?.reason, reason, name);
      for (const re of message) assert.match(b.status.failure.message, re, name);
      for (const type of ["Ready", "Failed"]) assert.deepEqual([condition(b, type)?.reason, condition(b, type)?.message], [reason, b.status.failure.message], `${name} ${type}`);
      assert.deepEqual([condition(b, "Ready")?.status, condition(b, "Failed")?.status], ["False", "True"], name);
      await assertJobEnded(ns, name, jobReason, attempts);
      await assertNoSecretIn(w, name, secrets);
    }),
  );
  assert.ok(!(await w.manager.log()).includes(wrongSecretKey), "no secret value in the manager's log");

  // No snapshot left on Qdrant's disk (one was made, then its download failed), none listed by Qdrant;
  // nothing in the bucket (no manifest, no marker, no object) and no multipart upload left open.
  const metrics = await (await fetch(`${w.qdrant.url}/metrics`, { headers: { "api-key": w.apiKey } })).text();
  assert.match(metrics, /^snapshot_created_total(\{[^}]*\})? 1$/m, "exactly one snapshot was made (download-fails)");
  assert.deepEqual(await admin.files(1), { snapshots: [], tmp: [] });
  const listed = await fetch(`${w.qdrant.url}/collections/policies/snapshots`, { headers: { "api-key": w.apiKey } });
  assert.deepEqual(((await listed.json()) as { result: unknown[] }).result, []);
  const s3 = s3Client();
  t.after(() => s3.destroy());
  assert.deepEqual((await s3.send(new ListObjectsV2Command({ Bucket: w.bucket }))).Contents?.map((o) => o.Key) ?? [], []);
  assert.deepEqual((await s3.send(new ListMultipartUploadsCommand({ Bucket: w.bucket }))).Uploads ?? [], []);
  await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: missingBucket })), "the missing bucket was not created");
});

test("missing Secrets and keys: the backup waits naming the Secret and key, and runs once they exist", async (t) => {
  const w = await world(t, "e2e-backup-secrets");
  // One collection per backup, so each backup's manifest and points are its own to check.
  const [users, orders] = [await useCollection(t, "users", { points: 0 }), await useCollection(t, "orders", { points: 0 })];
  await apply(w.ns, [
    connection("keyless", w.qdrant.url, "absent-key"),
    location("no-secret", { bucket: w.bucket, secret: "absent-s3" }),
    secret("s3-partial", { AWS_ACCESS_KEY_ID: w.s3AccessKeyId }),
    location("partial", { bucket: w.bucket, secret: "s3-partial" }),
    backupObj("no-api-key-secret", { connectionRef: { name: "keyless" }, collections: { names: [w.collection] } }),
    backupObj("no-s3-secret", { locationRef: { name: "no-secret" }, collections: { names: [users] } }),
    backupObj("no-s3-key", { locationRef: { name: "partial" }, collections: { names: [orders] } }),
  ]);
  const ns = w.ns;
  const cases: Array<[string, RegExp]> = [
    ["no-api-key-secret", new RegExp(`^QdrantConnection keyless spec\\.apiKeySecretRef\\.name: Secret ${ns}/absent-key does not exist; the backup starts once it exists`)],
    ["no-s3-secret", new RegExp(`^QdrantBackupLocation no-secret spec\\.s3\\.credentials\\.secretRef\\.name: Secret ${ns}/absent-s3 does not exist; the backup starts once it exists`)],
    ["no-s3-key", new RegExp(`^QdrantBackupLocation partial spec\\.s3\\.credentials\\.secretRef\\.secretAccessKeyKey: Secret ${ns}/s3-partial has no key "AWS_SECRET_ACCESS_KEY"; the backup starts once it exists`)],
  ];
  for (const [name, message] of cases) {
    const b = await eventually(`${name} to wait for its Secret`, async () => {
      const x = await getBackup(ns, name);
      return condition(x, "Ready")?.reason === "SecretNotFound" ? x : undefined;
    });
    assert.equal(b.status?.phase, "Pending", name);
    assert.equal(condition(b, "Ready")?.status, "False", name);
    assert.equal(condition(b, "Failed"), undefined, `${name}: waiting is not a failure`);
    assert.match(condition(b, "Ready")!.message, message);
    assert.equal(await getJson(ns, "job", `backup-${name}`), undefined, `${name}: no Job while a Secret is missing`);
    const events = (await kubectl(["get", "events.events.k8s.io", "-n", ns, "--field-selector", `regarding.name=${name}`, "-o", "json"])).stdout;
    assert.match(events, /"reason": "SecretNotFound"/);
    await assertNoSecretIn(w, name, [w.apiKey, w.s3SecretKey]);
  }

  // The Secrets appear: each backup runs and succeeds, without being touched.
  await apply(ns, [
    secret("absent-key", { "api-key": w.apiKey }),
    secret("absent-s3", { AWS_ACCESS_KEY_ID: w.s3AccessKeyId, AWS_SECRET_ACCESS_KEY: w.s3SecretKey }),
    secret("s3-partial", { AWS_ACCESS_KEY_ID: w.s3AccessKeyId, AWS_SECRET_ACCESS_KEY: w.s3SecretKey }),
  ]);
  const s3 = s3Client();
  t.after(() => s3.destroy());
  await Promise.all(
    cases.map(async ([name]) => {
      const b = await waitForPhase(ns, name, "Succeeded", 120_000);
      assert.deepEqual([condition(b, "Ready")?.status, condition(b, "Failed")?.status], ["True", "False"], name);
      const key = b.status?.collections?.[0]?.manifestKey ?? "";
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: w.bucket, Prefix: key }));
      assert.deepEqual(listed.Contents?.map((o) => o.Key), [key], `${name}: its manifest is in the bucket`);
    }),
  );
});
