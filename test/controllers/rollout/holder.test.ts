/** holderOf: one rollout per alias per Qdrant — who holds it, who waits, and what does not count. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { QdrantConnectionObject } from "../../../src/controllers/shared/resolve-connection.ts";
import { holderOf, holdState, sameQdrantVia, waitingForAliasMessage } from "../../../src/controllers/rollout/holder.ts";
import type { RolloutObject } from "../../../src/controllers/rollout/types.ts";

const NOW = new Date("2026-03-01T12:00:00Z");

function rollout(name: string, o: { ns?: string; alias?: string; connection?: string; created?: string; phase?: string; promotedAt?: string; window?: string; passed?: boolean; switchBack?: boolean; deleting?: boolean } = {}): RolloutObject {
  return {
    metadata: { namespace: o.ns ?? "prod", name, uid: `uid-${name}`, creationTimestamp: o.created ?? "2026-03-01T10:00:00Z", ...(o.deleting ? { deletionTimestamp: "2026-03-01T11:59:00Z" } : {}) },
    spec: { connectionRef: { name: o.connection ?? "qdrant" }, alias: o.alias ?? "policies_production", collection: `policies_${name}`, source: { external: {} }, ...(o.window ? { analysis: { window: o.window, ...(o.switchBack !== undefined ? { switchBackOnFailure: o.switchBack } : {}) } } : {}) },
    ...(o.phase
      ? { status: { phase: o.phase as "Pending", ...(o.promotedAt ? { promotedAt: o.promotedAt } : {}), ...(o.passed !== undefined ? { analysis: { passed: o.passed } } : {}) } }
      : {}),
  };
}

const conn = (ns: string, name: string, url: string): QdrantConnectionObject => ({ metadata: { namespace: ns, name }, spec: { url } });
const connections = [conn("prod", "qdrant", "http://qdrant.search.svc:6333"), conn("team-b", "shared", "http://qdrant.search.svc.cluster.local:6333"), conn("team-c", "other", "http://qdrant.other.svc:6333")];
const sameQdrant = sameQdrantVia((ns, name) => connections.find((c) => c.metadata?.namespace === ns && c.metadata.name === name));

test("alone, or the oldest unfinished: no holder; a younger one waits for the oldest", () => {
  const a = rollout("a", { created: "2026-03-01T09:00:00Z", phase: "Validating" });
  const b = rollout("b", { created: "2026-03-01T10:00:00Z" });
  assert.equal(holderOf(a, [a], sameQdrant, NOW), null);
  assert.equal(holderOf(a, [a, b], sameQdrant, NOW), null);
  assert.deepEqual(holderOf(b, [a, b], sameQdrant, NOW), { namespace: "prod", name: "a" });
  // Neither begun: the older holds.
  const c = rollout("c", { created: "2026-03-01T11:00:00Z" });
  assert.deepEqual(holderOf(c, [b, c], sameQdrant, NOW), { namespace: "prod", name: "b" });
  // Same creation time: by namespace/name.
  const d1 = rollout("d1", { created: "2026-03-01T11:00:00Z" });
  const d2 = rollout("d2", { created: "2026-03-01T11:00:00Z" });
  assert.deepEqual(holderOf(d2, [d1, d2], sameQdrant, NOW), { namespace: "prod", name: "d1" });
  assert.equal(holderOf(d1, [d1, d2], sameQdrant, NOW), null);
});

test("a rollout that has begun holds the alias against an older one that has not", () => {
  const older = rollout("older", { created: "2026-03-01T08:00:00Z" });
  const begun = rollout("begun", { created: "2026-03-01T09:00:00Z", phase: "Preparing" });
  assert.deepEqual(holderOf(older, [older, begun], sameQdrant, NOW), { namespace: "prod", name: "begun" });
  assert.equal(holderOf(begun, [older, begun], sameQdrant, NOW), null);
});

test("finished rollouts, ones being deleted, other aliases and other Qdrants hold nothing", () => {
  const me = rollout("me", { created: "2026-03-01T11:00:00Z" });
  for (const phase of ["RolledBack", "Failed", "Aborted", "Promoted"]) {
    assert.equal(holderOf(me, [rollout("old", { created: "2026-03-01T08:00:00Z", phase }), me], sameQdrant, NOW), null, phase);
  }
  assert.equal(holderOf(me, [rollout("gone", { created: "2026-03-01T08:00:00Z", deleting: true, phase: "Validating" })], sameQdrant, NOW), null);
  assert.equal(holderOf(me, [rollout("other-alias", { created: "2026-03-01T08:00:00Z", alias: "other", phase: "Validating" })], sameQdrant, NOW), null);
  // Another connection to another Qdrant, and one whose connection is not known (only the same namespace/connection counts then).
  assert.equal(holderOf(me, [rollout("elsewhere", { ns: "team-c", connection: "other", created: "2026-03-01T08:00:00Z", phase: "Validating" })], sameQdrant, NOW), null);
  assert.equal(holderOf(me, [rollout("unknown", { ns: "team-d", connection: "nope", created: "2026-03-01T08:00:00Z", phase: "Validating" })], sameQdrant, NOW), null);
});

test("another namespace's connection to the same Qdrant counts (qdrantNames overlap)", () => {
  const me = rollout("me", { created: "2026-03-01T11:00:00Z" });
  const theirs = rollout("theirs", { ns: "team-b", connection: "shared", created: "2026-03-01T08:00:00Z", phase: "AwaitingPromotion" });
  assert.deepEqual(holderOf(me, [theirs, me], sameQdrant, NOW), { namespace: "team-b", name: "theirs" });
  assert.equal(
    waitingForAliasMessage("policies_production", { namespace: "team-b", name: "theirs" }),
    "CollectionRollout team-b/theirs is rolling out alias policies_production on the same Qdrant; this rollout starts when it is Promoted, RolledBack, Failed or Aborted",
  );
});

test("Promoted holds while its analysis window runs and has not passed, then not", () => {
  const running = rollout("p", { phase: "Promoted", promotedAt: "2026-03-01T11:30:00Z", window: "1h" });
  assert.equal(holdState(running, NOW), "begun");
  assert.equal(holdState(rollout("p", { phase: "Promoted", promotedAt: "2026-03-01T10:30:00Z", window: "1h" }), NOW), undefined, "window over");
  assert.equal(holdState(rollout("p", { phase: "Promoted", promotedAt: "2026-03-01T11:30:00Z", window: "1h", passed: true }), NOW), undefined, "passed");
  assert.equal(holdState(rollout("p", { phase: "Promoted", promotedAt: "2026-03-01T11:30:00Z" }), NOW), undefined, "no analysis");
  // Failed: held while a switch-back is to come; with switchBackOnFailure false the alias stays on green, released.
  assert.equal(holdState(rollout("p", { phase: "Promoted", promotedAt: "2026-03-01T11:30:00Z", window: "1h", passed: false }), NOW), "begun", "failed, switching back");
  assert.equal(holdState(rollout("p", { phase: "Promoted", promotedAt: "2026-03-01T11:30:00Z", window: "1h", passed: false, switchBack: false }), NOW), undefined, "failed, staying");
  const me = rollout("me", { created: "2026-03-01T11:40:00Z" });
  assert.deepEqual(holderOf(me, [running, me], sameQdrant, NOW), { namespace: "prod", name: "p" });
});
