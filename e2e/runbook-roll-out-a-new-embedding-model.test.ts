/**
 * docs/runbooks/roll-out-a-new-embedding-model.md, run block by block against the real manager and Qdrant:
 * a 4-dim v1 behind an alias, a rollout creating an 8-dim v2 with Manual promotion, then promote and undo
 * through `kubectl qdrant rollout`. The one provider block (the user's embedding pipeline) is the test
 * writing v1's points into v2 with each vector doubled (same neighbours by id, so the golden query passes).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { aliasTarget, apiOf, blueGreen, eightDimPoints, getRollout, pointsOf, type Point } from "./helpers/rollout-world.ts";
import { world } from "./helpers/backup-world.ts";
import { openRunbook } from "./helpers/runbook.ts";

test("runbook: roll out a new embedding model, every command as written", async (t) => {
  const w = await world(t, "rb-embeddings");
  const bg = await blueGreen(t, w, "v2");
  const v1 = (await pointsOf(w, w.collection)) as Point[];
  const rb = await openRunbook(t, "roll-out-a-new-embedding-model", {
    NS: w.ns,
    ROLLOUT: "policies-v2",
    ALIAS: bg.alias,
    GREEN: bg.green,
    DIM: "8",
    MIN_POINTS: "20",
    QDRANT_URL: w.qdrant.url,
    QDRANT_API_KEY: w.apiKey,
  });
  await rb.next(); // variables
  const created = await rb.next();
  assert.match(created.stdout, /minPoints/, "the status names the gates");
  assert.equal(await aliasTarget(w.qdrant.url, bg.alias, w.apiKey), bg.blue, "held on v1 while v2 is empty");

  rb.skipProvider(); // the pipeline:
  await apiOf(w).upsert(bg.green, eightDimPoints(v1));

  const judged = await rb.next();
  assert.match(judged.stdout, /AwaitingPromotion/);
  const queried = await rb.next();
  assert.match(queried.stdout, /^\[[\d,]+\]$/m, "the query on v2 prints ids");
  const promoted = await rb.next();
  assert.equal(promoted.stdout.trim().split("\n").at(-1), bg.green, "after promote the alias serves v2");
  assert.equal(await aliasTarget(w.qdrant.url, bg.alias, w.apiKey), bg.green);
  const undone = await rb.next();
  assert.equal(undone.stdout.trim().split("\n").at(-1), bg.blue, "after undo the alias serves v1 again");
  assert.equal(await aliasTarget(w.qdrant.url, bg.alias, w.apiKey), bg.blue);
  assert.equal((await getRollout(w.ns, "policies-v2")).status?.phase, "RolledBack");
  assert.ok(rb.done());
});
