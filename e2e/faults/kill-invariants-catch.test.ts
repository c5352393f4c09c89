/**
 * The invariant checker (e2e/faults/invariants.ts) catches what it is there to catch: after one real
 * backup (everything holds), each kind of damage a badly closed crash window would leave is made by hand
 * and must be reported, naming it — an open multipart upload, a file the manifest does not list, a listed
 * file missing or of another size, a snapshot left on a peer, a backup directory without its manifest, an
 * alias missing or on a half-built collection. A checker that missed one would let every kill loop pass.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AbortMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { qdrantApi, seedPoints, useCollection } from "../../test/helpers/qdrant.ts";
import { s3Client } from "../../test/helpers/s3.ts";
import { world } from "../helpers/backup-world.ts";
import { backedUp, cleanupOnQdrant, createAlias, qdrantCall } from "../helpers/restore-world.ts";
import { invariantProblems, worldScope } from "./invariants.ts";

test("the invariant checker reports each kind of damage a crash could leave", async (t) => {
  const w = await world(t, "fault-checker");
  const b = await backedUp(w);
  const scope = worldScope(w, [w.collection]);
  assert.deepEqual(await invariantProblems(scope), [], "a clean backup breaks nothing");
  const s3 = s3Client();
  t.after(() => s3.destroy());
  const reported = async (pattern: RegExp, s = scope) => {
    const problems = await invariantProblems(s);
    assert.ok(problems.some((p) => pattern.test(p)), `expected a problem matching ${pattern}, got: ${JSON.stringify(problems)}`);
  };
  const file = b.files[0]!;
  const dir = file.key.slice(0, file.key.lastIndexOf("/") + 1);

  const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: w.bucket, Key: `${dir}peer-9.snapshot` }));
  await reported(/multipart upload left open/);
  await s3.send(new AbortMultipartUploadCommand({ Bucket: w.bucket, Key: `${dir}peer-9.snapshot`, UploadId: upload.UploadId! }));

  await s3.send(new PutObjectCommand({ Bucket: w.bucket, Key: `${dir}peer-9.snapshot`, Body: "x" }));
  await reported(/which its manifest does not list/);
  await s3.send(new DeleteObjectCommand({ Bucket: w.bucket, Key: `${dir}peer-9.snapshot` }));

  const bytes = await (await s3.send(new GetObjectCommand({ Bucket: w.bucket, Key: file.key }))).Body!.transformToByteArray();
  await s3.send(new PutObjectCommand({ Bucket: w.bucket, Key: file.key, Body: bytes.subarray(0, 10) }));
  await reported(/at \d+ bytes, the bucket holds 10/);
  await s3.send(new DeleteObjectCommand({ Bucket: w.bucket, Key: file.key }));
  await reported(/which is not in the bucket/);
  await s3.send(new PutObjectCommand({ Bucket: w.bucket, Key: file.key, Body: bytes }));

  const manifest = await (await s3.send(new GetObjectCommand({ Bucket: w.bucket, Key: b.manifestKey }))).Body!.transformToString();
  await s3.send(new DeleteObjectCommand({ Bucket: w.bucket, Key: b.manifestKey }));
  await reported(/has no manifest/);
  await reported(/says collection .* no manifest there/);
  await s3.send(new PutObjectCommand({ Bucket: w.bucket, Key: b.manifestKey, Body: manifest }));

  const snap = await qdrantCall<{ name: string }>(w.qdrant.url, `/collections/${w.collection}/snapshots`, w.apiKey, { method: "POST" });
  await reported(/snapshot .* left on/);
  await qdrantCall(w.qdrant.url, `/collections/${w.collection}/snapshots/${snap.name}`, w.apiKey, { method: "DELETE" });

  const half = await useCollection(t, "half", { points: 5 });
  const alias = `${w.collection}_checked`;
  cleanupOnQdrant(t, w.qdrant.url, w.apiKey, [], [alias]);
  await reported(/alias .* is missing/, { ...scope, aliases: [{ alias, points: 20 }] });
  await createAlias(w.qdrant.url, alias, half, w.apiKey);
  await reported(/holds 5 points, not 20/, { ...scope, aliases: [{ alias, points: 20 }] });
  await qdrantApi().upsert(half, seedPoints(20));
  assert.deepEqual(await invariantProblems({ ...scope, aliases: [{ alias, points: 20 }] }), [], "whole again");
});
