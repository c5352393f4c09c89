/**
 * Promotion, after it, and undo, each on its own alias of one world:
 * - Manual: every gate passes, the rollout waits in AwaitingPromotion (the alias on v1) until
 *   `approved: true`, then switches;
 * - analysis.window: after the switch the golden query keeps running against v2 (now active) and v1; the
 *   test changes v2's points so it fails, and the rollout switches back by itself: RolledBack, reason
 *   AnalysisFailed, the failing numbers in its message and in status.analysis.results;
 *   a window that ends with every check passing sets analysis.passed (Ready True), and with
 *   switchBackOnFailure false a failing check is only said (AnalysisFailed), the alias left on v2;
 * - `rollback: true` on a Promoted rollout points the alias at v1 again (v2 kept);
 * - backupActiveFirst: a QdrantBackup of v1 succeeds before the switch, not owned by the rollout;
 * - `abort: true` before promotion stops the rollout and deletes the v2 it created; the alias never moved.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { getBackup } from "./helpers/backup-world.ts";
import {
  aliasTarget,
  apiOf,
  applyRollout,
  blueGreen,
  conditionSummary,
  eventsWithReason,
  pointsOf,
  qdrantFacts,
  rolloutCondition,
  rolloutEvents,
  patchRolloutSpec,
  rolloutObj,
  scrambledPoints,
  sharedWorld,
  waitForRollout,
  waitForRolloutPhase,
} from "./helpers/rollout-world.ts";

const goldenById = { goldenQueries: [{ name: "neighbours-of-3", query: { query: 3 }, topK: 5, minOverlap: 1 }] };

test("promotion: manual approval, automatic switch-back, rollback, a backup before the switch, and abort", { concurrency: true }, async (t) => {
  const { w, v1 } = await sharedWorld(t, "e2e-rollout-promotion");

  await Promise.all([
    t.test("Manual: AwaitingPromotion with the alias on v1 until approved: true, then the switch", async (st) => {
      const bg = await blueGreen(st, w, "manual");
      await applyRollout(w, rolloutObj("manual", bg.alias, bg.green, { source: { copyFrom: {} }, gates: { minPoints: 20, ...goldenById }, promotion: { mode: "Manual" } }));
      const waiting = await waitForRolloutPhase(w.ns, "manual", "AwaitingPromotion", 180_000);
      assert.equal(conditionSummary(waiting, "Ready"), "False AwaitingPromotion");
      assert.match(rolloutCondition(waiting, "Ready")!.message, /kubectl patch collectionrollout manual .*"?approved"?: ?true/, "says how to approve");
      assert.ok((waiting.status?.gates ?? []).length > 0 && waiting.status!.gates!.every((g) => g.passed), JSON.stringify(waiting.status?.gates));
      assert.deepEqual(await qdrantFacts(w, bg), { alias: bg.blue, blue: true, green: true }, "built and judged, not switched");
      await patchRolloutSpec(w.ns, "manual", { promotion: { mode: "Manual", approved: true } });
      const r = await waitForRolloutPhase(w.ns, "manual", "Promoted");
      assert.equal(r.status?.previousCollection, bg.blue);
      assert.equal(await aliasTarget(w.qdrant.url, bg.alias, w.apiKey), bg.green);
      assert.equal((await eventsWithReason(w.ns, "manual", "Switched")).length, 1);
    }),

    t.test("analysis: a golden query failing after the switch switches back by itself, with the numbers", async (st) => {
      const bg = await blueGreen(st, w, "watched");
      await applyRollout(w, rolloutObj("watched", bg.alias, bg.green, {
        source: { copyFrom: {} },
        gates: { minPoints: 20, ...goldenById },
        analysis: { window: "10m" },
      }));
      const promoted = await waitForRolloutPhase(w.ns, "watched", "Promoted", 180_000);
      assert.equal(await aliasTarget(w.qdrant.url, bg.alias, w.apiKey), bg.green);
      assert.notEqual(rolloutCondition(promoted, "Ready")?.status, "True", "not Ready while the analysis window runs");
      // v2 goes bad after the switch: every point gets another point's vector, so point 3's neighbours change.
      await apiOf(w).upsert(bg.green, scrambledPoints(v1));
      const r = await waitForRolloutPhase(w.ns, "watched", "RolledBack", 120_000);
      assert.equal(r.status?.failure?.reason, "AnalysisFailed");
      assert.match(r.status.failure.message, /overlap \d\.\d\d \(\d\/5\)/, r.status.failure.message);
      const row = r.status?.analysis?.results?.find((g) => g.name === "goldenQuery/neighbours-of-3");
      assert.equal(row?.passed, false, JSON.stringify(r.status?.analysis));
      assert.match(row?.observed ?? "", /overlap \d\.\d\d \(\d\/5\)/);
      assert.ok(r.status?.rolledBackAt);
      assert.equal(rolloutCondition(r, "Ready")?.status, "False");
      assert.equal(rolloutCondition(r, "Promoted")?.status, "False");
      assert.deepEqual(await qdrantFacts(w, bg), { alias: bg.blue, blue: true, green: true }, "back on v1, v2 kept");
      assert.deepEqual(await pointsOf(w, bg.alias), v1);
      const events = await rolloutEvents(w.ns, "watched");
      assert.ok(events.some((e) => e.startsWith("RolledBack: ")), events.join(" | "));
    }),

    t.test("analysis: a window that ends with every check passing: analysis.passed, Ready True, the alias stays on v2", async (st) => {
      const bg = await blueGreen(st, w, "calm");
      await applyRollout(w, rolloutObj("calm", bg.alias, bg.green, { source: { copyFrom: {} }, gates: { minPoints: 20, ...goldenById }, analysis: { window: "15s" } }));
      await waitForRolloutPhase(w.ns, "calm", "Promoted", 180_000);
      const r = await waitForRollout(w.ns, "calm", "analysis passed", (x) => x.status?.analysis?.passed === true, 120_000);
      assert.equal(conditionSummary(r, "Ready"), "True Promoted");
      assert.ok((r.status?.analysis?.results ?? []).every((g) => g.passed), JSON.stringify(r.status?.analysis));
      assert.equal(await aliasTarget(w.qdrant.url, bg.alias, w.apiKey), bg.green);
    }),

    t.test("analysis with switchBackOnFailure false: a failing check is said (AnalysisFailed), the alias stays on v2", async (st) => {
      const bg = await blueGreen(st, w, "stay");
      await applyRollout(w, rolloutObj("stay", bg.alias, bg.green, { source: { copyFrom: {} }, gates: { minPoints: 20, ...goldenById }, analysis: { window: "10m", switchBackOnFailure: false } }));
      await waitForRolloutPhase(w.ns, "stay", "Promoted", 180_000);
      await apiOf(w).upsert(bg.green, scrambledPoints(v1));
      const r = await waitForRollout(w.ns, "stay", "a condition AnalysisFailed", (x) => (x.status?.conditions ?? []).some((c) => c.reason === "AnalysisFailed"), 120_000);
      assert.equal(r.status?.phase, "Promoted");
      const said = (r.status?.conditions ?? []).find((c) => c.reason === "AnalysisFailed")!;
      assert.match(said.message, /overlap \d\.\d\d \(\d\/5\)/, said.message);
      assert.equal(await aliasTarget(w.qdrant.url, bg.alias, w.apiKey), bg.green, "not switched back");
    }),

    t.test("rollback: true points the alias at v1 again", async (st) => {
      const bg = await blueGreen(st, w, "undo");
      await applyRollout(w, rolloutObj("undo", bg.alias, bg.green, { source: { copyFrom: {} }, gates: { minPoints: 20 } }));
      await waitForRolloutPhase(w.ns, "undo", "Promoted", 180_000);
      assert.equal(await aliasTarget(w.qdrant.url, bg.alias, w.apiKey), bg.green);
      await patchRolloutSpec(w.ns, "undo", { rollback: true });
      const r = await waitForRolloutPhase(w.ns, "undo", "RolledBack");
      assert.equal(conditionSummary(r, "Ready"), "False RolledBack");
      assert.equal(rolloutCondition(r, "Promoted")?.status, "False");
      assert.deepEqual(await qdrantFacts(w, bg), { alias: bg.blue, blue: true, green: true }, "back on v1, v2 kept");
      assert.deepEqual(await pointsOf(w, bg.alias), v1);
      const rolledBack = await eventsWithReason(w.ns, "undo", "RolledBack");
      assert.match(rolledBack[0]!, new RegExp(`${bg.alias}.*${bg.blue}`));
    }),

    t.test("backupActiveFirst: a QdrantBackup of v1 succeeds before the switch, and outlives the rollout", async (st) => {
      const bg = await blueGreen(st, w, "backedup");
      await applyRollout(w, rolloutObj("backed-up", bg.alias, bg.green, { source: { copyFrom: {} }, gates: { minPoints: 20 }, promotion: { mode: "Auto", backupActiveFirst: { locationRef: { name: "s3" } } } }));
      const r = await waitForRolloutPhase(w.ns, "backed-up", "Promoted", 240_000);
      const name = `rollout-backed-up-${r.metadata.uid.replace(/-/g, "").slice(0, 8)}-before-switch`;
      assert.equal(r.status?.backupName, name);
      const backup = await getBackup(w.ns, name);
      assert.equal(backup.status?.phase, "Succeeded");
      assert.deepEqual(backup.status?.collections?.map((c) => [c.name, c.pointsCount]), [[bg.blue, 20]], "a backup of v1, the active collection");
      assert.ok(Date.parse(backup.status.completionTime!) <= Date.parse(r.status.promotedAt!) + 999, "done before the switch");
      const meta = (backup as unknown as { metadata: { labels?: Record<string, string>; ownerReferences?: unknown[] } }).metadata;
      assert.equal(meta.ownerReferences, undefined, "not owned: it outlives the rollout");
      assert.equal(await aliasTarget(w.qdrant.url, bg.alias, w.apiKey), bg.green);
    }),

    t.test("abort: true before promotion deletes the v2 it created; the alias never moved", async (st) => {
      const bg = await blueGreen(st, w, "stop");
      await applyRollout(w, rolloutObj("stop", bg.alias, bg.green, { source: { copyFrom: {} }, gates: { minPoints: 20 }, promotion: { mode: "Manual" } }));
      await waitForRolloutPhase(w.ns, "stop", "AwaitingPromotion", 180_000);
      assert.deepEqual(await qdrantFacts(w, bg), { alias: bg.blue, blue: true, green: true });
      await patchRolloutSpec(w.ns, "stop", { abort: true });
      const r = await waitForRolloutPhase(w.ns, "stop", "Aborted");
      assert.equal(rolloutCondition(r, "Ready")?.status, "False");
      assert.deepEqual(await qdrantFacts(w, bg), { alias: bg.blue, blue: true, green: false }, "v2 deleted, the alias on v1");
      assert.deepEqual(await pointsOf(w, bg.blue), v1, "v1 untouched");
      await eventsWithReason(w.ns, "stop", "Aborted");
      assert.ok((await rolloutEvents(w.ns, "stop")).every((e) => !e.startsWith("Switched: ")));
      // Finished: it stays Aborted.
      await waitForRollout(w.ns, "stop", "still Aborted", (x) => x.status?.phase === "Aborted");
    }),
  ]);
});
