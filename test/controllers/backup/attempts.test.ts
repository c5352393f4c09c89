import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { attemptOfJob, jobRetryDelayMs, newlyRetried, retriedAttempt, type RetriedAttempt } from "../../../src/controllers/backup/attempts.ts";
import { statusFor } from "../../../src/controllers/backup/status.ts";
import type { QdrantBackupStatus } from "../../../src/api/v1alpha1/backup.ts";
import type { Condition } from "../../../src/runtime/conditions.ts";
import type { JobCondition, JobObject, PodObject } from "../../../src/controllers/shared/job-objects.ts";

const NOW = new Date("2026-01-15T02:10:00Z");
const ID = "20260115T020004Z-4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d";
const UNREACHABLE = { ok: false, reason: "StorageUnreachable", message: 'cannot reach the object storage on bucket "b": connect ECONNREFUSED', retryable: true };

const job = (status: JobObject["status"], backoffLimit: number | null = 3): JobObject => ({ metadata: { name: "backup-x", namespace: "ns", uid: "j" }, spec: backoffLimit === null ? {} : { backoffLimit }, status });
const cond = (type: string, status = "True"): JobCondition => ({ type, status, lastTransitionTime: "2026-01-15T02:09:00Z" });
const failedPod = (name: string, finishedAt: string, message: string | undefined, exitCode = 1, reason = "Error"): PodObject => ({
  metadata: { name, creationTimestamp: "2026-01-15T02:00:00Z" },
  status: { phase: "Failed", containerStatuses: [{ name: "backup", state: { terminated: { exitCode, reason, finishedAt, ...(message !== undefined ? { message } : {}) } } }] },
});
const runningPod = (name: string, startTime?: string): PodObject => ({
  metadata: { name, creationTimestamp: "2026-01-15T02:09:40Z" },
  status: { phase: "Running", ...(startTime ? { startTime } : {}), containerStatuses: [{ name: "backup", state: {} }] },
});
const pendingPod = (name: string): PodObject => ({ metadata: { name, creationTimestamp: "2026-01-15T02:09:41Z" }, status: { phase: "Pending" } });

describe("retriedAttempt", () => {
  const first = failedPod("backup-x-a", "2026-01-15T02:09:30Z", JSON.stringify(UNREACHABLE));
  const cases: Array<[string, JobObject, PodObject[], RetriedAttempt | undefined]> = [
    ["nothing failed: no retry to report", job({ active: 1 }), [runningPod("backup-x-a")], undefined],
    [
      "attempt 1 failed, in the Job controller's backoff: its reason and words, attempt 2 about 10 s after it finished",
      job({ failed: 1 }),
      [first],
      { attempt: 1, maxAttempts: 4, reason: "StorageUnreachable", message: UNREACHABLE.message, next: { startsAt: new Date("2026-01-15T02:09:40Z"), approximate: true } },
    ],
    [
      "attempt 1 failed, attempt 2's pod is running: when it started",
      job({ failed: 1, active: 1 }),
      [first, runningPod("backup-x-b", "2026-01-15T02:09:42Z")],
      { attempt: 1, maxAttempts: 4, reason: "StorageUnreachable", message: UNREACHABLE.message, next: { startedAt: "2026-01-15T02:09:42Z" } },
    ],
    [
      "attempt 2's pod not scheduled yet: its creation time",
      job({ failed: 1, active: 1 }),
      [first, pendingPod("backup-x-b")],
      { attempt: 1, maxAttempts: 4, reason: "StorageUnreachable", message: UNREACHABLE.message, next: { startedAt: "2026-01-15T02:09:41Z" } },
    ],
    [
      "two failed: the last one's words, the backoff doubled (20 s)",
      job({ failed: 2 }),
      [failedPod("backup-x-b", "2026-01-15T02:09:50Z", JSON.stringify({ ok: false, reason: "QdrantUnreachable", message: "Qdrant did not answer", retryable: true })), first],
      { attempt: 2, maxAttempts: 4, reason: "QdrantUnreachable", message: "Qdrant did not answer", next: { startsAt: new Date("2026-01-15T02:10:10Z"), approximate: true } },
    ],
    [
      "a pod that left no result (OOM-killed): BackupFailed, naming the pod and how it exited",
      job({ failed: 1 }),
      [failedPod("backup-x-a", "2026-01-15T02:09:30Z", undefined, 137, "OOMKilled")],
      { attempt: 1, maxAttempts: 4, reason: "BackupFailed", message: "pod backup-x-a exited 137 (OOMKilled)", next: { startsAt: new Date("2026-01-15T02:09:40Z"), approximate: true } },
    ],
    [
      "a crash's log tail: kept after the exit",
      job({ failed: 1 }, 1),
      [failedPod("backup-x-a", "2026-01-15T02:09:30Z", "TypeError: boom")],
      { attempt: 1, maxAttempts: 2, reason: "BackupFailed", message: "pod backup-x-a exited 1 (Error): TypeError: boom", next: { startsAt: new Date("2026-01-15T02:09:40Z"), approximate: true } },
    ],
    ["the pods are gone (deleted by hand): the count still says it failed", job({ failed: 1 }), [], { attempt: 1, maxAttempts: 4, reason: "BackupFailed", message: "its pod failed and is gone", next: { startsAt: new Date("2026-01-15T02:10:10Z"), approximate: true } }],
    ["the Job is failing for good (FailureTarget: exit code 2, the limit reached): no retry", job({ failed: 1, conditions: [cond("FailureTarget")] }), [first], undefined],
    ["the Job failed: its outcome says so, not a retry", job({ failed: 4, conditions: [cond("FailureTarget"), cond("Failed")] }), [first], undefined],
    ["the Job completed after a failed attempt: no retry", job({ failed: 1, succeeded: 1, conditions: [cond("Complete")] }), [first], undefined],
    ["the last attempt allowed failed (failed = 1 + backoffLimit): no retry, whatever the conditions lag", job({ failed: 4 }), [first], undefined],
    ["backoffLimit 0: nothing is retried", job({ failed: 1 }, 0), [first], undefined],
    ["a result that says no retry helps: the Job fails it (podFailurePolicy)", job({ failed: 1 }), [failedPod("backup-x-a", "2026-01-15T02:09:30Z", JSON.stringify({ ok: false, reason: "CollectionNotFound", message: "no", retryable: false }), 2)], undefined],
    ["no backoffLimit on the Job: the API's default, 6", job({ failed: 1 }, null), [first], { attempt: 1, maxAttempts: 7, reason: "StorageUnreachable", message: UNREACHABLE.message, next: { startsAt: new Date("2026-01-15T02:09:40Z"), approximate: true } }],
  ];
  for (const [what, j, pods, want] of cases) test(what, () => assert.deepEqual(retriedAttempt(j, pods, NOW), want));

  test("the Job controller's backoff: 10 s doubling, up to 6 min", () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 12].map(jobRetryDelayMs), [10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 360_000, 360_000]);
  });

  test("the attempt a Job is on: one more than its failed pods, the last one once it failed", () => {
    assert.deepEqual(
      [job({}), job({ failed: 1 }), job({ failed: 1, succeeded: 1, conditions: [cond("Complete")] }), job({ failed: 4, conditions: [cond("Failed")] }), job({ conditions: [cond("Failed")] })].map(attemptOfJob),
      [1, 2, 2, 4, 1],
    );
  });
});

describe("statusFor a retried attempt", () => {
  const ready = (s: QdrantBackupStatus) => s.conditions?.find((c) => c.type === "Ready");
  const running = statusFor(undefined, { kind: "Job", jobName: "backup-x", backupId: ID, attempt: 1, outcome: { phase: "Running", startTime: "2026-01-15T02:00:01Z" } }, 1, new Date("2026-01-15T02:00:02Z"));
  const retried = (next: RetriedAttempt["next"]): RetriedAttempt => ({ attempt: 1, maxAttempts: 4, reason: "StorageUnreachable", message: "QdrantBackupLocation s3 (spec.s3.endpoint http://m:9000): cannot reach", next });

  test("the first attempt running: Running, attempt 1", () => {
    assert.deepEqual([running.phase, running.attempt, ready(running)?.reason, ready(running)?.message], ["Running", 1, "Running", "Job backup-x is running the backup."]);
  });

  test("attempt 1 failed, attempt 2 due: still Running, Ready False with the attempt's reason, words and when attempt 2 starts", () => {
    const s = statusFor(running, { kind: "Job", jobName: "backup-x", backupId: ID, attempt: 2, retried: retried({ startsAt: new Date("2026-01-15T02:09:40Z"), approximate: true }), outcome: { phase: "Running", startTime: "2026-01-15T02:00:01Z" } }, 1, NOW);
    assert.deepEqual([s.phase, s.attempt, s.failure], ["Running", 2, undefined]);
    assert.deepEqual([ready(s)?.status, ready(s)?.reason], ["False", "StorageUnreachable"]);
    assert.equal(ready(s)?.message, "attempt 1 of 4 failed: QdrantBackupLocation s3 (spec.s3.endpoint http://m:9000): cannot reach; attempt 2 starts at about 2026-01-15T02:09:40.000Z");
    assert.equal(s.conditions?.find((c) => c.type === "Failed"), undefined, "not Failed: the Job goes on");
  });

  test("attempt 2 running: the failed attempt still shown, with when attempt 2 started", () => {
    const s = statusFor(running, { kind: "Job", jobName: "backup-x", backupId: ID, attempt: 2, retried: retried({ startedAt: "2026-01-15T02:09:42Z" }), outcome: { phase: "Running" } }, 1, NOW);
    assert.equal(ready(s)?.message, "attempt 1 of 4 failed: QdrantBackupLocation s3 (spec.s3.endpoint http://m:9000): cannot reach; attempt 2 started at 2026-01-15T02:09:42Z");
  });

  test("then succeeded: Ready True, attempt 2 kept", () => {
    const mid = statusFor(running, { kind: "Job", jobName: "backup-x", backupId: ID, attempt: 2, retried: retried({ startedAt: "2026-01-15T02:09:42Z" }), outcome: { phase: "Running" } }, 1, NOW);
    const done = statusFor(mid, { kind: "Job", jobName: "backup-x", backupId: ID, attempt: 2, outcome: { phase: "Succeeded", note: "n" } }, 1, NOW);
    assert.deepEqual([done.phase, done.attempt, ready(done)?.status, ready(done)?.reason], ["Succeeded", 2, "True", "Succeeded"]);
  });
});

describe("newlyRetried: one Warning Event per failed attempt", () => {
  const r = (attempt: number, reason = "StorageUnreachable"): RetriedAttempt => ({ attempt, maxAttempts: 4, reason, message: "m", next: { startedAt: "2026-01-15T02:09:42Z" } });
  const ready = (reason: string, message: string): Condition[] => [{ type: "Ready", status: "False", reason, message, lastTransitionTime: "2026-01-15T02:00:00Z" }];
  const cases: Array<[string, Condition[] | undefined, RetriedAttempt | undefined, boolean]> = [
    ["no retry", ready("Running", "Job backup-x is running the backup."), undefined, false],
    ["attempt 1 failed, Ready said Running: news", ready("Running", "Job backup-x is running the backup."), r(1), true],
    ["no status yet (a manager that first sees the Job mid-retry): news", undefined, r(1), true],
    ["Ready already reports attempt 1 (a later reconcile, or a restarted manager): not news", ready("StorageUnreachable", "attempt 1 of 4 failed: m; attempt 2 starts at about 2026-01-15T02:09:40.000Z"), r(1), false],
    ["attempt 2 failed alike: news, though the reason is the same", ready("StorageUnreachable", "attempt 1 of 4 failed: m; attempt 2 started at 2026-01-15T02:09:42Z"), r(2), true],
    ["attempt 2 failed otherwise: news", ready("StorageUnreachable", "attempt 1 of 4 failed: m; attempt 2 started at 2026-01-15T02:09:42Z"), r(2, "QdrantUnreachable"), true],
  ];
  for (const [what, before, retried, want] of cases) test(what, () => assert.equal(newlyRetried(before, retried), want));
});
