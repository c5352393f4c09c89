/**
 * A restore Job's process SIGKILLed (OOM, a node's kernel) mid-upload and mid-recover: before its first
 * call that may create the target, the Job wrote a provisional failure with a claim on the target (the
 * kubelet keeps that termination message), so the controller starts attempt 2 as a new Job
 * (`restore-<name>-2`) that owns the target: a collection its first attempt half-created is replaced, and
 * the restore succeeds with the backed-up points. A collection a person created under the target name
 * carries no claim and is never replaced: TargetExists, untouched, no Job.
 *
 * The emulator's `delay` faults (scoped to each test's own target collection) hold the Job inside the
 * upload or the recover call while the test kills it; the Job's process is the pid the node agent reports.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { kubectl } from "../test/helpers/kubectl.ts";
import { needsEmulatorFaults } from "../test/helpers/qdrant.ts";
import { eventually } from "../test/helpers/testenv.ts";
import { allPoints, apply, world } from "./helpers/backup-world.ts";
import { QdrantApi } from "../src/qdrant/client.ts";
import { backedUp, cleanupOnQdrant, collectionExists, killJobProcess, restoreCondition, restoreJobs, restoreObj, waitForRefusal, waitForRestore, waitForRestorePhase } from "./helpers/restore-world.ts";

/** The termination message the kubelet kept for a Job's (only) pod. */
async function terminationMessage(ns: string, jobName: string): Promise<string> {
  return eventually(`the terminated pod of ${jobName}`, async () => {
    const pods = JSON.parse((await kubectl(["get", "pods", "-n", ns, "-l", `job-name=${jobName}`, "-o", "json"])).stdout) as {
      items: Array<{ status?: { containerStatuses?: Array<{ state?: { terminated?: { message?: string; exitCode?: number } } }> } }>;
    };
    const terminated = pods.items[0]?.status?.containerStatuses?.[0]?.state?.terminated;
    return terminated ? (terminated.message ?? "") : undefined;
  });
}

for (const [method, route, verb] of [["Upload", "upload", "POST"], ["Pull", "recover", "PUT"]] as const) {
  test(`the Job SIGKILLed mid-${route}: attempt 2 (a new Job) owns the target, replaces what attempt 1 left, and succeeds`, async (t) => {
    const { admin } = needsEmulatorFaults(t, `holds the Job inside its ${route} call to kill it there`);
    const w = await world(t, `e2e-restore-jkill-${route}`);
    const b = await backedUp(w);
    const target = `${w.collection}_${route}`;
    cleanupOnQdrant(t, w.qdrant.url, w.apiKey, [target]);
    // Upload: the held request's body is cut by the kill, so it restores nothing. Pull: the held recover
    // is handled 3 s later anyway (Qdrant downloads by itself), so attempt 1's call half-makes the target
    // behind the dead Job: attempt 2 must replace it.
    const delay = await admin.delayNext({ method: verb, path: `/collections/${target}/snapshots/${route}` }, method === "Upload" ? 15_000 : 3_000, 1);
    t.after(() => admin.removeFault(delay.id));

    await apply(w.ns, [restoreObj("crash", { backupRef: { name: b.name } }, { method, target: { collection: target } })]);
    await eventually(`the Job inside the ${route} call`, async () => ((await admin.faults()).find((f) => f.id === delay.id)?.fired === 1 ? true : undefined), 120_000);
    await killJobProcess(w.ns, "restore-crash-1");

    const message = await terminationMessage(w.ns, "restore-crash-1");
    const claimed = JSON.parse(message) as { ok: boolean; reason: string; claim?: { collection: string; attempt: number } };
    assert.deepEqual([claimed.ok, claimed.reason, claimed.claim], [false, "Interrupted", { collection: target, attempt: 1 }], "the kubelet kept the provisional failure with the claim");
    if (method === "Pull") {
      await eventually("attempt 1's held recover to half-make the target", async () => ((await collectionExists(w.qdrant.url, target, w.apiKey)) ? true : undefined));
    }

    const done = await waitForRestorePhase(w.ns, "crash", "Succeeded", 180_000);
    assert.equal(done.status?.jobName, "restore-crash-2");
    assert.equal(done.status?.attempt, 2);
    assert.equal(done.status?.jobCount, 2);
    assert.deepEqual(done.status?.pointsCount, { expected: 20, actual: 20 });
    const jobs = await restoreJobs(w.ns);
    assert.deepEqual(jobs.map((j) => j.metadata.name), ["restore-crash-1", "restore-crash-2"]);
    assert.equal(jobs[0]!.status?.failed, 1, "attempt 1 failed");
    assert.equal(jobs[1]!.status?.succeeded, 1, "attempt 2 succeeded");
    assert.deepEqual(await allPoints(w.qdrant.url, target, w.apiKey), await allPoints(w.qdrant.url, w.collection, w.apiKey), "the backed-up points, whole");
  });
}

test("a collection a person created under the target name is never replaced: TargetExists, untouched, no Job", async (t) => {
  const w = await world(t, "e2e-restore-theirs");
  const b = await backedUp(w);
  const target = `${w.collection}_theirs`;
  const api = new QdrantApi({ url: w.qdrant.url, apiKey: w.apiKey, timeoutMs: 30_000 });
  await api.createCollection(target, { vectors: { size: 4, distance: "Cosine" } });
  cleanupOnQdrant(t, w.qdrant.url, w.apiKey, [target]);
  await api.upsert(target, [{ id: 99, vector: [1, 0, 0, 0], payload: { mine: true } }]);
  const theirs = await allPoints(w.qdrant.url, target, w.apiKey);

  await apply(w.ns, [
    restoreObj("once", { backupRef: { name: b.name } }, { target: { collection: target } }),
    restoreObj("heal", { backupRef: { name: b.name } }, { policy: "IfMissing", checkIntervalSeconds: 10, target: { collection: target } }),
  ]);
  const once = await waitForRefusal(w.ns, "once", "TargetExists");
  assert.match(restoreCondition(once, "Ready")!.message, new RegExp(target));
  const heal = await waitForRestore(w.ns, "heal", "watching an existing target", (r) => r.status?.phase === "Watching");
  assert.equal(heal.status?.restoreCount ?? 0, 0);
  assert.deepEqual(await allPoints(w.qdrant.url, target, w.apiKey), theirs, "their collection is untouched");
  assert.deepEqual(await restoreJobs(w.ns), [], "no restore Job");
});
