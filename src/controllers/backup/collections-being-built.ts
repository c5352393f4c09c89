/**
 * The collections the operator itself is building on a Qdrant, which a backup of `collections: all` (or
 * a pattern) leaves out: a restore drill's temporary collection (QdrantRestore policy Drill), and a
 * CollectionRollout's green collection until it is promoted. Snapshotting them would store a half-
 * restored or half-copied collection as if it were data, and a later `latest` restore could bring it
 * back; the Job skips them and the manifests say which and why (the plan's `exclude`).
 *
 * Names a user wrote in spec.collections.names are never left out: an explicit name is the user's choice
 * (the Job applies `exclude` to `all` and patterns only).
 *
 * Pure, over the caches' restores and rollouts and a test for "works on this Qdrant" (the controller
 * passes one that matches connections by the Qdrant they reach, not by their namespaced name). Sorted by
 * name; one entry per name, its reasons joined.
 */
import type { ExcludedCollection } from "../../jobs/backup/contract.ts";


/** Only what is read here; all optional (objects stored before a schema change reach the caches too). */
export interface BuildingRestore {
  metadata?: { namespace?: string; name?: string };
  spec?: { policy?: string; target?: { connectionRef?: { name?: string }; collection?: string } };
  status?: { targetCollection?: string };
}

export interface BuildingRollout {
  metadata?: { namespace?: string; name?: string };
  spec?: { connectionRef?: { name?: string }; collection?: string };
  status?: { phase?: string };
}

/** Phases after which a rollout's green collection is no longer being built: it went live (Promoted, RolledBack) or was given up (Aborted: deleted if the rollout made it, else the user's). */
const GREEN_SETTLED = new Set(["Promoted", "RolledBack", "Aborted"]);

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
    if (r.spec?.policy !== "Drill") continue;
    const ns = r.metadata?.namespace ?? "";
    if (!onThisQdrant(ns, r.spec.target?.connectionRef?.name ?? "")) continue;
    const reason = `the temporary collection of restore drill QdrantRestore ${ns}/${r.metadata?.name ?? ""}`;
    add(r.spec.target?.collection, reason);
    add(r.status?.targetCollection, reason);
  }
  for (const ro of rollouts) {
    if (GREEN_SETTLED.has(ro.status?.phase ?? "")) continue;
    const ns = ro.metadata?.namespace ?? "";
    if (!onThisQdrant(ns, ro.spec?.connectionRef?.name ?? "")) continue;
    add(ro.spec?.collection, `the green collection of CollectionRollout ${ns}/${ro.metadata?.name ?? ""}, not promoted yet`);
  }
  return [...reasons]
    .map(([name, why]) => ({ name, reason: [...why].sort().join("; ") }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
