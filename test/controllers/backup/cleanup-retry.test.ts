/**
 * How long a failed backup's sweep waits before trying again after it could not finish (S3 or Qdrant
 * down): as long as it has been failing, from 10 s to 10 min. A short outage is swept soon after it ends
 * (e2e/faults/outage-minio.test.ts: a fixed 10-minute retry left its sweep undone long after MinIO was back).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { cleanupRetryMs } from "../../../src/controllers/backup/controller.ts";

const T0 = Date.parse("2026-01-15T02:00:00Z");
const failing = (sinceMs: number) => [{ type: "CleanedUp", status: "False" as const, reason: "CleanupFailed", message: "S3 down; retrying", lastTransitionTime: new Date(sinceMs).toISOString() }];

test("the first failed sweep is retried after 10 s", () => {
  assert.equal(cleanupRetryMs(undefined, T0), 10_000);
  assert.equal(cleanupRetryMs([{ type: "Ready", status: "False", reason: "StorageUnreachable", message: "", lastTransitionTime: new Date(T0).toISOString() }], T0), 10_000);
});

test("later retries wait as long as the sweep has been failing: the wait doubles", () => {
  assert.equal(cleanupRetryMs(failing(T0), T0 + 10_000), 10_000);
  assert.equal(cleanupRetryMs(failing(T0), T0 + 20_000), 20_000);
  assert.equal(cleanupRetryMs(failing(T0), T0 + 40_000), 40_000);
});

test("never more than 10 minutes", () => {
  assert.equal(cleanupRetryMs(failing(T0), T0 + 3 * 3600_000), 600_000);
});
