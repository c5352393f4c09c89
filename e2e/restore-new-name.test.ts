/**
 * A restore into a new name while the original keeps serving (`policies` → `policies_restored`): the
 * original's points are untouched, the new collection holds the same ones, and with `target.alias` the
 * alias points at the restored collection once it is verified (one alias request, an AliasSwitched
 * Event), re-pointed from wherever it pointed before.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { allPoints, apply, world } from "./helpers/backup-world.ts";
import { aliases, backedUp, cleanupOnQdrant, createAlias, eventsOf, restoreCondition, restoreObj, waitForRestorePhase } from "./helpers/restore-world.ts";

test("into a new name beside the serving original; target.alias then points at the restored collection", async (t) => {
  const w = await world(t, "e2e-restore-newname");
  const b = await backedUp(w);
  const original = await allPoints(w.qdrant.url, w.collection, w.apiKey);
  const restored = `${w.collection}_restored`;
  const viaAlias = `${w.collection}_r2`;
  const alias = `${w.collection}_live`;
  cleanupOnQdrant(t, w.qdrant.url, w.apiKey, [restored, viaAlias], [alias]);

  await apply(w.ns, [restoreObj("beside", { backupRef: { name: b.name } }, { target: { collection: restored } })]);
  const r = await waitForRestorePhase(w.ns, "beside", "Succeeded");
  assert.equal(r.status?.targetCollection, restored);
  assert.deepEqual(r.status?.pointsCount, { expected: 20, actual: 20 });
  assert.deepEqual([restoreCondition(r, "Ready")?.status, restoreCondition(r, "Ready")?.reason], ["True", "Restored"]);
  assert.deepEqual(await allPoints(w.qdrant.url, restored, w.apiKey), original, "the new collection holds the backed-up points");
  assert.deepEqual(await allPoints(w.qdrant.url, w.collection, w.apiKey), original, "the original is untouched");

  // The alias serves the original now; the restore with target.alias re-points it.
  await createAlias(w.qdrant.url, alias, w.collection, w.apiKey);
  await apply(w.ns, [restoreObj("switch", { backupRef: { name: b.name } }, { target: { collection: viaAlias, alias } })]);
  await waitForRestorePhase(w.ns, "switch", "Succeeded");
  const mine = (await aliases(w.qdrant.url, w.apiKey)).filter((a) => a.alias_name === alias);
  assert.deepEqual(mine, [{ alias_name: alias, collection_name: viaAlias }], "the alias points at the restored collection");
  assert.deepEqual(await allPoints(w.qdrant.url, alias, w.apiKey), original, "reads through the alias see the restored points");
  assert.deepEqual(await allPoints(w.qdrant.url, w.collection, w.apiKey), original, "the original is still there, untouched");
  const events = await eventsOf(w.ns, "switch");
  assert.ok(events.some((e) => e.startsWith("AliasSwitched: ") && e.includes(alias)), `an AliasSwitched event: ${events.join(" | ")}`);
});
