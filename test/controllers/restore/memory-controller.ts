/**
 * The whole QdrantRestore controller on an in-memory apiserver (test/runtime/fixtures/memory-api.ts): its
 * informers on `api`, an OperatorContext with `clock`, started once the caches synced and stopped when the
 * test ends. For the tests of what a reconcile does and asks (crash windows, a drill between ticks) where
 * no Qdrant, S3 or real apiserver is needed; the source resolver is the test's own.
 */
import type { TestContext } from "node:test";
import { restoreController } from "../../../src/controllers/restore/controller.ts";
import type { SourceResolver } from "../../../src/controllers/restore/source/resolve-source.ts";
import type { RestoreObject } from "../../../src/controllers/restore/types.ts";
import { JOBS, QDRANT_BACKUP_LOCATIONS, QDRANT_BACKUPS, QDRANT_CONNECTIONS, QDRANT_RESTORES } from "../../../src/controllers/resources.ts";
import type { OperatorContext } from "../../../src/controllers/shared/context.ts";
import type { JobObject } from "../../../src/controllers/shared/job-objects.ts";
import type { Clock } from "../../../src/runtime/clock.ts";
import type { Controller } from "../../../src/runtime/controller.ts";
import { EventRecorder } from "../../../src/runtime/events.ts";
import { Informer } from "../../../src/runtime/informer.ts";
import { Redactor } from "../../../src/runtime/redact.ts";
import type { KubeObject, ResourceType } from "../../../src/runtime/resource.ts";
import { StatusWriter } from "../../../src/runtime/status-writer.ts";
import { eventually } from "../../helpers/eventually.ts";
import type { CapturedLogs } from "../../runtime/fixtures/logs.ts";
import type { MemoryApi } from "../../runtime/fixtures/memory-api.ts";

export const NS = "team";

/** Starts the controller for namespace {@link NS}; `ready` runs on it before it starts (e.g. useMetrics). */
export async function startRestoreController(
  t: TestContext,
  api: MemoryApi,
  opts: { clock: Clock; source: SourceResolver; logs: CapturedLogs; ready?: (c: Controller) => void },
): Promise<Controller> {
  const informer = <T extends KubeObject>(rt: ResourceType) => new Informer<T>({ resource: rt, listerWatcher: api.listerWatcher<T>(rt), logger: opts.logs.logger, namespaces: [NS] });
  const inf = { restores: informer<RestoreObject>(QDRANT_RESTORES), jobs: informer<JobObject>(JOBS), connections: informer(QDRANT_CONNECTIONS), locations: informer(QDRANT_BACKUP_LOCATIONS), backups: informer(QDRANT_BACKUPS) };
  const redactor = new Redactor();
  const events = new EventRecorder({ client: api, reportingController: "test", reportingInstance: "test-0", logger: opts.logs.logger, redactor });
  const ctx: OperatorContext = { client: api, status: new StatusWriter(api), events, redactor, clock: opts.clock, logger: opts.logs.logger, workers: 1 };
  const controller = restoreController(ctx, inf as Parameters<typeof restoreController>[1], { defaultJobImage: "registry.example.com/op:1", source: opts.source });
  opts.ready?.(controller);
  for (const i of Object.values(inf)) i.start();
  await eventually("caches synced", () => (Object.values(inf).every((i) => i.hasSynced()) ? true : undefined));
  void controller.start();
  t.after(async () => {
    await controller.stop(1_000);
    for (const i of Object.values(inf)) await i.stop();
    await events.flush();
  });
  return controller;
}
