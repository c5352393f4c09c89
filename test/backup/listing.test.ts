/** groupListing: no manifest, no backup. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { backupId } from "../../src/backup/layout/backup-id.ts";
import { groupListing } from "../../src/backup/layout/listing.ts";
import { manifestKey, snapshotKey, type BackupKeyParts } from "../../src/backup/layout/object-keys.ts";

const id = (time: string, n: number) => backupId(new Date(time), `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`);
const base = { prefix: "qdrant", namespace: "search", connection: "qdrant" };
const older: BackupKeyParts = { ...base, collection: "docs", backupId: id("2026-01-14T02:00:00Z", 1) };
const newer: BackupKeyParts = { ...base, collection: "docs", backupId: id("2026-01-15T02:00:00Z", 2) };
const crashed: BackupKeyParts = { ...base, collection: "docs", backupId: id("2026-01-16T02:00:00Z", 3) };
const storage: BackupKeyParts = { ...base, fullStorage: true, backupId: id("2026-01-13T02:00:00Z", 4) };

test("complete, incomplete and foreign objects", () => {
  const keys = [
    snapshotKey(newer, "2"),
    manifestKey(newer),
    snapshotKey(newer, "1"),
    snapshotKey(crashed, "1"),
    "qdrant/README.md",
    snapshotKey(older, "1"),
    manifestKey(older),
    manifestKey(storage),
    snapshotKey(storage, "1"),
    snapshotKey(newer, "1"), // listed twice (pages overlapping after a retry)
    "qdrant/search/qdrant/_collections/docs/tmp/upload.part",
  ];
  const g = groupListing(keys, "qdrant");
  assert.deepEqual(
    g.complete.map((b) => [b.backupId, b.collection, b.fullStorage, b.manifestKey, b.keys.length]),
    [
      [storage.backupId, undefined, true, manifestKey(storage), 2],
      [older.backupId, "docs", false, manifestKey(older), 2],
      [newer.backupId, "docs", false, manifestKey(newer), 3],
    ],
  );
  assert.deepEqual(g.complete[2]?.keys, [manifestKey(newer), snapshotKey(newer, "1"), snapshotKey(newer, "2")]);
  assert.deepEqual(
    g.incomplete.map((b) => [b.backupId, b.manifestKey, b.keys]),
    [[crashed.backupId, undefined, [snapshotKey(crashed, "1")]]],
  );
  assert.deepEqual(g.foreign, ["qdrant/README.md", "qdrant/search/qdrant/_collections/docs/tmp/upload.part"]);
});

test("a manifest alone is a complete (if empty) backup; nothing listed is nothing", () => {
  const g = groupListing([manifestKey(older)], "qdrant");
  assert.equal(g.complete.length, 1);
  assert.deepEqual(groupListing([], "qdrant"), { complete: [], incomplete: [], foreign: [] });
});
