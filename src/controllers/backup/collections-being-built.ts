/**
 * The collections the operator itself is building on a Qdrant, which a backup of `collections: all` (or
 * a pattern) leaves out: a restore drill's temporary collection (QdrantRestore policy Drill), the target
 * of any other restore while a run of it is in flight (half restored, or half-made by an attempt that
 * was killed and is waiting for its retry), and a CollectionRollout's green collection until it is
 * promoted. Snapshotting them would store a half-restored or half-copied collection as if it were data,
 * and a later `latest` restore could bring it back; the Job skips them and the manifests say which and why (the plan's `exclude`).
 *
 * Names a user wrote in spec.collections.names are never left out: an explicit name is the user's choice
 * (the Job applies `exclude` to `all` and patterns only).
 *
 * Only what a controller has started on counts, as its status says: a drill's collection once its status
 * names it (`status.targetCollection`, which the restore controller records before it creates the
 * collection), another restore's target while its phase is Running, a rollout's green collection once its phase says it is being built or judged (Pending
 * through AwaitingPromotion, or Failed: green is kept for inspection). A resource no controller has acted
 * on yet (no status, as every restore and rollout has while their controllers only validate) leaves
 * nothing out: its `spec.collection` may be a live collection a user fills (`external`), and a backup of
 * `all` must not quietly skip it.
 *
 * Pure, over the caches' restores and rollouts and a test for "works on this Qdrant" (the controller
 * passes one that matches connections by the Qdrant they reach, not by their namespaced name). Sorted by
 * name; one entry per name, its reasons joined.
 */
import type { ExcludedCollection } from "../../jobs/backup/contract.ts";


/** Only what is read here; all optional (objects stored before a schema change reach the caches too). */
export interface BuildingRestore {
  metadata?: { namespace?: string; name?: string };
  spec?: { policy?: string; target?: { connectionRef?: { name?: string } } };
  status?: { targetCollection?: string; phase?: string };
}

export interface BuildingRollout {
  metadata?: { namespace?: string; name?: string };
  spec?: { connectionRef?: { name?: string }; collection?: string };
  status?: { phase?: string };
}

/**
 * Phases in which a rollout's green collection is being built or judged. Not after: it went live
 * (Promoted, RolledBack) or was given up (Aborted: deleted if the rollout made it, else the user's).
 */
const GREEN_BUILDING = new Set(["Pending", "Preparing", "Validating", "AwaitingPromotion", "Failed"]);

export function collectionsBeingBuilt(
  restores: Iterable<BuildingRestore>,
  rollouts: Iterable<BuildingRollout>,
  onThisQdrant: (namespace: string, connection: string) => boolean,
): ExcludedCollection[] {
  const reasons = new Map<string, Set<string>>();
  const add = (name: string | undefined, reason: string) => {
    if (!name) return;
    const set = reasons.get(name) ?? new Set<string>();
    set.add(reason);
    reasons.set(name, set);
  };
  for (const r of restores) {
    const drill = r.spec?.policy === "Drill";
    // Not a drill: only while a run is in flight (phase Running, its Job running or its next attempt due).
    if (!drill && r.status?.phase !== "Running") continue;
    const ns = r.metadata?.namespace ?? "";
    if (!onThisQdrant(ns, r.spec?.target?.connectionRef?.name ?? "")) continue;
    const who = `QdrantRestore ${ns}/${r.metadata?.name ?? ""}`;
    add(r.status?.targetCollection, drill ? `the temporary collection of restore drill ${who}` : `the target of ${who}, being restored`);
  }
  for (const ro of rollouts) {
    if (!GREEN_BUILDING.has(ro.status?.phase ?? "")) continue;
    const ns = ro.metadata?.namespace ?? "";
    if (!onThisQdrant(ns, ro.spec?.connectionRef?.name ?? "")) continue;
    add(ro.spec?.collection, `the green collection of CollectionRollout ${ns}/${ro.metadata?.name ?? ""}, not promoted yet`);
  }
  return [...reasons]
    .map(([name, why]) => ({ name, reason: [...why].sort().join("; ") }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
