import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { S3Client } from "@aws-sdk/client-s3";
import { deleteBackupData } from "../../../src/controllers/backup/delete-data.ts";
import { isOperatorError } from "../../../src/errors.ts";

const ID = "20260115T020004Z-4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d";
const OTHER = "20260116T020004Z-00000000-0000-4000-8000-000000000000";
const BASE = "q/prod/qdrant/";

/** An in-memory bucket that records the order of every S3 call (enough of S3 for delete-data.ts). */
function fakeBucket(keys: string[], uploads: Array<{ Key: string; UploadId: string }> = [], opts: { failDeleteOf?: string } = {}) {
  const objects = new Set(keys);
  const calls: string[] = [];
  const client = {
    send(cmd: { constructor: { name: string }; input: Record<string, unknown> }) {
      const input = cmd.input;
      const name = cmd.constructor.name;
      if (name === "ListObjectsV2Command") {
        const prefix = input.Prefix as string;
        const matching = [...objects].filter((k) => k.startsWith(prefix)).sort();
        calls.push(`list ${prefix}${input.Delimiter ? " /" : ""}`);
        if (input.Delimiter) {
          const common = [...new Set(matching.map((k) => prefix + k.slice(prefix.length).split("/")[0] + "/"))];
          return Promise.resolve({ CommonPrefixes: common.map((Prefix) => ({ Prefix })), IsTruncated: false });
        }
        return Promise.resolve({ Contents: matching.map((Key) => ({ Key })), IsTruncated: false });
      }
      if (name === "DeleteObjectsCommand") {
        const batch = (input.Delete as { Objects: Array<{ Key: string }> }).Objects.map((o) => o.Key);
        calls.push(`delete ${batch.join(",")}`);
        const errors = batch.filter((k) => k === opts.failDeleteOf).map((Key) => ({ Key, Code: "AccessDenied", Message: "Access Denied." }));
        for (const k of batch) if (k !== opts.failDeleteOf) objects.delete(k);
        return Promise.resolve({ Errors: errors });
      }
      if (name === "ListMultipartUploadsCommand") {
        return Promise.resolve({ Uploads: uploads.filter((u) => u.Key.startsWith(input.Prefix as string)), IsTruncated: false });
      }
      if (name === "AbortMultipartUploadCommand") {
        calls.push(`abort ${input.Key as string}`);
        return Promise.resolve({});
      }
      throw new Error(`unexpected ${name}`);
    },
  };
  return { client: client as unknown as S3Client, objects, calls };
}

describe("deleteBackupData", () => {
  test("deletes every manifest of the backup before any other object, and leaves other backups alone", async () => {
    const ours = [
      `${BASE}_collections/policies/${ID}/manifest.json`,
      `${BASE}_collections/policies/${ID}/peer-1.snapshot`,
      `${BASE}_collections/policies/${ID}/peer-2.snapshot`,
      `${BASE}_collections/users/${ID}/manifest.json`,
      `${BASE}_collections/users/${ID}/peer-1.snapshot`,
      `${BASE}_storage/${ID}/peer-1.snapshot`,
    ];
    const theirs = [`${BASE}_collections/policies/${OTHER}/manifest.json`, `${BASE}_collections/policies/${OTHER}/peer-1.snapshot`, `q/prod/other-conn/_collections/policies/${ID}/manifest.json`];
    const { client, objects, calls } = fakeBucket([...ours, ...theirs], [{ Key: `${BASE}_collections/users/${ID}/peer-2.snapshot`, UploadId: "u1" }]);
    const deleted = await deleteBackupData(client, "b", { prefix: "q", namespace: "prod", connection: "qdrant", backupId: ID });
    assert.deepEqual(deleted, { manifests: 2, objects: 4, abortedUploads: 1 });
    assert.deepEqual([...objects].sort(), [...theirs].sort());
    const deletes = calls.filter((c) => c.startsWith("delete "));
    assert.deepEqual(deletes, [
      `delete ${BASE}_collections/policies/${ID}/manifest.json,${BASE}_collections/users/${ID}/manifest.json`,
      `delete ${BASE}_storage/${ID}/peer-1.snapshot,${BASE}_collections/policies/${ID}/peer-1.snapshot,${BASE}_collections/policies/${ID}/peer-2.snapshot,${BASE}_collections/users/${ID}/peer-1.snapshot`,
    ]);
    const abort = calls.indexOf(`abort ${BASE}_collections/users/${ID}/peer-2.snapshot`);
    assert.ok(abort > calls.indexOf(deletes[0]!) && abort < calls.indexOf(deletes[1]!), "open uploads are aborted after the manifests, before the markers that name them");
  });

  test("is idempotent: nothing left means nothing to do", async () => {
    const { client, calls } = fakeBucket([`${BASE}_collections/policies/${OTHER}/manifest.json`]);
    assert.deepEqual(await deleteBackupData(client, "b", { prefix: "q", namespace: "prod", connection: "qdrant", backupId: ID }), { manifests: 0, objects: 0, abortedUploads: 0 });
    assert.equal(calls.filter((c) => c.startsWith("delete")).length, 0);
  });

  test("a manifest that cannot be deleted stops before the snapshots are touched", async () => {
    const manifest = `${BASE}_collections/policies/${ID}/manifest.json`;
    const snapshot = `${BASE}_collections/policies/${ID}/peer-1.snapshot`;
    const { client, objects } = fakeBucket([manifest, snapshot], [], { failDeleteOf: manifest });
    await assert.rejects(deleteBackupData(client, "b", { prefix: "q", namespace: "prod", connection: "qdrant", backupId: ID }), (err) => isOperatorError(err, "S3_ACCESS_DENIED") && /1 of 1 keys not deleted/.test(err.message));
    assert.ok(objects.has(snapshot), "the snapshot is still there: the backup stays whole rather than half-deleted behind a manifest");
  });

  test("refuses something that is not a backup id", async () => {
    const { client } = fakeBucket([]);
    await assert.rejects(deleteBackupData(client, "b", { namespace: "prod", connection: "qdrant", backupId: "*" }), RangeError);
  });
});
