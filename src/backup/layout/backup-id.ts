/**
 * The id of a backup in the bucket: `<creation time, UTC, to the second>-<QdrantBackup uid>`, e.g.
 * `20260115T020004Z-4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d`. Part of every object key of the backup.
 *
 * Why these two inputs, both immutable fields of the QdrantBackup:
 * - Known before any work starts, so the controller writes status.backupId/manifestKey up front and every
 *   retry of the Job writes the same keys (a retry overwrites its own partial objects instead of leaving
 *   orphans, which an id taken from the snapshot time would).
 * - The uid, not the name, makes it unique: names repeat across namespaces, clusters sharing a bucket,
 *   and a deleted-then-recreated "backup-now"; uids never do. So two backups never share keys, and a
 *   restore that names an id gets exactly one backup.
 * - The time first, so that a listing (which S3 returns in key order) is in chronological order: the
 *   latest backup of a collection is the last id under its prefix, and ids read well in `backups list`.
 * The name is not in the id (it can be 253 characters, and the manifest records it).
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BACKUP_ID = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** The backup id of a QdrantBackup from its metadata.creationTimestamp and metadata.uid. */
export function backupId(creationTime: Date, uid: string): string {
  if (!UUID.test(uid)) throw new RangeError(`${JSON.stringify(uid)} is not a Kubernetes uid (a lowercase UUID)`);
  const iso = creationTime.toISOString(); // throws on an invalid date
  if (iso.length !== 24) throw new RangeError(`creation time ${iso} is outside years 0000-9999`);
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return `${stamp}-${uid}`;
}

/**
 * The backup id of a QdrantBackup from its metadata (never its status: a hand-edited status must not move
 * a deletion or a protection to another backup's objects). Throws a RangeError when the apiserver has not
 * set creationTimestamp and uid yet.
 */
export function backupIdOf(meta: { creationTimestamp?: string; uid?: string } | undefined): string {
  return backupId(new Date(meta?.creationTimestamp ?? NaN), meta?.uid ?? "");
}

/** The parts of a backup id, or undefined if `id` is not one. */
export function parseBackupId(id: string): { time: Date; uid: string } | undefined {
  const m = BACKUP_ID.exec(id);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  const time = new Date(0);
  time.setUTCFullYear(y, mo - 1, d);
  time.setUTCHours(h, mi, s, 0);
  // A date rolls 20260230 over into March: such an id was not made by backupId.
  if (time.getUTCMonth() !== mo - 1 || time.getUTCDate() !== d || time.getUTCHours() !== h || time.getUTCMinutes() !== mi || time.getUTCSeconds() !== s) return undefined;
  return { time, uid: m[7] as string };
}

export function isBackupId(id: string): boolean {
  return parseBackupId(id) !== undefined;
}
