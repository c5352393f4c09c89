/** The rollout controller's indexes and predicates: what wakes a rollout, by a lookup, and what does not. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ROLLOUT_LABEL } from "../../../src/controllers/rollout/names.ts";
import { byAlias } from "../../../src/controllers/rollout/holder.ts";
import type { RolloutObject } from "../../../src/controllers/rollout/types.ts";
import { byBackupLabel, byConnection, byLocation, childPhaseChanged, rolloutOfLabel, rolloutPhaseChanged } from "../../../src/controllers/rollout/watches.ts";

const r = (phase?: string, extra: Partial<RolloutObject["spec"]> = {}): RolloutObject => ({
  metadata: { namespace: "prod", name: "v2", generation: 1 },
  spec: { connectionRef: { name: "qdrant" }, alias: "policies", collection: "policies_v2", source: { external: {} }, ...extra },
  ...(phase ? { status: { phase: phase as "Pending" } } : {}),
});

test("indexes: by connection and location while not RolledBack/Aborted, by alias always, by the label value of the name", () => {
  assert.deepEqual(byConnection(r("Validating")), ["prod/qdrant"]);
  assert.deepEqual(byConnection(r("Aborted")), []);
  assert.deepEqual(byLocation(r("Validating", { promotion: { mode: "Auto", backupActiveFirst: { locationRef: { name: "s3" } } } })), ["prod/s3"]);
  assert.deepEqual(byLocation(r("Validating")), []);
  assert.deepEqual(byAlias(r("RolledBack")), ["policies"]);
  assert.deepEqual(byBackupLabel(r()), ["prod/v2"]);
  // The before-switch QdrantBackup finds its rollout by the label it carries (no owner reference).
  assert.deepEqual(rolloutOfLabel({ metadata: { namespace: "prod", name: "rollout-v2-before-switch", labels: { [ROLLOUT_LABEL]: "v2" } } }), ["prod/v2"]);
  assert.deepEqual(rolloutOfLabel({ metadata: { namespace: "prod", name: "b" } }), []);
});

test("predicates: a rollout's phase or spec change wakes the alias's others; a child's status change wakes its rollout", () => {
  assert.equal(rolloutPhaseChanged(r("Validating"), r("Validating")), false);
  assert.equal(rolloutPhaseChanged(r("Promoted"), r("Validating")), true);
  assert.equal(rolloutPhaseChanged({ ...r("Validating"), metadata: { namespace: "prod", name: "v2", generation: 2 } }, r("Validating")), true);
  assert.equal(rolloutPhaseChanged(r("Validating")), true, "an add or a delete");
  const child = (phase: string, rv: string) => ({ metadata: { name: "c", resourceVersion: rv }, status: { phase } });
  assert.equal(childPhaseChanged(child("Running", "2"), child("Running", "1")), false, "a resync or a metadata change");
  assert.equal(childPhaseChanged(child("Succeeded", "2"), child("Running", "1")), true);
});
