/**
 * Names, labels and annotations of the QdrantRestore controller's objects.
 *
 * A restore starts one Job per attempt (restore Jobs run one pod, backoffLimit 0: the retries are the
 * controller's, each told what the attempt before it did; src/jobs/restore/contract.ts). The Jobs are
 * numbered over the restore's whole life, `restore-<name>-<n>`, and n is the status's jobCount + 1, written
 * after the Job is created: the name is the lock. Two reconciles (a retry after a lost status write, a second
 * replica after a failover) both try to create the same Job and the apiserver lets one win; the other gets
 * AlreadyExists and adopts it by its controller reference. A manager killed between the create and the
 * status write finds the Job under the same name when it comes back, and adopts it.
 */
import { GROUP } from "../../api/group.ts";
import { boundedLabel } from "../../api/names.ts";
export { labelValue } from "../../api/names.ts";

/** On the Job and its pod: which QdrantRestore it belongs to (a label value, ≤ 63: see labelValue). */
export const RESTORE_LABEL = `${GROUP}/restore`;
/** Holds a Drill restore until the temporary collection of a drill in flight is deleted. */
export const DRILL_FINALIZER = `${GROUP}/restore-drill`;
/** The container of the restore Job's pod: its podFailurePolicy names it, and the outcome reader reads it. */
export const CONTAINER_NAME = "restore";

/** On the Job: which attempt of its run it is, and the drill tick it was started for (what adopting it reads). */
export const ATTEMPT_ANNOTATION = `${GROUP}/restore-attempt`;
export const SCHEDULED_TIME_ANNOTATION = `${GROUP}/restore-scheduled-time`;

const PREFIX = "restore-";
/** Room for the number: up to 999999 Jobs per restore with the same name part, so the prefix never moves. */
const NUMBER_ROOM = 7;
/** A Job name is at most 63 characters (its pods' job-name label). */
const NAME_PART = 63 - PREFIX.length - NUMBER_ROOM;

/**
 * `restore-<name>-<n>`; a name over 48 characters, or not a DNS label, becomes its first characters and 8
 * hex of its SHA-256 (boundedLabel), still unique per name. The prefix keeps a QdrantRestore's Jobs apart
 * from a same-named QdrantBackup's (`backup-<name>`).
 */
export function restoreJobName(restoreName: string, n: number): string {
  if (restoreName.length === 0) throw new RangeError("a QdrantRestore has a name");
  if (!Number.isInteger(n) || n < 1 || n > 999_999) throw new RangeError(`a restore Job's number is 1 to 999999, not ${n}`);
  return `${PREFIX}${boundedLabel(restoreName, NAME_PART)}-${n}`;
}


/** Qdrant's longest collection name. */
const MAX_COLLECTION = 255;

/**
 * A drill's temporary collection: `<sourceCollection>-drill-<first 8 characters of the restore's uid>`,
 * the source name cut so the whole fits 255. The uid keeps two drills of one collection apart, and makes the
 * name one no person picks: the controller treats a collection of that name as the drill's own (it replaces
 * one a killed attempt left, and deletes it after every drill and when the restore is deleted mid-drill).
 */
export function drillCollectionName(sourceCollection: string, uid: string): string {
  const suffix = `-drill-${uid.replace(/-/g, "").slice(0, 8)}`;
  return `${Array.from(sourceCollection).slice(0, MAX_COLLECTION - suffix.length).join("")}${suffix}`;
}

/** True when `collection` is a temporary collection of the drill with this uid (what the finalizer may delete). */
export function isDrillCollectionOf(collection: string, uid: string): boolean {
  return collection.endsWith(`-drill-${uid.replace(/-/g, "").slice(0, 8)}`);
}
