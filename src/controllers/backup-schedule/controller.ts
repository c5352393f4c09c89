/**
 * QdrantBackupSchedule: at each cron tick creates one QdrantBackup (named by schedule and tick, owned by
 * the schedule), and prunes the schedule's backups by retention. Level-triggered: every reconcile re-reads
 * the schedule, its own QdrantBackups and the QdrantRestores that name them from the caches' indexes
 * (indexes.ts: what a reconcile or an event costs follows what the schedule owns, not what the namespace
 * holds; only a restore with a `latest` source brings in the namespace's backups), decides with the pure
 * functions of plan.ts, acts, writes status, and requeues exactly at the next tick — no polling. Backup
 * events (a running backup ending) wake the owner's schedule, so a tick held back by Forbid runs as soon
 * as the backup it waited for ends, if still within startingDeadlineSeconds.
 *
 * Crash windows (each closed by the next reconcile, because the name is the lock):
 * - backup created, status not written: the tick is decided again, the backup found by name and adopted;
 * - Replace: old backups deleted, new one not created: the next reconcile creates it (the old ones are
 *   gone or terminating, so they no longer count as active);
 * - prune: data deleted, QdrantBackup not: the same prune is planned again and deleting data is idempotent.
 *
 * Object Lock (#15): a backup whose status.objectLock.retainUntil is ahead is not pruned (plan.ts says so
 * as `locked`); one S3 still refuses (someone extended its retention, or its status names no lock) is
 * left whole (delete-data.ts asks S3 first). Either is reported once, an Event "Locked until <date>", and
 * the schedule wakes at that date (capped, lock-until.ts) to prune it then; neither makes Ready False.
 *
 * A tick's backup the apiserver refuses (422) makes the schedule Accepted=False/InvalidSpec at its
 * generation, naming our field (shared/invalid-child.ts), and nothing is retried until the spec changes
 * (childRefused). Crash window: the status write lost, the next reconcile is refused once more.
 * LastBackupSucceeded (last-backup.ts) says how the newest finished backup ended; Ready stays about the
 * schedule itself.
 */
import { crashWindow } from "../../crash-windows.ts";
import type { Registry } from "prom-client";
import { Counter } from "prom-client";
import { prepareValidators } from "../../api/validate.ts";
import { lockRequeueMs } from "../../backup/retention/lock-until.ts";
import { isBackupLocked, isOperatorError } from "../../errors.ts";
import { toKubeTime } from "../../runtime/conditions.ts";
import { Controller, DONE, requeueAfter } from "../../runtime/controller.ts";
import { isAlreadyExists, isNotFound } from "../../runtime/errors.ts";
import { enqueueObject, enqueueOwner, generationChanged, resourceVersionChanged } from "../../runtime/handlers.ts";
import type { Informer } from "../../runtime/informer.ts";
import { byControllerUid, CONTROLLER_UID_INDEX, namespacedValue } from "../../runtime/indexers.ts";
import { keyToString, stringKeyOf, type ObjectKey } from "../../runtime/resource.ts";
import { GROUP } from "../../api/group.ts";
import { QDRANT_BACKUP_SCHEDULES, QDRANT_BACKUPS } from "../resources.ts";
import { withConditions, transitions, type ConditionUpdate } from "../shared/conditions.ts";
import type { OperatorContext } from "../shared/context.ts";
import { describeInvalidChild } from "../shared/invalid-child.ts";
import { lastBackupCondition, lastBackupEvent, newestFinished } from "./last-backup.ts";
import { BACKUP_FIELDS, checkScheduleSpec, childRefused, ownedBy, planScheduleRetention, planTick, summarizeBackups, type SpecCheck, type TickPlan } from "./plan.ts";
import { ScheduleMetrics } from "./metrics.ts";
import { s3PruneBackupData, type PruneBackupData } from "./prune-data.ts";
import { mayBeLatestPick, protectionInputsChanged, schedulesAffectedBy } from "./protection.ts";
import {
  BACKUP_ID_INDEX,
  byBackupId,
  byBackupRef,
  byLatestNamespace,
  byReferencedId,
  RESTORE_BACKUP_ID_INDEX,
  RESTORE_BACKUP_REF_INDEX,
  RESTORE_LATEST_INDEX,
} from "./indexes.ts";
import { SCHEDULED_TIME_ANNOTATION } from "../../api/labels.ts";
import { HISTORY_LIMIT, type RestoreObject, type ScheduledBackupObject, type ScheduleObject } from "./types.ts";

export interface BackupScheduleInformers {
  schedules: Informer<ScheduleObject>;
  backups: Informer<ScheduledBackupObject>;
  restores: Informer<RestoreObject>;
}

export interface BackupScheduleOptions {
  /** Deletes a pruned backup's data from the bucket; S3 through the backup's location by default. */
  pruneBackupData?: PruneBackupData;
  /** Where the pruned-backups counter is registered (the manager's registry). */
  registry?: Registry;
}

/** After a failed prune, try again this soon (or at the next tick, whichever is first). */
const PRUNE_RETRY_MS = 60_000;


export function backupScheduleController(ctx: OperatorContext, informers: BackupScheduleInformers, opts: BackupScheduleOptions = {}): Controller {
  const pruneData = opts.pruneBackupData ?? s3PruneBackupData(ctx);
  const pruned = new Counter({
    name: "qdrant_operator_backups_pruned_total",
    help: "QdrantBackups (and their data) deleted by a schedule's retention.",
    labelNames: ["namespace", "schedule"],
    registers: opts.registry ? [opts.registry] : [],
  });
  const scheduleMetrics = new ScheduleMetrics(opts.registry);
  prepareValidators("QdrantBackupSchedule");

  const controller = new Controller({
    name: "qdrantbackupschedules",
    logger: ctx.logger,
    workers: ctx.workers,
    clock: ctx.clock,
    async reconcile(key, { log }) {
      const schedule = informers.schedules.cache.get(key);
      // Deleted, or being deleted: its backups go with it (garbage collector); nothing to schedule.
      if (!schedule || schedule.metadata?.deletionTimestamp !== undefined) {
        heldReported.delete(keyToString(key));
        scheduleMetrics.forget(key.namespace, key.name);
        return DONE;
      }
      const now = ctx.clock.now();
      const generation = schedule.metadata?.generation;
      const current = schedule.status?.conditions;
      const event = (type: "Normal" | "Warning", reason: string, action: string, note: string, related?: ScheduledBackupObject) =>
        ctx.events.event({ regarding: schedule, type, reason, action, note, ...(related ? { related } : {}) });

      /**
       * Accepted=False: no ticks until the spec changes (the watch wakes on a new generation). Ready says
       * the schedule cannot create its backups, with no next tick (the status writer removes the field).
       */
      const invalid = async (message: string, ready: string): Promise<typeof DONE> => {
        scheduleMetrics.forget(key.namespace, key.name);
        if (transitions(current, "Ready", "False", "InvalidSpec")) {
          event("Warning", "InvalidSpec", "Validate", message);
          log.info({ message }, "Spec is invalid");
        }
        const conditions = withConditions(
          current,
          generation,
          now,
          { type: "Accepted", status: "False", reason: "InvalidSpec", message },
          { type: "Ready", status: "False", reason: "InvalidSpec", message: ready },
        );
        const { nextScheduleTime: _none, ...rest } = schedule.status ?? {};
        await ctx.status.updateStatusIfChanged(QDRANT_BACKUP_SCHEDULES, schedule, { ...rest, observedGeneration: generation, conditions });
        return DONE;
      };

      const spec = checkedSpec(schedule);
      if (!spec.ok) return invalid(spec.message, spec.message);
      // The apiserver refused this generation's backup (a 422 checkScheduleSpec missed): the same spec
      // builds the same refused backup, so nothing is retried until the spec changes.
      if (childRefused(schedule)) return DONE;

      const namespace = key.namespace;
      const uid = schedule.metadata?.uid;
      const mine = uid ? informers.backups.cache.byIndex(CONTROLLER_UID_INDEX, uid).filter((b) => ownedBy(b, schedule)) : [];
      const plan = planTick(schedule, spec.parsed, { owned: mine, named: (name) => informers.backups.cache.get({ namespace, name }) }, now);
      const owned = new Map(mine.map((b) => [b.metadata?.name ?? "", b]));
      const acted = await carryOut(plan, schedule, namespace, owned, event, log);
      // The tick is not recorded (lastScheduleTime): once the spec is fixed, it is caught up if still in time.
      if (acted.refused !== undefined) return invalid(acted.refused, `Cannot create its QdrantBackups: ${acted.refused}; fix the spec, and the next tick creates one.`);

      // Retention over what exists after this tick's actions, with the restores that name its backups
      // (from any watched namespace: one elsewhere may name a backup of ours by its globally unique id).
      const { restores, namespaceBackups } = protectionInputs(namespace, [...owned.values()]);
      const retention = planScheduleRetention(schedule, [...owned.values()], restores, now, namespaceBackups);
      const lockedNow = retention.locked.map((l) => ({ name: l.name, note: l.message }));
      let lockWake = Math.min(Infinity, ...retention.locked.map((l) => now.getTime() + lockRequeueMs(l.until, now)));
      let prunedNow = 0;
      let deletedObjects = 0;
      let pruneFailure: string | undefined;
      for (const p of retention.prune) {
        const backup = owned.get(p.name);
        if (!backup) continue;
        try {
          const data = await pruneData(backup);
          await deleteBackup({ namespace, name: p.name });
          deletedObjects += data.deletedObjects;
        } catch (err) {
          if (isBackupLocked(err)) {
            // S3 keeps it (whatever its status said): not a failure, pruned after the date.
            lockedNow.push({ name: p.name, note: ctx.redactor.scrub(err.message) });
            lockWake = Math.min(lockWake, now.getTime() + lockRequeueMs(err.retainUntil, now));
            continue;
          }
          if (!isOperatorError(err)) throw err;
          pruneFailure = `could not prune ${p.name}: ${ctx.redactor.scrub(err.message)}`;
          event("Warning", "PruneFailed", "Prune", pruneFailure, backup);
          break;
        }
        owned.delete(p.name);
        prunedNow++;
        pruned.inc({ namespace, schedule: key.name });
        event("Normal", "Pruned", "Prune", `Pruned QdrantBackup ${p.name} and its data: ${p.reason}.`, backup);
        log.info({ backup: p.name, reason: p.reason, deletedObjects }, "Pruned QdrantBackup");
      }
      reportHeld(keyToString(key), retention.held, lockedNow, owned, event, log);

      const summary = summarizeBackups([...owned.values()], HISTORY_LIMIT);
      const suspended = schedule.spec.suspend === true;
      const next = plan.decision.requeueAt;
      if (suspended) scheduleMetrics.forget(namespace, key.name);
      else scheduleMetrics.observeScheduled(namespace, key.name, spec.parsed, next);
      const ready: ConditionUpdate = pruneFailure
        ? { type: "Ready", status: "False", reason: "PruneFailed", message: `${pruneFailure}; next backup at ${toKubeTime(next)}` }
        : suspended
          ? { type: "Ready", status: "True", reason: "Suspended", message: "Suspended: no new backups are created; set spec.suspend to false to resume." }
          : { type: "Ready", status: "True", reason: "Scheduled", message: `Next backup at ${toKubeTime(next)}.` };
      const previousPrune = schedule.status?.prune;
      const prune = {
        ...(prunedNow > 0 ? { lastPruneTime: toKubeTime(now) } : previousPrune?.lastPruneTime ? { lastPruneTime: previousPrune.lastPruneTime } : {}),
        ...(retention.wouldPrune !== undefined ? { wouldPrune: retention.wouldPrune } : {}),
        prunedTotal: (previousPrune?.prunedTotal ?? 0) + prunedNow,
      };
      const lastBackup = lastBackupCondition([...owned.values()]);
      const lastBackupNews = lastBackupEvent(current, lastBackup);
      if (lastBackupNews) event(lastBackupNews.type, lastBackupNews.reason, "Schedule", lastBackupNews.note, newestFinished([...owned.values()]));
      const lastScheduleTime = plan.recordLastScheduleTime ? toKubeTime(plan.recordLastScheduleTime) : schedule.status?.lastScheduleTime;
      const status = {
        ...schedule.status,
        observedGeneration: generation,
        conditions: withConditions(current, generation, now, { type: "Accepted", status: "True", reason: "Validated", message: "The spec is valid." }, ready, ...(lastBackup ? [lastBackup] : [])),
        ...(lastScheduleTime !== undefined ? { lastScheduleTime } : {}),
        nextScheduleTime: toKubeTime(next),
        ...(summary.lastSuccessfulTime !== undefined ? { lastSuccessfulTime: summary.lastSuccessfulTime } : {}),
        active: summary.active,
        history: summary.history,
        prune,
      };
      await ctx.status.updateStatusIfChanged(QDRANT_BACKUP_SCHEDULES, schedule, status);
      // Exactly at the next tick, or sooner when a backup leaves maxAge before it: no polling. (The
      // clock chains delays beyond Node's ~24.8-day timer limit, so a yearly tick waits a year.)
      const wake = Math.min(next.getTime(), retention.nextChange?.getTime() ?? Infinity, lockWake);
      const untilWake = Math.max(1, wake - now.getTime());
      return requeueAfter(pruneFailure ? Math.min(untilWake, PRUNE_RETRY_MS) : untilWake);
    },
  });

  /**
   * checkScheduleSpec's answer per spec object: the spec of a cached schedule is never changed in place
   * (the cache's objects are read-only; every change, a status write too, arrives as a new object), and
   * the check reads nothing else, so it runs once per cached version instead of on every reconcile (it
   * compiles the cron expression and builds Intl formatters for the time zone: ~60 % of a no-op
   * reconcile's CPU). Weak: an old version's answer goes with its object.
   */
  const specChecks = new WeakMap<object, SpecCheck>();
  function checkedSpec(schedule: ScheduleObject): SpecCheck {
    const spec: unknown = schedule.spec;
    if (typeof spec !== "object" || spec === null) return checkScheduleSpec(schedule);
    let check = specChecks.get(spec);
    if (check === undefined) specChecks.set(spec, (check = checkScheduleSpec(schedule)));
    return check;
  }

  /**
   * Says once (per manager process, and again when the reasons change) which backups retention would
   * prune but a QdrantRestore holds, and which restore: without it a backup outliving its retention is a
   * mystery (status has no field for it). Not every reconcile: the Event would only count up. The same
   * for backups S3 Object Lock keeps (`locked`, reason Locked, "Locked until <date>").
   */
  const heldReported = new Map<string, Set<string>>();
  function reportHeld(
    scheduleKey: string,
    held: ReadonlyArray<{ name: string; reasons: string[] }>,
    locked: ReadonlyArray<{ name: string; note: string }>,
    owned: Map<string, ScheduledBackupObject>,
    event: (type: "Normal" | "Warning", reason: string, action: string, note: string, related?: ScheduledBackupObject) => void,
    log: { info: (o: object, m: string) => void },
  ): void {
    const before = heldReported.get(scheduleKey) ?? new Set<string>();
    const now = new Set<string>();
    for (const h of held) {
      const note = `Kept QdrantBackup ${h.name}, which retention would prune: ${h.reasons.join("; ")}.`;
      now.add(note);
      if (before.has(note)) continue;
      event("Normal", "Protected", "Prune", note, owned.get(h.name));
      log.info({ backup: h.name, reasons: h.reasons }, "QdrantBackup kept: a QdrantRestore protects it");
    }
    for (const l of locked) {
      const note = `Kept QdrantBackup ${l.name}, which retention would prune: ${l.note}; it is pruned after that date.`;
      now.add(note);
      if (before.has(note)) continue;
      event("Normal", "Locked", "Prune", note, owned.get(l.name));
      log.info({ backup: l.name, lock: l.note }, "QdrantBackup kept: S3 Object Lock retains it");
    }
    if (now.size > 0) heldReported.set(scheduleKey, now);
    else heldReported.delete(scheduleKey);
  }

  async function deleteBackup(key: ObjectKey): Promise<void> {
    try {
      await ctx.client.delete(QDRANT_BACKUPS, key);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /**
   * Acts on a TickPlan: Replace's deletions, the create (AlreadyExists → adopt or skip), and its Events.
   * `refused`: the apiserver refused the tick's backup as invalid (422), in our fields' words.
   */
  async function carryOut(
    plan: TickPlan,
    schedule: ScheduleObject,
    namespace: string,
    owned: Map<string, ScheduledBackupObject>,
    event: (type: "Normal" | "Warning", reason: string, action: string, note: string, related?: ScheduledBackupObject) => void,
    log: { info: (o: object, m: string) => void },
  ): Promise<{ refused?: string }> {
    // A catch-up's MissedRuns says "created one catch-up backup": said by the reconcile that created it
    // (below), not when the create was refused, nor again by one that adopts it (its own status write
    // not yet in the cache).
    if (plan.missedRuns && !plan.create && !plan.adopt) event("Warning", "MissedRuns", "Schedule", plan.missedRuns);
    if (plan.foreign) event("Warning", "BackupNameTaken", "Schedule", foreignNote(plan.foreign));
    if (plan.blockedBy.length > 0) {
      event("Normal", "Skipped", "Schedule", `concurrencyPolicy Forbid: ${plan.blockedBy.join(", ")} still running; the tick runs when ${plan.blockedBy.length === 1 ? "it ends" : "they end"}, if within startingDeadlineSeconds.`);
    }
    for (const name of plan.deleteActive) {
      await deleteBackup({ namespace, name });
      event("Normal", "Replaced", "Schedule", `concurrencyPolicy Replace: deleted running QdrantBackup ${name} to start the next one.`, owned.get(name));
      owned.delete(name);
    }
    if (!plan.create) return {};
    const name = plan.create.metadata?.name ?? "";
    try {
      const created = await ctx.client.create(QDRANT_BACKUPS, plan.create);
      owned.set(name, created);
      log.info({ backup: name }, "Created QdrantBackup");
      // Crash window schedule.backup-created-before-status: the tick's backup exists, the status does not count it.
      crashWindow("schedule.backup-created-before-status");
      event("Normal", "Created", "Schedule", `Created QdrantBackup ${name} for ${plan.create.metadata?.annotations?.[SCHEDULED_TIME_ANNOTATION] ?? ""}.`, created);
      if (plan.missedRuns) event("Warning", "MissedRuns", "Schedule", plan.missedRuns);
    } catch (err) {
      // Refused as invalid (what checkScheduleSpec missed): every tick would build the same refused backup.
      const refused = describeInvalidChild(err, `QdrantBackup ${name}`, BACKUP_FIELDS);
      if (refused !== undefined) {
        log.info({ backup: name, message: refused }, "QdrantBackup refused as invalid");
        return { refused };
      }
      if (!isAlreadyExists(err)) throw err;
      // The cache had not seen it yet: ours (adopt, as planTick would have) or someone else's (skip).
      const existing = await ctx.client.get<ScheduledBackupObject>(QDRANT_BACKUPS, { namespace, name });
      if (ownedBy(existing, schedule)) owned.set(name, existing);
      else event("Warning", "BackupNameTaken", "Schedule", foreignNote(name));
    }
    return {};
  }

  /**
   * The restores that may protect one of `owned` (by its name, by its id, or through `latest` in its
   * namespace), and the backups protection must see: the owned ones, or, when a `latest` restore is in
   * the namespace and one of ours could be its pick, all of the namespace's (latest may pick a newer
   * manual backup over ours).
   */
  function protectionInputs(namespace: string, owned: readonly ScheduledBackupObject[]): { restores: RestoreObject[]; namespaceBackups: readonly ScheduledBackupObject[] } {
    const restores = new Map<string, RestoreObject>();
    const add = (rs: readonly RestoreObject[]) => {
      for (const r of rs) restores.set(stringKeyOf(r), r);
    };
    for (const b of owned) {
      add(informers.restores.cache.byIndex(RESTORE_BACKUP_REF_INDEX, namespacedValue(namespace, b.metadata?.name ?? "")));
      for (const id of byBackupId(b)) add(informers.restores.cache.byIndex(RESTORE_BACKUP_ID_INDEX, id));
    }
    const latest = informers.restores.cache.byIndex(RESTORE_LATEST_INDEX, namespace);
    add(latest);
    // Latest picks only a complete backup: with none of ours complete, the namespace's are not needed.
    return { restores: [...restores.values()], namespaceBackups: latest.length > 0 && owned.some(mayBeLatestPick) ? informers.backups.cache.list(namespace) : owned };
  }

  informers.backups.addIndex(CONTROLLER_UID_INDEX, byControllerUid);
  informers.backups.addIndex(BACKUP_ID_INDEX, byBackupId);
  informers.restores.addIndex(RESTORE_BACKUP_REF_INDEX, byBackupRef);
  informers.restores.addIndex(RESTORE_BACKUP_ID_INDEX, byReferencedId);
  informers.restores.addIndex(RESTORE_LATEST_INDEX, byLatestNamespace);
  controller.watch(informers.schedules, (enqueue) => enqueueObject(enqueue, generationChanged));
  // A backup's phase changing (Running → Succeeded) changes active, history and what retention may prune.
  controller.watch(informers.backups, (enqueue) => enqueueOwner(enqueue, { group: GROUP, kind: "QdrantBackupSchedule" }, { predicate: resourceVersionChanged }));
  // A restore naming a backup protects it; one that stops naming it (or is being deleted) releases it.
  // Updates that change nothing protection reads (condition writes) wake nobody.
  controller.watch(informers.restores, (enqueue) => ({
    onAdd: (r) => enqueueSchedulesOf(enqueue, r),
    onUpdate: (old, r) => {
      if (!protectionInputsChanged(old, r)) return;
      enqueueSchedulesOf(enqueue, old);
      enqueueSchedulesOf(enqueue, r);
    },
    onDelete: (r) => enqueueSchedulesOf(enqueue, r),
  }));

  /** Wakes the schedules owning the backups the restore names (by name or by id, in any watched namespace), and for latest every schedule of its namespace. */
  function enqueueSchedulesOf(enqueue: (key: string) => void, restore: RestoreObject): void {
    const named = byReferencedId(restore).flatMap((id) => informers.backups.cache.byIndex(BACKUP_ID_INDEX, id));
    const ref = restore.spec?.source?.backupRef?.name;
    const byRef = ref ? informers.backups.cache.get({ namespace: restore.metadata?.namespace ?? "", name: ref }) : undefined;
    const affected = schedulesAffectedBy(restore, byRef ? [...named, byRef] : named);
    for (const key of affected.schedules) enqueue(key);
    for (const namespace of affected.allSchedulesIn) {
      for (const s of informers.schedules.cache.list(namespace)) enqueue(`${namespace}/${s.metadata?.name ?? ""}`);
    }
  }

  return controller;
}

function foreignNote(name: string): string {
  return `QdrantBackup ${name} already exists and is not this schedule's (no controller reference to it); this tick is skipped. Rename or delete that QdrantBackup.`;
}
