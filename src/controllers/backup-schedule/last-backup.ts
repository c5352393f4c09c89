/**
 * The schedule's `LastBackupSucceeded` condition: how its newest finished QdrantBackup ended. Users
 * (and CronJob-watching tools, Velero users) read the schedule, not each backup, so a schedule whose
 * every tick fails (refused credentials, a missing bucket, an unreachable Qdrant) must say so there.
 * It is a condition of its own, not `Ready`: Ready stays about the schedule itself (its spec is valid,
 * it creates its backups at each tick); a backup failing is the backup's problem, which the schedule
 * reports with the backup's own reason and name. Pure, so it is a table test.
 */
import type { Condition } from "../../runtime/conditions.ts";
import type { ConditionUpdate } from "../shared/conditions.ts";
import { scheduledTimeOf } from "./plan.ts";
import type { ScheduledBackupObject } from "./types.ts";

export const LAST_BACKUP_SUCCEEDED = "LastBackupSucceeded";

/**
 * The newest of `owned` that finished (Succeeded or Failed), by the tick it was for (its scheduled
 * time), then by completion, then by name; undefined when none has finished yet.
 */
export function newestFinished(owned: readonly ScheduledBackupObject[]): ScheduledBackupObject | undefined {
  const time = (t: string | undefined) => (t === undefined ? -Infinity : Date.parse(t));
  let best: ScheduledBackupObject | undefined;
  for (const b of owned) {
    const phase = b.status?.phase;
    if (phase !== "Succeeded" && phase !== "Failed") continue;
    if (best === undefined) {
      best = b;
      continue;
    }
    const byTick = time(scheduledTimeOf(b)) - time(scheduledTimeOf(best));
    const byCompletion = time(b.status?.completionTime) - time(best.status?.completionTime);
    const newer = byTick !== 0 ? byTick > 0 : byCompletion !== 0 ? byCompletion > 0 : (b.metadata?.name ?? "") > (best.metadata?.name ?? "");
    if (newer) best = b;
  }
  return best;
}

/** The condition for the newest finished backup, or undefined when none has finished (no condition yet). */
export function lastBackupCondition(owned: readonly ScheduledBackupObject[]): ConditionUpdate | undefined {
  const b = newestFinished(owned);
  if (!b) return undefined;
  const name = b.metadata?.name ?? "";
  if (b.status?.phase === "Succeeded") {
    const at = b.status.completionTime ? ` at ${b.status.completionTime}` : "";
    return { type: LAST_BACKUP_SUCCEEDED, status: "True", reason: "Succeeded", message: `QdrantBackup ${name} succeeded${at}.` };
  }
  const reason = b.status?.failure?.reason ?? b.status?.conditions?.find((c) => c.type === "Ready")?.reason ?? "Failed";
  const why = b.status?.failure?.message ?? b.status?.conditions?.find((c) => c.type === "Ready")?.message;
  return { type: LAST_BACKUP_SUCCEEDED, status: "False", reason, message: `QdrantBackup ${name} failed: ${why ?? "no reason recorded"}` };
}

/**
 * The Event the condition's change is worth, if any: a Warning when it turns False (or fails for
 * another reason than before), a Normal one when a failing schedule's backup succeeds again. The first
 * success and a repeat of the same failure say nothing new (each backup has its own Events).
 */
export function lastBackupEvent(current: readonly Condition[] | undefined, next: ConditionUpdate | undefined): { type: "Normal" | "Warning"; reason: string; note: string } | undefined {
  if (!next) return undefined;
  const before = current?.find((c) => c.type === LAST_BACKUP_SUCCEEDED);
  if (next.status === "False") {
    if (before?.status === "False" && before.reason === next.reason) return undefined;
    return { type: "Warning", reason: "BackupFailed", note: `${next.reason}: ${next.message}` };
  }
  if (before?.status === "False") return { type: "Normal", reason: "BackupSucceeded", note: `${next.message} The schedule's backups succeed again.` };
  return undefined;
}
