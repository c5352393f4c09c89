/** s3Error's words (src/s3/client.ts): which field a refused or failed S3 call names. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { S3ServiceException } from "@aws-sdk/client-s3";
import { isOperatorError } from "../../src/errors.ts";
import { runWithSignal } from "../../src/runtime/reconcile-signal.ts";
import { encryptionField, s3Error } from "../../src/s3/client.ts";

const answer = (name: string, status: number) => new S3ServiceException({ name, $fault: "client", $metadata: { httpStatusCode: status }, message: name });

test("a refused HeadBucket is 'missing, or not permitted'; a wrong key or secret is the credentials'", () => {
  const cases: Array<[string, unknown, string, string, string]> = [
    ["HEAD 403 (no code)", answer("Unknown", 403), "HeadBucket", "StorageAccessDenied", 'spec.s3.bucket, spec.s3.credentials: HeadBucket on bucket "b" was refused (HTTP 403): the bucket is missing, or not permitted for these credentials; check the bucket\'s name, the access key and secret, and the bucket\'s policy'],
    ["wrong secret", answer("SignatureDoesNotMatch", 403), "HeadBucket", "StorageAccessDenied", 'spec.s3.credentials: HeadBucket on bucket "b" was refused (SignatureDoesNotMatch); check the access key and secret'],
    ["unknown key", answer("InvalidAccessKeyId", 403), "PutObject", "StorageAccessDenied", 'spec.s3.credentials: PutObject on bucket "b" was refused (InvalidAccessKeyId); check the access key and secret'],
    ["write denied", answer("AccessDenied", 403), "PutObject", "StorageAccessDenied", 'spec.s3.credentials: PutObject on bucket "b" was refused (AccessDenied); check the access key, secret and the bucket\'s policy'],
    ["missing bucket", answer("NotFound", 404), "HeadBucket", "BucketNotFound", 'spec.s3.bucket: bucket "b" does not exist'],
  ];
  for (const [name, err, what, reason, message] of cases) {
    const got = s3Error(err, "b", what);
    assert.ok(isOperatorError(got), name);
    assert.deepEqual([got.reason, got.message], [reason, message], name);
  }
});

test("an S3 call the reconcile's signal aborted is the signal's reason, not a storage error", () => {
  const reconcile = new AbortController();
  const lost = new Error("lost the lease");
  reconcile.abort(lost);
  const aborted = Object.assign(new Error("Request aborted"), { name: "AbortError" });
  assert.equal(runWithSignal(reconcile.signal, () => s3Error(aborted, "b", "DeleteObjects")), lost);
  assert.equal(s3Error(aborted, "b", "DeleteObjects"), aborted, "an explicit signal's abort stays itself");
  assert.ok(isOperatorError(s3Error(new Error("socket hang up"), "b", "DeleteObjects"), "S3_UNREACHABLE"));
});

test("a refused encryption names kmsKeyId for aws:kms and type for AES256", () => {
  assert.equal(encryptionField({ type: "aws:kms" }), "spec.s3.serverSideEncryption.kmsKeyId");
  assert.equal(encryptionField({ type: "aws:kms", kmsKeyId: "k" }), "spec.s3.serverSideEncryption.kmsKeyId");
  assert.equal(encryptionField({ type: "AES256" }), "spec.s3.serverSideEncryption.type");
});
