/**
 * Candidates from the cluster: what QdrantBackups (the caches' view) say about the backups they made.
 * One candidate per collection of a Collection-mode backup, one per FullStorage backup.
 *
 * Which collections a backup holds: status.collections (the Job's result, or the bucket's manifests when
 * the result was cut to fit the termination message: see src/controllers/backup/bucket-collections.ts),
 * and every name spec.collections.names lists (a Succeeded backup has backed up each of them; an
 * unfinished one is a candidate to reject with a reason), so a short status never hides a named one.
 *
 * The backup id comes from the metadata (creationTimestamp + uid, as the Job writes its keys), never from
 * the status: a hand-edited status must not move a selection (or a protection) to another backup.
 * A running backup of `all` or a pattern gives no candidate yet (which collections it holds is not known
 * until it ends); its collections that are done are complete in the bucket, and their manifests say so.
 */
import type { QdrantBackupSpec, QdrantBackupStatus } from "../../api/v1alpha1/backup.ts";
import { controllerOf, type KubeObject } from "../../runtime/resource.ts";
import { SCHEDULE_LABEL } from "../../api/labels.ts";
import { backupIdOf } from "../layout/backup-id.ts";
import type { BackupCandidate, CandidateState, CompletionWindow } from "./candidate.ts";

/** A QdrantBackup as read from a cache; every field optional (objects stored before a schema change reach us too). */
export interface ClusterBackup extends KubeObject {
  spec?: Partial<QdrantBackupSpec>;
  status?: QdrantBackupStatus;
}

export function candidatesFromBackups(backups: Iterable<ClusterBackup>): BackupCandidate[] {
  const out: BackupCandidate[] = [];
  for (const b of backups) out.push(...candidatesOf(b));
  return out;
}

/** The candidates of one QdrantBackup; none when its metadata gives no backup id. */
export function candidatesOf(b: ClusterBackup): BackupCandidate[] {
  let backupId: string;
  try {
    backupId = backupIdOf(b.metadata);
  } catch {
    return [];
  }
  const status = b.status;
  const state = stateOf(b);
  const owner = controllerOf(b);
  const scheduleName = owner?.kind === "QdrantBackupSchedule" ? owner.name : undefined;
  const label = b.metadata?.labels?.[SCHEDULE_LABEL];
  const completed = state === "Complete" ? windowOf(b) : undefined;
  const common = {
    origin: "Cluster" as const,
    backupId,
    location: b.spec?.locationRef?.name ?? "",
    namespace: b.metadata?.namespace ?? "",
    connection: b.spec?.connectionRef?.name ?? "",
    state,
    ...(state === "Failed" && status?.failure ? { detail: `${status.failure.reason}: ${status.failure.message}` } : {}),
    ...(completed ? { completed } : {}),
    ...(scheduleName !== undefined || label !== undefined ? { schedule: { ...(scheduleName !== undefined ? { name: scheduleName } : {}), ...(label !== undefined ? { label } : {}) } } : {}),
    ...(b.metadata?.name !== undefined ? { backupName: b.metadata.name } : {}),
  };
  if (b.spec?.mode === "FullStorage") {
    const storageCollections = (status?.collections ?? []).map((c) => c.name);
    return [{ ...common, mode: "FullStorage", ...(status?.collections ? { storageCollections } : {}), ...(status?.manifestKey ? { manifestKey: status.manifestKey } : {}) }];
  }
  const manifests = new Map<string, string | undefined>();
  for (const c of status?.collections ?? []) manifests.set(c.name, c.manifestKey ?? manifests.get(c.name));
  const named = b.spec?.collections?.names ?? [];
  for (const n of named) if (!manifests.has(n)) manifests.set(n, undefined);
  return [...manifests].map(([collection, manifestKey]) => ({ ...common, mode: "Collection" as const, collection, ...(manifestKey !== undefined ? { manifestKey } : {}) }));
}

function stateOf(b: ClusterBackup): CandidateState {
  if (b.metadata?.deletionTimestamp !== undefined) return "Deleting";
  const phase = b.status?.phase;
  return phase === "Succeeded" ? "Complete" : phase === "Failed" ? "Failed" : "Running";
}

/**
 * Each manifest of the backup was written after the QdrantBackup was created and before its status's
 * completionTime; which instant is not known here. (The earliest is the least of creation, start and
 * completion, so statuses with odd clocks still give a window.)
 */
function windowOf(b: ClusterBackup): CompletionWindow | undefined {
  const latest = Date.parse(b.status?.completionTime ?? "");
  if (Number.isNaN(latest)) return undefined;
  const bounds = [b.metadata?.creationTimestamp, b.status?.startTime].map((t) => Date.parse(t ?? "")).filter((t) => !Number.isNaN(t));
  return { earliest: new Date(Math.min(latest, ...bounds)), latest: new Date(latest) };
}
