/**
 * What wakes a CollectionRollout besides its own spec: cache indexes (by connection, by backupActiveFirst's
 * location, by alias — holder.ts —, by the label value its QdrantBackup carries), so an event costs a
 * lookup, never a scan, and the predicates that drop events worth nothing. Each index function reads only
 * its object, as ObjectCache requires.
 *
 * - its Jobs and its QdrantRestore: by their controller reference (enqueueOwner, in controller.ts);
 * - its QdrantBackup (labelled, not owned): BY_BACKUP_LABEL, namespace/label value;
 * - its connection's news (Qdrant back, restarted, changed): BY_CONNECTION;
 * - another rollout of the same alias changing phase (the holder finished, or a new one began): BY_ALIAS.
 */
import { generationChanged, type Predicate } from "../../runtime/handlers.ts";
import { namespacedValue } from "../../runtime/indexers.ts";
import type { KubeObject } from "../../runtime/resource.ts";
import { labelValue, ROLLOUT_LABEL } from "./names.ts";
import type { RolloutObject } from "./types.ts";

export const BY_CONNECTION = "rollouts.controller.connection";
export const BY_LOCATION = "rollouts.controller.location";
export const BY_BACKUP_LABEL = "rollouts.controller.backup-label";

/** Phases after which no event of a connection or location can change anything. */
const FINAL = new Set(["RolledBack", "Aborted"]);
const live = (r: RolloutObject) => !FINAL.has(r.status?.phase ?? "");

export const byConnection = (r: RolloutObject): string[] => (r.spec?.connectionRef?.name && live(r) ? [namespacedValue(r.metadata?.namespace, r.spec.connectionRef.name)] : []);
export const byLocation = (r: RolloutObject): string[] => {
  const name = r.spec?.promotion?.backupActiveFirst?.locationRef?.name;
  return name && live(r) ? [namespacedValue(r.metadata?.namespace, name)] : [];
};
export const byBackupLabel = (r: RolloutObject): string[] => (r.metadata?.name ? [namespacedValue(r.metadata.namespace, labelValue(r.metadata.name))] : []);

/** The BY_BACKUP_LABEL value a labelled child (the before-switch QdrantBackup) points at. */
export const rolloutOfLabel = (o: KubeObject): string[] => {
  const v = o.metadata?.labels?.[ROLLOUT_LABEL];
  return v ? [namespacedValue(o.metadata?.namespace, v)] : [];
};

/** A child's status (its phase, its conditions' words) or deletion changed: what the rollout waits on. */
export const childPhaseChanged: Predicate<KubeObject & { status?: unknown }> = (obj, old) =>
  old === undefined || old.metadata?.deletionTimestamp !== obj.metadata?.deletionTimestamp || JSON.stringify(old.status) !== JSON.stringify(obj.status);

/** Another rollout of the alias began, finished, changed spec or went: the waiting ones look again. */
export const rolloutPhaseChanged: Predicate<RolloutObject> = (obj, old) => old === undefined || generationChanged(obj, old) || old.status?.phase !== obj.status?.phase || old.status?.analysis?.passed !== obj.status?.analysis?.passed;
