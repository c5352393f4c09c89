/**
 * A backup Job's process SIGKILLed between a snapshot's create and its marker (crash window
 * backup-job.snapshot-created-before-marker), or between the marker and the intent's deletion
 * (backup-job.marker-written-before-intent-deleted), through the failpoint. The retry of the same plan
 * resolves the intent the killed run wrote before its create (src/backup/store/resolve-intent.ts):
 * - the one snapshot of the collection on that peer in the intent's window is the killed run's: deleted;
 * - a person's snapshot made in the window beside it: two candidates, none deleted, a warning names both;
 * - a marker beside the intent: the marked snapshot is deleted and the intent with it, so a person's
 *   snapshot in the window is not taken for the killed run's;
 * - FullStorage: the same with the storage's `full-snapshot-…` name.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startEmulator, type EmulatorHandle } from "../emulator/index.ts";
import { AdminClient } from "../emulator/admin-client.ts";
import { manifestKey } from "../../src/backup/layout/object-keys.ts";
import type { CrashWindowName } from "../../src/crash-windows.ts";
import { CRASH_AT_ENV } from "../../src/runtime/crash-point.ts";
import { eventually } from "../helpers/eventually.ts";
import { spawnJob } from "../helpers/job-process.ts";
import { s3Client, useBucket } from "../helpers/s3.ts";
import { fullStoragePlan, jobSecrets, listKeys, makePlan, qdrant, runJob, seedCollection } from "./backup-harness.ts";
import type { BackupJobPlan, BackupJobResult } from "../../src/jobs/backup/contract.ts";

interface LogLine {
  msg: string;
  level?: string;
  snapshot?: string;
  snapshots?: string[];
  foundBy?: string;
}

describe("job backup killed around a snapshot's create", () => {
  let emu: EmulatorHandle;
  before(async () => {
    emu = await startEmulator();
  });
  after(async () => {
    await emu.stop();
  });

  const snapshotsOf = async (collection: string) => (await qdrant<Array<{ name: string }>>(emu.url, "GET", `/collections/${collection}/snapshots`)).map((s) => s.name).sort();

  /** Runs the plan's Job until it is killed at `window`; returns what it left in the bucket. */
  async function killedAt(plan: BackupJobPlan, window: CrashWindowName, bucket: string) {
    const run = await spawnJob("backup", plan, { ...jobSecrets(), [CRASH_AT_ENV]: window }, (text) => JSON.parse(text) as BackupJobResult).wait();
    assert.equal(run.signal, "SIGKILL", run.stderr);
    return (await listKeys(s3Client(), bucket)).filter((k) => k.includes("/_pending/"));
  }

  /** Qdrant names snapshots to the second: the person's, made in the next one, is another file. */
  async function nextSecond() {
    const second = Math.floor(Date.now() / 1000);
    await eventually("the next second", () => Promise.resolve(Math.floor(Date.now() / 1000) > second ? true : undefined));
  }

  const logs = (stdout: string) => stdout.trim().split("\n").map((l) => JSON.parse(l) as LogLine);

  it("killed before the marker: the retry deletes the snapshot its intent names, and succeeds", async (t) => {
    await seedCollection(emu.url, "docs_a", 5);
    const bucket = await useBucket(t);
    const plan = makePlan(emu.url, bucket, { collections: { names: ["docs_a"] } });
    const pending = await killedAt(plan, "backup-job.snapshot-created-before-marker", bucket);
    assert.equal(pending.length, 1, `only the intent: ${pending.join(", ")}`);
    assert.match(pending[0]!, /\/_pending\/\d+\/_intent\/docs_a$/);
    const left = await snapshotsOf("docs_a");
    assert.equal(left.length, 1, "the killed run's snapshot, named by no marker");

    const retry = await runJob(plan);
    assert.equal(retry.code, 0, retry.stderr);
    const deleted = logs(retry.stdout).find((l) => l.msg === "Deleted snapshot left by an earlier run");
    assert.equal(deleted?.snapshot, left[0]);
    assert.equal(deleted?.foundBy, "intent");
    assert.deepEqual(await snapshotsOf("docs_a"), [], "nothing left on the peer");
    const keys = await listKeys(s3Client(), bucket);
    assert.ok(keys.includes(manifestKey({ namespace: plan.source.namespace, connection: plan.source.connection, collection: "docs_a", backupId: plan.backupId })));
    assert.deepEqual(keys.filter((k) => k.includes("/_pending/")), [], "no marker, no intent");
  });

  it("killed before the marker, a person's snapshot made in the window: neither is deleted, a warning names both", async (t) => {
    await seedCollection(emu.url, "docs_b", 5);
    const bucket = await useBucket(t);
    const plan = makePlan(emu.url, bucket, { collections: { names: ["docs_b"] } });
    await killedAt(plan, "backup-job.snapshot-created-before-marker", bucket);
    const [killed] = await snapshotsOf("docs_b");
    await nextSecond();
    const person = await qdrant<{ name: string }>(emu.url, "POST", "/collections/docs_b/snapshots?wait=true");
    t.after(() => qdrant(emu.url, "DELETE", `/collections/docs_b/snapshots/${killed}`).then(() => qdrant(emu.url, "DELETE", `/collections/docs_b/snapshots/${person.name}`)));
    // The retry's own snapshot in the person's second would be the person's file (names are to the second).
    await nextSecond();

    const retry = await runJob(plan);
    assert.equal(retry.code, 0, retry.stderr);
    const warned = logs(retry.stdout).find((l) => l.snapshots !== undefined);
    assert.deepEqual(warned?.snapshots, [killed, person.name].sort());
    assert.equal(warned?.level, "warn");
    assert.deepEqual(await snapshotsOf("docs_b"), [killed, person.name].sort(), "neither deleted: which is ours cannot be told");
    assert.deepEqual((await listKeys(s3Client(), bucket)).filter((k) => k.includes("/_pending/")), [], "the intent is resolved (dropped)");
  });

  it("killed between the marker and the intent's deletion: the marked snapshot goes, a person's in the window stays", async (t) => {
    await seedCollection(emu.url, "docs_c", 5);
    const bucket = await useBucket(t);
    const plan = makePlan(emu.url, bucket, { collections: { names: ["docs_c"] } });
    const pending = await killedAt(plan, "backup-job.marker-written-before-intent-deleted", bucket);
    assert.equal(pending.length, 2, `the marker and the intent: ${pending.join(", ")}`);
    await nextSecond();
    const person = await qdrant<{ name: string }>(emu.url, "POST", "/collections/docs_c/snapshots?wait=true");
    t.after(() => qdrant(emu.url, "DELETE", `/collections/docs_c/snapshots/${person.name}`));
    await nextSecond();

    const retry = await runJob(plan);
    assert.equal(retry.code, 0, retry.stderr);
    assert.deepEqual(await snapshotsOf("docs_c"), [person.name], "only the person's snapshot is left");
    assert.deepEqual((await listKeys(s3Client(), bucket)).filter((k) => k.includes("/_pending/")), []);
  });

  it("FullStorage killed before the marker: the retry deletes the full snapshot its intent names", async (t) => {
    const bucket = await useBucket(t);
    const plan = fullStoragePlan(emu.url, bucket);
    const pending = await killedAt(plan, "backup-job.snapshot-created-before-marker", bucket);
    assert.equal(pending.length, 1, `only the intent: ${pending.join(", ")}`);
    assert.match(pending[0]!, /\/_pending\/\d+\/_intent\/~full-storage$/);
    const full = async () => (await qdrant<Array<{ name: string }>>(emu.url, "GET", "/snapshots")).map((s) => s.name);
    const left = await full();
    assert.equal(left.length, 1, "the killed run's full snapshot");

    const retry = await runJob(plan);
    assert.equal(retry.code, 0, retry.stderr);
    const deleted = logs(retry.stdout).find((l) => l.msg === "Deleted snapshot left by an earlier run");
    assert.equal(deleted?.snapshot, left[0]);
    assert.deepEqual(await full(), [], "nothing left on the peer");
    assert.deepEqual((await listKeys(s3Client(), bucket)).filter((k) => k.includes("/_pending/")), []);
  });

  it("a create Qdrant refuses made no snapshot: the run fails and leaves no intent", async (t) => {
    await seedCollection(emu.url, "docs_d", 5);
    const bucket = await useBucket(t);
    const admin = new AdminClient(emu.adminUrl);
    await admin.failNext({ method: "POST", path: "/collections/{collection_name}/snapshots" }, 500, "Service internal error: No space left on device (os error 28)", 5);
    t.after(() => admin.clearFaults());
    const run = await runJob(makePlan(emu.url, bucket, { collections: { names: ["docs_d"] } }));
    assert.notEqual(run.code, 0, "the backup fails");
    assert.deepEqual((await listKeys(s3Client(), bucket)).filter((k) => k.includes("/_pending/")), [], "no intent left");
  });
});
