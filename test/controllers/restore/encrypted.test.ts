/**
 * The QdrantRestore controller, in the real manager against the real apiserver and MinIO, with a backup
 * whose object is compressed and encrypted (#15). The backup Job does not write such backups yet, so the
 * test encodes b1's snapshot beside it (encodeSnapshot, as the backup Job will) and rewrites its manifest
 * to list it. What the controller must do before any Job: refuse an explicit Pull (MethodNotPossible,
 * terminal, no Job, nothing on Qdrant), wait with EncryptionKeyRequired naming the location's field while
 * the location names no key, and once it does, give the Job the key file by secretKeyRef only: its text
 * is in neither the Job, the status nor the Events.
 *
 * Not here: the Job's own restore of such objects (test/jobs/restore-encoded.test.ts); Jobs in this
 * environment run the node agent's checkout of the operator, so only the Job's spec is checked.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { API_VERSION } from "../../../src/api/group.ts";
import { parseAgeKeys } from "../../../src/backup/codec/age-keys.ts";
import { encodeSnapshot } from "../../../src/backup/codec/encode.ts";
import { parseManifest, serializeManifest } from "../../../src/backup/layout/manifest.ts";
import { chunksOf, collect, keyFile, newKey } from "../../backup/codec-fixtures.ts";
import { kubectl } from "../../helpers/kubectl.ts";
import { s3Client } from "../../helpers/s3.ts";
import { listKeys, objectBytes } from "../../jobs/backup-harness.ts";
import { apply, condition, events, getObj, LOCATION_PREFIX, restoreWorld, waitFor } from "./restore-world.ts";

test("an encrypted, compressed backup: Pull refused, EncryptionKeyRequired until the location names its key, then a Job given the key by secretKeyRef only", async (t) => {
  const w = await restoreWorld(t, "restore-encrypted");
  const s3 = s3Client();
  t.after(() => s3.destroy());
  const key = await newKey();
  const keys = keyFile(key);

  // b1 made encrypted: each snapshot encoded beside it, the manifest listing the encoded objects.
  const manifestKey = (await listKeys(s3, w.bucket, LOCATION_PREFIX)).find((k) => k.includes(w.backupId) && k.endsWith("/manifest.json"));
  assert.ok(manifestKey, "b1's manifest");
  const parsed = parseManifest(await objectBytes(s3, w.bucket, manifestKey), { key: manifestKey });
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
  const manifest = parsed.manifest;
  for (const p of manifest.peers) {
    const stored = await collect(encodeSnapshot(chunksOf(await objectBytes(s3, w.bucket, p.file.key)), { compression: { algorithm: "zstd", level: 3 }, encryption: { keys: parseAgeKeys(keys, "test") } }));
    const objectKey = `${p.file.key}.zst.age`;
    await s3.send(new PutObjectCommand({ Bucket: w.bucket, Key: objectKey, Body: stored }));
    p.file = { ...p.file, key: objectKey, compression: { algorithm: "zstd", level: 3 }, encryption: { scheme: "age-v1", keyRef: "age-key/keys.txt" }, stored: { size: stored.length, sha256: createHash("sha256").update(stored).digest("hex") } };
  }
  await s3.send(new PutObjectCommand({ Bucket: w.bucket, Key: manifestKey, Body: serializeManifest(manifest, manifestKey) }));

  const restore = (name: string, collection: string, method?: "Pull") => ({
    apiVersion: API_VERSION,
    kind: "QdrantRestore",
    metadata: { name },
    spec: { source: { location: { locationRef: { name: "s3" }, backupId: w.backupId } }, target: { connectionRef: { name: "qdrant" }, collection }, ...(method ? { method } : {}) },
  });
  const pulled = `${w.collection}_pull`;
  const restored = `${w.collection}_encrypted`;
  t.after(async () => {
    await w.api.deleteCollection(pulled).catch(() => undefined);
    await w.api.deleteCollection(restored).catch(() => undefined);
  });

  // An explicit Pull: terminal, said why (not a wait for the key it could not use), no Job, nothing on Qdrant.
  await apply(w.ns, [restore("pull", pulled, "Pull")]);
  const refused = await waitFor(w.ns, "qdrantrestore", "pull", "Failed", (o) => o.status?.phase === "Failed", 60_000);
  const failed = condition(refused, "Failed");
  assert.deepEqual([failed?.status, failed?.reason], ["True", "MethodNotPossible"]);
  assert.match(failed?.message ?? "", /^spec\.method: Pull cannot restore backup \S+: its objects are compressed and encrypted \(.*\.snapshot\.zst\.age\), and Qdrant cannot decompress or decrypt a snapshot it recovers from a URL; .*use Upload or Auto/);
  assert.equal(refused.status?.jobName, undefined, "no Job");
  assert.equal(await w.api.collectionExists(pulled), false);

  // Auto, from a location that names no key: waits, naming the field.
  await apply(w.ns, [restore("auto", restored)]);
  const waiting = await waitFor(w.ns, "qdrantrestore", "auto", "EncryptionKeyRequired", (o) => condition(o, "Ready")?.reason === "EncryptionKeyRequired", 60_000);
  assert.equal(waiting.status?.phase, "Pending");
  assert.match(condition(waiting, "Ready")?.message ?? "", /^QdrantBackupLocation s3 spec\.encryption\.keySecretRef: backup \S+ is encrypted \(age\) and the location names no key file/);
  assert.equal(waiting.status?.jobName, undefined, "no Job");

  // The key Secret, then the location naming it (which wakes the restore): its Job, by Upload, with the key by reference.
  await apply(w.ns, [{ apiVersion: "v1", kind: "Secret", metadata: { name: "age-key" }, stringData: { "keys.txt": keys } }]);
  await kubectl(["patch", "-n", w.ns, "qdrantbackuplocation", "s3", "--type", "merge", "-p", JSON.stringify({ spec: { encryption: { keySecretRef: { name: "age-key", key: "keys.txt" } } } })]);
  const started = await waitFor(w.ns, "qdrantrestore", "auto", "its Job", (o) => o.status?.jobName !== undefined, 90_000);
  const jobText = (await kubectl(["get", "-n", w.ns, "job", started.status!.jobName!, "-o", "json"])).stdout;
  const job = JSON.parse(jobText) as { spec: { template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string; valueFrom?: unknown }> }> } } } };
  const env = job.spec.template.spec.containers[0]!.env;
  assert.deepEqual(env.find((e) => e.name === "ENCRYPTION_KEYS"), { name: "ENCRYPTION_KEYS", valueFrom: { secretKeyRef: { name: "age-key", key: "keys.txt" } } });
  const plan = JSON.parse(env.find((e) => e.name === "RESTORE_PLAN")!.value!) as { method: string; files: Array<{ key: string; encryption?: unknown }> };
  assert.equal(plan.method, "Upload");
  assert.ok(plan.files.every((f) => f.key.endsWith(".snapshot.zst.age") && f.encryption !== undefined), JSON.stringify(plan.files));
  for (const [what, text] of [["the Job", jobText], ["the status", JSON.stringify(await getObj(w.ns, "qdrantrestore", "auto"))], ["the Events", await events(w.ns, "auto")]] as const) {
    assert.ok(!text.includes(key.identity) && !text.includes(key.identity.slice(20, 50)), `the identity is in ${what}`);
  }
});
