import assert from "node:assert/strict";
import { test } from "node:test";
import { Registry } from "prom-client";
import type { QdrantBackupStatus } from "../../../src/api/v1alpha1/backup.ts";
import { BackupMetrics } from "../../../src/controllers/backup/metrics.ts";

const done = (phase: "Succeeded" | "Failed", completionTime: string, extra: Partial<QdrantBackupStatus> = {}): QdrantBackupStatus => ({ phase, startTime: "2026-01-15T02:00:00Z", completionTime, ...extra });
const value = async (m: BackupMetrics, name: "lastStatus" | "lastSuccess", labels: Record<string, string>) =>
  (await m[name].get()).values.find((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l))?.value;

test("last status follows the newest finished backup of each schedule, whatever order they are reconciled in", async () => {
  const m = new BackupMetrics(new Registry());
  m.observeTerminal("prod", "nightly", done("Succeeded", "2026-01-15T02:10:00Z", { collections: [{ name: "docs" }] }));
  assert.equal(await value(m, "lastStatus", { schedule: "nightly" }), 1);
  m.observeTerminal("prod", "nightly", done("Failed", "2026-01-16T02:10:00Z", { failure: { reason: "QdrantUnreachable", message: "m" } }));
  assert.equal(await value(m, "lastStatus", { schedule: "nightly" }), 0, "the newest failed");
  m.observeTerminal("prod", "nightly", done("Succeeded", "2026-01-14T02:10:00Z"));
  assert.equal(await value(m, "lastStatus", { schedule: "nightly" }), 0, "an older success does not win");
  m.observeTerminal("prod", "hourly", done("Succeeded", "2026-01-14T02:10:00Z"));
  assert.equal(await value(m, "lastStatus", { schedule: "hourly" }), 1, "per schedule");
  m.observeTerminal("prod", "nightly", { phase: "Running" });
  assert.equal(await value(m, "lastStatus", { schedule: "nightly" }), 0, "unfinished backups do not count");
});

test("last success is per collection, and a full-storage backup counts as collection \"\"", async () => {
  const m = new BackupMetrics(new Registry());
  m.observeTerminal("prod", "", done("Succeeded", "2026-01-15T02:10:00Z", { collections: [{ name: "docs", manifestKey: "k" }, { name: "users", manifestKey: "k2" }] }));
  m.observeTerminal("prod", "", done("Succeeded", "2026-01-16T02:10:00Z", { manifestKey: "s/manifest.json", collections: [{ name: "docs" }] }));
  assert.equal(await value(m, "lastSuccess", { collection: "docs" }), Date.parse("2026-01-15T02:10:00Z") / 1000);
  assert.equal(await value(m, "lastSuccess", { collection: "users" }), Date.parse("2026-01-15T02:10:00Z") / 1000);
  assert.equal(await value(m, "lastSuccess", { collection: "" }), Date.parse("2026-01-16T02:10:00Z") / 1000);
});
