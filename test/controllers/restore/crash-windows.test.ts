/**
 * The crash windows of the QdrantRestore controller that need no Qdrant, on an in-memory apiserver with
 * the whole controller running: what a manager killed at the wrong moment leaves is seeded, and a fresh
 * controller must finish the work without redoing it.
 * - killed after creating the Job, before the status named it: the Job (restore-r-1, ours) is adopted and
 *   its result read, and no second Job is created;
 * - the Job finished and its status was never written: the status still says Running, and the result is
 *   read again from the Job's pod.
 */
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { restoreController } from "../../../src/controllers/restore/controller.ts";
import { CONTAINER_NAME } from "../../../src/controllers/restore/names.ts";
import type { SourceResolver } from "../../../src/controllers/restore/source/resolve-source.ts";
import type { RestoreObject } from "../../../src/controllers/restore/types.ts";
import { JOBS, PODS, QDRANT_BACKUP_LOCATIONS, QDRANT_BACKUPS, QDRANT_CONNECTIONS, QDRANT_RESTORES } from "../../../src/controllers/resources.ts";
import type { OperatorContext } from "../../../src/controllers/shared/context.ts";
import type { JobObject } from "../../../src/controllers/shared/job-objects.ts";
import type { QdrantRestoreStatus } from "../../../src/api/v1alpha1/restore.ts";
import { realClock } from "../../../src/runtime/clock.ts";
import { EventRecorder } from "../../../src/runtime/events.ts";
import { Informer } from "../../../src/runtime/informer.ts";
import { Redactor } from "../../../src/runtime/redact.ts";
import type { KubeObject, ResourceType } from "../../../src/runtime/resource.ts";
import { StatusWriter } from "../../../src/runtime/status-writer.ts";
import { eventually } from "../../helpers/eventually.ts";
import { captureLogs } from "../../runtime/fixtures/logs.ts";
import { MemoryApi } from "../../runtime/fixtures/memory-api.ts";

const NS = "team";
const V1 = "qdrant-operator.dev/v1alpha1";
const RESULT = {
  ok: true,
  backupId: "20260301T100000Z-0a1b2c3d",
  targetCollection: "policies",
  method: "Pull",
  startTime: "2026-03-01T10:00:05Z",
  recoveredTime: "2026-03-01T10:00:20Z",
  verifiedTime: "2026-03-01T10:00:30Z",
  bytes: 1234,
  pointsCount: { expected: 20, actual: 20 },
  created: true,
};

/** A source resolver that must not be asked: a Job already running or done needs no source. */
const noSource: SourceResolver = { resolve: () => Promise.reject(new Error("the source was resolved although a Job of this attempt exists")) };

async function run(t: TestContext, status: QdrantRestoreStatus | undefined, annotations: Record<string, string>): Promise<{ api: MemoryApi; restore: RestoreObject }> {
  const api = new MemoryApi();
  const logs = captureLogs();
  api.seed(QDRANT_CONNECTIONS, { apiVersion: V1, kind: "QdrantConnection", metadata: { name: "qdrant", namespace: NS }, spec: { url: "http://127.0.0.1:1" } });
  const restore = api.seed<RestoreObject>(QDRANT_RESTORES, {
    apiVersion: V1,
    kind: "QdrantRestore",
    metadata: { name: "r", namespace: NS, creationTimestamp: "2026-03-01T09:59:00Z" },
    spec: { source: { backupRef: { name: "b1" } }, target: { connectionRef: { name: "qdrant" } } },
    ...(status ? { status } : {}),
  });
  const job = api.seed<JobObject>(JOBS, {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "restore-r-1", namespace: NS, creationTimestamp: "2026-03-01T10:00:00Z", annotations, ownerReferences: [{ apiVersion: V1, kind: "QdrantRestore", name: "r", uid: restore.metadata!.uid!, controller: true }] },
    status: { startTime: "2026-03-01T10:00:01Z", completionTime: "2026-03-01T10:00:31Z", succeeded: 1, conditions: [{ type: "Complete", status: "True" }] },
  });
  api.seed(PODS, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "restore-r-1-x1", namespace: NS, labels: { "job-name": "restore-r-1" }, ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: "restore-r-1", uid: job.metadata!.uid!, controller: true }] },
    status: { phase: "Succeeded", containerStatuses: [{ name: CONTAINER_NAME, state: { terminated: { exitCode: 0, message: JSON.stringify(RESULT) } } }] },
  });
  const informer = <T extends KubeObject>(rt: ResourceType) => new Informer<T>({ resource: rt, listerWatcher: api.listerWatcher<T>(rt), logger: logs.logger, namespaces: [NS] });
  const inf = { restores: informer<RestoreObject>(QDRANT_RESTORES), jobs: informer<JobObject>(JOBS), connections: informer(QDRANT_CONNECTIONS), locations: informer(QDRANT_BACKUP_LOCATIONS), backups: informer(QDRANT_BACKUPS) };
  const redactor = new Redactor();
  const events = new EventRecorder({ client: api, reportingController: "test", reportingInstance: "test-0", logger: logs.logger, redactor });
  const ctx: OperatorContext = { client: api, status: new StatusWriter(api), events, redactor, clock: realClock, logger: logs.logger, workers: 1 };
  const controller = restoreController(ctx, inf as Parameters<typeof restoreController>[1], { defaultJobImage: "registry.example.com/op:1", source: noSource });
  for (const i of Object.values(inf)) i.start();
  await eventually("caches synced", () => (Object.values(inf).every((i) => i.hasSynced()) ? true : undefined));
  void controller.start();
  t.after(async () => {
    await controller.stop(1_000);
    for (const i of Object.values(inf)) await i.stop();
    await events.flush();
  });
  return { api, restore };
}

test("a Job created before the manager died, its status never written, is adopted and its result recorded; no second Job", async (t) => {
  const { api } = await run(t, undefined, { "qdrant-operator.dev/restore-attempt": "1" });
  const done = await eventually("the restore Succeeded", () => {
    const r = api.stored<RestoreObject>(QDRANT_RESTORES, NS, "r");
    return r?.status?.phase === "Succeeded" ? r : undefined;
  });
  const s = done.status!;
  assert.deepEqual([s.jobName, s.jobCount, s.attempt, s.restoreCount, s.backupId, s.targetCollection], ["restore-r-1", 1, 1, 1, RESULT.backupId, "policies"]);
  assert.equal(s.startTime, "2026-03-01T10:00:00Z", "the run started when its Job was created");
  assert.equal(s.durationSeconds, 30);
  assert.deepEqual(s.pointsCount, { expected: 20, actual: 20 });
  assert.equal(api.stored(JOBS, NS, "restore-r-2"), undefined);
  assert.equal(api.requests.filter((r) => r.method === "POST" && r.path.includes("/jobs")).length, 0, "no Job was created");
});

test("a finished Job whose result never reached the status is read again: Running becomes Succeeded", async (t) => {
  const { api } = await run(t, { phase: "Running", jobName: "restore-r-1", jobCount: 1, attempt: 1, startTime: "2026-03-01T10:00:00Z", targetCollection: "policies", backupId: RESULT.backupId }, {});
  const done = await eventually("the restore Succeeded", () => {
    const r = api.stored<RestoreObject>(QDRANT_RESTORES, NS, "r");
    return r?.status?.phase === "Succeeded" ? r : undefined;
  });
  assert.equal(done.status?.completionTime, RESULT.verifiedTime);
  assert.equal(done.status?.lastRestoreTime, RESULT.verifiedTime);
  assert.equal(done.status?.conditions?.find((c) => c.type === "Ready")?.reason, "Restored");
});
