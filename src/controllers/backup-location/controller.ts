/**
 * QdrantBackupLocation: checks that the bucket exists and the credentials may use it, like Velero's
 * BackupStorageLocation validation, every five minutes, with the client every other user of the location
 * gets (shared/resolve-location.ts). Ready says what to fix when they do not.
 *
 * A writable location with server-side encryption also writes (and deletes) one small object with that
 * encryption (encryptionProbeKey): whether aws:kms needs a key id, and which keys exist, is the storage's
 * answer, not the schema's, and without the probe each backup found out on its first upload. Backups wait
 * on that verdict (shared/resolve-location.ts checkLocationUsable) instead of failing one by one.
 *
 * A writable location with spec.objectLock (#15) also asks for the bucket's Object Lock configuration:
 * without one, every locked write is refused ("Bucket is missing ObjectLockConfiguration"), so Ready is
 * False, ObjectLockNotEnabled, naming spec.objectLock and the bucket, and backups wait on it.
 */
import { describeProblems, prepareValidators, validateSpec } from "../../api/validate.ts";
import { isOperatorError } from "../../errors.ts";
import { toKubeTime } from "../../runtime/conditions.ts";
import { Controller, DONE, requeueAfter } from "../../runtime/controller.ts";
import { enqueueObject, generationChanged } from "../../runtime/handlers.ts";
import type { Informer } from "../../runtime/informer.ts";
import { checkBucket, checkEncryptedWrite } from "../../s3/client.ts";
import { QDRANT_BACKUP_LOCATIONS } from "../resources.ts";
import type { OperatorContext } from "../shared/context.ts";
import type { CheckMetrics } from "../shared/check-metrics.ts";
import { stampIfChanged } from "../shared/check-time.ts";
import { transitions, withConditions, type ConditionUpdate } from "../shared/conditions.ts";
import { checkLocationObjectLock, encryptionProbeKey, withLocationS3, type BackupLocationObject } from "../shared/resolve-location.ts";

const RECHECK_MS = 5 * 60_000;
const RETRY_MS = 30_000;

export function backupLocationController(ctx: OperatorContext, informer: Informer<BackupLocationObject>, opts: { metrics?: CheckMetrics } = {}): Controller {
  prepareValidators("QdrantBackupLocation");
  const controller = new Controller({
    name: "qdrantbackuplocations",
    logger: ctx.logger,
    workers: ctx.workers,
    clock: ctx.clock,
    async reconcile(key) {
      const obj = informer.cache.get(key);
      if (!obj) {
        opts.metrics?.forget("QdrantBackupLocation", key.namespace ?? "", key.name);
        return DONE;
      }
      const generation = obj.metadata?.generation;
      const now = ctx.clock.now();
      const write = async (ready: ConditionUpdate) => {
        if (transitions(obj.status?.conditions, "Ready", ready.status, ready.reason)) {
          ctx.events.event({ regarding: obj, type: ready.status === "True" ? "Normal" : "Warning", reason: ready.reason, action: "Validate", note: ready.message });
        }
        opts.metrics?.checked("QdrantBackupLocation", key.namespace ?? "", key.name, ready.status === "True", now);
        const conditions = withConditions(obj.status?.conditions, generation, now, ready);
        await ctx.status.updateStatusIfChanged(QDRANT_BACKUP_LOCATIONS, obj, stampIfChanged(obj.status, { ...obj.status, observedGeneration: generation, conditions }, "lastValidationTime", toKubeTime(now)));
      };
      const problems = validateSpec("QdrantBackupLocation", obj.spec);
      if (problems.length > 0) {
        await write({ type: "Ready", status: "False", reason: "InvalidSpec", message: describeProblems(problems) });
        return DONE;
      }
      const s3 = obj.spec.s3;
      try {
        // The client the Job and every other manager call use: its credentials and its CA.
        const sse = obj.spec.accessMode === "ReadOnly" ? undefined : s3.serverSideEncryption;
        // A ReadOnly location writes nothing, so nothing it writes is locked: no check (nor its permission).
        const lock = obj.spec.accessMode === "ReadOnly" ? undefined : obj.spec.objectLock;
        await withLocationS3(
          ctx,
          obj,
          async ({ client, bucket }) => {
            await checkBucket(client, bucket);
            if (sse) await checkEncryptedWrite(client, bucket, encryptionProbeKey(obj), sse);
            if (lock) await checkLocationObjectLock(client, bucket, lock);
          },
          { self: true },
        );
        const encrypted = sse ? `, writes with ${sse.type}${sse.kmsKeyId ? ` key ${sse.kmsKeyId}` : ""} accepted` : "";
        const locked = lock ? `, Object Lock enabled (${lock.mode}, ${lock.retainDays} day${lock.retainDays === 1 ? "" : "s"})` : "";
        await write({ type: "Ready", status: "True", reason: "Available", message: `Bucket ${s3.bucket} is reachable (${obj.spec.accessMode ?? "ReadWrite"}${encrypted}${locked}).` });
        return requeueAfter(RECHECK_MS);
      } catch (err) {
        if (!isOperatorError(err)) throw err;
        await write({ type: "Ready", status: "False", reason: err.reason, message: ctx.redactor.scrub(err.message) });
        return requeueAfter(RETRY_MS);
      }
    },
  });
  controller.watch(informer, (enqueue) => enqueueObject(enqueue, generationChanged));
  return controller;
}
