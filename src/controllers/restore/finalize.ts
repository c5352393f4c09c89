/**
 * A Drill restore carries a finalizer from before its first Job until it is deleted, so that a drill cut
 * short by the deletion leaves no temporary collection behind: the running Job is deleted first (its pod
 * gets SIGTERM, and the Job deletes what it created), then the temporary collection named in the status
 * (recorded before the Job was created, so it is known even when the manager died right after) is
 * deleted on Qdrant, then the finalizer is removed. Each step is safe to repeat after a crash: a Job
 * already gone, a collection already deleted. Only a collection with the drill's own name is ever
 * deleted (names.ts isDrillCollectionOf).
 *
 * Window left open: Qdrant's recover from a URL may go on inside Qdrant after the Job that asked for it
 * is gone (Qdrant downloads by itself), so a drill deleted during that call can see its temporary
 * collection appear after the finalizer deleted it; nothing of the operator then knows of it. Qdrant has
 * no way to ask whether a recover is in flight, so the finalizer cannot wait for it.
 *
 * Other restores need no finalizer: their Jobs are owned (the garbage collector deletes them, and a
 * deleted Job's pod deletes what it created), and the restored collection is the user's data.
 */
import type { Logger } from "pino";
import { DONE, requeueAfter, type Result } from "../../runtime/controller.ts";
import { isNotFound } from "../../runtime/errors.ts";
import type { Informer } from "../../runtime/informer.ts";
import { controllerOf, keyOf, resourcePath } from "../../runtime/resource.ts";
import { JOBS, QDRANT_RESTORES } from "../resources.ts";
import type { OperatorContext } from "../shared/context.ts";
import type { JobObject } from "../shared/job-objects.ts";
import { jobFinished } from "../shared/job-objects.ts";
import { connectionNotFound, type QdrantConnectionObject } from "../shared/resolve-connection.ts";
import { DRILL_FINALIZER, isDrillCollectionOf } from "./names.ts";
import { deleteCollection } from "./target.ts";
import type { RestoreObject } from "./types.ts";

const JOB_GONE_RECHECK_MS = 2_000;
const RETRY_MS = 30_000;

/** Adds the drill finalizer (before its first Job); returns the object as stored. */
export async function ensureDrillFinalizer(ctx: OperatorContext, obj: RestoreObject): Promise<RestoreObject> {
  const finalizers = obj.metadata?.finalizers ?? [];
  if (finalizers.includes(DRILL_FINALIZER)) return obj;
  return ctx.client.patch<RestoreObject>(QDRANT_RESTORES, keyOf(obj), { metadata: { resourceVersion: obj.metadata?.resourceVersion, finalizers: [...finalizers, DRILL_FINALIZER] } });
}

async function removeFinalizer(ctx: OperatorContext, obj: RestoreObject): Promise<void> {
  const finalizers = (obj.metadata?.finalizers ?? []).filter((f) => f !== DRILL_FINALIZER);
  try {
    await ctx.client.patch(QDRANT_RESTORES, keyOf(obj), { metadata: { resourceVersion: obj.metadata?.resourceVersion, finalizers } });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

export interface FinalizeDeps {
  getJob: (name: string) => Promise<JobObject | undefined>;
  connections: Informer<QdrantConnectionObject>;
  log: Logger;
  signal?: AbortSignal;
}

export async function finalizeRestore(ctx: OperatorContext, obj: RestoreObject, deps: FinalizeDeps): Promise<Result> {
  if (!(obj.metadata?.finalizers ?? []).includes(DRILL_FINALIZER)) return DONE;
  const namespace = obj.metadata?.namespace ?? "";
  const uid = obj.metadata?.uid ?? "";
  const warn = (reason: string, note: string) => ctx.events.event({ regarding: obj, type: "Warning", reason, action: "DeleteTemporaryCollection", note });
  const jobName = obj.status?.jobName;
  if (jobName) {
    const job = await deps.getJob(jobName);
    if (job && controllerOf(job)?.uid === uid && (!jobFinished(job) || job.metadata?.deletionTimestamp)) {
      if (!job.metadata?.deletionTimestamp) {
        await ctx.client.request("DELETE", resourcePath(JOBS, namespace, jobName), { query: { propagationPolicy: "Foreground" } }).catch((err: unknown) => {
          if (!isNotFound(err)) throw err;
        });
        deps.log.info({ job: jobName }, "Deleting the running drill Job before its temporary collection");
      }
      return requeueAfter(JOB_GONE_RECHECK_MS);
    }
  }
  const collection = obj.status?.targetCollection;
  if (collection && isDrillCollectionOf(collection, uid)) {
    const connectionName = obj.spec?.target?.connectionRef?.name ?? "";
    const connection = deps.connections.cache.get({ namespace, name: connectionName });
    if (!connection) {
      warn("TemporaryCollectionNotDeleted", `${connectionNotFound(namespace, connectionName, "spec.target.connectionRef")}, so the drill's temporary collection ${collection} cannot be deleted; create it again, or remove the finalizer ${DRILL_FINALIZER} to leave the collection.`);
      return requeueAfter(RETRY_MS);
    }
    const deleted = await deleteCollection(ctx, connection, collection, deps.signal);
    if (!deleted.ok) {
      warn("TemporaryCollectionNotDeleted", `${deleted.message}; retrying (remove the finalizer ${DRILL_FINALIZER} to leave collection ${collection} instead).`);
      return requeueAfter(RETRY_MS);
    }
    if (deleted.changed) {
      deps.log.info({ collection }, "Deleted the drill's temporary collection");
      ctx.events.event({ regarding: obj, type: "Normal", reason: "DeletedTemporaryCollection", action: "DeleteTemporaryCollection", note: `Deleted the drill's temporary collection ${collection}: the restore was deleted.` });
    }
  }
  await removeFinalizer(ctx, obj);
  return DONE;
}
