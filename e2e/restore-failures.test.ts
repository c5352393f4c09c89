/**
 * What a restore that cannot be done says, and that it changed nothing on Qdrant: each failure is a Ready
 * False condition whose reason comes from the error registry and whose message names the field or object
 * to fix, and the Qdrant's collections (and aliases) are the same before and after. The checks before any
 * Job (a backup id that does not exist, a missing Secret, an unreachable Qdrant, a target that exists or
 * is an alias, a topology that cannot hold the backup) start no Job at all; a wrong checksum is found by
 * Qdrant's recover in the Job and leaves no half-created collection.
 *
 * On an emulator of its own (ownEmulator) for the standalone cases: "nothing changed" is the whole
 * collections list, which on the shared Qdrant other tests change at the same time.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { API_VERSION } from "../src/api/group.ts";
import { objectBytes } from "../test/jobs/backup-harness.ts";
import { qdrantUnderTest } from "../test/helpers/qdrant.ts";
import { s3Client } from "../test/helpers/s3.ts";
import { testEnv } from "../test/helpers/testenv.ts";
import { allPoints, apply, world } from "./helpers/backup-world.ts";
import { aliases, backedUp, collectionExists, collectionNames, createAlias, eventsOf, managerMetrics, restoreCondition, restoreJobs, restoreObj, waitForRefusal, waitForRestorePhase } from "./helpers/restore-world.ts";

/** A TCP port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test("refusals before any Job: unknown backup id, missing Secrets, unreachable Qdrant, an existing target, an alias: each names what to fix, nothing changed", async (t) => {
  const w = await world(t, "e2e-restore-refused", { ownEmulator: "compares the whole collections and aliases lists before and after" });
  const b = await backedUp(w);
  await createAlias(w.qdrant.url, "policies_alias", "policies", w.apiKey);
  const before = { collections: await collectionNames(w.qdrant.url, w.apiKey), aliases: await aliases(w.qdrant.url, w.apiKey), points: await allPoints(w.qdrant.url, "policies", w.apiKey) };
  assert.deepEqual(before.collections, ["policies"]);

  const port = await closedPort();
  const conn = (name: string, spec: Record<string, unknown>) => ({ apiVersion: API_VERSION, kind: "QdrantConnection", metadata: { name }, spec: { url: w.qdrant.url, apiKeySecretRef: { name: "qdrant-key", key: "api-key" }, ...spec } });
  const unknownId = "20200101T000000Z-00000000-0000-4000-8000-000000000000";
  await apply(w.ns, [
    conn("no-secret", { apiKeySecretRef: { name: "absent-key", key: "api-key" } }),
    conn("closed", { url: `http://127.0.0.1:${port}` }),
    {
      apiVersion: API_VERSION,
      kind: "QdrantBackupLocation",
      metadata: { name: "no-creds" },
      spec: { s3: { bucket: w.bucket, prefix: "qdrant/e2e", endpoint: testEnv().s3.endpoint, region: testEnv().s3.region, forcePathStyle: true, credentials: { secretRef: { name: "absent-s3" } } } },
    },
    restoreObj("unknown-id", { location: { locationRef: { name: "s3" }, backupId: unknownId } }, { sourceCollection: "policies", target: { collection: "policies_x1" } }),
    restoreObj("no-secret", { backupRef: { name: b.name } }, { target: { connectionRef: { name: "no-secret" }, collection: "policies_x2" } }),
    restoreObj("no-s3-secret", { latest: { locationRef: { name: "no-creds" }, collection: "policies" } }, { target: { collection: "policies_x3" } }),
    restoreObj("unreachable", { backupRef: { name: b.name } }, { target: { connectionRef: { name: "closed" }, collection: "policies_x4" } }),
    restoreObj("exists", { backupRef: { name: b.name } }),
    restoreObj("alias", { backupRef: { name: b.name } }, { target: { collection: "policies_alias" } }),
  ]);

  const cases: Array<[string, string, RegExp]> = [
    ["unknown-id", "BackupNotFound", new RegExp(`spec\\.source\\.location.*${unknownId}|${unknownId}.*spec\\.source\\.location`)],
    ["no-secret", "SecretNotFound", /absent-key/],
    ["no-s3-secret", "SecretNotFound", /absent-s3/],
    ["unreachable", "QdrantUnreachable", new RegExp(`closed|127\\.0\\.0\\.1:${port}`)],
    ["exists", "TargetExists", /policies.*(overwrite|spec\.target)|(overwrite|spec\.target).*policies/],
    ["alias", "TargetIsAlias", /policies_alias/],
  ];
  for (const [name, reason, names] of cases) {
    const r = await waitForRefusal(w.ns, name, reason);
    const ready = restoreCondition(r, "Ready")!;
    assert.match(ready.message, names, `${name}: the message names what to fix: ${ready.message}`);
    assert.notEqual(r.status?.phase, "Succeeded");
    assert.notEqual(r.status?.phase, "Running");
  }
  assert.deepEqual(await restoreJobs(w.ns), [], "no restore Job was started");
  assert.deepEqual(await collectionNames(w.qdrant.url, w.apiKey), before.collections, "no collection made");
  assert.deepEqual(await aliases(w.qdrant.url, w.apiKey), before.aliases, "the alias still points where it did");
  assert.deepEqual(await allPoints(w.qdrant.url, "policies", w.apiKey), before.points, "the existing target is untouched");
});

test("a snapshot tampered with in the bucket (same size): ChecksumMismatch, and no half-created collection", async (t) => {
  const w = await world(t, "e2e-restore-checksum", { ownEmulator: "compares the whole collections list before and after" });
  const b = await backedUp(w);
  const file = b.files[0]!;
  const s3 = s3Client();
  t.after(() => s3.destroy());
  const bytes = await objectBytes(s3, w.bucket, file.key);
  const tampered = Buffer.from(bytes);
  const at = Math.floor(tampered.length / 2);
  tampered[at] = tampered[at]! ^ 0xff;
  await s3.send(new PutObjectCommand({ Bucket: w.bucket, Key: file.key, Body: tampered }));
  assert.equal(tampered.length, file.size, "the size the manifest says, so only the checksum can tell");
  const before = await collectionNames(w.qdrant.url, w.apiKey);

  await apply(w.ns, [restoreObj("bad-sum", { backupRef: { name: b.name } }, { target: { collection: "policies_sum" }, job: { backoffLimit: 0 } })]);
  const r = await waitForRestorePhase(w.ns, "bad-sum", "Failed", 150_000);
  const ready = restoreCondition(r, "Ready");
  assert.deepEqual([ready?.status, ready?.reason], ["False", "ChecksumMismatch"], JSON.stringify(r.status));
  assert.deepEqual([restoreCondition(r, "Failed")?.status, restoreCondition(r, "Failed")?.reason], ["True", "ChecksumMismatch"]);
  assert.match(ready!.message, new RegExp(file.key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")), "the message names the object");
  assert.deepEqual(await collectionNames(w.qdrant.url, w.apiKey), before, "no half-created collection");
  const metrics = await managerMetrics(w.manager);
  // One failure of this restore, by its reason (labels in any order).
  assert.match(metrics, new RegExp(`qdrant_operator_restore_failures_total\\{(?=[^}]*namespace="${w.ns}")(?=[^}]*restore="bad-sum")(?=[^}]*reason="ChecksumMismatch")[^}]*\\} 1`));
  const events = await eventsOf(w.ns, "bad-sum");
  assert.ok(events.some((e) => e.startsWith("Failed: ") && e.includes("ChecksumMismatch")), `a Failed event with the reason: ${events.join(" | ")}`);
});

test("a 3-peer backup into a standalone Qdrant: TopologyMismatch before anything changes", async (t) => {
  const w = await world(t, "e2e-restore-topology", { distributed: true });
  const b = await backedUp(w);
  assert.ok(b.files.length > 1);
  const standalone = qdrantUnderTest().url;
  await apply(w.ns, [
    { apiVersion: API_VERSION, kind: "QdrantConnection", metadata: { name: "standalone" }, spec: { url: standalone, apiKeySecretRef: { name: "qdrant-key", key: "api-key" }, peers: { mode: "None" } } },
    restoreObj("squeeze", { backupRef: { name: b.name } }, { target: { connectionRef: { name: "standalone" } } }),
  ]);
  const r = await waitForRefusal(w.ns, "squeeze", "TopologyMismatch");
  assert.match(restoreCondition(r, "Ready")!.message, new RegExp(`${b.files.length}.*peer|peer.*${b.files.length}`), "says how many peers the backup needs");
  assert.equal(await collectionExists(standalone, w.collection, qdrantUnderTest().apiKey), false, "nothing made on the standalone Qdrant");
  assert.deepEqual(await restoreJobs(w.ns), [], "no restore Job");
});
