/** backupId: creation time + uid, sortable by time, unique per QdrantBackup. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { backupId, isBackupId, parseBackupId } from "../../src/backup/layout/backup-id.ts";

const UID = "4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d";
const OTHER_UID = "0a1b2c3d-0000-4000-8000-000000000001";

test("backup ids", () => {
  const cases: Array<[string, string, string]> = [
    ["2026-01-15T02:00:04Z", UID, `20260115T020004Z-${UID}`],
    ["2026-01-15T02:00:04.999Z", UID, `20260115T020004Z-${UID}`],
    ["1999-12-31T23:59:59Z", OTHER_UID, `19991231T235959Z-${OTHER_UID}`],
  ];
  for (const [time, uid, expected] of cases) {
    const id = backupId(new Date(time), uid);
    assert.equal(id, expected);
    assert.deepEqual(parseBackupId(id), { time: new Date(new Date(time).toISOString().replace(/\.\d+Z$/, "Z")), uid });
    assert.ok(isBackupId(id));
  }
});

test("same-named backups (other namespace, other cluster, recreated) get different ids", () => {
  const t = new Date("2026-01-15T02:00:04Z");
  assert.notEqual(backupId(t, UID), backupId(t, OTHER_UID));
});

test("ids sort by time as text", () => {
  const times = ["2025-12-31T23:59:59Z", "2026-01-01T00:00:00Z", "2026-01-15T02:00:04Z", "2026-10-01T00:00:00Z"];
  const ids = times.map((t, i) => backupId(new Date(t), i % 2 === 0 ? OTHER_UID : UID));
  assert.deepEqual([...ids].sort(), ids);
});

test("bad inputs and ids that backupId cannot have made", () => {
  assert.throws(() => backupId(new Date("2026-01-15T02:00:04Z"), "not-a-uid"), /is not a Kubernetes uid/);
  assert.throws(() => backupId(new Date("2026-01-15T02:00:04Z"), UID.toUpperCase()), /is not a Kubernetes uid/);
  assert.throws(() => backupId(new Date(Number.NaN), UID), RangeError);
  for (const id of ["", UID, `20260115T020004Z`, `20260115T020004-${UID}`, `20260230T020004Z-${UID}`, `20260115T246004Z-${UID}`, `20260115T020004Z-${UID}x`, `x20260115T020004Z-${UID}`]) {
    assert.equal(parseBackupId(id), undefined, id);
    assert.equal(isBackupId(id), false, id);
  }
});
