/**
 * Names, labels, annotations and Qdrant metadata keys of the CollectionRollout controller's objects.
 *
 * The name is the lock, as everywhere in the operator:
 * - Jobs (copy and gate) are numbered over the rollout's life, `rollout-<name>-<n>` with n = status.jobCount
 *   + 1, written after the Job is created. A manager killed between the create and the status write finds
 *   the Job under that name and adopts it by its controller uid; the JOB_KIND annotation says what it is.
 * - The fromBackup QdrantRestore is `rollout-<name>` (controlled by the rollout), and the backupActiveFirst
 *   QdrantBackup is `rollout-<name>-<uid8>-before-switch` (labelled, NOT owned: a backup taken to be able to go back
 *   must outlive the rollout that took it).
 * - Green's ownership is written into green itself, atomically with its creation: the operator creates green
 *   with the collection metadata `OWNER_METADATA: {namespace, name, uid}` (Qdrant ≥ 1.16 keeps arbitrary
 *   JSON per collection). A green whose metadata names this rollout's uid is ours after any crash; any other
 *   green is a stranger's and is never written to or deleted. A fromBackup green is stamped once its
 *   QdrantRestore succeeded (the recovered snapshot carries the backed-up collection's metadata).
 * - The copy's progress is green's own record too (COPY_METADATA), written by the copy Job after each batch is
 *   upserted with wait=true, so a resumed copy starts where the points are, whatever the status says.
 */
import { GROUP } from "../../api/group.ts";
import { boundedLabel } from "../../api/names.ts";
export { labelValue } from "../../api/names.ts";

/** On the rollout's Jobs and their pods, and on its QdrantRestore and QdrantBackup: which rollout (a label value). */
export const ROLLOUT_LABEL = `${GROUP}/rollout`;
/** On a Job: "copy" or "gate" (what adopting it reads back). */
export const JOB_KIND_ANNOTATION = `${GROUP}/rollout-job`;
/** On a Job: the attempt of its kind (copy attempts are retried by the controller). */
export const ATTEMPT_ANNOTATION = `${GROUP}/rollout-attempt`;
/** On the backupActiveFirst QdrantBackup: the uid of the rollout that asked for it (it is labelled, not owned). */
export const ROLLOUT_UID_ANNOTATION = `${GROUP}/rollout-uid`;
/** The copy Job's container (its podFailurePolicy and the outcome reader name it). */
export const COPY_CONTAINER = "copy";
/** The gate Job's container. */
export const GATE_CONTAINER = "gate";

/** Collection metadata key on green: `{ namespace, name, uid }` of the rollout that created it. */
export const OWNER_METADATA = `${GROUP}/rollout`;
/** Collection metadata key on green: the copy's progress (src/jobs/copy/contract.ts CopyProgress). */
export const COPY_METADATA = `${GROUP}/copy`;

const PREFIX = "rollout-";
const NUMBER_ROOM = 7;
const NAME_PART = 63 - PREFIX.length - NUMBER_ROOM;

export type RolloutJobKind = "copy" | "gate";

/** `rollout-<name>-<n>`, the name part bounded (boundedLabel) so the whole is a DNS label of ≤ 63. */
export function rolloutJobName(rolloutName: string, n: number): string {
  if (rolloutName.length === 0) throw new RangeError("a CollectionRollout has a name");
  if (!Number.isInteger(n) || n < 1 || n > 999_999) throw new RangeError(`a rollout Job's number is 1 to 999999, not ${n}`);
  return `${PREFIX}${boundedLabel(rolloutName, NAME_PART)}-${n}`;
}

/** The fromBackup QdrantRestore: `rollout-<name>` (an object name: ≤ 253, bounded all the same for its own Jobs' names). */
export function greenRestoreName(rolloutName: string): string {
  return `${PREFIX}${boundedLabel(rolloutName, 40)}`;
}

/**
 * The backupActiveFirst QdrantBackup: `rollout-<name>-<first 8 hex of the rollout's uid>-before-switch`.
 * The uid's part: the backup outlives its rollout (it is not owned), so a rollout deleted and applied
 * again under the same name must not find the last one's backup under its own name.
 */
export function beforeSwitchBackupName(rolloutName: string, uid: string): string {
  return `${PREFIX}${boundedLabel(rolloutName, 40)}-${uid.replace(/-/g, "").slice(0, 8)}-before-switch`;
}


/** The owner record written into green's metadata. */
export interface GreenOwner {
  namespace: string;
  name: string;
  uid: string;
}

/** The uid green's metadata names as its creator, if any (anything malformed is nobody's). */
export function greenOwnerOf(metadata: Record<string, unknown> | null | undefined): GreenOwner | undefined {
  const v = metadata?.[OWNER_METADATA];
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  return typeof o.uid === "string" && typeof o.name === "string" && typeof o.namespace === "string" ? { namespace: o.namespace, name: o.name, uid: o.uid } : undefined;
}
