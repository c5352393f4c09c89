/**
 * `job restore` of compressed (zstd) and encrypted (age) objects (#15), as a real child process against
 * an emulator and the shared MinIO. The backup Job does not write encoded objects yet, so each test's
 * object is a real backup's snapshot encoded here with the codec the backup Job will use
 * (encodeSnapshot), put beside it, and the plan lists it as the manifest will: the snapshot's size and
 * SHA-256, the object's own (`stored`), its compression and encryption.
 *
 * What the controller and the user rely on: identical points; the key never in the Job's output; a wrong
 * or missing key refused before anything changes on Qdrant (even a half-made collection the attempt
 * owns stays); a corrupt object failing BackupCorrupt with the upload aborted, so nothing is created.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseAgeKeys } from "../../src/backup/codec/age-keys.ts";
import type { EncodeSettings } from "../../src/backup/codec/types.ts";
import { EXIT_CODES } from "../../src/jobs/protocol/exit-codes.ts";
import type { RestoreJobPlan, RestoreJobSuccess } from "../../src/jobs/restore/contract.ts";
import { startEmulator, type EmulatorHandle } from "../emulator/index.ts";
import { keyFile, newKey, type TestKey } from "../backup/codec-fixtures.ts";
import { allPoints, seedCollection } from "./backup-harness.ts";
import { api, backUp, describeRun, encodeObjects, outcome, restorePlan, runRestore, suiteBucket, type Backup, type RestoreRun } from "./restore-harness.ts";

type Encoding = "zstd" | "age" | "zstd+age";

describe("job restore of compressed and encrypted objects", () => {
  let emu: EmulatorHandle;
  let backup: Backup;
  let bucket: string;
  let removeBucket: () => Promise<void>;
  let original: unknown[];
  let key: TestKey;

  before(async () => {
    ({ name: bucket, remove: removeBucket } = await suiteBucket());
    emu = await startEmulator();
    // Payloads big enough that the snapshot spans several age chunks (64 KiB each): a corruption near
    // the end is found after the upload has started.
    await seedCollection(emu.url, "docs", 150, { payloadBytes: 2048 });
    original = await allPoints(emu.url, "docs");
    backup = await backUp(emu.url, bucket, "docs");
    key = await newKey();
  });
  after(async () => {
    await emu.stop();
    await removeBucket();
  });

  /** The backup's snapshot encoded as `how` to the recipients of `keys` (default: `key`), put beside it; `mangle` changes the object after it was hashed. */
  async function encoded(how: Encoding, opts: { keys?: string; mangle?: (b: Buffer) => void; suffix?: string } = {}): Promise<{ files: (fs: RestoreJobPlan["files"]) => RestoreJobPlan["files"]; storedSize: number }> {
    const settings: EncodeSettings = {
      ...(how !== "age" ? { compression: { algorithm: "zstd", level: 3 } } : {}),
      ...(how !== "zstd" ? { encryption: { keys: parseAgeKeys(opts.keys ?? keyFile(key), "test") } } : {}),
    };
    const files = await encodeObjects(backup, bucket, settings, { ...(opts.suffix ? { suffix: opts.suffix } : {}), ...(opts.mangle ? { mangle: (_i: number, b: Buffer) => opts.mangle!(b) } : {}) });
    return { files, storedSize: files(restorePlan(backup, emu.url, bucket).files)[0]!.stored!.size };
  }

  const failure = (run: RestoreRun) => (run.result && !run.result.ok ? run.result.message : "");
  const noKeyIn = (run: RestoreRun, ...keys: TestKey[]) => {
    for (const k of keys) {
      for (const text of [run.stdout, run.stderr, run.resultText]) assert.ok(!text.includes(k.identity) && !text.includes(k.identity.slice(20, 50)), "the identity is in the Job's output");
    }
  };

  for (const how of ["zstd", "age", "zstd+age"] as const) {
    it(`${how}: restores identical points, decoded while they stream (the snapshot's bytes uploaded), the key in none of the Job's output`, async (t) => {
      const target = `docs_${how.replace("+", "_")}`;
      t.after(() => api(emu.url).deleteCollection(target));
      const { files } = await encoded(how);
      const run = await runRestore(restorePlan(backup, emu.url, bucket, { target, method: "Upload", files }), how !== "zstd" ? { ENCRYPTION_KEYS: keyFile(key) } : {});
      assert.equal(run.code, EXIT_CODES.SUCCESS, describeRun(run));
      const ok = run.result as RestoreJobSuccess;
      assert.equal(ok.bytes, backup.manifest.peers[0]!.file.size, "the snapshot's bytes, not the object's");
      assert.deepEqual(ok.pointsCount, { expected: 150, actual: 150 });
      assert.deepEqual(await allPoints(emu.url, target), original);
      noKeyIn(run, key);
    });
  }

  it("key rotation: an object encrypted to the old identity restores with the new one listed first and the old beside it", async (t) => {
    const target = "docs_rotated";
    t.after(() => api(emu.url).deleteCollection(target));
    const old = await newKey();
    const { files } = await encoded("zstd+age", { keys: keyFile(old), suffix: ".old" });
    const fresh = await newKey();
    const run = await runRestore(restorePlan(backup, emu.url, bucket, { target, method: "Upload", files }), { ENCRYPTION_KEYS: keyFile(fresh, old) });
    assert.equal(run.code, EXIT_CODES.SUCCESS, describeRun(run));
    assert.deepEqual(await allPoints(emu.url, target), original);
    noKeyIn(run, fresh, old);
  });

  it("a wrong identity: WrongEncryptionKey (cannot decrypt: wrong identity) before anything changes, a half-made collection the attempt owns kept as it is", async () => {
    const { files } = await encoded("zstd+age");
    const wrong = await newKey();
    const fresh = await runRestore(restorePlan(backup, emu.url, bucket, { target: "docs_wrong_key", method: "Upload", files }), { ENCRYPTION_KEYS: keyFile(wrong) });
    assert.equal(fresh.code, EXIT_CODES.PERMANENT, describeRun(fresh));
    assert.equal(outcome(fresh), "WrongEncryptionKey", describeRun(fresh));
    assert.match(failure(fresh), /cannot decrypt: wrong identity \(none of the 1 identity in the key file opens object \S+\.snapshot\.zst\.age of backup \S+ \(encrypted with the key age-key\/keys\.txt\)\)/);
    assert.equal(await api(emu.url).collectionExists("docs_wrong_key"), false);
    noKeyIn(fresh, wrong, key);

    // An owned target is deleted before the recover (replaceOwned): with a wrong key it is not reached.
    const owned = "docs_owned_wrong_key";
    await seedCollection(emu.url, owned, 7);
    const before = await allPoints(emu.url, owned);
    const run = await runRestore(restorePlan(backup, emu.url, bucket, { target: owned, method: "Upload", files, ownedTarget: true, attempt: 2 }), { ENCRYPTION_KEYS: keyFile(wrong) });
    assert.equal(outcome(run), "WrongEncryptionKey", describeRun(run));
    assert.deepEqual(await allPoints(emu.url, owned), before, "the collection is untouched");
    await api(emu.url).deleteCollection(owned);
  });

  it("no key file: EncryptionKeyRequired naming the location's field; a key file that does not parse: InvalidEncryptionKey naming the env, never its text; nothing created", async () => {
    const { files } = await encoded("age");
    const plan = restorePlan(backup, emu.url, bucket, { target: "docs_no_key", method: "Upload", files });
    const none = await runRestore(plan);
    assert.equal(outcome(none), "EncryptionKeyRequired", describeRun(none));
    assert.match(failure(none), /spec\.encryption\.keySecretRef of the QdrantBackupLocation/);
    const bad = await runRestore(plan, { ENCRYPTION_KEYS: "AGE-SECRET-KEY-1NOTREALLYAKEYXYZ\n" });
    assert.equal(outcome(bad), "InvalidEncryptionKey", describeRun(bad));
    assert.match(failure(bad), /env ENCRYPTION_KEYS \(the location's spec\.encryption\.keySecretRef\)/);
    for (const text of [bad.stdout, bad.stderr, bad.resultText]) assert.ok(!text.includes("NOTREALLYAKEY"), "the key file's text is in the output");
    assert.equal(await api(emu.url).collectionExists("docs_no_key"), false);
  });

  for (const how of ["zstd", "zstd+age"] as const) {
    it(`${how}: a flipped byte near the end fails BackupCorrupt naming the object, the upload aborted: no collection, half or whole`, async () => {
      const target = `docs_flipped_${how.replace("+", "_")}`;
      const { files, storedSize } = await encoded(how, { mangle: (b) => void (b[b.length - 300] = b[b.length - 300]! ^ 0x40), suffix: ".flipped" });
      assert.ok(storedSize > 2 * 64 * 1024, `the object (${storedSize} bytes) spans several chunks`);
      const run = await runRestore(restorePlan(backup, emu.url, bucket, { target, method: "Upload", files }), how !== "zstd" ? { ENCRYPTION_KEYS: keyFile(key) } : {});
      assert.equal(run.code, EXIT_CODES.PERMANENT, describeRun(run));
      assert.equal(outcome(run), "BackupCorrupt", describeRun(run));
      assert.match(failure(run), /object \S+\.flipped of backup \S+( \(encrypted with the key [^)]+\))? is corrupt: /);
      assert.equal(await api(emu.url).collectionExists(target), false);
    });
  }

  it("an object that decodes but is not the one the manifest lists (its stored SHA-256 differs): BackupCorrupt before the upload's closing boundary, no collection", async () => {
    const target = "docs_other_object";
    const { files } = await encoded("zstd");
    const run = await runRestore(restorePlan(backup, emu.url, bucket, { target, method: "Upload", files: (fs) => files(fs).map((f) => ({ ...f, stored: { size: f.stored!.size, sha256: "0".repeat(64) } })) }));
    assert.equal(outcome(run), "BackupCorrupt", describeRun(run));
    assert.match(failure(run), /its stored bytes are SHA-256 [0-9a-f]{64}, the manifest says 0{64}; the upload was aborted/);
    assert.equal(await api(emu.url).collectionExists(target), false);
  });
});
