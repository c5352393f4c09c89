import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { QdrantBackupStatus } from "../../../src/api/v1alpha1/backup.ts";
import { isTerminal, needsCleanup, statusFor } from "../../../src/controllers/backup/status.ts";

const T0 = new Date("2026-01-15T02:00:00Z");
const T1 = new Date("2026-01-15T02:05:00Z");
const ID = "20260115T020004Z-4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d";
const cond = (s: QdrantBackupStatus, type: string) => s.conditions?.find((c) => c.type === type);

describe("statusFor", () => {
  test("an invalid spec: Accepted and Ready False naming the field; phase untouched", () => {
    const s = statusFor(undefined, { kind: "Invalid", message: "spec.connectionRef.name: is required" }, 1, T0);
    assert.equal(s.phase, undefined);
    assert.equal(s.observedGeneration, 1);
    assert.deepEqual([cond(s, "Accepted")?.status, cond(s, "Accepted")?.reason, cond(s, "Ready")?.reason], ["False", "InvalidSpec", "InvalidSpec"]);
    assert.match(cond(s, "Ready")!.message, /spec\.connectionRef\.name/);
  });

  test("waiting for a reference: Pending, Ready False with the reason, not Failed", () => {
    const s = statusFor(undefined, { kind: "Waiting", reason: "ReferenceNotFound", message: "spec.connectionRef: QdrantConnection ns/q does not exist" }, 1, T0);
    assert.equal(s.phase, "Pending");
    assert.deepEqual([cond(s, "Ready")?.status, cond(s, "Ready")?.reason], ["False", "ReferenceNotFound"]);
    assert.equal(cond(s, "Failed"), undefined);
    assert.equal(isTerminal(s), false);
  });

  test("running, then succeeded: Ready True with the details, Failed False; Ready's transition time moves once", () => {
    const running = statusFor(undefined, { kind: "Job", jobName: "backup-x", backupId: ID, outcome: { phase: "Running", startTime: "2026-01-15T02:00:01Z" } }, 1, T0);
    assert.equal(running.phase, "Running");
    assert.equal(running.jobName, "backup-x");
    assert.equal(running.backupId, ID);
    assert.equal(running.startTime, "2026-01-15T02:00:01Z");
    assert.deepEqual([cond(running, "Ready")?.status, cond(running, "Ready")?.reason], ["False", "Running"]);
    const done = statusFor(
      running,
      {
        kind: "Job",
        jobName: "backup-x",
        backupId: ID,
        outcome: {
          phase: "Succeeded",
          result: { ok: true, backupId: ID, startTime: "2026-01-15T02:00:02Z", completionTime: "2026-01-15T02:04:00Z", sizeBytes: 99, collections: [{ name: "policies", manifestKey: "k/manifest.json", pointsCount: 7, sizeBytes: 99 }] },
        },
      },
      1,
      T1,
    );
    assert.equal(done.phase, "Succeeded");
    assert.equal(done.sizeBytes, 99);
    assert.equal(done.startTime, "2026-01-15T02:00:02Z");
    assert.equal(done.completionTime, "2026-01-15T02:04:00Z");
    assert.deepEqual(done.collections, [{ name: "policies", manifestKey: "k/manifest.json", pointsCount: 7 }]);
    assert.deepEqual([cond(done, "Ready")?.status, cond(done, "Ready")?.reason, cond(done, "Failed")?.status], ["True", "Succeeded", "False"]);
    assert.equal(cond(done, "Ready")?.lastTransitionTime, "2026-01-15T02:05:00Z");
    assert.equal(cond(done, "Accepted")?.lastTransitionTime, "2026-01-15T02:00:00Z", "Accepted did not change");
    assert.equal(isTerminal(done), true);
  });

  test("failed: failure keeps the Job's reason and words; Failed True", () => {
    const s = statusFor(undefined, { kind: "Job", jobName: "backup-x", backupId: ID, outcome: { phase: "Failed", reason: "QdrantError", message: "No space left on device" } }, 2, T0);
    assert.equal(s.phase, "Failed");
    assert.deepEqual(s.failure, { reason: "QdrantError", message: "No space left on device" });
    assert.deepEqual([cond(s, "Ready")?.status, cond(s, "Ready")?.reason, cond(s, "Failed")?.status, cond(s, "Failed")?.reason], ["False", "QdrantError", "True", "QdrantError"]);
    assert.equal(cond(s, "Failed")?.observedGeneration, 2);
  });

  test("failed without a Job (a ReadOnly location)", () => {
    const s = statusFor(undefined, { kind: "Failed", reason: "LocationReadOnly", message: "location is ReadOnly" }, 1, T0);
    assert.equal(s.phase, "Failed");
    assert.equal(s.jobName, undefined);
    assert.deepEqual(s.failure, { reason: "LocationReadOnly", message: "location is ReadOnly" });
  });

  test("failed for InvalidSpec (a Job the apiserver refuses): terminal, not Accepted, nothing to sweep", () => {
    const message = "spec.job.resources.limits.memory: the limit 256Mi is below the request 1Gi (spec.job.resources.requests.memory); a limit must be at least its request";
    const s = statusFor(undefined, { kind: "Failed", reason: "InvalidSpec", message }, 1, T0);
    assert.equal(s.phase, "Failed");
    assert.equal(isTerminal(s), true);
    assert.equal(needsCleanup(s), false);
    assert.deepEqual(s.failure, { reason: "InvalidSpec", message });
    for (const [type, status] of [["Accepted", "False"], ["Ready", "False"], ["Failed", "True"]] as const) assert.deepEqual([cond(s, type)?.status, cond(s, type)?.reason, cond(s, type)?.message], [status, "InvalidSpec", message], type);
    assert.equal(cond(statusFor(undefined, { kind: "Failed", reason: "LocationReadOnly", message: "m" }, 1, T0), "Accepted")?.status, "True", "other failures keep the spec accepted");
  });

  test("a FullStorage success: the one manifest, the per-peer files and the storage's collections", () => {
    const files = [1, 2].map((p) => ({ peerId: String(p), key: `q/ns/main/_storage/${ID}/peer-${p}.snapshot`, size: 10 * p, sha256: String(p).repeat(64) }));
    const result = {
      ok: true as const,
      backupId: ID,
      startTime: "2026-01-15T02:00:02Z",
      completionTime: "2026-01-15T02:04:00Z",
      sizeBytes: 30,
      manifestKey: `q/ns/main/_storage/${ID}/manifest.json`,
      files,
      storage: { collections: [{ name: "docs", pointsCount: 7, aliases: ["live"] }, { name: "empty", aliases: [] }] },
    };
    const s = statusFor(undefined, { kind: "Job", jobName: "backup-x", backupId: ID, outcome: { phase: "Succeeded", result } }, 1, T1);
    assert.equal(s.phase, "Succeeded");
    assert.equal(s.manifestKey, result.manifestKey);
    assert.deepEqual(s.files, files);
    assert.deepEqual(s.collections, [{ name: "docs", pointsCount: 7, aliases: ["live"] }, { name: "empty", aliases: [] }]);
    assert.match(cond(s, "Ready")!.message, /^Backed up the full storage \(2 collections, 2 peer snapshots\) \(30 bytes\)/);
  });

  test("a failed Job's backup needs its sweep until CleanedUp is True; other failures and successes never", () => {
    const failedJob = statusFor(undefined, { kind: "Job", jobName: "backup-x", backupId: ID, outcome: { phase: "Failed", reason: "QdrantUnreachable", message: "m" } }, 1, T0);
    assert.equal(needsCleanup(failedJob), true);
    const waiting = statusFor(failedJob, { kind: "Cleanup", outcome: { kind: "Wait", message: "pod p runs" } }, 1, T0);
    assert.deepEqual([cond(waiting, "CleanedUp")?.status, cond(waiting, "CleanedUp")?.reason], ["False", "WaitingForPods"]);
    assert.equal(needsCleanup(waiting), true);
    const stuck = statusFor(waiting, { kind: "Cleanup", outcome: { kind: "Failed", message: "Qdrant unreachable; retrying" } }, 1, T0);
    assert.deepEqual([cond(stuck, "CleanedUp")?.reason, stuck.phase, stuck.failure?.reason], ["CleanupFailed", "Failed", "QdrantUnreachable"]);
    const swept = { snapshots: 1, markers: 1, abortedUploads: 1, incompleteObjects: 0 };
    const done = statusFor(stuck, { kind: "Cleanup", outcome: { kind: "Done", swept, message: "Deleted 1 snapshot" } }, 1, T1);
    assert.deepEqual([cond(done, "CleanedUp")?.status, cond(done, "CleanedUp")?.reason, cond(done, "CleanedUp")?.message], ["True", "LeftoversDeleted", "Deleted 1 snapshot"]);
    assert.equal(needsCleanup(done), false);
    const clean = statusFor(failedJob, { kind: "Cleanup", outcome: { kind: "Done", swept: { snapshots: 0, markers: 0, abortedUploads: 0, incompleteObjects: 0 }, message: "Nothing was left behind" } }, 1, T1);
    assert.equal(cond(clean, "CleanedUp")?.reason, "NothingLeft");
    assert.equal(needsCleanup(statusFor(undefined, { kind: "Failed", reason: "LocationReadOnly", message: "m" }, 1, T0)), false, "no Job ran");
    assert.equal(needsCleanup(statusFor(undefined, { kind: "Job", jobName: "backup-x", backupId: ID, outcome: { phase: "Succeeded" } }, 1, T0)), false);
  });

  test("the same step twice gives the same status (no write on a repeat)", () => {
    const step = { kind: "Waiting", reason: "ReferenceNotFound", message: "m" } as const;
    const a = statusFor(undefined, step, 1, T0);
    assert.deepEqual(statusFor(a, step, 1, T1), a);
  });
});
