/** The bucket layout: keys carry namespace and Qdrant, never collide, and parse back. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { backupId } from "../../src/backup/layout/backup-id.ts";
import {
  backupPrefix,
  connectionPrefix,
  manifestKey,
  manifestPrefixFor,
  parseBackupKey,
  parseManifestKey,
  snapshotKey,
  type BackupKeyParts,
} from "../../src/backup/layout/object-keys.ts";

const UID_A = "4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d";
const UID_B = "0a1b2c3d-0000-4000-8000-000000000001";
const ID = backupId(new Date("2026-01-15T02:00:04Z"), UID_A);
const base = { prefix: "qdrant/prod", namespace: "search", connection: "qdrant" };
const docs: BackupKeyParts = { ...base, collection: "docs", backupId: ID };

test("keys of a collection backup", () => {
  assert.equal(connectionPrefix(base), "qdrant/prod/search/qdrant/");
  assert.equal(manifestPrefixFor({ ...base, collection: "docs" }), "qdrant/prod/search/qdrant/_collections/docs/");
  assert.equal(backupPrefix(docs), `qdrant/prod/search/qdrant/_collections/docs/${ID}/`);
  assert.equal(manifestKey(docs), `qdrant/prod/search/qdrant/_collections/docs/${ID}/manifest.json`);
  assert.equal(snapshotKey(docs, "8273645362781"), `qdrant/prod/search/qdrant/_collections/docs/${ID}/peer-8273645362781.snapshot`);
  assert.equal(snapshotKey(docs, "1", { compression: "zstd" }), `qdrant/prod/search/qdrant/_collections/docs/${ID}/peer-1.snapshot.zst`);
  assert.equal(snapshotKey(docs, "1", { compression: "zstd", encrypted: true }), `qdrant/prod/search/qdrant/_collections/docs/${ID}/peer-1.snapshot.zst.age`);
  assert.equal(snapshotKey(docs, "1", { encrypted: true }), `qdrant/prod/search/qdrant/_collections/docs/${ID}/peer-1.snapshot.age`);
});

test("keys of a full-storage backup, and without a prefix", () => {
  const storage: BackupKeyParts = { ...base, fullStorage: true, backupId: ID };
  assert.equal(manifestPrefixFor({ ...base, fullStorage: true }), "qdrant/prod/search/qdrant/_storage/");
  assert.equal(manifestKey(storage), `qdrant/prod/search/qdrant/_storage/${ID}/manifest.json`);
  assert.equal(snapshotKey(storage, "7"), `qdrant/prod/search/qdrant/_storage/${ID}/peer-7.snapshot`);
  for (const prefix of [undefined, "", "/"]) {
    assert.equal(manifestKey({ ...docs, prefix }), `search/qdrant/_collections/docs/${ID}/manifest.json`, String(prefix));
  }
  assert.equal(manifestKey({ ...docs, prefix: "/a/b/" }), `a/b/search/qdrant/_collections/docs/${ID}/manifest.json`);
  assert.equal(manifestKey({ ...docs, collection: "my docs" }), `qdrant/prod/search/qdrant/_collections/my%20docs/${ID}/manifest.json`);
});

test("same-named backups from other namespaces, Qdrants or clusters never share a key", () => {
  const idOtherCluster = backupId(new Date("2026-01-15T02:00:04Z"), UID_B);
  const variants: BackupKeyParts[] = [
    docs,
    { ...docs, namespace: "search-staging" },
    { ...docs, connection: "qdrant-eu" },
    { ...docs, collection: "docs2" },
    { ...docs, fullStorage: true, collection: undefined } as unknown as BackupKeyParts,
    // Another cluster: same namespace, connection, collection, name, even the same second.
    { ...docs, backupId: idOtherCluster },
  ];
  const keys = variants.map((v) => manifestKey(v));
  assert.equal(new Set(keys).size, keys.length, keys.join("\n"));
  for (const v of variants) assert.ok(manifestKey(v).startsWith(backupPrefix(v)));
});

test("a collection's listing prefix contains exactly its backups", () => {
  const prefix = manifestPrefixFor({ ...base, collection: "docs" });
  assert.ok(manifestKey(docs).startsWith(prefix));
  assert.ok(snapshotKey(docs, "3").startsWith(prefix));
  // "docs" must not list "docs2": the prefix ends with the segment's "/".
  assert.ok(!manifestKey({ ...docs, collection: "docs2" }).startsWith(prefix));
});

test("keys parse back into their parts", () => {
  const cases: Array<[BackupKeyParts, string | undefined]> = [
    [docs, "docs"],
    [{ ...docs, prefix: undefined }, "docs"],
    [{ ...docs, collection: "名前 with spaces" }, "名前 with spaces"],
    [{ ...docs, collection: "x".repeat(300) }, undefined],
    [{ ...docs, connection: "qdrant.prod" }, "docs"],
  ];
  for (const [parts, collection] of cases) {
    const parsed = parseManifestKey(manifestKey(parts), parts.prefix);
    assert.ok(parsed, manifestKey(parts));
    assert.equal(parsed.namespace, parts.namespace);
    assert.equal(parsed.connection, parts.connection);
    assert.equal(parsed.collection, collection);
    assert.ok(parsed.collectionSegment);
    assert.equal(parsed.fullStorage, false);
    assert.equal(parsed.backupId, ID);
    assert.equal(parsed.backupUid, UID_A);
    assert.equal(parsed.backupTime.toISOString(), "2026-01-15T02:00:04.000Z");
    assert.equal(parsed.backupPrefix, backupPrefix(parts));
    assert.deepEqual(parsed.file, { kind: "manifest" });
  }
  const snap = parseBackupKey(snapshotKey(docs, "42", { compression: "zstd", encrypted: true }), base.prefix);
  assert.deepEqual(snap?.file, { kind: "snapshot", peerId: "42", compression: "zstd", encrypted: true });
  assert.deepEqual(parseBackupKey(snapshotKey(docs, "42"), base.prefix)?.file, { kind: "snapshot", peerId: "42", encrypted: false });
  assert.equal(parseManifestKey(snapshotKey(docs, "42"), base.prefix), undefined, "a snapshot is not a manifest");
  const storage = parseManifestKey(manifestKey({ ...base, fullStorage: true, backupId: ID }), base.prefix);
  assert.equal(storage?.fullStorage, true);
  assert.equal(storage?.collection, undefined);
});

test("a key read against another location's prefix is refused, not misread", () => {
  // Locations with nested prefixes may share a bucket: "" and "p", "p" and "p/ns".
  const written: Array<[BackupKeyParts, string]> = [
    [{ prefix: "p", namespace: "ns", connection: "collections", fullStorage: true, backupId: ID }, `p/ns/collections/_storage/${ID}/manifest.json`],
    [{ prefix: "p", namespace: "ns", connection: "storage", collection: "docs", backupId: ID }, `p/ns/storage/_collections/docs/${ID}/manifest.json`],
    [{ prefix: "", namespace: "p", connection: "ns", collection: "docs", backupId: ID }, `p/ns/_collections/docs/${ID}/manifest.json`],
    [{ prefix: "", namespace: "p", connection: "ns", fullStorage: true, backupId: ID }, `p/ns/_storage/${ID}/manifest.json`],
  ];
  for (const [parts, key] of written) {
    assert.equal(manifestKey(parts), key);
    assert.equal(parseManifestKey(key, parts.prefix)?.connection, parts.connection, key);
    for (const other of ["", "p", "p/ns", "p/ns/collections"]) {
      if (other === parts.prefix) continue;
      assert.equal(parseManifestKey(key, other), undefined, `${key} read under "${other}"`);
    }
  }
});

test("keys that are not ours parse to undefined", () => {
  const keys = [
    "qdrant/prod/README.txt",
    "other/search/qdrant/_collections/docs/x/manifest.json",
    `qdrant/prod/search/qdrant/_collections/docs/${ID}/notes.txt`,
    `qdrant/prod/search/qdrant/_collections/docs/not-an-id/manifest.json`,
    `qdrant/prod/search/qdrant/_collections/docs/${ID}/peer-x.snapshot`,
    `qdrant/prod/search/qdrant/_collections/docs/${ID}/peer-1.snapshot.gz`,
    `qdrant/prod/Search/qdrant/_collections/docs/${ID}/manifest.json`,
    `qdrant/prod/search/qdrant/_collections/do%2fcs/${ID}/manifest.json`,
    `qdrant/prod/search/qdrant/_collections/${ID}/manifest.json`,
    `qdrant/prod/search/qdrant/_storage/docs/${ID}/manifest.json`,
    `qdrant/prod/search/qdrant/snapshots/docs/${ID}/manifest.json`,
    `qdrant/prod/search/qdrant/collections/docs/${ID}/manifest.json`,
    `qdrant/prod/search/qdrant/_collections/docs/${ID}/sub/manifest.json`,
  ];
  for (const key of keys) assert.equal(parseBackupKey(key, "qdrant/prod"), undefined, key);
});

test("invalid parts and over-long keys are refused with what to change", () => {
  assert.throws(() => manifestKey({ ...docs, namespace: "Search" }), /not a valid namespace name/);
  assert.throws(() => manifestKey({ ...docs, namespace: "a".repeat(64) }), /not a valid namespace name/);
  assert.throws(() => manifestKey({ ...docs, connection: "q_1" }), /not a valid connection name/);
  assert.throws(() => manifestKey({ ...docs, backupId: "latest" }), /not a backup id/);
  assert.throws(() => manifestKey({ ...docs, collection: "" }), /cannot be empty/);
  assert.throws(() => snapshotKey(docs, "-1"), /not a Qdrant peer id/);
  assert.throws(() => snapshotKey(docs, "123456789012345678901"), /not a Qdrant peer id/);
  const longest = { ...docs, prefix: "p".repeat(512), connection: `${"c".repeat(63)}.${"c".repeat(63)}.${"c".repeat(63)}.${"c".repeat(61)}`, collection: "名".repeat(255) };
  assert.throws(() => snapshotKey(longest, "18446744073709551615"), /object key would be \d+ bytes, over S3's 1024: shorten the location's prefix/);
  // Realistic maxima fit.
  assert.ok(snapshotKey({ ...docs, prefix: "p".repeat(200), collection: "名".repeat(255) }, "18446744073709551615").length <= 1024);
});
