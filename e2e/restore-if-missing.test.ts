/**
 * QdrantRestore policies IfMissing and Once end to end (the real manager, its Jobs, MinIO, the
 * environment's Qdrant): a backup, the collection deleted, an IfMissing restore brings it back with the
 * same points (ids, vectors, payloads); deleted again, back again (restoreCount 2, a later
 * lastRestoreTime); between restores it watches; a target Qdrant that comes back empty gets the collection
 * as soon as its QdrantConnection sees it back, not at the next (hourly) check. A Once restore that succeeded, re-applied from "Git"
 * unchanged (and with a label touched, so the controller does see it), restores nothing more, even with
 * its target gone.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { API_VERSION } from "../src/api/group.ts";
import { startEmulator } from "../test/emulator/index.ts";
import { kubectl } from "../test/helpers/kubectl.ts";
import { needsEmulatorFaults } from "../test/helpers/qdrant.ts";
import { eventually } from "../test/helpers/testenv.ts";
import { allPoints, apply, getJson, world } from "./helpers/backup-world.ts";
import {
  backedUp,
  cleanupOnQdrant,
  collectionExists,
  deleteCollection,
  eventsOf,
  getRestore,
  managerMetrics,
  restoreCondition,
  restoreJobs,
  restoreObj,
  waitForRestore,
  waitForRestorePhase,
} from "./helpers/restore-world.ts";

test("IfMissing: the deleted collection comes back with identical points, twice; between restores it watches", async (t) => {
  const w = await world(t, "e2e-restore-ifmissing");
  const b = await backedUp(w);
  const original = await allPoints(w.qdrant.url, w.collection, w.apiKey);
  assert.equal(original.length, 20);

  await deleteCollection(w.qdrant.url, w.collection, w.apiKey);
  await apply(w.ns, [restoreObj("heal", { backupRef: { name: b.name } }, { policy: "IfMissing", checkIntervalSeconds: 10 })]);

  const first = await waitForRestore(w.ns, "heal", "restoreCount 1 and watching", (r) => r.status?.restoreCount === 1 && r.status.phase === "Watching");
  assert.deepEqual(await allPoints(w.qdrant.url, w.collection, w.apiKey), original, "ids, vectors and payloads as backed up");
  assert.equal(first.status?.backupId, b.backupId);
  assert.equal(first.status?.targetCollection, w.collection);
  assert.ok(first.status?.lastRestoreTime, "lastRestoreTime is set");
  assert.deepEqual(first.status?.pointsCount, { expected: 20, actual: 20 });
  // Ready True: Restored right after the run, Watching once a check found the target there.
  const ready = restoreCondition(first, "Ready");
  assert.equal(ready?.status, "True");
  assert.ok(["Restored", "Watching"].includes(ready?.reason ?? ""), `Ready reason ${ready?.reason}`);
  assert.equal(restoreCondition(first, "Failed")?.status ?? "False", "False");
  assert.equal(first.status?.jobName, "restore-heal-1");

  await deleteCollection(w.qdrant.url, w.collection, w.apiKey);
  const second = await waitForRestore(w.ns, "heal", "restoreCount 2 and watching", (r) => r.status?.restoreCount === 2 && r.status.phase === "Watching");
  assert.deepEqual(await allPoints(w.qdrant.url, w.collection, w.apiKey), original, "back again, the same points");
  assert.ok(Date.parse(second.status!.lastRestoreTime!) >= Date.parse(first.status.lastRestoreTime), "lastRestoreTime moved on");
  assert.notEqual(second.status?.lastRestoreTime, first.status?.lastRestoreTime);
  assert.equal(second.status?.jobName, "restore-heal-2", "each restore of a run is its own Job");

  const events = await eventsOf(w.ns, "heal");
  assert.ok(events.some((e) => e.startsWith("Created: ") && e.includes("restore-heal-1") && e.includes(b.backupId)), `a Created event names the Job and the backup: ${events.join(" | ")}`);
  assert.ok(events.some((e) => e.startsWith("Restored: ")), `a Restored event: ${events.join(" | ")}`);
  const metrics = await managerMetrics(w.manager);
  assert.match(metrics, new RegExp(`qdrant_operator_restore_last_success_timestamp_seconds\\{[^}]*namespace="${w.ns}"[^}]*restore="heal"[^}]*\\} \\d+`));
  assert.match(metrics, new RegExp(`qdrant_operator_restore_duration_seconds_count\\{[^}]*namespace="${w.ns}"[^}]*restore="heal"[^}]*\\} 2`));
});

test("Once: restored once and recorded; re-applied unchanged it restores nothing more, even with the target gone", async (t) => {
  const w = await world(t, "e2e-restore-once");
  const b = await backedUp(w);
  const target = `${w.collection}_once`;
  cleanupOnQdrant(t, w.qdrant.url, w.apiKey, [target]);
  const manifest = restoreObj("once", { backupRef: { name: b.name } }, { target: { collection: target } });
  await apply(w.ns, [manifest]);

  const done = await waitForRestorePhase(w.ns, "once", "Succeeded");
  assert.equal(done.status?.restoreCount, 1);
  assert.equal(done.status?.backupId, b.backupId);
  assert.equal(done.status?.jobName, "restore-once-1");
  assert.ok(done.status?.startTime && done.status.completionTime);
  assert.ok((done.status?.durationSeconds ?? -1) >= 0);
  assert.deepEqual([restoreCondition(done, "Ready")?.status, restoreCondition(done, "Ready")?.reason], ["True", "Restored"]);
  assert.deepEqual(await allPoints(w.qdrant.url, target, w.apiKey), await allPoints(w.qdrant.url, w.collection, w.apiKey));

  // The target goes; GitOps re-applies the same object (a no-op for the apiserver), then with a label
  // changed (a watch event, same generation), so the controller reconciles it for sure.
  await deleteCollection(w.qdrant.url, target, w.apiKey);
  const unchanged = await apply(w.ns, [manifest]);
  assert.match(unchanged.stdout, /unchanged/);
  await kubectl(["label", "-n", w.ns, "qdrantrestore", "once", "synced-by=gitops"]);
  // A marker restore applied after the label: the one controller's queue has the label's update before
  // the marker's add (one watch stream, in resourceVersion order), so once the marker has succeeded the
  // re-applied restore has been reconciled.
  const marker = `${w.collection}_marker`;
  cleanupOnQdrant(t, w.qdrant.url, w.apiKey, [marker]);
  await apply(w.ns, [restoreObj("marker", { backupRef: { name: b.name } }, { target: { collection: marker } })]);
  await waitForRestorePhase(w.ns, "marker", "Succeeded");

  const after = await getRestore(w.ns, "once");
  assert.equal(after.status?.phase, "Succeeded");
  assert.equal(after.status?.restoreCount, 1, "restored once, never again");
  assert.equal(after.status?.jobName, "restore-once-1");
  assert.equal(after.status?.completionTime, done.status?.completionTime);
  assert.deepEqual((await restoreJobs(w.ns)).map((j) => j.metadata.name), ["restore-marker-1", "restore-once-1"], "no second Job");
  assert.equal(await collectionExists(w.qdrant.url, target, w.apiKey), false, "nothing restored it");
});

test("IfMissing: a Qdrant that comes back empty gets its collection at once, when its QdrantConnection sees it back (not at the next check)", async (t) => {
  needsEmulatorFaults(t, "stops the target Qdrant (an emulator of the test's own) and starts an empty one on its address");
  const w = await world(t, "e2e-restore-comeback");
  const b = await backedUp(w);
  const original = await allPoints(w.qdrant.url, w.collection, w.apiKey);
  let target = await startEmulator();
  t.after(() => target.stop());
  const port = Number(new URL(target.url).port);
  await apply(w.ns, [
    { apiVersion: API_VERSION, kind: "QdrantConnection", metadata: { name: "comeback" }, spec: { url: target.url, peers: { mode: "None" } } },
    // An hour between checks: only the connection's news can explain a restore within this test.
    restoreObj("heal", { backupRef: { name: b.name } }, { policy: "IfMissing", checkIntervalSeconds: 3600, target: { connectionRef: { name: "comeback" } } }),
  ]);
  await waitForRestore(w.ns, "heal", "the first restore", (r) => r.status?.restoreCount === 1 && r.status.phase === "Watching");
  assert.deepEqual(await allPoints(target.url, w.collection), original);

  // Qdrant goes down; its connection notices (its next check) and says so.
  await target.stop();
  const ready = (o: { status?: { conditions?: Array<{ type: string; status: string }> } } | undefined) => o?.status?.conditions?.find((c) => c.type === "Ready")?.status;
  await eventually("the connection to see Qdrant down", async () => (ready(await getJson(w.ns, "qdrantconnection", "comeback")) === "False" ? true : undefined), 150_000);
  // It comes back on the same address with empty storage (a lost volume).
  target = await startEmulator({ port });
  await eventually("the connection to see Qdrant back", async () => (ready(await getJson(w.ns, "qdrantconnection", "comeback")) === "True" ? true : undefined), 150_000);
  const healed = await waitForRestore(w.ns, "heal", "the second restore", (r) => r.status?.restoreCount === 2 && r.status.phase === "Watching");
  assert.equal(healed.status?.jobName, "restore-heal-2");
  assert.deepEqual(await allPoints(target.url, w.collection), original, "the empty Qdrant has the collection back, the same points");
});
