/** statusFor: the QdrantRestore's status for each step, a pure function of the current status, the step and the clock. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { QdrantRestoreStatus } from "../../../src/api/v1alpha1/restore.ts";
import type { Manifest } from "../../../src/backup/layout/manifest.ts";
import type { ResolvedOk, RestoreStep } from "../../../src/controllers/restore/decide.ts";
import { RESTORE_TURNS } from "../../../src/controllers/restore/one-at-a-time.ts";
import { statusFor, type StatusStep } from "../../../src/controllers/restore/status.ts";
import type { RestoreObject } from "../../../src/controllers/restore/types.ts";

const NOW = new Date("2026-03-01T12:00:00Z");
const cond = (s: QdrantRestoreStatus, type: string) => s.conditions?.find((c) => c.type === type);
const at = (current: QdrantRestoreStatus | undefined, step: StatusStep, policy: "Once" | "IfMissing" | "Drill" = "Once") => statusFor(current, step, { policy, generation: 3, now: NOW });

const source: ResolvedOk = {
  ok: true,
  location: { metadata: { name: "s3", namespace: "prod" }, spec: { s3: { bucket: "b", credentials: {} } } },
  candidate: { origin: "Bucket", backupId: "B1", location: "s3", namespace: "prod", connection: "qdrant", mode: "Collection", state: "Complete" },
  manifestKey: "m",
  manifest: {} as Manifest,
  sourceCollection: "policies",
  files: [],
  expectedPoints: 42,
  mode: "Collection",
};
const start = (attempt: number, startTime?: string): Extract<RestoreStep, { kind: "Start" }> => ({ kind: "Start", n: attempt, jobName: `restore-r-${attempt}`, attempt, maxAttempts: 4, ownedTarget: false, method: "Pull", targetCollection: "policies", source, ...(startTime ? { startTime } : {}) });

test("Start: Running with the Job, its number, the attempt, the run's start; a new run forgets the last run's results", () => {
  const before: QdrantRestoreStatus = { phase: "Watching", restoreCount: 2, completionTime: "2026-02-01T00:00:00Z", durationSeconds: 5, pointsCount: { actual: 1 }, lastRestoreTime: "2026-02-01T00:00:00Z", jobCount: 2 };
  const s = at(before, { ...start(1), n: 3, jobName: "restore-r-3" }, "IfMissing");
  assert.equal(s.phase, "Running");
  assert.equal(s.jobName, "restore-r-3");
  assert.equal(s.jobCount, 3);
  assert.equal(s.attempt, 1);
  assert.equal(s.backupId, "B1");
  assert.equal(s.targetCollection, "policies");
  assert.equal(s.startTime, "2026-03-01T12:00:00Z");
  assert.equal(s.completionTime, undefined);
  assert.equal(s.durationSeconds, undefined);
  assert.deepEqual(s.pointsCount, { expected: 42 });
  assert.equal(s.restoreCount, 2, "what was done stays counted");
  assert.equal(s.lastRestoreTime, "2026-02-01T00:00:00Z");
  assert.equal(s.observedGeneration, 3);
  assert.deepEqual([cond(s, "Ready")?.status, cond(s, "Ready")?.reason], ["False", "Running"]);
  assert.equal(cond(s, "Ready")?.message, "Job restore-r-3 is restoring backup B1 into collection policies (attempt 1 of 4).");
  // A retry keeps the run's start.
  const retry = at({ ...s, attempt: 1 }, { ...start(2, "2026-03-01T11:00:00Z"), n: 4, jobName: "restore-r-4" }, "IfMissing");
  assert.equal(retry.startTime, "2026-03-01T11:00:00Z");
  assert.equal(retry.attempt, 2);
});

test("Complete: Once Succeeded with duration (start → verified), points, restoreCount and lastRestoreTime", () => {
  const running: QdrantRestoreStatus = { phase: "Running", jobName: "restore-r-1", jobCount: 1, attempt: 1, startTime: "2026-03-01T11:00:00Z", targetCollection: "policies", backupId: "B1" };
  const result = { ok: true as const, backupId: "B1", targetCollection: "policies", method: "Pull" as const, startTime: "2026-03-01T11:00:05Z", recoveredTime: "2026-03-01T11:01:00Z", verifiedTime: "2026-03-01T11:01:30.5Z", bytes: 1000, pointsCount: { expected: 42, actual: 42 }, created: true };
  const s = at(running, { kind: "Complete", jobName: "restore-r-1", result, switchAlias: { alias: "live", collection: "policies" } });
  assert.equal(s.phase, "Succeeded");
  assert.equal(s.durationSeconds, 90.5);
  assert.equal(s.completionTime, "2026-03-01T11:01:30.5Z");
  assert.deepEqual(s.pointsCount, { expected: 42, actual: 42 });
  assert.equal(s.restoreCount, 1);
  assert.equal(s.lastRestoreTime, "2026-03-01T11:01:30.5Z");
  assert.equal(s.lastVerifiedTime, undefined);
  assert.deepEqual([cond(s, "Ready")?.status, cond(s, "Ready")?.reason], ["True", "Restored"]);
  assert.equal(cond(s, "Ready")?.message, "Restored backup B1 into collection policies (42 points) in 90.5 s. Alias live points at it.");
  assert.deepEqual([cond(s, "Failed")?.status, cond(s, "Verified")], ["False", undefined]);
  // IfMissing: Watching after, counting on.
  const again = at({ ...running, restoreCount: 4 }, { kind: "Complete", jobName: "restore-r-1", result }, "IfMissing");
  assert.equal(again.phase, "Watching");
  assert.equal(again.restoreCount, 5);
  // Drill: Watching, lastVerifiedTime and Verified True, not lastRestoreTime.
  const drill = at(running, { kind: "Complete", jobName: "restore-r-1", result, deleteCollection: "policies-drill-0a1b2c3d", nextScheduleTime: new Date("2026-03-01T13:00:00Z") }, "Drill");
  assert.equal(drill.phase, "Watching");
  assert.equal(drill.lastVerifiedTime, "2026-03-01T11:01:30.5Z");
  assert.equal(drill.lastRestoreTime, undefined);
  assert.equal(drill.nextScheduleTime, "2026-03-01T13:00:00Z");
  assert.deepEqual([cond(drill, "Verified")?.status, cond(drill, "Ready")?.reason], ["True", "DrillScheduled"]);
  assert.match(cond(drill, "Ready")?.message ?? "", /^Drill verified: .* then deleted the temporary collection\. Next drill at 2026-03-01T13:00:00Z\.$/);
});

test("Fail: Failed with the reason on Ready and Failed (and Verified for a drill); waits say why with the phase they keep", () => {
  const f = at({ phase: "Running" }, { kind: "Fail", reason: "ChecksumMismatch", message: "sha differs" }, "Drill");
  assert.equal(f.phase, "Failed");
  assert.equal(f.completionTime, "2026-03-01T12:00:00Z");
  for (const type of ["Ready", "Verified"]) assert.deepEqual([cond(f, type)?.status, cond(f, type)?.reason, cond(f, type)?.message], ["False", "ChecksumMismatch", "sha differs"]);
  assert.deepEqual([cond(f, "Failed")?.status, cond(f, "Failed")?.reason], ["True", "ChecksumMismatch"]);

  const pending = at(undefined, { kind: "Wait", phase: "Pending", reason: "BackupNotFound", message: "no backup", requeueMs: 1 });
  assert.equal(pending.phase, "Pending");
  assert.deepEqual([cond(pending, "Accepted")?.status, cond(pending, "Ready")?.status, cond(pending, "Ready")?.reason], ["True", "False", "BackupNotFound"]);
  const kept = at({ phase: "Watching" }, { kind: "Wait", phase: "Keep", reason: "QdrantUnreachable", message: "down", requeueMs: 1 }, "IfMissing");
  assert.equal(kept.phase, "Watching");
  const watch = at({ phase: "Failed", conditions: f.conditions }, { kind: "Watch", reason: "DrillScheduled", message: "", requeueMs: 1, keep: true, nextScheduleTime: new Date("2026-03-01T13:00:00Z") }, "Drill");
  assert.equal(watch.phase, "Failed");
  assert.equal(watch.nextScheduleTime, "2026-03-01T13:00:00Z");
  assert.deepEqual(watch.conditions, f.conditions);
  const invalid = at(undefined, { kind: "Invalid", message: "spec.policy: bad" });
  assert.deepEqual([invalid.phase, cond(invalid, "Accepted")?.status, cond(invalid, "Ready")?.reason], ["Pending", "False", "InvalidSpec"]);
});

test("Adopt: Running with the adopted Job's number, attempt and target", () => {
  const s = at({ jobCount: 0 }, { kind: "Adopt", job: { name: "restore-r-1", n: 1, attempt: 1, targetCollection: "t", backupId: "B1", createdAt: "2026-03-01T11:59:00Z" } });
  assert.deepEqual([s.phase, s.jobName, s.jobCount, s.attempt, s.targetCollection, s.backupId, s.startTime], ["Running", "restore-r-1", 1, 1, "t", "B1", "2026-03-01T11:59:00Z"]);
  assert.equal(cond(s, "Ready")?.reason, "Running");
});

test("turns: in line while new, waiting for a turn or running; out when finished or watching", () => {
  const r = (status?: QdrantRestoreStatus): RestoreObject => ({ metadata: { name: "r", namespace: "p" }, spec: { source: {}, target: { connectionRef: { name: "q" } } }, ...(status ? { status } : {}) });
  const ready = (reason: string) => [{ type: "Ready", status: "False" as const, reason, message: "", lastTransitionTime: "" }];
  assert.equal(RESTORE_TURNS.stateOf(r()), "Ready");
  assert.equal(RESTORE_TURNS.stateOf(r({ phase: "Pending", conditions: ready("WaitingForTurn") })), "Ready");
  assert.equal(RESTORE_TURNS.stateOf(r({ phase: "Pending", conditions: ready("SecretNotFound") })), "Away");
  assert.equal(RESTORE_TURNS.stateOf(r({ phase: "Running", conditions: ready("Running") })), "Running");
  assert.equal(RESTORE_TURNS.stateOf(r({ phase: "Running", conditions: ready("Interrupted") })), "Away", "between attempts it holds nobody up");
  for (const phase of ["Succeeded", "Failed", "Watching"] as const) assert.equal(RESTORE_TURNS.stateOf(r({ phase })), undefined);
  assert.equal(RESTORE_TURNS.connectionOf(r()), "q");
});
