/**
 * A restore from a backup that was damaged in the bucket says which file is bad, and leaves no
 * half-restored collection behind:
 * - a manifest cut short, or with a byte changed, is ManifestUnreadable naming the manifest's key, for a
 *   restore by backupRef and for `latest` (which names each manifest it could not read, and why),
 *   before any Job: nothing on Qdrant changes;
 * - one peer's data file of a 3-peer backup changed in place (same size, so only its checksum can tell),
 *   restored by a Job streaming each file into its peer (method Upload): the files before it recover and
 *   create the collection, the bad one fails naming its key, and the Job deletes the collection it made,
 *   so the target does not exist on any peer afterwards.
 * The manager keeps running throughout (the secret scan and RBAC check read its whole log at the end).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { objectBytes } from "../test/jobs/backup-harness.ts";
import { qdrantUnderTest } from "../test/helpers/qdrant.ts";
import { s3Client } from "../test/helpers/s3.ts";
import { apply, world } from "./helpers/backup-world.ts";
import { backedUp, cleanupOnQdrant, collectionExists, restoreCondition, restoreJobs, restoreObj, waitForRefusal, waitForRestorePhase } from "./helpers/restore-world.ts";

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

test("a corrupt manifest: ManifestUnreadable naming its key, for backupRef and latest, no Job and nothing on Qdrant", async (t) => {
  const w = await world(t, "e2e-corrupt-manifest");
  const cut = await backedUp(w, "cut");
  const flipped = await backedUp(w, "flipped");
  const s3 = s3Client();
  t.after(() => s3.destroy());
  const text = (await objectBytes(s3, w.bucket, cut.manifestKey)).toString("utf8");
  await s3.send(new PutObjectCommand({ Bucket: w.bucket, Key: cut.manifestKey, Body: text.slice(0, Math.floor(text.length / 2)) }));
  const other = await objectBytes(s3, w.bucket, flipped.manifestKey);
  // A digit of the points count turned into a letter: still the same size, no longer a manifest.
  const at = other.indexOf(Buffer.from('"pointsCount": ')) + '"pointsCount": '.length;
  assert.ok(at > '"pointsCount": '.length, "the manifest has a points count");
  other[at] = "x".charCodeAt(0);
  await s3.send(new PutObjectCommand({ Bucket: w.bucket, Key: flipped.manifestKey, Body: other }));

  const targets = { cut: `${w.collection}_from_cut`, flipped: `${w.collection}_from_flipped`, latest: `${w.collection}_from_latest` };
  cleanupOnQdrant(t, w.qdrant.url, w.apiKey, Object.values(targets));
  await apply(w.ns, [
    restoreObj("r-cut", { backupRef: { name: "cut" } }, { target: { collection: targets.cut } }),
    restoreObj("r-flipped", { backupRef: { name: "flipped" } }, { target: { collection: targets.flipped } }),
    restoreObj("r-latest", { latest: { locationRef: { name: "s3" }, collection: w.collection } }, { target: { collection: targets.latest } }),
  ]);
  for (const [name, key] of [["r-cut", cut.manifestKey], ["r-flipped", flipped.manifestKey]] as const) {
    const r = await waitForRefusal(w.ns, name, "ManifestUnreadable");
    assert.match(restoreCondition(r, "Ready")!.message, new RegExp(`manifest ${escape(key)} is corrupt: `), `${name} names the manifest`);
  }
  // Both backups of the collection are unreadable: latest has nothing to restore, and says which it passed over and why.
  const latest = await waitForRefusal(w.ns, "r-latest", "ManifestUnreadable");
  const message = restoreCondition(latest, "Ready")!.message;
  for (const key of [cut.manifestKey, flipped.manifestKey]) assert.match(message, new RegExp(escape(key)), `latest names ${key}: ${message}`);
  assert.deepEqual(await restoreJobs(w.ns), [], "no Job for a backup whose manifest does not read");
  for (const c of Object.values(targets)) assert.equal(await collectionExists(w.qdrant.url, c, w.apiKey), false, `${c} was not created`);
});

test("one peer's file of a 3-peer backup changed in place: the Upload restore fails naming it, and no peer keeps the half-restored collection", async (t) => {
  const w = await world(t, "e2e-corrupt-file", { distributed: true });
  const b = await backedUp(w);
  assert.ok(b.files.length >= 2, `a file per peer: ${JSON.stringify(b.files)}`);
  // The last file in the plan's order, so the peers before it recover (and create the collection) first.
  const bad = b.files[b.files.length - 1]!;
  const s3 = s3Client();
  t.after(() => s3.destroy());
  const bytes = await objectBytes(s3, w.bucket, bad.key);
  const mid = Math.floor(bytes.length / 2);
  bytes[mid] = bytes[mid]! ^ 0xff;
  await s3.send(new PutObjectCommand({ Bucket: w.bucket, Key: bad.key, Body: bytes }));
  assert.equal(bytes.length, bad.size, "the size the manifest says: only the checksum tells");

  const target = `${w.collection}_from_bad_file`;
  const peers = qdrantUnderTest().peers.length > 0 ? qdrantUnderTest().peers : [w.qdrant.url];
  for (const url of peers) cleanupOnQdrant(t, url, w.apiKey, [target]);
  await apply(w.ns, [restoreObj("r-bad-file", { backupRef: { name: b.name } }, { target: { collection: target }, method: "Upload", job: { backoffLimit: 0 } })]);
  const r = await waitForRestorePhase(w.ns, "r-bad-file", "Failed", 180_000);
  const ready = restoreCondition(r, "Ready")!;
  assert.equal(ready.status, "False");
  assert.match(ready.message, new RegExp(escape(bad.key)), `the condition names the bad file: ${ready.reason}: ${ready.message}`);
  for (const url of peers) assert.equal(await collectionExists(url, target, w.apiKey), false, `${target} is gone from ${url}`);
});
