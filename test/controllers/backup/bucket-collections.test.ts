/**
 * A result cut to fit the termination message is completed from the backup's manifests: which outcomes
 * need it, and how the manifests' collections join the result's (against a real MinIO in
 * e2e/backup-many-collections.test.ts).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { backupId } from "../../../src/backup/layout/backup-id.ts";
import { MANIFEST_VERSION, type Manifest } from "../../../src/backup/layout/manifest.ts";
import { manifestKey, snapshotKey, type BackupKeyParts } from "../../../src/backup/layout/object-keys.ts";
import { needsBucketCollections, resultFromManifests, withBucketCollections, type ReadManifest } from "../../../src/controllers/backup/bucket-collections.ts";
import type { BackupJobSuccess } from "../../../src/jobs/backup/contract.ts";

const UID = "4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d";
const ID = backupId(new Date("2026-01-15T02:00:04Z"), UID);
const OTHER_ID = backupId(new Date("2026-01-14T02:00:04Z"), UID.replace("4f0c", "5f0c"));

function read(name: string, id = ID, size = 10): ReadManifest {
  const parts: BackupKeyParts = { prefix: "qdrant", namespace: "prod", connection: "qdrant", collection: name, backupId: id };
  const manifest: Manifest = {
    version: MANIFEST_VERSION,
    backupId: id,
    mode: "Collection",
    source: { namespace: "prod", connection: "qdrant", backupName: "now", backupUid: UID },
    operator: { version: "0.1.0" },
    qdrant: { version: "1.19.0", distributed: true },
    collection: { name, pointsCount: 7, aliases: [], config: {} },
    peers: ["1", "2"].map((peerId) => ({ peerId, shardIds: [0], file: { key: snapshotKey(parts, peerId), size, sha256: "a".repeat(64) } })),
    timings: { startTime: "2026-01-15T02:00:04Z", completionTime: "2026-01-15T02:01:00Z" },
  };
  return { key: manifestKey(parts), manifest };
}

const entry = (name: string) => ({ name, manifestKey: read(name).key, pointsCount: 7, sizeBytes: 20 });
const result = (collections: string[], truncated: boolean): BackupJobSuccess => ({
  ok: true,
  backupId: ID,
  startTime: "2026-01-15T02:00:04Z",
  completionTime: "2026-01-15T02:03:00Z",
  sizeBytes: 100,
  collections: collections.map(entry),
  ...(truncated ? { truncated: true as const } : {}),
});

test("a success whose result says it was cut, or that has none, reads the bucket", () => {
  const rows: Array<[string, Parameters<typeof needsBucketCollections>[0], boolean]> = [
    ["cut", { phase: "Succeeded", result: result(["a"], true) }, true],
    ["whole", { phase: "Succeeded", result: result(["a"], false) }, false],
    ["no result", { phase: "Succeeded", note: "unreadable" }, true],
    ["running", { phase: "Running" }, false],
    ["failed", { phase: "Failed", reason: "QdrantError", message: "x" }, false],
  ];
  for (const [name, outcome, want] of rows) assert.equal(needsBucketCollections(outcome), want, name);
});

test("the manifests' collections join the result's: the result's first, then the rest by name, without file lists; other backups' manifests are ignored", () => {
  const got = withBucketCollections(result(["a", "b"], true), [read("d"), read("b"), read("c"), read("zz", OTHER_ID)]);
  assert.equal(got.truncated, undefined);
  assert.deepEqual(got.collections, [entry("a"), entry("b"), { name: "c", manifestKey: read("c").key, pointsCount: 7, sizeBytes: 20 }, { name: "d", manifestKey: read("d").key, pointsCount: 7, sizeBytes: 20 }]);
  assert.equal(got.sizeBytes, 100, "the Job's total stays");
  // Nothing more in the bucket: the same list, no longer marked cut.
  assert.deepEqual(withBucketCollections(result(["a"], true), []).collections, [entry("a")]);
});

test("a Job that completed without a readable result: the result the manifests give, or none when the bucket has none of them", () => {
  const got = resultFromManifests(ID, "Collection", [read("b"), read("a"), read("zz", OTHER_ID)]);
  assert.deepEqual(got, {
    ok: true,
    backupId: ID,
    startTime: "2026-01-15T02:00:04Z",
    completionTime: "2026-01-15T02:01:00Z",
    sizeBytes: 40,
    collections: [
      { name: "a", manifestKey: read("a").key, pointsCount: 7, sizeBytes: 20 },
      { name: "b", manifestKey: read("b").key, pointsCount: 7, sizeBytes: 20 },
    ],
  });
  assert.equal(resultFromManifests(ID, "Collection", [read("zz", OTHER_ID)]), undefined);
  assert.equal(resultFromManifests(ID, "FullStorage", [read("a")]), undefined, "a collection's manifest is not a storage backup's");
});
