/**
 * A restore Job's process SIGKILLed (OOM, a node's kernel) mid-upload and mid-recover: before its first
 * call that may create the target, the Job wrote a provisional failure with a claim on the target (the
 * kubelet keeps that termination message), and the controller starts attempt 2 as a new Job
 * (`restore-<name>-2`) that restores the collection whole. On a 3-peer target killed after its first file
 * created the collection cluster-wide, attempt 2 owns the target (ownedTarget, from the claim), deletes
 * that half-made collection and restores it whole. A collection a person created under the target name
 * carries no claim and is never replaced: TargetExists, untouched, no Job.
 *
 * The emulator's `delay` faults (scoped to each test's own target collection, or on an emulated cluster of
 * the test's own) hold the Job inside the upload or the recover call while the test kills it; the Job's
 * process is the pid the node agent reports for its container.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { kubectl } from "../test/helpers/kubectl.ts";
import { API_VERSION } from "../src/api/group.ts";
import { AdminClient } from "../test/emulator/admin-client.ts";
import { startEmulator } from "../test/emulator/index.ts";
import { needsEmulatorFaults, qdrantUnderTest } from "../test/helpers/qdrant.ts";
import { eventually } from "../test/helpers/testenv.ts";
import { allPoints, apply, world } from "./helpers/backup-world.ts";
import { QdrantApi } from "../src/qdrant/client.ts";
import { backedUp, cleanupOnQdrant, collectionExists, getRestore, jobPlan, killJobProcess, restoreCondition, restoreJobs, restoreObj, waitForRefusal, waitForRestore, waitForRestorePhase } from "./helpers/restore-world.ts";

const qdrantApiFor = (url: string) => new QdrantApi({ url, timeoutMs: 30_000 });

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
  test(`the Job SIGKILLed mid-${route}: the kubelet keeps its claim, and attempt 2 (a new Job) restores the collection whole`, async (t) => {
    const { admin } = needsEmulatorFaults(t, `holds the Job inside its ${route} call to kill it there`);
    const w = await world(t, `e2e-restore-jkill-${route}`);
    const b = await backedUp(w);
    const target = `${w.collection}_${route}`;
    cleanupOnQdrant(t, w.qdrant.url, w.apiKey, [target]);
    // The held call dies with its client (the emulator reads the request after the delay, from a closed
    // socket), so on a standalone target attempt 1 leaves nothing: attempt 2 restores from scratch. The
    // 3-peer test below is the one where attempt 1 half-made the collection.
    const delay = await admin.delayNext({ method: verb, path: `/collections/${target}/snapshots/${route}` }, 10_000, 1);
    t.after(() => admin.removeFault(delay.id));

    await apply(w.ns, [restoreObj("crash", { backupRef: { name: b.name } }, { method, target: { collection: target } })]);
    await eventually(`the Job inside the ${route} call`, async () => {
      // A fault that fired its one time is gone from the list.
      if (!(await admin.faults()).some((f) => f.id === delay.id)) return true;
      const r = await getRestore(w.ns, "crash");
      if (r.status?.phase === "Succeeded" || r.status?.phase === "Failed") throw new Error(`ended ${r.status.phase} first: ${JSON.stringify(r.status)}`);
      return undefined;
    }, 120_000);
    await killJobProcess(w.ns, "restore-crash-1");

    const message = await terminationMessage(w.ns, "restore-crash-1");
    const claimed = JSON.parse(message) as { ok: boolean; reason: string; claim?: { collection: string; attempt: number } };
    assert.deepEqual([claimed.ok, claimed.reason, claimed.claim], [false, "Interrupted", { collection: target, attempt: 1 }], "the kubelet kept the provisional failure with the claim");
    const done = await waitForRestorePhase(w.ns, "crash", "Succeeded", 180_000);
    assert.equal(done.status?.jobName, "restore-crash-2");
    assert.equal(done.status?.attempt, 2);
    assert.equal(done.status?.jobCount, 2);
    assert.deepEqual(done.status?.pointsCount, { expected: 20, actual: 20 });
    const jobs = await restoreJobs(w.ns);
    assert.deepEqual(jobs.map((j) => j.metadata.name), ["restore-crash-1", "restore-crash-2"]);
    assert.equal(jobs[0]!.status?.failed, 1, "attempt 1 failed");
    assert.equal(jobs[1]!.status?.succeeded, 1, "attempt 2 succeeded");
    assert.equal(jobPlan(jobs[0]!).ownedTarget, false);
    assert.deepEqual(await allPoints(w.qdrant.url, target, w.apiKey), await allPoints(w.qdrant.url, w.collection, w.apiKey), "the backed-up points, whole");
  });
}

test("the Job SIGKILLed on a 3-peer target after its first file created the collection: attempt 2 deletes that half-made collection and restores it whole", async (t) => {
  needsEmulatorFaults(t, "holds the Job's uploads on a fresh emulated cluster to kill it between its first and its other files");
  const w = await world(t, "e2e-restore-jkill-dist", { distributed: true });
  const b = await backedUp(w);
  assert.ok(b.files.length > 1, "a file per peer");
  const fresh = await startEmulator({ peers: 3 });
  t.after(() => fresh.stop());
  const admin = new AdminClient(fresh.adminUrl);
  // Every peer's upload is held 8 s: the first file (alone: it creates the collection cluster-wide)
  // passes after its hold, then the others are held while the test kills the Job.
  const path = `/collections/${w.collection}/snapshots/upload`;
  const holds = await Promise.all([1, 2, 3].map((peer) => admin.delayNext({ method: "POST", path, peer }, 8_000, 1)));
  // (The emulator is this test's own and stops with it, faults and all.)

  await apply(w.ns, [
    { apiVersion: API_VERSION, kind: "QdrantConnection", metadata: { name: "fresh" }, spec: { url: fresh.peers[0], peers: { mode: "Static", urls: fresh.peers } } },
    restoreObj("crash", { backupRef: { name: b.name } }, { method: "Upload", target: { connectionRef: { name: "fresh" } } }),
  ]);
  const held = b.files.length;
  await eventually("the first file recovered and the others held", async () => {
    const left = (await admin.faults()).filter((f) => holds.some((h) => h.id === f.id)).length;
    return left <= 3 - held && (await collectionExists(fresh.peers[0]!, w.collection)) ? true : undefined;
  }, 120_000);
  await killJobProcess(w.ns, "restore-crash-1");
  const claimed = JSON.parse(await terminationMessage(w.ns, "restore-crash-1")) as { reason: string; claim?: { collection: string } };
  assert.deepEqual([claimed.reason, claimed.claim?.collection], ["Interrupted", w.collection]);
  const half = await qdrantApiFor(fresh.peers[0]!).count(w.collection, { exact: true });
  assert.ok(half < 20, `attempt 1 left a half-made collection (${half} of 20 points)`);

  const done = await waitForRestorePhase(w.ns, "crash", "Succeeded", 180_000);
  assert.equal(done.status?.jobName, "restore-crash-2");
  const jobs = await restoreJobs(w.ns);
  assert.equal(jobPlan(jobs[1]!).ownedTarget, true, "attempt 2 owns the target: attempt 1 claimed it");
  const log = (await kubectl(["logs", "-n", w.ns, "job/restore-crash-2"])).stdout;
  assert.match(log, /Deleted the collection an earlier attempt of this restore half-made/);
  assert.deepEqual(await allPoints(fresh.peers[0]!, w.collection), await allPoints(qdrantUnderTest().peers[0]!, w.collection), "whole again: every shard's points");
});

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
