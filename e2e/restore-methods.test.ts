/**
 * Both restore methods end to end on the environment's Qdrant: Pull (Qdrant downloads the snapshot from a
 * presigned URL: `PUT …/snapshots/recover`) and Upload (the Job streams the object into
 * `POST …/snapshots/upload`), and Auto (Pull for a plain collection backup). Each restores the same points;
 * the Job's plan says which method it ran, and on the emulator the route each one called counts it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AdminClient } from "../test/emulator/admin-client.ts";
import { testEnv } from "../test/helpers/testenv.ts";
import { allPoints, apply, world } from "./helpers/backup-world.ts";
import { backedUp, cleanupOnQdrant, jobPlan, restoreJobs, restoreObj, waitForRestorePhase } from "./helpers/restore-world.ts";

test("Pull, Upload and Auto each restore the same points, through the route the method names", async (t) => {
  const w = await world(t, "e2e-restore-methods");
  const b = await backedUp(w);
  const original = await allPoints(w.qdrant.url, w.collection, w.apiKey);
  const targets = { Pull: `${w.collection}_pull`, Upload: `${w.collection}_upload`, Auto: `${w.collection}_auto` } as const;
  cleanupOnQdrant(t, w.qdrant.url, w.apiKey, Object.values(targets));

  // On the environment's emulator, a delay fault of 1 ms per route counts the calls of this test's
  // collections only (a real Qdrant has no such API; the plan still says which method ran).
  const adminUrl = testEnv().qdrant?.adminUrl;
  const admin = adminUrl && !testEnv().external.qdrant ? new AdminClient(adminUrl) : undefined;
  const counters = admin
    ? {
        pullRecover: await admin.delayNext({ method: "PUT", path: `/collections/${targets.Pull}/snapshots/recover` }, 1, 10),
        pullUpload: await admin.delayNext({ method: "POST", path: `/collections/${targets.Pull}/snapshots/upload` }, 1, 10),
        uploadRecover: await admin.delayNext({ method: "PUT", path: `/collections/${targets.Upload}/snapshots/recover` }, 1, 10),
        uploadUpload: await admin.delayNext({ method: "POST", path: `/collections/${targets.Upload}/snapshots/upload` }, 1, 10),
      }
    : undefined;
  if (admin && counters) t.after(async () => { for (const f of Object.values(counters)) await admin.removeFault(f.id); });

  await apply(w.ns, [
    restoreObj("pull", { backupRef: { name: b.name } }, { method: "Pull", target: { collection: targets.Pull } }),
    restoreObj("upload", { backupRef: { name: b.name } }, { method: "Upload", target: { collection: targets.Upload } }),
    restoreObj("auto", { backupRef: { name: b.name } }, { target: { collection: targets.Auto } }),
  ]);
  for (const [name, method] of [["pull", "Pull"], ["upload", "Upload"], ["auto", "Auto"]] as const) {
    const r = await waitForRestorePhase(w.ns, name, "Succeeded");
    assert.deepEqual(r.status?.pointsCount, { expected: 20, actual: 20 }, `${method}: the count checked`);
    assert.deepEqual(await allPoints(w.qdrant.url, targets[method], w.apiKey), original, `${method}: identical points`);
  }
  const plans = Object.fromEntries((await restoreJobs(w.ns)).map((j) => [j.metadata.name, jobPlan(j)]));
  assert.equal(plans["restore-pull-1"]?.method, "Pull");
  assert.equal(plans["restore-upload-1"]?.method, "Upload");
  assert.equal(plans["restore-auto-1"]?.method, "Pull", "Auto is Pull for a plain collection backup");
  for (const plan of Object.values(plans)) assert.equal((plan.files as Array<{ sha256: string }>)[0]?.sha256, b.files[0]?.sha256, "the plan carries the manifest's checksum");

  if (admin && counters) {
    const fired = new Map((await admin.faults()).map((f) => [f.id, f.fired]));
    const count = (f: { id: number }) => fired.get(f.id) ?? 10; // gone: fired all 10 times
    assert.equal(count(counters.pullRecover), 1, "Pull: one recover call");
    assert.equal(count(counters.pullUpload), 0, "Pull: no upload");
    assert.equal(count(counters.uploadUpload), 1, "Upload: one upload call");
    assert.equal(count(counters.uploadRecover), 0, "Upload: no recover call");
  }
});
