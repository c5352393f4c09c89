/**
 * A backup a restore could read, as selectBackup sees it: one manifest's worth — one backup of one
 * collection (Collection mode), or one backup of the whole storage (FullStorage). A QdrantBackup of ten
 * collections is ten candidates, because a restore reads one collection and its one manifest.
 *
 * Candidates come from two places that know different things:
 * - the bucket (candidatesFromListing): the manifest, so exact facts — the collection's real name, the
 *   manifest's completion time, the schedule recorded in it — but nothing about the QdrantBackup object;
 * - the cluster (candidatesFromBackups): a QdrantBackup's phase and whether it is being deleted, but
 *   only the whole backup's times, not each manifest's.
 * Where a fact is known only roughly it says so (CompletionWindow) instead of pretending, so the one
 * selection rule can be applied to either and stay safe.
 */

/** Where a candidate's facts come from. */
export type CandidateOrigin = "Bucket" | "Cluster";

/**
 * Complete: a manifest exists (bucket), or the QdrantBackup Succeeded (cluster: its Job wrote every
 * listed collection's manifest before it could succeed). Everything else is not a backup to read:
 * - Incomplete: objects without a manifest (a run that crashed, a prune that stopped half-way);
 * - ManifestUnreadable: the manifest was not read, or is corrupt (detail says which);
 * - Running, Failed: the QdrantBackup has not finished, or failed (complete manifests of a failed
 *   multi-collection backup stay in the bucket, but a backup that failed is not what a restore picks);
 * - Deleting: the QdrantBackup is being deleted, so its data may be going.
 */
export type CandidateState = "Complete" | "Incomplete" | "ManifestUnreadable" | "Running" | "Failed" | "Deleting";

/**
 * When the candidate completed: exactly (earliest = latest, a manifest's timings.completionTime) or
 * somewhere between the two (a QdrantBackup of several collections: each manifest is written between
 * the backup's creation and its status.completionTime).
 */
export interface CompletionWindow {
  earliest: Date;
  latest: Date;
}

export interface BackupCandidate {
  origin: CandidateOrigin;
  backupId: string;
  /**
   * The QdrantBackupLocation's name: the one listed (bucket), or the QdrantBackup's spec.locationRef
   * (cluster), in the namespace of whoever looks (bucket) or of the backup (cluster).
   */
  location: string;
  /** The namespace the backup was made in (the first segment of its keys). */
  namespace: string;
  /** The QdrantConnection it was made through (the second segment of its keys). */
  connection: string;
  mode: "Collection" | "FullStorage";
  /** Collection mode: the collection this candidate's manifest holds; undefined when it is not known (a hashed key segment whose manifest was not read). */
  collection?: string;
  /** FullStorage mode: the collections the storage held, when known. */
  storageCollections?: string[];
  manifestKey?: string;
  state: CandidateState;
  /** Words for the state (a corrupt manifest's error, a failed backup's reason). */
  detail?: string;
  /** Unknown for an incomplete or unread backup. */
  completed?: CompletionWindow;
  /** The schedule that made it: the owner's exact name (cluster), and the label value the manifest records (boundedLabel of the name). */
  schedule?: { name?: string; label?: string };
  /** The QdrantBackup's name (the manifest records it too). */
  backupName?: string;
}

/** "backup <id> of collection <c>" or "backup <id> (full storage)", for messages. */
export function describeCandidate(c: BackupCandidate): string {
  const what = c.mode === "FullStorage" ? " (full storage)" : c.collection !== undefined ? ` of collection ${c.collection}` : "";
  const name = c.backupName !== undefined ? ` (QdrantBackup ${c.namespace}/${c.backupName})` : "";
  return `backup ${c.backupId}${what}${name}`;
}
