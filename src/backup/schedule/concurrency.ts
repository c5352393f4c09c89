/**
 * concurrencyPolicy, as CronJob defines it: what a due tick does while backups of the same schedule are
 * still running. Pure: the controller passes the names in status.active (checked against the live
 * objects) and acts on the answer.
 *
 * - Allow: create; running backups are left alone.
 * - Forbid: do not create. The controller then records nothing, so the tick stays unmet and is caught up
 *   when the running backup ends, if still within startingDeadlineSeconds (see decideTick).
 * - Replace: delete the running backups (their Jobs abort and the multipart uploads are aborted; nothing
 *   is committed without a manifest), then create.
 *
 * `scheduledName` is the backup the tick would create. If it is already among the active ones, the tick
 * was acted on by an earlier reconcile whose status write was lost: proceed (the create answers
 * AlreadyExists and is adopted) and never delete it, whatever the policy; Replace still deletes the
 * others (deleting one already being deleted is harmless).
 */
export type ConcurrencyPolicy = "Allow" | "Forbid" | "Replace";

export interface ConcurrencyDecision {
  proceed: boolean;
  /** Active backups to delete before creating, sorted. */
  deleteActive: string[];
}

export function decideConcurrency(policy: ConcurrencyPolicy, activeBackups: readonly string[], scheduledName?: string): ConcurrencyDecision {
  const alreadyCreated = scheduledName !== undefined && activeBackups.includes(scheduledName);
  const others = [...new Set(activeBackups)].filter((name) => name !== scheduledName).sort();
  switch (policy) {
    case "Allow":
      return { proceed: true, deleteActive: [] };
    case "Forbid":
      return { proceed: alreadyCreated || others.length === 0, deleteActive: [] };
    case "Replace":
      return { proceed: true, deleteActive: others };
  }
}
