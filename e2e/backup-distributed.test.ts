/**
 * A QdrantBackup of a collection on a distributed Qdrant (the environment's 3-peer emulated cluster, or the
 * peers QDRANT_PEERS names), end to end: the connection lists the peers, the Job snapshots every peer that
 * holds a shard of the collection, and the status and the manifest name one file per peer, each with its
 * shards, together every shard once.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { parseManifest } from "../src/backup/layout/manifest.ts";
import { s3Client } from "../test/helpers/s3.ts";
import { objectBytes } from "../test/jobs/backup-harness.ts";
import { apply, backupObj, condition, waitForPhase, world } from "./helpers/backup-world.ts";

test("a backup of a collection with a shard on every peer: one snapshot per peer, every shard once, checksums of the bytes in the bucket", async (t) => {
  const w = await world(t, "e2e-backup-dist", { distributed: true });
  await apply(w.ns, [backupObj("spread", { collections: { names: [w.collection] } })]);
  const b = await waitForPhase(w.ns, "spread", "Succeeded", 120_000);
  assert.equal(condition(b, "Ready")?.status, "True");
  const col = b.status?.collections?.[0];
  assert.equal(col?.name, w.collection);
  assert.equal(col?.pointsCount, 20);

  const s3 = s3Client();
  t.after(() => s3.destroy());
  const key = col.manifestKey!;
  const parsed = parseManifest(await (await s3.send(new GetObjectCommand({ Bucket: w.bucket, Key: key }))).Body!.transformToString(), { key });
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
  const m = parsed.manifest;
  assert.equal(m.qdrant.distributed, true);
  assert.ok(m.peers.length > 1, `more than one peer holds a shard: ${JSON.stringify(m.peers)}`);
  assert.equal(new Set(m.peers.map((p) => p.peerId)).size, m.peers.length, "one file per peer");
  const shards = m.peers.flatMap((p) => p.shardIds ?? []).sort((x, y) => x - y);
  assert.deepEqual(shards, [...new Set(shards)], "no shard twice");
  assert.equal(shards.length, m.peers.reduce((n, p) => n + (p.shardIds?.length ?? 0), 0));
  assert.deepEqual(col.files?.map((f) => f.peerId).sort(), m.peers.map((p) => p.peerId).sort(), "the status lists the manifest's files");
  for (const p of m.peers) {
    const bytes = await objectBytes(s3, w.bucket, p.file.key);
    assert.equal(createHash("sha256").update(bytes).digest("hex"), p.file.sha256, `peer ${p.peerId}'s file is the bytes in the bucket`);
    assert.equal(bytes.length, p.file.size);
  }
});
