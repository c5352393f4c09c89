/**
 * The one S3 client builder against a MinIO served over TLS by a private CA: with the location's CA it
 * reads and writes; without it every call fails on the certificate (what the manager did before it used
 * the builder the Job uses); a presigned GET URL reads the object with no credentials, and only until the
 * URL is tampered with.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { Agent, fetch } from "undici";
import { isOperatorError } from "../../src/errors.ts";
import { buildS3Client, checkBucket, presignGetObject } from "../../src/s3/client.ts";
import { startTlsMinio } from "../helpers/minio-tls.ts";

test("a client with the location's CA uses a private-CA endpoint; one without it is refused the certificate", async (t) => {
  const minio = await startTlsMinio(t);
  const bucket = await minio.createBucket();
  const settings = { region: minio.region, endpoint: minio.endpoint, forcePathStyle: true, credentials: { accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey } };

  const trusting = buildS3Client({ ...settings, caPem: minio.caPem });
  t.after(() => trusting.destroy());
  await checkBucket(trusting, bucket);

  const untrusting = buildS3Client(settings);
  t.after(() => untrusting.destroy());
  const err = await checkBucket(untrusting, bucket).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(isOperatorError(err, "S3_UNREACHABLE"), `refused: ${String(err)}`);
  assert.match(err.message, /HeadBucket on bucket "tls-[0-9a-f]+": .*(CERT|SIGNATURE|SELF_SIGNED|certificate)/i);
});

test("a presigned GET URL reads the object without credentials; a tampered one is refused", async (t) => {
  const minio = await startTlsMinio(t);
  const bucket = await minio.createBucket();
  // A key with characters S3 and the signature must both encode the same way.
  const key = "qdrant/prod/_collections/policies v2+x/20260115T020005Z-abc/peer-1.snapshot";
  const body = `snapshot bytes ${Date.now()}`;
  await minio.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

  const url = await presignGetObject(minio.client, bucket, key, 300);
  assert.match(url, /X-Amz-Signature=[0-9a-f]{64}/);
  assert.doesNotMatch(url, new RegExp(minio.secretAccessKey.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")), "the secret never appears in the URL");
  const dispatcher = new Agent({ connect: { ca: minio.caPem } });
  t.after(() => dispatcher.close());
  const res = await fetch(url, { dispatcher });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(await res.text(), body);

  const tampered = url.replace("peer-1.snapshot", "peer-2.snapshot");
  const refused = await fetch(tampered, { dispatcher });
  assert.equal(refused.status, 403);
  await refused.body?.cancel();

  await assert.rejects(presignGetObject(minio.client, bucket, key, 8 * 86_400), /1 s to 604800 s/);
});
