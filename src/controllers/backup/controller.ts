/**
 * QdrantBackup: turns each backup into one Kubernetes Job running the operator image's `job backup`
 * (see build-job.ts), and fills the backup's status from the Job's result (job-result.ts, status.ts).
 *
 * Level-triggered: every reconcile re-reads the backup, its references and its Job, and moves one step;
 * it never asks whether it was woken by an add, an update or the Job. The Job's deterministic name is the
 * lock, so the crash windows close themselves:
 * - Job created, status not yet written (crash, lost lease, 409): the next reconcile finds the Job (cache,
 *   else GET, else AlreadyExists on create) and adopts it because its controller reference is this
 *   backup's uid; a Job of that name controlled by anything else fails the backup instead.
 * - Job finished, status not yet written: the Job and its pods keep the result (ttlSecondsAfterFinished
 *   defaults to a day), so the next reconcile reads it again.
 * - Status written Succeeded/Failed: terminal. Nothing is redone; only deletion is handled (finalize.ts),
 *   and a failed backup's sweep (cleanup.ts) until its CleanedUp condition is True.
 * Backups take turns per Qdrant, with every other kind of work on it (one-at-a-time.ts, shared/turns/).
 * Events cost index lookups, never a scan of the namespace's backups: a connection or location wakes the
 * unfinished backups that name it, and a backup leaving the line wakes only the one whose turn it may be.
 */
import { crashWindow } from "../../crash-windows.ts";
import type { Logger } from "pino";
import { describeProblems, prepareValidators, validateSpec } from "../../api/validate.ts";
import { ERROR_CODES, isOperatorError } from "../../errors.ts";
import { backupIdOf } from "../../backup/layout/backup-id.ts";
import { Controller, DONE, requeue, requeueAfter, type Result } from "../../runtime/controller.ts";
import { isAlreadyExists, isForbidden } from "../../runtime/errors.ts";
import { enqueueIndexed, enqueueObject, enqueueOwner, generationChanged, resourceVersionChanged } from "../../runtime/handlers.ts";
import type { Informer } from "../../runtime/informer.ts";
import { namespacedValue } from "../../runtime/indexers.ts";
import { controllerOf, type KubeObject } from "../../runtime/resource.ts";
import { GROUP } from "../../api/group.ts";
import { OPERATOR_VERSION } from "../../version.ts";
import { checkLocationUsable, locationNotFound, readLocationAgeKeys, type BackupLocationObject } from "../shared/resolve-location.ts";
import { checkConnectionSecrets, connectionAddress, connectionNotFound, type QdrantConnectionObject } from "../shared/resolve-connection.ts";
import { JOBS, PODS, QDRANT_BACKUPS } from "../resources.ts";
import type { OperatorContext } from "../shared/context.ts";
import { transitions } from "../shared/conditions.ts";
import type { Condition } from "../../runtime/conditions.ts";
import { checkJobSettings, describeChildProblems } from "../shared/child-validation.ts";
import { describeInvalidChild, JOB_FIELDS } from "../shared/invalid-child.ts";
import { buildBackupJob } from "./build-job.ts";
import { finalizeBackup, ensureFinalizer } from "./finalize.ts";
import { explainFailure, explainWords } from "./explain-failure.ts";
import { attemptOfJob, newlyRetried, retriedAttempt } from "./attempts.ts";
import { jobOutcome } from "./job-result.ts";
import type { BackupMetrics } from "./metrics.ts";
import { SCHEDULE_LABEL } from "../../api/labels.ts";
import { backupJobName } from "./names.ts";
import { CLEANED_UP, isTerminal, needsCleanup, statusFor, type BackupStep } from "./status.ts";
import { BACKUP_KIND, BACKUP_TURNS, WAITING_FOR_TURN, waitingMessage } from "./one-at-a-time.ts";
import { Turns } from "../shared/turns/turns.ts";
import { cleanUpFailedRun } from "./cleanup.ts";
import { completeCollections } from "./bucket-collections.ts";
import { collectionsBeingBuilt, type BuildingRestore, type BuildingRollout } from "./collections-being-built.ts";
import type { ExcludedCollection } from "../../jobs/backup/contract.ts";
import { jobFinished, type JobObject, type PodObject } from "../shared/job-objects.ts";
import { getJob as readJob, podsOfJob } from "../shared/job-reads.ts";
import type { BackupObject } from "./types.ts";

export interface BackupInformers {
  backups: Informer<BackupObject>;
  /** batch/v1 Jobs (the manager's informer may filter them by the backup label). */
  jobs: Informer<JobObject>;
  connections: Informer<QdrantConnectionObject>;
  locations: Informer<BackupLocationObject>;
  /**
   * The manager's one set of turns per Qdrant, shared with the other kinds of work on Qdrant; the
   * controller registers backups with it. Without one, the backups take turns among themselves.
   */
  turns?: Turns;
  /**
   * What the operator builds on a Qdrant (drills' temporary collections, unpromoted rollouts' green
   * ones), which a backup of `all` or a pattern leaves out (collections-being-built.ts). Read when the
   * Job is created: a drill or rollout that starts later is not known to that Job. Without them, nothing
   * is left out.
   */
  restores?: Informer<BuildingRestore & KubeObject>;
  rollouts?: Informer<BuildingRollout & KubeObject>;
}

/** Backup indexes: unfinished backups (and failed ones still to sweep) by "namespace/connection" and "namespace/location". */
const BY_CONNECTION = "backups.connection";
const BY_LOCATION = "backups.location";
const live = (b: BackupObject) => !isTerminal(b.status) || needsCleanup(b.status);
const byConnection = (b: BackupObject): string[] => (b.spec?.connectionRef?.name && live(b) ? [namespacedValue(b.metadata?.namespace, b.spec.connectionRef.name)] : []);
const byLocation = (b: BackupObject): string[] => (b.spec?.locationRef?.name && live(b) ? [namespacedValue(b.metadata?.namespace, b.spec.locationRef.name)] : []);

export interface BackupControllerOptions {
  /** The manager's --default-job-image. */
  defaultJobImage: string;
  metrics?: BackupMetrics;
}

/** A missing reference or Secret may appear later: look again this often. */
export const WAIT_MS = 30_000;
/** A safety net while a Job runs; Job events wake the backup sooner. */
const RUNNING_RECHECK_MS = 10 * 60_000;
/** While a failed Job's pod is still terminating, before the sweep. */
const PODS_RECHECK_MS = 5_000;
/**
 * A sweep that could not finish (Qdrant or S3 down, a reference deleted) is tried again after as long as
 * it has been failing (its CleanedUp condition's lastTransitionTime), from CLEANUP_RETRY_MIN_MS up to
 * CLEANUP_RETRY_MS: a backoff that doubles without a counter, so a short outage is swept soon after it
 * ends and a long one costs a try every 10 minutes. A connection or location that comes back (its status
 * changes) wakes it at once, but a short S3 outage may never show in the location's status.
 */
const CLEANUP_RETRY_MIN_MS = 10_000;
const CLEANUP_RETRY_MS = 10 * 60_000;

export function cleanupRetryMs(conditions: readonly Condition[] | undefined, nowMs: number): number {
  const failing = conditions?.find((c) => c.type === CLEANED_UP && c.status === "False" && c.reason === "CleanupFailed");
  const since = failing?.lastTransitionTime ? Date.parse(failing.lastTransitionTime) : Number.NaN;
  const failingFor = Number.isFinite(since) ? nowMs - since : 0;
  return Math.min(CLEANUP_RETRY_MS, Math.max(CLEANUP_RETRY_MIN_MS, failingFor));
}

export function backupController(ctx: OperatorContext, inf: BackupInformers, opts: BackupControllerOptions): Controller {
  const turns = inf.turns ?? new Turns(inf.connections);
  prepareValidators("QdrantBackup");
  // A Job of ours in the cache counts as running before the backup's status says so (a lost status write).
  const jobStarted = (b: BackupObject) => {
    const job = inf.jobs.cache.get({ namespace: b.metadata?.namespace ?? "", name: backupJobName(b.metadata?.name ?? "") });
    return job !== undefined && controllerOf(job)?.uid === b.metadata?.uid;
  };
  turns.register(BACKUP_TURNS, inf.backups, { started: jobStarted });
  const controller = new Controller({
    name: "qdrantbackups",
    logger: ctx.logger,
    workers: ctx.workers,
    clock: ctx.clock,
    async reconcile(key, { log }): Promise<Result> {
      let obj = inf.backups.cache.get(key);
      if (!obj) return DONE;
      const namespace = key.namespace;
      const jobName = backupJobName(key.name);
      const schedule = obj.metadata?.labels?.[SCHEDULE_LABEL] ?? "";

      if (obj.metadata?.deletionTimestamp) return finalizeBackup(ctx, obj, { jobName, getJob: () => getJob(key.namespace, jobName), locations: inf.locations, log });

      // Final, whatever happens to the schema later: a finished backup is a record, not a goal.
      if (isTerminal(obj.status)) {
        opts.metrics?.observeTerminal(namespace, schedule, obj.status!);
        return needsCleanup(obj.status) ? cleanUp(obj, jobName, log) : DONE;
      }
      const problems = validateSpec("QdrantBackup", obj.spec);
      if (problems.length > 0) {
        await write(obj, { kind: "Invalid", message: describeProblems(problems) });
        return DONE;
      }
      // What the apiserver would refuse in the Job (a limit below its request, a pod label too long):
      // the spec is immutable, so the backup can never run; it fails now, naming our field.
      const jobProblems = checkJobSettings(obj.spec.job);
      if (jobProblems.length > 0) {
        await write(obj, { kind: "Failed", reason: ERROR_CODES.INVALID_SPEC.reason, message: describeChildProblems(jobProblems) });
        return DONE;
      }
      // Before the Job exists, so no data is ever written without the finalizer that deletes it.
      obj = await ensureFinalizer(ctx, obj);

      const connection = inf.connections.cache.get({ namespace, name: obj.spec.connectionRef.name });
      if (!connection) return waitFor(obj, "ReferenceNotFound", connectionNotFound(namespace, obj.spec.connectionRef.name));
      const location = inf.locations.cache.get({ namespace, name: obj.spec.locationRef.name });
      if (!location) return waitFor(obj, "ReferenceNotFound", locationNotFound(namespace, obj.spec.locationRef.name));
      if (location.spec.accessMode === "ReadOnly") {
        await write(obj, { kind: "Failed", reason: "LocationReadOnly", message: `spec.locationRef: QdrantBackupLocation ${namespace}/${location.metadata?.name ?? ""} is ReadOnly: backups cannot be written to it` });
        return DONE;
      }
      const id = backupIdOf(obj.metadata);

      let job = inf.jobs.cache.get({ namespace, name: jobName }) ?? (await getJob(namespace, jobName));
      if (!job) {
        if (obj.status?.phase === "Running" && obj.status.jobName === jobName) {
          await write(obj, { kind: "Failed", reason: "JobDeleted", message: `Job ${jobName} was deleted before it reported a result; create a new QdrantBackup to try again`, jobName, backupId: id });
          return DONE;
        }
        const waitForTurn = async (): Promise<Result | undefined> => {
          const ahead = turns.ahead(BACKUP_KIND, obj);
          if (!ahead) return undefined;
          // Unchanged while it waits (it names the one right before it), so waiting costs no writes.
          await write(obj, { kind: "Waiting", reason: WAITING_FOR_TURN, message: waitingMessage(obj, ahead) });
          return requeueAfter(WAIT_MS);
        };
        const early = await waitForTurn();
        if (early) return early;
        let qdrantUrl: string;
        try {
          // A Job whose Secret is missing would sit in CreateContainerConfigError with no end: check first.
          await checkConnectionSecrets(ctx, connection);
          await checkLocationUsable(ctx, location);
          // The key file a Job that encrypts would refuse: said here, naming the Secret, before any snapshot.
          await readLocationAgeKeys(ctx, location);
          qdrantUrl = (await connectionAddress(ctx, connection)).url;
        } catch (err) {
          if (!isOperatorError(err)) throw err;
          return waitFor(obj, err.reason, ctx.redactor.scrub(err.message));
        }
        const exclude = beingBuiltOn(connection);
        let desired;
        try {
          desired = buildBackupJob(obj, connection, location, { defaultImage: opts.defaultJobImage, operatorVersion: OPERATOR_VERSION, qdrantUrl, exclude });
        } catch (err) {
          // A plan the Job would refuse (what validation let through): the same spec builds the same plan.
          if (!isOperatorError(err) || err.retryable) throw err;
          await write(obj, { kind: "Failed", reason: err.reason, message: ctx.redactor.scrub(err.message), backupId: id });
          return DONE;
        }
        // Asked again right before the Job: the checks above take a round trip or two, in which an item
        // created at the same moment as this one may have reached the caches (turns.ts names the window).
        const late = await waitForTurn();
        if (late) return late;
        try {
          job = await ctx.client.create<JobObject>(JOBS, desired as JobObject);
          log.info({ job: jobName, ...(exclude.length > 0 && obj.spec.collections?.names === undefined ? { exclude } : {}) }, "Created backup Job");
          ctx.events.event({ regarding: obj, related: job, type: "Normal", reason: "Created", action: "CreateJob", note: `Created Job ${jobName} for backup ${id}.` });
          // Crash window backup.job-created-before-status: the Job exists, the status does not name it.
          crashWindow("backup.job-created-before-status");
        } catch (err) {
          // Refused as invalid (what checkJobSettings missed): the same spec builds the same Job, so no retry.
          const invalid = describeInvalidChild(err, `Job ${jobName}`, JOB_FIELDS);
          if (invalid !== undefined) {
            log.info({ job: jobName, message: invalid }, "Job refused as invalid");
            await write(obj, { kind: "Failed", reason: ERROR_CODES.INVALID_SPEC.reason, message: ctx.redactor.scrub(invalid), backupId: id });
            return DONE;
          }
          // Refused otherwise (a ResourceQuota, an admission webhook, RBAC): said, out of the line, retried.
          if (isForbidden(err)) return waitFor(obj, ERROR_CODES.JOB_REFUSED.reason, ctx.redactor.scrub(`the apiserver refused to create Job ${jobName}: ${err instanceof Error ? err.message : String(err)}`), "the apiserver accepts the Job");
          if (!isAlreadyExists(err)) throw err;
          // Created by an earlier reconcile whose status write was lost, or by someone else: decided below.
          job = await getJob(namespace, jobName);
          if (!job) throw err; // deleted again in between: the next attempt creates it
        }
      }
      if (controllerOf(job)?.uid !== obj.metadata?.uid) {
        await write(obj, { kind: "Failed", reason: "JobConflict", message: `a Job named ${jobName} exists and is not ours (its controller is not this QdrantBackup); delete it, or create the backup under another name` });
        return DONE;
      }
      const finished = jobFinished(job);
      // The pods hold the results: read once the Job ended, or while it retries a failed one (attempts.ts).
      const pods = finished || (job.status?.failed ?? 0) > 0 ? await podsOf(job) : [];
      // A result cut to fit its message is completed from the manifests (bucket-collections.ts).
      const outcome = await completeCollections(ctx, obj, location, explainFailure(jobOutcome(job, pods), job, connection, location));
      // Crash window backup.job-finished-before-status: the Job's result read, not yet written.
      if (finished) crashWindow("backup.job-finished-before-status");
      const r = outcome.phase === "Running" ? retriedAttempt(job, pods, ctx.clock.now()) : undefined;
      const retried = r && { ...r, message: ctx.redactor.scrub(explainWords(r.reason, r.message, connection, location)) };
      const failedOutcome = outcome.phase === "Failed" ? { ...outcome, message: ctx.redactor.scrub(outcome.message) } : outcome;
      await write(obj, { kind: "Job", jobName, backupId: id, outcome: failedOutcome, attempt: attemptOfJob(job), ...(retried ? { retried } : {}) });
      if (outcome.phase === "Running") return requeueAfter(RUNNING_RECHECK_MS);
      // A failed backup is swept by the next reconcile, which reads the status just written (its own
      // status write wakes nothing: the backups' watch filters on generation).
      return outcome.phase === "Failed" ? requeue() : DONE;
    },
  });

  /** The collections the operator builds on `connection`'s Qdrant: restores and rollouts through any connection that reaches it. */
  function beingBuiltOn(connection: QdrantConnectionObject): ExcludedCollection[] {
    if (!inf.restores && !inf.rollouts) return [];
    // The same Qdrant as the turns see it (shared/turns/qdrant-identity.ts): every connection whose names overlap, transitively.
    const sameQdrant = new Set(turns.connectionsOfQdrant(connection.metadata?.namespace ?? "", connection.metadata?.name ?? ""));
    const onThisQdrant = (ns: string, name: string): boolean => sameQdrant.has(`${ns}/${name}`);
    return collectionsBeingBuilt(inf.restores?.cache.list() ?? [], inf.rollouts?.cache.list() ?? [], onThisQdrant);
  }

  const getJob = (namespace: string, name: string): Promise<JobObject | undefined> => readJob(ctx, namespace, name);

  const podsOf = (job: JobObject): Promise<PodObject[]> => podsOfJob(ctx, job);

  /** Sweeps what a failed backup's Job left (cleanup.ts) and records it in the CleanedUp condition. */
  async function cleanUp(obj: BackupObject, jobName: string, log: Logger): Promise<Result> {
    const namespace = obj.metadata?.namespace ?? "";
    const outcome = await cleanUpFailedRun(ctx, obj, {
      connection: inf.connections.cache.get({ namespace, name: obj.spec.connectionRef.name }),
      location: inf.locations.cache.get({ namespace, name: obj.spec.locationRef.name }),
      pods: async () => (await ctx.client.list<PodObject>(PODS, namespace, { labelSelector: `job-name=${jobName}` })).items,
    });
    const before = obj.status?.conditions;
    await write(obj, { kind: "Cleanup", outcome });
    if (outcome.kind === "Done") {
      log.info({ ...outcome.swept }, "Swept what the failed backup's Job left");
      if (outcome.swept.snapshots + outcome.swept.abortedUploads + outcome.swept.incompleteObjects > 0) {
        ctx.events.event({ regarding: obj, type: "Normal", reason: "CleanedUp", action: "Cleanup", note: outcome.message });
      }
      return DONE;
    }
    if (outcome.kind === "Failed" && transitions(before, CLEANED_UP, "False", "CleanupFailed")) ctx.events.event({ regarding: obj, type: "Warning", reason: "CleanupFailed", action: "Cleanup", note: outcome.message });
    return requeueAfter(outcome.kind === "Wait" ? PODS_RECHECK_MS : cleanupRetryMs(before, ctx.clock.now().getTime()));
  }

  async function waitFor(obj: BackupObject, reason: string, message: string, until = "it exists"): Promise<Result> {
    await write(obj, { kind: "Waiting", reason, message: `${message}; the backup starts once ${until} (checked every ${WAIT_MS / 1000} s)` });
    return requeueAfter(WAIT_MS);
  }

  /**
   * Writes the status for `step` (nothing when unchanged), with an Event on each transition worth one,
   * and the metrics of a backup that has just finished. A retried attempt's Warning comes once per failed
   * attempt: when Ready did not report that attempt yet (attempts.ts newlyRetried: read from the backup,
   * not remembered), whatever its reason was. A crash between the write and the Event loses that Event:
   * the status still says it.
   */
  async function write(obj: BackupObject, step: BackupStep): Promise<void> {
    const before = obj.status;
    const status = statusFor(before, step, obj.metadata?.generation, ctx.clock.now());
    const ready = status.conditions?.find((c) => c.type === "Ready");
    const changed = ready !== undefined && transitions(before?.conditions, "Ready", ready.status, ready.reason);
    const retried = step.kind === "Job" && newlyRetried(before?.conditions, step.retried);
    await ctx.status.updateStatusIfChanged(QDRANT_BACKUPS, obj, status);
    if (retried && ready) ctx.events.event({ regarding: obj, type: "Warning", reason: ready.reason, action: "Backup", note: ready.message });
    else if (changed && ready) {
      if (status.phase === "Succeeded") ctx.events.event({ regarding: obj, type: "Normal", reason: "Succeeded", action: "Backup", note: ready.message });
      else if (status.phase === "Failed") ctx.events.event({ regarding: obj, type: "Warning", reason: "Failed", action: "Backup", note: `${status.failure?.reason ?? ready.reason}: ${ready.message}` });
      else if (ready.reason === WAITING_FOR_TURN) ctx.events.event({ regarding: obj, type: "Normal", reason: ready.reason, action: "Backup", note: ready.message });
      else if (ready.reason !== "Running") ctx.events.event({ regarding: obj, type: "Warning", reason: ready.reason, action: "Backup", note: ready.message });
    }
    if (!isTerminal(before) && isTerminal(status)) {
      const ns = obj.metadata?.namespace ?? "";
      const schedule = obj.metadata?.labels?.[SCHEDULE_LABEL] ?? "";
      opts.metrics?.observeFinished(ns, schedule, status);
      opts.metrics?.observeTerminal(ns, schedule, status);
    }
  }

  controller.watch(inf.backups, (enqueue) => enqueueObject(enqueue, generationChanged));
  // A reference that appears (or changes) wakes the unfinished backups that name it, instead of their 30 s recheck.
  inf.backups.addIndex(BY_CONNECTION, byConnection);
  inf.backups.addIndex(BY_LOCATION, byLocation);
  const self = (ref: KubeObject) => [namespacedValue(ref.metadata?.namespace, ref.metadata?.name ?? "")];
  controller.watch(inf.connections, (enqueue) => enqueueIndexed(enqueue, inf.backups.cache, BY_CONNECTION, self, generationChanged));
  controller.watch(inf.locations, (enqueue) => enqueueIndexed(enqueue, inf.backups.cache, BY_LOCATION, self, generationChanged));
  // A backup (or other work on the same Qdrant) that stops running or leaves the line wakes the next in line.
  turns.wake(controller, BACKUP_KIND);
  controller.watch(inf.jobs, (enqueue) => enqueueOwner<JobObject>(enqueue, { group: GROUP, kind: "QdrantBackup" }, { predicate: resourceVersionChanged }));
  return controller;
}
