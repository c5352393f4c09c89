/**
 * A backup whose Job has failed is swept by the reconcile after the one that wrote Failed, which the
 * controller asks for with requeue(): its own status write wakes nothing (the backups' watch filters on
 * generation), and no other object changes. The whole controller runs on an in-memory apiserver, so
 * nothing but the controller's own result can bring that second reconcile.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { backupController } from "../../../src/controllers/backup/controller.ts";
import { DATA_FINALIZER, backupJobName } from "../../../src/controllers/backup/names.ts";
import type { BackupObject } from "../../../src/controllers/backup/types.ts";
import { JOBS, PODS, QDRANT_BACKUP_LOCATIONS, QDRANT_BACKUPS, QDRANT_CONNECTIONS } from "../../../src/controllers/resources.ts";
import type { OperatorContext } from "../../../src/controllers/shared/context.ts";
import type { JobObject } from "../../../src/controllers/shared/job-objects.ts";
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

test("a failed backup reaches its sweep with no event after the reconcile that wrote Failed", async (t) => {
  const api = new MemoryApi();
  const logs = captureLogs();
  api.seed(QDRANT_CONNECTIONS, { apiVersion: V1, kind: "QdrantConnection", metadata: { name: "qdrant", namespace: NS }, spec: { url: "http://127.0.0.1:1" } });
  api.seed(QDRANT_BACKUP_LOCATIONS, { apiVersion: V1, kind: "QdrantBackupLocation", metadata: { name: "s3", namespace: NS }, spec: { s3: { bucket: "backups", endpoint: "http://127.0.0.1:1", credentials: {} } } });
  const jobName = backupJobName("b1");
  const backup = api.seed<BackupObject>(QDRANT_BACKUPS, {
    apiVersion: V1,
    kind: "QdrantBackup",
    metadata: { name: "b1", namespace: NS, finalizers: [DATA_FINALIZER] },
    spec: { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: ["policies"] } },
    status: { phase: "Running", jobName, startTime: "2030-01-01T00:00:00Z" },
  });
  const job = api.seed<JobObject>(JOBS, {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: jobName, namespace: NS, ownerReferences: [{ apiVersion: V1, kind: "QdrantBackup", name: "b1", uid: backup.metadata!.uid!, controller: true }] },
    status: { failed: 3, conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" }] },
  });
  // A pod of the Job still running: the sweep waits for it, and says so in CleanedUp, touching nothing else.
  api.seed(PODS, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: `${jobName}-x1`, namespace: NS, labels: { "job-name": jobName }, ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: jobName, uid: job.metadata!.uid!, controller: true }] },
    status: { phase: "Running" },
  });

  const informer = <T extends KubeObject>(rt: ResourceType) => new Informer<T>({ resource: rt, listerWatcher: api.listerWatcher<T>(rt), logger: logs.logger, namespaces: [NS] });
  const inf = { backups: informer<BackupObject>(QDRANT_BACKUPS), jobs: informer<JobObject>(JOBS), connections: informer(QDRANT_CONNECTIONS), locations: informer(QDRANT_BACKUP_LOCATIONS) };
  const redactor = new Redactor();
  const events = new EventRecorder({ client: api, reportingController: "test", reportingInstance: "test-0", logger: logs.logger, redactor });
  const ctx: OperatorContext = { client: api, status: new StatusWriter(api), events, redactor, clock: realClock, logger: logs.logger, workers: 1 };
  const controller = backupController(ctx, inf as Parameters<typeof backupController>[1], { defaultJobImage: "registry.example.com/op:1" });
  for (const i of Object.values(inf)) i.start();
  await eventually("caches synced", () => (Object.values(inf).every((i) => i.hasSynced()) ? true : undefined));
  void controller.start();
  t.after(async () => {
    await controller.stop(1_000);
    for (const i of Object.values(inf)) await i.stop();
  });

  const failed = await eventually("the backup Failed", () => {
    const b = api.stored<BackupObject>(QDRANT_BACKUPS, NS, "b1");
    return b?.status?.phase === "Failed" ? b : undefined;
  });
  assert.equal(failed.metadata?.generation, backup.metadata?.generation, "a status write does not move the generation");
  const swept = await eventually("the sweep's CleanedUp condition", () => api.stored<BackupObject>(QDRANT_BACKUPS, NS, "b1")?.status?.conditions?.find((c) => c.type === "CleanedUp"), 10_000);
  assert.equal(swept.status, "False");
  assert.equal(swept.reason, "WaitingForPods");
  assert.match(swept.message, new RegExp(`pod ${jobName}-x1`));
  await events.flush();
  const unsignalled = api.requests.filter((r) => r.signal === undefined).map((r) => `${r.method} ${r.path}`);
  assert.deepEqual(unsignalled, [], "every Kubernetes request of the controller carried the reconcile's signal");
});
