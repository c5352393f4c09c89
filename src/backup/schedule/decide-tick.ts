/**
 * What a QdrantBackupSchedule should do at `now`: nothing, or create the backup of one tick. Pure, with the
 * clock passed in, so the controller's reconcile is "call this, act, requeue at requeueAt" and every
 * missed-run case is a table test instead of a sleep.
 *
 * The rules are CronJob's, with two deliberate differences (marked ≠):
 * - The unmet ticks are those in (lastScheduleTime ?? creationTime, now].
 * - At most one backup per decision, for the **latest** unmet tick: after downtime there is one catch-up
 *   run, never a burst. The others are reported as missed (for a "missed N runs" Event).
 * - With startingDeadlineSeconds, a latest tick older than the deadline is not run either; it and all the
 *   earlier ones are missed.
 * - ≠ CronJob leaves lastScheduleTime alone when the deadline is missed and so notices the same miss at
 *   every sync. Here the skipped tick is returned as `scheduledTime` with reason "MissedDeadline", and
 *   the controller records it as lastScheduleTime, so each miss is reported once.
 * - ≠ CronJob stops counting at 100 missed times ("too many missed start times"). Here the count is exact
 *   up to MAX_COUNTED_MISSES and then reported as "at least"; the latest tick is found by a binary
 *   search that does not depend on the count, so the catch-up choice is exact whatever the downtime, in
 *   O(log downtime) croner calls.
 * - Suspended: no backup and no misses are counted; requeueAt still says when the next tick would be.
 *   As with CronJob, the ticks that passed while suspended are unmet when the schedule resumes, so
 *   resuming runs one catch-up backup (within the deadline) and reports the others as missed.
 *
 * Concurrency (Forbid/Replace) is decided separately (decideConcurrency): when it says "do not proceed",
 * the controller records nothing, so the tick stays unmet and is started once the running backup ends,
 * if still within the deadline — CronJob's behaviour.
 */
import { nextScheduleTime, type ParsedSchedule } from "./parse-schedule.ts";

/** Missed ticks counted one by one; beyond this the count is reported as "at least". */
export const MAX_COUNTED_MISSES = 1000;

export interface TickInput {
  parsed: ParsedSchedule;
  now: Date;
  /** status.lastScheduleTime: the last tick already acted on (created, or recorded as missed). */
  lastScheduleTime?: Date;
  /** metadata.creationTimestamp: a new schedule's first tick is the first one after it. */
  creationTime: Date;
  startingDeadlineSeconds?: number;
  suspend?: boolean;
}

export type TickReason =
  /** No unmet tick. */
  | "NotDue"
  /** Create the backup of `scheduledTime` (on time, or the one catch-up run when missedCount > 0). */
  | "Due"
  /** The latest unmet tick is older than startingDeadlineSeconds: create nothing, record `scheduledTime`. */
  | "MissedDeadline"
  | "Suspended";

export interface TickDecision {
  action: "none" | "create";
  reason: TickReason;
  /**
   * Due: the tick to create the backup for (name it with backupNameFor). MissedDeadline: the tick that
   * was skipped. In both cases write it to status.lastScheduleTime.
   */
  scheduledTime?: Date;
  /** Unmet ticks that get no backup (all of them for MissedDeadline; all but the one created for Due). */
  missedCount: number;
  /** True when missedCount is a lower bound (MAX_COUNTED_MISSES reached). */
  missedCountIsLowerBound: boolean;
  /** The next tick after this decision: requeue exactly then (and report it as nextScheduleTime). */
  requeueAt: Date;
}

export function decideTick(input: TickInput): TickDecision {
  const { parsed, now } = input;
  const since = input.lastScheduleTime ?? input.creationTime;
  // A clock that went back must not re-run ticks already acted on.
  const requeueAt = nextScheduleTime(parsed, since > now ? since : now);
  const none = (reason: TickReason): TickDecision => ({ action: "none", reason, missedCount: 0, missedCountIsLowerBound: false, requeueAt });

  if (input.suspend === true) return none("Suspended");
  const first = nextScheduleTime(parsed, since);
  if (first > now) return none("NotDue");

  // One more than can be reported, so that "all but the one created" is still exact at the limit.
  const { count, more, last } = countTicks(parsed, first, now, MAX_COUNTED_MISSES + 1);
  const latest = more ? latestTickAtOrBefore(parsed, last, now) : last;
  const deadline = input.startingDeadlineSeconds;
  // As CronJob: late by exactly the deadline is still on time.
  const tooLate = deadline !== undefined && latest.getTime() + deadline * 1000 < now.getTime();
  const missed = tooLate ? count : count - 1;
  const report = { scheduledTime: latest, missedCount: Math.min(missed, MAX_COUNTED_MISSES), missedCountIsLowerBound: more || missed > MAX_COUNTED_MISSES, requeueAt };
  return tooLate ? { action: "none", reason: "MissedDeadline", ...report } : { action: "create", reason: "Due", ...report };
}

/** Counts the ticks from `first` (a tick ≤ now) up to `now`, stopping at `limit`; `more` if ticks remain. */
function countTicks(parsed: ParsedSchedule, first: Date, now: Date, limit: number): { count: number; more: boolean; last: Date } {
  let last = first;
  let count = 1;
  for (;;) {
    const next = nextScheduleTime(parsed, last);
    if (next > now) return { count, more: false, last };
    if (count === limit) return { count, more: true, last };
    last = next;
    count++;
  }
}

/**
 * The latest tick ≤ now, given a tick `known` ≤ now. Binary search on "is there a tick in (t, now]?",
 * which is monotone in t, using only nextRun, so it agrees with forward enumeration (croner's backward
 * search could resolve a DST overlap differently).
 */
function latestTickAtOrBefore(parsed: ParsedSchedule, known: Date, now: Date): Date {
  const hasTickAfter = (t: number) => nextScheduleTime(parsed, new Date(t)) <= now;
  // Invariant: hasTickAfter(lo) && !hasTickAfter(hi). Ticks fall on whole seconds (whole minutes, in fact).
  let lo = known.getTime();
  if (!hasTickAfter(lo)) return known;
  let hi = now.getTime();
  while (hi - lo > 1000) {
    const mid = lo + Math.max(1000, Math.floor((hi - lo) / 2000) * 1000);
    if (hasTickAfter(mid)) lo = mid;
    else hi = mid;
  }
  return nextScheduleTime(parsed, new Date(lo));
}
