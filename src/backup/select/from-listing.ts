/**
 * Candidates from the bucket: a listing grouped by groupListing (no manifest, no backup) and the
 * manifests read for its complete backups. Pure: the caller lists and reads (manifests never change once
 * written, so it may keep the ones it read), this only says what they are.
 *
 * A complete backup is a candidate with the manifest's facts: the collection's real name (a long name's
 * key segment is a hash), the manifest's completion time, the schedule and QdrantBackup it records. One
 * whose manifest is corrupt, or was not read, is ManifestUnreadable, so a restore can say which and why;
 * an incomplete one is Incomplete.
 */
import type { GroupedListing, ListedBackup } from "../layout/listing.ts";
import type { ParseManifestResult } from "../layout/manifest.ts";
import type { BackupCandidate } from "./candidate.ts";

export interface ListingContext {
  /** The QdrantBackupLocation the listing was made through. */
  location: string;
  /** Manifests read, by key (parseManifest's answer, read with its key). */
  manifests: ReadonlyMap<string, ParseManifestResult>;
}

export function candidatesFromListing(listing: Pick<GroupedListing, "complete" | "incomplete">, ctx: ListingContext): BackupCandidate[] {
  return [...listing.complete.map((b) => fromComplete(b, ctx)), ...listing.incomplete.map((b) => ({ ...base(b, ctx), state: "Incomplete" as const }))];
}

function base(b: ListedBackup, ctx: ListingContext): BackupCandidate {
  return {
    origin: "Bucket",
    backupId: b.backupId,
    location: ctx.location,
    namespace: b.namespace,
    connection: b.connection,
    mode: b.fullStorage ? "FullStorage" : "Collection",
    ...(b.collection !== undefined ? { collection: b.collection } : {}),
    ...(b.manifestKey !== undefined ? { manifestKey: b.manifestKey } : {}),
    state: "Complete",
  };
}

function fromComplete(b: ListedBackup, ctx: ListingContext): BackupCandidate {
  const read = ctx.manifests.get(b.manifestKey ?? "");
  if (read === undefined) return { ...base(b, ctx), state: "ManifestUnreadable", detail: "it was not read" };
  if (!read.ok) return { ...base(b, ctx), state: "ManifestUnreadable", detail: read.error };
  const m = read.manifest;
  // parseManifest (given the key) has checked that the manifest describes this very directory.
  if (m.backupId !== b.backupId || (m.mode === "FullStorage") !== b.fullStorage) {
    return { ...base(b, ctx), state: "ManifestUnreadable", detail: `the manifest describes backup ${m.backupId} (${m.mode}), not this directory's` };
  }
  const at = new Date(m.timings.completionTime);
  return {
    ...base(b, ctx),
    mode: m.mode,
    ...(m.collection ? { collection: m.collection.name } : {}),
    ...(m.storage ? { storageCollections: m.storage.collections.map((c) => c.name) } : {}),
    completed: { earliest: at, latest: at },
    ...(m.source.scheduleName !== undefined ? { schedule: { label: m.source.scheduleName } } : {}),
    backupName: m.source.backupName,
  };
}
