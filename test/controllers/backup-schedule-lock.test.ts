/**
 * Retention under S3 Object Lock (#15), planScheduleRetention with an injected `now`: a backup whose
 * status.objectLock.retainUntil is ahead is kept and reported "Locked until <date>", the plan wakes just
 * after the date, and a plan at or after it prunes the backup.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { planScheduleRetention } from "../../src/controllers/backup-schedule/plan.ts";
import type { RestoreObject, ScheduledBackupObject, ScheduleObject } from "../../src/controllers/backup-schedule/types.ts";

const UID = "11111111-2222-3333-4444-555555555555";
const NOW = new Date("2026-12-02T12:00:00Z");
const DAY = 86_400_000;

const schedule: ScheduleObject = {
  apiVersion: "qdrant-operator.dev/v1alpha1",
  kind: "QdrantBackupSchedule",
  metadata: { name: "nightly", namespace: "prod", uid: UID, generation: 1 },
  spec: { schedule: "0 2 * * *", connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, retention: { keepLast: 1 } },
};

function backup(name: string, daysAgo: number, retainUntil?: string): ScheduledBackupObject {
  const start = new Date(NOW.getTime() - daysAgo * DAY).toISOString();
  return {
    apiVersion: "qdrant-operator.dev/v1alpha1",
    kind: "QdrantBackup",
    metadata: { name, namespace: "prod", uid: `uid-${name}`, ownerReferences: [{ apiVersion: "qdrant-operator.dev/v1alpha1", kind: "QdrantBackupSchedule", name: "nightly", uid: UID, controller: true }] },
    spec: { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" } },
    status: { phase: "Succeeded", startTime: start, completionTime: start, ...(retainUntil ? { objectLock: { mode: "Governance", retainUntil } } : {}) },
  };
}

const restoreOf = (name: string): RestoreObject =>
  ({ metadata: { name: "r", namespace: "prod" }, spec: { source: { backupRef: { name } }, target: { connectionRef: { name: "qdrant" } } } }) as unknown as RestoreObject;

test("Object Lock in retention: what is pruned, what is reported locked, and when the plan looks again", () => {
  const cases: Array<{ name: string; backups: ScheduledBackupObject[]; now: Date; restores?: RestoreObject[]; prune: string[]; locked: string[]; nextChange?: string }> = [
    { name: "no lock: the old one goes", backups: [backup("new", 1), backup("old", 10)], now: NOW, prune: ["old"], locked: [] },
    {
      name: "locked ahead: kept and reported with its date; the plan wakes just after it",
      backups: [backup("new", 1, "2026-12-30T00:00:00Z"), backup("old", 10, "2026-12-05T00:00:00Z")],
      now: NOW,
      prune: [],
      locked: ["old: Locked until 2026-12-05T00:00:00Z"],
      nextChange: "2026-12-05T00:00:00.001Z",
    },
    { name: "at its date: pruned", backups: [backup("new", 1), backup("old", 10, "2026-12-05T00:00:00Z")], now: new Date("2026-12-05T00:00:00Z"), prune: ["old"], locked: [], nextChange: "2026-12-05T00:00:00.001Z" },
    { name: "after its date: pruned", backups: [backup("new", 1), backup("old", 10, "2026-12-01T00:00:00Z")], now: NOW, prune: ["old"], locked: [] },
    { name: "the newest is kept anyway, so its lock is not news", backups: [backup("new", 1, "2026-12-30T00:00:00Z")], now: NOW, prune: [], locked: [], nextChange: "2026-12-30T00:00:00.001Z" },
    {
      name: "protected and locked: reported as locked (the lock outlasts nothing the restore needs)",
      backups: [backup("new", 1), backup("old", 10, "2026-12-05T00:00:00Z")],
      now: NOW,
      restores: [restoreOf("old")],
      prune: [],
      locked: ["old: Locked until 2026-12-05T00:00:00Z"],
      nextChange: "2026-12-05T00:00:00.001Z",
    },
  ];
  for (const c of cases) {
    const plan = planScheduleRetention(schedule, c.backups, c.restores ?? [], c.now);
    assert.deepEqual(plan.prune.map((p) => p.name), c.prune, c.name);
    assert.deepEqual(plan.locked.map((l) => `${l.name}: ${l.message}`), c.locked, c.name);
    assert.equal(plan.nextChange?.toISOString(), c.nextChange, c.name);
  }
});
