/**
 * The name is the lock, in the real manager: a stranger's green is never touched (GreenExists naming
 * spec.collection, alias untouched); a second rollout of the same alias waits (WaitingForAlias naming the
 * first) and starts once the first is finished; abort deletes the green this rollout made, and only it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { kubectl } from "../../helpers/kubectl.ts";
import { seedPoints } from "../../helpers/qdrant.ts";
import { apply, condition, eventMatching, getRollout, rolloutWorld, waitFor } from "./rollout-world.ts";

const config = { vectors: { size: 4, distance: "Cosine" as const } };

test("a stranger's green: GreenExists naming spec.collection, never written to, alias untouched", async (t) => {
  const w = await rolloutWorld(t, "rollout-stranger");
  await w.api.createCollection(w.green, { ...config, metadata: { team: "someone-else" } });
  await w.api.upsert(w.green, seedPoints(5));
  await apply(w.ns, [w.rollout("v2", { source: { external: { config } }, gates: { minPoints: 1 } })]);
  const waiting = await waitFor(w.ns, "v2", "GreenExists", (r) => condition(r, "Ready")?.reason === "GreenExists");
  assert.match(condition(waiting, "Ready")?.message ?? "", new RegExp(`spec\\.collection.*${w.green}`));
  assert.equal(await w.aliasTarget(), w.blue);
  assert.deepEqual(await w.api.collectionMetadata(w.green), { team: "someone-else" }, "no stamp written");
  assert.equal(await w.api.count(w.green), 5);

  // Abort: the stranger's green stays.
  await kubectl(["patch", "-n", w.ns, "collectionrollout", "v2", "--type=merge", "-p", JSON.stringify({ spec: { abort: true } })]);
  await waitFor(w.ns, "v2", "Aborted", (r) => r.status?.phase === "Aborted", { ends: ["Failed", "RolledBack"] });
  assert.equal(await w.api.collectionExists(w.green), true);
  assert.equal(await w.aliasTarget(), w.blue);
});

test("a second rollout of the same alias waits naming the first, and starts when the first is finished", async (t) => {
  const w = await rolloutWorld(t, "rollout-second");
  const other = w.freshName("rollout_green_b");
  await apply(w.ns, [w.rollout("first", { source: { external: { config } }, gates: { minPoints: 20 }, promotion: { mode: "Manual" } })]);
  await waitFor(w.ns, "first", "Validating", (r) => r.status?.phase === "Validating");
  await apply(w.ns, [w.rollout("second", { collection: other, source: { external: { config } }, gates: { minPoints: 1 } })]);
  const waiting = await waitFor(w.ns, "second", "WaitingForAlias", (r) => condition(r, "Ready")?.reason === "WaitingForAlias");
  assert.equal(waiting.status?.phase, "Pending");
  assert.match(condition(waiting, "Ready")?.message ?? "", new RegExp(`CollectionRollout ${w.ns}/first is rolling out alias ${w.alias}`));
  assert.equal(await w.api.collectionExists(other), false, "the waiting rollout never touches Qdrant");

  // The first is aborted: it deletes its own green, and the second starts and builds its own.
  await kubectl(["patch", "-n", w.ns, "collectionrollout", "first", "--type=merge", "-p", JSON.stringify({ spec: { abort: true } })]);
  await waitFor(w.ns, "first", "Aborted", (r) => r.status?.phase === "Aborted", { ends: ["Failed", "RolledBack"] });
  await waitFor(w.ns, "second", "Validating", (r) => r.status?.phase === "Validating");
  assert.equal(await w.api.collectionExists(other), true);
  assert.equal(await w.api.collectionExists(w.green), false, "abort deleted the green the first rollout made");
  assert.equal(await w.aliasTarget(), w.blue);
  assert.match(await eventMatching(w.ns, "first", /DeletedGreen: /), /Aborted: /);
  assert.equal((await getRollout(w.ns, "first"))?.status?.failure?.reason, "Aborted");
});
