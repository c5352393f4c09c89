/** The schedule's LastBackupSucceeded condition from its newest finished backup, and its Events. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SCHEDULED_TIME_ANNOTATION } from "../../src/api/labels.ts";
import { lastBackupCondition, lastBackupEvent, newestFinished } from "../../src/controllers/backup-schedule/last-backup.ts";
import type { ScheduledBackupObject } from "../../src/controllers/backup-schedule/types.ts";
import type { Condition } from "../../src/runtime/conditions.ts";

function backup(name: string, phase: string | undefined, scheduled: string, extra: { end?: string; failure?: { reason: string; message: string } } = {}): ScheduledBackupObject {
  return {
    metadata: { name, annotations: { [SCHEDULED_TIME_ANNOTATION]: scheduled } },
    spec: { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" } },
    ...(phase ? { status: { phase: phase as "Succeeded", ...(extra.end ? { completionTime: extra.end } : {}), ...(extra.failure ? { failure: extra.failure } : {}) } } : {}),
  };
}
const denied = { reason: "StorageAccessDenied", message: 'QdrantBackupLocation s3 spec.s3.credentials: HeadBucket on bucket "b" was refused (HTTP 403)' };

describe("newestFinished", () => {
  const rows: Array<[name: string, owned: ScheduledBackupObject[], want: string | undefined]> = [
    ["none yet", [], undefined],
    ["only running or pending ones", [backup("n-1", "Running", "2026-01-15T01:00:00Z"), backup("n-2", undefined, "2026-01-15T02:00:00Z")], undefined],
    ["the latest tick among finished, not a newer running one", [backup("n-1", "Succeeded", "2026-01-15T01:00:00Z"), backup("n-2", "Failed", "2026-01-15T02:00:00Z"), backup("n-3", "Running", "2026-01-15T03:00:00Z")], "n-2"],
    ["a later tick wins over a later completion", [backup("n-1", "Failed", "2026-01-15T01:00:00Z", { end: "2026-01-15T05:00:00Z" }), backup("n-2", "Succeeded", "2026-01-15T02:00:00Z", { end: "2026-01-15T02:01:00Z" })], "n-2"],
    ["same tick: the later completion", [backup("b", "Failed", "2026-01-15T01:00:00Z", { end: "2026-01-15T01:05:00Z" }), backup("a", "Succeeded", "2026-01-15T01:00:00Z", { end: "2026-01-15T01:03:00Z" })], "b"],
  ];
  for (const [name, owned, want] of rows) test(name, () => assert.equal(newestFinished(owned)?.metadata?.name, want));
});

describe("lastBackupCondition", () => {
  test("succeeded: True, naming the backup and when", () => {
    assert.deepEqual(lastBackupCondition([backup("n-1", "Succeeded", "2026-01-15T01:00:00Z", { end: "2026-01-15T01:02:00Z" })]), { type: "LastBackupSucceeded", status: "True", reason: "Succeeded", message: "QdrantBackup n-1 succeeded at 2026-01-15T01:02:00Z." });
  });
  test("failed: False with the backup's own reason and words, and its name", () => {
    const c = lastBackupCondition([backup("n-1", "Succeeded", "2026-01-15T01:00:00Z"), backup("n-2", "Failed", "2026-01-15T02:00:00Z", { failure: denied })]);
    assert.deepEqual(c, { type: "LastBackupSucceeded", status: "False", reason: "StorageAccessDenied", message: `QdrantBackup n-2 failed: ${denied.message}` });
  });
  test("none finished: no condition", () => assert.equal(lastBackupCondition([backup("n-1", "Running", "2026-01-15T01:00:00Z")]), undefined));
});

describe("lastBackupEvent", () => {
  const cond = (status: "True" | "False", reason: string): Condition => ({ type: "LastBackupSucceeded", status, reason, message: "m", lastTransitionTime: "2026-01-15T00:00:00Z" });
  const failing = { type: "LastBackupSucceeded", status: "False" as const, reason: "StorageAccessDenied", message: "QdrantBackup n-2 failed: x" };
  const ok = { type: "LastBackupSucceeded", status: "True" as const, reason: "Succeeded", message: "QdrantBackup n-3 succeeded." };
  const rows: Array<[name: string, current: Condition[] | undefined, next: typeof ok | typeof failing | undefined, want: string | undefined]> = [
    ["the first failure: a Warning", undefined, failing, "Warning BackupFailed"],
    ["succeeding → failing: a Warning", [cond("True", "Succeeded")], failing, "Warning BackupFailed"],
    ["the same failure again: nothing (each backup has its own Events)", [cond("False", "StorageAccessDenied")], failing, undefined],
    ["failing for another reason: a Warning", [cond("False", "QdrantUnreachable")], failing, "Warning BackupFailed"],
    ["failing → succeeding: a Normal one", [cond("False", "StorageAccessDenied")], ok, "Normal BackupSucceeded"],
    ["the first success: nothing", undefined, ok, undefined],
    ["still succeeding: nothing", [cond("True", "Succeeded")], ok, undefined],
    ["no finished backup: nothing", undefined, undefined, undefined],
  ];
  for (const [name, current, next, want] of rows) {
    test(name, () => {
      const e = lastBackupEvent(current, next);
      assert.equal(e ? `${e.type} ${e.reason}` : undefined, want);
      if (e?.type === "Warning") assert.equal(e.note, `StorageAccessDenied: ${failing.message}`);
    });
  }
});
