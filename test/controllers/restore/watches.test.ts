/**
 * What wakes a restore: the indexes hold only unfinished restores (a finished Once restore is woken by
 * nothing), and a connection's check wakes them only when it says something new — Qdrant back, restarted
 * into another version, its peers changed — not at every recheck's new lastCheckTime.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { RestoreObject } from "../../../src/controllers/restore/types.ts";
import { backupPhaseChanged, byBackup, byConnection, byLocation, connectionNews } from "../../../src/controllers/restore/watches.ts";
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
