/**
 * The object storage going away mid-transfer, at the Job level: a MinIO of the test's own
 * (test/helpers/stoppable-minio.ts) stopped while `job backup` uploads a snapshot (a multipart upload
 * exists) and while `job restore` streams an object into Qdrant's upload. Either way the Job's result is
 * StorageUnreachable naming the bucket (retryable): not an InternalError with a bare
 * "connect ECONNREFUSED" or "aborted", which the controllers would show as a bug of the operator's.
 * (e2e/faults/outage-minio.test.ts runs the same outages through the manager and the node agent.)
 *
 * The backup's snapshot is ~12 MiB (two 8 MiB parts) and the Job reaches Qdrant through a proxy passing
 * snapshot bodies at 2 MiB/s, so the test can act mid-transfer on a state it observes. The restore's is
 * ~48 MiB: the Job reads the object in one GET, and the sockets' buffers on the way (MinIO to the Job, the
 * Job to the proxy) hold what MinIO sent before it stopped: 7–12 MiB measured here. With 12 MiB the whole
 * object could be in them, and the restore then succeeded without MinIO.
 */
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import type { BackupJobSuccess } from "../../src/jobs/backup/contract.ts";
import { parseManifest } from "../../src/backup/layout/manifest.ts";
import { qdrantUnderTest, uniqueName } from "../helpers/qdrant.ts";
import { startQdrantProxy, type QdrantProxy } from "../helpers/qdrant-proxy.ts";
import { startStoppableMinio, type StoppableMinio } from "../helpers/stoppable-minio.ts";
import { eventually } from "../helpers/testenv.ts";
import { makePlan, objectBytes, runJob, seedCollection, startJob } from "./backup-harness.ts";
import { describeRun, restorePlan, startRestore } from "./restore-harness.ts";
import { JOB_ENV } from "../../src/jobs/protocol/env.ts";

const MIB = 1024 * 1024;

interface Setup {
  minio: StoppableMinio;
  bucket: string;
  collection: string;
  proxy: QdrantProxy;
  creds: { accessKeyId: string; secretAccessKey: string };
}

async function setup(t: TestContext, points = 192): Promise<Setup> {
  const q = qdrantUnderTest();
  const collection = uniqueName("storage_outage");
  t.after(() => fetch(`${q.url}/collections/${collection}`, { method: "DELETE", headers: q.apiKey ? { "api-key": q.apiKey } : {} }).then(() => undefined));
  await seedCollection(q.url, collection, points, { payloadBytes: 64 * 1024, ...(q.apiKey ? { apiKey: q.apiKey } : {}) });
  const minio = await startStoppableMinio(t);
  const bucket = await minio.createBucket();
  const proxy = await startQdrantProxy(q.url, { throttle: { bytesPerSecond: 2 * MIB, match: (method, path) => (method === "GET" || method === "POST") && path.includes("/snapshots/") } });
  t.after(() => proxy.close());
  return { minio, bucket, collection, proxy, creds: { accessKeyId: minio.info.accessKeyId, secretAccessKey: minio.info.secretAccessKey } };
}

const backupPlan = (s: Setup, qdrantUrl = s.proxy.url) => {
  const plan = makePlan(qdrantUrl, s.bucket, { collections: { names: [s.collection] } });
  return { ...plan, s3: { ...plan.s3, endpoint: s.minio.info.endpoint } };
};

test("job backup: MinIO stopped mid-upload ends StorageUnreachable naming the bucket", async (t) => {
  const s = await setup(t);
  const job = startJob(backupPlan(s), { ...s.creds, apiKey: qdrantUnderTest().apiKey ?? "" });
  await eventually("the multipart upload to exist", async () => (((await s.minio.client.send(new ListMultipartUploadsCommand({ Bucket: s.bucket }))).Uploads ?? []).length > 0 ? true : undefined), 120_000);
  await s.minio.stop();
  const run = await job.wait();
  assert.notEqual(run.code, 0, describeRun(run));
  assert.deepEqual([run.result?.ok, run.result && !run.result.ok ? run.result.reason : undefined], [false, "StorageUnreachable"], describeRun(run));
  assert.ok(run.result && !run.result.ok && run.result.message.includes(`on bucket "${s.bucket}"`) && run.result.retryable, describeRun(run));
});

test("job restore (Upload): MinIO stopped mid-read ends StorageUnreachable naming the bucket", async (t) => {
  const s = await setup(t, 768);
  // The backup goes to Qdrant directly (48 MiB through the throttle would be 24 s); the restore goes through it.
  const backed = await runJob(backupPlan(s, qdrantUnderTest().url), { ...s.creds, apiKey: qdrantUnderTest().apiKey ?? "" });
  assert.equal(backed.code, 0, describeRun(backed));
  const key = (backed.result as BackupJobSuccess).collections?.[0]?.manifestKey ?? "";
  const parsed = parseManifest(await objectBytes(s.minio.client, s.bucket, key), { key });
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
  const target = `${s.collection}_restored`;
  const q = qdrantUnderTest();
  t.after(() => fetch(`${q.url}/collections/${target}`, { method: "DELETE", headers: q.apiKey ? { "api-key": q.apiKey } : {} }).then(() => undefined));
  const plan = restorePlan({ manifest: parsed.manifest, plan: backupPlan(s) }, s.proxy.url, s.bucket, { target, method: "Upload" });
  const before = s.proxy.throttledBytes();
  const job = startRestore({ ...plan, s3: { ...plan.s3, endpoint: s.minio.info.endpoint } }, { [JOB_ENV.awsAccessKeyId]: s.creds.accessKeyId, [JOB_ENV.awsSecretAccessKey]: s.creds.secretAccessKey });
  await eventually("the upload to Qdrant under way", () => (s.proxy.throttledBytes() - before > MIB ? true : undefined), 120_000);
  await s.minio.stop();
  const run = await job.wait();
  assert.notEqual(run.code, 0, describeRun(run));
  assert.deepEqual([run.result?.ok, run.result && !run.result.ok ? run.result.reason : undefined], [false, "StorageUnreachable"], describeRun(run));
  assert.ok(run.result && !run.result.ok && run.result.message.includes(`on bucket "${s.bucket}"`) && run.result.retryable, describeRun(run));
});
