/**
 * The manager SIGKILLed in each of a rollout's crash windows; the next manager rebuilds the status from
 * what Qdrant and the cluster say, and every case ends Promoted with the alias on v2 and one switch:
 * - mid-copy: the copy Job goes on without the manager, the next manager adopts it (the same Job, one
 *   attempt) and v2 holds exactly v1's points, each page upserted once;
 * - mid-copy with the copy Job's process killed too (a node lost): attempt 2, a new Job, resumes from the
 *   record the copy keeps in v2's metadata (it upserts only the pages after it), no point lost or doubled;
 * - between the gates and the switch (Manual, killed in AwaitingPromotion, approved while no manager
 *   runs; and Auto, killed while its switch requests are refused): the next manager switches, once;
 * - after the switch and before the status write (its own emulator holds the re-read that confirms the
 *   switch, and the manager is killed inside it): the next manager sees the alias on v2 while the status
 *   says Validating and writes Promoted without a second alias request.
 *
 * The emulator's `delay` faults (scoped to the test's own green, or on an emulator of the test's own)
 * hold the manager or the Job where the test kills it; a delay fault with room to spare is also the count
 * of the requests it matched.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AdminClient } from "../test/emulator/admin-client.ts";
import { startManager } from "../test/helpers/manager.ts";
import { needsEmulatorFaults, useCollection } from "../test/helpers/qdrant.ts";
import { eventually } from "../test/helpers/testenv.ts";
import { world } from "./helpers/backup-world.ts";
import { killJobProcess, qdrantCall } from "./helpers/restore-world.ts";
import {
  COPY_METADATA,
  aliasTarget,
  assertSamePoints,
  assertOneSwitch,
  apiOf,
  applyRollout,
  assertHeldCopyAdopted,
  holdCopyInFirstUpsert,
  blueGreen,
  collectionMetadata,
  getRollout,
  patchRolloutSpec,
  pointsOf,
  rolloutJobs,
  rolloutObj,
  terminatedPod,
  waitForRolloutPhase,
} from "./helpers/rollout-world.ts";

test("the manager SIGKILLed mid-copy: the next one adopts the running copy Job; one Job, each page upserted once, v2 = v1", async (t) => {
  const { admin } = needsEmulatorFaults(t, "holds the copy's upserts to kill the manager meanwhile");
  const w = await world(t, "e2e-rollout-mkill-copy");
  const bg = await blueGreen(t, w);
  const v1 = await pointsOf(w, bg.blue);
  const held = await holdCopyInFirstUpsert(t, w, bg, admin, 1500);
  w.manager.child.kill("SIGKILL");
  await w.manager.stop();
  await startManager(t, [w.ns]);
  await assertHeldCopyAdopted(w, bg, held, v1);
});

test("the manager and the copy Job's process SIGKILLed mid-copy: attempt 2 resumes from v2's own record; no point lost or doubled", async (t) => {
  const { admin } = needsEmulatorFaults(t, "holds the copy's upserts to kill the Job between its pages");
  const w = await world(t, "e2e-rollout-mkill-job");
  const blue = await useCollection(t, "blue1000", { points: 1000 });
  const bg = await blueGreen(t, w, "v2", { blue });
  const v1 = await pointsOf(w, bg.blue);
  // Ten pages of 100, each upsert held 500 ms: the copy writes its record (about once a second) a few
  // pages in, and the test kills it then.
  const hold = await admin.delayNext({ method: "PUT", path: `/collections/${bg.green}/points` }, 500, 1000);
  t.after(() => admin.removeFault(hold.id));
  const fired = async () => (await admin.faults()).find((f) => f.id === hold.id)?.fired ?? -1;
  type CopyRecord = { copied: number; total?: number; nextOffset?: string | number; done: boolean; attempt: number };
  const record = async (): Promise<CopyRecord | undefined> => {
    const meta: Record<string, unknown> = await collectionMetadata(w.qdrant.url, bg.green, w.apiKey).catch(() => ({}));
    return meta[COPY_METADATA] as CopyRecord | undefined;
  };

  await applyRollout(w, rolloutObj("v2", bg.alias, bg.green, { source: { copyFrom: { batchSize: 100 } }, gates: { minPoints: 1000, pointsWithinPercent: 0 } }));
  await eventually("the copy's first record, the copy not done", async () => {
    const rec = await record();
    if (rec?.done) throw new Error(`the copy finished before the kill: ${JSON.stringify(rec)}`);
    return rec && rec.copied > 0 ? rec : undefined;
  }, 120_000);
  await killJobProcess(w.ns, "rollout-v2-1");
  w.manager.child.kill("SIGKILL");
  await w.manager.stop();
  await terminatedPod(w.ns, "rollout-v2-1");
  // The process is gone: its record and the upserts it sent are final now.
  const left = (await record())!;
  const upsertsBefore = await fired();
  assert.ok(!left.done && left.copied > 0 && left.copied < 1000, JSON.stringify(left));
  assert.equal(left.nextOffset, left.copied + 1, "ids 1..1000 in order: the record is page-aligned");

  await startManager(t, [w.ns]);
  const r = await waitForRolloutPhase(w.ns, "v2", "Promoted", 240_000);
  // The Job controller counts the pods' ends on its own time: wait for it.
  const jobs = await eventually("both copy Jobs' ends counted", async () => {
    const js = await rolloutJobs(w.ns);
    return js.length === 2 && js[0]!.status?.failed !== undefined && js[1]!.status?.succeeded !== undefined ? js : undefined;
  });
  assert.deepEqual(jobs.map((j) => j.metadata.name), ["rollout-v2-1", "rollout-v2-2"]);
  assert.equal(jobs[0]!.status?.failed, 1, "attempt 1 was killed");
  assert.equal(jobs[1]!.status?.succeeded, 1, "attempt 2 finished the copy");
  const result = JSON.parse((await terminatedPod(w.ns, "rollout-v2-2")).message ?? "{}") as { ok?: boolean; resumedFrom?: number; batches?: number; copiedPoints?: number };
  assert.equal(result.ok, true, JSON.stringify(result));
  assert.equal(result.resumedFrom, left.nextOffset, "attempt 2 started where v2's record said");
  assert.equal(result.batches, (1000 - left.copied) / 100, "and upserted only the pages after it");
  assert.equal((await fired()) - upsertsBefore, (1000 - left.copied) / 100, "Qdrant saw only those upserts from attempt 2");
  assert.equal(await apiOf(w).count(bg.green, { exact: true }), 1000, "no point doubled");
  assertSamePoints(await pointsOf(w, bg.green), v1, "no point lost");
  assert.equal(await aliasTarget(w.qdrant.url, bg.alias, w.apiKey), bg.green);
  await assertOneSwitch(w.ns, "v2", bg.alias, bg.green, bg.blue);
  // The status mirrors the finished copy, not the last progress seen before the kill.
  assert.deepEqual(r.status?.copy && [r.status.copy.copiedPoints, r.status.copy.totalPoints, r.status.copy.done], [1000, 1000, true], JSON.stringify(r.status?.copy));
});

test("the manager SIGKILLed between the gates and the switch (AwaitingPromotion, approved while none runs): the next one switches once", async (t) => {
  const w = await world(t, "e2e-rollout-mkill-gates");
  const bg = await blueGreen(t, w);
  await applyRollout(w, rolloutObj("v2", bg.alias, bg.green, { source: { copyFrom: {} }, gates: { minPoints: 20 }, promotion: { mode: "Manual" } }));
  await waitForRolloutPhase(w.ns, "v2", "AwaitingPromotion", 180_000);
  w.manager.child.kill("SIGKILL");
  await w.manager.stop();
  await patchRolloutSpec(w.ns, "v2", { promotion: { mode: "Manual", approved: true } });
  assert.equal(await aliasTarget(w.qdrant.url, bg.alias, w.apiKey), bg.blue, "nobody switched while no manager ran");
  await startManager(t, [w.ns]);
  const r = await waitForRolloutPhase(w.ns, "v2", "Promoted");
  assert.equal(r.status?.previousCollection, bg.blue);
  assert.equal(await aliasTarget(w.qdrant.url, bg.alias, w.apiKey), bg.green);
  await assertOneSwitch(w.ns, "v2", bg.alias, bg.green, bg.blue);
});

test("the manager SIGKILLed between the gates and the switch in Auto mode (its switch requests refused meanwhile): the next one switches once", async (t) => {
  const w = await world(t, "e2e-rollout-mkill-auto", { ownEmulator: "refuses POST /collections/aliases, which every collection shares" });
  const admin = new AdminClient(w.qdrant.adminUrl);
  const bg = await blueGreen(t, w);
  // Every switch request fails until the fault is removed: the gates pass, the switch does not happen.
  const refuse = await admin.failNext({ method: "POST", path: "/collections/aliases" }, 500, "Service internal error: injected", 1000);
  await applyRollout(w, rolloutObj("v2", bg.alias, bg.green, { source: { copyFrom: {} }, gates: { minPoints: 20 } }));
  await eventually("a switch request refused", async () => ((await admin.faults()).find((f) => f.id === refuse.id)?.fired ?? 0) >= 1 ? true : undefined, 180_000);
  const judged = await getRollout(w.ns, "v2");
  assert.equal(judged.status?.phase, "Validating", JSON.stringify(judged.status));
  assert.ok((judged.status?.gates ?? []).length > 0 && judged.status.gates!.every((g) => g.passed), "every gate passed");
  w.manager.child.kill("SIGKILL");
  await w.manager.stop();
  await admin.removeFault(refuse.id);
  assert.equal(await aliasTarget(w.qdrant.url, bg.alias, w.apiKey), bg.blue, "a refused switch left the alias on v1");

  const count = await admin.delayNext({ method: "POST", path: "/collections/aliases" }, 1, 100);
  await startManager(t, [w.ns]);
  const r = await waitForRolloutPhase(w.ns, "v2", "Promoted");
  assert.equal(r.status?.previousCollection, bg.blue);
  assert.equal(await aliasTarget(w.qdrant.url, bg.alias, w.apiKey), bg.green);
  assert.equal((await admin.faults()).find((f) => f.id === count.id)?.fired, 1, "one switch request from the next manager");
  await assertOneSwitch(w.ns, "v2", bg.alias, bg.green, bg.blue);
});

test("the manager SIGKILLed after the switch, before the status write: the next one writes Promoted without switching again", async (t) => {
  const w = await world(t, "e2e-rollout-mkill-switch", { ownEmulator: "holds GET /aliases and POST /collections/aliases, which every collection shares" });
  const admin = new AdminClient(w.qdrant.adminUrl);
  const bg = await blueGreen(t, w);
  const aliasesOf = async (collection: string) => (await qdrantCall<{ aliases: Array<{ alias_name: string }> }>(w.qdrant.url, `/collections/${collection}/aliases`, w.apiKey)).aliases.map((a) => a.alias_name);
  // The switch request is held 3 s; when it has arrived the confirming re-read of the aliases is held
  // far longer, and the manager is killed once the switch is applied.
  const post = await admin.delayNext({ method: "POST", path: "/collections/aliases" }, 3000, 1);
  await applyRollout(w, rolloutObj("v2", bg.alias, bg.green, { source: { copyFrom: {} }, gates: { minPoints: 20 } }));
  await eventually("the switch request to arrive", async () => ((await admin.faults()).some((f) => f.id === post.id) ? undefined : true), 180_000);
  const confirm = await admin.delayNext({ method: "GET", path: "/aliases" }, 120_000, 1000);
  await eventually("the switch applied", async () => ((await aliasesOf(bg.green)).includes(bg.alias) ? true : undefined), 30_000);
  w.manager.child.kill("SIGKILL");
  await w.manager.stop();
  await admin.removeFault(confirm.id);
  const before = await getRollout(w.ns, "v2");
  assert.notEqual(before.status?.phase, "Promoted", "the status write was lost");
  assert.notEqual(before.status?.previousCollection, bg.blue);

  // From now on a delay of 1 ms with room to spare counts any alias request the next manager makes.
  const count = await admin.delayNext({ method: "POST", path: "/collections/aliases" }, 1, 100);
  await startManager(t, [w.ns]);
  const r = await waitForRolloutPhase(w.ns, "v2", "Promoted");
  assert.equal(r.status?.previousCollection, bg.blue, "previous rebuilt from the status's active collection");
  assert.equal(await aliasTarget(w.qdrant.url, bg.alias, w.apiKey), bg.green);
  assert.equal((await admin.faults()).find((f) => f.id === count.id)?.fired, 0, "no second switch request");
  await assertOneSwitch(w.ns, "v2", bg.alias, bg.green, bg.blue);
});
