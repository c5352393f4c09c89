/**
 * Names, labels and annotations of the QdrantBackup controller's objects.
 *
 * The Job's name is derived from the QdrantBackup's name alone, so it is the lock: two reconciles (a
 * retry after a lost status write, a second replica after a failover) both try to create the same Job and
 * the apiserver lets exactly one win. The loser gets AlreadyExists and adopts the Job when its controller
 * reference is this backup's uid.
 */
import { GROUP } from "../../api/group.ts";
import { boundedLabel } from "../../api/names.ts";
export { labelValue } from "../../api/names.ts";

/** On the Job and its pod: which QdrantBackup it belongs to (a label value, so ≤ 63: see labelValue). */
export const BACKUP_LABEL = `${GROUP}/backup`;
/** Holds a QdrantBackup with deletionPolicy Delete until its objects are gone from the bucket. */
export const DATA_FINALIZER = `${GROUP}/backup-data`;
/** The container of the backup Job's pod: its podFailurePolicy names it, and the outcome reader reads its termination message. */
export const CONTAINER_NAME = "backup";

/**
 * A Job name is at most 63 characters: the Job controller copies it into the `job-name` label of its pods,
 * and label values stop at 63.
 */
export const MAX_JOB_NAME = 63;
const PREFIX = "backup-";

/**
 * `backup-<name>`; a name too long for that (over 56 characters) or not a DNS label (dots) becomes
 * `backup-<first 47 characters, dots as dashes>-<8 hex of sha256(name)>`, still unique per name. The
 * prefix keeps a QdrantBackup's Job apart from a same-named QdrantRestore's.
 */
export function backupJobName(backupName: string): string {
  if (backupName.length === 0) throw new RangeError("a QdrantBackup has a name");
  return `${PREFIX}${boundedLabel(backupName, MAX_JOB_NAME - PREFIX.length)}`;
}

