/**
 * A CollectionRollout as the tests against the real manager (test/controllers/rollout/) and the end-to-end
 * tests (e2e/) write and read it: the builder of one on connection "qdrant", and the object kubectl returns,
 * its status the API's own type (src/api/v1alpha1/rollout.ts).
 */
import { API_VERSION } from "../../src/api/group.ts";
import type { CollectionRolloutStatus } from "../../src/api/v1alpha1/rollout.ts";

/** One row of status.gates (and of status.analysis.results). */
export type GateRow = NonNullable<CollectionRolloutStatus["gates"]>[number];

export interface Rollout {
  metadata: { name: string; uid: string; generation?: number; creationTimestamp: string };
  spec: Record<string, unknown>;
  status?: CollectionRolloutStatus;
}

/** A CollectionRollout on connection "qdrant" of `alias` to `collection`; `spec` adds or overrides fields. */
export function rolloutObj(name: string, alias: string, collection: string, spec: Record<string, unknown>): object {
  return { apiVersion: API_VERSION, kind: "CollectionRollout", metadata: { name }, spec: { connectionRef: { name: "qdrant" }, alias, collection, ...spec } };
}
