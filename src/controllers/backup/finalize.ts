/**
 * deletionPolicy Delete: the `qdrant-operator.dev/backup-data` finalizer holds a deleted QdrantBackup
 * until its objects are gone from the bucket. Retain (the default, as in Velero and CloudNativePG) adds
 * no finalizer: deleting the resource keeps the data, and the garbage collector removes the Job.
 *
 * Steps on deletion, each safe to repeat after a crash at any point:
 * 1. A Job still running could write a manifest after the data was deleted, so it is deleted first
 *    (propagationPolicy Foreground: the Job object stays until its pods are gone) and waited for.
 * 2. The data is deleted manifests first (delete-data.ts), so a half-done deletion never leaves a
 *    backup that looks complete.
 *    On an Object Lock location the data is deleted by version, and a backup S3 still retains is not
 *    touched: the finalizer waits, with condition DataDeleted=False reason Locked "Locked until <date>"
 *    (and an Event when that changes), and looks again at the date (capped: lock-until.ts), never sooner.
 * 3. The finalizer is removed; the apiserver then deletes the QdrantBackup.
 * A finalizer patch carries the resourceVersion read, so it never drops another controller's finalizer.
 */
import type { Logger } from "pino";
import { validateSpec } from "../../api/validate.ts";
import { lockRequeueMs } from "../../backup/retention/lock-until.ts";
import { isBackupLocked, isOperatorError } from "../../errors.ts";
import { DONE, requeueAfter, type Result } from "../../runtime/controller.ts";
import { isNotFound } from "../../runtime/errors.ts";
import type { Informer } from "../../runtime/informer.ts";
import { controllerOf, keyOf, resourcePath } from "../../runtime/resource.ts";
import { JOBS, QDRANT_BACKUPS } from "../resources.ts";
import type { OperatorContext } from "../shared/context.ts";
import { locationNotFound, withLocationS3, type BackupLocationObject } from "../shared/resolve-location.ts";
import { transitions, withConditions } from "../shared/conditions.ts";
import { backupDataRef, deleteBackupData, versionedDelete } from "./delete-data.ts";
import { DATA_FINALIZER } from "./names.ts";
import { jobFinished, type JobObject } from "../shared/job-objects.ts";
import type { BackupObject } from "./types.ts";

const JOB_GONE_RECHECK_MS = 2_000;
const RETRY_MS = 30_000;
/** The condition a deleted backup whose data S3 still retains waits with. */
export const DATA_DELETED = "DataDeleted";

/** Adds the data finalizer to a backup with deletionPolicy Delete (before its Job exists); returns the object as stored. */
export async function ensureFinalizer(ctx: OperatorContext, obj: BackupObject): Promise<BackupObject> {
  const finalizers = obj.metadata?.finalizers ?? [];
  if (obj.spec.deletionPolicy !== "Delete" || finalizers.includes(DATA_FINALIZER)) return obj;
  return ctx.client.patch<BackupObject>(QDRANT_BACKUPS, keyOf(obj), { metadata: { resourceVersion: obj.metadata?.resourceVersion, finalizers: [...finalizers, DATA_FINALIZER] } });
}

async function removeFinalizer(ctx: OperatorContext, obj: BackupObject): Promise<void> {
  const finalizers = (obj.metadata?.finalizers ?? []).filter((f) => f !== DATA_FINALIZER);
  try {
    await ctx.client.patch(QDRANT_BACKUPS, keyOf(obj), { metadata: { resourceVersion: obj.metadata?.resourceVersion, finalizers } });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

export interface FinalizeDeps {
  jobName: string;
  getJob: () => Promise<JobObject | undefined>;
  locations: Informer<BackupLocationObject>;
  log: Logger;
}

export async function finalizeBackup(ctx: OperatorContext, obj: BackupObject, deps: FinalizeDeps): Promise<Result> {
  if (!(obj.metadata?.finalizers ?? []).includes(DATA_FINALIZER)) return DONE;
  const namespace = obj.metadata?.namespace ?? "";
  const warn = (reason: string, note: string) => ctx.events.event({ regarding: obj, type: "Warning", reason, action: "DeleteData", note });

  const job = await deps.getJob();
  if (job && controllerOf(job)?.uid === obj.metadata?.uid) {
    const finished = jobFinished(job);
    if (!finished || job.metadata?.deletionTimestamp) {
      if (!job.metadata?.deletionTimestamp) {
        await ctx.client.request("DELETE", resourcePath(JOBS, namespace, deps.jobName), { query: { propagationPolicy: "Foreground" } }).catch((err: unknown) => {
          if (!isNotFound(err)) throw err;
        });
        deps.log.info({ job: deps.jobName }, "Deleting the running backup Job before its data");
      }
      return requeueAfter(JOB_GONE_RECHECK_MS);
    }
  }

  if (validateSpec("QdrantBackup", obj.spec).length > 0) {
    warn("DataRetained", `The spec is invalid, so where the data is cannot be known; it is kept.`);
    await removeFinalizer(ctx, obj);
    return DONE;
  }
  const location = deps.locations.cache.get({ namespace, name: obj.spec.locationRef.name });
  if (!location) {
    warn("DataNotDeleted", `${locationNotFound(namespace, obj.spec.locationRef.name)}, so the data cannot be deleted; create it again, or remove the finalizer ${DATA_FINALIZER} to keep the data.`);
    return requeueAfter(RETRY_MS);
  }
  if (location.spec.accessMode === "ReadOnly") {
    warn("DataRetained", `QdrantBackupLocation ${namespace}/${obj.spec.locationRef.name} is ReadOnly: the data is kept.`);
    await removeFinalizer(ctx, obj);
    return DONE;
  }
  try {
    // The location's own client: its credentials and its CA, as the Job that wrote the data had them.
    await withLocationS3(ctx, location, async ({ client, bucket, prefix }) => {
      const ref = backupDataRef(obj, prefix);
      const id = ref.backupId;
      const deleted = await deleteBackupData(client, bucket, ref, versionedDelete(location, obj, ctx.clock.now()));
      deps.log.info({ backupId: id, ...deleted }, "Deleted the backup's data");
      ctx.events.event({
        regarding: obj,
        type: "Normal",
        reason: "DataDeleted",
        action: "DeleteData",
        note: `Deleted ${deleted.manifests} manifest${deleted.manifests === 1 ? "" : "s"} and ${deleted.objects} other object${deleted.objects === 1 ? "" : "s"} of backup ${id} from bucket ${bucket}${deleted.abortedUploads > 0 ? `, and aborted ${deleted.abortedUploads} unfinished upload${deleted.abortedUploads === 1 ? "" : "s"}` : ""}.`,
      });
    });
  } catch (err) {
    if (isBackupLocked(err)) return waitForLock(ctx, obj, err.message, err.retainUntil);
    if (!isOperatorError(err)) throw err;
    warn("DataNotDeleted", `${ctx.redactor.scrub(err.message)}; retrying (remove the finalizer ${DATA_FINALIZER} to keep the data instead).`);
    return requeueAfter(RETRY_MS);
  }
  await removeFinalizer(ctx, obj);
  return DONE;
}

/**
 * S3 keeps the data until `until`: said in the status (DataDeleted=False, Locked), an Event when that is
 * news, and the next look at the date. Crash window: none that matters; a lost status write is written
 * again by the next look.
 */
async function waitForLock(ctx: OperatorContext, obj: BackupObject, message: string, until: Date | undefined): Promise<Result> {
  const now = ctx.clock.now();
  const text = `${ctx.redactor.scrub(message)} (remove the finalizer ${DATA_FINALIZER} to keep the data and delete the QdrantBackup now)`;
  const current = obj.status?.conditions;
  const before = current?.find((c) => c.type === DATA_DELETED);
  if (transitions(current, DATA_DELETED, "False", "Locked") || before?.message !== text) {
    ctx.events.event({ regarding: obj, type: "Normal", reason: "Locked", action: "DeleteData", note: text });
  }
  const conditions = withConditions(current, obj.metadata?.generation, now, { type: DATA_DELETED, status: "False", reason: "Locked", message: text });
  await ctx.status.updateStatusIfChanged(QDRANT_BACKUPS, obj, { ...obj.status, conditions });
  return requeueAfter(lockRequeueMs(until, now));
}
