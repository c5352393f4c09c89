/**
 * QdrantBackupLocation: checks that the bucket exists and the credentials may use it, like Velero's
 * BackupStorageLocation validation, every five minutes. Ready says what to fix when they do not.
 */
import type { QdrantBackupLocationSpec, QdrantBackupLocationStatus } from "../../api/v1alpha1/backup-location.ts";
import { describeProblems, validateSpec } from "../../api/validate.ts";
import { isOperatorError } from "../../errors.ts";
import { toKubeTime } from "../../runtime/conditions.ts";
import { Controller, DONE, requeueAfter } from "../../runtime/controller.ts";
import { enqueueObject, generationChanged } from "../../runtime/handlers.ts";
import type { Informer } from "../../runtime/informer.ts";
import type { KubeObject } from "../../runtime/resource.ts";
import { checkBucket, s3ClientFor, type StaticCredentials } from "../../s3/client.ts";
import { QDRANT_BACKUP_LOCATIONS } from "../resources.ts";
import type { OperatorContext } from "../shared/context.ts";
import { transitions, withConditions, type ConditionUpdate } from "../shared/conditions.ts";
import { readSecretKey } from "../shared/secrets.ts";

export interface BackupLocationObject extends KubeObject {
  spec: QdrantBackupLocationSpec;
  status?: QdrantBackupLocationStatus;
}

const RECHECK_MS = 5 * 60_000;
const RETRY_MS = 30_000;

/** Static credentials from the location's Secret, or undefined for the SDK's default chain. */
export async function locationCredentials(ctx: OperatorContext, namespace: string, spec: QdrantBackupLocationSpec): Promise<StaticCredentials | undefined> {
  const ref = spec.s3.credentials.secretRef;
  if (!ref) return undefined;
  const read = (key: string, field: string) => readSecretKey(ctx.client, ctx.redactor, namespace, { name: ref.name, key }, field);
  const accessKeyId = await read(ref.accessKeyIdKey ?? "AWS_ACCESS_KEY_ID", "spec.s3.credentials.secretRef.accessKeyIdKey");
  const secretAccessKey = await read(ref.secretAccessKeyKey ?? "AWS_SECRET_ACCESS_KEY", "spec.s3.credentials.secretRef.secretAccessKeyKey");
  const sessionToken = ref.sessionTokenKey ? await read(ref.sessionTokenKey, "spec.s3.credentials.secretRef.sessionTokenKey") : undefined;
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

export function backupLocationController(ctx: OperatorContext, informer: Informer<BackupLocationObject>): Controller {
  const controller = new Controller({
    name: "qdrantbackuplocations",
    logger: ctx.logger,
    workers: ctx.workers,
    clock: ctx.clock,
    async reconcile(key) {
      const obj = informer.cache.get(key);
      if (!obj) return DONE;
      const generation = obj.metadata?.generation;
      const now = ctx.clock.now();
      const write = async (ready: ConditionUpdate) => {
        if (transitions(obj.status?.conditions, "Ready", ready.status, ready.reason)) {
          ctx.events.event({ regarding: obj, type: ready.status === "True" ? "Normal" : "Warning", reason: ready.reason, action: "Validate", note: ready.message });
        }
        const conditions = withConditions(obj.status?.conditions, generation, now, ready);
        await ctx.status.updateStatusIfChanged(QDRANT_BACKUP_LOCATIONS, obj, { ...obj.status, observedGeneration: generation, conditions, lastValidationTime: toKubeTime(now) });
      };
      const problems = validateSpec("QdrantBackupLocation", obj.spec);
      if (problems.length > 0) {
        await write({ type: "Ready", status: "False", reason: "InvalidSpec", message: describeProblems(problems) });
        return DONE;
      }
      const s3 = obj.spec.s3;
      try {
        const client = s3ClientFor(s3, await locationCredentials(ctx, key.namespace ?? "", obj.spec));
        try {
          await checkBucket(client, s3.bucket);
        } finally {
          client.destroy();
        }
        await write({ type: "Ready", status: "True", reason: "Available", message: `Bucket ${s3.bucket} is reachable (${obj.spec.accessMode ?? "ReadWrite"}).` });
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
