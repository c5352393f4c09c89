/**
 * The manager SIGKILLed while a restore's Job runs (the crash window the Job's deterministic name
 * `restore-<name>-<attempt>` and the status written after it closes): the next manager finds the Job,
 * adopts it instead of creating another, and fills the status from its result. One Job, one recover call.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startManager } from "../test/helpers/manager.ts";
import { needsEmulatorFaults } from "../test/helpers/qdrant.ts";
import { eventually } from "../test/helpers/testenv.ts";
import { allPoints, apply, world } from "./helpers/backup-world.ts";
import { backedUp, cleanupOnQdrant, eventsOf, getRestore, restoreJobs, restoreObj, waitForRestorePhase } from "./helpers/restore-world.ts";

test("a manager SIGKILLed mid-restore: the next one adopts the running Job, and the restore succeeds with one Job", async (t) => {
  const { admin } = needsEmulatorFaults(t, "delays the Job's recover call to kill the manager meanwhile");
  const w = await world(t, "e2e-restore-mkill");
  const b = await backedUp(w);
  const target = `${w.collection}_kill`;
  cleanupOnQdrant(t, w.qdrant.url, w.apiKey, [target]);
  // The recover takes 6 s: long enough to kill the manager and start another while the Job is inside it.
  // Room for a second call, so how often it fired is how many recovers were asked for.
  const delay = await admin.delayNext({ method: "PUT", path: `/collections/${target}/snapshots/recover` }, 6000, 2);
  t.after(() => admin.removeFault(delay.id));
  const fired = async () => (await admin.faults()).find((f) => f.id === delay.id)?.fired;

  await apply(w.ns, [restoreObj("through-kill", { backupRef: { name: b.name } }, { method: "Pull", target: { collection: target } })]);
  await eventually("the Job inside the recover call", async () => ((await fired()) === 1 ? true : undefined), 120_000);
  const running = await getRestore(w.ns, "through-kill");
  assert.equal(running.status?.phase, "Running");
  assert.equal(running.status?.jobName, "restore-through-kill-1");
  const [job] = await restoreJobs(w.ns);
  assert.ok(job, "the Job exists");

  w.manager.child.kill("SIGKILL");
  await w.manager.stop();
  await startManager(t, [w.ns]);

  const done = await waitForRestorePhase(w.ns, "through-kill", "Succeeded");
  assert.equal(done.status?.jobName, "restore-through-kill-1");
  assert.equal(done.status?.restoreCount, 1);
  const jobs = await restoreJobs(w.ns);
  assert.deepEqual(jobs.map((j) => j.metadata.uid), [job.metadata.uid], "the same Job, adopted; no second Job");
  assert.deepEqual([jobs[0]!.status?.succeeded, jobs[0]!.status?.failed ?? 0], [1, 0], "one attempt");
  assert.equal(await fired(), 1, "one recover call");
  assert.deepEqual(await allPoints(w.qdrant.url, target, w.apiKey), await allPoints(w.qdrant.url, w.collection, w.apiKey));
  const created = (await eventsOf(w.ns, "through-kill")).filter((e) => e.startsWith("Created: "));
  assert.equal(created.length, 1, `one Created event: ${created.join(" | ")}`);
});
