/**
 * The QdrantBackupSchedule controller's decisions as pure functions of (schedule, the namespace's
 * QdrantBackups, the watched namespaces' QdrantRestores, now): what to create, delete, adopt, prune and
 * report. The reconcile only reads the world, calls these and carries out the answer, so every case
 * (Forbid/Replace/Allow, missed runs, suspend, deadlines, adopt vs foreign, retention, which restores
 * protect which backups) is a table test without a cluster.
 *
 * The name is the lock (backupNameFor): the same schedule and tick always give the same QdrantBackup
 * name, so the crash windows close themselves —
 * - backup created but status (lastScheduleTime) not written: the next reconcile decides the same tick
 *   again, finds the backup by its name and adopts it (our uid in its controller reference) instead of
 *   creating a second one;
 * - two replicas (a failover mid-reconcile) racing on one tick: the apiserver lets one create win, the
 *   other gets AlreadyExists and adopts.
 */
import { boundedLabel } from "../../api/names.ts";
import type { QdrantBackupScheduleSpec } from "../../api/v1alpha1/backup-schedule.ts";
import { describeProblems, validateSpec } from "../../api/validate.ts";
import { latestRetainUntil, lockedUntilMessage } from "../../backup/retention/lock-until.ts";
import { checkRetention, planRetention, type RetentionCandidate } from "../../backup/retention/plan-retention.ts";
import { backupNameFor } from "../../backup/schedule/backup-name.ts";
import { decideConcurrency } from "../../backup/schedule/concurrency.ts";
import { decideTick, type TickDecision } from "../../backup/schedule/decide-tick.ts";
import { parseSchedule, type ParsedSchedule } from "../../backup/schedule/parse-schedule.ts";
import { toKubeTime } from "../../runtime/conditions.ts";
import { controllerOf, controllerReference } from "../../runtime/resource.ts";
import { checkJobSettings, checkLabels, describeChildProblems } from "../shared/child-validation.ts";
import type { FieldMap } from "../shared/invalid-child.ts";
import { mayBeLatestPick, protectedBackups } from "./protection.ts";
import { SCHEDULE_LABEL, SCHEDULED_TIME_ANNOTATION } from "../../api/labels.ts";
import { type RestoreObject, type ScheduledBackupObject, type ScheduleObject } from "./types.ts";

export type SpecCheck = { ok: true; parsed: ParsedSchedule } | { ok: false; reason: "InvalidSpec"; message: string };

/**
 * The schema (ajv: objects stored before a schema change reach us too), then what the schema cannot say:
 * the cron expression and time zone (croner, Intl) and retention's maxAge. Every message starts with the
 * field and says what to write instead.
 */
export function checkScheduleSpec(schedule: ScheduleObject): SpecCheck {
  const spec = schedule.spec as Partial<QdrantBackupScheduleSpec> | undefined;
  // parseSchedule's messages say more than the schema's pattern ("6 fields, not 5"), so they come first.
  const parsed = typeof spec?.schedule === "string" ? parseSchedule(spec.schedule, typeof spec.timeZone === "string" ? spec.timeZone : undefined) : undefined;
  if (parsed?.ok === false) return { ok: false, reason: "InvalidSpec", message: `${parsed.problem.field}: ${parsed.problem.message}` };
  const problems = validateSpec("QdrantBackupSchedule", schedule.spec);
  if (problems.length > 0 || parsed === undefined) return { ok: false, reason: "InvalidSpec", message: describeProblems(problems) };
  const retention = checkRetention(schedule.spec.retention);
  if (retention.length > 0) return { ok: false, reason: "InvalidSpec", message: retention.map((p) => `${p.field}: ${p.message}`).join("; ") };
  // What the apiserver would refuse in each tick's QdrantBackup (its labels) or that backup's Job.
  const child = [...checkLabels(schedule.spec.backupLabels, "spec.backupLabels"), ...checkJobSettings(schedule.spec.job)];
  if (child.length > 0) return { ok: false, reason: "InvalidSpec", message: describeChildProblems(child) };
  return { ok: true, parsed: parsed.schedule };
}

/**
 * Which of the schedule's fields produced each field of a tick's QdrantBackup (desiredBackup), for a 422
 * on its create: the labels are spec.backupLabels, the spec is copied field for field.
 */
export const BACKUP_FIELDS: FieldMap = [
  ["metadata.labels", "spec.backupLabels"],
  ["spec", "spec"],
];

/**
 * True when this generation's Accepted=False came from the apiserver refusing a tick's backup (called
 * once checkScheduleSpec passed: the spec's own checks pass, yet the schedule was found invalid at this
 * very generation). The same spec builds the same refused backup, so the reconcile does nothing until
 * the spec changes (a new generation).
 */
export function childRefused(schedule: ScheduleObject): boolean {
  const accepted = schedule.status?.conditions?.find((c) => c.type === "Accepted");
  return accepted?.status === "False" && accepted.reason === "InvalidSpec" && accepted.observedGeneration === schedule.metadata?.generation;
}

/** True when `backup`'s controller reference is this schedule (by uid: a re-created same-named schedule is another one). */
export function ownedBy(backup: ScheduledBackupObject, schedule: ScheduleObject): boolean {
  const ref = controllerOf(backup);
  return ref !== undefined && ref.kind === "QdrantBackupSchedule" && ref.uid === schedule.metadata?.uid;
}

/** Still running as far as concurrency and retention care: not finished, and not already being deleted. */
export function isActive(backup: ScheduledBackupObject): boolean {
  const phase = backup.status?.phase;
  return phase !== "Succeeded" && phase !== "Failed" && backup.metadata?.deletionTimestamp === undefined;
}

/** The schedule's name as a label value (≤ 63 characters; longer or dotted names get a hash suffix). */
export function scheduleLabelValue(name: string): string {
  return boundedLabel(name, 63);
}

/** The QdrantBackup of one tick: the schedule's backup settings, owned by the schedule. */
export function desiredBackup(schedule: ScheduleObject, tick: Date): ScheduledBackupObject {
  const s = schedule.spec;
  const name = schedule.metadata?.name ?? "";
  return {
    apiVersion: schedule.apiVersion ?? "qdrant-operator.dev/v1alpha1",
    kind: "QdrantBackup",
    metadata: {
      name: backupNameFor(name, tick),
      namespace: schedule.metadata?.namespace ?? "",
      labels: { ...s.backupLabels, [SCHEDULE_LABEL]: scheduleLabelValue(name) },
      annotations: { [SCHEDULED_TIME_ANNOTATION]: toKubeTime(tick) },
      ownerReferences: [controllerReference(schedule, true)],
    },
    spec: {
      connectionRef: s.connectionRef,
      locationRef: s.locationRef,
      ...(s.mode !== undefined ? { mode: s.mode } : {}),
      ...(s.collections !== undefined ? { collections: s.collections } : {}),
      ...(s.deletionPolicy !== undefined ? { deletionPolicy: s.deletionPolicy } : {}),
      ...(s.job !== undefined ? { job: s.job } : {}),
    },
  };
}

export interface TickPlan {
  decision: TickDecision;
  /** The backup to create now (after deleting `deleteActive`). */
  create?: ScheduledBackupObject;
  /** A backup of this tick already exists and is ours (an earlier reconcile's status write was lost). */
  adopt?: string;
  /** A backup of this tick's name exists but belongs to someone else: skip the tick, warn once. */
  foreign?: string;
  /** Replace: running backups to delete before creating. */
  deleteActive: string[];
  /** Forbid: the running backups that hold the tick back (nothing is recorded; it runs when they end). */
  blockedBy: string[];
  /** Write this as status.lastScheduleTime (the tick was acted on: created, adopted, skipped or missed). */
  recordLastScheduleTime?: Date;
  /** The "missed N runs" Warning, once per catch-up (the tick is recorded with it, so it is not repeated). */
  missedRuns?: string;
}

/**
 * The QdrantBackups planTick reads (the cache's view): the schedule's own (others in `owned` are
 * ignored), and the one holding a given name, ours or foreign. Lookups, so that a tick costs what the
 * schedule owns, not what its namespace holds.
 */
export interface TickBackups {
  owned: readonly ScheduledBackupObject[];
  named(name: string): ScheduledBackupObject | undefined;
}

/** TickBackups over a plain list of the namespace's backups (tests, callers without a cache). */
export function tickBackups(backups: readonly ScheduledBackupObject[]): TickBackups {
  return { owned: backups, named: (name) => backups.find((b) => b.metadata?.name === name) };
}

/** What this reconcile does about ticks; foreign backups matter only when one holds the name of the tick's backup. */
export function planTick(schedule: ScheduleObject, parsed: ParsedSchedule, backups: TickBackups, now: Date): TickPlan {
  const lastScheduleTime = schedule.status?.lastScheduleTime;
  const decision = decideTick({
    parsed,
    now,
    creationTime: new Date(schedule.metadata?.creationTimestamp ?? now.toISOString()),
    ...(lastScheduleTime !== undefined ? { lastScheduleTime: new Date(lastScheduleTime) } : {}),
    ...(schedule.spec.startingDeadlineSeconds !== undefined ? { startingDeadlineSeconds: schedule.spec.startingDeadlineSeconds } : {}),
    suspend: schedule.spec.suspend === true,
  });
  const plan: TickPlan = { decision, deleteActive: [], blockedBy: [] };
  const tick = decision.scheduledTime;
  if (tick === undefined) return plan;
  const missed = missedMessage(decision);

  if (decision.action !== "create") {
    // MissedDeadline: nothing runs; record the tick so the miss is reported once.
    return { ...plan, recordLastScheduleTime: tick, ...(missed ? { missedRuns: missed } : {}) };
  }
  const name = backupNameFor(schedule.metadata?.name ?? "", tick);
  const existing = backups.named(name);
  if (existing !== undefined) {
    const acted = { ...plan, recordLastScheduleTime: tick, ...(missed ? { missedRuns: missed } : {}) };
    return ownedBy(existing, schedule) ? { ...acted, adopt: name } : { ...acted, foreign: name };
  }
  const active = backups.owned
    .filter((b) => ownedBy(b, schedule) && isActive(b))
    .map((b) => b.metadata?.name ?? "")
    .sort();
  const concurrency = decideConcurrency(schedule.spec.concurrencyPolicy ?? "Forbid", active, name);
  if (!concurrency.proceed) return { ...plan, blockedBy: active };
  return {
    ...plan,
    create: desiredBackup(schedule, tick),
    deleteActive: concurrency.deleteActive,
    recordLastScheduleTime: tick,
    ...(missed ? { missedRuns: missed } : {}),
  };
}

/** The Warning for ticks that got no backup (missedCount counts only those: never the catch-up run itself). */
function missedMessage(d: TickDecision): string | undefined {
  if (d.missedCount === 0) return undefined;
  const n = `${d.missedCountIsLowerBound ? "at least " : ""}${d.missedCount} run${d.missedCount === 1 && !d.missedCountIsLowerBound ? "" : "s"}`;
  const tick = d.scheduledTime?.toISOString() ?? "";
  return d.reason === "MissedDeadline"
    ? `missed ${n}: the latest, ${tick}, is older than startingDeadlineSeconds, so no catch-up backup was created`
    : `missed ${n} (the operator was down or the schedule suspended); created one catch-up backup for ${tick}`;
}

export interface RetentionDecision {
  /** Backups to prune now (empty with dryRun). */
  prune: Array<{ name: string; reason: string }>;
  /** dryRun: what would be pruned; otherwise undefined. */
  wouldPrune?: string[];
  /**
   * Backups the rules would prune but a QdrantRestore holds (their only keep reasons are "protected: …"),
   * with those reasons: reported so a user can see why a backup outlives its retention. Sorted by name.
   */
  held: Array<{ name: string; reasons: string[] }>;
  /**
   * Backups the rules would prune but S3 Object Lock still retains (status.objectLock.retainUntil after
   * now; their only other keep reasons, if any, are "protected: …"): reported "Locked until <date>" and
   * pruned by a plan after that date (nextChange includes it). Sorted by name.
   */
  locked: Array<{ name: string; until: Date; message: string }>;
  /** When time alone next changes the decision (a backup leaving maxAge, an Object Lock ending). */
  nextChange?: Date;
}

/**
 * Retention over this schedule's own backups (ones being deleted are out of the picture: they go anyway).
 * planRetention never prunes the newest successful, a running or a protected backup; the periods are the
 * schedule's time zone's. `restores` are every watched namespace's QdrantRestores and `namespaceBackups`
 * all QdrantBackups of the schedule's namespace (see protection.ts for which restore protects what).
 */
export function planScheduleRetention(
  schedule: ScheduleObject,
  owned: readonly ScheduledBackupObject[],
  restores: readonly RestoreObject[],
  now: Date,
  namespaceBackups: readonly ScheduledBackupObject[] = owned,
): RetentionDecision {
  const retention = schedule.spec.retention;
  // The schedule's own backups are the namespace's too, even one created a moment ago that the cache has not seen.
  const inNamespace = new Map(namespaceBackups.map((b) => [b.metadata?.name ?? "", b]));
  for (const b of owned) if (!inNamespace.has(b.metadata?.name ?? "")) inNamespace.set(b.metadata?.name ?? "", b);
  const protect = protectedBackups([...inNamespace.values()], restores, { latest: owned.some(mayBeLatestPick) });
  const candidates: RetentionCandidate[] = owned
    .filter((b) => b.metadata?.deletionTimestamp === undefined)
    .map((b) => {
      const name = b.metadata?.name ?? "";
      const by = protect.get(name);
      return {
        name,
        phase: b.status?.phase ?? "Pending",
        ...(b.status?.startTime !== undefined ? { startTime: b.status.startTime } : {}),
        ...(b.status?.completionTime !== undefined ? { completionTime: b.status.completionTime } : {}),
        ...(by !== undefined ? { protected: true, protectedBy: by } : {}),
        ...(b.status?.objectLock?.retainUntil !== undefined ? { lockedUntil: b.status.objectLock.retainUntil } : {}),
      };
    });
  const plan = planRetention(candidates, retention, now, schedule.spec.timeZone || "UTC");
  const held = plan.keep
    .filter((k) => k.reasons.length > 0 && k.reasons.every((r) => r.startsWith("protected: ")))
    .map((k) => ({ name: k.name, reasons: k.reasons.map((r) => r.slice("protected: ".length)) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const lockOf = new Map(candidates.map((c) => [c.name, c.lockedUntil]));
  const locked = plan.keep
    .filter((k) => k.reasons.some(isLockReason) && k.reasons.every((r) => isLockReason(r) || r.startsWith("protected: ")))
    .flatMap((k) => {
      const until = latestRetainUntil([lockOf.get(k.name)]);
      return until === undefined ? [] : [{ name: k.name, until, message: lockedUntilMessage(until) }];
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const later = plan.nextChange ? { nextChange: plan.nextChange } : {};
  if (retention?.dryRun === true) return { prune: [], wouldPrune: plan.prune.map((p) => p.name), held, locked, ...later };
  return { prune: plan.prune, held, locked, ...later };
}

/** planRetention's keep reason for a backup under Object Lock. */
function isLockReason(reason: string): boolean {
  return reason.startsWith("object lock until ");
}

export type HistoryEntry = NonNullable<NonNullable<ScheduleObject["status"]>["history"]>[number];

/** The time a backup is for: the scheduled-time annotation, else the creation time. */
export function scheduledTimeOf(b: ScheduledBackupObject): string | undefined {
  return b.metadata?.annotations?.[SCHEDULED_TIME_ANNOTATION] ?? b.metadata?.creationTimestamp;
}

/** status.active, lastSuccessfulTime and history from the schedule's own backups (pure; sorted, so stable). */
export function summarizeBackups(owned: readonly ScheduledBackupObject[], historyLimit: number): { active: string[]; lastSuccessfulTime?: string; history: HistoryEntry[] } {
  const active = owned
    .filter(isActive)
    .map((b) => b.metadata?.name ?? "")
    .sort();
  let lastSuccessfulTime: string | undefined;
  for (const b of owned) {
    const done = b.status?.phase === "Succeeded" ? b.status.completionTime : undefined;
    if (done !== undefined && (lastSuccessfulTime === undefined || Date.parse(done) > Date.parse(lastSuccessfulTime))) lastSuccessfulTime = done;
  }
  const history: HistoryEntry[] = owned
    .filter((b) => scheduledTimeOf(b) !== undefined)
    .map((b) => ({
      name: b.metadata?.name ?? "",
      phase: b.status?.phase ?? "Pending",
      scheduledTime: scheduledTimeOf(b) as string,
      ...(b.status?.completionTime !== undefined ? { completionTime: b.status.completionTime } : {}),
    }))
    .sort((a, b) => Date.parse(b.scheduledTime) - Date.parse(a.scheduledTime) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, historyLimit);
  return { active, ...(lastSuccessfulTime !== undefined ? { lastSuccessfulTime } : {}), history };
}
