/**
 * The rollout's two Kubernetes children besides its Jobs, and how it reads them back (ChildState):
 * - fromBackup: the QdrantRestore `rollout-<name>` that builds green (controller ownerRef → the rollout, so
 *   it goes with it; policy Once, no alias, no overwrite: the restore's own claim machinery refuses a
 *   collection that exists, TargetExists, so it never overwrites a stranger's green);
 * - backupActiveFirst: the QdrantBackup `rollout-<name>-before-switch` of the active collection, labelled
 *   with the rollout and annotated with its uid but NOT owned: a backup taken to be able to go back must
 *   outlive the rollout that took it.
 *
 * Both are found by their deterministic names (the name is the lock): a create that finds the name taken
 * reads the object there, and whether it is ours (controller uid, or the uid annotation) decides.
 */
import { API_VERSION } from "../../api/group.ts";
import type { QdrantBackupSpec } from "../../api/v1alpha1/backup.ts";
import type { QdrantRestoreSpec } from "../../api/v1alpha1/restore.ts";
import { isAlreadyExists } from "../../runtime/errors.ts";
import { controllerOf, controllerReference, type KubeObject } from "../../runtime/resource.ts";
import type { BackupObject } from "../backup/types.ts";
import type { RestoreObject } from "../restore/types.ts";
import { QDRANT_BACKUPS, QDRANT_RESTORES } from "../resources.ts";
import type { OperatorContext } from "../shared/context.ts";
import { labelValue, ROLLOUT_LABEL, ROLLOUT_UID_ANNOTATION } from "./names.ts";
import type { ChildState } from "./steps.ts";
import type { RolloutObject } from "./types.ts";

/** The QdrantRestore that restores spec.source.fromBackup into green. */
export function desiredRestore(r: RolloutObject, name: string): RestoreObject {
  const from = r.spec.source.fromBackup;
  if (!from) throw new Error("desiredRestore: the rollout's source is not fromBackup");
  const spec: QdrantRestoreSpec = {
    source: structuredClone(from.source),
    ...(from.sourceCollection ? { sourceCollection: from.sourceCollection } : {}),
    target: { connectionRef: { name: r.spec.connectionRef.name }, collection: r.spec.collection },
    policy: "Once",
    overwrite: false,
    ...(r.spec.job ? { job: structuredClone(r.spec.job) } : {}),
  };
  return {
    apiVersion: API_VERSION,
    kind: "QdrantRestore",
    metadata: { name, namespace: r.metadata?.namespace, labels: { [ROLLOUT_LABEL]: labelValue(r.metadata?.name ?? "") }, ownerReferences: [controllerReference(r)] },
    spec,
  };
}

/** The QdrantBackup of `collection` (the active one) taken before the switch. */
export function desiredBackup(r: RolloutObject, name: string, collection: string): BackupObject {
  const location = r.spec.promotion?.backupActiveFirst?.locationRef.name;
  if (!location) throw new Error("desiredBackup: the rollout has no promotion.backupActiveFirst");
  const spec: QdrantBackupSpec = { connectionRef: { name: r.spec.connectionRef.name }, locationRef: { name: location }, collections: { names: [collection] } };
  return {
    apiVersion: API_VERSION,
    kind: "QdrantBackup",
    metadata: {
      name,
      namespace: r.metadata?.namespace,
      labels: { [ROLLOUT_LABEL]: labelValue(r.metadata?.name ?? "") },
      annotations: { [ROLLOUT_UID_ANNOTATION]: r.metadata?.uid ?? "" },
    },
    spec,
  };
}

interface ChildLike extends KubeObject {
  spec?: unknown;
  status?: { phase?: string; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>; targetCollection?: string; failure?: { reason: string; message: string } };
}

/** A QdrantBackup's spec.collections.names, when it names its collections. */
function namesOf(spec: unknown): string[] | undefined {
  const names = (spec as { collections?: { names?: unknown } } | undefined)?.collections?.names;
  return Array.isArray(names) && names.every((n) => typeof n === "string") ? [...(names)] : undefined;
}

/** What a child says: its phase, its Ready condition's reason and message (a failure's own when it has one). */
function stateOf(child: ChildLike | undefined, ours: (c: ChildLike) => boolean): ChildState {
  if (!child) return { exists: false };
  const ready = child.status?.conditions?.find((c) => c.type === "Ready");
  const failure = child.status?.failure;
  const reason = failure?.reason ?? ready?.reason;
  const message = failure?.message ?? ready?.message;
  return {
    exists: true,
    ours: ours(child),
    ...(child.status?.phase ? { phase: child.status.phase } : {}),
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
    ...(child.status?.targetCollection ? { targetCollection: child.status.targetCollection } : {}),
    ...(namesOf(child.spec) ? { collections: namesOf(child.spec) } : {}),
  };
}

export function restoreState(r: RolloutObject, restore: RestoreObject | undefined): ChildState {
  return stateOf(restore, (c) => controllerOf(c)?.uid === r.metadata?.uid);
}

export function backupState(r: RolloutObject, backup: BackupObject | undefined): ChildState {
  return stateOf(backup, (c) => c.metadata?.annotations?.[ROLLOUT_UID_ANNOTATION] === r.metadata?.uid);
}

/** Creates `desired` of `rt`; when the name is taken, the object there (whoever's it is). */
async function createOrRead<T extends KubeObject>(ctx: OperatorContext, rt: typeof QDRANT_RESTORES, desired: T): Promise<{ obj: T; created: boolean }> {
  try {
    return { obj: await ctx.client.create<T>(rt, desired), created: true };
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    return { obj: await ctx.client.get<T>(rt, { namespace: desired.metadata?.namespace ?? "", name: desired.metadata?.name ?? "" }), created: false };
  }
}

export async function createRestore(ctx: OperatorContext, r: RolloutObject, name: string): Promise<{ state: ChildState; created: boolean; obj: RestoreObject }> {
  const { obj, created } = await createOrRead(ctx, QDRANT_RESTORES, desiredRestore(r, name));
  return { state: restoreState(r, obj), created, obj };
}

export async function createBackup(ctx: OperatorContext, r: RolloutObject, name: string, collection: string): Promise<{ state: ChildState; created: boolean; obj: BackupObject }> {
  const { obj, created } = await createOrRead(ctx, QDRANT_BACKUPS, desiredBackup(r, name, collection));
  return { state: backupState(r, obj), created, obj };
}
