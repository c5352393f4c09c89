/**
 * The runbook the operator replaces, with copyFrom: clients query an alias that points at v1; the rollout
 * builds v2 with a new config (another shard_number, scalar quantization), copies v1's points into it in
 * batches with a Job, judges it with every Qdrant gate (each row with its numbers), switches the alias in
 * one request (one Switched Event), keeps v1 as the previous collection and deletes it retainPrevious
 * later. v2 holds exactly v1's ids, vectors and payloads.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { eventually } from "../test/helpers/testenv.ts";
import { managerMetrics } from "./helpers/restore-world.ts";
import {
  OWNER_METADATA,
  COPY_METADATA,
  aliasTarget,
  assertSamePoints,
  assertOneSwitch,
  applyRollout,
  collectionConfig,
  collectionMetadata,
  conditionSummary,
  eventsWithReason,
  pointsOf,
  qdrantFacts,
  rolloutCondition,
  rolloutEvents,
  rolloutJobs,
  rolloutObj,
  rolloutWorld,
  waitForRollout,
  waitForRolloutPhase,
} from "./helpers/rollout-world.ts";

test("copyFrom v1 → v2 with a new shard_number and quantization: the same points, every gate's numbers, one switch, and v1 deleted retainPrevious later", async (t) => {
  const w = await rolloutWorld(t, "e2e-rollout-copy");
  const v1 = await pointsOf(w, w.blue);
  assert.equal(v1.length, 20);
  const config = { vectors: { size: 4, distance: "Cosine" }, shard_number: 2, quantization_config: { scalar: { type: "int8", quantile: 0.99, always_ram: true } } };
  await applyRollout(w, rolloutObj("v2", w.alias, w.green, {
    // 7 a batch: the 20 points take three pages, so the copy's paging and its record are exercised.
    source: { copyFrom: { config, batchSize: 7 } },
    gates: {
      minPoints: 20,
      pointsWithinPercent: 0,
      requireGreen: true,
      goldenQueries: [{ name: "by-id", query: { query: 3 }, topK: 5, minOverlap: 1 }],
      timeout: "3m",
    },
    promotion: { mode: "Auto" },
    retainPrevious: "15s",
  }));

  const r = await waitForRolloutPhase(w.ns, "v2", "Promoted", 180_000);
  assert.equal(r.status?.activeCollection, w.blue, "blue recorded when the rollout began");
  assert.equal(r.status?.previousCollection, w.blue);
  assert.ok(r.status?.promotedAt);
  assert.equal(conditionSummary(r, "Promoted"), "True Promoted");
  assert.equal(conditionSummary(r, "GatesPassed").split(" ")[0], "True");
  assert.equal(rolloutCondition(r, "Ready")?.status, "True");

  // Every gate has a row with what was seen and what was asked.
  const rows = new Map((r.status?.gates ?? []).map((g) => [g.name, g]));
  assert.deepEqual([...rows.keys()].sort(), ["goldenQuery/by-id", "minPoints", "pointsWithinPercent", "requireGreen"], JSON.stringify(r.status?.gates));
  for (const g of rows.values()) assert.equal(g.passed, true, JSON.stringify(g));
  assert.match(rows.get("minPoints")!.observed ?? "", /\b20 points\b/);
  assert.match(rows.get("minPoints")!.threshold ?? "", /20/);
  assert.ok(rows.get("pointsWithinPercent")!.observed, "pointsWithinPercent says what it saw");
  assert.ok(rows.get("requireGreen")!.observed, "requireGreen says what it saw");
  assert.match(rows.get("goldenQuery/by-id")!.observed ?? "", /1\.00 \(5\/5\)/);
  assert.match(rows.get("goldenQuery/by-id")!.threshold ?? "", /1\.00/);

  // Qdrant: the alias points at v2, which has the new config, our owner stamp, a finished copy record and v1's points.
  assert.equal(await aliasTarget(w.qdrant.url, w.alias, w.apiKey), w.green);
  const greenConfig = await collectionConfig(w.qdrant.url, w.green, w.apiKey);
  assert.equal(greenConfig.params.shard_number, 2);
  assert.deepEqual(greenConfig.quantization_config, config.quantization_config);
  const meta = await collectionMetadata(w.qdrant.url, w.green, w.apiKey);
  assert.deepEqual(meta[OWNER_METADATA], { namespace: w.ns, name: "v2", uid: r.metadata.uid });
  assert.equal((meta[COPY_METADATA] as { done?: boolean } | undefined)?.done, true, JSON.stringify(meta));
  assertSamePoints(await pointsOf(w, w.green), v1, "v2 holds v1's ids, vectors and payloads");
  assertSamePoints(await pointsOf(w, w.alias), v1, "reads through the alias see them");

  // One copy Job, owned by the rollout. Green's own record saying done is what lets green be judged, so the
  // rollout may be Promoted before the Job controller has counted the Job's end: wait for that count.
  const jobs = await eventually("the copy Job's end counted", async () => {
    const js = await rolloutJobs(w.ns);
    return js.every((j) => j.status?.succeeded !== undefined || j.status?.failed !== undefined) ? js : undefined;
  });
  assert.deepEqual(jobs.map((j) => j.metadata.name), ["rollout-v2-1"]);
  assert.equal(jobs[0]!.metadata.ownerReferences?.find((o) => o.controller)?.uid, r.metadata.uid);
  assert.equal(jobs[0]!.status?.succeeded, 1);

  await assertOneSwitch(w.ns, "v2", w.alias, w.green, w.blue);
  const metrics = await managerMetrics(w.manager);
  assert.match(metrics, new RegExp(`qdrant_operator_rollout_phase\\{(?=[^}]*rollout="v2")(?=[^}]*phase="Promoted")[^}]*\\} 1`));
  assert.match(metrics, new RegExp(`qdrant_operator_rollout_switch_duration_seconds_count\\{(?=[^}]*rollout="v2")[^}]*\\} 1`));

  // retainPrevious later: v1 is deleted, the alias stays on v2.
  const deleted = await waitForRollout(w.ns, "v2", "previousDeletedAt", (x) => x.status?.previousDeletedAt !== undefined, 120_000);
  assert.ok(Date.parse(deleted.status!.previousDeletedAt!) >= Date.parse(deleted.status!.promotedAt!) + 15_000, "not before retainPrevious");
  assert.deepEqual(await qdrantFacts(w, w), { alias: w.green, blue: false, green: true });
  const gone = await eventsWithReason(w.ns, "v2", "DeletedPrevious");
  assert.equal(gone.length, 1);
  assert.match(gone[0]!, new RegExp(w.blue));
  assert.equal((await rolloutEvents(w.ns, "v2")).filter((e) => e.startsWith("Switched: ")).length, 1, "still one switch");
  // The copy's progress, mirrored from green's record, stays in the status once the copy is done.
  assert.deepEqual(r.status?.copy && { copied: r.status.copy.copiedPoints, total: r.status.copy.totalPoints, done: r.status.copy.done }, { copied: 20, total: 20, done: true }, JSON.stringify(r.status));
  assert.match(metrics, new RegExp(`qdrant_operator_rollout_copied_points\\{(?=[^}]*rollout="v2")[^}]*\\} 20`));
});
