/**
 * `job restore` of one collection out of a FullStorage backup: the Job streams each peer's archive from
 * S3, takes the collection's snapshot out of it as it passes, uploads that, and lets the upload complete
 * only once the whole archive's SHA-256 matched the manifest's. A compressed and encrypted archive (#15)
 * is decoded first, on the way: the archive's checks are of the decoded bytes, the object's own too.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startEmulator, type EmulatorHandle } from "../emulator/index.ts";
import { EXIT_CODES } from "../../src/jobs/protocol/exit-codes.ts";
import type { RestoreJobSuccess } from "../../src/jobs/restore/contract.ts";
import { parseAgeKeys } from "../../src/backup/codec/age-keys.ts";
import type { RestoreJobPlan } from "../../src/jobs/restore/contract.ts";
import { keyFile, newKey } from "../backup/codec-fixtures.ts";
import { allPoints, seedCollection } from "./backup-harness.ts";
import { api, backUpStorage, describeRun, encodeObjects, outcome, restorePlan, runRestore, suiteBucket, type Backup } from "./restore-harness.ts";

describe("job restore, one collection out of a FullStorage backup", () => {
  let emu: EmulatorHandle;
  let backup: Backup;
  let bucket: string;
  let removeBucket: () => Promise<void>;
  let docs: unknown[];
  before(async () => {
    ({ name: bucket, remove: removeBucket } = await suiteBucket());
    emu = await startEmulator();
    await seedCollection(emu.url, "docs", 120);
    await seedCollection(emu.url, "docs-v2", 4);
    await seedCollection(emu.url, "other", 5);
    docs = await allPoints(emu.url, "docs");
    backup = await backUpStorage(emu.url, bucket);
  });
  after(async () => {
    await emu.stop();
    await removeBucket();
  });

  it("restores the collection's points (and only its) into a new name", async (t) => {
    const target = "docs_from_storage";
    t.after(() => api(emu.url).deleteCollection(target));
    const plan = restorePlan(backup, emu.url, bucket, { source: "docs", target });
    assert.equal(plan.method, "Upload");
    const run = await runRestore(plan);
    assert.equal(run.code, EXIT_CODES.SUCCESS, describeRun(run));
    const ok = run.result as RestoreJobSuccess;
    assert.deepEqual(ok.pointsCount, { expected: 120, actual: 120 });
    assert.ok(ok.bytes > 0 && ok.bytes < backup.manifest.peers[0]!.file.size, `the entry's bytes (${ok.bytes}), not the archive's`);
    assert.deepEqual(await allPoints(emu.url, target), docs);
  });

  it("an archive whose SHA-256 is not the manifest's: ChecksumMismatch, the upload aborted, no collection", async () => {
    const target = "docs_from_bad_storage";
    const run = await runRestore(restorePlan(backup, emu.url, bucket, { source: "docs", target, files: (fs) => fs.map((f) => ({ ...f, sha256: "f".repeat(64) })) }));
    assert.equal(outcome(run), "ChecksumMismatch", describeRun(run));
    assert.match(run.result && !run.result.ok ? run.result.message : "", /SHA-256 [0-9a-f]{64}, the manifest says f{64}; the upload was aborted/);
    assert.equal(await api(emu.url).collectionExists(target), false);
  });

  it("a compressed and encrypted archive: decoded while it streams, the collection's points restored", async (t) => {
    const target = "docs_from_encoded_storage";
    t.after(() => api(emu.url).deleteCollection(target));
    const keys = keyFile(await newKey());
    const files = await encodeObjects(backup, bucket, { compression: { algorithm: "zstd", level: 3 }, encryption: { keys: parseAgeKeys(keys, "test") } });
    const run = await runRestore(restorePlan(backup, emu.url, bucket, { source: "docs", target, files }), { ENCRYPTION_KEYS: keys });
    assert.equal(run.code, EXIT_CODES.SUCCESS, describeRun(run));
    assert.deepEqual(await allPoints(emu.url, target), docs);

    // The object's own SHA-256 is checked too, once the whole archive was read: the upload is aborted.
    const other = "docs_from_other_encoded_storage";
    const wrongStored = (fs: RestoreJobPlan["files"]) => files(fs).map((f) => ({ ...f, stored: { size: f.stored!.size, sha256: "0".repeat(64) } }));
    const bad = await runRestore(restorePlan(backup, emu.url, bucket, { source: "docs", target: other, files: wrongStored }), { ENCRYPTION_KEYS: keys });
    assert.equal(outcome(bad), "BackupCorrupt", describeRun(bad));
    assert.match(bad.result && !bad.result.ok ? bad.result.message : "", /its stored bytes are SHA-256 [0-9a-f]{64}, the manifest says 0{64}; the upload was aborted/);
    assert.equal(await api(emu.url).collectionExists(other), false);
  });

  it("a collection the archive does not hold: CollectionNotInBackup, no collection", async () => {
    const run = await runRestore(restorePlan(backup, emu.url, bucket, { source: "nope", target: "nope_restored", expectedPoints: null, files: (fs) => fs.map((f) => ({ ...f, shardIds: [0] })) }));
    assert.equal(outcome(run), "CollectionNotInBackup", describeRun(run));
    assert.equal(await api(emu.url).collectionExists("nope_restored"), false);
  });
});
