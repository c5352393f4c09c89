/**
 * deleteBackupData on an Object Lock location (versioned), against an in-memory versioned bucket: every
 * version and delete marker goes, manifest versions first; a backup any version of which is retained
 * (S3's retention, or the status's retainUntil) is not touched and is BackupLocked with the latest date;
 * a WORM refusal mid-way is BackupLocked too, and an AccessDenied on an unretained version stays a
 * permission error. The real MinIO: object-lock-minio.test.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { S3Client } from "@aws-sdk/client-s3";
import { deleteBackupData } from "../../../src/controllers/backup/delete-data.ts";
import { sweepFailedBackup } from "../../../src/controllers/backup/sweep.ts";
import type { QdrantApi } from "../../../src/qdrant/client.ts";
import { isBackupLocked, isOperatorError } from "../../../src/errors.ts";

const ID = "20260115T020004Z-4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d";
const BASE = "q/prod/qdrant/";
const DIR = `${BASE}_collections/policies/${ID}/`;
const NOW = new Date("2026-12-02T12:00:00Z");

interface V {
  key: string;
  id: string;
  marker?: boolean;
  until?: Date;
}

function versionedBucket(versions: V[], opts: { refuse?: (v: V) => { Code: string; Message: string } | undefined } = {}) {
  const live = [...versions];
  const calls: string[] = [];
  const client = {
    send(cmd: { constructor: { name: string }; input: Record<string, unknown> }) {
      const input = cmd.input;
      const name = cmd.constructor.name;
      if (name === "ListObjectVersionsCommand") {
        const prefix = input.Prefix as string;
        const matching = live.filter((v) => v.key.startsWith(prefix));
        if (input.Delimiter) {
          const common = [...new Set(matching.map((v) => prefix + v.key.slice(prefix.length).split("/")[0] + "/"))];
          return Promise.resolve({ CommonPrefixes: common.map((Prefix) => ({ Prefix })), IsTruncated: false });
        }
        return Promise.resolve({
          Versions: matching.filter((v) => !v.marker).map((v) => ({ Key: v.key, VersionId: v.id })),
          DeleteMarkers: matching.filter((v) => v.marker).map((v) => ({ Key: v.key, VersionId: v.id })),
          IsTruncated: false,
        });
      }
      if (name === "GetObjectRetentionCommand") {
        const v = live.find((x) => x.key === input.Key && x.id === input.VersionId);
        return Promise.resolve({ Retention: v?.until ? { Mode: "GOVERNANCE", RetainUntilDate: v.until } : undefined });
      }
      if (name === "DeleteObjectsCommand") {
        const batch = (input.Delete as { Objects: Array<{ Key: string; VersionId: string }> }).Objects;
        calls.push(`delete ${batch.map((o) => `${o.Key.slice(DIR.length)}@${o.VersionId}`).join(",")}`);
        const errors = [];
        for (const o of batch) {
          const i = live.findIndex((x) => x.key === o.Key && x.id === o.VersionId);
          const refusal = i >= 0 ? opts.refuse?.(live[i]!) : undefined;
          if (refusal) errors.push({ Key: o.Key, VersionId: o.VersionId, ...refusal });
          else if (i >= 0) live.splice(i, 1);
        }
        return Promise.resolve({ Errors: errors });
      }
      if (name === "ListObjectsV2Command") {
        const prefix = input.Prefix as string;
        const keys = [...new Set(live.filter((v) => !v.marker && v.key.startsWith(prefix)).map((v) => v.key))];
        if (input.Delimiter) throw new Error("a versioned deletion lists directories by version");
        return Promise.resolve({ Contents: keys.map((Key) => ({ Key })), IsTruncated: false });
      }
      if (name === "ListMultipartUploadsCommand") return Promise.resolve({ Uploads: [], IsTruncated: false });
      throw new Error(`unexpected ${name}`);
    },
  };
  return { client: client as unknown as S3Client, live, calls };
}

const ref = { prefix: "q", namespace: "prod", connection: "qdrant", backupId: ID };
const objects = (until?: Date): V[] => [
  { key: `${DIR}manifest.json`, id: "m2", ...(until ? { until } : {}) },
  { key: `${DIR}manifest.json`, id: "m1", ...(until ? { until } : {}) },
  { key: `${DIR}peer-1.snapshot`, id: "s1", ...(until ? { until } : {}) },
  { key: `${DIR}peer-1.snapshot`, id: "dm", marker: true },
];

test("unlocked: every version and delete marker goes, the manifest's versions first", async () => {
  const { client, live, calls } = versionedBucket([...objects(new Date(NOW.getTime() - 1000)), { key: `${BASE}_collections/policies/other/manifest.json`, id: "x" }]);
  const out = await deleteBackupData(client, "b", ref, { now: NOW, knownUntil: "2026-12-01T00:00:00Z" });
  assert.deepEqual(calls, ["delete manifest.json@m2,manifest.json@m1", "delete peer-1.snapshot@s1,peer-1.snapshot@dm"]);
  assert.deepEqual(live.map((v) => v.id), ["x"]);
  assert.deepEqual(out, { manifests: 2, objects: 2, abortedUploads: 0 });
});

test("retained by S3 (someone extended it past the status): nothing is deleted, Locked until S3's date", async () => {
  const s3Date = new Date("2027-01-01T00:00:00Z");
  const { client, live, calls } = versionedBucket(objects(s3Date));
  await assert.rejects(deleteBackupData(client, "b", ref, { now: NOW, knownUntil: "2026-12-09T00:00:00Z" }), (err) => {
    assert.ok(isBackupLocked(err));
    assert.equal(err.reason, "Locked");
    assert.equal(err.retainUntil?.toISOString(), s3Date.toISOString());
    assert.match(err.message, /^Locked until 2027-01-01T00:00:00Z: /);
    return true;
  });
  assert.deepEqual(calls, []);
  assert.equal(live.length, 4);
});

test("retained by the status alone (S3 says nothing): nothing is deleted, Locked until the status's date", async () => {
  const { client, calls } = versionedBucket(objects());
  await assert.rejects(deleteBackupData(client, "b", ref, { now: NOW, knownUntil: "2026-12-09T00:00:00Z" }), (err) => isBackupLocked(err) && err.message.startsWith("Locked until 2026-12-09T00:00:00Z"));
  assert.deepEqual(calls, []);
});

test("a WORM refusal mid-way (MinIO's InvalidRequest) is BackupLocked; AccessDenied on an unretained version is the policy's", async () => {
  const worm = versionedBucket(objects(), { refuse: (v) => (v.id === "s1" ? { Code: "InvalidRequest", Message: "Object is WORM protected and cannot be overwritten" } : undefined) });
  await assert.rejects(deleteBackupData(worm.client, "b", ref, { now: NOW }), (err) => isBackupLocked(err));
  assert.equal(worm.calls[0], "delete manifest.json@m2,manifest.json@m1", "the manifests went first");
  const denied = versionedBucket(objects(), { refuse: (v) => (v.id === "s1" ? { Code: "AccessDenied", Message: "Access Denied." } : undefined) });
  await assert.rejects(deleteBackupData(denied.client, "b", ref, { now: NOW }), (err) => isOperatorError(err, "S3_ACCESS_DENIED") && !isBackupLocked(err));
});

test("the sweep of a failed run: an incomplete directory S3 retains is left whole and counted; an unretained one goes by version", async () => {
  const qdrant = {} as QdrantApi; // no pending markers: Qdrant is not asked
  const until = new Date("2026-12-09T00:00:00Z");
  const kept = versionedBucket([{ key: `${DIR}peer-1.snapshot`, id: "s1", until }, { key: `${DIR}peer-1.snapshot`, id: "dm", marker: true }, { key: `${DIR}peer-2.snapshot`, id: "s2", until }]);
  const out = await sweepFailedBackup(kept.client, "b", ref, qdrant, [], { versioned: { now: NOW } });
  assert.deepEqual(kept.calls, []);
  assert.equal(out.incompleteObjects, 0);
  assert.equal(out.lockedObjects, 3);
  assert.equal(out.lockedUntil?.toISOString(), until.toISOString());
  const gone = versionedBucket([{ key: `${DIR}peer-1.snapshot`, id: "s1" }, { key: `${DIR}peer-1.snapshot`, id: "dm", marker: true }]);
  const swept = await sweepFailedBackup(gone.client, "b", ref, qdrant, [], { versioned: { now: NOW } });
  assert.deepEqual(gone.calls, ["delete peer-1.snapshot@s1,peer-1.snapshot@dm"]);
  assert.equal(swept.incompleteObjects, 1);
  assert.equal(gone.live.length, 0);
});
