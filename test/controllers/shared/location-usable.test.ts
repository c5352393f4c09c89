/**
 * checkLocationUsable (src/controllers/shared/resolve-location.ts) without a cluster: a location whose own
 * check refused its server-side encryption at its current generation stops a Job before it exists, naming
 * the location and the field; a verdict of an older generation, or none, is not trusted (then the probe
 * runs: e2e/location-and-connection-checks.test.ts).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { OperatorContext } from "../../../src/controllers/shared/context.ts";
import { checkLocationUsable, encryptionProbeKey, type BackupLocationObject } from "../../../src/controllers/shared/resolve-location.ts";
import { isOperatorError } from "../../../src/errors.ts";
import { Redactor } from "../../../src/runtime/redact.ts";

const REFUSED = "spec.s3.serverSideEncryption.kmsKeyId: the storage refused an aws:kms write without a key id (NotImplemented)";

function location(ready: { status: string; reason: string; observedGeneration: number } | undefined, accessMode?: "ReadOnly"): BackupLocationObject {
  return {
    metadata: { name: "s3", namespace: "prod", uid: "u-1", generation: 2 },
    spec: { s3: { bucket: "backups", prefix: "qdrant/prod/", credentials: { secretRef: { name: "s3-creds" } }, serverSideEncryption: { type: "aws:kms" } }, ...(accessMode ? { accessMode } : {}) },
    ...(ready ? { status: { conditions: [{ type: "Ready", message: REFUSED, lastTransitionTime: "2026-01-01T00:00:00Z", ...ready }] } } : {}),
  } as BackupLocationObject;
}

/** Serves the credentials Secret. */
const ctx = {
  client: {
    request: async () => {
      await Promise.resolve();
      return { data: { AWS_ACCESS_KEY_ID: Buffer.from("a").toString("base64"), AWS_SECRET_ACCESS_KEY: Buffer.from("b").toString("base64") } };
    },
  },
  redactor: new Redactor(),
} as unknown as OperatorContext;

test("the location's refusal at its generation stops the Job, naming the location and the field", async () => {
  await assert.rejects(checkLocationUsable(ctx, location({ status: "False", reason: "ServerSideEncryptionRefused", observedGeneration: 2 })), (err) => {
    assert.ok(isOperatorError(err, "S3_ENCRYPTION_REFUSED"));
    assert.equal(err.reason, "ServerSideEncryptionRefused");
    assert.ok(err.message.startsWith(`QdrantBackupLocation s3 ${REFUSED}; `), err.message);
    return true;
  });
});

test("a location Ready at its generation, or ReadOnly, passes", async () => {
  await checkLocationUsable(ctx, location({ status: "True", reason: "Available", observedGeneration: 2 }));
  await checkLocationUsable(ctx, location(undefined, "ReadOnly"));
});

test("the probe's key sits under the prefix, in a directory no namespace can be named", () => {
  assert.equal(encryptionProbeKey(location(undefined)), "qdrant/prod/_location-checks/u-1");
});

const NO_LOCK = 'spec.objectLock: bucket "backups" has no Object Lock configuration, so its objects cannot be written with Governance retention; use a bucket created with Object Lock enabled';

function lockLocation(ready: { status: string; reason: string; observedGeneration: number } | undefined): BackupLocationObject {
  return {
    metadata: { name: "s3", namespace: "prod", uid: "u-1", generation: 2 },
    spec: { s3: { bucket: "backups", credentials: { secretRef: { name: "s3-creds" } } }, objectLock: { mode: "Governance", retainDays: 7 } },
    ...(ready ? { status: { conditions: [{ type: "Ready", message: NO_LOCK, lastTransitionTime: "2026-01-01T00:00:00Z", ...ready }] } } : {}),
  } as BackupLocationObject;
}

test("Object Lock: a location whose bucket has none at its generation stops the Job, naming the location, spec.objectLock and the bucket", async () => {
  await assert.rejects(checkLocationUsable(ctx, lockLocation({ status: "False", reason: "ObjectLockNotEnabled", observedGeneration: 2 })), (err) => {
    assert.ok(isOperatorError(err, "OBJECT_LOCK_NOT_ENABLED"));
    assert.equal(err.reason, "ObjectLockNotEnabled");
    assert.ok(err.message.startsWith(`QdrantBackupLocation s3 ${NO_LOCK}; `), err.message);
    return true;
  });
  await checkLocationUsable(ctx, lockLocation({ status: "True", reason: "Available", observedGeneration: 2 }));
});
