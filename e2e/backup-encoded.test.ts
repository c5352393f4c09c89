/**
 * Backups through a location that compresses and encrypts (#15), end to end: the manager plans the Job
 * with the location's codec, hands it the age key file by secretKeyRef, and the Job's objects end in
 * .zst.age; the status says what the bucket holds; a missing key Secret, then one that is no age key
 * file, are conditions naming the field, with no Job until the Secret is right.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseManifest } from "../src/backup/layout/manifest.ts";
import { keyFile, newKey } from "../test/backup/codec-fixtures.ts";
import { objectBytes } from "../test/jobs/backup-harness.ts";
import { s3Client } from "../test/helpers/s3.ts";
import { eventually } from "../test/helpers/testenv.ts";
import { apply, backupObj, condition, getBackup, getJson, secret, waitForPhase, world, type Job } from "./helpers/backup-world.ts";

test("a location with zstd and age: Secret missing, then invalid, then right; the objects are .zst.age and the manifest records the codec", async (t) => {
  const key = await newKey();
  const w = await world(t, "e2e-backup-encoded", { locationSpec: { compression: { algorithm: "Zstd", level: 5 }, encryption: { keySecretRef: { name: "backup-age", key: "keys.txt" } } } });
  await apply(w.ns, [backupObj("enc", { collections: { names: [w.collection] } })]);

  const waitingWith = (reason: string) =>
    eventually(`the backup to wait with ${reason}`, async () => {
      const b = await getBackup(w.ns, "enc");
      return condition(b, "Ready")?.reason === reason ? b : undefined;
    });
  const missing = await waitingWith("SecretNotFound");
  assert.equal(missing.status?.phase, "Pending");
  assert.match(condition(missing, "Ready")!.message, /spec\.encryption\.keySecretRef/);
  assert.equal(await getJson(w.ns, "job", "backup-enc"), undefined, "no Job while the key Secret is missing");

  await apply(w.ns, [secret("backup-age", { "keys.txt": "not an age key\n" })]);
  const invalid = await waitingWith("InvalidEncryptionKey");
  assert.match(condition(invalid, "Ready")!.message, /spec\.encryption\.keySecretRef \(Secret backup-age, key keys\.txt\): line 1 is neither an age identity/);
  assert.equal(await getJson(w.ns, "job", "backup-enc"), undefined, "no Job while the key file is unusable");

  await apply(w.ns, [secret("backup-age", { "keys.txt": keyFile(key) })]);
  const b = await waitForPhase(w.ns, "enc", "Succeeded", 150_000);
  const job = (await getJson<Job>(w.ns, "job", "backup-enc"))!;
  const env = job.spec.template.spec.containers[0]!.env ?? [];
  assert.deepEqual(env.find((e) => e.name === "ENCRYPTION_KEYS")?.valueFrom, { secretKeyRef: { name: "backup-age", key: "keys.txt" } });
  assert.ok(!JSON.stringify(job).includes(key.identity), "the identity is nowhere in the Job");
  assert.ok(!JSON.stringify(b).includes(key.identity), "nor in the status");

  const col = b.status!.collections![0]!;
  const s3 = s3Client();
  t.after(() => s3.destroy());
  const parsed = parseManifest(await objectBytes(s3, w.bucket, col.manifestKey!), { key: col.manifestKey! });
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
  const file = parsed.manifest.peers[0]!.file;
  assert.match(file.key, /\.snapshot\.zst\.age$/);
  assert.deepEqual(file.compression, { algorithm: "zstd", level: 5 });
  assert.deepEqual(file.encryption, { scheme: "age-v1", keyRef: "backup-age/keys.txt", parameters: { recipients: [key.recipient] } });
  const object = await objectBytes(s3, w.bucket, file.key);
  assert.equal(file.stored?.size, object.length);
  assert.equal(b.status?.sizeBytes, object.length, "the status's size is what the bucket holds");
  assert.deepEqual(col.files?.[0] && { key: col.files[0].key, size: col.files[0].size, sha256: col.files[0].sha256 }, { key: file.key, size: file.size, sha256: file.sha256 }, "the status lists the snapshot's size and checksum");
});
