/**
 * What wakes a restore: the indexes hold only unfinished restores (a finished Once restore is woken by
 * nothing), and a connection's check wakes them only when it says something new — Qdrant back, restarted
 * into another version, its peers changed — not at every recheck's new lastCheckTime.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { RestoreObject } from "../../../src/controllers/restore/types.ts";
import { backupPhaseChanged, betweenRuns, byBackup, byConnection, byLocation, connectionNews } from "../../../src/controllers/restore/watches.ts";
import type { QdrantConnectionObject } from "../../../src/controllers/shared/resolve-connection.ts";

const restore = (spec: Partial<RestoreObject["spec"]>, phase?: "Succeeded" | "Watching" | "Failed"): RestoreObject => ({
  metadata: { name: "r", namespace: "prod" },
  spec: { source: { backupRef: { name: "b1" } }, target: { connectionRef: { name: "qdrant" } }, ...spec },
  ...(phase ? { status: { phase } } : {}),
});

test("the indexes: target connection, source location, the backup waited for; none for a finished Once restore", () => {
  assert.deepEqual(byConnection(restore({})), ["prod/qdrant"]);
  assert.deepEqual(byBackup(restore({})), ["prod/b1"]);
  assert.deepEqual(byLocation(restore({})), []);
  const latest = restore({ source: { latest: { locationRef: { name: "s3" }, collection: "c" } } });
  assert.deepEqual(byLocation(latest), ["prod/s3"]);
  assert.deepEqual(byBackup(latest), ["prod/*"]);
  for (const f of [byConnection, byBackup]) assert.deepEqual(f(restore({}, "Succeeded")), []);
  // IfMissing and Drill restores are never finished: a connection's news wakes them.
  assert.deepEqual(byConnection(restore({ policy: "IfMissing" }, "Watching")), ["prod/qdrant"]);
  assert.deepEqual(byConnection(restore({ policy: "IfMissing" }, "Failed")), ["prod/qdrant"]);
});

test("a restore between runs waits for no backup: a scheduled drill, an IfMissing restore whose collection is there", () => {
  const ready = (reason: string, status: "True" | "False" = "True") => [{ type: "Ready", status, reason, message: "", lastTransitionTime: "t" }];
  const latest = { source: { latest: { locationRef: { name: "s3" }, collection: "c" } } };
  const at = (spec: Partial<RestoreObject["spec"]>, st: NonNullable<RestoreObject["status"]>, generation = 2): RestoreObject => ({ ...restore(spec), metadata: { name: "r", namespace: "prod", generation }, status: st });
  const drill = { ...latest, policy: "Drill" as const, drill: { schedule: "0 3 * * *" } };
  const scheduled = at(drill, { phase: "Watching", observedGeneration: 2, nextScheduleTime: "2027-01-01T03:00:00Z", conditions: ready("DrillScheduled") });
  assert.equal(betweenRuns(scheduled), true);
  assert.deepEqual(byBackup(scheduled), []);
  // Still woken by its connection: an IfMissing restore looks at its target when Qdrant comes back.
  assert.deepEqual(byConnection(scheduled), ["prod/qdrant"]);
  const watching = at({ policy: "IfMissing" }, { phase: "Watching", observedGeneration: 2, conditions: ready("Watching") });
  assert.deepEqual(byBackup(watching), []);
  // Waiting for a backup at its tick, running, or a spec not yet seen: the backups' events matter.
  assert.deepEqual(byBackup(at(drill, { phase: "Watching", observedGeneration: 2, conditions: ready("BackupNotFound", "False") })), ["prod/*"]);
  assert.deepEqual(byBackup(at(drill, { phase: "Running", observedGeneration: 2, conditions: ready("Running", "False") })), ["prod/*"]);
  assert.deepEqual(byBackup(at(drill, { phase: "Watching", observedGeneration: 1, conditions: ready("DrillScheduled") })), ["prod/*"]);
  // A failed drill kept as Failed until its next tick: its Ready may say what it waits for.
  assert.deepEqual(byBackup(at(drill, { phase: "Failed", observedGeneration: 2, conditions: ready("BackupNotUsable", "False") })), ["prod/*"]);
});

test("a connection's check is news when Qdrant came back, changed version or peers; not for a new lastCheckTime", () => {
  const conn = (ready: "True" | "False", extra: Record<string, unknown> = {}, checked = "2026-03-01T12:00:00Z"): QdrantConnectionObject => ({
    metadata: { name: "qdrant", namespace: "prod", generation: 1 },
    spec: { url: "http://q:6333" },
    status: { observedGeneration: 1, lastCheckTime: checked, version: "1.19.0", conditions: [{ type: "Ready", status: ready, reason: ready === "True" ? "Connected" : "QdrantUnreachable", message: "", lastTransitionTime: "t" }], ...extra },
  });
  assert.equal(connectionNews(conn("True"), undefined), true);
  assert.equal(connectionNews(conn("True", {}, "2026-03-01T12:05:00Z"), conn("True")), false);
  assert.equal(connectionNews(conn("True"), conn("False")), true);
  assert.equal(connectionNews(conn("True", { version: "1.20.0" }), conn("True")), true);
  assert.equal(backupPhaseChanged({ metadata: {}, status: { phase: "Succeeded" } }, { metadata: {}, status: { phase: "Running" } }), true);
  assert.equal(backupPhaseChanged({ metadata: {}, status: { phase: "Running" } }, { metadata: {}, status: { phase: "Running" } }), false);
});
