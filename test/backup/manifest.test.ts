/** The manifest: schema, round trip, and a clear error for every kind of corruption. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { backupId } from "../../src/backup/layout/backup-id.ts";
import { MANIFEST_VERSION, parseManifest, serializeManifest, type Manifest } from "../../src/backup/layout/manifest.ts";
import { manifestKey, snapshotKey, type BackupKeyParts } from "../../src/backup/layout/object-keys.ts";

const UID = "4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d";
const ID = backupId(new Date("2026-01-15T02:00:04Z"), UID);
const parts: BackupKeyParts = { prefix: "qdrant", namespace: "search", connection: "qdrant", collection: "docs", backupId: ID };
const KEY = manifestKey(parts);
const sha = (c: string) => c.repeat(64);

function sample(): Manifest {
  return {
    version: MANIFEST_VERSION,
    backupId: ID,
    mode: "Collection",
    source: { namespace: "search", connection: "qdrant", backupName: "nightly-20260115-0200", backupUid: UID, scheduleName: "nightly", scheduledTime: "2026-01-15T02:00:00Z" },
    operator: { version: "0.1.0" },
    qdrant: { version: "1.19.0", distributed: true },
    collection: {
      name: "docs",
      pointsCount: 300,
      aliases: ["docs-prod"],
      config: { params: { vectors: { size: 4, distance: "Cosine" }, shard_number: 3, replication_factor: 1 }, hnsw_config: { m: 16 } },
    },
    peers: [
      { peerId: "111", shardIds: [0], file: { key: snapshotKey(parts, "111"), size: 64512, sha256: sha("a"), qdrantSnapshotName: "docs-111-2026-01-15-02-00-05.snapshot" } },
      { peerId: "222", shardIds: [1], snapshotStartTime: "2026-01-15T02:00:05Z", snapshotEndTime: "2026-01-15T02:00:09Z", file: { key: snapshotKey(parts, "222"), size: 70000, sha256: sha("b") } },
      {
        peerId: "333",
        shardIds: [2],
        file: {
          key: snapshotKey(parts, "333", { compression: "zstd", encrypted: true }),
          size: 80000,
          sha256: sha("c"),
          compression: { algorithm: "zstd", level: 3 },
          encryption: { scheme: "example-scheme/v1", keyRef: "backup-key/key#sha256:0123", parameters: { nonce: "AAAA" } },
          stored: { size: 41000, sha256: sha("d") },
        },
      },
    ],
    timings: { startTime: "2026-01-15T02:00:04Z", snapshotStartTime: "2026-01-15T02:00:05Z", snapshotEndTime: "2026-01-15T02:00:09Z", completionTime: "2026-01-15T02:01:30Z" },
  };
}

test("a manifest survives serialize → parse unchanged, as text or bytes", () => {
  const text = serializeManifest(sample(), KEY);
  assert.ok(text.endsWith("}\n"));
  for (const input of [text, new TextEncoder().encode(text)]) {
    const r = parseManifest(input, { key: KEY });
    assert.ok(r.ok, r.ok ? "" : r.error);
    assert.deepEqual(r.manifest, sample());
  }
});

test("a full-storage manifest, and one with an object lock", () => {
  const storageParts: BackupKeyParts = { ...parts, collection: undefined, fullStorage: true } as unknown as BackupKeyParts;
  const m: Manifest = {
    ...sample(),
    mode: "FullStorage",
    collection: undefined,
    storage: { collections: [{ name: "docs", pointsCount: 300, aliases: ["docs-prod"] }, { name: "faq", aliases: [] }] },
    peers: [{ peerId: "1", collections: [{ name: "docs", shardIds: [0] }, { name: "faq", shardIds: [0] }], file: { key: snapshotKey(storageParts, "1"), size: 1, sha256: sha("e") } }],
    objectLock: { mode: "Compliance", retainUntil: "2027-01-15T00:00:00Z" },
  };
  delete m.collection;
  const r = parseManifest(serializeManifest(m, manifestKey(storageParts)), { key: manifestKey(storageParts) });
  assert.ok(r.ok, r.ok ? "" : r.error);
  assert.equal(r.manifest.objectLock?.retainUntil, "2027-01-15T00:00:00Z");
});

test("a backup of all that left out collections the operator was building says which and why", () => {
  const excluded = [{ name: "docs_drill", reason: "the temporary collection of restore drill QdrantRestore search/drill" }];
  const r = parseManifest(serializeManifest({ ...sample(), excluded }, KEY), { key: KEY });
  assert.ok(r.ok, r.ok ? "" : r.error);
  assert.deepEqual(r.manifest.excluded, excluded);
});

test("fields a later operator adds are accepted (forward compatible within v1)", () => {
  const m = { ...sample(), futureField: { anything: true }, qdrant: { version: "1.20.0", distributed: false, build: "abc" } };
  const r = parseManifest(JSON.stringify(m));
  assert.ok(r.ok, r.ok ? "" : r.error);
});

type Mutation = (m: Record<string, unknown> & Manifest) => void;

test("corrupt manifests get an error that says what is wrong", () => {
  const cases: Array<[string, string | Uint8Array | Mutation, RegExp]> = [
    ["empty", "", /^manifest .* is corrupt: it is empty$/],
    ["truncated JSON", serializeManifest(sample()).slice(0, 200), /is corrupt: it is not JSON \(/],
    ["not UTF-8", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), /is corrupt: it is not UTF-8 text/],
    ["an array", "[]", /is corrupt: it is not a JSON object/],
    ["null", "null", /is corrupt: it is not a JSON object/],
    ["no version", JSON.stringify({ collection: "docs" }), /no "version": "qdrant-operator\.dev\/manifest\/v1" field, so it is not a qdrant-operator manifest/],
    ["a newer version", JSON.stringify({ ...sample(), version: "qdrant-operator.dev/manifest/v2" }), /has version qdrant-operator\.dev\/manifest\/v2, which this operator does not read \(it reads qdrant-operator\.dev\/manifest\/v1\)/],
    ["bad checksum", (m) => ((m.peers[0] as Manifest["peers"][0]).file.sha256 = "ABC"), /peers\[0\]\.file\.sha256 must match pattern/],
    ["negative size", (m) => ((m.peers[1] as Manifest["peers"][0]).file.size = -1), /peers\[1\]\.file\.size must be >= 0/],
    ["missing points count", (m) => delete (m.collection as Partial<NonNullable<Manifest["collection"]>>).pointsCount, /collection\.pointsCount is missing/],
    ["missing source", (m) => delete (m as Partial<Manifest>).source, /source is missing/],
    ["no peers", (m) => (m.peers = []), /peers must NOT have fewer than 1 items/],
    ["bad peer id", (m) => ((m.peers[0] as Manifest["peers"][0]).peerId = "peer-1"), /peers\[0\]\.peerId must match pattern/],
    ["bad time", (m) => (m.timings.completionTime = "yesterday"), /timings\.completionTime must match format "date-time"/],
    ["unknown mode", (m) => ((m as Record<string, unknown>).mode = "Incremental"), /mode must be equal to one of the allowed values/],
    ["bad backup id", (m) => (m.backupId = "latest"), /backupId "latest" is not a backup id/],
    ["collection mode without a collection", (m) => delete (m as Partial<Manifest>).collection, /mode Collection needs a collection section/],
    ["collection mode with a storage section", (m) => (m.storage = { collections: [] }), /mode Collection cannot have a storage section/],
    ["an excluded collection without a reason", (m) => (m.excluded = [{ name: "x" } as { name: string; reason: string }]), /excluded\[0\]\.reason is missing/],
    ["full-storage mode leaving a collection out", (m) => ((m.mode = "FullStorage"), delete (m as Partial<Manifest>).collection, (m.storage = { collections: [] }), (m.excluded = [{ name: "x", reason: "y" }])), /mode FullStorage cannot have excluded collections/],
    ["full-storage mode without storage", (m) => (m.mode = "FullStorage"), /mode FullStorage needs a storage section; mode FullStorage cannot have a collection section/],
    ["a peer without shard ids", (m) => delete (m.peers[0] as Partial<Manifest["peers"][0]>).shardIds, /peers\[0\]\.shardIds is required in mode Collection/],
    ["a peer listed twice", (m) => ((m.peers[1] as Manifest["peers"][0]).peerId = "111"), /peers\[1\]: peer 111 is listed twice/],
    ["a file listed twice", (m) => ((m.peers[1] as Manifest["peers"][0]).file.key = (m.peers[0] as Manifest["peers"][0]).file.key), /peers\[1\]\.file\.key .* is used twice/],
    ["compressed without stored bytes", (m) => delete (m.peers[2] as Manifest["peers"][0]).file.stored, /peers\[2\]\.file\.stored is required when the file is compressed or encrypted/],
    ["finished before it started", (m) => (m.timings.completionTime = "2026-01-15T01:00:00Z"), /timings\.completionTime is before timings\.startTime/],
    ["a file elsewhere in the bucket", (m) => ((m.peers[0] as Manifest["peers"][0]).file.key = "elsewhere/peer-111.snapshot"), /peers\[0\]\.file\.key elsewhere\/peer-111\.snapshot is not beside the manifest/],
    ["copied under another backup id", (m) => (m.backupId = backupId(new Date("2026-01-16T00:00:00Z"), UID)), /backupId 20260116T000000Z-.* is not the id in its key \(20260115T020004Z-/],
    ["many problems at once", (m) => ((m as Record<string, unknown>).peers = [{}, {}, {}]), /peers\[0\]\.peerId is missing; .* \(and \d+ more\)$/],
  ];
  for (const [what, input, message] of cases) {
    let data: string | Uint8Array;
    if (typeof input === "function") {
      const m = sample() as Record<string, unknown> & Manifest;
      input(m);
      data = JSON.stringify(m);
    } else {
      data = input;
    }
    const r = parseManifest(data, { key: KEY });
    assert.equal(r.ok, false, `${what} was accepted`);
    if (!r.ok) {
      assert.match(r.error, message, `${what}: ${r.error}`);
      assert.ok(r.error.startsWith(`manifest ${KEY}`), `${what}: the error names the key: ${r.error}`);
    }
  }
});

test("an oversized manifest is refused before parsing", () => {
  const r = parseManifest(" ".repeat(16 * 1024 * 1024 + 1));
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.error, /^manifest is corrupt: it is \d+ bytes, more than a manifest can be/);
});

test("serializeManifest refuses to write an invalid manifest", () => {
  assert.throws(() => serializeManifest({ ...sample(), peers: [] }), /refusing to write an invalid manifest: .*peers must NOT have fewer than 1 items/);
  assert.throws(() => serializeManifest(sample(), "qdrant/elsewhere/manifest.json"), /is not the id in its key/);
});
