/**
 * Bad input the CRD cannot refuse (it depends on what Qdrant and the cluster hold), each a condition whose
 * reason is in the error registry and whose message names the field to fix, with the alias untouched:
 * an alias named like an existing collection, a green that is the active collection, a missing
 * connection, a golden query of the wrong dimension, a config Qdrant refuses, copyFrom into a config with
 * another vector size, and a second rollout on an alias another one is rolling out (it waits, naming the
 * first, and starts only when the first is done). Malformed specs the CRD refuses are in
 * test/api/malformed.test.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { world } from "./helpers/backup-world.ts";
import { collectionExists } from "./helpers/restore-world.ts";
import {
  aliasTarget,
  applyRollout,
  blueGreen,
  getRollout,
  ownName,
  patchRolloutSpec,
  qdrantFacts,
  rolloutCondition,
  rolloutJobs,
  rolloutObj,
  waitForRollout,
  waitForRolloutPhase,
  waitForRolloutReason,
} from "./helpers/rollout-world.ts";

test("bad input: each a condition naming the field, the alias untouched", { concurrency: true }, async (t) => {
  const w = await world(t, "e2e-rollout-bad");
  const jobsOf = async (name: string) => (await rolloutJobs(w.ns)).filter((j) => j.metadata.name.startsWith(`rollout-${name}-`));

  await Promise.all([
    t.test("an alias named like an existing collection: AliasIsCollection naming spec.alias; nothing made", async (st) => {
      const green = ownName(st, w, "clash_v2");
      await applyRollout(w, rolloutObj("alias-clash", w.collection, green, { source: { copyFrom: {} } }));
      const r = await waitForRolloutReason(w.ns, "alias-clash", "AliasIsCollection");
      const message = rolloutCondition(r, "Ready")!.message;
      assert.match(message, /spec\.alias/, message);
      assert.match(message, new RegExp(w.collection), message);
      assert.equal(await collectionExists(w.qdrant.url, green, w.apiKey), false, "no green made");
      assert.equal(await aliasTarget(w.qdrant.url, w.collection, w.apiKey), null, "no alias made");
      assert.deepEqual(await jobsOf("alias-clash"), []);
    }),

    t.test("green is the active collection: GreenIsActive naming spec.collection; the alias untouched", async (st) => {
      const bg = await blueGreen(st, w, "self");
      await applyRollout(w, rolloutObj("self", bg.alias, bg.blue, { source: { external: {} } }));
      const r = await waitForRolloutReason(w.ns, "self", "GreenIsActive");
      const message = rolloutCondition(r, "Ready")!.message;
      assert.match(message, /spec\.collection/, message);
      assert.match(message, new RegExp(bg.blue), message);
      assert.equal(await aliasTarget(w.qdrant.url, bg.alias, w.apiKey), bg.blue);
      assert.notEqual(r.status?.phase, "Promoted");
    }),

    t.test("a missing connection: ReferenceNotFound naming spec.connectionRef; the alias untouched", async (st) => {
      const bg = await blueGreen(st, w, "noconn");
      await applyRollout(w, rolloutObj("no-conn", bg.alias, bg.green, { connectionRef: { name: "absent" }, source: { copyFrom: {} } }));
      const r = await waitForRolloutReason(w.ns, "no-conn", "ReferenceNotFound");
      const message = rolloutCondition(r, "Ready")!.message;
      assert.match(message, /absent/, message);
      assert.match(message, /spec\.connectionRef|QdrantConnection/, message);
      assert.deepEqual(await qdrantFacts(w, bg), { alias: bg.blue, blue: true, green: false });
      assert.deepEqual(await jobsOf("no-conn"), []);
    }),

    t.test("a golden query of the wrong dimension: Failed GoldenQueryRefused naming the query and Qdrant's words; the alias untouched", async (st) => {
      const bg = await blueGreen(st, w, "dim");
      await applyRollout(w, rolloutObj("wrong-dim", bg.alias, bg.green, {
        source: { copyFrom: {} },
        gates: { minPoints: 20, goldenQueries: [{ name: "three-dims", query: { query: [0.1, 0.2, 0.3] } }], timeout: "5m" },
      }));
      const r = await waitForRolloutPhase(w.ns, "wrong-dim", "Failed", 180_000);
      assert.equal(r.status?.failure?.reason, "GoldenQueryRefused");
      const message = r.status.failure.message;
      assert.match(message, /spec\.gates\.goldenQueries\[three-dims\]\.query/, message);
      assert.match(message, /dimension/i, "Qdrant's words");
      assert.equal(rolloutCondition(r, "Ready")?.reason, "GoldenQueryRefused");
      assert.deepEqual(await qdrantFacts(w, bg), { alias: bg.blue, blue: true, green: true }, "the alias on v1, v2 kept");
    }),

    t.test("a config Qdrant refuses: CollectionConfigRefused naming spec.source.copyFrom.config and Qdrant's words; nothing made", async (st) => {
      const bg = await blueGreen(st, w, "refused");
      await applyRollout(w, rolloutObj("refused", bg.alias, bg.green, { source: { copyFrom: { config: { vectors: { size: 0, distance: "Cosine" } } } } }));
      const r = await waitForRolloutReason(w.ns, "refused", "CollectionConfigRefused");
      const message = rolloutCondition(r, "Ready")!.message;
      assert.match(message, /spec\.source\.copyFrom\.config/, message);
      assert.match(message, /size/, "Qdrant's words");
      assert.deepEqual(await qdrantFacts(w, bg), { alias: bg.blue, blue: true, green: false });
      assert.deepEqual(await jobsOf("refused"), []);
    }),

    t.test("copyFrom into a config of another vector size: Failed CopyFailed pointing at source.external; the alias untouched", async (st) => {
      const bg = await blueGreen(st, w, "resize");
      await applyRollout(w, rolloutObj("resize", bg.alias, bg.green, { source: { copyFrom: { config: { vectors: { size: 8, distance: "Cosine" } } } }, job: { backoffLimit: 0 } }));
      const r = await waitForRolloutPhase(w.ns, "resize", "Failed", 180_000);
      assert.equal(r.status?.failure?.reason, "CopyFailed");
      assert.match(r.status.failure.message, /source\.external/, r.status.failure.message);
      assert.equal(await aliasTarget(w.qdrant.url, bg.alias, w.apiKey), bg.blue);
    }),

    t.test("a second rollout on the same alias waits, naming the first, and starts only when the first is done", async (st) => {
      const bg = await blueGreen(st, w, "shared");
      const second = ownName(st, w, "shared_v3");
      await applyRollout(w, rolloutObj("first", bg.alias, bg.green, { source: { copyFrom: {} }, gates: { minPoints: 20 }, promotion: { mode: "Manual" } }));
      await waitForRollout(w.ns, "first", "begun", (r) => r.status?.phase !== undefined && r.status.phase !== "Pending");
      await applyRollout(w, rolloutObj("second", bg.alias, second, { source: { copyFrom: {} }, gates: { minPoints: 20 } }));
      const waiting = await waitForRolloutReason(w.ns, "second", "WaitingForAlias");
      assert.equal(waiting.status?.phase, "Pending");
      const message = rolloutCondition(waiting, "Ready")!.message;
      assert.match(message, new RegExp(`${w.ns}/first`), message);
      assert.match(message, new RegExp(bg.alias), message);
      await waitForRolloutPhase(w.ns, "first", "AwaitingPromotion", 180_000);
      // Never interleaved: the second touched nothing while the first holds the alias.
      const still = await getRollout(w.ns, "second");
      assert.equal(rolloutCondition(still, "Ready")?.reason, "WaitingForAlias");
      assert.equal(await collectionExists(w.qdrant.url, second, w.apiKey), false);
      assert.deepEqual(await jobsOf("second"), []);
      assert.equal(await aliasTarget(w.qdrant.url, bg.alias, w.apiKey), bg.blue);

      // The first is aborted (it never switched): the second starts from v1 and promotes its own green.
      await patchRolloutSpec(w.ns, "first", { abort: true });
      await waitForRolloutPhase(w.ns, "first", "Aborted");
      const r = await waitForRolloutPhase(w.ns, "second", "Promoted", 180_000);
      assert.equal(r.status?.activeCollection, bg.blue);
      assert.equal(await aliasTarget(w.qdrant.url, bg.alias, w.apiKey), second);
    }),
  ]);
});
