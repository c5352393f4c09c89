/**
 * Leadership under faults: two managers with leader election on (e2e/faults/leadership-pair.ts), and the
 * leader SIGKILLed while a backup's Job, a restore's Job and a rollout's copy Job runs. The crash window
 * is the leader's death with work in flight: the lease stays held until it expires, the standby then
 * takes it, lists the world afresh and must adopt the running Job by its deterministic name, never
 * create a second one or ask Qdrant twice.
 *
 * For each: exactly one takeover (the Lease changed holder once, to m2), one Job (the same uid, one pod
 * attempt), one snapshot / recover / page-upsert per unit of work (the emulator's delay faults, with
 * room to spare, count the calls), one Created and one Succeeded (or Switched) Event, the work done,
 * and the shared invariants (e2e/faults/invariants.ts: bucket, snapshots, aliases, statuses) hold.
 *
 * The world's own manager (leader election off) is stopped before the pair starts: only the pair
 * reconciles the namespace.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { kubectl } from "../../test/helpers/kubectl.ts";
import { needsEmulatorFaults } from "../../test/helpers/qdrant.ts";
import { eventually } from "../../test/helpers/testenv.ts";
import { allPoints, apply, backupObj, getBackup, getJson, waitForPhase, world } from "../helpers/backup-world.ts";
import { backedUp, cleanupOnQdrant, getRestore, restoreJobs, restoreObj, waitForRestorePhase } from "../helpers/restore-world.ts";
import { assertHeldCopyAdopted, blueGreen, holdCopyInFirstUpsert, pointsOf } from "../helpers/rollout-world.ts";
import { assertInvariants, worldScope } from "./invariants.ts";
import { assertOneTakeover, eventCount, killLeader, leaderPair } from "./leadership-pair.ts";

interface JobState {
  metadata: { uid: string };
  status?: { succeeded?: number; failed?: number };
}

test("the leader SIGKILLed while a backup's Job runs: one takeover, the same Job adopted, one snapshot", async (t) => {
  const { admin } = needsEmulatorFaults(t, "holds the Job's snapshot call to kill the leader meanwhile");
  const w = await world(t, "e2e-le-backup");
  await w.manager.stop();
  const pair = await leaderPair(t, [w.ns]);
  // The snapshot takes 15 s: the leader dies inside it and the lease (8 s) expires before it returns.
  // Room for a second call: how often the fault fired is how many snapshots were asked for.
  const delay = await admin.delayNext({ method: "POST", path: `/collections/${w.collection}/snapshots` }, 15_000, 2);
  t.after(() => admin.removeFault(delay.id));
  const fired = async () => (await admin.faults()).find((f) => f.id === delay.id)?.fired;

  await apply(w.ns, [backupObj("through-failover", { collections: { names: [w.collection] } })]);
  await eventually("the Job inside the snapshot call", async () => ((await fired()) === 1 ? true : undefined), 120_000);
  assert.equal((await getBackup(w.ns, "through-failover")).status?.phase, "Running");
  const job = await getJson<JobState>(w.ns, "job", "backup-through-failover");
  assert.ok(job, "m1 created the Job");

  t.diagnostic(`takeover ${await killLeader(pair)} ms after SIGKILL`);
  const done = await waitForPhase(w.ns, "through-failover", "Succeeded", 150_000);
  assert.equal(done.status?.collections?.[0]?.pointsCount, 20);

  await assertOneTakeover(pair);
  const after = await getJson<JobState>(w.ns, "job", "backup-through-failover");
  assert.equal(after?.metadata.uid, job.metadata.uid, "the same Job, adopted");
  assert.deepEqual([after.status?.succeeded, after.status?.failed ?? 0], [1, 0], "one attempt");
  const jobs = JSON.parse((await kubectl(["get", "jobs", "-n", w.ns, "-o", "json"])).stdout) as { items: unknown[] };
  assert.equal(jobs.items.length, 1, "no second Job");
  assert.doesNotMatch(await pair.standby.log(), /Created backup Job/, "m2 created nothing");
  assert.equal(await fired(), 1, "one snapshot was asked for");
  assert.equal(await eventCount(w.ns, "through-failover", "Created"), 1, "one Created Event");
  await eventually("the Succeeded Event", async () => ((await eventCount(w.ns, "through-failover", "Succeeded")) >= 1 ? true : undefined), 30_000);
  assert.equal(await eventCount(w.ns, "through-failover", "Succeeded"), 1, "one Succeeded Event");
  await assertInvariants(worldScope(w, [w.collection]));
});

test("the leader SIGKILLed while a restore's Job runs: one takeover, the same Job adopted, one recover call", async (t) => {
  const { admin } = needsEmulatorFaults(t, "holds the Job's recover call to kill the leader meanwhile");
  const w = await world(t, "e2e-le-restore");
  const b = await backedUp(w);
  await w.manager.stop();
  const pair = await leaderPair(t, [w.ns]);
  const target = `${w.collection}_failover`;
  cleanupOnQdrant(t, w.qdrant.url, w.apiKey, [target]);
  const delay = await admin.delayNext({ method: "PUT", path: `/collections/${target}/snapshots/recover` }, 15_000, 2);
  t.after(() => admin.removeFault(delay.id));
  const fired = async () => (await admin.faults()).find((f) => f.id === delay.id)?.fired;

  await apply(w.ns, [restoreObj("through-failover", { backupRef: { name: b.name } }, { method: "Pull", target: { collection: target } })]);
  await eventually("the Job inside the recover call", async () => ((await fired()) === 1 ? true : undefined), 120_000);
  assert.equal((await getRestore(w.ns, "through-failover")).status?.jobName, "restore-through-failover-1");
  const [job] = await restoreJobs(w.ns);
  assert.ok(job, "m1 created the Job");

  t.diagnostic(`takeover ${await killLeader(pair)} ms after SIGKILL`);
  const done = await waitForRestorePhase(w.ns, "through-failover", "Succeeded", 150_000);
  assert.equal(done.status?.jobName, "restore-through-failover-1");
  assert.equal(done.status?.restoreCount, 1);

  await assertOneTakeover(pair);
  const jobs = await restoreJobs(w.ns);
  assert.deepEqual(jobs.map((j) => j.metadata.uid), [job.metadata.uid], "the same Job, adopted; no second Job");
  assert.deepEqual([jobs[0]!.status?.succeeded, jobs[0]!.status?.failed ?? 0], [1, 0], "one attempt");
  assert.doesNotMatch(await pair.standby.log(), /Created restore Job/, "m2 created nothing");
  assert.equal(await fired(), 1, "one recover call");
  assert.deepEqual(await allPoints(w.qdrant.url, target, w.apiKey), await allPoints(w.qdrant.url, w.collection, w.apiKey));
  assert.equal(await eventCount(w.ns, "through-failover", "Created"), 1, "one Created Event");
  await assertInvariants(worldScope(w, [w.collection, target]));
});

test("the leader SIGKILLed while a rollout's copy Job runs: one takeover, the same Job adopted, each page upserted once, one switch", async (t) => {
  const { admin } = needsEmulatorFaults(t, "holds the copy's upserts to kill the leader meanwhile");
  const w = await world(t, "e2e-le-rollout");
  await w.manager.stop();
  const pair = await leaderPair(t, [w.ns]);
  const bg = await blueGreen(t, w);
  const v1 = await pointsOf(w, bg.blue);
  // Each upsert held 4 s, so the copy outlives the lease.
  const held = await holdCopyInFirstUpsert(t, w, bg, admin, 4000);

  t.diagnostic(`takeover ${await killLeader(pair)} ms after SIGKILL`);
  await assertHeldCopyAdopted(w, bg, held, v1);
  await assertOneTakeover(pair);
  assert.doesNotMatch(await pair.standby.log(), /"msg":"Created Job".*"kind":"copy"|"kind":"copy".*"msg":"Created Job"/, "m2 created no copy Job");
  await assertInvariants(worldScope(w, [bg.blue, bg.green], { aliases: [{ alias: bg.alias, collection: bg.green, points: 20 }] }));
});
