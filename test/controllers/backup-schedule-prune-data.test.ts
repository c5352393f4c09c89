/**
 * Pruning a backup's data in the real MinIO, through the deletion shared with deletionPolicy Delete:
 * manifest(s) first, then the other objects of the backup's directories (strays included), nothing of
 * its neighbours; a fault mid-way leaves an incomplete backup (no manifest), never a manifest without its
 * data; a repeat finishes the job. Which backup is derived from its metadata, never from its status.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { backupId } from "../../src/backup/layout/backup-id.ts";
import { backupPrefix, manifestKey, snapshotKey } from "../../src/backup/layout/object-keys.ts";
import { backupDataRef, deleteBackupData } from "../../src/controllers/backup/delete-data.ts";
import type { ScheduledBackupObject } from "../../src/controllers/backup-schedule/types.ts";
import { s3Client, useBucket } from "../helpers/s3.ts";

const PREFIX = "qdrant/prod";
const CREATED = "2026-01-15T02:00:05Z";

function backupWith(uid: string, collections: string[]): { backup: ScheduledBackupObject; keys: string[] } {
  const id = backupId(new Date(CREATED), uid);
  const base = { prefix: PREFIX, namespace: "prod", connection: "qdrant", backupId: id };
  const keys: string[] = [];
  const status = collections.map((collection) => {
    const manifest = manifestKey({ ...base, collection });
    keys.push(manifest, snapshotKey({ ...base, collection }, "1"), snapshotKey({ ...base, collection }, "2"));
    return { name: collection, manifestKey: manifest };
  });
  return {
    backup: {
      metadata: { name: `b-${uid.slice(0, 4)}`, namespace: "prod", uid, creationTimestamp: CREATED },
      spec: { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: collections } },
      status: { phase: "Succeeded", backupId: id, collections: status },
    },
    keys,
  };
}

async function listAll(s3: S3Client, bucket: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (out.Contents ?? []).map((o) => o.Key ?? "").sort();
}

test("prune deletes the manifests first, then the backup's objects, and nothing of its neighbours", async (t) => {
  const bucket = await useBucket(t);
  const s3 = s3Client();
  t.after(() => s3.destroy());
  const pruned = backupWith("aaaaaaaa-0000-4000-8000-000000000001", ["policies", "users"]);
  const kept = backupWith("bbbbbbbb-0000-4000-8000-000000000002", ["policies"]);
  for (const key of [...pruned.keys, ...kept.keys]) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `data of ${key}` }));
  // An object of the pruned backup's directory that no manifest lists (a leftover of a retried upload).
  const stray = `${backupPrefix({ prefix: PREFIX, namespace: "prod", connection: "qdrant", collection: "users", backupId: pruned.backup.status?.backupId ?? "" })}peer-9.snapshot`;
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: stray, Body: "x" }));
  const ref = backupDataRef(pruned.backup, PREFIX);

  // A fault at the second bulk delete (the snapshots): the manifests are already gone, the snapshots still
  // there — an incomplete backup, which no listing or restore takes for a complete one.
  let deletes = 0;
  const faulty = {
    send: (cmd: { constructor: { name: string } }) => {
      if (cmd.constructor.name === "DeleteObjectsCommand" && ++deletes === 2) return Promise.reject(new Error("injected fault"));
      return s3.send(cmd as never);
    },
  } as unknown as S3Client;
  await assert.rejects(deleteBackupData(faulty, bucket, ref), /injected fault/);
  const afterFault = await listAll(s3, bucket);
  for (const m of pruned.keys.filter((k) => k.endsWith("manifest.json"))) assert.ok(!afterFault.includes(m), `manifest ${m} deleted first`);
  assert.ok(afterFault.includes(stray));
  assert.equal(afterFault.length, kept.keys.length + 4 + 1);

  // The next reconcile repeats the prune: idempotent, and it finishes.
  const result = await deleteBackupData(s3, bucket, ref);
  assert.deepEqual([result.manifests, result.objects], [0, 5]);
  assert.deepEqual(await listAll(s3, bucket), [...kept.keys].sort());
  assert.deepEqual(await deleteBackupData(s3, bucket, ref), { manifests: 0, objects: 0, abortedUploads: 0 });
});

test("which backup's data is derived from metadata, never from a status that names another backup", () => {
  const { backup } = backupWith("aaaaaaaa-0000-4000-8000-000000000001", ["policies"]);
  const other = backupWith("cccccccc-0000-4000-8000-000000000003", ["policies"]);
  const tampered: ScheduledBackupObject = { ...backup, status: other.backup.status! };
  assert.deepEqual(backupDataRef(tampered, PREFIX), { prefix: PREFIX, namespace: "prod", connection: "qdrant", backupId: backup.status?.backupId });
  assert.equal(backupDataRef(backup, undefined).prefix, undefined);
});
