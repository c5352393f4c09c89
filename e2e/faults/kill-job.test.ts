/**
 * A Job's process SIGKILLed at each closed crash window on the Job's side (src/crash-windows.ts), once:
 * the variable reaches the pod through the node agent's test-only env annotation, set with the resources'
 * own `spec.job.podAnnotations` (test/env/node-agent/README.md), and a once-file on the host (outside the
 * pod's /tmp emptyDir, so the next pod sees it) lets the next attempt pass the line. Then the work ends as
 * if nothing happened, and the invariants hold (e2e/faults/invariants.ts):
 *
 * - backup-job.uploaded-before-manifest: the Job's next pod deletes the marked snapshots, uploads again
 *   and writes the manifest; one Job (one failed pod, one succeeded), no snapshot left, no partial upload;
 * - restore-job.recovered-before-verify: attempt 1 dies with its claim on a half-built target; attempt 2
 *   owns it, replaces it, and the target holds all 20 points;
 * - copy-job.upserted-before-record: attempt 1 dies after a page its record does not count; attempt 2
 *   resumes from the record and green ends with blue's 20 points, none doubled.
 *
 * - backup-job.multipart-started-before-complete: a ~12 MiB snapshot (an 8 MiB part and the rest), so the
 *   upload is multipart; the Job dies with the upload open, the next pod aborts it and deletes the marked
 *   snapshot, and uploads again: no upload left open, one object, one manifest;
 *
 * - backup-job.snapshot-created-before-marker: the Job dies with a snapshot no marker names; the next pod
 *   finds it by the intent written before the create (src/backup/store/resolve-intent.ts), deletes it and
 *   finishes: one Job (one failed pod, one succeeded), no snapshot left;
 * - backup-job.marker-written-before-intent-deleted: marker and intent both left; the next pod deletes
 *   the marked snapshot and the intent with it, and finishes.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import type { CrashWindowName } from "../../src/crash-windows.ts";
import { CRASH_AT_ENV, CRASH_ONCE_FILE_ENV } from "../../src/runtime/crash-point.ts";
import { TEST_ENV_ANNOTATION } from "../../test/env/node-agent/env.ts";
import { apply, backupObj, getJson, waitForPhase, world, type World } from "../helpers/backup-world.ts";
import { backedUp, cleanupOnQdrant, restoreJobs, restoreObj, waitForRestorePhase } from "../helpers/restore-world.ts";
import { applyRollout, assertOneSwitch, blueGreen, rolloutJobs, rolloutObj, waitForRolloutPhase } from "../helpers/rollout-world.ts";
import { seedCollection } from "../../test/jobs/backup-harness.ts";
import { uniqueName } from "../../test/helpers/qdrant.ts";
import { assertInvariants, worldScope } from "./invariants.ts";

/**
 * `spec.job` that makes the Job's process die at `window` the first time it passes it. The once-file sits
 * under /var/tmp: a Job's /tmp is an emptyDir of its own pod.
 */
async function jobDyingAt(t: TestContext, window: CrashWindowName): Promise<{ job: { podAnnotations: Record<string, string> }; fired: () => boolean }> {
  const dir = await mkdtemp("/var/tmp/qdrant-operator-fault-");
  t.after(() => rm(dir, { recursive: true, force: true }));
  const once = join(dir, "fired");
  return {
    job: { podAnnotations: { [TEST_ENV_ANNOTATION]: JSON.stringify({ [CRASH_AT_ENV]: window, [CRASH_ONCE_FILE_ENV]: once }) } },
    fired: () => existsSync(once) && readFileSync(once, "utf8").trim() === window,
  };
}

interface JobStatus {
  status?: { succeeded?: number; failed?: number };
}

/**
 * A backup "b" of `collection` (the world's 20 points by default) whose Job's process dies at `window`
 * once: the backup Succeeds on the next pod with every point, the Job counts one failed pod and one
 * succeeded, and the invariants hold for the collection (nothing left on the peer or in the bucket).
 */
async function backupJobKilledAt(t: TestContext, w: World, window: CrashWindowName, opts: { collection?: string; points?: number; timeoutMs?: number } = {}): Promise<void> {
  const collection = opts.collection ?? w.collection;
  const { job, fired } = await jobDyingAt(t, window);
  await apply(w.ns, [backupObj("b", { collections: { names: [collection] }, job })]);
  const done = await waitForPhase(w.ns, "b", "Succeeded", opts.timeoutMs ?? 180_000);
  assert.ok(fired(), "the Job's process was killed at the window");
  assert.equal(done.status?.collections?.[0]?.pointsCount, opts.points ?? 20);
  const j = await getJson<JobStatus>(w.ns, "job", "backup-b");
  assert.deepEqual([j?.status?.failed, j?.status?.succeeded], [1, 1], "one pod killed, the next succeeded");
  await assertInvariants(worldScope(w, [collection]));
}

test("backup-job.uploaded-before-manifest: the Job's next pod cleans up and finishes; one Job, one backup", async (t) => {
  await backupJobKilledAt(t, await world(t, "fault-jb-manifest"), "backup-job.uploaded-before-manifest");
});

test("backup-job.snapshot-created-before-marker: the next pod deletes the snapshot its intent names and finishes; nothing left", async (t) => {
  await backupJobKilledAt(t, await world(t, "fault-jb-intent"), "backup-job.snapshot-created-before-marker");
});

test("backup-job.marker-written-before-intent-deleted: the next pod deletes the marked snapshot and the intent, and finishes", async (t) => {
  await backupJobKilledAt(t, await world(t, "fault-jb-intent2"), "backup-job.marker-written-before-intent-deleted");
});

test("backup-job.multipart-started-before-complete: the next pod aborts the open upload and finishes; nothing left open", async (t) => {
  const w = await world(t, "fault-jb-multipart");
  const big = uniqueName("multipart");
  cleanupOnQdrant(t, w.qdrant.url, w.apiKey, [big]);
  await seedCollection(w.qdrant.url, big, 192, { payloadBytes: 64 * 1024, apiKey: w.apiKey });
  await backupJobKilledAt(t, w, "backup-job.multipart-started-before-complete", { collection: big, points: 192, timeoutMs: 240_000 });
});

test("restore-job.recovered-before-verify: attempt 2 owns the half-built target and restores it whole", async (t) => {
  const w = await world(t, "fault-jr-verify");
  const b = await backedUp(w);
  const target = `${w.collection}_jr`;
  cleanupOnQdrant(t, w.qdrant.url, w.apiKey, [target]);
  const { job, fired } = await jobDyingAt(t, "restore-job.recovered-before-verify");
  await apply(w.ns, [restoreObj("r", { backupRef: { name: b.name } }, { target: { collection: target }, job })]);
  const done = await waitForRestorePhase(w.ns, "r", "Succeeded", 240_000);
  assert.ok(fired(), "the Job's process was killed at the window");
  assert.equal(done.status?.attempt, 2);
  assert.deepEqual((await restoreJobs(w.ns)).map((j) => j.metadata.name).sort(), ["restore-r-1", "restore-r-2"]);
  await assertInvariants(worldScope(w, [w.collection, target]));
});

test("copy-job.upserted-before-record: attempt 2 resumes from green's record; green holds blue's 20 points", async (t) => {
  const w = await world(t, "fault-jc-record");
  const bg = await blueGreen(t, w);
  const { job, fired } = await jobDyingAt(t, "copy-job.upserted-before-record");
  await applyRollout(w, rolloutObj("v2", bg.alias, bg.green, { source: { copyFrom: { batchSize: 5 } }, gates: { minPoints: 20, pointsWithinPercent: 0, timeout: "5m" }, job }));
  await waitForRolloutPhase(w.ns, "v2", "Promoted", 240_000);
  assert.ok(fired(), "the Job's process was killed at the window");
  assert.deepEqual((await rolloutJobs(w.ns)).map((j) => j.metadata.name).sort(), ["rollout-v2-1", "rollout-v2-2"]);
  await assertOneSwitch(w.ns, "v2", bg.alias, bg.green, bg.blue);
  await assertInvariants(worldScope(w, [bg.blue, bg.green], { aliases: [{ alias: bg.alias, collection: bg.green, points: 20 }] }));
});
