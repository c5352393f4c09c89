/**
 * Which QdrantBackups a QdrantRestore protects from retention, as pure functions of the restores and the
 * backups (the caches' view). Retention never prunes a backup a restore may still read, or one a restore
 * read: the restore's record (and a re-run of it) must keep pointing at a backup that exists, as Velero
 * keeps a Backup a Restore names and CloudNativePG keeps what a recovery bootstraps from.
 *
 * A restore protects, unless it is being deleted (deletionTimestamp set: it is going, so it holds nothing):
 * - spec.source.backupRef: the QdrantBackup of that name in the restore's namespace;
 * - spec.source.location.backupId: the QdrantBackup with that backup id, in any namespace the manager
 *   watches (ids contain the backup's uid, so they are globally unique, and a restore in another
 *   namespace, or another team's, may read the same bucket) — unless location.sourceNamespace names
 *   another namespace than the backup's, because then the restore looks under another prefix;
 * - status.backupId: the backup with that id, in any namespace (it is being, or was, restored);
 * - spec.source.latest: in the restore's namespace, the backup `latest` resolves to now, by the one
 *   selection restores use (selectBackup in src/backup/select/, over these QdrantBackups' candidates;
 *   see {@link resolveLatest}), while the restore may still resolve it: policy IfMissing and Drill restore
 *   again and again, so always; Once (the default) until its phase is Succeeded or Failed — after that
 *   only status.backupId (the backup it actually used) protects, so a finished one-off restore does not
 *   pin "whatever is newest" forever.
 *
 * Cost. `latest` is a selection over every backup of the namespace, so it is made once per distinct
 * source (restores of the same location, collection, schedule and notAfter share it), and not at all when
 * the caller says none of the backups it asks about can be picked ({@link mayBeLatestPick}): a schedule
 * whose backups are all failed or running cannot lose one to latest. Before both, a schedule's reconcile
 * made one selection over the namespace per latest-restore: at 10,000 backups and 100 drills,
 * bench/scale.ts spent 95 % of the manager's CPU there and reconciled ~2 backups a second.
 *
 * A QdrantBackup's id is always derived from its metadata (creationTimestamp + uid, the same derivation
 * the backup Job writes its keys with), never read from its status: a hand-edited status must not be able
 * to move protection from one backup to another.
 */
import { backupIdOf } from "../../backup/layout/backup-id.ts";
import type { BackupCandidate } from "../../backup/select/candidate.ts";
import { candidatesFromBackups } from "../../backup/select/from-backups.ts";
import { selectBackup, type RestoreSource } from "../../backup/select/select-backup.ts";
import { controllerOf } from "../../runtime/resource.ts";
import type { RestoreObject, ScheduledBackupObject } from "./types.ts";

/** The backup id of a QdrantBackup from its metadata; undefined when the metadata cannot give one. */
function idOf(b: ScheduledBackupObject): string | undefined {
  try {
    return backupIdOf(b.metadata);
  } catch {
    return undefined;
  }
}

/** "namespace/name" of a restore, as users write it in kubectl. */
function restoreRef(r: RestoreObject): string {
  return `${r.metadata?.namespace ?? ""}/${r.metadata?.name ?? ""}`;
}

/** The restore's source as selectBackup reads it: spec.source, its namespace and spec.sourceCollection. */
export function restoreSourceOf(r: RestoreObject): RestoreSource {
  const spec = r.spec;
  return {
    namespace: r.metadata?.namespace ?? "",
    ...spec?.source,
    ...(spec?.sourceCollection !== undefined ? { sourceCollection: spec.sourceCollection } : {}),
  };
}

/**
 * The backups `latest` resolves to among `backups` (the restore's namespace's), by selectBackup (the one
 * definition restores use): every candidate it says may be the newest qualifying one, so ties and
 * backups whose manifests' exact times the cluster does not know all stay. Empty when nothing qualifies
 * or the restore has no latest source. In the order of `backups`.
 */
export function resolveLatest(restore: RestoreObject, backups: readonly ScheduledBackupObject[]): ScheduledBackupObject[] {
  return latestAmong(restore, candidatesFromBackups(backups), backups);
}

function latestAmong(restore: RestoreObject, candidates: readonly BackupCandidate[], backups: readonly ScheduledBackupObject[]): ScheduledBackupObject[] {
  if (!restore.spec?.source?.latest) return [];
  const selection = selectBackup(restoreSourceOf(restore), candidates);
  if (!selection.ok) return [];
  const picked = new Set(selection.possible.map((c) => `${c.namespace}/${c.backupName ?? ""}`));
  return backups.filter((b) => picked.has(`${b.metadata?.namespace ?? ""}/${b.metadata?.name ?? ""}`));
}

/**
 * Whether `latest` could pick this backup: only a complete one (phase Succeeded, not being deleted), as
 * the candidates' state says (from-backups.ts). A schedule none of whose backups is one need not ask
 * which backup latest resolves to.
 */
export function mayBeLatestPick(b: ScheduledBackupObject): boolean {
  return b.metadata?.deletionTimestamp === undefined && b.status?.phase === "Succeeded";
}

/** True while a latest-restore may still resolve `latest` again (see the module comment). */
export function latestStillResolves(restore: RestoreObject): boolean {
  const policy = restore.spec?.policy;
  if (policy !== undefined && policy !== "Once") return true;
  const phase = restore.status?.phase;
  return phase !== "Succeeded" && phase !== "Failed";
}

/**
 * Why each backup of `backups` is protected: backup name → reasons ("QdrantRestore ns/name restores it
 * (…)"), sorted. `backups` are one namespace's QdrantBackups (all of them, not just one schedule's: a
 * newer manual backup is what latest picks); `restores` are every watched namespace's. `latest: false`
 * leaves latest-restores' protection out: for a caller that reads only backups {@link mayBeLatestPick}
 * says no to.
 */
export function protectedBackups(backups: readonly ScheduledBackupObject[], restores: readonly RestoreObject[], opts: { latest?: boolean } = {}): Map<string, string[]> {
  const withLatest = opts.latest !== false;
  const byId = new Map<string, ScheduledBackupObject>();
  for (const b of backups) {
    const id = idOf(b);
    if (id !== undefined) byId.set(id, b);
  }
  const namespaces = new Set(backups.map((b) => b.metadata?.namespace ?? ""));
  // Built once, and only when a latest-restore of these namespaces needs them: each is one selection
  // over the same candidates.
  const candidates = withLatest && restores.some((r) => r.spec?.source?.latest && namespaces.has(r.metadata?.namespace ?? "")) ? candidatesFromBackups(backups) : [];
  // selectBackup is pure over (source, candidates): one selection per distinct source.
  const picks = new Map<string, ScheduledBackupObject[]>();
  const picked = (r: RestoreObject): ScheduledBackupObject[] => {
    const key = JSON.stringify(restoreSourceOf(r));
    let found = picks.get(key);
    if (found === undefined) picks.set(key, (found = latestAmong(r, candidates, backups)));
    return found;
  };
  const out = new Map<string, Set<string>>();
  const protect = (name: string, reason: string) => {
    const reasons = out.get(name) ?? new Set<string>();
    reasons.add(reason);
    out.set(name, reasons);
  };

  for (const r of restores) {
    if (r.metadata?.deletionTimestamp !== undefined) continue;
    const who = `QdrantRestore ${restoreRef(r)}`;
    const namespace = r.metadata?.namespace ?? "";
    const source = r.spec?.source;

    const name = source?.backupRef?.name;
    if (name && namespaces.has(namespace)) protect(name, `${who} restores it (spec.source.backupRef)`);

    const locationId = source?.location?.backupId;
    const byLocation = locationId ? byId.get(locationId) : undefined;
    const sourceNamespace = source?.location?.sourceNamespace;
    if (byLocation && (!sourceNamespace || sourceNamespace === byLocation.metadata?.namespace)) {
      protect(byLocation.metadata?.name ?? "", `${who} restores it (spec.source.location.backupId)`);
    }

    const statusId = r.status?.backupId;
    const byStatus = statusId ? byId.get(statusId) : undefined;
    if (byStatus) protect(byStatus.metadata?.name ?? "", `${who} restored it (status.backupId)`);

    if (withLatest && source?.latest && latestStillResolves(r)) {
      for (const b of picked(r)) protect(b.metadata?.name ?? "", `${who} restores it (spec.source.latest: the newest backup of collection ${source.latest.collection ?? ""})`);
    }
  }
  return new Map([...out].map(([name, reasons]) => [name, [...reasons].sort()]));
}

/**
 * The schedules whose retention a restore can affect, for the restore watch: "namespace/name" keys of the
 * owner schedules of the backups it names (backupRef, location.backupId, status.backupId, found in
 * `backups`, every watched namespace's), and, for latest, the restore's namespace (every schedule there:
 * which backup latest resolves to depends on all of the namespace's backups).
 */
export function schedulesAffectedBy(restore: RestoreObject, backups: readonly ScheduledBackupObject[]): { schedules: string[]; allSchedulesIn: string[] } {
  const namespace = restore.metadata?.namespace ?? "";
  const source = restore.spec?.source;
  const ids = new Set([source?.location?.backupId, restore.status?.backupId].filter((id): id is string => !!id));
  const refName = source?.backupRef?.name;
  const schedules = new Set<string>();
  for (const b of backups) {
    const named = (refName !== undefined && b.metadata?.name === refName && b.metadata?.namespace === namespace) || (ids.size > 0 && ids.has(idOf(b) ?? ""));
    if (!named) continue;
    const owner = controllerOf(b);
    if (owner?.kind === "QdrantBackupSchedule") schedules.add(`${b.metadata?.namespace ?? ""}/${owner.name}`);
  }
  return { schedules: [...schedules].sort(), allSchedulesIn: source?.latest ? [namespace] : [] };
}

/**
 * True when a restore update can change what it protects: its source, policy, status.backupId, phase or
 * deletionTimestamp. Condition-only status writes (the validation controller's) wake no schedule.
 */
export function protectionInputsChanged(old: RestoreObject, obj: RestoreObject): boolean {
  const inputs = (r: RestoreObject) =>
    JSON.stringify([r.spec?.source ?? null, r.spec?.policy ?? null, r.status?.backupId ?? null, r.status?.phase ?? null, r.metadata?.deletionTimestamp ?? null]);
  return inputs(old) !== inputs(obj);
}
