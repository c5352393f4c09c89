/**
 * A restore into a new name while the original keeps serving (`policies` → `policies_restored`): the
 * original's points are untouched, the new collection holds the same ones, and with `target.alias` the
 * alias points at the restored collection once it is verified (one alias request, an AliasSwitched
 * Event), re-pointed from wherever it pointed before. With `overwrite: true` an existing collection is
 * replaced in place by the backup's points.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { QdrantApi } from "../src/qdrant/client.ts";
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

test("overwrite: true replaces an existing collection's points with the backup's, in place (its aliases kept)", async (t) => {
  const w = await world(t, "e2e-restore-overwrite");
  const b = await backedUp(w);
  const original = await allPoints(w.qdrant.url, w.collection, w.apiKey);
  const target = `${w.collection}_stale`;
  const alias = `${w.collection}_stale_alias`;
  const api = new QdrantApi({ url: w.qdrant.url, apiKey: w.apiKey, timeoutMs: 30_000 });
  await api.createCollection(target, { vectors: { size: 4, distance: "Cosine" } });
  cleanupOnQdrant(t, w.qdrant.url, w.apiKey, [target], [alias]);
  await api.upsert(target, [{ id: 999, vector: [0, 0, 0, 1], payload: { stale: true } }]);
  await createAlias(w.qdrant.url, alias, target, w.apiKey);

  await apply(w.ns, [restoreObj("replace", { backupRef: { name: b.name } }, { overwrite: true, target: { collection: target } })]);
  const r = await waitForRestorePhase(w.ns, "replace", "Succeeded");
  assert.deepEqual(r.status?.pointsCount, { expected: 20, actual: 20 });
  assert.deepEqual(await allPoints(w.qdrant.url, target, w.apiKey), original, "the backup's points, the stale one gone");
  assert.deepEqual((await aliases(w.qdrant.url, w.apiKey)).filter((a) => a.alias_name === alias), [{ alias_name: alias, collection_name: target }], "its alias still points at it");
});
