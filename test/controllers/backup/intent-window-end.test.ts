/**
 * Where the sweep's window for a killed create's intent ends (src/controllers/backup/cleanup.ts): when the
 * backup was marked Failed (it left its turn then, so the next backup of the same Qdrant snapshots only
 * after), else now; never later than now.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { intentWindowEnd } from "../../../src/controllers/backup/cleanup.ts";
import type { BackupObject } from "../../../src/controllers/backup/types.ts";

const now = new Date("2026-01-15T03:00:00Z");
const withFailed = (status: string, lastTransitionTime?: string) =>
  ({ spec: {}, status: { phase: "Failed", conditions: [{ type: "Failed", status, reason: "JobFailed", message: "", ...(lastTransitionTime ? { lastTransitionTime } : {}) }] } }) as unknown as BackupObject;

test("the Failed condition's time ends the window; without one, or one in the future, now does", () => {
  assert.equal(intentWindowEnd(withFailed("True", "2026-01-15T02:10:00Z"), now).toISOString(), "2026-01-15T02:10:00.000Z");
  assert.equal(intentWindowEnd(withFailed("False", "2026-01-15T02:10:00Z"), now), now, "not Failed: now");
  assert.equal(intentWindowEnd(withFailed("True"), now), now, "no time: now");
  assert.equal(intentWindowEnd(withFailed("True", "not a time"), now), now);
  assert.equal(intentWindowEnd(withFailed("True", "2026-01-15T04:00:00Z"), now), now, "a clock ahead: never later than now");
  assert.equal(intentWindowEnd({ spec: {} } as unknown as BackupObject, now), now);
});
