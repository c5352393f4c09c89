/**
 * A drill's clock, for decide.ts: when its next tick is due, and whether a drill between ticks may take
 * the Job cache's word for the Job its status might not record yet. Pure.
 */
import { decideTick, type TickDecision } from "../../backup/schedule/decide-tick.ts";
import type { ParsedSchedule } from "../../backup/schedule/parse-schedule.ts";
import type { RestoreObject } from "./types.ts";

/**
 * A drill's tick at `now`: due (create) or not, and when the next one is; counted from `lastScheduleTime` (the
 * status's, or the run's just ended), else from the restore's creation.
 */
export function drillTick(r: RestoreObject, parsed: ParsedSchedule, now: Date, lastScheduleTime: string | undefined): TickDecision {
  return decideTick({
    parsed,
    now,
    creationTime: new Date(r.metadata?.creationTimestamp ?? now.toISOString()),
    ...(lastScheduleTime ? { lastScheduleTime: new Date(lastScheduleTime) } : {}),
  });
}

/**
 * Whether a drill between runs may take the Job cache's word that no Job of it goes unrecorded, instead
 * of asking the apiserver for restore-<name>-<jobCount+1> whenever the cache has none: when its tick has
 * not come. Every restore Job carries the restore label the manager's Job informer selects on, so the
 * cache holds every Job of ours that existed when it listed; the only Job it may not show yet is one
 * created a moment ago, by a Start, and a drill decides Start only at a due tick (or mid-run, Running).
 * A due tick stays due until the Start's status write records it as lastScheduleTime, so the Job of a
 * lost status write (crash window restore.job-created-before-status) is looked for at the apiserver
 * again, and adopted. Between ticks the look costs no request: a settled drill's reconcile is its clock
 * alone (before, it was a GET answered 404 on every reconcile, the slow no-op of bench/scale.ts).
 */
export function cacheSuffices(tick: TickDecision): boolean {
  return tick.action !== "create";
}
