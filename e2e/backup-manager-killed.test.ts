/**
 * The manager SIGKILLed while a backup's Job runs (the crash window the Job's deterministic name closes):
 * a new manager finds the Job by name, sees it is this backup's (controller reference), adopts it instead
 * of creating another, and fills the status from its result. One Job, one attempt, one snapshot.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AdminClient } from "../test/emulator/admin-client.ts";
import { kubectl } from "../test/helpers/kubectl.ts";
import { startManager } from "../test/helpers/manager.ts";
import { eventually } from "../test/helpers/testenv.ts";
import { apply, backupObj, getBackup, getJson, waitForPhase, world } from "./helpers/backup-world.ts";

interface JobState {
  metadata: { uid: string };
  status?: { succeeded?: number; failed?: number };
}

test("a manager SIGKILLed mid-backup: the next one adopts the running Job, and the backup succeeds with one Job and one snapshot", async (t) => {
  const w = await world(t, "e2e-backup-kill", { ownEmulator: "delays every snapshot call of its Qdrant and counts the snapshots it made (/metrics)" });
  const admin = new AdminClient(w.qdrant.adminUrl);
  // The snapshot takes 6 s: long enough to kill the manager and start another while the Job is inside it.
  const delay = await admin.delayNext({ method: "POST", path: "/collections/{collection_name}/snapshots" }, 6000);
  await apply(w.ns, [backupObj("through-kill", {})]);
  // A fault is dropped from the list once it has fired.
  await eventually("the Job inside the snapshot call", async () => ((await admin.faults()).some((f) => f.id === delay.id) ? undefined : true));
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
  const metrics = await (await fetch(`${w.qdrant.url}/metrics`, { headers: { "api-key": w.apiKey } })).text();
  assert.match(metrics, /^snapshot_created_total(\{[^}]*\})? 1$/m, "one snapshot was made");
});
