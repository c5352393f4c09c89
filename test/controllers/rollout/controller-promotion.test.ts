/**
 * Promotion and undo in the real manager: Manual waits in AwaitingPromotion with the kubectl patch to
 * type, and promotes on approved: true; rollback: true after promotion points the alias back at the
 * previous collection (re-read from Qdrant), phase RolledBack with its Events.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { kubectl } from "../../helpers/kubectl.ts";
import { seedPoints } from "../../helpers/qdrant.ts";
import { apply, condition, eventMatching, rolloutWorld, waitFor } from "./rollout-world.ts";

const external = { external: { config: { vectors: { size: 4, distance: "Cosine" } } } };

test("Manual: AwaitingPromotion until approved, then one switch; rollback points the alias back at blue", async (t) => {
  const w = await rolloutWorld(t, "rollout-manual");
  await apply(w.ns, [w.rollout("v2", { source: external, gates: { minPoints: 20 }, promotion: { mode: "Manual" } })]);
  await waitFor(w.ns, "v2", "Validating", (r) => r.status?.phase === "Validating");
  await w.api.upsert(w.green, seedPoints(20));
  const waiting = await waitFor(w.ns, "v2", "AwaitingPromotion", (r) => r.status?.phase === "AwaitingPromotion");
  const ready = condition(waiting, "Ready");
  assert.deepEqual([ready?.status, ready?.reason], ["False", "AwaitingPromotion"]);
  assert.match(ready?.message ?? "", /kubectl patch collectionrollout v2 .*"approved":true/);
  assert.equal(condition(waiting, "GatesPassed")?.status, "True");
  assert.equal(await w.aliasTarget(), w.blue, "not switched before approval");

  await kubectl(["patch", "-n", w.ns, "collectionrollout", "v2", "--type=merge", "-p", JSON.stringify({ spec: { promotion: { mode: "Manual", approved: true } } })]);
  const promoted = await waitFor(w.ns, "v2", "Promoted", (r) => r.status?.phase === "Promoted");
  assert.equal(await w.aliasTarget(), w.green);
  assert.equal(promoted.status?.previousCollection, w.blue);
  assert.equal(promoted.status?.observedGeneration, 2);

  await kubectl(["patch", "-n", w.ns, "collectionrollout", "v2", "--type=merge", "-p", JSON.stringify({ spec: { rollback: true } })]);
  const back = await waitFor(w.ns, "v2", "RolledBack", (r) => r.status?.phase === "RolledBack", { ends: ["Failed", "Aborted"] });
  assert.equal(await w.aliasTarget(), w.blue, "the alias points at blue again on Qdrant");
  assert.ok(back.status?.rolledBackAt);
  assert.equal(condition(back, "Promoted")?.status, "False");
  assert.equal(await w.api.collectionExists(w.green), true, "green is kept");
  const said = await eventMatching(w.ns, "v2", /RolledBack: /);
  assert.match(said, new RegExp(`Switched: Switched alias ${w.alias} to ${w.green} \\(from ${w.blue}\\)`));
  assert.match(said, new RegExp(`Switched: Switched alias ${w.alias} to ${w.blue} \\(from ${w.green}\\)`));
});
