/**
 * The operator's one list of named crash windows: the lines between two effects where a SIGKILL (an OOM
 * kill, a lost node, a lost lease followed by a kill) leaves the world half-changed. Each entry says which
 * process it is in, what a kill there leaves, and what closes it; the code calls {@link crashWindow} with
 * the name at that very line, and the TSDoc there names it (test/crash-windows.test.ts holds both to this
 * list: every name called exactly once in src/, every call registered and named in a comment above it).
 *
 * The fault suite (e2e/faults/kill-*.test.ts) kills the manager or the Job at each window through the
 * generic failpoint (src/runtime/crash-point.ts: `QDRANT_OPERATOR_CRASH_AT=<name>`), starts the next one,
 * and checks the invariants (e2e/faults/invariants.ts). Without that variable a call is one comparison.
 *
 * `closed: false` marks a window known to stay open (what it leaves, nothing deletes): listed so it is
 * seen, not hidden.
 */
import { crashPoint } from "./runtime/crash-point.ts";

export interface CrashWindow {
  /** The process the line runs in: the manager, or a Job's pod. */
  process: "manager" | "job";
  /** What a kill at this line leaves behind. */
  leaves: string;
  /** What makes it whole again. */
  closedBy: string;
  /** False for a window nothing closes yet. */
  closed: boolean;
}

export const CRASH_WINDOWS = {
  "backup.job-created-before-status": {
    process: "manager",
    leaves: "a backup Job the QdrantBackup's status does not name",
    closedBy: "the Job's name is the lock: the next reconcile finds backup-<name> and adopts it by its controller uid instead of creating a second",
    closed: true,
  },
  "backup.job-finished-before-status": {
    process: "manager",
    leaves: "a finished Job whose result is not in the status (still Running)",
    closedBy: "the Job and its pods keep the result (ttlSecondsAfterFinished); the next reconcile reads it again",
    closed: true,
  },
  "backup-data.manifests-deleted-before-objects": {
    process: "manager",
    leaves: "a backup's snapshot objects without their manifests (incomplete, never restorable), and the QdrantBackup with its finalizer",
    closedBy: "the finalizer (or the prune) runs the same deletion again; deleting a missing key succeeds",
    closed: true,
  },
  "schedule.backup-created-before-status": {
    process: "manager",
    leaves: "a tick's QdrantBackup the schedule's status does not count",
    closedBy: "the backup's name is schedule and tick: the tick is decided again, the backup found by name and adopted",
    closed: true,
  },
  "restore.job-created-before-status": {
    process: "manager",
    leaves: "a restore Job the QdrantRestore's status does not name",
    closedBy: "the Job is restore-<name>-<jobCount+1>, looked for first and adopted by its controller uid",
    closed: true,
  },
  "restore.alias-switched-before-status": {
    process: "manager",
    leaves: "the alias on the restored collection while the status says Running",
    closedBy: "the succeeded Job is read again, Complete decided again; the alias switch re-points (idempotent)",
    closed: true,
  },
  "rollout.green-created-before-status": {
    process: "manager",
    leaves: "green created (stamped with the rollout's uid) and no status saying so",
    closedBy: "the next look sees our stamp on green and adopts it",
    closed: true,
  },
  "rollout.restore-created-before-status": {
    process: "manager",
    leaves: "the rollout's QdrantRestore created and not recorded",
    closedBy: "the restore's name is derived from the rollout: found and adopted by its controller",
    closed: true,
  },
  "rollout.job-created-before-status": {
    process: "manager",
    leaves: "a copy (or gate) Job the rollout's status does not name",
    closedBy: "the Job is rollout-<name>-<jobCount+1>, found by name and adopted by its controller uid",
    closed: true,
  },
  "rollout.alias-switched-before-status": {
    process: "manager",
    leaves: "the alias on green while the status says Validating",
    closedBy: "the next look sees the alias on green and records Promoted without a second switch",
    closed: true,
  },
  "rollout.alias-switched-back-before-status": {
    process: "manager",
    leaves: "the alias on the previous collection again (spec.rollback, or a failed analysis switching back) while the status says Promoted",
    closedBy: "the next look sees the alias on the previous collection while the rollback or switch-back still asks for it, and records RolledBack without a second switch",
    closed: true,
  },
  "backup-job.snapshot-created-before-marker": {
    process: "job",
    leaves: "a snapshot on the peer that no pending marker names, and the intent written before its create",
    closedBy:
      "the intent marker written before the create: the next run or the sweep deletes the one snapshot of that scope on that peer whose Qdrant-made name falls in the intent's window (src/backup/store/resolve-intent.ts); several candidates → none deleted, a warning",
    closed: true,
  },
  "backup-job.marker-written-before-intent-deleted": {
    process: "job",
    leaves: "the snapshot with its marker, and the intent of its create",
    closedBy: "the next run (or the sweep) deletes the marked snapshot, and the intent with it: a marker on the intent's peer resolves it without a look at Qdrant",
    closed: true,
  },
  "backup-job.multipart-started-before-complete": {
    process: "job",
    leaves: "an open multipart upload (parts that cost storage, invisible to listings) and the snapshot with its marker",
    closedBy: "the next run of the backup id (or the failed backup's sweep) aborts the uploads under its prefix and deletes the marked snapshots",
    closed: true,
  },
  "backup-job.uploaded-before-manifest": {
    process: "job",
    leaves: "snapshot objects in the bucket without a manifest (incomplete), and the snapshots with their markers",
    closedBy: "the next run deletes the marked snapshots and uploads again; the failed backup's sweep removes the objects",
    closed: true,
  },
  "restore-job.recovered-before-verify": {
    process: "job",
    leaves: "a half-built target collection (the first file recovered), and the claim in the termination message",
    closedBy: "the claim gives the next attempt ownedTarget: it replaces the half-made collection",
    closed: true,
  },
  "copy-job.upserted-before-record": {
    process: "job",
    leaves: "a page upserted into green that green's copy record does not count",
    closedBy: "the next attempt resumes from the record and upserts that page again (same ids: nothing doubled)",
    closed: true,
  },
} as const satisfies Record<string, CrashWindow>;

export type CrashWindowName = keyof typeof CRASH_WINDOWS;

/** The failpoint at a registered window: only a name of {@link CRASH_WINDOWS} compiles. */
export function crashWindow(name: CrashWindowName): void {
  crashPoint(name);
}
