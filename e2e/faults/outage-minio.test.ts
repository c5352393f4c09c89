/**
 * The object storage goes down mid-transfer and comes back: a MinIO of the test's own
 * (test/helpers/stoppable-minio.ts; the environment's serves everyone) is stopped while a backup's Job
 * is uploading a snapshot and while a restore's Job is reading one, then started again on the same
 * address and data.
 *
 * To be mid-transfer on purpose, the collection is ~24 MiB (three 8 MiB parts: the upload is a real
 * multipart upload) and the Jobs reach Qdrant through a proxy that passes snapshot bodies at 2 MiB/s
 * (test/helpers/qdrant-proxy.ts `throttle`). MinIO is stopped once the multipart upload exists (the
 * backup) or once the upload to Qdrant has begun (the restore): a state the test observes, not a sleep.
 *
 * Nothing lost and nothing left behind, whichever way each ends:
 * - retried (the default backoffLimit): the attempt during the outage fails StorageUnreachable naming the
 *   location and its endpoint; a manager started after the failure (the one before was SIGKILLed while it
 *   ran) shows it in Ready ("attempt 1 of 4 failed: …; attempt 2 starts at about …", then "… started at
 *   …" while attempt 2 runs) with one Warning Event; the next attempt, after MinIO is back, cleans up after it (its pending
 *   marker, its multipart upload) and succeeds; one manifest, no pending marker, no open multipart
 *   upload, no snapshot left on Qdrant, and the bytes in the bucket are the manifest's;
 * - not retried (backoffLimit 0): Failed with Ready/Failed conditions and a Warning Event naming the
 *   location; the sweep cannot reach MinIO (CleanedUp False, a CleanupFailed Event) and, once it is back,
 *   removes what the run left (CleanedUp True): an empty bucket, no open upload, no snapshot on Qdrant;
 * - a restore: the attempt during the outage fails and leaves no collection that looks restored (the
 *   status is not Succeeded, and the target is absent or not the backup's points); the next attempt
 *   restores every point.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test, type TestContext } from "node:test";
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { API_VERSION } from "../../src/api/group.ts";
import { parseManifest } from "../../src/backup/layout/manifest.ts";
import { ensureCrds } from "../../test/helpers/crds.ts";
import { kubectl } from "../../test/helpers/kubectl.ts";
import { startManager, type ManagerProcess } from "../../test/helpers/manager.ts";
import { apiKeyForSecret, qdrantUnderTest, uniqueName } from "../../test/helpers/qdrant.ts";
import { startQdrantProxy, type QdrantProxy } from "../../test/helpers/qdrant-proxy.ts";
import { startStoppableMinio, type StoppableMinio } from "../../test/helpers/stoppable-minio.ts";
import { eventually, useNamespace } from "../../test/helpers/testenv.ts";
import { objectBytes, seedCollection } from "../../test/jobs/backup-harness.ts";
import { allPoints, apply, backupObj, condition, getBackup, secret, waitForPhase } from "../helpers/backup-world.ts";
import { bucketProblems, snapshotProblems, statusProblems, unfinished } from "./invariants.ts";
import { cleanupOnQdrant, collectionExists, eventsOf, qdrantCall, restoreJobs, restoreObj, waitForRestore, waitForRestorePhase } from "../helpers/restore-world.ts";

const MIB = 1024 * 1024;
/** 384 points of 64 KiB payload each: a ~24 MiB snapshot, three 8 MiB parts. */
const POINTS = 384;
const PAYLOAD_BYTES = 64 * 1024;

interface OutageWorld {
  ns: string;
  bucket: string;
  collection: string;
  apiKey: string;
  minio: StoppableMinio;
  proxy: QdrantProxy;
  manager: ManagerProcess;
}

/**
 * A namespace, a ~24 MiB collection on the environment's Qdrant, a MinIO of the test's own with a bucket
 * (root credentials in Secret "s3-creds"), the throttling proxy in front of Qdrant, connection "qdrant"
 * (through the proxy), location "s3" and the manager.
 */
async function outageWorld(t: TestContext, prefix: string): Promise<OutageWorld> {
  await ensureCrds();
  const q = qdrantUnderTest();
  const collection = uniqueName("outage");
  cleanupOnQdrant(t, q.url, q.apiKey, [collection]);
  await seedCollection(q.url, collection, POINTS, { payloadBytes: PAYLOAD_BYTES, ...(q.apiKey ? { apiKey: q.apiKey } : {}) });
  const ns = await useNamespace(t, prefix);
  const minio = await startStoppableMinio(t);
  const bucket = await minio.createBucket();
  const proxy = await startQdrantProxy(q.url, { throttle: { bytesPerSecond: 2 * MIB, match: (method, path) => (method === "GET" || method === "POST") && path.includes("/snapshots/") } });
  t.after(() => proxy.close());
  const manager = await startManager(t, [ns]);
  const apiKey = apiKeyForSecret();
  await apply(ns, [
    secret("qdrant-key", { "api-key": apiKey }),
    secret("s3-creds", { AWS_ACCESS_KEY_ID: minio.info.accessKeyId, AWS_SECRET_ACCESS_KEY: minio.info.secretAccessKey }),
    { apiVersion: API_VERSION, kind: "QdrantConnection", metadata: { name: "qdrant" }, spec: { url: proxy.url, apiKeySecretRef: { name: "qdrant-key", key: "api-key" }, peers: { mode: "None" } } },
    {
      apiVersion: API_VERSION,
      kind: "QdrantBackupLocation",
      metadata: { name: "s3" },
      spec: { s3: { bucket, prefix: "qdrant/outage", endpoint: minio.info.endpoint, region: minio.info.region, forcePathStyle: true, credentials: { secretRef: { name: "s3-creds" } } } },
    },
  ]);
  return { ns, bucket, collection, apiKey, minio, proxy, manager };
}

const uploads = async (w: OutageWorld) => (await w.minio.client.send(new ListMultipartUploadsCommand({ Bucket: w.bucket }))).Uploads ?? [];
const keys = async (w: OutageWorld) => ((await w.minio.client.send(new ListObjectsV2Command({ Bucket: w.bucket }))).Contents ?? []).map((o) => o.Key!);
const snapshotsOnQdrant = async (w: OutageWorld) => (await qdrantCall<Array<{ name: string }>>(qdrantUnderTest().url, `/collections/${w.collection}/snapshots`, qdrantUnderTest().apiKey)).map((s) => s.name);

/** The shared invariants (e2e/faults/invariants.ts), on the test's own MinIO: every problem at once. */
async function assertInvariants(w: OutageWorld, collections: string[]): Promise<void> {
  const q = qdrantUnderTest();
  const bucket = { bucket: w.bucket, prefix: "qdrant/outage" };
  const problems = [
    ...(await unfinished(w.ns)),
    ...(await bucketProblems(bucket, w.minio.client)),
    ...(await snapshotProblems({ urls: [q.url], collections, ...(q.apiKey ? { apiKey: q.apiKey } : {}) })),
    ...(await statusProblems(w.ns, bucket, { url: q.url, ...(q.apiKey ? { apiKey: q.apiKey } : {}) }, w.minio.client)),
  ];
  assert.deepEqual(problems, [], `invariants broken:\n- ${problems.join("\n- ")}`);
}

/** Stops MinIO once the backup's multipart upload exists: the Job is mid-upload. */
async function stopMidUpload(w: OutageWorld): Promise<void> {
  await eventually("the backup's multipart upload to exist", async () => ((await uploads(w)).length > 0 ? true : undefined), 180_000);
  await w.minio.stop();
}

interface PodState {
  metadata: { name: string };
  status?: { containerStatuses?: Array<{ state?: { terminated?: { exitCode?: number; message?: string } } }> };
}

/** The termination messages of the Job's pods that failed, once there are `n`. */
async function failedAttempts(ns: string, job: string, n: number): Promise<string[]> {
  return eventually(`${n} failed attempt(s) of Job ${job}`, async () => {
    const pods = (JSON.parse((await kubectl(["get", "pods", "-n", ns, "-l", `job-name=${job}`, "-o", "json"])).stdout) as { items: PodState[] }).items;
    const failed = pods.map((p) => p.status?.containerStatuses?.[0]?.state?.terminated).filter((s) => s !== undefined && s.exitCode !== 0);
    return failed.length >= n ? failed.map((s) => s!.message ?? "") : undefined;
  }, 120_000);
}

interface EventItem {
  type?: string;
  reason?: string;
  note?: string;
  series?: { count?: number };
}

/** The Events regarding `name`, with their type and series. */
async function attemptEvents(ns: string, name: string): Promise<EventItem[]> {
  return (JSON.parse((await kubectl(["get", "events.events.k8s.io", "-n", ns, "--field-selector", `regarding.name=${name}`, "-o", "json"])).stdout) as { items: EventItem[] }).items;
}

/** The bucket holds exactly the manifest at `key` and the files it names, whose bytes are the manifest's. */
async function assertOnlyTheBackup(w: OutageWorld, key: string): Promise<void> {
  const got = await w.minio.client.send(new GetObjectCommand({ Bucket: w.bucket, Key: key }));
  const parsed = parseManifest(await got.Body!.transformToString(), { key });
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
  assert.equal(parsed.manifest.collection?.pointsCount, POINTS);
  const files = parsed.manifest.peers.map((p) => p.file);
  assert.deepEqual((await keys(w)).sort(), [key, ...files.map((f) => f.key)].sort(), "the manifest and its files, no pending marker, nothing else");
  for (const f of files) {
    const bytes = await objectBytes(w.minio.client, w.bucket, f.key);
    assert.equal(bytes.length, f.size);
    assert.equal(createHash("sha256").update(bytes).digest("hex"), f.sha256, "the bytes in the bucket are the manifest's");
  }
}

test("MinIO stopped mid-upload, backup retried: the attempt fails naming the location, and the status and an Event say so while attempt 2 runs; after MinIO is back the retry succeeds and nothing is left behind", async (t) => {
  const w = await outageWorld(t, "e2e-out-minio-retry");
  await apply(w.ns, [backupObj("through-outage", { collections: { names: [w.collection] } })]);
  await stopMidUpload(w);
  // The manager is killed while the attempt fails: what the next one writes comes from the Job and its pods alone.
  w.manager.child.kill("SIGKILL");
  await w.manager.stop();
  const [attempt] = await failedAttempts(w.ns, "backup-through-outage", 1);
  assert.match(attempt!, /"reason":"StorageUnreachable"/, `the attempt's result: ${attempt}`);
  assert.match(attempt!, new RegExp(`on bucket \\\\"${w.bucket}\\\\"`), "it names the bucket");
  // Back before the Job controller's backoff (10 s) ends, so attempt 2 finds it.
  await w.minio.start();
  await startManager(t, [w.ns]);
  // Ready names the failed attempt, why, and when attempt 2 starts (the Job controller's backoff) or started.
  const backoff = await eventually("Ready to report the failed attempt", async () => {
    const b = await getBackup(w.ns, "through-outage");
    return /^attempt 1 of 4 failed: /.test(condition(b, "Ready")?.message ?? "") ? b : undefined;
  }, 60_000);
  const ready = condition(backoff, "Ready")!;
  t.diagnostic(`Ready after attempt 1: ${ready.reason}: ${ready.message}`);
  assert.equal(backoff.status?.phase, "Running", "retried, not failed");
  assert.deepEqual([ready.status, ready.reason], ["False", "StorageUnreachable"]);
  assert.match(ready.message, new RegExp(`^attempt 1 of 4 failed: QdrantBackupLocation s3 \\(spec\\.s3\\.endpoint ${w.minio.info.endpoint.replace(/\./g, "\\.")}\\): .*; attempt 2 start(s at about|ed at) `), "it names the location, and what comes next");
  assert.ok(ready.message.includes(w.bucket), `it names the bucket: ${ready.message}`);
  // While attempt 2 uploads (~12 s through the proxy), Ready still shows attempt 1's failure, and when attempt 2 started.
  const during = await eventually("Ready to say attempt 2 started", async () => {
    const b = await getBackup(w.ns, "through-outage");
    if (b.status?.phase !== "Running") throw new Error(`attempt 2 was not seen running: ${JSON.stringify(b.status)}`);
    return /; attempt 2 started at /.test(condition(b, "Ready")?.message ?? "") ? b : undefined;
  }, 120_000);
  t.diagnostic(`Ready while attempt 2 runs: ${condition(during, "Ready")?.message ?? ""}`);
  assert.equal(condition(during, "Ready")?.reason, "StorageUnreachable");

  const done = await waitForPhase(w.ns, "through-outage", "Succeeded", 300_000);
  assert.equal(done.status?.collections?.[0]?.pointsCount, POINTS);
  // One Warning Event for the failed attempt, written once (no series: not repeated by later reconciles).
  const warnings = (await attemptEvents(w.ns, "through-outage")).filter((e) => /^attempt 1 of 4 failed: /.test(e.note ?? ""));
  assert.equal(warnings.length, 1, `one Event for attempt 1: ${JSON.stringify(warnings)}`);
  assert.deepEqual([warnings[0]!.type, warnings[0]!.reason, warnings[0]!.series?.count ?? 1], ["Warning", "StorageUnreachable", 1]);
  const job = JSON.parse((await kubectl(["get", "job", "-n", w.ns, "backup-through-outage", "-o", "json"])).stdout) as { status?: { succeeded?: number; failed?: number } };
  assert.deepEqual([job.status?.succeeded, job.status?.failed], [1, 1], "one failed attempt, one that succeeded");
  assert.deepEqual(await uploads(w), [], "no multipart upload left open");
  await assertOnlyTheBackup(w, done.status.collections[0]?.manifestKey ?? "");
  assert.deepEqual(await snapshotsOnQdrant(w), [], "no snapshot left on Qdrant");
  await assertInvariants(w, [w.collection]);
});

test("MinIO stopped mid-upload, backup not retried: Failed naming the location, with an Event; the sweep finishes once MinIO is back", async (t) => {
  const w = await outageWorld(t, "e2e-out-minio-fail");
  await apply(w.ns, [backupObj("through-outage", { collections: { names: [w.collection] }, job: { backoffLimit: 0 } })]);
  await stopMidUpload(w);
  const failed = await waitForPhase(w.ns, "through-outage", "Failed", 180_000);
  assert.equal(failed.status?.failure?.reason, "StorageUnreachable");
  assert.match(failed.status.failure.message, new RegExp(`^QdrantBackupLocation s3 \\(spec\\.s3\\.endpoint ${w.minio.info.endpoint.replace(/\./g, "\\.")}\\): `));
  for (const type of ["Ready", "Failed"]) assert.equal(condition(failed, type)?.reason, "StorageUnreachable", type);
  const events = await eventually("the Failed Event", async () => {
    const es = await eventsOf(w.ns, "through-outage");
    return es.some((e) => e.startsWith("Failed: StorageUnreachable: QdrantBackupLocation s3")) ? es : undefined;
  }, 30_000);
  // The sweep needs the bucket: it reports that it cannot reach it, and retries.
  const waiting = await eventually("the sweep to report MinIO unreachable", async () => {
    const b = await getBackup(w.ns, "through-outage");
    return condition(b, "CleanedUp")?.status === "False" ? b : undefined;
  }, 120_000);
  assert.equal(condition(waiting, "CleanedUp")?.reason, "CleanupFailed", JSON.stringify(condition(waiting, "CleanedUp")));
  await eventually("the CleanupFailed Event", async () => ((await eventsOf(w.ns, "through-outage")).some((e) => e.startsWith("CleanupFailed: ")) ? true : undefined), 30_000);
  await w.minio.start();

  const swept = await eventually("the sweep to finish", async () => {
    const b = await getBackup(w.ns, "through-outage");
    return condition(b, "CleanedUp")?.status === "True" ? b : undefined;
  }, 180_000);
  assert.equal(swept.status?.phase, "Failed", "still Failed: a sweep does not retry the backup");
  assert.deepEqual(await uploads(w), [], "no multipart upload left open");
  assert.deepEqual(await keys(w), [], "no manifest, no pending marker, no partial object");
  assert.deepEqual(await snapshotsOnQdrant(w), [], "no snapshot left on Qdrant");
  t.diagnostic(`Events: ${events.join(" | ")}`);
  await assertInvariants(w, [w.collection]);
});

test("MinIO stopped mid-restore: the attempt leaves nothing that looks restored; after MinIO is back the next attempt restores every point", async (t) => {
  const w = await outageWorld(t, "e2e-out-minio-restore");
  await apply(w.ns, [backupObj("b", { collections: { names: [w.collection] } })]);
  await waitForPhase(w.ns, "b", "Succeeded", 300_000);
  const target = `${w.collection}_restored`;
  const q = qdrantUnderTest();
  cleanupOnQdrant(t, q.url, q.apiKey, [target]);

  await apply(w.ns, [restoreObj("through-outage", { backupRef: { name: "b" } }, { method: "Upload", target: { collection: target } })]);
  // The Job streams the object from MinIO into Qdrant's upload: once a MiB has passed, most is still in MinIO.
  const before = w.proxy.throttledBytes();
  await eventually("the restore's upload to Qdrant to be under way", () => (w.proxy.requests.some((r) => r === `POST /collections/${target}/snapshots/upload`) && w.proxy.throttledBytes() - before > MIB ? true : undefined), 180_000);
  await w.minio.stop();

  await failedAttempts(w.ns, "restore-through-outage-1", 1);
  // The backoff before attempt 2 is reported: Ready says which attempt failed, why, and when the next starts.
  const backoff = await waitForRestore(w.ns, "through-outage", "Ready False for the failed attempt, the next one scheduled", (r) => {
    const ready = condition(r, "Ready");
    return ready?.status === "False" && /^attempt 1 of \d+ failed: .*; attempt 2 starts at /.test(ready.message);
  }, 120_000);
  const ready = condition(backoff, "Ready")!;
  t.diagnostic(`Ready in the backoff: ${ready.reason}: ${ready.message}`);
  assert.equal(ready.reason, "StorageUnreachable", ready.message);
  assert.ok(ready.message.includes(w.bucket), `it names the bucket: ${ready.message}`);
  await eventually("the Warning Event for the failed attempt", async () => ((await eventsOf(w.ns, "through-outage")).some((e) => e.startsWith("StorageUnreachable: attempt 1 of")) ? true : undefined), 30_000);
  // Whatever Qdrant holds now, the status does not call it restored, and it is not a whole restore.
  const between = (JSON.parse((await kubectl(["get", "qdrantrestore", "-n", w.ns, "through-outage", "-o", "json"])).stdout) as { status?: { phase?: string } }).status;
  assert.notEqual(between?.phase, "Succeeded");
  if (await collectionExists(q.url, target, q.apiKey)) {
    const count = (await qdrantCall<{ count: number }>(q.url, `/collections/${target}/points/count`, q.apiKey, { method: "POST", body: { exact: true } })).count;
    assert.notEqual(count, POINTS, "a half-restored target must not hold what looks like the whole backup while the status says it failed");
  }
  await w.minio.start();

  const done = await waitForRestorePhase(w.ns, "through-outage", "Succeeded", 300_000);
  assert.ok((done.status?.attempt ?? 0) >= 2, `restored by a later attempt: ${JSON.stringify(done.status)}`);
  assert.deepEqual(done.status?.pointsCount, { expected: POINTS, actual: POINTS });
  const jobs = await restoreJobs(w.ns);
  assert.equal(jobs.length, done.status?.attempt, "one Job per attempt");
  assert.deepEqual(await allPoints(q.url, target, q.apiKey), await allPoints(q.url, w.collection, q.apiKey), "every point restored");
  const created = (await eventsOf(w.ns, "through-outage")).filter((e) => e.startsWith("Created: "));
  assert.ok(created.some((e) => /attempt 2 of/.test(e)), `a Created Event for the retry: ${created.join(" | ")}`);
  await assertInvariants(w, [w.collection, target]);
});
