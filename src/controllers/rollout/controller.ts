/**
 * CollectionRollout: blue/green for collections. Build green (copyFrom: a copy Job; external: the user's
 * pipeline; fromBackup: a QdrantRestore), judge it with the gates, switch spec.alias to it in one
 * create_alias request, keep blue for rollback, watch it (analysis), delete blue after retainPrevious.
 *
 * Level-triggered, as the restore controller: every reconcile re-reads the rollout from the cache, asks
 * decide.ts (pure) for one step over lazy observations (`Observe` names the one needed next: a finished
 * rollout costs nothing, a Validating one its gates), and carries the step out, each act in its own file
 * (green.ts, switch.ts, children.ts, the Jobs' builders); it never sleeps (waits are requeueAfter) and
 * never asks what woke it. No finalizer: deleting the rollout deletes its Jobs and its QdrantRestore
 * (ownerRefs) and leaves green and blue alone.
 *
 * Truth after any crash is Qdrant's and the cluster's, read again every reconcile (steps.ts): where the alias
 * points, green's owner stamp and copy record, the Job named rollout-<name>-<jobCount+1>. Crash windows,
 * each closed by the next reconcile:
 * - killed after CreateGreen's PUT before the status write: green carries our stamp, adopted;
 * - killed after a Job's create before the status write: the Job is found by its name and adopted (Adopt);
 * - killed after the switch before the status write: the alias points at green while the status says
 *   Validating or AwaitingPromotion → Promoted{adopted}, no second request, no second Event;
 * - killed between a restore's or backup's create and the status write: found by its name (ours by
 *   controller uid, or by the uid annotation) and gone on with.
 * Status writes go through ctx.status.updateStatusIfChanged (a 409 is the runtime's quiet requeue).
 */
import type { Logger } from "pino";
import { GROUP } from "../../api/group.ts";
import { ERROR_CODES, isOperatorError } from "../../errors.ts";
import { Controller, DONE, requeue, requeueAfter, type Result } from "../../runtime/controller.ts";
import { isAlreadyExists, isForbidden, isNotFound } from "../../runtime/errors.ts";
import { enqueueIndexed, enqueueObject, enqueueOwner, generationChanged, resourceVersionChanged } from "../../runtime/handlers.ts";
import type { Informer } from "../../runtime/informer.ts";
import { namespacedValue } from "../../runtime/indexers.ts";
import { controllerOf, type KubeObject } from "../../runtime/resource.ts";
import type { BackupObject } from "../backup/types.ts";
import { connectionNews } from "../restore/watches.ts";
import type { RestoreObject } from "../restore/types.ts";
import { COLLECTION_ROLLOUTS, JOBS, QDRANT_RESTORES } from "../resources.ts";
import type { OperatorContext } from "../shared/context.ts";
import { transitions } from "../shared/conditions.ts";
import { describeInvalidChild, JOB_FIELDS, type FieldMap } from "../shared/invalid-child.ts";
import { jobFinished, type JobObject } from "../shared/job-objects.ts";
import { getJob as readJob, podsOfJob } from "../shared/job-reads.ts";
import { explained, qdrantOf } from "../shared/qdrant-of.ts";
import { checkConnectionSecrets, connectionAddress, connectionNotFound, type QdrantConnectionObject } from "../shared/resolve-connection.ts";
import type { BackupLocationObject } from "../shared/resolve-location.ts";
import { buildCopyJob, jobKindOf } from "./build-copy-job.ts";
import { backupState, createBackup, createRestore, restoreState } from "./children.ts";
import { decideRollout } from "./decide.ts";
import { evaluateAnalysis, evaluateGates } from "./gates/evaluate.ts";
import { buildGateJob } from "./gates/gate-job.ts";
import { createGreen, deleteOurGreen, deletePrevious, stampGreen } from "./green.ts";
import { createBodyFromInfo } from "./green-config.ts";
import { BY_ALIAS, byAlias, holderOf, sameQdrantVia } from "./holder.ts";
import { rolloutJobOutcome } from "./job-result.ts";
import type { RolloutMetrics } from "./metrics.ts";
import { beforeSwitchBackupName, greenRestoreName, ROLLOUT_UID_ANNOTATION, rolloutJobName } from "./names.ts";
import { observeQdrant } from "./observe.ts";
import { checkRolloutSpec } from "./spec.ts";
import { PLAIN_REASONS, statusFor } from "./status.ts";
import type { Check, ChildState, Observed, Phase, QdrantView, RolloutStep, UnrecordedJob } from "./steps.ts";
import { switchAlias } from "./switch.ts";
import type { RolloutObject } from "./types.ts";
import { BY_BACKUP_LABEL, BY_CONNECTION, BY_LOCATION, byBackupLabel, byConnection, byLocation, childPhaseChanged, rolloutOfLabel, rolloutPhaseChanged } from "./watches.ts";

export interface RolloutInformers {
  rollouts: Informer<RolloutObject>;
  /** batch/v1 Jobs (the manager's informer filters them by ROLLOUT_LABEL). */
  jobs: Informer<JobObject>;
  connections: Informer<QdrantConnectionObject>;
  locations: Informer<BackupLocationObject>;
  restores: Informer<RestoreObject>;
  backups: Informer<BackupObject>;
}

export interface RolloutControllerOptions {
  /** The manager's --default-job-image (copy Jobs). */
  defaultJobImage: string;
  metrics?: RolloutMetrics;
}

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

export function rolloutController(ctx: OperatorContext, inf: RolloutInformers, opts: RolloutControllerOptions): Controller {
  const connectionOf = (r: RolloutObject) => inf.connections.cache.get({ namespace: r.metadata?.namespace ?? "", name: r.spec.connectionRef.name });
  const sameQdrant = sameQdrantVia((namespace, name) => inf.connections.cache.get({ namespace, name }));
  const missingConnection = (r: RolloutObject) => ({ reason: ERROR_CODES.REFERENCE_NOT_FOUND.reason, message: connectionNotFound(r.metadata?.namespace ?? "", r.spec.connectionRef.name, "spec.connectionRef") });

  const controller = new Controller({
    name: "collectionrollouts",
    logger: ctx.logger,
    workers: ctx.workers,
    clock: ctx.clock,
    async reconcile(key, { log, signal }): Promise<Result> {
      const obj = inf.rollouts.cache.get(key);
      if (!obj) {
        opts.metrics?.forget(key.namespace, key.name);
        return DONE;
      }
      // No finalizer: a rollout being deleted has nothing left to do (its Jobs and restore go with it).
      if (obj.metadata?.deletionTimestamp) return DONE;
      opts.metrics?.observeStatus(key.namespace, key.name, obj.status);

      const o: Observed = { now: ctx.clock.now(), spec: checkRolloutSpec(obj.spec) };
      // Each Observe adds one observation, so this ends; the bound only guards against a decide that loops.
      for (let i = 0; i < 24; i++) {
        const step = decideRollout(obj, o);
        if (step.kind !== "Observe") {
          log.debug({ step: step.kind }, "Decided");
          return act(obj, step, log, signal);
        }
        switch (step.need) {
          case "unrecorded":
            o.unrecorded = await unrecordedJob(obj);
            break;
          case "job":
            o.job = await currentJob(obj);
            break;
          case "references":
            o.references = await references(obj);
            break;
          case "holder":
            o.holder = holderOf(obj, inf.rollouts.cache.byIndex(BY_ALIAS, obj.spec.alias), sameQdrant, o.now);
            break;
          case "qdrant":
          case "details": {
            const details = step.need === "details";
            o.qdrant = await view(obj, details, signal);
            if (details) o.qdrantDetails = true;
            break;
          }
          case "restore":
            o.restore = restoreOf(obj);
            break;
          case "backup":
            o.backup = backupOf(obj);
            break;
          case "gates":
          case "analysis":
            await judge(obj, o, step.need, signal);
            break;
        }
      }
      throw new Error("the rollout's decision asked for more observations than there are");
    },
  });

  async function view(obj: RolloutObject, details: boolean, signal: AbortSignal): Promise<QdrantView> {
    const connection = connectionOf(obj);
    if (!connection) return { reachable: false, ...missingConnection(obj) };
    return observeQdrant(ctx, connection, obj, details, signal);
  }

  /**
   * The gates (or, after promotion, the analysis) asked of Qdrant. A Qdrant that does not answer leaves the
   * rows as they were: the view becomes unreachable with the connection's words, which decide.ts waits on.
   */
  async function judge(obj: RolloutObject, o: Observed, need: "gates" | "analysis", signal: AbortSignal): Promise<void> {
    const connection = connectionOf(obj);
    if (!connection) {
      o.qdrant = { reachable: false, ...missingConnection(obj) };
      return;
    }
    try {
      const { api } = await qdrantOf(ctx, connection, signal);
      if (need === "gates") o.gates = await evaluateGates(api, obj.spec.gates, { green: obj.spec.collection, active: obj.status?.activeCollection || null }, signal);
      else o.analysis = await evaluateAnalysis(api, obj.spec.gates?.goldenQueries, { active: obj.spec.collection, previous: obj.status?.previousCollection || null }, signal);
      const fatal = (o.gates ?? o.analysis)?.fatal;
      if (fatal) (need === "gates" ? o.gates! : o.analysis!).fatal = { ...fatal, message: ctx.redactor.scrub(fatal.message) };
    } catch (err) {
      o.qdrant = { reachable: false, ...explained(ctx, err, connection) };
    }
  }

  function restoreOf(obj: RolloutObject): ChildState {
    return restoreState(obj, inf.restores.cache.get({ namespace: obj.metadata?.namespace ?? "", name: greenRestoreName(obj.metadata?.name ?? "") }));
  }

  function backupOf(obj: RolloutObject): ChildState {
    return backupState(obj, inf.backups.cache.get({ namespace: obj.metadata?.namespace ?? "", name: beforeSwitchBackupName(obj.metadata?.name ?? "") }));
  }

  async function getJob(namespace: string, name: string): Promise<JobObject | undefined> {
    return inf.jobs.cache.get({ namespace, name }) ?? (await readJob(ctx, namespace, name));
  }

  async function unrecordedJob(obj: RolloutObject): Promise<UnrecordedJob | null> {
    const n = (obj.status?.jobCount ?? 0) + 1;
    const name = rolloutJobName(obj.metadata?.name ?? "", n);
    const job = await getJob(obj.metadata?.namespace ?? "", name);
    if (!job || controllerOf(job)?.uid !== obj.metadata?.uid) return null;
    const kind = jobKindOf(job);
    return kind ? { name, n, kind: kind.kind, attempt: kind.attempt } : null;
  }

  async function currentJob(obj: RolloutObject): Promise<Observed["job"]> {
    const name = obj.status?.jobName;
    const job = name ? await getJob(obj.metadata?.namespace ?? "", name) : undefined;
    if (!job || controllerOf(job)?.uid !== obj.metadata?.uid) return { phase: "Missing" };
    const outcome = rolloutJobOutcome(job, jobFinished(job) ? await podsOfJob(ctx, job) : []);
    return outcome.phase === "Failed" ? { ...outcome, message: ctx.redactor.scrub(outcome.message) } : outcome;
  }

  /** The connection and its Secrets exist, and backupActiveFirst's location does. */
  async function references(obj: RolloutObject): Promise<Check> {
    const namespace = obj.metadata?.namespace ?? "";
    const connection = connectionOf(obj);
    if (!connection) return { ok: false, ...missingConnection(obj) };
    try {
      await checkConnectionSecrets(ctx, connection);
    } catch (err) {
      if (!isOperatorError(err)) throw err;
      return { ok: false, reason: err.reason, message: ctx.redactor.scrub(`spec.connectionRef: ${err.message}`) };
    }
    const location = obj.spec.promotion?.backupActiveFirst?.locationRef.name;
    if (location && !inf.locations.cache.get({ namespace, name: location })) {
      return { ok: false, reason: ERROR_CODES.REFERENCE_NOT_FOUND.reason, message: `spec.promotion.backupActiveFirst.locationRef: QdrantBackupLocation ${namespace}/${location} does not exist` };
    }
    return { ok: true };
  }

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
    if (step.reason === "Promote") return promotedStep(obj, { kind: "Promoted", previous: step.from, adopted: false }, log);
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
    const restore = inf.restores.cache.get({ namespace, name });
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
      log.info({ reason: step.reason }, "Rollout failed");
      ctx.events.event({ regarding: obj, type: "Warning", reason: "Failed", action: "Rollout", note: `${step.reason}: ${step.message}` });
    }
    return DONE;
  }

  /**
   * Writes the status for `step` (nothing when unchanged), with an Event when Ready turns to a new reason on
   * a wait, and GatesPassed / GateFailed when the gates condition turns; returns the object as written.
   */
  async function write(obj: RolloutObject, step: RolloutStep): Promise<RolloutObject> {
    const before = obj.status;
    const status = statusFor(before, step, { ...(obj.metadata?.generation !== undefined ? { generation: obj.metadata.generation } : {}), now: ctx.clock.now(), spec: obj.spec, name: obj.metadata?.name ?? "" });
    const { obj: written } = await ctx.status.updateStatusIfChanged(COLLECTION_ROLLOUTS, obj, status);
    const ready = status.conditions?.find((c) => c.type === "Ready");
    if ((step.kind === "Wait" || step.kind === "Invalid") && ready && transitions(before?.conditions, "Ready", ready.status, ready.reason)) {
      // Waiting for the holder, a backup, a restore or a gate Job is the rollout at work; anything else is to fix.
      const normal = ready.reason === ERROR_CODES.ALIAS_HELD.reason || (PLAIN_REASONS as readonly string[]).includes(ready.reason);
      ctx.events.event({ regarding: obj, type: normal ? "Normal" : "Warning", reason: ready.reason, action: "Rollout", note: ready.message });
    }
    const gates = status.conditions?.find((c) => c.type === "GatesPassed");
    if (gates && transitions(before?.conditions, "GatesPassed", gates.status, gates.reason)) {
      if (gates.status === "True") ctx.events.event({ regarding: obj, type: "Normal", reason: "GatesPassed", action: "Validate", note: gates.message });
      // Not judged yet (Pending) and a gate Job at work are no failure.
      else if (gates.status === "False" && gates.reason !== "Pending" && gates.reason !== "GateJobRunning") ctx.events.event({ regarding: obj, type: "Warning", reason: "GateFailed", action: "Validate", note: gates.message });
    }
    opts.metrics?.observeStatus(obj.metadata?.namespace ?? "", obj.metadata?.name ?? "", status);
    return { ...written, status: written.status ?? status };
  }

  inf.rollouts.addIndex(BY_CONNECTION, byConnection);
  inf.rollouts.addIndex(BY_LOCATION, byLocation);
  inf.rollouts.addIndex(BY_ALIAS, byAlias);
  inf.rollouts.addIndex(BY_BACKUP_LABEL, byBackupLabel);
  const self = (ref: KubeObject) => [namespacedValue(ref.metadata?.namespace, ref.metadata?.name ?? "")];
  controller.watch(inf.rollouts, (enqueue) => enqueueObject(enqueue, generationChanged));
  // Another rollout of the same alias began, finished or went: those waiting for it look again.
  controller.watch(inf.rollouts, (enqueue) => enqueueIndexed(enqueue, inf.rollouts.cache, BY_ALIAS, (r: RolloutObject) => byAlias(r), rolloutPhaseChanged));
  controller.watch(inf.connections, (enqueue) => enqueueIndexed(enqueue, inf.rollouts.cache, BY_CONNECTION, self, connectionNews));
  controller.watch(inf.locations, (enqueue) => enqueueIndexed(enqueue, inf.rollouts.cache, BY_LOCATION, self, generationChanged));
  controller.watch(inf.jobs, (enqueue) => enqueueOwner<JobObject>(enqueue, { group: GROUP, kind: "CollectionRollout" }, { predicate: resourceVersionChanged }));
  controller.watch(inf.restores, (enqueue) => enqueueOwner<RestoreObject>(enqueue, { group: GROUP, kind: "CollectionRollout" }, { predicate: childPhaseChanged }));
  controller.watch(inf.backups, (enqueue) => enqueueIndexed(enqueue, inf.rollouts.cache, BY_BACKUP_LABEL, rolloutOfLabel, childPhaseChanged));
  return controller;
}

function readyMessage(obj: RolloutObject): string {
  return obj.status?.conditions?.find((c) => c.type === "Ready")?.message ?? "";
}
