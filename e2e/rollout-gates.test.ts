/**
 * Gates that say no hold the alias on v1 and say why with numbers; a gate Job's exit code is a verdict:
 * - a v2 with too few points and other neighbours (an external pipeline that went wrong) fails minPoints
 *   and the golden query: Failed GatesTimedOut after gates.timeout, the rows' numbers in the message and in
 *   status.gates, the alias untouched, v2 kept for inspection;
 * - a gate Job (docker.io/library/node:26 running `node -e`) that counts v2's points through QDRANT_URL and
 *   QDRANT_COLLECTION: exit 0 passes (row "job") and the rollout promotes; exit 1 is Failed GateJobFailed,
 *   the alias untouched; so is a gate Job whose process is killed, or that is deleted, while it runs.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { eventually } from "../test/helpers/testenv.ts";
import { kubectl } from "../test/helpers/kubectl.ts";
import { killJobProcess } from "./helpers/restore-world.ts";
import {
  apiOf,
  applyRollout,
  blueGreen,
  conditionSummary,
  countGateScript,
  eightDimPoints,
  eventsWithReason,
  nodeGate,
  pointsOf,
  qdrantFacts,
  rolloutCondition,
  rolloutEvents,
  rolloutJobs,
  rolloutObj,
  sharedWorld,
  waitForCollection,
  waitForRolloutPhase,
} from "./helpers/rollout-world.ts";

test("gates: failing ones hold the alias with their numbers; a gate Job's exit code is the verdict", { concurrency: true }, async (t) => {
  const { w, v1 } = await sharedWorld(t, "e2e-rollout-gates");

  await Promise.all([
    t.test("too few points and other neighbours: Failed GatesTimedOut with the numbers, the alias on v1, v2 kept", async (st) => {
      const bg = await blueGreen(st, w, "bad");
      await applyRollout(w, rolloutObj("bad-model", bg.alias, bg.green, {
        source: { external: { config: { vectors: { size: 8, distance: "Cosine" } } } },
        gates: { minPoints: 20, requireGreen: true, goldenQueries: [{ name: "neighbours-of-5", query: { query: 5 }, topK: 5, minOverlap: 0.8 }], timeout: "20s" },
      }));
      await waitForCollection(w, bg.green);
      // 15 of the 20 points, each with another point's vector: neighbours that are not v1's.
      await apiOf(w).upsert(bg.green, eightDimPoints(v1, true).slice(0, 15));
      const r = await waitForRolloutPhase(w.ns, "bad-model", "Failed", 120_000);
      assert.equal(r.status?.failure?.reason, "GatesTimedOut");
      const message = r.status.failure.message;
      assert.match(message, /\b15 points\b/, message);
      assert.match(message, /overlap \d\.\d\d \(\d\/5\)/, message);
      assert.equal(conditionSummary(r, "Ready"), "False GatesTimedOut");
      assert.equal(rolloutCondition(r, "GatesPassed")?.status, "False");
      const rows = new Map((r.status?.gates ?? []).map((g) => [g.name, g]));
      assert.deepEqual([rows.get("minPoints")?.passed, rows.get("goldenQuery/neighbours-of-5")?.passed], [false, false], JSON.stringify(r.status?.gates));
      assert.match(rows.get("minPoints")!.observed ?? "", /\b15 points\b/);
      assert.match(rows.get("goldenQuery/neighbours-of-5")!.threshold ?? "", /0\.80/);
      assert.deepEqual(await qdrantFacts(w, bg), { alias: bg.blue, blue: true, green: true }, "the alias on v1, v2 kept for inspection");
      assert.equal((await pointsOf(w, bg.green)).length, 15);
      assert.ok((await rolloutEvents(w.ns, "bad-model")).every((e) => !e.startsWith("Switched: ")), "no switch");
      const failed = await eventsWithReason(w.ns, "bad-model", "Failed");
      assert.match(failed[0]!, /GatesTimedOut|gates/i);
    }),

    t.test("a gate Job that exits 0 passes: row job, then the switch", async (st) => {
      const bg = await blueGreen(st, w, "jobok");
      await applyRollout(w, rolloutObj("job-ok", bg.alias, bg.green, {
        source: { copyFrom: {} },
        gates: { minPoints: 20, job: nodeGate(countGateScript(20)), timeout: "5m" },
      }));
      const r = await waitForRolloutPhase(w.ns, "job-ok", "Promoted", 180_000);
      const row = r.status?.gates?.find((g) => g.name === "job");
      assert.equal(row?.passed, true, JSON.stringify(r.status?.gates));
      const jobs = await rolloutJobs(w.ns);
      const gate = jobs.find((j) => j.metadata.name === "rollout-job-ok-2");
      assert.ok(gate, `the gate Job after the copy Job: ${jobs.map((j) => j.metadata.name).join(",")}`);
      assert.equal(gate.status?.succeeded, 1);
      const container = gate.spec.template.spec.containers[0]!;
      assert.equal(container.image, "docker.io/library/node:26");
      const env = new Map((container.env ?? []).map((e) => [e.name, e]));
      assert.equal(env.get("QDRANT_URL")?.value, w.qdrant.url);
      assert.equal(env.get("QDRANT_COLLECTION")?.value, bg.green);
      assert.equal(env.get("QDRANT_ACTIVE_COLLECTION")?.value, bg.blue);
      assert.ok(env.get("QDRANT_API_KEY")?.valueFrom, "the API key from the connection's Secret, never inline");
      assert.equal((await qdrantFacts(w, bg)).alias, bg.green);
      assert.equal((await eventsWithReason(w.ns, "job-ok", "Switched")).length, 1);
    }),

    t.test("a gate Job that exits 1: Failed GateJobFailed, the alias on v1, v2 kept", async (st) => {
      const bg = await blueGreen(st, w, "jobno");
      await applyRollout(w, rolloutObj("job-no", bg.alias, bg.green, {
        source: { copyFrom: {} },
        gates: { minPoints: 20, job: nodeGate(countGateScript(1000)), timeout: "5m" },
      }));
      const r = await waitForRolloutPhase(w.ns, "job-no", "Failed", 180_000);
      assert.equal(r.status?.failure?.reason, "GateJobFailed");
      assert.match(r.status.failure.message, /rollout-job-no-2/, "names the Job");
      assert.equal(conditionSummary(r, "Ready"), "False GateJobFailed");
      const row = r.status?.gates?.find((g) => g.name === "job");
      assert.equal(row?.passed ?? false, false);
      assert.deepEqual(await qdrantFacts(w, bg), { alias: bg.blue, blue: true, green: true });
      assert.ok((await rolloutEvents(w.ns, "job-no")).every((e) => !e.startsWith("Switched: ")), "no switch");
    }),

    ...(["killed", "deleted"] as const).map((how) =>
      t.test(`a gate Job ${how} while it runs: Failed GateJobFailed, never a pass`, async (st) => {
        const bg = await blueGreen(st, w, `job${how}`);
        const name = `job-${how}`;
        // A check that would pass, but only after ten minutes: the test ends it first.
        const slow = "setTimeout(() => process.exit(0), 600000)";
        await applyRollout(w, rolloutObj(name, bg.alias, bg.green, { source: { copyFrom: {} }, gates: { minPoints: 20, job: nodeGate(slow), timeout: "30m" } }));
        const jobName = `rollout-${name}-2`;
        await eventually(`gate Job ${jobName} running`, async () => ((await rolloutJobs(w.ns)).find((j) => j.metadata.name === jobName)?.status?.active ? true : undefined), 180_000);
        if (how === "killed") await killJobProcess(w.ns, jobName);
        else await kubectl(["delete", "job", "-n", w.ns, jobName, "--wait=false"]);
        const r = await waitForRolloutPhase(w.ns, name, "Failed", 120_000);
        assert.equal(r.status?.failure?.reason, "GateJobFailed", JSON.stringify(r.status));
        assert.match(r.status.failure.message, new RegExp(jobName));
        assert.notEqual(r.status?.gates?.find((g) => g.name === "job")?.passed, true);
        assert.deepEqual(await qdrantFacts(w, bg), { alias: bg.blue, blue: true, green: true });
      }),
    ),
  ]);
});
