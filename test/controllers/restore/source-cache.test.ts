/**
 * The manifest cache of the source resolver (src/controllers/restore/source/manifest-cache.ts) against
 * the environment's MinIO: a parsed manifest is read once, concurrent reads share one GET, the bound
 * drops the least recently used, and what did not parse (missing, corrupt, too large) is read again.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { MAX_MANIFEST_BYTES } from "../../../src/backup/layout/manifest.ts";
import { ManifestCache } from "../../../src/controllers/restore/source/manifest-cache.ts";
import { testEnv } from "../../helpers/testenv.ts";
import { useWorld, writeBackup } from "./source-fixtures.ts";

describe("the manifest cache", () => {
  it("reads a manifest once, shares concurrent reads, and drops the least recently used past its bound", async (t) => {
    const w = await useWorld(t);
    const [a, b, c] = await Promise.all(["a", "b", "c"].map((collection, i) => writeBackup(w, { collection, created: `2026-01-0${i + 1}T00:00:00Z`, completed: `2026-01-0${i + 1}T00:01:00Z` })));
    const cache = new ManifestCache({ maxEntries: 2 });
    const place = { client: w.s3, bucket: w.bucket, endpoint: testEnv().s3.endpoint };

    const both = await Promise.all([cache.read(place, a!.manifestKey), cache.read(place, a!.manifestKey)]);
    assert.ok(both.every((r) => r.ok));
    assert.equal(cache.reads, 1, "two reads at once, one GET");
    await cache.read(place, b!.manifestKey);
    await cache.read(place, a!.manifestKey); // a is now the most recently used
    await cache.read(place, c!.manifestKey); // drops b
    assert.equal(cache.reads, 3);
    assert.equal(cache.size(), 2);
    await cache.read(place, a!.manifestKey);
    assert.equal(cache.reads, 3, "a stayed");
    await cache.read(place, b!.manifestKey);
    assert.equal(cache.reads, 4, "b was dropped and is read again");

    const other = await cache.read({ ...place, bucket: `${w.bucket}-elsewhere` }, a!.manifestKey).catch((err: Error) => err);
    assert.ok(other instanceof Error && /bucket "[^"]+-elsewhere" does not exist/.test(other.message), `the same key in another bucket is another object: ${JSON.stringify(other)}`);
  });

  it("a missing, corrupt or oversized manifest is said, and not kept", async (t) => {
    const w = await useWorld(t);
    const cache = new ManifestCache();
    const place = { client: w.s3, bucket: w.bucket };
    const corrupt = await writeBackup(w, { collection: "x", created: "2026-01-01T00:00:00Z", completed: "2026-01-01T00:01:00Z", corruptManifest: '{"version":"qdrant-operator.dev/manifest/v1"}' });

    const missing = await cache.read(place, corrupt.manifestKey.replace("/x/", "/y/"));
    assert.deepEqual(missing.ok ? undefined : [missing.missing, /does not exist/.test(missing.error)], [true, true]);
    const bad = await cache.read(place, corrupt.manifestKey);
    assert.ok(!bad.ok && !bad.missing && bad.error.startsWith(`manifest ${corrupt.manifestKey} is corrupt: `), JSON.stringify(bad));
    await cache.read(place, corrupt.manifestKey);
    assert.equal(cache.reads, 3, "a corrupt manifest is read again (a person may repair it)");
    assert.equal(cache.size(), 0);

    const huge = corrupt.manifestKey.replace("/x/", "/huge/");
    await w.s3.send(new PutObjectCommand({ Bucket: w.bucket, Key: huge, Body: Buffer.alloc(MAX_MANIFEST_BYTES + 1, 0x20) }));
    const big = await cache.read(place, huge);
    assert.ok(!big.ok && /more than a manifest can be/.test(big.error), JSON.stringify(big));
  });
});
