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
import { CONTAINER_NAME } from "../../../src/controllers/restore/names.ts";
import type { SourceResolver } from "../../../src/controllers/restore/source/resolve-source.ts";
import type { RestoreObject } from "../../../src/controllers/restore/types.ts";
import { JOBS, PODS, QDRANT_CONNECTIONS, QDRANT_RESTORES } from "../../../src/controllers/resources.ts";
import type { JobObject } from "../../../src/controllers/shared/job-objects.ts";
import type { QdrantRestoreStatus } from "../../../src/api/v1alpha1/restore.ts";
import { realClock } from "../../../src/runtime/clock.ts";
import { eventually } from "../../helpers/eventually.ts";
import { captureLogs } from "../../runtime/fixtures/logs.ts";
import { MemoryApi } from "../../runtime/fixtures/memory-api.ts";
import { NS, startRestoreController } from "./memory-controller.ts";

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
  await startRestoreController(t, api, { clock: realClock, source: noSource, logs });
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
