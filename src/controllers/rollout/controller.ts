/**
 * CollectionRollout: blue/green for collections. Build green (copyFrom: a copy Job; external: the user's
 * pipeline; fromBackup: a QdrantRestore), judge it with the gates, switch spec.alias to it in one
 * create_alias request, keep blue for rollback, watch it (analysis), delete blue after retainPrevious.
 *
 * Level-triggered, as the restore controller: every reconcile re-reads the rollout from the cache, asks
 * decide.ts (pure) for one step over lazy observations (`Observe` names the one needed next: a finished
 * rollout costs nothing, a Validating one its gates), and carries the step out (acts.ts, over green.ts,
 * switch.ts, children.ts and the Jobs' builders); it never sleeps (waits are requeueAfter) and
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
import { prepareValidators } from "../../api/validate.ts";
import { GROUP } from "../../api/group.ts";
import { ERROR_CODES, isOperatorError } from "../../errors.ts";
import { Controller, DONE, type Result } from "../../runtime/controller.ts";
import { enqueueIndexed, enqueueObject, enqueueOwner, generationChanged, resourceVersionChanged } from "../../runtime/handlers.ts";
import type { Informer } from "../../runtime/informer.ts";
import { namespacedValue } from "../../runtime/indexers.ts";
import { controllerOf, type KubeObject } from "../../runtime/resource.ts";
import type { BackupObject } from "../backup/types.ts";
import { connectionNews } from "../restore/watches.ts";
import type { RestoreObject } from "../restore/types.ts";
import { COLLECTION_ROLLOUTS } from "../resources.ts";
import type { OperatorContext } from "../shared/context.ts";
import { transitions } from "../shared/conditions.ts";
import { jobFinished, type JobObject } from "../shared/job-objects.ts";
import { getJob as readJob, podsOfJob } from "../shared/job-reads.ts";
import { explained, qdrantOf } from "../shared/qdrant-of.ts";
import { checkConnectionSecrets, connectionNotFound, type QdrantConnectionObject } from "../shared/resolve-connection.ts";
import type { BackupLocationObject } from "../shared/resolve-location.ts";
import { jobKindOf } from "./build-copy-job.ts";
import { backupState, restoreState } from "./children.ts";
import { decideRollout } from "./decide.ts";
import { evaluateAnalysis, evaluateGates } from "./gates/evaluate.ts";
import { BY_ALIAS, byAlias, holderOf, sameQdrantVia } from "./holder.ts";
import { rolloutJobOutcome } from "./job-result.ts";
import type { RolloutMetrics } from "./metrics.ts";
import { beforeSwitchBackupName, greenRestoreName, rolloutJobName } from "./names.ts";
import { observeQdrant } from "./observe.ts";
import { rolloutActs } from "./acts.ts";
import { checkRolloutSpec } from "./spec.ts";
import { PLAIN_REASONS, statusFor } from "./status.ts";
import type { Check, ChildState, Observed, QdrantView, RolloutStep, UnrecordedJob } from "./steps.ts";
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


export function rolloutController(ctx: OperatorContext, inf: RolloutInformers, opts: RolloutControllerOptions): Controller {
  prepareValidators("CollectionRollout");
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

  const act = rolloutActs({
    ctx,
    defaultJobImage: opts.defaultJobImage,
    metrics: opts.metrics,
    connectionOf,
    missingConnection,
    getJob,
    restoreOf,
    restoreCached: (namespace, name) => inf.restores.cache.get({ namespace, name }),
    write,
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
    return backupState(obj, inf.backups.cache.get({ namespace: obj.metadata?.namespace ?? "", name: beforeSwitchBackupName(obj.metadata?.name ?? "", obj.metadata?.uid ?? "") }));
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
    if (outcome.phase !== "Failed") return outcome;
    // The attempt the Job itself carries (its annotation): what decide counts copy retries by.
    const attempt = jobKindOf(job)?.attempt;
    return { ...outcome, message: ctx.redactor.scrub(outcome.message), ...(outcome.attempt === undefined && attempt !== undefined ? { attempt } : {}) };
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
