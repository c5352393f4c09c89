/**
 * QdrantRestore: brings a collection back from a backup — once, whenever it is missing, or as a drill into
 * a temporary collection — by running each attempt as a Job (`job restore`, src/jobs/restore/) and
 * switching an alias or deleting the drill's collection once the Job succeeded.
 *
 * Level-triggered: every reconcile re-reads the restore, its Jobs, its references, its source and its
 * target, asks decide.ts (pure) for one step, and carries it out; it never sleeps (waits are requeueAfter)
 * and never asks what woke it. Observations are made only as decide asks for them (a finished Once restore
 * costs nothing, a Watching one one look at Qdrant, a drill between ticks no request at all). Crash
 * windows, each closed by the next reconcile:
 * - manager killed after the Job was created and before the status named it: the Job's name is
 *   restore-<name>-<jobCount+1>, which the next reconcile looks for first and adopts by its controller
 *   uid (a Job of that name controlled by anything else fails the restore JobConflict);
 * - Job finished and its status lost: the status still says Running, the Job and its pods keep the result
 *   (ttlSecondsAfterFinished, a day by default), so it is read again;
 * - Job killed after its claim: its termination message is the claim, and the next attempt gets
 *   ownedTarget (it may replace the half-made collection; decide.ts);
 * - manager killed between the Job's success and the alias switch, or the drill's deletion of its
 *   temporary collection: the status still says Running with a succeeded Job, so the same Complete step is
 *   decided again; the alias switch is one create_alias (re-pointing is idempotent) and the deletion is of a
 *   collection that may be gone already, so each is safe to repeat;
 * - a drill's temporary collection is recorded in status.targetCollection before its Job is created, so a
 *   backup of `all` leaves it out (backup/collections-being-built.ts) and the finalizer deletes it even
 *   when the manager died right after creating the Job.
 * Restores take turns per Qdrant with backups (one-at-a-time.ts, shared/turns/).
 */
import { prepareValidators } from "../../api/validate.ts";
import { crashWindow } from "../../crash-windows.ts";
import type { Logger } from "pino";
import type { ClusterBackup } from "../../backup/select/from-backups.ts";
import { ERROR_CODES, isOperatorError } from "../../errors.ts";
import { Controller, DONE, requeue, requeueAfter, type Result } from "../../runtime/controller.ts";
import { isAlreadyExists, isForbidden } from "../../runtime/errors.ts";
import { enqueueIndexed, enqueueObject, enqueueOwner, generationChanged, resourceVersionChanged } from "../../runtime/handlers.ts";
import type { Informer } from "../../runtime/informer.ts";
import { namespacedValue } from "../../runtime/indexers.ts";
import { controllerOf, type KubeObject } from "../../runtime/resource.ts";
import { GROUP } from "../../api/group.ts";
import { JOBS, QDRANT_RESTORES } from "../resources.ts";
import type { OperatorContext } from "../shared/context.ts";
import { transitions } from "../shared/conditions.ts";
import { describeInvalidChild, JOB_FIELDS } from "../shared/invalid-child.ts";
import { jobFinished, type JobObject, type PodObject } from "../shared/job-objects.ts";
import { getJob as readJob, podsOfJob } from "../shared/job-reads.ts";
import { checkConnectionSecrets, connectionAddress, connectionNotFound, type QdrantConnectionObject } from "../shared/resolve-connection.ts";
import type { BackupLocationObject } from "../shared/resolve-location.ts";
import { Turns } from "../shared/turns/turns.ts";
import { attemptOfJob, buildRestoreJob } from "./build-job.ts";
import { decideRestore, RUNNING_RECHECK_MS, WAIT_MS, type Check, type Observed, type RestoreStep, type UnrecordedJob } from "./decide.ts";
import { ensureDrillFinalizer, finalizeRestore } from "./finalize.ts";
import { restoreJobOutcome } from "./job-result.ts";
import type { RestoreMetrics } from "./metrics.ts";
import { restoreJobName } from "./names.ts";
import { RESTORE_KIND, RESTORE_TURNS, waitingMessage } from "./one-at-a-time.ts";
import { sourceResolver, type SourceResolver } from "./source/resolve-source.ts";
import { checkRestoreSpec } from "./spec.ts";
import { statusFor, WAITING_FOR_TURN, type StatusStep } from "./status.ts";
import { ANY_BACKUP, backupPhaseChanged, BY_BACKUP, BY_CONNECTION, BY_LOCATION, byBackup, byConnection, byLocation, connectionNews, policyOf } from "./watches.ts";
import { deleteCollection, observeTarget, switchAlias } from "./target.ts";
import type { RestoreObject } from "./types.ts";

export interface RestoreInformers {
  restores: Informer<RestoreObject>;
  /** batch/v1 Jobs (the manager's informer filters them by the restore label). */
  jobs: Informer<JobObject>;
  connections: Informer<QdrantConnectionObject>;
  locations: Informer<BackupLocationObject>;
  /** The cluster's QdrantBackups: backupRef and latest sources, and what wakes a restore waiting for one. */
  backups: Informer<ClusterBackup>;
  /** The manager's one set of turns per Qdrant (shared with backups); without one, restores take turns among themselves. */
  turns?: Turns;
}

export interface RestoreControllerOptions {
  /** The manager's --default-job-image. */
  defaultJobImage: string;
  metrics?: RestoreMetrics;
  /** Tests may pass their own; by default the source module's (source/resolve-source.ts). */
  source?: SourceResolver;
}

export function restoreController(ctx: OperatorContext, inf: RestoreInformers, opts: RestoreControllerOptions): Controller {
  prepareValidators("QdrantRestore");
  const turns = inf.turns ?? new Turns(inf.connections);
  const source = opts.source ?? sourceResolver(ctx, { backups: inf.backups, locations: inf.locations });
  // A Job of ours in the cache not yet in the status counts as running (a lost status write).
  const jobStarted = (r: RestoreObject) => {
    const name = r.metadata?.name;
    if (!name) return false;
    const job = inf.jobs.cache.get({ namespace: r.metadata?.namespace ?? "", name: restoreJobName(name, (r.status?.jobCount ?? 0) + 1) });
    return job !== undefined && controllerOf(job)?.uid === r.metadata?.uid;
  };
  turns.register(RESTORE_TURNS, inf.restores, { started: jobStarted });

  const controller = new Controller({
    name: "qdrantrestores",
    logger: ctx.logger,
    workers: ctx.workers,
    clock: ctx.clock,
    async reconcile(key, { log, signal }): Promise<Result> {
      const obj = inf.restores.cache.get(key);
      if (!obj) {
        opts.metrics?.forget(key.namespace, key.name);
        return DONE;
      }
      const namespace = key.namespace;
      if (obj.metadata?.deletionTimestamp) return finalizeRestore(ctx, obj, { getJob: (name) => getJob(namespace, name), connections: inf.connections, log, signal });
      opts.metrics?.observeStatus(namespace, key.name, obj.status);

      const o: Observed = { now: ctx.clock.now(), spec: checkRestoreSpec(obj.spec) };
      // Each Observe adds one observation, so this ends; the bound only guards against a decide that loops.
      for (let i = 0; i < 16; i++) {
        const step = decideRestore(obj, o);
        if (step.kind !== "Observe") return act(obj, step, log);
        switch (step.need) {
          case "unrecorded":
            o.unrecorded = await unrecordedJob(obj, step.cached === true);
            break;
          case "job":
            o.job = await currentJob(obj);
            break;
          case "references":
            o.references = await references(obj);
            break;
          case "source":
            o.source = await source.resolve(obj, signal, step.backupId ? { backupId: step.backupId } : {});
            if (!o.source.ok) o.source = { ...o.source, message: ctx.redactor.scrub(o.source.message) };
            break;
          case "target": {
            const connection = inf.connections.cache.get({ namespace, name: obj.spec.target.connectionRef.name });
            const collection = step.collection ?? "";
            o.target = connection
              ? { collection, state: await observeTarget(ctx, connection, collection, step.peers === true, signal) }
              : { collection, state: { reachable: false, reason: "ReferenceNotFound", message: connectionNotFound(namespace, obj.spec.target.connectionRef.name, "spec.target.connectionRef") } };
            break;
          }
          case "turn": {
            const ahead = turns.ahead(RESTORE_KIND, obj);
            o.ahead = ahead ? { message: waitingMessage(obj, ahead) } : null;
            break;
          }
        }
      }
      throw new Error("the restore's decision asked for more observations than there are");
    },
  });

  async function getJob(namespace: string, name: string): Promise<JobObject | undefined> {
    return inf.jobs.cache.get({ namespace, name }) ?? (await readJob(ctx, namespace, name));
  }

  const podsOf = (job: JobObject): Promise<PodObject[]> => podsOfJob(ctx, job);

  /** cached: the Job cache's word is enough (decide.ts says when); otherwise a miss there is asked of the apiserver. */
  async function unrecordedJob(obj: RestoreObject, cached: boolean): Promise<UnrecordedJob | null> {
    const n = (obj.status?.jobCount ?? 0) + 1;
    const name = restoreJobName(obj.metadata?.name ?? "", n);
    const namespace = obj.metadata?.namespace ?? "";
    const job = cached ? inf.jobs.cache.get({ namespace, name }) : await getJob(namespace, name);
    if (!job || controllerOf(job)?.uid !== obj.metadata?.uid) return null;
    return { name, n, ...attemptOfJob(job), ...(job.metadata?.creationTimestamp ? { createdAt: job.metadata.creationTimestamp } : {}) };
  }

  async function currentJob(obj: RestoreObject): Promise<Observed["job"]> {
    const job = await getJob(obj.metadata?.namespace ?? "", obj.status?.jobName ?? "");
    if (!job || controllerOf(job)?.uid !== obj.metadata?.uid) return { phase: "Missing" };
    const outcome = restoreJobOutcome(job, jobFinished(job) ? await podsOf(job) : []);
    return outcome.phase === "Failed" ? { ...outcome, message: ctx.redactor.scrub(outcome.message) } : outcome;
  }

  /** The target connection exists and its Secrets do (a Job whose Secret is missing would wait in CreateContainerConfigError for ever). */
  async function references(obj: RestoreObject): Promise<Check> {
    const namespace = obj.metadata?.namespace ?? "";
    const name = obj.spec.target.connectionRef.name;
    const connection = inf.connections.cache.get({ namespace, name });
    if (!connection) return { ok: false, reason: ERROR_CODES.REFERENCE_NOT_FOUND.reason, message: connectionNotFound(namespace, name, "spec.target.connectionRef") };
    try {
      await checkConnectionSecrets(ctx, connection);
      return { ok: true };
    } catch (err) {
      if (!isOperatorError(err)) throw err;
      return { ok: false, reason: err.reason, message: ctx.redactor.scrub(`spec.target.connectionRef: ${err.message}`) };
    }
  }

  async function act(obj: RestoreObject, step: RestoreStep, log: Logger): Promise<Result> {
    switch (step.kind) {
      case "Observe":
      case "Done":
        return DONE;
      case "Invalid":
        await write(obj, step);
        return DONE;
      case "Adopt":
        log.info({ job: step.job.name, attempt: step.job.attempt }, "Adopted a restore Job the status did not record");
        await write(obj, step);
        return requeue();
      case "Wait":
      case "Watch":
        await write(obj, step);
        return requeueAfter(step.requeueMs);
      case "Running":
        await write(obj, step);
        return requeueAfter(RUNNING_RECHECK_MS);
      case "Start":
        return start(obj, step, log);
      case "Complete":
        return complete(obj, step, log);
      case "Fail":
        return failRun(obj, step, log);
    }
  }

  async function start(obj: RestoreObject, step: Extract<RestoreStep, { kind: "Start" }>, log: Logger): Promise<Result> {
    const namespace = obj.metadata?.namespace ?? "";
    const policy = policyOf(obj);
    const ids = { targetCollection: step.targetCollection, backupId: step.source.candidate.backupId };
    const waitRunning = (reason: string, message: string, requeueMs = WAIT_MS): StatusStep => ({ kind: "Wait", phase: step.attempt > 1 ? "Running" : policy === "Once" ? "Pending" : "Keep", reason, message, requeueMs, ...ids });
    const connection = inf.connections.cache.get({ namespace, name: obj.spec.target.connectionRef.name });
    if (!connection) {
      await write(obj, waitRunning(ERROR_CODES.REFERENCE_NOT_FOUND.reason, connectionNotFound(namespace, obj.spec.target.connectionRef.name, "spec.target.connectionRef")));
      return requeueAfter(WAIT_MS);
    }
    if (policy === "Drill") {
      // Before the Job exists: the finalizer that deletes the temporary collection, and its name in the status.
      obj = await ensureDrillFinalizer(ctx, obj);
      if (obj.status?.targetCollection !== step.targetCollection) obj = await write(obj, { kind: "RecordTarget", ...ids });
    }
    let address;
    try {
      address = await connectionAddress(ctx, connection);
    } catch (err) {
      if (!isOperatorError(err)) throw err;
      await write(obj, waitRunning(err.reason, ctx.redactor.scrub(`spec.target.connectionRef: ${err.message}`)));
      return requeueAfter(WAIT_MS);
    }
    let desired;
    try {
      desired = buildRestoreJob(obj, connection, { jobName: step.jobName, attempt: step.attempt, ownedTarget: step.ownedTarget, method: step.method, targetCollection: step.targetCollection, source: step.source, ...(step.scheduledTime ? { scheduledTime: step.scheduledTime } : {}) }, { defaultImage: opts.defaultJobImage, address });
    } catch (err) {
      // A plan the Job would refuse (what the checks let through): the same spec builds the same plan.
      if (!isOperatorError(err) || err.retryable) throw err;
      return failRun(obj, { kind: "Fail", reason: err.reason, message: ctx.redactor.scrub(err.message), ...ids }, log);
    }
    let job: JobObject | undefined;
    try {
      job = await ctx.client.create<JobObject>(JOBS, desired as JobObject);
      log.info({ job: step.jobName, attempt: step.attempt, ownedTarget: step.ownedTarget, method: step.method, target: step.targetCollection, backupId: ids.backupId }, "Created restore Job");
      ctx.events.event({ regarding: obj, related: job, type: "Normal", reason: "Created", action: "CreateJob", note: `Created Job ${step.jobName} for backup ${ids.backupId} (attempt ${step.attempt} of ${step.maxAttempts}).` });
      // Crash window restore.job-created-before-status: the Job exists, the status does not name it.
      crashWindow("restore.job-created-before-status");
    } catch (err) {
      const invalid = describeInvalidChild(err, `Job ${step.jobName}`, JOB_FIELDS);
      if (invalid !== undefined) return failRun(obj, { kind: "Fail", reason: ERROR_CODES.INVALID_SPEC.reason, message: ctx.redactor.scrub(invalid), ...ids }, log);
      if (isForbidden(err)) {
        await write(obj, waitRunning(ERROR_CODES.JOB_REFUSED.reason, ctx.redactor.scrub(`the apiserver refused to create Job ${step.jobName}: ${err instanceof Error ? err.message : String(err)}; the restore starts once it accepts the Job (checked every ${WAIT_MS / 1000} s)`)));
        return requeueAfter(WAIT_MS);
      }
      if (!isAlreadyExists(err)) throw err;
      job = await getJob(namespace, step.jobName);
      if (!job) throw err;
      if (controllerOf(job)?.uid !== obj.metadata?.uid) {
        return failRun(obj, { kind: "Fail", reason: "JobConflict", message: `a Job named ${step.jobName} exists and is not ours (its controller is not this QdrantRestore); delete it, or create the restore under another name`, ...ids }, log);
      }
    }
    await write(obj, step);
    return requeueAfter(RUNNING_RECHECK_MS);
  }

  /** After the Job succeeded: the alias, the drill's deletion, then the status. Each step is safe to repeat. */
  async function complete(obj: RestoreObject, step: Extract<RestoreStep, { kind: "Complete" }>, log: Logger): Promise<Result> {
    const namespace = obj.metadata?.namespace ?? "";
    const waitRunning = (reason: string, message: string) => write(obj, { kind: "Wait", phase: "Running", reason, message, requeueMs: WAIT_MS });
    if (step.switchAlias || step.deleteCollection) {
      const connection = inf.connections.cache.get({ namespace, name: obj.spec.target.connectionRef.name });
      if (!connection) {
        await waitRunning(ERROR_CODES.REFERENCE_NOT_FOUND.reason, `the restore's Job succeeded, but ${connectionNotFound(namespace, obj.spec.target.connectionRef.name, "spec.target.connectionRef")}`);
        return requeueAfter(WAIT_MS);
      }
      if (step.switchAlias) {
        const { alias, collection } = step.switchAlias;
        const switched = await switchAlias(ctx, connection, alias, collection);
        if (!switched.ok) {
          await waitRunning(switched.reason, `the restore's Job succeeded, but pointing alias ${alias} (spec.target.alias) at collection ${collection} failed: ${switched.message}; retrying`);
          return requeueAfter(WAIT_MS);
        }
        if (switched.changed) {
          log.info({ alias, collection }, "Switched the alias to the restored collection");
          ctx.events.event({ regarding: obj, type: "Normal", reason: "AliasSwitched", action: "SwitchAlias", note: `Alias ${alias} now points at the restored collection ${collection}.` });
        }
        // Crash window restore.alias-switched-before-status: the alias moved, the status still says Running.
        crashWindow("restore.alias-switched-before-status");
      }
      if (step.deleteCollection) {
        const deleted = await deleteCollection(ctx, connection, step.deleteCollection);
        if (!deleted.ok) {
          await waitRunning(deleted.reason, `the drill's restore was verified, but deleting its temporary collection ${step.deleteCollection} failed: ${deleted.message}; retrying`);
          return requeueAfter(WAIT_MS);
        }
        if (deleted.changed) temporaryDeleted(obj, step.deleteCollection, "the drill verified it");
      }
    }
    const written = await write(obj, step);
    const policy = policyOf(obj);
    ctx.events.event(
      policy === "Drill"
        ? { regarding: obj, type: "Normal", reason: "DrillVerified", action: "Drill", note: readyMessage(written) }
        : { regarding: obj, type: "Normal", reason: "Restored", action: "Restore", note: readyMessage(written) },
    );
    opts.metrics?.observeSucceeded(namespace, obj.metadata?.name ?? "", written.status ?? {}, step.result?.bytes);
    return step.requeueMs !== undefined ? requeueAfter(step.requeueMs) : DONE;
  }

  async function failRun(obj: RestoreObject, step: Extract<RestoreStep, { kind: "Fail" }>, log: Logger): Promise<Result> {
    const namespace = obj.metadata?.namespace ?? "";
    if (step.deleteCollection) {
      // What this restore made (a drill's collection, or one an attempt claimed): a failed restore must not look whole.
      const connection = inf.connections.cache.get({ namespace, name: obj.spec.target.connectionRef.name });
      const deleted = connection ? await deleteCollection(ctx, connection, step.deleteCollection) : { ok: false as const, reason: ERROR_CODES.REFERENCE_NOT_FOUND.reason, message: connectionNotFound(namespace, obj.spec.target.connectionRef.name, "spec.target.connectionRef") };
      if (!deleted.ok) {
        await write(obj, { kind: "Wait", phase: "Running", reason: deleted.reason, message: `the restore failed (${step.reason}: ${step.message}), and deleting collection ${step.deleteCollection}, which it made, failed: ${deleted.message}; retrying`, requeueMs: WAIT_MS });
        return requeueAfter(WAIT_MS);
      }
      if (deleted.changed) temporaryDeleted(obj, step.deleteCollection, "the restore failed");
    }
    const before = obj.status;
    await write(obj, step);
    if (before?.phase !== "Failed" || transitions(before.conditions, "Failed", "True", step.reason)) {
      const drill = policyOf(obj) === "Drill";
      log.info({ reason: step.reason }, drill ? "Restore drill failed" : "Restore failed");
      ctx.events.event({ regarding: obj, type: "Warning", reason: drill ? "DrillFailed" : "Failed", action: drill ? "Drill" : "Restore", note: `${step.reason}: ${step.message}` });
      opts.metrics?.observeFailed(namespace, obj.metadata?.name ?? "", step.reason, drill);
    }
    return step.requeueMs !== undefined ? requeueAfter(step.requeueMs) : DONE;
  }

  function temporaryDeleted(obj: RestoreObject, collection: string, why: string): void {
    ctx.events.event({ regarding: obj, type: "Normal", reason: "DeletedTemporaryCollection", action: "DeleteCollection", note: `Deleted collection ${collection}: ${why}.` });
  }

  /**
   * Writes the status for `step` (nothing when unchanged), with a Warning Event when Ready turns to a new
   * reason for something to fix; returns the object as written, for the steps that follow in this reconcile.
   */
  async function write(obj: RestoreObject, step: StatusStep): Promise<RestoreObject> {
    const before = obj.status;
    const status = statusFor(before, step, { policy: policyOf(obj), ...(obj.metadata?.generation !== undefined ? { generation: obj.metadata.generation } : {}), now: ctx.clock.now() });
    const { obj: written } = await ctx.status.updateStatusIfChanged(QDRANT_RESTORES, obj, status);
    const ready = status.conditions?.find((c) => c.type === "Ready");
    if ((step.kind === "Wait" || step.kind === "Invalid") && ready && transitions(before?.conditions, "Ready", ready.status, ready.reason)) {
      const normal = ready.reason === WAITING_FOR_TURN;
      ctx.events.event({ regarding: obj, type: normal ? "Normal" : "Warning", reason: ready.reason, action: "Restore", note: ready.message });
    }
    return { ...written, status: written.status ?? status };
  }

  controller.watch(inf.restores, (enqueue) => enqueueObject(enqueue, generationChanged));
  inf.restores.addIndex(BY_CONNECTION, byConnection);
  inf.restores.addIndex(BY_LOCATION, byLocation);
  inf.restores.addIndex(BY_BACKUP, byBackup);
  const self = (ref: KubeObject) => [namespacedValue(ref.metadata?.namespace, ref.metadata?.name ?? "")];
  // A connection that appears, changes, or whose check says something new (Qdrant back, restarted) wakes its
  // unfinished restores at once: an IfMissing restore looks at its target then, not at its next check.
  controller.watch(inf.connections, (enqueue) => enqueueIndexed(enqueue, inf.restores.cache, BY_CONNECTION, self, connectionNews));
  controller.watch(inf.locations, (enqueue) => enqueueIndexed(enqueue, inf.restores.cache, BY_LOCATION, self, generationChanged));
  // A backup that finishes (or goes) wakes the restores that name it, and the namespace's `latest` restores.
  controller.watch(inf.backups, (enqueue) =>
    enqueueIndexed(enqueue, inf.restores.cache, BY_BACKUP, (b: KubeObject) => [namespacedValue(b.metadata?.namespace, b.metadata?.name ?? ""), namespacedValue(b.metadata?.namespace, ANY_BACKUP)], backupPhaseChanged),
  );
  turns.wake(controller, RESTORE_KIND);
  controller.watch(inf.jobs, (enqueue) => enqueueOwner<JobObject>(enqueue, { group: GROUP, kind: "QdrantRestore" }, { predicate: resourceVersionChanged }));
  return controller;
}

function readyMessage(obj: RestoreObject): string {
  return obj.status?.conditions?.find((c) => c.type === "Ready")?.message ?? "";
}
