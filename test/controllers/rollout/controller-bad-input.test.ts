/**
 * Bad input only Qdrant can tell, in the real manager: a config Qdrant refuses fails the rollout naming the
 * field with Qdrant's words and makes nothing; an alias that is a collection's name waits naming
 * spec.alias; a green that is the active collection fails naming spec.collection. The alias never moves.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { apply, condition, eventMatching, rolloutWorld, waitFor } from "./rollout-world.ts";

test("a config Qdrant refuses: Failed CollectionConfigRefused naming spec.source.external.config with Qdrant's words; nothing made", async (t) => {
  const w = await rolloutWorld(t, "rollout-refused");
  await apply(w.ns, [w.rollout("v2", { source: { external: { config: { vectors: { size: 0, distance: "Cosine" } } } } })]);
  const failed = await waitFor(w.ns, "v2", "Failed", (r) => r.status?.phase === "Failed", { ends: ["Aborted", "RolledBack", "Promoted"] });
  assert.equal(failed.status?.failure?.reason, "CollectionConfigRefused");
  assert.match(failed.status?.failure?.message ?? "", new RegExp(`^spec\\.source\\.external\\.config: Qdrant refused to create collection ${w.green} with it: .*size`));
  assert.equal(condition(failed, "Ready")?.reason, "CollectionConfigRefused");
  assert.equal(await w.api.collectionExists(w.green), false);
  assert.equal(await w.aliasTarget(), w.blue);
  assert.match(await eventMatching(w.ns, "v2", /Warning Failed: /), /CollectionConfigRefused: spec\.source\.external\.config/);
});

test("an alias named like a collection waits AliasIsCollection naming spec.alias; green equal to the active collection fails GreenIsActive", async (t) => {
  const w = await rolloutWorld(t, "rollout-names");
  const taken = w.freshName("rollout_taken");
  await w.api.createCollection(taken, { vectors: { size: 4, distance: "Cosine" } });
  await apply(w.ns, [
    w.rollout("clash", { alias: taken, source: { external: {} } }),
    w.rollout("same", { collection: w.blue, source: { external: {} } }),
  ]);
  const clash = await waitFor(w.ns, "clash", "AliasIsCollection", (r) => condition(r, "Ready")?.reason === "AliasIsCollection");
  assert.match(condition(clash, "Ready")?.message ?? "", new RegExp(`^spec\\.alias: ${taken} is the name of a collection`));
  const same = await waitFor(w.ns, "same", "GreenIsActive", (r) => r.status?.failure?.reason === "GreenIsActive", { ends: [] });
  assert.match(same.status?.failure?.message ?? "", /^spec\.collection: /);
  assert.equal(await w.aliasTarget(), w.blue);
  assert.equal(await w.api.collectionExists(w.green), false);
});
