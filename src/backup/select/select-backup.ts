/**
 * Which backup a QdrantRestore's source names: the one definition, used by retention's protection (which
 * must keep exactly what a restore would read) and by the restore controller. Pure, over candidates from
 * the bucket (candidatesFromListing) and from the cluster (candidatesFromBackups), in any mix:
 *
 * - backupRef: the QdrantBackup of that name in the restore's namespace (a cluster candidate gives its
 *   id; bucket candidates of that id add their manifests' facts). No QdrantBackup, no backup.
 * - location + backupId: that id, found through that location (bucket candidates), or any QdrantBackup
 *   with that id (ids hold the uid, so they are unique); sourceNamespace and sourceConnection narrow it.
 * - backupRef and location pick one collection of the backup: spec.sourceCollection, required when the
 *   backup holds several.
 * - latest: the newest complete Collection-mode backup of the collection at that location made in the
 *   restore's namespace (any connection), by scheduleRef's schedule if set (its owner, or the schedule
 *   label the manifest records), completed at or before notAfter if set. A full-storage backup is not what
 *   latest reads: it looks for the collection's own manifests.
 *
 * Only complete candidates are chosen (a manifest, and a QdrantBackup that is neither unfinished, failed
 * nor being deleted); every other candidate that matched the source is returned as rejected, with the
 * reason and a sentence a restore's condition can quote.
 *
 * The same backup (id, mode, collection) seen in both places is one candidate: the bucket's facts (the
 * manifest's name, time and schedule; whether the manifest is there at all) win, and the cluster's state
 * wins when it says unfinished, failed or being deleted.
 *
 * Imprecise times. A cluster candidate only knows that its manifest was written between the backup's
 * creation and its completion; a bucket candidate knows the exact time. So the result is `backup` (the
 * newest that surely qualifies; ties by the larger id, i.e. the later created) and `possible`: every
 * candidate that may be the newest qualifying one given what is known — with exact facts, `backup` and
 * those completed in the same instant. Protection keeps all of `possible`, so it never releases a backup
 * a restore reading the bucket would pick.
 */
import { boundedLabel } from "../../api/names.ts";
import type { ERROR_CODES } from "../../errors.ts";
import { describeCandidate, type BackupCandidate } from "./candidate.ts";

/** A restore's spec.source with what selecting needs beside it; all optional (old objects reach us too). */
export interface RestoreSource {
  /** The restore's namespace: backupRef and latest look there. */
  namespace: string;
  backupRef?: { name?: string };
  location?: { locationRef?: { name?: string }; backupId?: string; sourceNamespace?: string; sourceConnection?: string };
  latest?: { locationRef?: { name?: string }; collection?: string; scheduleRef?: { name?: string }; notAfter?: string };
  /** spec.sourceCollection: which collection of a backup that holds several. */
  sourceCollection?: string;
}

export type RejectReason = "Incomplete" | "ManifestUnreadable" | "NotFinished" | "Failed" | "BeingDeleted" | "OtherSchedule" | "CompletionUnknown" | "AfterNotAfter";

export interface Rejection {
  candidate: BackupCandidate;
  reason: RejectReason;
  message: string;
}

/** Condition reasons, from the registry (src/errors.ts). */
export type SelectFailure = (typeof ERROR_CODES)["INVALID_SPEC" | "BACKUP_NOT_FOUND" | "BACKUP_NOT_USABLE" | "SOURCE_COLLECTION_REQUIRED" | "COLLECTION_NOT_IN_BACKUP"]["reason"];

export type Selection =
  | { ok: true; backup: BackupCandidate; possible: BackupCandidate[]; rejected: Rejection[] }
  | { ok: false; reason: SelectFailure; message: string; rejected: Rejection[] };

export function selectBackup(source: RestoreSource, candidates: readonly BackupCandidate[]): Selection {
  const given = [source.backupRef, source.location, source.latest].filter((s) => s !== undefined).length;
  if (given !== 1) return fail("InvalidSpec", "spec.source: set exactly one of backupRef, location or latest", []);
  const merged = mergeCandidates(candidates);
  if (source.latest) return selectLatest(source, source.latest, merged);

  let matched: BackupCandidate[];
  let what: string;
  if (source.backupRef) {
    const name = source.backupRef.name ?? "";
    what = `QdrantBackup ${source.namespace}/${name}`;
    const ids = new Set(candidates.filter((c) => c.origin === "Cluster" && c.namespace === source.namespace && c.backupName === name).map((c) => c.backupId));
    if (ids.size === 0) return fail("BackupNotFound", `spec.source.backupRef: ${what} does not exist`, []);
    matched = merged.filter((c) => ids.has(c.backupId));
  } else {
    const loc = source.location!;
    const id = loc.backupId ?? "";
    what = `backup ${id}`;
    matched = merged.filter(
      (c) =>
        c.backupId === id &&
        (c.origin === "Cluster" || c.location === loc.locationRef?.name) &&
        (loc.sourceNamespace === undefined || c.namespace === loc.sourceNamespace) &&
        (loc.sourceConnection === undefined || c.connection === loc.sourceConnection),
    );
    const narrowed = [loc.sourceNamespace && `namespace ${loc.sourceNamespace}`, loc.sourceConnection && `connection ${loc.sourceConnection}`].filter(Boolean).join(", ");
    if (matched.length === 0) {
      return fail("BackupNotFound", `spec.source.location: no ${what} in QdrantBackupLocation ${source.namespace}/${loc.locationRef?.name ?? ""}${narrowed ? ` (${narrowed})` : ""}`, []);
    }
  }
  return pickCollection(source, what, matched);
}

/** backupRef and location: the one collection of the backup to restore, and whether it can be read. */
function pickCollection(source: RestoreSource, what: string, matched: BackupCandidate[]): Selection {
  const held = [...new Set(matched.flatMap((c) => (c.mode === "FullStorage" ? (c.storageCollections ?? ["(full storage)"]) : [c.collection ?? "(unknown)"])))].sort();
  const wanted = source.sourceCollection;
  let picks: BackupCandidate[];
  if (wanted !== undefined) {
    picks = matched.filter((c) => (c.mode === "FullStorage" ? (c.storageCollections?.includes(wanted) ?? true) : c.collection === wanted));
    if (picks.length === 0) return fail("CollectionNotInBackup", `spec.sourceCollection: ${what} holds no collection ${wanted} (it holds ${held.join(", ")})`, []);
  } else {
    if (matched.length > 1) return fail("SourceCollectionRequired", `${what} holds ${matched.length} collections (${held.join(", ")}): set spec.sourceCollection to the one to restore`, []);
    picks = matched;
  }
  const rejected = picks.map(stateRejection).filter((r): r is Rejection => r !== undefined);
  const usable = sortNewestFirst(picks.filter((c) => c.state === "Complete"));
  if (usable.length === 0) return fail("BackupNotUsable", rejected.map((r) => r.message).join("; "), rejected);
  return { ok: true, backup: usable[0]!, possible: usable.slice(0, 1), rejected };
}

function selectLatest(source: RestoreSource, latest: NonNullable<RestoreSource["latest"]>, merged: BackupCandidate[]): Selection {
  const location = latest.locationRef?.name ?? "";
  const collection = latest.collection ?? "";
  const schedule = latest.scheduleRef?.name;
  // The schema makes notAfter an RFC 3339 time; one that still cannot be read is no bound, the safe
  // reading for protection (it keeps the newest).
  const notAfter = latest.notAfter === undefined ? Number.NaN : Date.parse(latest.notAfter);
  const bounded = !Number.isNaN(notAfter);

  const matched = merged.filter((c) => c.mode === "Collection" && c.collection === collection && c.location === location && c.namespace === source.namespace);
  const rejected: Rejection[] = [];
  const eligible: Array<BackupCandidate & { completed: NonNullable<BackupCandidate["completed"]> }> = [];
  for (const c of matched) {
    const byState = stateRejection(c);
    if (byState) rejected.push(byState);
    else if (schedule !== undefined && !madeBy(c, schedule)) rejected.push({ candidate: c, reason: "OtherSchedule", message: `${describeCandidate(c)} was not made by QdrantBackupSchedule ${schedule}` });
    else if (c.completed === undefined) rejected.push({ candidate: c, reason: "CompletionUnknown", message: `${describeCandidate(c)} has no completion time` });
    else if (bounded && c.completed.earliest.getTime() > notAfter) {
      rejected.push({ candidate: c, reason: "AfterNotAfter", message: `${describeCandidate(c)} completed at ${c.completed.earliest.toISOString()}, after notAfter ${latest.notAfter ?? ""}` });
    } else eligible.push(c as BackupCandidate & { completed: NonNullable<BackupCandidate["completed"]> });
  }
  if (eligible.length === 0) {
    const wanted = `complete backup of collection ${collection} in QdrantBackupLocation ${source.namespace}/${location}${schedule !== undefined ? ` made by QdrantBackupSchedule ${schedule}` : ""}${bounded ? ` completed at or before ${latest.notAfter ?? ""}` : ""}`;
    if (matched.length === 0) return fail("BackupNotFound", `spec.source.latest: there is no ${wanted}`, []);
    return fail("BackupNotUsable", `spec.source.latest: there is no ${wanted} (${summarize(rejected)})`, rejected);
  }
  const surely = eligible.filter((c) => !bounded || c.completed.latest.getTime() <= notAfter);
  // A candidate is out only when one that surely qualifies surely completed after it.
  const newestSureStart = Math.max(...surely.map((c) => c.completed.earliest.getTime()));
  const possible = sortNewestFirst(eligible.filter((c) => !(newestSureStart > c.completed.latest.getTime())));
  const backup = possible.find((c) => surely.includes(c)) ?? possible[0]!;
  return { ok: true, backup, possible, rejected };
}

/** The rejection a candidate's state alone earns, if any. */
function stateRejection(c: BackupCandidate): Rejection | undefined {
  const d = describeCandidate(c);
  const detail = c.detail !== undefined ? `: ${c.detail}` : "";
  switch (c.state) {
    case "Complete":
      return undefined;
    case "Incomplete":
      return { candidate: c, reason: "Incomplete", message: `${d} is incomplete: its objects have no manifest` };
    case "ManifestUnreadable":
      return { candidate: c, reason: "ManifestUnreadable", message: `${d}: its manifest cannot be read${detail}` };
    case "Running":
      return { candidate: c, reason: "NotFinished", message: `${d} has not finished` };
    case "Failed":
      return { candidate: c, reason: "Failed", message: `${d} failed${detail}` };
    case "Deleting":
      return { candidate: c, reason: "BeingDeleted", message: `${d} is being deleted` };
  }
}

/** True when the schedule `name` made the candidate: its owner, or the label value its manifest records. */
export function madeBy(c: BackupCandidate, name: string): boolean {
  return c.schedule?.name === name || (c.schedule?.label !== undefined && c.schedule.label === boundedLabel(name, 63));
}

/**
 * One candidate per (backup id, mode, collection). Facts the bucket has win (it is what a restore reads);
 * the cluster's state wins when it is not Complete (a running backup's finished collections, a failed
 * one's, or a backup being deleted are not to be picked), and a manifest missing from the bucket makes
 * even a Succeeded QdrantBackup's collection incomplete.
 */
export function mergeCandidates(candidates: readonly BackupCandidate[]): BackupCandidate[] {
  const byKey = new Map<string, { bucket?: BackupCandidate; cluster?: BackupCandidate }>();
  for (const c of candidates) {
    const key = `${c.backupId}\u0000${c.mode}\u0000${c.collection ?? ""}`;
    const entry = byKey.get(key) ?? {};
    if (c.origin === "Bucket") entry.bucket ??= c;
    else entry.cluster ??= c;
    byKey.set(key, entry);
  }
  return [...byKey.values()].map(({ bucket, cluster }) => {
    if (!bucket || !cluster) return (bucket ?? cluster)!;
    const label = bucket.schedule?.label ?? cluster.schedule?.label;
    const name = cluster.schedule?.name;
    const schedule = label !== undefined || name !== undefined ? { ...(name !== undefined ? { name } : {}), ...(label !== undefined ? { label } : {}) } : undefined;
    const clusterSays = cluster.state !== "Complete";
    return {
      ...cluster,
      ...bucket,
      state: clusterSays ? cluster.state : bucket.state,
      ...(clusterSays ? (cluster.detail !== undefined ? { detail: cluster.detail } : {}) : bucket.detail !== undefined ? { detail: bucket.detail } : {}),
      ...(bucket.completed ?? cluster.completed ? { completed: (bucket.completed ?? cluster.completed)! } : {}),
      ...(schedule ? { schedule } : {}),
    };
  });
}

/** Newest first by latest completion, then earliest, then the larger id (the later created). */
function sortNewestFirst<T extends BackupCandidate>(list: T[]): T[] {
  const t = (c: BackupCandidate, k: "earliest" | "latest") => c.completed?.[k].getTime() ?? Number.NEGATIVE_INFINITY;
  return [...list].sort((a, b) => t(b, "latest") - t(a, "latest") || t(b, "earliest") - t(a, "earliest") || (a.backupId < b.backupId ? 1 : a.backupId > b.backupId ? -1 : 0));
}

const NOUNS: Record<RejectReason, string> = {
  Incomplete: "incomplete",
  ManifestUnreadable: "with an unreadable manifest",
  NotFinished: "not finished",
  Failed: "failed",
  BeingDeleted: "being deleted",
  OtherSchedule: "made by another schedule or none",
  CompletionUnknown: "with no completion time",
  AfterNotAfter: "completed after notAfter",
};

/** "2 incomplete, 1 failed": what a restore's condition says when nothing qualified. */
export function summarize(rejected: readonly Rejection[]): string {
  const counts = new Map<RejectReason, number>();
  for (const r of rejected) counts.set(r.reason, (counts.get(r.reason) ?? 0) + 1);
  return [...counts].map(([reason, n]) => `${n} ${NOUNS[reason]}`).join(", ");
}

function fail(reason: SelectFailure, message: string, rejected: Rejection[]): Selection {
  return { ok: false, reason, message, rejected };
}
