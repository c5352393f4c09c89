/**
 * deletionPolicy Delete on an Object Lock location (finalize.ts), against the environment's real MinIO
 * with root credentials and a fake apiserver (it serves the credentials Secret and records patches,
 * status writes and Events): while S3 retains the backup's objects the finalizer stays, the status says
 * DataDeleted=False, Locked, "Locked until <date>", an Event says so once, and the reconcile comes back
 * at that date (retainUntil − now, by the injected clock) — no hot loop. Once the date has passed, every
 * version goes and the finalizer is removed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { ListObjectVersionsCommand, PutObjectCommand, PutObjectRetentionCommand } from "@aws-sdk/client-s3";
import { backupIdOf } from "../../../src/backup/layout/backup-id.ts";
import { LOCK_SLACK_MS } from "../../../src/backup/retention/lock-until.ts";
import { DATA_DELETED, finalizeBackup } from "../../../src/controllers/backup/finalize.ts";
import { DATA_FINALIZER } from "../../../src/controllers/backup/names.ts";
import type { BackupObject } from "../../../src/controllers/backup/types.ts";
import type { OperatorContext } from "../../../src/controllers/shared/context.ts";
import type { BackupLocationObject } from "../../../src/controllers/shared/resolve-location.ts";
import { Redactor } from "../../../src/runtime/redact.ts";
import { s3Client, useLockBucket } from "../../helpers/s3.ts";
import { testEnv } from "../../helpers/testenv.ts";

test("a locked backup's finalizer waits until the retain-until date, then deletes every version", async (t) => {
  const bucket = await useLockBucket(t);
  const s3 = s3Client();
  t.after(() => s3.destroy());
  const env = testEnv().s3;
  const location: BackupLocationObject = {
    metadata: { name: "s3", namespace: "prod", uid: "loc-1", generation: 1 },
    spec: { s3: { bucket, endpoint: env.endpoint, region: env.region, forcePathStyle: true, credentials: { secretRef: { name: "s3-creds" } } }, objectLock: { mode: "Governance", retainDays: 1 } },
  };
  const backup = {
    apiVersion: "qdrant-operator.dev/v1alpha1",
    kind: "QdrantBackup",
    metadata: { name: "b1", namespace: "prod", uid: "4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d", creationTimestamp: "2026-12-02T02:00:04Z", resourceVersion: "7", generation: 1, finalizers: [DATA_FINALIZER], deletionTimestamp: "2026-12-02T03:00:00Z" },
    spec: { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: ["policies"] }, deletionPolicy: "Delete" },
    status: { phase: "Succeeded" },
  } as unknown as BackupObject;
  const dir = `prod/qdrant/_collections/policies/${backupIdOf(backup.metadata)}/`;
  const until = new Date(Math.ceil((Date.now() + 3_600_000) / 1000) * 1000);
  const written = [];
  for (const key of ["manifest.json", "peer-1.snapshot"]) {
    written.push(await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${dir}${key}`, Body: key, ObjectLockMode: "GOVERNANCE", ObjectLockRetainUntilDate: until })));
  }

  let now = new Date(until.getTime() - 3_000_000);
  const patches: unknown[] = [];
  const statuses: Array<{ conditions?: Array<{ type: string; status: string; reason: string; message: string }> }> = [];
  const events: Array<{ reason: string; note: string }> = [];
  const secret = { data: { AWS_ACCESS_KEY_ID: Buffer.from(env.accessKeyId).toString("base64"), AWS_SECRET_ACCESS_KEY: Buffer.from(env.secretAccessKey).toString("base64") } };
  const ctx = {
    client: {
      request: () => Promise.resolve(secret),
      patch: (_rt: unknown, _key: unknown, body: unknown) => {
        patches.push(body);
        return Promise.resolve({});
      },
    },
    status: {
      updateStatusIfChanged: (_rt: unknown, _obj: unknown, status: (typeof statuses)[number]) => {
        statuses.push(status);
        return Promise.resolve({});
      },
    },
    events: { event: (e: { reason: string; note: string }) => events.push(e) },
    redactor: new Redactor(),
    clock: { now: () => now },
  } as unknown as OperatorContext;
  const locations = { cache: { get: () => location } };
  const log = { info: () => undefined };
  const deps = { jobName: "b1-backup", getJob: () => Promise.resolve(undefined), locations, log } as never;

  const waiting = await finalizeBackup(ctx, backup, deps);
  assert.deepEqual(waiting, { requeueAfter: until.getTime() - now.getTime() + LOCK_SLACK_MS }, "back at the date, not sooner");
  assert.deepEqual(patches, [], "the finalizer stays");
  const cond = statuses.at(-1)?.conditions?.find((c) => c.type === DATA_DELETED);
  assert.equal(cond?.status, "False");
  assert.equal(cond?.reason, "Locked");
  assert.ok(cond?.message.startsWith(`Locked until ${until.toISOString().replace(/\.\d+Z$/, "Z")}: `), cond?.message);
  assert.deepEqual(events.map((e) => e.reason), ["Locked"]);
  const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  assert.equal(page.Versions?.length, 2, "nothing was deleted");

  // The same wait, said again, is no news: no second Event.
  await finalizeBackup(ctx, { ...backup, status: statuses.at(-1) } as BackupObject, deps);
  assert.deepEqual(events.map((e) => e.reason), ["Locked"]);

  // The retention is shortened (root may bypass Governance) to a moment from now; after it, the data goes.
  const soon = new Date(Math.ceil((Date.now() + 2_000) / 1000) * 1000);
  for (const [i, key] of ["manifest.json", "peer-1.snapshot"].entries()) {
    await s3.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: `${dir}${key}`, VersionId: written[i]!.VersionId, BypassGovernanceRetention: true, Retention: { Mode: "GOVERNANCE", RetainUntilDate: soon } }));
  }
  await sleep(Math.max(0, soon.getTime() - Date.now() + 1_000)); // the retain-until date itself, not readiness
  now = new Date();
  assert.deepEqual(await finalizeBackup(ctx, backup, deps), { done: true });
  assert.equal(patches.length, 1, "the finalizer is removed");
  assert.ok(events.some((e) => e.reason === "DataDeleted"));
  const after = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  assert.equal((after.Versions?.length ?? 0) + (after.DeleteMarkers?.length ?? 0), 0);
});
