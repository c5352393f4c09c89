/**
 * One backup Job per QdrantConnection at a time. Qdrant names a snapshot `{collection}-{peer}-{second}`,
 * so two backups of one collection that start in the same second (two schedules on the same cron, a
 * "backup now" during a scheduled one) would get the same file on the peer: one Job deletes it under the
 * other. Snapshots are also heavy work for Qdrant, which is why Velero and CloudNativePG run backups of
 * one source one after another too.
 *
 * Deterministic, so two reconciles of two new backups agree without a lock: a backup may start its Job
 * only when no other backup of the same connection (same namespace: connections are namespaced) is
 * running, and none that is older is ready to start. "Ready to start" means not waiting for something
 * else (a missing Secret or reference): such a backup would otherwise block every newer one.
 * Crash windows: a Job created whose Running status was not yet written still counts, as "ready to
 * start" and older, so the newer one keeps waiting.
 */
import type { BackupObject } from "./types.ts";

/** Waiting reasons of a backup that is ready to start as soon as its turn comes. */
export const WAITING_FOR_TURN = "WaitingForBackup";

function isReady(b: BackupObject): boolean {
  const phase = b.status?.phase;
  if (phase === "Running") return true;
  if (phase !== undefined && phase !== "Pending") return false;
  const ready = b.status?.conditions?.find((c) => c.type === "Ready");
  // No status yet (a new backup, or its Job just created), or waiting only for its turn.
  return ready === undefined || ready.reason === WAITING_FOR_TURN || ready.reason === "Running";
}

function olderThan(a: BackupObject, b: BackupObject): boolean {
  const ta = Date.parse(a.metadata?.creationTimestamp ?? "");
  const tb = Date.parse(b.metadata?.creationTimestamp ?? "");
  if (ta !== tb) return ta < tb;
  return (a.metadata?.name ?? "") < (b.metadata?.name ?? "");
}

/** The backup `obj` must wait for, if any: a running one first, else the oldest ready one older than it. */
export function backupAhead(obj: BackupObject, namespaceBackups: readonly BackupObject[]): BackupObject | undefined {
  const connection = obj.spec.connectionRef.name;
  const others = namespaceBackups.filter(
    (b) => b.metadata?.uid !== obj.metadata?.uid && b.spec?.connectionRef?.name === connection && b.metadata?.deletionTimestamp === undefined && isReady(b),
  );
  return others.find((b) => b.status?.phase === "Running") ?? others.filter((b) => olderThan(b, obj)).sort((a, b) => (olderThan(a, b) ? -1 : 1))[0];
}
