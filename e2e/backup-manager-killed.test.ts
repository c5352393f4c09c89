/**
 * The manager SIGKILLed while a backup's Job runs (the crash window the Job's deterministic name closes):
 * a new manager finds the Job by name, sees it is this backup's (controller reference), adopts it instead
 * of creating another, and fills the status from its result. One Job, one attempt, one snapshot.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { kubectl } from "../test/helpers/kubectl.ts";
import { startManager } from "../test/helpers/manager.ts";
import { needsEmulatorFaults } from "../test/helpers/qdrant.ts";
import { eventually } from "../test/helpers/testenv.ts";
import { apply, backupObj, getBackup, getJson, waitForPhase, world } from "./helpers/backup-world.ts";

interface JobState {
  metadata: { uid: string };
  status?: { succeeded?: number; failed?: number };
}

test("a manager SIGKILLed mid-backup: the next one adopts the running Job, and the backup succeeds with one Job and one snapshot", async (t) => {
  const { admin } = needsEmulatorFaults(t, "delays the Job's snapshot call to kill the manager meanwhile");
  const w = await world(t, "e2e-backup-kill");
  // The snapshot takes 6 s: long enough to kill the manager and start another while the Job is inside it.
  // The fault is scoped to this test's collection and has room for a second call, so how often it fired
  // is how many snapshots were asked for.
  const delay = await admin.delayNext({ method: "POST", path: `/collections/${w.collection}/snapshots` }, 6000, 2);
  t.after(() => admin.removeFault(delay.id));
  const fired = async () => (await admin.faults()).find((f) => f.id === delay.id)?.fired;
  await apply(w.ns, [backupObj("through-kill", { collections: { names: [w.collection] } })]);
  await eventually("the Job inside the snapshot call", async () => ((await fired()) === 1 ? true : undefined));
  assert.equal((await getBackup(w.ns, "through-kill")).status?.phase, "Running");
  const job = await getJson<JobState>(w.ns, "job", "backup-through-kill");
  assert.ok(job, "the Job exists");

  w.manager.child.kill("SIGKILL");
  await w.manager.stop();
  const next = await startManager(t, [w.ns]);

  const done = await waitForPhase(w.ns, "through-kill", "Succeeded");
  assert.equal(done.status?.collections?.[0]?.pointsCount, 20);
  const after = await getJson<JobState>(w.ns, "job", "backup-through-kill");
  assert.equal(after?.metadata.uid, job.metadata.uid, "the same Job, adopted");
  assert.deepEqual([after.status?.succeeded, after.status?.failed ?? 0], [1, 0], "one attempt");
  const jobs = JSON.parse((await kubectl(["get", "jobs", "-n", w.ns, "-o", "json"])).stdout) as { items: unknown[] };
  assert.equal(jobs.items.length, 1, "no second Job");
  assert.doesNotMatch(await next.log(), /Created backup Job/, "the new manager created nothing");
  assert.equal(await fired(), 1, "one snapshot was asked for");
});
