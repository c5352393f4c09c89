/**
 * What the source resolver refuses, each a failure with a reason from the registry and a message naming
 * what to fix, against the environment's MinIO: a corrupt manifest, an unknown id, missing or cut
 * objects, compressed and encrypted files (their codec passed on, an unknown scheme refused, the key checked), FullStorage backups with and without spec.sourceCollection, missing
 * references and Secrets, a missing bucket, and an aborted reconcile.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ResolvedSource } from "../../../src/controllers/restore/source/resolve-source.ts";
import { QDRANT_BACKUP_LOCATIONS } from "../../../src/controllers/resources.ts";
import { runWithSignal } from "../../../src/runtime/reconcile-signal.ts";
import { keyFile, newKey } from "../../backup/codec-fixtures.ts";
import { clusterBackup, NS, restoreOf, useWorld, writeBackup } from "./source-fixtures.ts";

type Failure = Extract<ResolvedSource, { ok: false }>;

function failed(r: ResolvedSource, reason: string, message: RegExp, retryable?: boolean): Failure {
  if (r.ok) assert.fail(`expected ${reason}, got backup ${r.candidate.backupId}`);
  assert.equal(r.reason, reason, r.message);
  assert.match(r.message, message);
  if (retryable !== undefined) assert.equal(r.retryable, retryable);
  return r;
}

const byId = (backupId: string, sourceCollection?: string) => restoreOf("r", { location: { locationRef: { name: "s3" }, backupId } }, sourceCollection);
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("a backup that cannot be restored is said before anything changes", () => {
  it("a corrupt manifest: ManifestUnreadable naming its key and what is wrong, for an id and for latest", async (t) => {
    const w = await useWorld(t);
    const b = await writeBackup(w, { collection: "docs", created: "2026-01-01T00:00:00Z", completed: "2026-01-01T00:01:00Z", corruptManifest: "{ not json" });
    failed(await w.resolver.resolve(byId(b.backupId)), "ManifestUnreadable", new RegExp(`manifest ${esc(b.manifestKey)} is corrupt: it is not JSON`), true);
    failed(await w.resolver.resolve(restoreOf("r", { latest: { locationRef: { name: "s3" }, collection: "docs" } })), "ManifestUnreadable", new RegExp(`manifest ${esc(b.manifestKey)} is corrupt`));
  });

  it("an id the bucket does not hold: BackupNotFound naming spec.source.location", async (t) => {
    const w = await useWorld(t);
    const b = await writeBackup(w, { collection: "docs", created: "2026-01-01T00:00:00Z", completed: "2026-01-01T00:01:00Z" });
    const unknown = b.backupId.replace(/^2026/, "2025");
    failed(await w.resolver.resolve(byId(unknown)), "BackupNotFound", new RegExp(`^spec\\.source\\.location: no backup ${esc(unknown)} in QdrantBackupLocation ${NS}/s3`), true);
  });

  it("an object the manifest lists is missing, or of another size: BackupObjectsMissing naming its key", async (t) => {
    const w = await useWorld(t);
    const gone = await writeBackup(w, { collection: "docs", created: "2026-01-01T00:00:00Z", completed: "2026-01-01T00:01:00Z", peers: [{ peerId: "1", shardIds: [0] }, { peerId: "2", shardIds: [1], objectBytes: null }] });
    const key2 = gone.manifest.peers[1]!.file.key;
    const r = failed(await w.resolver.resolve(byId(gone.backupId)), "BackupObjectsMissing", new RegExp(`manifest ${esc(gone.manifestKey)} .*object ${esc(key2)} \\(peer 2\\) does not exist`), true);
    assert.doesNotMatch(r.message, /peer 1/, "only the missing object is named");

    const cut = await writeBackup(w, { collection: "docs", created: "2026-01-02T00:00:00Z", completed: "2026-01-02T00:01:00Z", peers: [{ peerId: "1", shardIds: [0], bytes: 2048, objectBytes: 1000 }] });
    failed(await w.resolver.resolve(byId(cut.backupId)), "BackupObjectsMissing", new RegExp(`object ${esc(cut.manifest.peers[0]!.file.key)} \\(peer 1\\) is 1000 bytes, not 2048`));
  });

  it("compressed and encrypted files (#15) resolve with their codec and stored size; an encryption scheme the operator does not know is UnsupportedBackup, before any object is looked at", async (t) => {
    const w = await useWorld(t, { encryption: { keyFile: keyFile(await newKey()) } });
    const b = await writeBackup(w, { collection: "docs", created: "2026-01-01T00:00:00Z", completed: "2026-01-01T00:01:00Z", peers: [{ peerId: "7", shardIds: [0], compression: "zstd", encryption: "age-v1" }] });
    const ok = await w.resolver.resolve(byId(b.backupId));
    assert.ok(ok.ok, ok.ok ? "" : ok.message);
    const f = ok.files[0]!;
    assert.match(f.key, /\.snapshot\.zst\.age$/);
    assert.deepEqual([f.compression, f.encryption, f.stored?.size], [{ algorithm: "zstd" }, { scheme: "age-v1", keyRef: "age-key/keys.txt" }, f.size]);

    const unknown = await writeBackup(w, { collection: "docs", created: "2026-01-02T00:00:00Z", completed: "2026-01-02T00:01:00Z", peers: [{ peerId: "7", shardIds: [0], encryption: "pgp-v9", objectBytes: null }] });
    failed(await w.resolver.resolve(byId(unknown.backupId)), "UnsupportedBackup", new RegExp(`peers\\[0\\]\\.file ${esc(unknown.manifest.peers[0]!.file.key)} is encrypted \\(pgp-v9\\)`), false);
  });

  it("an encrypted backup's key: EncryptionKeyRequired when the location names none, SecretNotFound naming the field, InvalidEncryptionKey naming it (never the key)", async (t) => {
    const peers = [{ peerId: "7", shardIds: [0], compression: "zstd" as const, encryption: "age-v1" }];
    const at = { collection: "docs", created: "2026-01-01T00:00:00Z", completed: "2026-01-01T00:01:00Z", peers };
    const none = await useWorld(t);
    const b1 = await writeBackup(none, at);
    failed(await none.resolver.resolve(byId(b1.backupId)), "EncryptionKeyRequired", /^QdrantBackupLocation s3 spec\.encryption\.keySecretRef: backup \S+ is encrypted \(age\) and the location names no key file/, true);
    // A restore asking for Pull is refused for such a backup whatever the key (decide.ts): no wait for the key.
    const pull = byId(b1.backupId);
    pull.spec.method = "Pull";
    assert.ok((await none.resolver.resolve(pull)).ok);
    // A compressed-only backup needs no key at all.
    const plain = await writeBackup(none, { ...at, created: "2026-01-03T00:00:00Z", completed: "2026-01-03T00:01:00Z", peers: [{ peerId: "7", shardIds: [0], compression: "zstd" }] });
    assert.ok((await none.resolver.resolve(byId(plain.backupId))).ok);

    const noSecret = await useWorld(t, { encryption: {} });
    const b2 = await writeBackup(noSecret, at);
    failed(await noSecret.resolver.resolve(byId(b2.backupId)), "SecretNotFound", new RegExp(`QdrantBackupLocation s3 spec\\.encryption\\.keySecretRef\\.name: Secret ${NS}/age-key does not exist`), true);

    const secretText = "AGE-SECRET-KEY-1NOTAKEY";
    const bad = await useWorld(t, { encryption: { keyFile: secretText } });
    const b3 = await writeBackup(bad, at);
    const r = failed(await bad.resolver.resolve(byId(b3.backupId)), "InvalidEncryptionKey", /QdrantBackupLocation s3 spec\.encryption\.keySecretRef \(Secret age-key, key keys\.txt\)/, false);
    assert.doesNotMatch(r.message, /NOTAKEY/);

    const onlyRecipients = await useWorld(t, { encryption: { keyFile: `${(await newKey()).recipient}\n` } });
    const b4 = await writeBackup(onlyRecipients, at);
    failed(await onlyRecipients.resolver.resolve(byId(b4.backupId)), "InvalidEncryptionKey", /holds only age recipients .* cannot decrypt/, false);
  });

  it("FullStorage: one collection of the archive by spec.sourceCollection, required when it held several; each peer's shards of it", async (t) => {
    const w = await useWorld(t);
    const b = await writeBackup(w, {
      created: "2026-01-01T00:00:00Z",
      completed: "2026-01-01T00:01:00Z",
      storage: [{ name: "docs", pointsCount: 70 }, { name: "users" }],
      peers: [
        { peerId: "1", collections: [{ name: "docs", shardIds: [0] }, { name: "users", shardIds: [0, 1] }] },
        { peerId: "2", collections: [{ name: "docs", shardIds: [1] }] },
      ],
    });
    failed(await w.resolver.resolve(byId(b.backupId)), "SourceCollectionRequired", /holds 2 collections \(docs, users\): set spec\.sourceCollection/, false);
    failed(await w.resolver.resolve(byId(b.backupId, "orders")), "CollectionNotInBackup", new RegExp(`^spec\\.sourceCollection: backup ${esc(b.backupId)} holds no collection orders`), false);

    const docs = await w.resolver.resolve(byId(b.backupId, "docs"));
    assert.ok(docs.ok, docs.ok ? "" : docs.message);
    assert.equal(docs.mode, "FullStorage");
    assert.equal(docs.sourceCollection, "docs");
    assert.equal(docs.expectedPoints, 70);
    assert.deepEqual(docs.files.map((f) => [f.sourcePeerId, f.shardIds]), [["1", [0]], ["2", [1]]]);

    const users = await w.resolver.resolve(byId(b.backupId, "users"));
    assert.ok(users.ok, users.ok ? "" : users.message);
    assert.equal(users.expectedPoints, undefined, "the manifest has no count for it");
    assert.deepEqual(users.files.map((f) => [f.sourcePeerId, f.shardIds]), [["1", [0, 1]], ["2", []]], "a peer with none of its shards restores nothing");

    const single = await writeBackup(w, { created: "2026-01-02T00:00:00Z", completed: "2026-01-02T00:01:00Z", storage: [{ name: "only", pointsCount: 3 }], peers: [{ peerId: "1", collections: [{ name: "only", shardIds: [0] }] }] });
    const one = await w.resolver.resolve(byId(single.backupId));
    assert.ok(one.ok && one.sourceCollection === "only", "a storage of one collection needs no sourceCollection");
  });

  it("backupRef of a missing QdrantBackup, and of one holding several collections without sourceCollection", async (t) => {
    const w = await useWorld(t);
    failed(await w.resolver.resolve(restoreOf("r", { backupRef: { name: "nope" } })), "BackupNotFound", new RegExp(`^spec\\.source\\.backupRef: QdrantBackup ${NS}/nope does not exist`));
    const a = await writeBackup(w, { collection: "a", created: "2026-01-01T00:00:00Z", completed: "2026-01-01T00:01:00Z", uid: "0b9a7f33-7f7e-4c43-9b7e-1d2f3a4b5c6d" });
    await writeBackup(w, { collection: "b", created: "2026-01-01T00:00:00Z", completed: "2026-01-01T00:01:00Z", uid: a.uid });
    await w.addBackup(clusterBackup(a, "both", { created: "2026-01-01T00:00:00Z", completed: "2026-01-01T00:02:00Z", collections: ["a", "b"] }));
    failed(await w.resolver.resolve(restoreOf("r", { backupRef: { name: "both" } })), "SourceCollectionRequired", /holds 2 collections \(a, b\): set spec\.sourceCollection/);
    const b = await w.resolver.resolve(restoreOf("r", { backupRef: { name: "both" } }, "b"));
    assert.ok(b.ok && b.sourceCollection === "b" && b.candidate.backupId === a.backupId, b.ok ? "" : b.message);

    const running = clusterBackup(a, "running", { created: "2026-01-01T00:00:00Z", completed: "2026-01-01T00:02:00Z", collections: ["a"], phase: "Running" });
    running.metadata = { ...running.metadata, uid: "1b9a7f33-7f7e-4c43-9b7e-1d2f3a4b5c6d" };
    await w.addBackup(running);
    failed(await w.resolver.resolve(restoreOf("r", { backupRef: { name: "running" } })), "BackupNotUsable", /has not finished/, true);
  });

  it("a missing location, a missing Secret, a missing bucket: each names the object", async (t) => {
    const w = await useWorld(t);
    failed(await w.resolver.resolve(restoreOf("r", { location: { locationRef: { name: "gone" }, backupId: "x" } })), "ReferenceNotFound", new RegExp(`^spec\\.source\\.location\\.locationRef: QdrantBackupLocation ${NS}/gone does not exist`), true);

    const noSecret = await useWorld(t, { secret: false, bucket: w.bucket });
    failed(await noSecret.resolver.resolve(restoreOf("r", { latest: { locationRef: { name: "s3" }, collection: "docs" } })), "SecretNotFound", new RegExp(`QdrantBackupLocation s3 spec\\.s3\\.credentials\\.secretRef\\.name: Secret ${NS}/s3-creds does not exist`));

    const noBucket = await useWorld(t, { bucket: "no-such-bucket-for-restores" });
    failed(await noBucket.resolver.resolve(restoreOf("r", { latest: { locationRef: { name: "s3" }, collection: "docs" } })), "BucketNotFound", /spec\.s3\.bucket: bucket "no-such-bucket-for-restores" does not exist/, false);
    assert.ok(noBucket.api.stored(QDRANT_BACKUP_LOCATIONS, NS, "s3"));
  });

  it("an aborted reconcile is no restore problem: resolve rejects with the abort", async (t) => {
    const w = await useWorld(t);
    const b = await writeBackup(w, { collection: "docs", created: "2026-01-01T00:00:00Z", completed: "2026-01-01T00:01:00Z" });
    const abort = new AbortController();
    abort.abort(new Error("lost the lease"));
    // The SDK rejects an explicitly aborted call with its own AbortError.
    await assert.rejects(w.resolver.resolve(byId(b.backupId), abort.signal), (err: Error) => err.name === "AbortError");
    assert.equal(w.manifests.reads, 0);
    // The reconcile's ambient signal, which no argument passes: every S3 call obeys it too.
    await assert.rejects(runWithSignal(abort.signal, () => w.resolver.resolve(byId(b.backupId))), /lost the lease/);
    assert.equal(w.manifests.reads, 0);
  });
});
