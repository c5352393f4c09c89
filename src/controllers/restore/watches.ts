/**
 * What wakes a QdrantRestore besides its own spec and its Jobs: cache indexes of the unfinished restores
 * (by target connection, by source location, by the backup they wait for), so that an event costs a
 * lookup and never a scan, and the predicates that drop events worth nothing. Each index function reads
 * only its object, as ObjectCache requires.
 */
import type { ClusterBackup } from "../../backup/select/from-backups.ts";
import { generationChanged, type Predicate } from "../../runtime/handlers.ts";
import { namespacedValue } from "../../runtime/indexers.ts";
import type { QdrantConnectionObject } from "../shared/resolve-connection.ts";
import type { Policy } from "./spec.ts";
import { isFinished } from "./status.ts";
import type { RestoreObject } from "./types.ts";

/** Restore indexes: unfinished restores by "namespace/connection", "namespace/location" and the backups they wait for. */
export const BY_CONNECTION = "restores.controller.connection";
export const BY_LOCATION = "restores.controller.location";
export const BY_BACKUP = "restores.controller.backup";
/** The BY_BACKUP value of a namespace's `latest` restores: any backup there may be the one. */
export const ANY_BACKUP = "*";
export const policyOf = (r: RestoreObject): Policy => r.spec?.policy ?? "Once";
const live = (r: RestoreObject) => !isFinished(r.status, policyOf(r));
export const byConnection = (r: RestoreObject): string[] => (r.spec?.target?.connectionRef?.name && live(r) ? [namespacedValue(r.metadata?.namespace, r.spec.target.connectionRef.name)] : []);
export const byLocation = (r: RestoreObject): string[] => {
  const name = r.spec?.source?.location?.locationRef?.name ?? r.spec?.source?.latest?.locationRef?.name;
  return name && live(r) ? [namespacedValue(r.metadata?.namespace, name)] : [];
};
/**
 * Between runs: a Drill waiting for its next tick (Ready True DrillScheduled) or an IfMissing restore
 * whose collection is there (Ready True Watching), as written for the current spec. Such a restore
 * resolves no source until its tick or its next check, and its status names no backup it has not
 * already restored, so no backup's event can change what it says: it is out of BY_BACKUP. When its
 * tick comes and it waits for a backup, the status it writes then puts it back in. Not a failed run
 * kept as Failed until the next one: its Ready may be a wait for a backup, so it stays in.
 */
export function betweenRuns(r: RestoreObject): boolean {
  const status = r.status;
  if (status?.observedGeneration === undefined || status.observedGeneration !== r.metadata?.generation) return false;
  const ready = status.conditions?.find((c) => c.type === "Ready");
  return ready?.status === "True" && (ready.reason === "DrillScheduled" || ready.reason === "Watching");
}
export const byBackup = (r: RestoreObject): string[] => {
  if (!live(r) || betweenRuns(r)) return [];
  const ref = r.spec?.source?.backupRef?.name;
  if (ref) return [namespacedValue(r.metadata?.namespace, ref)];
  return r.spec?.source?.latest ? [namespacedValue(r.metadata?.namespace, ANY_BACKUP)] : [];
};

/** A connection's check that says something new (not only its lastCheckTime): Qdrant came back, restarted, changed. */
export const connectionNews: Predicate<QdrantConnectionObject> = (obj, old) => {
  if (old === undefined || generationChanged(obj, old)) return true;
  const strip = (c: QdrantConnectionObject) => {
    const { lastCheckTime: _t, conditions, ...rest } = c.status ?? {};
    return JSON.stringify([rest, (conditions ?? []).map((x) => [x.type, x.status, x.reason, x.lastTransitionTime])]);
  };
  return strip(obj) !== strip(old);
};
export const backupPhaseChanged: Predicate<ClusterBackup> = (obj, old) => old === undefined || old.status?.phase !== obj.status?.phase || old.metadata?.deletionTimestamp !== obj.metadata?.deletionTimestamp;
