/**
 * S3 Object Lock as pure decisions (#15): whether a backup's objects are still retained at `now`, the
 * date to report, and when to look again. Every source of a retain-until date counts (the QdrantBackup's
 * status.objectLock, the manifest's objectLock, what S3's GetObjectRetention says of each version): the
 * latest wins, because anyone with the rights may extend a retention after the Job wrote it, and S3 is
 * what refuses the delete.
 *
 * No clock here: callers pass `now` (the controller's injected clock), so tables test every edge.
 */

/** The latest of the dates that parse; undefined when none does. */
export function latestRetainUntil(dates: Iterable<Date | string | undefined>): Date | undefined {
  let latest: number | undefined;
  for (const d of dates) {
    if (d === undefined) continue;
    const ms = (typeof d === "string" ? new Date(d) : d).getTime();
    if (Number.isNaN(ms)) continue;
    if (latest === undefined || ms > latest) latest = ms;
  }
  return latest === undefined ? undefined : new Date(latest);
}

export type LockVerdict = { kind: "Unlocked" } | { kind: "Locked"; until: Date };

/**
 * Locked while the latest retain-until is after `now`; a date equal to `now` has passed (S3 allows the
 * delete from the retain-until instant on). An unknown date (none given) is Unlocked: S3 still refuses
 * a delete it must, and deleteObjectVersions turns that refusal into BackupLocked.
 */
export function lockVerdict(dates: Iterable<Date | string | undefined>, now: Date): LockVerdict {
  const until = latestRetainUntil(dates);
  return until !== undefined && until.getTime() > now.getTime() ? { kind: "Locked", until } : { kind: "Unlocked" };
}

/** A locked backup is looked at again at least this often: its retention may have been shortened (Governance, by someone with bypass rights), and a requeue timer of months is a timer nobody checks. */
export const MAX_LOCK_WAIT_MS = 6 * 3_600_000;
/** S3's clock and ours differ a little: look again a second after the date, never before it. */
export const LOCK_SLACK_MS = 1_000;
/** The shortest wait for a locked backup: S3 refused a date our clock says has passed (its clock is behind). */
export const MIN_LOCK_WAIT_MS = 5_000;
/**
 * How far S3's clock may be behind ours: a version S3 refuses to delete whose retain-until passed at most
 * this long ago (by our clock) is still locked, not a permission problem (AWS answers both AccessDenied).
 */
export const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * How long to wait before trying a locked backup again: until its date (plus LOCK_SLACK_MS), capped at
 * MAX_LOCK_WAIT_MS, at least MIN_LOCK_WAIT_MS (never a hot loop, even for a date in the past: S3 refused
 * anyway, so its clock is behind ours). No date (a legal hold, or S3 refused without saying until when):
 * the cap.
 */
export function lockRequeueMs(until: Date | undefined, now: Date): number {
  if (until === undefined) return MAX_LOCK_WAIT_MS;
  const wait = until.getTime() - now.getTime() + LOCK_SLACK_MS;
  return Math.min(MAX_LOCK_WAIT_MS, Math.max(MIN_LOCK_WAIT_MS, wait));
}

/** RFC 3339 in UTC, whole seconds rounded up (so the reported date is never before S3's). */
export function rfc3339Up(d: Date): string {
  return new Date(Math.ceil(d.getTime() / 1000) * 1000).toISOString().replace(/\.\d+Z$/, "Z");
}

/** What a condition or Event says of a locked backup: "Locked until 2027-01-15T00:00:00Z". */
export function lockedUntilMessage(until: Date | undefined): string {
  return until === undefined ? "Locked (S3 refuses the delete and names no retain-until date: a legal hold?)" : `Locked until ${rfc3339Up(until)}`;
}
