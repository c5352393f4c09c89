/**
 * `job restore` as the restore Job's pod runs it: a child process against an emulator of its own and the
 * shared MinIO, restoring real backups the backup Job made. What the controller relies on: the result
 * file, the exit code, identical points, and that a refused or failed restore leaves the target as it
 * was (no half-created collection, an existing one untouched), with a claim only where one must stand.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startEmulator, type EmulatorHandle } from "../emulator/index.ts";
import { AdminClient } from "../emulator/admin-client.ts";
import { EXIT_CODES } from "../../src/jobs/protocol/exit-codes.ts";
import type { RestoreJobSuccess } from "../../src/jobs/restore/contract.ts";
import { useBucket } from "../helpers/s3.ts";
import { allPoints, qdrant, seedCollection } from "./backup-harness.ts";
import { eventually } from "../helpers/testenv.ts";
import { api, backUp, claimWritten, describeRun, outcome, restorePlan, runRestore, startRestore, type Backup } from "./restore-harness.ts";

const WRONG_SHA = "0".repeat(64);

describe("job restore, standalone Qdrant", () => {
  let emu: EmulatorHandle;
  let admin: AdminClient;
  let original: unknown[];
  before(async () => {
    emu = await startEmulator();
    admin = new AdminClient(emu.adminUrl);
    await seedCollection(emu.url, "docs", 150);
    original = await allPoints(emu.url, "docs");
  });
  after(async () => {
    await emu.stop();
  });

  /** One backup of "docs" per test: each test has a bucket of its own. */
  const backupIn = (bucket: string): Promise<Backup> => backUp(emu.url, bucket, "docs");

  for (const method of ["Pull", "Upload"] as const) {
    it(`${method}: restores identical points into a new name while the original serves`, async (t) => {
      const bucket = await useBucket(t);
      const backup = await backupIn(bucket);
      const target = `docs_${method.toLowerCase()}`;
      t.after(() => api(emu.url).deleteCollection(target));
      const run = await runRestore(restorePlan(backup, emu.url, bucket, { target, method }));
      assert.equal(run.code, EXIT_CODES.SUCCESS, describeRun(run));
      const ok = run.result as RestoreJobSuccess;
      assert.equal(ok.targetCollection, target);
      assert.equal(ok.method, method);
      assert.equal(ok.created, true);
      assert.deepEqual(ok.pointsCount, { expected: 150, actual: 150 });
      assert.equal(ok.bytes, backup.manifest.peers[0]!.file.size);
      assert.deepEqual(ok.peers?.map((p) => p.sourcePeerId), [backup.manifest.peers[0]!.peerId]);
      assert.ok(Date.parse(ok.startTime) <= Date.parse(ok.recoveredTime) && Date.parse(ok.recoveredTime) <= Date.parse(ok.verifiedTime));
      assert.deepEqual(await allPoints(emu.url, target), original);
      assert.deepEqual(await allPoints(emu.url, "docs"), original);
      // Nothing left on the peer's disk: no uploaded file kept in the snapshots directory.
      const files = await admin.files(1);
      assert.deepEqual([...files.snapshots, ...files.tmp].filter((f) => f.path.includes(target)), []);
      // No presigned URL in the logs.
      assert.doesNotMatch(run.stdout, /X-Amz-Signature=/);
    });
  }

  for (const method of ["Pull", "Upload"] as const) {
    it(`${method}: a wrong checksum fails ChecksumMismatch and leaves no collection`, async (t) => {
      const bucket = await useBucket(t);
      const backup = await backupIn(bucket);
      const target = `docs_badsum_${method.toLowerCase()}`;
      const run = await runRestore(restorePlan(backup, emu.url, bucket, { target, method, files: (fs) => fs.map((f) => ({ ...f, sha256: WRONG_SHA })) }));
      assert.equal(run.code, EXIT_CODES.PERMANENT, describeRun(run));
      assert.equal(outcome(run), "ChecksumMismatch", describeRun(run));
      assert.ok(run.result && !run.result.ok && !("claim" in run.result), run.resultText);
      assert.equal(await api(emu.url).collectionExists(target), false);
    });
  }

  it("a target that exists: TargetExists, the collection untouched, no claim", async (t) => {
    const bucket = await useBucket(t);
    const backup = await backupIn(bucket);
    const target = "docs_taken";
    await seedCollection(emu.url, target, 3);
    t.after(() => api(emu.url).deleteCollection(target));
    const before = await allPoints(emu.url, target);
    const run = await runRestore(restorePlan(backup, emu.url, bucket, { target }));
    assert.equal(outcome(run), "TargetExists", describeRun(run));
    assert.equal(run.code, EXIT_CODES.RETRYABLE);
    assert.match(run.result && !run.result.ok ? run.result.message : "", /collection "docs_taken" exists; set spec.overwrite/);
    assert.ok(run.result && !run.result.ok && !("claim" in run.result), run.resultText);
    assert.deepEqual(await allPoints(emu.url, target), before);
  });

  it("a target that is an alias: TargetIsAlias, naming the collection behind it, which is untouched", async (t) => {
    const bucket = await useBucket(t);
    const backup = await backupIn(bucket);
    await seedCollection(emu.url, "docs_behind", 2);
    await qdrant(emu.url, "POST", "/collections/aliases", { actions: [{ create_alias: { alias_name: "docs_alias", collection_name: "docs_behind" } }] });
    t.after(() => api(emu.url).deleteCollection("docs_behind"));
    const run = await runRestore(restorePlan(backup, emu.url, bucket, { target: "docs_alias", overwrite: true }));
    assert.equal(outcome(run), "TargetIsAlias", describeRun(run));
    assert.match(run.result && !run.result.ok ? run.result.message : "", /"docs_alias" is an alias of collection "docs_behind"/);
    assert.equal((await allPoints(emu.url, "docs_behind")).length, 2);
  });

  it("ownedTarget: the half-made collection an earlier attempt left is replaced", async (t) => {
    const bucket = await useBucket(t);
    const backup = await backupIn(bucket);
    const target = "docs_halfmade";
    await seedCollection(emu.url, target, 7);
    t.after(() => api(emu.url).deleteCollection(target));
    const run = await runRestore(restorePlan(backup, emu.url, bucket, { target, ownedTarget: true, attempt: 2 }));
    assert.equal(run.code, EXIT_CODES.SUCCESS, describeRun(run));
    assert.equal((run.result as RestoreJobSuccess).created, true);
    assert.deepEqual(await allPoints(emu.url, target), original);
  });

  it("ownedTarget with overwrite: the half-made collection is replaced whole, not recovered into", async (t) => {
    const bucket = await useBucket(t);
    const backup = await backupIn(bucket);
    const target = "docs_halfmade_overwrite";
    await seedCollection(emu.url, target, 7);
    t.after(() => api(emu.url).deleteCollection(target));
    const run = await runRestore(restorePlan(backup, emu.url, bucket, { target, ownedTarget: true, overwrite: true, attempt: 2 }));
    assert.equal(run.code, EXIT_CODES.SUCCESS, describeRun(run));
    assert.equal((run.result as RestoreJobSuccess).created, true);
    assert.deepEqual(await allPoints(emu.url, target), original);
  });

  it("ownedTarget: an attempt that fails before it looks at the target keeps the claim it inherited", async (t) => {
    const bucket = await useBucket(t);
    const backup = await backupIn(bucket);
    // Nothing listens there: discovery fails before the target is looked at.
    const closed = "http://127.0.0.1:9";
    const run = await runRestore(restorePlan(backup, closed, bucket, { target: "docs_inherited", ownedTarget: true, attempt: 3 }));
    assert.equal(outcome(run), "QdrantUnreachable", describeRun(run));
    assert.deepEqual(run.result && !run.result.ok ? (run.result as { claim?: unknown }).claim : undefined, { collection: "docs_inherited", attempt: 3 }, run.resultText);
  });

  it("overwrite of a target that was not there: a failed check deletes the collection it created", async (t) => {
    const bucket = await useBucket(t);
    const backup = await backupIn(bucket);
    const target = "docs_overwrite_absent";
    t.after(() => api(emu.url).deleteCollection(target));
    const run = await runRestore(restorePlan(backup, emu.url, bucket, { target, overwrite: true, expectedPoints: 151 }));
    assert.equal(outcome(run), "VerificationFailed", describeRun(run));
    assert.equal(await api(emu.url).collectionExists(target), false);
  });

  it("overwrite: an existing collection is recovered in place (created false)", async (t) => {
    const bucket = await useBucket(t);
    const backup = await backupIn(bucket);
    const target = "docs_overwrite";
    await seedCollection(emu.url, target, 9);
    t.after(() => api(emu.url).deleteCollection(target));
    const run = await runRestore(restorePlan(backup, emu.url, bucket, { target, overwrite: true, method: "Upload" }));
    assert.equal(run.code, EXIT_CODES.SUCCESS, describeRun(run));
    assert.equal((run.result as RestoreJobSuccess).created, false);
    assert.deepEqual(await allPoints(emu.url, target), original);
  });

  it("a points count that differs from the manifest's: VerificationFailed, and the collection it created is deleted", async (t) => {
    const bucket = await useBucket(t);
    const backup = await backupIn(bucket);
    const target = "docs_wrongcount";
    const run = await runRestore(restorePlan(backup, emu.url, bucket, { target, expectedPoints: 151 }));
    assert.equal(outcome(run), "VerificationFailed", describeRun(run));
    assert.match(run.result && !run.result.ok ? run.result.message : "", /holds 150 points after the restore, the backup's manifest says 151/);
    assert.ok(run.result && !run.result.ok && !("claim" in run.result), run.resultText);
    assert.equal(await api(emu.url).collectionExists(target), false);
  });

  it("an object missing from the bucket (Upload): BackupObjectsMissing, no collection", async (t) => {
    const bucket = await useBucket(t);
    const backup = await backupIn(bucket);
    const target = "docs_noobject";
    const run = await runRestore(restorePlan(backup, emu.url, bucket, { target, method: "Upload", files: (fs) => fs.map((f) => ({ ...f, key: `${f.key}.gone` })) }));
    assert.equal(outcome(run), "BackupObjectsMissing", describeRun(run));
    assert.equal(await api(emu.url).collectionExists(target), false);
  });

  it("SIGKILL mid-recover (Pull): the result file holds the provisional failure with the claim", async (t) => {
    const bucket = await useBucket(t);
    const backup = await backupIn(bucket);
    const target = "docs_killed";
    t.after(() => api(emu.url).deleteCollection(target));
    const fault = await admin.delayNext({ method: "PUT", path: `/collections/${target}/snapshots/recover` }, 120_000);
    t.after(() => admin.removeFault(fault.id));
    const job = startRestore(restorePlan(backup, emu.url, bucket, { target, attempt: 4 }));
    await claimWritten(job);
    // The recover call is in flight (held), after the claim.
    await eventually("the recover call to be held", async () => ((await admin.faults()).some((f) => f.id === fault.id && f.remaining > 0) ? undefined : true));
    job.child.kill("SIGKILL");
    const run = await job.wait();
    assert.equal(run.signal, "SIGKILL");
    assert.deepEqual(JSON.parse(run.resultText), {
      ok: false,
      reason: "Interrupted",
      retryable: true,
      message: `restore attempt 4 was killed while restoring into collection "${target}" (it may have created it part-way; the next attempt replaces it)`,
      claim: { collection: target, attempt: 4 },
    });
  });

  it("a bad plan: InvalidRestorePlan naming every field, before anything is looked at", async () => {
    const run = await runRestore(JSON.stringify({ version: 1, mode: "FullStorage", method: "Pull", targetCollection: ".." }));
    assert.equal(outcome(run), "InvalidRestorePlan", describeRun(run));
    assert.equal(run.code, EXIT_CODES.PERMANENT);
    const message = run.result && !run.result.ok ? run.result.message : "";
    for (const field of ["plan.targetCollection", "plan.method", "plan.files", "plan.qdrant"]) assert.ok(message.includes(field), `${field} in ${message}`);
  });
});
