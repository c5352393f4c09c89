/**
 * `job backup` to a location with S3 Object Lock (#15), on a lock-enabled MinIO bucket: every object of
 * the backup, the manifest included, is written with the plan's mode and a retain-until date of the
 * Job's start plus retainDays, which the manifest and the result record; S3 then refuses to delete it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DeleteObjectCommand, GetObjectRetentionCommand, ListObjectVersionsCommand } from "@aws-sdk/client-s3";
import { parseManifest } from "../../src/backup/layout/manifest.ts";
import { manifestKey } from "../../src/backup/layout/object-keys.ts";
import type { BackupJobPlan } from "../../src/jobs/backup/contract.ts";
import { EXIT_CODES } from "../../src/jobs/protocol/exit-codes.ts";
import { qdrantUnderTest, useCollection } from "../helpers/qdrant.ts";
import { s3Client, useLockBucket } from "../helpers/s3.ts";
import { makePlan, objectBytes, runJob } from "./backup-harness.ts";

const DAY_MS = 86_400_000;

test("every object of a locked backup, manifest included, is retained until the Job's start plus retainDays, and S3 refuses its deletion", async (t) => {
  const q = qdrantUnderTest();
  const collection = await useCollection(t, "docs", { points: 50 });
  const bucket = await useLockBucket(t);
  const plan: BackupJobPlan = {
    ...makePlan(q.url, bucket, { collections: { names: [collection] }, discovery: { mode: "None" } }),
    encoding: { compression: { algorithm: "zstd", level: 3 } },
    objectLock: { mode: "Governance", retainDays: 2 },
  };
  const before = Date.now();
  const run = await runJob(plan, q.apiKey ? { apiKey: q.apiKey } : {});
  assert.equal(run.code, EXIT_CODES.SUCCESS, run.stdout + run.stderr);
  assert.ok(run.result?.ok);
  const lock = run.result.objectLock!;
  assert.equal(lock.mode, "Governance");
  const until = Date.parse(lock.retainUntil);
  assert.ok(until >= before + 2 * DAY_MS && until <= Date.now() + 2 * DAY_MS + 1000, `retain-until ${lock.retainUntil} is the Job's start plus 2 days`);

  const s3 = s3Client();
  t.after(() => s3.destroy());
  const key = manifestKey({ namespace: plan.source.namespace, connection: plan.source.connection, collection, backupId: plan.backupId });
  const parsed = parseManifest(await objectBytes(s3, bucket, key), { key });
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
  assert.deepEqual(parsed.manifest.objectLock, lock, "the manifest records the lock");

  const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  const current = (versions.Versions ?? []).filter((v) => v.IsLatest);
  assert.deepEqual(current.map((v) => v.Key).sort(), [parsed.manifest.peers[0]!.file.key, key].sort(), "the snapshot object and the manifest");
  for (const v of current) {
    const r = await s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: v.Key!, VersionId: v.VersionId! }));
    assert.equal(r.Retention?.Mode, "GOVERNANCE", v.Key!);
    assert.equal(r.Retention?.RetainUntilDate?.toISOString(), lock.retainUntil, v.Key!);
    await assert.rejects(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: v.Key!, VersionId: v.VersionId! })), /WORM|AccessDenied/, `S3 refuses to delete ${v.Key}`);
  }
});
