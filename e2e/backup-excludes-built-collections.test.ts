/**
 * A backup of `collections: all` while the operator is building collections on the same Qdrant — a
 * restore drill's temporary collection, a rollout's green collection before promotion — leaves them out
 * and says so: in every manifest (`excluded`, with the reason) and in the Ready condition; nothing of
 * them is in the bucket. A backup naming such a collection explicitly backs it up.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { API_VERSION } from "../src/api/group.ts";
import { backupId } from "../src/backup/layout/backup-id.ts";
import { parseManifest } from "../src/backup/layout/manifest.ts";
import { manifestKey } from "../src/backup/layout/object-keys.ts";
import { listKeys } from "../test/jobs/backup-harness.ts";
import { kubectl } from "../test/helpers/kubectl.ts";
import { s3Client } from "../test/helpers/s3.ts";
import { eventually } from "../test/helpers/testenv.ts";
import { apply, backupObj, condition, getJson, waitForPhase, world } from "./helpers/backup-world.ts";

test("a backup of all leaves out a drill's temporary collection and an unpromoted rollout's green one, and says why; an explicit name is backed up", async (t) => {
  const w = await world(t, "e2e-qb-exclude", { ownEmulator: "backs up every collection of its Qdrant (collections: all)" });
  for (const name of ["policies_drill", "policies_v2"]) {
    const res = await fetch(`${w.qdrant.url}/collections/${name}`, { method: "PUT", headers: { "api-key": w.apiKey, "content-type": "application/json" }, body: JSON.stringify({ vectors: { size: 4, distance: "Cosine" } }) });
    assert.equal(res.status, 200, await res.text());
  }
  await apply(w.ns, [
    {
      apiVersion: API_VERSION,
      kind: "QdrantRestore",
      metadata: { name: "drill" },
      spec: { source: { latest: { locationRef: { name: "s3" }, collection: "policies" } }, target: { connectionRef: { name: "qdrant" }, collection: "policies_drill" }, policy: "Drill", drill: { schedule: "0 3 * * *" } },
    },
    { apiVersion: API_VERSION, kind: "CollectionRollout", metadata: { name: "v2" }, spec: { connectionRef: { name: "qdrant" }, alias: "policies_production", collection: "policies_v2", source: { external: {} }, gates: { minPoints: 1000 } } },
  ]);
  // The drill as its controller records it mid-run (its schedule is hours away, so the controller leaves
  // that alone); the rollout as its controller leaves it: Validating, held there by a gate its empty green
  // cannot pass (without one it would promote at once, and a promoted green is live data, backed up).
  await kubectl(["-n", w.ns, "patch", "qdrantrestore", "drill", "--subresource=status", "--type=merge", "-p", JSON.stringify({ status: { phase: "Running", targetCollection: "policies_drill" } })]);
  await eventually("the rollout to judge its green", async () => ((await getJson<{ status?: { phase?: string } }>(w.ns, "collectionrollout", "v2"))?.status?.phase === "Validating" ? true : undefined));
  const s3 = s3Client();
  t.after(() => s3.destroy());

  await apply(w.ns, [backupObj("all", { collections: { all: true } })]);
  const b = await waitForPhase(w.ns, "all", "Succeeded", 120_000);
  assert.deepEqual(b.status?.collections?.map((c) => c.name), ["policies"]);
  assert.match(condition(b, "Ready")?.message ?? "", /Left out 2 collections the operator is building: policies_drill, policies_v2\.$/);
  const id = backupId(new Date(b.metadata.creationTimestamp), b.metadata.uid);
  const key = manifestKey({ prefix: "qdrant/e2e", namespace: w.ns, connection: "qdrant", collection: "policies", backupId: id });
  const parsed = parseManifest(await (await s3.send(new GetObjectCommand({ Bucket: w.bucket, Key: key }))).Body!.transformToString(), { key });
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
  assert.deepEqual(parsed.manifest.excluded, [
    { name: "policies_drill", reason: `the temporary collection of restore drill QdrantRestore ${w.ns}/drill` },
    { name: "policies_v2", reason: `the green collection of CollectionRollout ${w.ns}/v2, not promoted yet` },
  ]);
  const keys = await listKeys(s3, w.bucket);
  assert.ok(!keys.some((k) => k.includes("/policies_drill/") || k.includes("/policies_v2/")), keys.join("\n"));

  // Named explicitly, the green collection is backed up: an explicit name is the user's choice.
  await apply(w.ns, [backupObj("named", { collections: { names: ["policies_v2"] } })]);
  const named = await waitForPhase(w.ns, "named", "Succeeded", 120_000);
  assert.deepEqual(named.status?.collections?.map((c) => c.name), ["policies_v2"]);
  assert.doesNotMatch(condition(named, "Ready")?.message ?? "", /Left out/);
});
