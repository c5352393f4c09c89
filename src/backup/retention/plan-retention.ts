/**
 * Grandfather-father-son retention as a pure function: given a schedule's backups, its retention and the
 * time, which backups to keep (and why) and which to prune (and why). The controller deletes what
 * `prune` lists (manifest first, then objects, then the QdrantBackup) or, with dryRun, only reports it.
 *
 * Rules, in the words users know from restic and borg:
 * - Only Succeeded backups fill slots. keepLast N keeps the N newest. keepHourly/Daily/Weekly/Monthly/
 *   Yearly N keep the newest backup of each of the N most recent periods that have a backup (periods
 *   without one do not use up a slot), periods read in the schedule's time zone; weeks are ISO weeks.
 * - A period rule that still has a slot left when it reaches the oldest successful backup keeps that one
 *   too, even though a newer backup of its period is kept already: a young history keeps its first
 *   backup instead of only the newest of each period. This is restic's `forget` since 0.16 (PR #4366),
 *   which K8up runs; the kept reason says "(oldest backup, slots left)". keepLast needs no such rule
 *   (with a slot left it keeps the oldest anyway), and maxAge has none (restic's --keep-within neither).
 *   Pruning is stable under it: once pruned backups are gone, the next plan keeps the same ones (a rule
 *   that reaches the new oldest with a slot left reached the old oldest with one, and kept it).
 * - maxAge keeps successful backups no older than it; older ones go unless a keep rule keeps them.
 *   Rules add up: a backup is kept if any rule keeps it.
 * - Failed backups never take a slot, so they never push a good one out; the failedBackupsToKeep newest
 *   (default 3, the CRD's default) are kept for inspection and older ones pruned.
 * - Never pruned: the newest successful backup, Running and Pending backups, protected backups (a
 *   QdrantRestore restores them; each keep reason names the restore), backups under S3 Object Lock until their retain-until date (the delete would be
 *   refused anyway), and successful backups with no time at all (nothing to judge them by).
 * - No rules at all (no retention, or no keep count above zero, no maxAge and no failedBackupsToKeep):
 *   keep everything. A keep count of 0 is the same as no rule, so a typo cannot prune everything.
 *
 * A backup's time is its startTime, else its completionTime. The start is the data's point in time and
 * follows the schedule's ticks, so hourly backups of varying length still fall in distinct hours.
 * Output is sorted newest first, then by name, so equal inputs give equal plans (and equal status).
 */
import type { Retention } from "../../api/v1alpha1/backup-schedule.ts";
import { parseDuration } from "./duration.ts";
import { checkTimeZone, periodKey, type PeriodKind } from "./periods.ts";

export interface RetentionCandidate {
  name: string;
  phase: "Succeeded" | "Failed" | "Running" | "Pending";
  completionTime?: Date | string;
  startTime?: Date | string;
  /** Named by a QdrantRestore: never pruned. */
  protected?: boolean;
  /**
   * Which restores protect it and how ("QdrantRestore ns/name restores it (…)"): each becomes a keep
   * reason, so a user can see why a backup is kept. Implies protected.
   */
  protectedBy?: readonly string[];
  /** S3 Object Lock retain-until of its objects (manifest objectLock): never pruned before then. */
  lockedUntil?: Date | string;
}

export interface RetentionPlan {
  keep: Array<{ name: string; reasons: string[] }>;
  prune: Array<{ name: string; reason: string }>;
  /**
   * The first moment after `now` at which time alone changes the plan: a backup leaving maxAge, or an
   * Object Lock ending. Every other change comes with an event (a new backup, a restore), so a caller
   * that plans again then, and on events, never needs to poll. Undefined when time alone changes nothing.
   */
  nextChange?: Date;
}

export interface RetentionProblem {
  field: string;
  message: string;
}

export const DEFAULT_FAILED_BACKUPS_TO_KEEP = 3;

const PERIOD_RULES: ReadonlyArray<[PeriodKind, "keepHourly" | "keepDaily" | "keepWeekly" | "keepMonthly" | "keepYearly"]> = [
  ["hourly", "keepHourly"],
  ["daily", "keepDaily"],
  ["weekly", "keepWeekly"],
  ["monthly", "keepMonthly"],
  ["yearly", "keepYearly"],
];

/** Problems with a retention spec that the CRD's schema cannot express; empty when usable. */
export function checkRetention(retention: Retention | undefined, field = "spec.retention"): RetentionProblem[] {
  if (retention?.maxAge === undefined) return [];
  try {
    if (parseDuration(retention.maxAge) === 0) return [{ field: `${field}.maxAge`, message: "must be more than zero: 0 would prune every backup but the newest" }];
  } catch (err) {
    return [{ field: `${field}.maxAge`, message: (err as Error).message }];
  }
  return [];
}

interface Item {
  name: string;
  phase: RetentionCandidate["phase"];
  /** ms since epoch, or undefined when the backup has no usable time. */
  time: number | undefined;
  protected: boolean;
  protectedBy: readonly string[];
  lockedUntil: number | undefined;
  reasons: string[];
}

/**
 * The plan for `backups` under `retention` at `now`, periods read in `timeZone` (the schedule's; UTC by
 * default). Names must be unique. Throws a RangeError for an invalid maxAge or time zone: check the
 * spec with checkRetention (and parseSchedule) first.
 */
export function planRetention(backups: readonly RetentionCandidate[], retention: Retention | undefined, now: Date, timeZone = "UTC"): RetentionPlan {
  checkTimeZone(timeZone);
  const items = backups.map(toItem).sort(newestFirst);
  const r = retention ?? {};
  const count = (n: number | undefined) => (n !== undefined && n > 0 ? n : 0);
  const maxAgeMs = r.maxAge === undefined ? undefined : parseDuration(r.maxAge);
  const anyKeepRule = count(r.keepLast) > 0 || PERIOD_RULES.some(([, field]) => count(r[field]) > 0);
  const successRules = anyKeepRule || maxAgeMs !== undefined;

  if (!successRules && r.failedBackupsToKeep === undefined) {
    return { keep: items.map((i) => ({ name: i.name, reasons: ["no retention rules"] })), prune: [] };
  }

  for (const item of items) {
    if (item.protectedBy.length > 0) for (const by of item.protectedBy) item.reasons.push(`protected: ${by}`);
    else if (item.protected) item.reasons.push("protected: named by a QdrantRestore");
    if (item.phase === "Running" || item.phase === "Pending") item.reasons.push(`in progress (${item.phase})`);
    if (item.lockedUntil !== undefined && item.lockedUntil > now.getTime()) item.reasons.push(`object lock until ${new Date(item.lockedUntil).toISOString()}`);
  }

  const good = items.filter((i) => i.phase === "Succeeded" && i.time !== undefined);
  for (const item of items) if (item.phase === "Succeeded" && item.time === undefined) item.reasons.push("no start or completion time to judge it by");
  if (good[0] !== undefined) good[0].reasons.push("newest successful");

  if (!successRules) {
    for (const item of good) item.reasons.push("no retention rules for successful backups");
  } else {
    good.slice(0, count(r.keepLast)).forEach((item, i) => item.reasons.push(`keepLast #${i + 1}`));
    for (const [kind, field] of PERIOD_RULES) {
      const slots = count(r[field]);
      let lastKey: string | undefined;
      let used = 0;
      for (const [index, item] of good.entries()) {
        if (used === slots) break;
        const key = periodKey(kind, new Date(item.time as number), timeZone);
        // The oldest backup takes a slot the rule still has even when its period is already kept (restic ≥ 0.16).
        const oldest = index === good.length - 1;
        if (key === lastKey && !oldest) continue;
        item.reasons.push(key === lastKey ? `${field} ${key} (oldest backup, slots left)` : `${field} ${key}`);
        lastKey = key;
        used++;
      }
    }
    if (maxAgeMs !== undefined) {
      for (const item of good) if (now.getTime() - (item.time as number) <= maxAgeMs) item.reasons.push(`within maxAge ${r.maxAge}`);
    }
  }

  const failedToKeep = r.failedBackupsToKeep ?? DEFAULT_FAILED_BACKUPS_TO_KEEP;
  items
    .filter((i) => i.phase === "Failed")
    .forEach((item, i) => {
      if (i < failedToKeep) item.reasons.push(`failedBackupsToKeep #${i + 1}`);
    });

  const plan: RetentionPlan = { keep: [], prune: [] };
  for (const item of items) {
    if (item.reasons.length > 0) plan.keep.push({ name: item.name, reasons: item.reasons });
    else plan.prune.push({ name: item.name, reason: pruneReason(item, failedToKeep, r.maxAge, maxAgeMs, now) });
  }
  const changes = [
    ...(maxAgeMs !== undefined ? good.map((i) => (i.time as number) + maxAgeMs + 1) : []),
    ...items.map((i) => (i.lockedUntil !== undefined ? i.lockedUntil + 1 : Number.NaN)),
  ].filter((t) => t > now.getTime());
  if (changes.length > 0) plan.nextChange = new Date(Math.min(...changes));
  return plan;
}

function pruneReason(item: Item, failedToKeep: number, maxAge: string | undefined, maxAgeMs: number | undefined, now: Date): string {
  if (item.phase === "Failed") return `failed, and older than the ${failedToKeep} newest failed backup${failedToKeep === 1 ? "" : "s"} kept (failedBackupsToKeep)`;
  const age = now.getTime() - (item.time as number);
  if (maxAgeMs !== undefined && age > maxAgeMs) return `older than maxAge ${maxAge} and kept by no keep rule`;
  return "kept by no retention rule";
}

function toItem(b: RetentionCandidate): Item {
  return {
    name: b.name,
    phase: b.phase,
    time: instant(b.startTime) ?? instant(b.completionTime),
    protected: b.protected === true || (b.protectedBy?.length ?? 0) > 0,
    protectedBy: b.protectedBy ?? [],
    lockedUntil: instant(b.lockedUntil),
    reasons: [],
  };
}

function instant(t: Date | string | undefined): number | undefined {
  if (t === undefined) return undefined;
  const ms = (typeof t === "string" ? new Date(t) : t).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

/** Newest first; backups without a time first of all (they may be newest, and are never judged by age); then by name. */
function newestFirst(a: Item, b: Item): number {
  const ta = a.time ?? Number.POSITIVE_INFINITY;
  const tb = b.time ?? Number.POSITIVE_INFINITY;
  if (ta !== tb) return tb - ta;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
