/**
 * A Job's failure carries S3's own words when the coded error wraps an SDK service error (recognised by
 * its shape, so that src/jobs/protocol/failure.ts does not load the S3 SDK into Jobs that never use it).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { S3ServiceException } from "@aws-sdk/client-s3";
import { OperatorError } from "../../src/errors.ts";
import { failureResult } from "../../src/jobs/protocol/failure.ts";
import { Redactor } from "../../src/runtime/redact.ts";

test("S3's own words are added to the coded message once; the SDK's placeholders and other causes are not", () => {
  const denied = new S3ServiceException({ name: "AccessDenied", $fault: "client", $metadata: { httpStatusCode: 403 }, message: "Access Denied" });
  const wrapped = new OperatorError("S3_ACCESS_DENIED", "the object storage refused the location's credentials (spec.s3.credentials)", { cause: denied });
  assert.equal(failureResult(wrapped, new Redactor()).message, "the object storage refused the location's credentials (spec.s3.credentials): Access Denied");
  const already = new OperatorError("S3_ACCESS_DENIED", "PUT k: Access Denied", { cause: denied });
  assert.equal(failureResult(already, new Redactor()).message, "PUT k: Access Denied");
  const unknown = new S3ServiceException({ name: "Unknown", $fault: "server", $metadata: {}, message: "UnknownError" });
  assert.equal(failureResult(new OperatorError("S3_ERROR", "GET k: 500", { cause: unknown }), new Redactor()).message, "GET k: 500");
  assert.equal(failureResult(new OperatorError("QDRANT_API_ERROR", "PUT x: 500 boom", { cause: new Error("socket hang up") }), new Redactor()).message, "PUT x: 500 boom");
});
