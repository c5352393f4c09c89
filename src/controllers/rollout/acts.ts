/**
 * The rollout's acts: what the controller does for each step decide.ts returns, each over the small files
 * that talk to Qdrant (green.ts, switch.ts) and to the cluster (children.ts, the Jobs' builders), with the
 * Kubernetes-style Events and logs of what was done. An act that fails for a reason waiting can fix (Qdrant
 * did not answer, a Job was refused) writes a Wait with the phase kept and is retried in ACT_RETRY_MS; one
 * that cannot (a config Qdrant refuses, a name taken by a stranger) writes Fail. Every act is safe to repeat
 * after a crash at any line: creates find their deterministic names taken and read what is there, deletes
 * re-check ownership right before, and the switch re-reads the aliases first (switch.ts).
 */
import { crashWindow } from "../../crash-windows.ts";
import type { Logger } from "pino";
import { ERROR_CODES, isOperatorError } from "../../errors.ts";
import { DONE, requeue, requeueAfter, type Result } from "../../runtime/controller.ts";
import { isAlreadyExists, isForbidden, isNotFound } from "../../runtime/errors.ts";
import { controllerOf, type KubeObject } from "../../runtime/resource.ts";
import { JOBS, QDRANT_RESTORES } from "../resources.ts";
import type { OperatorContext } from "../shared/context.ts";
import { describeInvalidChild, JOB_FIELDS, type FieldMap } from "../shared/invalid-child.ts";
import type { JobObject } from "../shared/job-objects.ts";
import { explained, qdrantOf } from "../shared/qdrant-of.ts";
import { connectionAddress, type QdrantConnectionObject } from "../shared/resolve-connection.ts";
import { buildCopyJob } from "./build-copy-job.ts";
import { createBackup, createRestore } from "./children.ts";
import { buildGateJob } from "./gates/gate-job.ts";
import { createBodyFromInfo } from "./green-config.ts";
import { createGreen, deleteOurGreen, deletePrevious, stampGreen } from "./green.ts";
import type { RolloutMetrics } from "./metrics.ts";
import { ROLLOUT_UID_ANNOTATION } from "./names.ts";
import type { ChildState, Phase, RolloutStep } from "./steps.ts";
import { switchAlias } from "./switch.ts";
import type { RolloutObject } from "./types.ts";

/** What of the rollout's spec lands where in its QdrantRestore and QdrantBackup (for a 422's message). */
const RESTORE_FIELDS: FieldMap = [
  ["spec.source", "spec.source.fromBackup.source"],
  ["spec.sourceCollection", "spec.source.fromBackup.sourceCollection"],
  ["spec.job", "spec.job"],
];
const BACKUP_FIELDS: FieldMap = [["spec.locationRef", "spec.promotion.backupActiveFirst.locationRef"]];

/** A wait the controller itself decides on after an act failed (Qdrant did not answer, a Job refused). */
const ACT_RETRY_MS = 5_000;
/** A running Job, restore or backup is looked at again this often (their events wake the rollout sooner). */
const CHILD_RECHECK_MS = 5_000;

type StepOf<K extends RolloutStep["kind"]> = Extract<RolloutStep, { kind: K }>;

/** What the acts need from the controller: its context, caches and status writer. */
export interface ActDeps {
  ctx: OperatorContext;
  defaultJobImage: string;
  metrics?: RolloutMetrics | undefined;
  connectionOf: (r: RolloutObject) => QdrantConnectionObject | undefined;
  missingConnection: (r: RolloutObject) => { reason: string; message: string };
  getJob: (namespace: string, name: string) => Promise<JobObject | undefined>;
  restoreOf: (r: RolloutObject) => ChildState;
  restoreCached: (namespace: string, name: string) => KubeObject | undefined;
  /** Writes the status for a step (statusFor) and returns the object as written. */
  write: (obj: RolloutObject, step: RolloutStep) => Promise<RolloutObject>;
}

/** The act for each step: `act(obj, step, log, signal)`. */
export function rolloutActs(d: ActDeps): (obj: RolloutObject, step: RolloutStep, log: Logger, signal: AbortSignal) => Promise<Result> {
  const { ctx, write, connectionOf, missingConnection, getJob, restoreOf } = d;
  const opts = { defaultJobImage: d.defaultJobImage, metrics: d.metrics };

  /** The phase a rollout keeps while the controller retries an act. */
  const phaseOf = (obj: RolloutObject): Phase => obj.status?.phase ?? "Pending";
  const retry = async (obj: RolloutObject, reason: string, message: string, phase: Phase = phaseOf(obj)): Promise<Result> => {
    await write(obj, { kind: "Wait", phase, reason, message, requeueMs: ACT_RETRY_MS });
    return requeueAfter(ACT_RETRY_MS);
  };

  async function act(obj: RolloutObject, step: RolloutStep, log: Logger, signal: AbortSignal): Promise<Result> {
    switch (step.kind) {
      case "Observe":
        return DONE;
      case "Done":
        return step.requeueMs !== undefined && step.requeueMs > 0 ? requeueAfter(step.requeueMs) : DONE;
      case "Invalid":
        await write(obj, step);
        return DONE;
      case "Adopt":
        log.info({ job: step.job.name, kind: step.job.kind, attempt: step.job.attempt }, "Adopted a rollout Job the status did not record");
        await write(obj, step);
        return requeue();
      case "Wait":
        await write(obj, step);
        return requeueAfter(step.requeueMs);
      case "Begin":
        log.info({ activeCollection: step.activeCollection }, "Began the rollout");
        await write(obj, step);
        return requeue();
      case "Building":
      case "Validating":
        await write(obj, step);
        if (step.kind === "Validating") opts.metrics?.observeGates(obj.metadata?.namespace ?? "", obj.metadata?.name ?? "", step.gates.results);
        return requeueAfter(step.requeueMs);
      case "AwaitPromotion":
        await write(obj, step);
        // spec.promotion.approved is a new generation, which wakes the rollout.
        return DONE;
      case "CreateGreen":
        return createGreenStep(obj, step, log, signal);
      case "StampGreen":
        return stampGreenStep(obj, step, log, signal);
      case "CreateRestore":
        return createRestoreStep(obj, step, log);
      case "StartCopy":
      case "StartGateJob":
        return startJob(obj, step, log);
      case "CreateBackup":
        return createBackupStep(obj, step, log);
      case "Switch":
        return switchStep(obj, step, log, signal);
      case "Promoted":
        return promotedStep(obj, step, log);
      case "RolledBack":
        await rolledBack(obj, step, log);
        return DONE;
      case "DeletePrevious":
        return deletePreviousStep(obj, step, log, signal);
      case "Abort":
        return abortStep(obj, step, log, signal);
      case "Fail":
        return failStep(obj, step, log);
    }
  }

  async function createGreenStep(obj: RolloutObject, step: StepOf<"CreateGreen">, log: Logger, signal: AbortSignal): Promise<Result> {
    const connection = connectionOf(obj);
    if (!connection) return retry(obj, missingConnection(obj).reason, missingConnection(obj).message);
    let config = step.config;
    if (config === undefined) {
      // copyFrom without config: green is made like its source, as Qdrant reports the source's config now.
      const source = step.source ?? "";
      try {
        const { api } = await qdrantOf(ctx, connection, signal);
        config = createBodyFromInfo(await api.collectionConfig(source));
      } catch (err) {
        if (isOperatorError(err, "QDRANT_NOT_FOUND")) return retry(obj, ERROR_CODES.SOURCE_NOT_FOUND.reason, `the collection to copy from, ${source}, does not exist (spec.source.copyFrom.collection, or the alias's collection when the rollout began)`);
        const e = explained(ctx, err, connection);
        return retry(obj, e.reason, `reading the config of ${source}, the collection to copy from, failed: ${e.message}; retrying`);
      }
    }
    const made = await createGreen(ctx, connection, obj, config, step.field, signal);
    if (!made.ok) {
      if (made.refused) return failStep(obj, { kind: "Fail", reason: made.reason, message: made.message }, log);
      return retry(obj, made.reason, `creating collection ${obj.spec.collection} failed: ${made.message}; retrying`);
    }
    if (made.changed) {
      log.info({ collection: obj.spec.collection }, "Created collection");
      ctx.events.event({ regarding: obj, type: "Normal", reason: "Created", action: "CreateCollection", note: `Created collection ${obj.spec.collection} (from ${step.field}).` });
    }
    // Crash window rollout.green-created-before-status: green exists with our stamp, the status does not say so.
    crashWindow("rollout.green-created-before-status");
    await write(obj, step);
    return requeue();
  }

  async function stampGreenStep(obj: RolloutObject, step: StepOf<"StampGreen">, log: Logger, signal: AbortSignal): Promise<Result> {
    const connection = connectionOf(obj);
    if (!connection) return retry(obj, missingConnection(obj).reason, missingConnection(obj).message);
    const stamped = await stampGreen(ctx, connection, obj, signal);
    if (!stamped.ok) return retry(obj, stamped.reason, `stamping the restored collection ${obj.spec.collection} as this rollout's failed: ${stamped.message}; retrying`);
    if (stamped.changed) log.info({ collection: obj.spec.collection }, "Stamped the restored collection as this rollout's");
    await write(obj, step);
    return requeue();
  }

  async function createRestoreStep(obj: RolloutObject, step: StepOf<"CreateRestore">, log: Logger): Promise<Result> {
    let made;
    try {
      made = await createRestore(ctx, obj, step.name);
    } catch (err) {
      const invalid = describeInvalidChild(err, `QdrantRestore ${step.name}`, RESTORE_FIELDS);
      if (invalid !== undefined) return failStep(obj, { kind: "Fail", reason: ERROR_CODES.INVALID_SPEC.reason, message: ctx.redactor.scrub(invalid) }, log);
      throw err;
    }
    if (made.created) {
      log.info({ restore: step.name }, "Created QdrantRestore");
      ctx.events.event({ regarding: obj, related: made.obj, type: "Normal", reason: "Created", action: "CreateRestore", note: `Created QdrantRestore ${step.name} restoring into collection ${obj.spec.collection}.` });
    }
    // Crash window rollout.restore-created-before-status: the rollout's QdrantRestore exists, not recorded.
    crashWindow("rollout.restore-created-before-status");
    if (made.state.exists && !made.state.ours) {
      return failStep(obj, { kind: "Fail", reason: ERROR_CODES.RESTORE_FAILED.reason, message: `a QdrantRestore named ${step.name} exists and is not this rollout's (its controller is not this CollectionRollout); delete it, or create the rollout under another name` }, log);
    }
    await write(obj, step);
    return requeueAfter(CHILD_RECHECK_MS);
  }

  async function createBackupStep(obj: RolloutObject, step: StepOf<"CreateBackup">, log: Logger): Promise<Result> {
    let made;
    try {
      made = await createBackup(ctx, obj, step.name, step.collection);
    } catch (err) {
      const invalid = describeInvalidChild(err, `QdrantBackup ${step.name}`, BACKUP_FIELDS);
      if (invalid !== undefined) return failStep(obj, { kind: "Fail", reason: ERROR_CODES.BACKUP_BEFORE_SWITCH_FAILED.reason, message: ctx.redactor.scrub(invalid) }, log);
      throw err;
    }
    if (!made.state.exists || !made.state.ours) {
      return failStep(obj, { kind: "Fail", reason: ERROR_CODES.BACKUP_BEFORE_SWITCH_FAILED.reason, message: `a QdrantBackup named ${step.name} exists and is not this rollout's (its ${ROLLOUT_UID_ANNOTATION} annotation is not this rollout's uid); the alias was not switched` }, log);
    }
    if (made.created) {
      log.info({ backup: step.name, collection: step.collection }, "Created QdrantBackup");
      ctx.events.event({ regarding: obj, related: made.obj, type: "Normal", reason: "Created", action: "CreateBackup", note: `Created QdrantBackup ${step.name} of the active collection ${step.collection} before the switch.` });
    }
    await write(obj, step);
    return requeueAfter(CHILD_RECHECK_MS);
  }

  async function startJob(obj: RolloutObject, step: StepOf<"StartCopy"> | StepOf<"StartGateJob">, log: Logger): Promise<Result> {
    const namespace = obj.metadata?.namespace ?? "";
    const connection = connectionOf(obj);
    if (!connection) return retry(obj, missingConnection(obj).reason, missingConnection(obj).message);
    let address;
    try {
      address = await connectionAddress(ctx, connection);
    } catch (err) {
      if (!isOperatorError(err)) throw err;
      return retry(obj, err.reason, ctx.redactor.scrub(`spec.connectionRef: ${err.message}`));
    }
    let desired;
    try {
      desired =
        step.kind === "StartCopy"
          ? buildCopyJob(obj, connection, step, { defaultImage: opts.defaultJobImage, address })
          : buildGateJob(obj, connection, { jobName: step.jobName, address, green: obj.spec.collection, active: obj.status?.activeCollection || null });
    } catch (err) {
      // A plan the Job would refuse: the same spec builds the same plan, so retrying cannot help.
      if (!isOperatorError(err) || err.retryable) throw err;
      return failStep(obj, { kind: "Fail", reason: err.reason, message: ctx.redactor.scrub(err.message) }, log);
    }
    const what = step.kind === "StartCopy" ? `copying ${step.source} into ${obj.spec.collection} (attempt ${step.attempt})` : `judging ${obj.spec.collection} (gates.job)`;
    try {
      const job = await ctx.client.create<JobObject>(JOBS, desired as JobObject);
      log.info({ job: step.jobName, kind: step.kind === "StartCopy" ? "copy" : "gate" }, "Created Job");
      ctx.events.event({ regarding: obj, related: job, type: "Normal", reason: "Created", action: "CreateJob", note: `Created Job ${step.jobName} ${what}.` });
      // Crash window rollout.job-created-before-status: the Job exists, the status does not name it.
      crashWindow("rollout.job-created-before-status");
    } catch (err) {
      const invalid = describeInvalidChild(err, `Job ${step.jobName}`, JOB_FIELDS);
      if (invalid !== undefined) return failStep(obj, { kind: "Fail", reason: ERROR_CODES.INVALID_SPEC.reason, message: ctx.redactor.scrub(invalid) }, log);
      if (isForbidden(err)) {
        return retry(obj, ERROR_CODES.JOB_REFUSED.reason, ctx.redactor.scrub(`the apiserver refused to create Job ${step.jobName}: ${err instanceof Error ? err.message : String(err)}; retrying every ${ACT_RETRY_MS / 1000} s`));
      }
      if (!isAlreadyExists(err)) throw err;
      const job = await getJob(namespace, step.jobName);
      if (!job) throw err;
      if (controllerOf(job)?.uid !== obj.metadata?.uid) {
        return failStep(obj, { kind: "Fail", reason: ERROR_CODES.JOB_CONFLICT.reason, message: `a Job named ${step.jobName} exists and is not ours (its controller is not this CollectionRollout); delete it, or create the rollout under another name` }, log);
      }
    }
    await write(obj, step);
    return requeueAfter(CHILD_RECHECK_MS);
  }

  async function switchStep(obj: RolloutObject, step: StepOf<"Switch">, log: Logger, signal: AbortSignal): Promise<Result> {
    const namespace = obj.metadata?.namespace ?? "";
    const name = obj.metadata?.name ?? "";
    const connection = connectionOf(obj);
    if (!connection) return retry(obj, missingConnection(obj).reason, missingConnection(obj).message);
    const alias = obj.spec.alias;
    const switched = await switchAlias(ctx, connection, alias, step.to, step.from, signal);
    if (!switched.ok) return retry(obj, switched.reason, `${switched.message}; retrying every ${ACT_RETRY_MS / 1000} s`);
    if (switched.changed) {
      log.info({ alias, to: step.to, from: switched.from, reason: step.reason, seconds: switched.durationSeconds }, `Switched alias ${alias} to ${step.to} (from ${switched.from ?? "nothing"})`);
      if (switched.durationSeconds !== undefined) opts.metrics?.observeSwitch(namespace, name, switched.durationSeconds);
    }
    if (step.reason === "Promote") {
      // Crash window rollout.alias-switched-before-status: the alias on green, the status still says Validating.
      crashWindow("rollout.alias-switched-before-status");
      return promotedStep(obj, { kind: "Promoted", previous: step.from, adopted: false }, log);
    }
    // Crash window rollout.alias-switched-back-before-status: the alias on the previous collection again, the status still says Promoted.
    crashWindow("rollout.alias-switched-back-before-status");
    const reason = step.reason === "Rollback" ? "RolledBack" : ERROR_CODES.ANALYSIS_FAILED.reason;
    const message = step.message ?? (step.reason === "Rollback" ? `spec.rollback: alias ${alias} points at ${step.to} again (from ${step.from ?? "nothing"})` : `the analysis failed: alias ${alias} was switched back to ${step.to}`);
    await rolledBack(obj, { kind: "RolledBack", reason, message, adopted: false }, log);
    return DONE;
  }

  /**
   * The `Switched` Event, recorded when the status first says the alias moved (Promoted, RolledBack), not
   * when the request returns: a manager killed between the switch and the status write leaves it to the
   * next one, which records it once as it adopts the switch. So every switch has one Event, except when a
   * manager dies in the moment between the status write and the Event (Events are best-effort).
   */
  function switchedEvent(obj: RolloutObject, to: string, from: string | null | undefined, action: string): void {
    ctx.events.event({ regarding: obj, type: "Normal", reason: "Switched", action, note: `Switched alias ${obj.spec.alias} to ${to} (from ${from || "nothing"}).` });
  }

  async function promotedStep(obj: RolloutObject, step: StepOf<"Promoted">, log: Logger): Promise<Result> {
    const before = obj.status?.phase;
    const written = await write(obj, step);
    if (before !== "Promoted") {
      if (step.adopted) log.info({ alias: obj.spec.alias, collection: obj.spec.collection }, "Found the alias switched to green before the status said so; recorded Promoted without a second switch");
      switchedEvent(obj, obj.spec.collection, written.status?.previousCollection ?? step.previous, "Promote");
      ctx.events.event({ regarding: obj, type: "Normal", reason: "Promoted", action: "Promote", note: readyMessage(written) || `Promoted ${obj.spec.collection} behind alias ${obj.spec.alias}.` });
    }
    if (step.analysis) opts.metrics?.observeGates(obj.metadata?.namespace ?? "", obj.metadata?.name ?? "", step.analysis.results);
    return step.requeueMs !== undefined && step.requeueMs > 0 ? requeueAfter(step.requeueMs) : before !== "Promoted" ? requeue() : DONE;
  }

  async function rolledBack(obj: RolloutObject, step: StepOf<"RolledBack">, log: Logger): Promise<void> {
    const before = obj.status?.phase;
    await write(obj, step);
    if (before !== "RolledBack") {
      log.info({ reason: step.reason, adopted: step.adopted }, "Rolled back");
      if (obj.status?.previousCollection) switchedEvent(obj, obj.status.previousCollection, obj.spec.collection, "Rollback");
      ctx.events.event({ regarding: obj, type: step.reason === "RolledBack" ? "Normal" : "Warning", reason: "RolledBack", action: "Rollback", note: `${step.reason}: ${step.message}` });
    }
  }

  async function deletePreviousStep(obj: RolloutObject, step: StepOf<"DeletePrevious">, log: Logger, signal: AbortSignal): Promise<Result> {
    const connection = connectionOf(obj);
    if (!connection) return retry(obj, missingConnection(obj).reason, missingConnection(obj).message);
    const deleted = await deletePrevious(ctx, connection, step.collection, signal);
    if (!deleted.ok) return retry(obj, deleted.reason, `retainPrevious is due, but ${deleted.message}; retrying`);
    if (deleted.changed) {
      log.info({ collection: step.collection }, "Deleted the previous collection");
      ctx.events.event({ regarding: obj, type: "Normal", reason: "DeletedPrevious", action: "DeleteCollection", note: `Deleted the previous collection ${step.collection} (spec.retainPrevious ${obj.spec.retainPrevious ?? ""} after promotion).` });
    }
    await write(obj, step);
    return requeue();
  }

  async function deleteJobIfAny(obj: RolloutObject, name: string | undefined, log: Logger): Promise<void> {
    if (!name) return;
    const namespace = obj.metadata?.namespace ?? "";
    const job = await getJob(namespace, name);
    if (!job || controllerOf(job)?.uid !== obj.metadata?.uid) return;
    try {
      await ctx.client.delete(JOBS, { namespace, name }, { query: { propagationPolicy: "Background" } });
      log.info({ job: name }, "Deleted Job");
      ctx.events.event({ regarding: obj, related: job, type: "Normal", reason: "Deleted", action: "DeleteJob", note: `Deleted Job ${name}.` });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Our QdrantRestore that has not started (Pending): deleted so it never runs after the abort. */
  async function deleteRestoreIfOurs(obj: RolloutObject, name: string, log: Logger): Promise<void> {
    const namespace = obj.metadata?.namespace ?? "";
    const restore = d.restoreCached(namespace, name);
    if (restore && controllerOf(restore)?.uid !== obj.metadata?.uid) return;
    try {
      await ctx.client.delete(QDRANT_RESTORES, { namespace, name }, { query: { propagationPolicy: "Background" } });
      log.info({ restore: name }, "Deleted QdrantRestore");
      ctx.events.event({ regarding: obj, type: "Normal", reason: "Deleted", action: "DeleteRestore", note: `Deleted QdrantRestore ${name}, which had not started.` });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async function abortStep(obj: RolloutObject, step: StepOf<"Abort">, log: Logger, signal: AbortSignal): Promise<Result> {
    await deleteJobIfAny(obj, step.deleteJob, log);
    if (step.deleteRestore) await deleteRestoreIfOurs(obj, step.deleteRestore, log);
    if (step.deleteGreen) {
      const connection = connectionOf(obj);
      if (!connection) return retry(obj, missingConnection(obj).reason, `aborting: ${missingConnection(obj).message}`);
      const restore = restoreOf(obj);
      const restoredByUs = restore.exists && restore.ours && restore.phase === "Succeeded" && restore.targetCollection === obj.spec.collection;
      const deleted = await deleteOurGreen(ctx, connection, obj, { restoredByUs, signal });
      if (!deleted.ok) return retry(obj, deleted.reason, `aborting: deleting collection ${obj.spec.collection}, which this rollout made, failed: ${deleted.message}; retrying`);
      if (deleted.changed) {
        log.info({ collection: obj.spec.collection }, "Deleted the green collection");
        ctx.events.event({ regarding: obj, type: "Normal", reason: "DeletedGreen", action: "DeleteCollection", note: `Deleted collection ${obj.spec.collection}, which this rollout made (spec.abort).` });
      }
    }
    const before = obj.status?.phase;
    await write(obj, step);
    if (before !== "Aborted") {
      log.info("Aborted the rollout");
      ctx.events.event({ regarding: obj, type: "Normal", reason: "Aborted", action: "Abort", note: step.message });
    }
    return DONE;
  }

  async function failStep(obj: RolloutObject, step: StepOf<"Fail">, log: Logger): Promise<Result> {
    await deleteJobIfAny(obj, step.deleteJob, log);
    const before = obj.status;
    await write(obj, step);
    if (before?.phase !== "Failed" || before.failure?.reason !== step.reason) {
      // The evaluation that ends the gates (GatesTimedOut, GoldenQueryRefused, GateJobFailed) counts too.
      if (step.gates) opts.metrics?.observeGates(obj.metadata?.namespace ?? "", obj.metadata?.name ?? "", step.gates.results);
      log.info({ reason: step.reason }, "Rollout failed");
      ctx.events.event({ regarding: obj, type: "Warning", reason: "Failed", action: "Rollout", note: `${step.reason}: ${step.message}` });
    }
    return DONE;
  }


  return act;
}

function readyMessage(obj: RolloutObject): string {
  return obj.status?.conditions?.find((c) => c.type === "Ready")?.message ?? "";
}
