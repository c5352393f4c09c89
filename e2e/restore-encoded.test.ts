/**
 * Restores of compressed and encrypted backups end to end (#15): backups through a zstd+age location,
 * the key rotated between them (the new identity first, the old one beside it), each restored by Auto,
 * which is Upload for them; an explicit Pull is refused saying why; a key file that opens neither fails
 * "cannot decrypt: wrong identity" and the target is never created.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseManifest } from "../src/backup/layout/manifest.ts";
import { keyFile, newKey } from "../test/backup/codec-fixtures.ts";
import { objectBytes } from "../test/jobs/backup-harness.ts";
import { s3Client } from "../test/helpers/s3.ts";
import { allPoints, apply, secret, world } from "./helpers/backup-world.ts";
import { backedUp, cleanupOnQdrant, collectionExists, jobPlan, restoreCondition, restoreJobs, restoreObj, waitForRestore, waitForRestorePhase } from "./helpers/restore-world.ts";

test("zstd+age backups across a key rotation restore by Auto (Upload); Pull is refused; a wrong key changes nothing", async (t) => {
  const [first, second, stranger] = [await newKey(), await newKey(), await newKey()];
  const w = await world(t, "e2e-restore-encoded", { locationSpec: { compression: { algorithm: "Zstd" }, encryption: { keySecretRef: { name: "backup-age", key: "keys.txt" } } } });
  await apply(w.ns, [secret("backup-age", { "keys.txt": keyFile(first) })]);
  const original = await allPoints(w.qdrant.url, w.collection, w.apiKey);
  const old = await backedUp(w, "old");

  // Rotation: the new identity first (new backups are encrypted to it), the old one after it.
  await apply(w.ns, [secret("backup-age", { "keys.txt": keyFile(second, first) })]);
  const fresh = await backedUp(w, "new");
  const s3 = s3Client();
  t.after(() => s3.destroy());
  const recipients = async (manifestKey: string) => {
    const parsed = parseManifest(await objectBytes(s3, w.bucket, manifestKey), { key: manifestKey });
    assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
    return parsed.manifest.peers[0]!.file.encryption?.parameters?.recipients;
  };
  assert.deepEqual(await recipients(old.manifestKey), [first.recipient]);
  assert.deepEqual(await recipients(fresh.manifestKey), [second.recipient]);

  const targets = { old: `${w.collection}_old`, new: `${w.collection}_new`, pull: `${w.collection}_pull`, wrong: `${w.collection}_wrong` };
  cleanupOnQdrant(t, w.qdrant.url, w.apiKey, Object.values(targets));
  await apply(w.ns, [
    restoreObj("r-old", { backupRef: { name: "old" } }, { target: { collection: targets.old } }),
    restoreObj("r-new", { backupRef: { name: "new" } }, { target: { collection: targets.new } }),
    restoreObj("r-pull", { backupRef: { name: "new" } }, { method: "Pull", target: { collection: targets.pull } }),
  ]);
  for (const [name, target] of [["r-old", targets.old], ["r-new", targets.new]] as const) {
    const r = await waitForRestorePhase(w.ns, name, "Succeeded", 180_000);
    assert.deepEqual(r.status?.pointsCount, { expected: 20, actual: 20 }, name);
    assert.deepEqual(await allPoints(w.qdrant.url, target, w.apiKey), original, `${name}: identical points`);
  }
  const jobs = await restoreJobs(w.ns);
  for (const name of ["restore-r-old-1", "restore-r-new-1"]) {
    const job = jobs.find((j) => j.metadata.name === name);
    assert.ok(job, name);
    assert.equal(jobPlan(job).method, "Upload", `${name}: Auto is Upload for an encoded backup`);
    const text = JSON.stringify(job);
    assert.ok(!text.includes(first.identity) && !text.includes(second.identity), `${name}: no identity in the Job`);
  }

  const pull = await waitForRestore(w.ns, "r-pull", "Pull refused", (r) => [restoreCondition(r, "Ready")?.reason, restoreCondition(r, "Failed")?.reason].includes("MethodNotPossible"));
  const said = restoreCondition(pull, "Failed")?.message ?? restoreCondition(pull, "Ready")?.message ?? "";
  assert.match(said, /cannot decompress or decrypt/);
  assert.ok(!(await restoreJobs(w.ns)).some((j) => j.metadata.name.startsWith("restore-r-pull")), "no Job for a Pull that cannot work");
  assert.equal(await collectionExists(w.qdrant.url, targets.pull, w.apiKey), false);

  // A key file that opens neither backup: the Job says so before it creates anything.
  await apply(w.ns, [secret("backup-age", { "keys.txt": keyFile(stranger) }), restoreObj("r-wrong", { backupRef: { name: "old" } }, { target: { collection: targets.wrong } })]);
  const wrong = await waitForRestorePhase(w.ns, "r-wrong", "Failed", 180_000);
  assert.equal(restoreCondition(wrong, "Failed")?.reason, "WrongEncryptionKey");
  assert.match(restoreCondition(wrong, "Failed")!.message, /cannot decrypt: wrong identity/);
  assert.equal(await collectionExists(w.qdrant.url, targets.wrong, w.apiKey), false, "the target was never created");
  assert.ok(!JSON.stringify(wrong).includes(stranger.identity));
});
