/**
 * `job backup` with the location's compression and encryption (#15), against the environment's Qdrant
 * and MinIO, read back the way a person restoring by hand would: the real `zstd` and the real `age`
 * (built from filippo.io/age, test/env/go/age) turn each stored object into bytes whose SHA-256 is the
 * snapshot's, which Qdrant recovers into the same points. The manifest records the codec, both sizes and
 * both hashes; the key file is never in the plan, the logs or the result.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { parseManifest, type ManifestFile } from "../../src/backup/layout/manifest.ts";
import { manifestKey } from "../../src/backup/layout/object-keys.ts";
import type { BackupJobPlan } from "../../src/jobs/backup/contract.ts";
import { EXIT_CODES } from "../../src/jobs/protocol/exit-codes.ts";
import { ensureAgeBinaries } from "../env/build.ts";
import { keyFile, newKey } from "../backup/codec-fixtures.ts";
import { allPoints, qdrantApi, qdrantUnderTest, uniqueName, useCollection } from "../helpers/qdrant.ts";
import { s3Client, useBucket } from "../helpers/s3.ts";
import { zstdPath } from "../helpers/tools.ts";
import { listKeys, makePlan, objectBytes, qdrant, runJob, uploadAndRecover, type JobEnv } from "./backup-harness.ts";

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** What `command args` prints for `input` on stdin; the command must succeed. */
async function pipeThrough(command: string, args: string[], input: Buffer): Promise<Buffer> {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
  const out: Buffer[] = [];
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => out.push(c));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  child.stdin.end(input);
  const code = await exited;
  assert.equal(code, 0, `${command} ${args.join(" ")} exited ${code}: ${stderr}`);
  return Buffer.concat(out);
}

async function backUp(t: TestContext, encoding: NonNullable<BackupJobPlan["encoding"]>, env: JobEnv = {}) {
  const q = qdrantUnderTest();
  const collection = await useCollection(t, "docs", { points: 300 });
  const bucket = await useBucket(t);
  const plan: BackupJobPlan = { ...makePlan(q.url, bucket, { collections: { names: [collection] }, discovery: { mode: "None" } }), encoding };
  const run = await runJob(plan, { ...env, ...(q.apiKey ? { apiKey: q.apiKey } : {}) });
  const s3 = s3Client();
  t.after(() => s3.destroy());
  const key = manifestKey({ namespace: plan.source.namespace, connection: plan.source.connection, collection, backupId: plan.backupId });
  return { q, collection, bucket, plan, run, s3, key };
}

/** The manifest's one file, checked against the object it names: its stored size and SHA-256 are the object's. */
async function storedFile(b: Awaited<ReturnType<typeof backUp>>): Promise<{ file: ManifestFile; object: Buffer }> {
  assert.equal(b.run.code, EXIT_CODES.SUCCESS, b.run.stdout + b.run.stderr);
  const parsed = parseManifest(await objectBytes(b.s3, b.bucket, b.key), { key: b.key });
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
  const file = parsed.manifest.peers[0]!.file;
  const object = await objectBytes(b.s3, b.bucket, file.key);
  assert.ok(file.stored, "the manifest records the stored object's own size and hash");
  assert.equal(file.stored.size, object.length);
  assert.equal(file.stored.sha256, sha256(object));
  assert.notEqual(file.stored.sha256, file.sha256);
  assert.deepEqual(await listKeys(b.s3, b.bucket), [file.key, b.key].sort(), "the object and the manifest, nothing else");
  assert.deepEqual(await qdrant(b.q.url, "GET", `/collections/${b.collection}/snapshots`, undefined, b.q.apiKey), [], "no snapshot left on Qdrant");
  assert.equal(b.run.result?.ok && b.run.result.sizeBytes, object.length, "the result's size is what the bucket holds");
  return { file, object };
}

/** The snapshot's bytes must be Qdrant's own: they recover into the same points. */
async function recoversTheSamePoints(t: TestContext, b: Awaited<ReturnType<typeof backUp>>, snapshot: Buffer, file: ManifestFile): Promise<void> {
  assert.equal(snapshot.length, file.size);
  assert.equal(sha256(snapshot), file.sha256);
  const restored = uniqueName("restored");
  t.after(() => qdrantApi().deleteCollection(restored).then(() => undefined));
  await uploadAndRecover(b.q.url, restored, snapshot, file.sha256, b.q.apiKey);
  assert.deepEqual(await allPoints(restored), await allPoints(b.collection));
}

describe("job backup with compression and encryption", () => {
  it("zstd: the object ends in .zst, is smaller, and `zstd -d` gives the snapshot Qdrant made", async (t) => {
    const b = await backUp(t, { compression: { algorithm: "zstd", level: 9 } });
    const { file, object } = await storedFile(b);
    assert.match(file.key, /\/peer-\d+\.snapshot\.zst$/);
    assert.deepEqual(file.compression, { algorithm: "zstd", level: 9 });
    assert.equal(file.encryption, undefined);
    assert.ok(object.length < file.size, `compressed ${object.length} < snapshot ${file.size}`);
    await recoversTheSamePoints(t, b, await pipeThrough(await zstdPath(), ["-d", "-c"], object), file);
  });

  it("zstd then age: `age -d -i keyfile | zstd -d` with the Secret's text gives the snapshot; the key is nowhere in the plan, logs or result", async (t) => {
    const [current, previous] = [await newKey(), await newKey()];
    const secretText = keyFile(current, previous);
    const b = await backUp(t, { compression: { algorithm: "zstd", level: 3 }, encryption: { scheme: "age-v1", keyRef: "qdrant-backup-key/keys.txt" } }, { encryptionKeys: secretText });
    const { file, object } = await storedFile(b);
    assert.match(file.key, /\/peer-\d+\.snapshot\.zst\.age$/);
    assert.deepEqual(file.compression, { algorithm: "zstd", level: 3 });
    // Encrypted to the first identity's recipient only: the second identity is the rotated-out key.
    assert.deepEqual(file.encryption, { scheme: "age-v1", keyRef: "qdrant-backup-key/keys.txt", parameters: { recipients: [current.recipient] } });
    assert.ok(object.subarray(0, 21).toString("latin1").startsWith("age-encryption.org/v1"));

    const { age } = await ensureAgeBinaries();
    const dir = await mkdtemp(join(tmpdir(), "backup-encoded-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const keyPath = join(dir, "keys.txt");
    await writeFile(keyPath, secretText, { mode: 0o600 });
    const compressed = await pipeThrough(age, ["-d", "-i", keyPath], object);
    await recoversTheSamePoints(t, b, await pipeThrough(await zstdPath(), ["-d", "-c"], compressed), file);

    for (const secret of [current.identity, previous.identity]) {
      assert.ok(!JSON.stringify(b.plan).includes(secret));
      assert.ok(!b.run.stdout.includes(secret) && !b.run.stderr.includes(secret), "not in the Job's logs");
      assert.ok(!b.run.resultText.includes(secret), "not in the result");
    }
  });

  it("age only: a key file of recipients alone (no identity) encrypts to every recipient, and each identity opens the object", async (t) => {
    const [a, c] = [await newKey(), await newKey()];
    const b = await backUp(t, { encryption: { scheme: "age-v1", keyRef: "k/recipients" } }, { encryptionKeys: `# the backups' public keys\n${a.recipient}\n${c.recipient}\n` });
    const { file, object } = await storedFile(b);
    assert.match(file.key, /\/peer-\d+\.snapshot\.age$/);
    assert.deepEqual(file.encryption?.parameters, { recipients: [a.recipient, c.recipient] });
    const { age } = await ensureAgeBinaries();
    const dir = await mkdtemp(join(tmpdir(), "backup-encoded-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    for (const [i, k] of [a, c].entries()) {
      const keyPath = join(dir, `id-${i}.txt`);
      await writeFile(keyPath, `${k.identity}\n`, { mode: 0o600 });
      const snapshot = await pipeThrough(age, ["-d", "-i", keyPath], object);
      assert.equal(sha256(snapshot), file.sha256);
    }
  });

  it("a plan that encrypts with no key file fails EncryptionKeyRequired before any snapshot is made", async (t) => {
    const b = await backUp(t, { encryption: { scheme: "age-v1", keyRef: "k/keys.txt" } });
    assert.notEqual(b.run.code, EXIT_CODES.SUCCESS, b.run.stdout + b.run.stderr);
    assert.equal(b.run.result?.ok, false);
    assert.equal(!b.run.result?.ok && b.run.result?.reason, "EncryptionKeyRequired");
    assert.deepEqual(await listKeys(b.s3, b.bucket), []);
    assert.deepEqual(await qdrant(b.q.url, "GET", `/collections/${b.collection}/snapshots`, undefined, b.q.apiKey), []);
  });
});
