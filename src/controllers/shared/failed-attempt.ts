/**
 * How a failed attempt is said while the next one is due or running, the same for every kind that
 * retries (restores: a new Job per attempt, decide.ts; backups: the Job controller's next pod,
 * backup/attempts.ts), so a person reads one wording: which attempt failed of how many, its words, and
 * which attempt comes next and when. The reason goes in the condition's reason, not here.
 */

/** When the next attempt starts: a time decided (`approximate` when another controller decides it), or the time it did start. */
export type NextAttempt = { startsAt: Date; approximate?: boolean } | { startedAt: string };

export interface FailedAttempt {
  /** The attempt that failed, from 1. */
  attempt: number;
  maxAttempts: number;
  message: string;
}

/** "attempt 1 of 4 failed: <message>; attempt 2 starts at <time>" (or "started at"). */
export function failedAttemptMessage(failed: FailedAttempt, next: NextAttempt): string {
  const n = failed.attempt + 1;
  const when = "startedAt" in next ? `attempt ${n} started at ${next.startedAt}` : `attempt ${n} starts at ${next.approximate ? "about " : ""}${next.startsAt.toISOString()}`;
  return `attempt ${failed.attempt} of ${failed.maxAttempts} failed: ${failed.message}; ${when}`;
}

/**
 * Whether a condition's `message` already reports `failed` (it begins with its words): what a controller
 * reads back from the status to say each failed attempt once, in an Event, not once per reconcile.
 */
export function reportsFailedAttempt(message: string | undefined, failed: Pick<FailedAttempt, "attempt" | "maxAttempts">): boolean {
  return message?.startsWith(`attempt ${failed.attempt} of ${failed.maxAttempts} failed: `) ?? false;
}
