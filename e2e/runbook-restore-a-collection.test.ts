/**
 * docs/runbooks/restore-a-collection.md, run block by block against the real manager, MinIO and Qdrant:
 * a collection behind an alias is damaged after its backup; the runbook finds the backup, restores it under
 * a new name with `kubectl qdrant restore --wait`, checks it with curl, points the alias at it in one
 * request and deletes the damaged collection.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { uniqueName } from "../test/helpers/qdrant.ts";
import { allPoints, world } from "./helpers/backup-world.ts";
import { aliases, backedUp, cleanupOnQdrant, collectionNames, createAlias, qdrantCall } from "./helpers/restore-world.ts";
import { openRunbook } from "./helpers/runbook.ts";

test("runbook: restore a collection, every command as written", async (t) => {
  const w = await world(t, "rb-restore");
  const alias = uniqueName("policies_production");
  const good = await allPoints(w.qdrant.url, w.collection, w.apiKey);
  await backedUp(w, "nightly");
  await createAlias(w.qdrant.url, alias, w.collection, w.apiKey);
  // The damage, after the backup: half the points gone.
  await qdrantCall(w.qdrant.url, `/collections/${w.collection}/points/delete?wait=true`, w.apiKey, { method: "POST", body: { points: Array.from({ length: 10 }, (_, i) => i + 1) } });
  assert.notDeepEqual(await allPoints(w.qdrant.url, w.collection, w.apiKey), good);

  const rb = await openRunbook(t, "restore-a-collection", { NS: w.ns, COLLECTION: w.collection, ALIAS: alias, QDRANT_URL: w.qdrant.url, QDRANT_API_KEY: w.apiKey });
  await rb.next(); // variables
  const listed = await rb.next();
  assert.match(listed.stdout, /nightly/, "the list shows the backup");
  const chosen = await rb.next();
  assert.match(chosen.stdout, /restoring from nightly/);
  await rb.next(); // restore --wait
  const restored = (await collectionNames(w.qdrant.url, w.apiKey)).find((n) => n.startsWith(`${w.collection}_restored_`));
  assert.ok(restored, "a collection <collection>_restored_<time> exists");
  cleanupOnQdrant(t, w.qdrant.url, w.apiKey, [restored], [alias]);
  assert.deepEqual(await allPoints(w.qdrant.url, restored, w.apiKey), good, "the restored collection holds the points of the backup");
  const checked = await rb.next();
  assert.match(checked.stdout, /^20$/m, "the check prints the restored points count");
  const switched = await rb.next();
  assert.equal(switched.stdout.trim().split("\n").at(-1), restored, "the check after the switch prints the restored collection");
  assert.equal((await aliases(w.qdrant.url, w.apiKey)).find((a) => a.alias_name === alias)?.collection_name, restored);
  await rb.next(); // delete the damaged collection
  assert.ok(!(await collectionNames(w.qdrant.url, w.apiKey)).includes(w.collection), "the damaged collection is gone");
  assert.ok(rb.done());
});
