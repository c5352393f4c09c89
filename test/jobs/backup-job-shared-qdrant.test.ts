/**
 * `job backup` against the environment's Qdrant (the emulator `npm test` starts, or the real one
 * QDRANT_URL / QDRANT_PEERS / QDRANT_API_KEY name), shared with every other test file: each test backs up a
 * collection of its own and restores the uploaded bytes into another fresh one on the same Qdrant, so the
 * Job's whole path (discovery, snapshot, stream to S3, manifest, cleanup) runs against a real Qdrant too.
 * The failure paths that need injected faults stay in backup-job.test.ts, against an emulator of its own.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it, type TestContext } from "node:test";
import { parseManifest } from "../../src/backup/layout/manifest.ts";
import { manifestKey } from "../../src/backup/layout/object-keys.ts";
import { EXIT_CODES } from "../../src/jobs/protocol/exit-codes.ts";
import { allPoints, needsDistributedQdrant, qdrantApi, qdrantUnderTest, uniqueName, useCollection } from "../helpers/qdrant.ts";
import { s3Client, useBucket } from "../helpers/s3.ts";
import { listKeys, makePlan, multipartUploads, objectBytes, qdrant, runJob, uploadAndRecover } from "./backup-harness.ts";

/** Runs the Job with `plan` and reads the manifest it wrote for `collection`; the Job must succeed. */
async function backUp(t: TestContext, plan: ReturnType<typeof makePlan>, bucket: string, collection: string, apiKey: string | undefined) {
  const run = await runJob(plan, apiKey ? { apiKey } : {});
  assert.equal(run.code, EXIT_CODES.SUCCESS, run.stdout + run.stderr);
  assert.ok(run.result?.ok);
  const s3 = s3Client();
  t.after(() => s3.destroy());
  const key = manifestKey({ namespace: plan.source.namespace, connection: plan.source.connection, collection, backupId: plan.backupId });
  const parsed = parseManifest(await objectBytes(s3, bucket, key), { key });
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
  return { s3, key, parsed };
}

describe("job backup against the environment's Qdrant", () => {
  it("standalone: the manifest names the bytes in the bucket, which restore the same points; nothing is left behind", async (t) => {
    const q = qdrantUnderTest();
    const collection = await useCollection(t, "docs", { points: 150 });
    const bucket = await useBucket(t);
    const plan = makePlan(q.url, bucket, { collections: { names: [collection] }, discovery: { mode: "None" } });
    const { s3, key, parsed } = await backUp(t, plan, bucket, collection, q.apiKey);
    assert.equal(parsed.manifest.collection?.pointsCount, 150);
    assert.equal(parsed.manifest.peers.length, 1);
    const file = parsed.manifest.peers[0]!.file;
    const bytes = await objectBytes(s3, bucket, file.key);
    assert.equal(file.sha256, createHash("sha256").update(bytes).digest("hex"));
    assert.deepEqual(await listKeys(s3, bucket), [file.key, key].sort(), "the snapshot and the manifest, no marker");
    assert.deepEqual(await multipartUploads(s3, bucket, file.key), []);
    assert.deepEqual(await qdrant(q.url, "GET", `/collections/${collection}/snapshots`, undefined, q.apiKey), [], "no snapshot left on Qdrant");

    const restored = uniqueName("restored");
    t.after(() => qdrantApi().deleteCollection(restored).then(() => undefined));
    await uploadAndRecover(q.url, restored, bytes, file.sha256, q.apiKey);
    assert.deepEqual(await allPoints(restored), await allPoints(collection));
  });

  it("distributed: one snapshot per peer that holds a shard, from the peers the plan lists, every shard once", async (t) => {
    const peers = needsDistributedQdrant(t);
    const q = qdrantUnderTest();
    const collection = await useCollection(t, "docs", { points: 150, url: peers[0]!, config: { vectors: { size: 4, distance: "Cosine" }, shard_number: peers.length } });
    const bucket = await useBucket(t);
    const plan = makePlan(peers[0]!, bucket, { collections: { names: [collection] }, discovery: { mode: "Static", urls: peers } });
    const { s3, parsed } = await backUp(t, plan, bucket, collection, q.apiKey);
    const m = parsed.manifest;
    assert.equal(m.qdrant.distributed, true);
    assert.equal(m.collection?.pointsCount, 150);
    assert.ok(m.peers.length > 1, `more than one peer holds a shard: ${JSON.stringify(m.peers)}`);
    const shards = m.peers.flatMap((p) => p.shardIds ?? []);
    assert.equal(new Set(shards).size, shards.length, "no shard twice");
    for (const p of m.peers) {
      const bytes = await objectBytes(s3, bucket, p.file.key);
      assert.equal(p.file.sha256, createHash("sha256").update(bytes).digest("hex"), `peer ${p.peerId}`);
    }
    for (const url of peers) assert.deepEqual(await qdrant(url, "GET", `/collections/${collection}/snapshots`, undefined, q.apiKey), [], `no snapshot left on ${url}`);
  });
});
