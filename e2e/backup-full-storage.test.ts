/**
 * A FullStorage QdrantBackup end to end: the manager launches the real Job, the Job archives the whole
 * storage (POST /snapshots) into the bucket with one manifest, and the backup's status shows the manifest,
 * the per-peer archive and the collections the storage held. The archive's bytes match the manifest, it
 * carries the alias, and the collection snapshot inside it restores the same points.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { parseManifest } from "../src/backup/layout/manifest.ts";
import { startEmulator } from "../test/emulator/index.ts";
import { readEntry, readTarEntries } from "../test/emulator/tar.ts";
import { objectBytes, uploadAndRecover } from "../test/jobs/backup-harness.ts";
import { s3Client } from "../test/helpers/s3.ts";
import { allPoints, apply, backupObj, condition, waitForPhase, world } from "./helpers/backup-world.ts";

interface FullStorageStatus {
  manifestKey?: string;
  files?: Array<{ peerId: string; key: string; size: number; sha256: string }>;
  collections?: Array<{ name: string; pointsCount?: number; aliases?: string[]; manifestKey?: string }>;
}

test("a FullStorage backup: one archive and manifest in the bucket, the status lists them, the archive restores", async (t) => {
  const w = await world(t, "e2e-backup-full", { ownEmulator: "a full-storage snapshot is of every collection of its Qdrant, and the emulator's archive format is read" });
  const res = await fetch(`${w.qdrant.url}/collections/aliases`, {
    method: "POST",
    headers: { "api-key": w.apiKey, "content-type": "application/json" },
    body: JSON.stringify({ actions: [{ create_alias: { alias_name: "policies_production", collection_name: "policies" } }] }),
  });
  assert.equal(res.status, 200);

  const { collections: _collections, ...spec } = backupObj("full", { mode: "FullStorage" }).spec;
  await apply(w.ns, [{ ...backupObj("full", {}), spec }]);
  const b = await waitForPhase(w.ns, "full", "Succeeded");
  const status = b.status as NonNullable<typeof b.status> & FullStorageStatus;
  assert.match(condition(b, "Ready")?.message ?? "", /Backed up the full storage \(1 collection, 1 peer snapshot\)/);
  assert.match(status.manifestKey ?? "", new RegExp(`^qdrant/e2e/${w.ns}/qdrant/_storage/${status.backupId}/manifest\\.json$`));
  assert.deepEqual(status.collections, [{ name: "policies", pointsCount: 20, aliases: ["policies_production"] }]);
  assert.equal(status.files?.length, 1);

  const s3 = s3Client();
  t.after(() => s3.destroy());
  const key = status.manifestKey!;
  const parsed = parseManifest(await (await s3.send(new GetObjectCommand({ Bucket: w.bucket, Key: key }))).Body!.transformToString(), { key });
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
  assert.equal(parsed.manifest.mode, "FullStorage");
  assert.equal(parsed.manifest.source.backupName, "full");
  const file = parsed.manifest.peers[0]!.file;
  assert.deepEqual(status.files, [{ peerId: parsed.manifest.peers[0]!.peerId, key: file.key, size: file.size, sha256: file.sha256 }]);
  const bytes = await objectBytes(s3, w.bucket, file.key);
  assert.equal(createHash("sha256").update(bytes).digest("hex"), file.sha256);

  // The archive carries the alias, and its collection snapshot restores the same points.
  const dir = mkdtempSync(join(tmpdir(), "e2e-full-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const archive = join(dir, "archive.tar");
  writeFileSync(archive, bytes);
  const entries = await readTarEntries(archive);
  const config = JSON.parse((await readEntry(archive, entries.find((e) => e.name === "config.json")!)).toString("utf8")) as {
    collections_mapping: Record<string, string>;
    collections_aliases: Record<string, string>;
  };
  assert.deepEqual(config.collections_aliases, { policies_production: "policies" });
  const inner = await readEntry(archive, entries.find((e) => e.name === config.collections_mapping.policies)!);
  const fresh = await startEmulator();
  t.after(() => fresh.stop());
  await uploadAndRecover(fresh.url, "policies", inner, createHash("sha256").update(inner).digest("hex"));
  assert.deepEqual(await allPoints(fresh.url, "policies"), await allPoints(w.qdrant.url, "policies", w.apiKey));
});
