/** The environment's object storage is a real MinIO: multipart uploads, checksums and credentials. */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { test } from "node:test";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { bucketOnlyUser, s3Client, useBucket } from "../helpers/s3.ts";

const MiB = 1024 * 1024;

test("a multipart upload of 3+ parts round-trips through MinIO with the same sha256", async (t) => {
  const bucket = await useBucket(t);
  const s3 = s3Client();
  t.after(() => s3.destroy());
  const body = randomBytes(5 * MiB * 3 + 12345); // S3's minimum part is 5 MiB: four parts
  const upload = new Upload({ client: s3, params: { Bucket: bucket, Key: "blob.bin", Body: body }, partSize: 5 * MiB, queueSize: 2, leavePartsOnError: false });
  let parts = 0;
  upload.on("httpUploadProgress", (p) => (parts = Math.max(parts, p.part ?? 0)));
  const result = await upload.done();
  assert.ok(result.ETag?.includes("-4"), `a multipart ETag ends in -<parts>: ${result.ETag}`);
  assert.equal(parts, 4);
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "blob.bin" }));
  const bytes = await got.Body!.transformToByteArray();
  assert.equal(createHash("sha256").update(bytes).digest("hex"), createHash("sha256").update(body).digest("hex"));
});

test("wrong credentials are refused, and a one-bucket user cannot reach another bucket", async (t) => {
  const mine = await useBucket(t);
  const other = await useBucket(t);
  const wrong = s3Client({ accessKeyId: "nobody", secretAccessKey: "not-the-secret" });
  t.after(() => wrong.destroy());
  await assert.rejects(wrong.send(new ListObjectsV2Command({ Bucket: mine })), (err: Error) => {
    assert.equal(err.name, "InvalidAccessKeyId");
    return true;
  });

  const user = s3Client(await bucketOnlyUser(mine));
  t.after(() => user.destroy());
  await user.send(new PutObjectCommand({ Bucket: mine, Key: "ok.txt", Body: "fine" }));
  const listed = await user.send(new ListObjectsV2Command({ Bucket: mine }));
  assert.deepEqual(listed.Contents?.map((o) => o.Key), ["ok.txt"]);
  await assert.rejects(user.send(new PutObjectCommand({ Bucket: other, Key: "no.txt", Body: "nope" })), (err: Error) => {
    assert.equal(err.name, "AccessDenied");
    return true;
  });
});
