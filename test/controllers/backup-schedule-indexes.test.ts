import assert from "node:assert/strict";
import { test } from "node:test";
import { backupId } from "../../src/backup/layout/backup-id.ts";
import { byBackupId, byBackupRef, byLatestNamespace, byReferencedId } from "../../src/controllers/backup-schedule/indexes.ts";
import type { RestoreObject, ScheduledBackupObject } from "../../src/controllers/backup-schedule/types.ts";

const restore = (source: NonNullable<RestoreObject["spec"]>["source"], status?: RestoreObject["status"]): RestoreObject => ({
  metadata: { namespace: "prod", name: "r" },
  spec: { source },
  ...(status ? { status } : {}),
});

test("a backup is indexed under the id its metadata gives, and under none when it cannot give one", () => {
  const b: ScheduledBackupObject = {
    metadata: { namespace: "prod", name: "b", uid: "0b7f7f0e-0000-4000-8000-000000000001", creationTimestamp: "2026-01-15T02:00:00Z" },
    spec: { connectionRef: { name: "q" }, locationRef: { name: "s3" } },
  };
  assert.deepEqual(byBackupId(b), [backupId(new Date("2026-01-15T02:00:00Z"), "0b7f7f0e-0000-4000-8000-000000000001")]);
  assert.deepEqual(byBackupId({ ...b, metadata: { name: "new" } }), []);
});

test("a restore is indexed under the backup it names by name, each id it names once, and its namespace for latest", () => {
  assert.deepEqual(byBackupRef(restore({ backupRef: { name: "nightly-1" } })), ["prod/nightly-1"]);
  assert.deepEqual(byBackupRef(restore({ latest: { collection: "c" } })), []);
  assert.deepEqual(byReferencedId(restore({ location: { backupId: "id-1" } }, { backupId: "id-2" })), ["id-1", "id-2"]);
  assert.deepEqual(byReferencedId(restore({ location: { backupId: "id-1" } }, { backupId: "id-1" })), ["id-1"]);
  assert.deepEqual(byReferencedId(restore({ backupRef: { name: "x" } })), []);
  assert.deepEqual(byLatestNamespace(restore({ latest: { collection: "c" } })), ["prod"]);
  assert.deepEqual(byLatestNamespace(restore({ backupRef: { name: "x" } })), []);
});
