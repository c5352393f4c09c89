/**
 * The CollectionRollout controller in the real manager (as its generated ServiceAccount) against the real
 * apiserver and the environment's Qdrant, source `external` with a config: the manager creates green with
 * its owner stamp, the test plays the user's pipeline and fills it, the gates pass, Auto promotion switches
 * the alias (re-read from Qdrant), the status and the Events say so, and blue is kept as previous.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { seedPoints } from "../../helpers/qdrant.ts";
import { apply, condition, eventMatching, getRollout, rolloutWorld, waitFor } from "./rollout-world.ts";

test("external with config: green is created stamped, filled by the pipeline, gated, and promoted with one switch", async (t) => {
  const w = await rolloutWorld(t, "rollout-external");
  await apply(w.ns, [w.rollout("v2", { source: { external: { config: { vectors: { size: 4, distance: "Cosine" } } } }, gates: { minPoints: 20, pointsWithinPercent: 5 } })]);

  // Green is made by the manager, stamped with the rollout's uid; the alias stays on blue meanwhile.
  const made = await waitFor(w.ns, "v2", "Validating with green created", (r) => r.status?.phase === "Validating");
  assert.equal(await w.greenOwner(), made.metadata.uid);
  assert.equal(await w.aliasTarget(), w.blue);
  assert.equal(made.status?.activeCollection, w.blue);
  // Empty green fails minPoints with its numbers; the alias does not move.
  const failing = await waitFor(w.ns, "v2", "a failing minPoints row", (r) => r.status?.gates?.some((g) => g.name === "minPoints" && !g.passed) === true);
  assert.match(JSON.stringify(failing.status?.gates), /0 points/);
  assert.equal(condition(failing, "GatesPassed")?.status, "False");
  assert.equal(await w.aliasTarget(), w.blue);

  // The user's pipeline fills green.
  await w.api.upsert(w.green, seedPoints(20));
  const promoted = await waitFor(w.ns, "v2", "Promoted", (r) => r.status?.phase === "Promoted");
  assert.equal(await w.aliasTarget(), w.green, "the alias points at green on Qdrant");
  assert.equal(promoted.status?.previousCollection, w.blue);
  assert.ok(promoted.status?.promotedAt);
  assert.deepEqual([condition(promoted, "Ready")?.status, condition(promoted, "Ready")?.reason], ["True", "Promoted"]);
  assert.equal(condition(promoted, "Promoted")?.status, "True");
  assert.equal(condition(promoted, "GatesPassed")?.status, "True");
  assert.equal(promoted.status?.observedGeneration, 1);
  assert.ok(promoted.status?.gates?.every((g) => g.passed), JSON.stringify(promoted.status?.gates));

  const said = await eventMatching(w.ns, "v2", new RegExp(`Switched: Switched alias ${w.alias} to ${w.green} \\(from ${w.blue}\\)`));
  assert.match(said, new RegExp(`Created: Created collection ${w.green}`));
  assert.equal(said.match(/Switched:/g)?.length, 1, "one switch");
  // Blue is kept (no retainPrevious), green is still ours.
  assert.equal(await w.api.collectionExists(w.blue), true);
  assert.equal((await getRollout(w.ns, "v2"))?.status?.phase, "Promoted");
  // The manager logged the switch Kubernetes-style.
  assert.match(await w.manager.log(), /Switched alias/);
});
