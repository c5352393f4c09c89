/**
 * Two behaviours of the QdrantBackup controller around the Job, end to end:
 * - backups of one QdrantConnection run one at a time: two created together (two schedules on the same
 *   cron) would otherwise take snapshots of one collection in the same second, which Qdrant gives the
 *   same file name;
 * - once a backup's Job has failed for good, the manager sweeps what a killed run of it left: the
 *   snapshot its pending marker names on Qdrant and its open multipart upload.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import { API_VERSION } from "../src/api/group.ts";
import { backupId } from "../src/backup/layout/backup-id.ts";
import { groupListing } from "../src/backup/layout/listing.ts";
import { backupPrefix, snapshotKey } from "../src/backup/layout/object-keys.ts";
import { writeMarker } from "../src/backup/store/pending-markers.ts";
import { kubectl } from "../test/helpers/kubectl.ts";
import { qdrantApi } from "../test/helpers/qdrant.ts";
import { s3Client } from "../test/helpers/s3.ts";
import { eventually, testEnv } from "../test/helpers/testenv.ts";
import { listKeys } from "../test/jobs/backup-harness.ts";
import { apply, backupObj, condition, getBackup, getJson, waitForPhase, world } from "./helpers/backup-world.ts";

interface JobTimes {
  status?: { startTime?: string; completionTime?: string };
}

async function events(ns: string, name: string): Promise<Array<{ type: string; reason: string; note: string }>> {
  const out = (await kubectl(["get", "events.events.k8s.io", "-n", ns, "--field-selector", `regarding.name=${name}`, "-o", "json"])).stdout;
  return (JSON.parse(out) as { items: Array<{ type: string; reason: string; note: string }> }).items;
}

test("two backups of one collection created together run one after the other, and both succeed", async (t) => {
  const w = await world(t, "e2e-backup-turns");
  const collections = { names: [w.collection] };
  await apply(w.ns, [backupObj("first", { collections }), backupObj("second", { collections })]);
  const [a, b] = await Promise.all([waitForPhase(w.ns, "first", "Succeeded"), waitForPhase(w.ns, "second", "Succeeded")]);
  assert.equal(a.status?.collections?.[0]?.pointsCount, 20);
  assert.equal(b.status?.collections?.[0]?.pointsCount, 20);
  // Created in the same second, so the name decides: "first" went first, "second" waited for it.
  const [jobA, jobB] = await Promise.all([getJson<JobTimes>(w.ns, "job", "backup-first"), getJson<JobTimes>(w.ns, "job", "backup-second")]);
  assert.ok(jobA?.status?.completionTime && jobB?.status?.startTime, "both Jobs ran");
  assert.ok(Date.parse(jobA.status.completionTime) <= Date.parse(jobB.status.startTime), `Job of second started ${jobB.status.startTime}, after first's ended ${jobA.status.completionTime}`);
  // The bucket alone tells the two backups apart, in time order, both complete.
  const s3 = s3Client();
  t.after(() => s3.destroy());
  const listing = groupListing(await listKeys(s3, w.bucket), "qdrant/e2e");
  assert.deepEqual(listing.complete.map((l) => [l.collection, l.backupId]), [a, b].map((x) => [w.collection, x.status?.backupId]).sort((x, y) => String(x[1]).localeCompare(String(y[1]))));
  assert.deepEqual([listing.incomplete, listing.foreign], [[], []]);
  const waited = (await events(w.ns, "second")).find((e) => e.reason === "WaitingForBackup");
  assert.equal(waited?.type, "Normal");
  assert.match(waited.note, /QdrantBackup first of the same QdrantConnection qdrant (is running|is ahead in line); one backup per Qdrant runs at a time/);
});

test("after a failed Job, the snapshot and the upload a killed run left are swept, and CleanedUp says so", async (t) => {
  const w = await world(t, "e2e-backup-sweep");
  // A backup that waits (its location does not exist yet) and will fail for good once it runs.
  await apply(w.ns, [backupObj("leftover", { locationRef: { name: "late" }, collections: { names: ["nope"] } })]);
  const pending = await eventually("leftover waits for its location", async () => {
    const b = await getBackup(w.ns, "leftover");
    return condition(b, "Ready")?.reason === "ReferenceNotFound" ? b : undefined;
  });

  // What a run of this backup killed mid-upload would have left: a snapshot on the peer, named by a
  // pending marker, and an open multipart upload of its object.
  const id = backupId(new Date(pending.metadata.creationTimestamp), pending.metadata.uid);
  const peerId = await qdrantApi(w.qdrant.url).peerId();
  const parts = { prefix: "qdrant/e2e", namespace: w.ns, connection: "qdrant", collection: w.collection, backupId: id };
  const res = await fetch(`${w.qdrant.url}/collections/${w.collection}/snapshots?wait=true`, { method: "POST", headers: { "api-key": w.apiKey } });
  assert.equal(res.status, 200);
  const snapshot = ((await res.json()) as { result: { name: string } }).result.name;
  const s3 = s3Client();
  t.after(() => s3.destroy());
  await writeMarker(s3, w.bucket, backupPrefix(parts), { peerId, peerUrl: w.qdrant.url, collection: w.collection, snapshot });
  await s3.send(new CreateMultipartUploadCommand({ Bucket: w.bucket, Key: snapshotKey(parts, peerId) }));

  // The location appears: the backup runs, fails (no collection "nope"), and is swept.
  await apply(w.ns, [
    {
      apiVersion: API_VERSION,
      kind: "QdrantBackupLocation",
      metadata: { name: "late" },
      spec: { s3: { bucket: w.bucket, prefix: "qdrant/e2e", endpoint: testEnv().s3.endpoint, region: testEnv().s3.region, forcePathStyle: true, credentials: { secretRef: { name: "s3-creds" } } } },
    },
  ]);
  const failed = await waitForPhase(w.ns, "leftover", "Failed");
  assert.equal(failed.status?.failure?.reason, "CollectionNotFound");
  const swept = await eventually("CleanedUp", async () => {
    const b = await getBackup(w.ns, "leftover");
    return condition(b, "CleanedUp")?.status === "True" ? b : undefined;
  });
  const cleaned = condition(swept, "CleanedUp")!;
  assert.equal(cleaned.reason, "LeftoversDeleted");
  assert.equal(cleaned.message, "Deleted 1 snapshot a killed run left on Qdrant, aborted 1 unfinished upload.");
  assert.ok((await events(w.ns, "leftover")).some((e) => e.reason === "CleanedUp" && e.note === cleaned.message));

  const list = await fetch(`${w.qdrant.url}/collections/${w.collection}/snapshots`, { headers: { "api-key": w.apiKey } });
  assert.deepEqual(((await list.json()) as { result: unknown[] }).result, [], "no snapshot left on Qdrant");
  assert.deepEqual(await listKeys(s3, w.bucket), [], "no marker, no object");
  const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: w.bucket, Prefix: snapshotKey(parts, peerId) }));
  assert.deepEqual(uploads.Uploads ?? [], [], "no open upload");
});
