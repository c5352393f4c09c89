/**
 * The kubectl plugin against a real manager: `kubectl qdrant backup now <collection>` (the namespace's
 * one connection and location by default) makes a backup the manager runs; `backups list` shows it from
 * the resources and, once its QdrantBackup is gone, `--from-bucket` still finds it in the bucket's
 * manifests; `restore --as --wait` restores it into another collection and returns when it Succeeded.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { kubectl } from "../test/helpers/kubectl.ts";
import { eventually } from "../test/helpers/testenv.ts";
import { json, kubectlQdrant } from "../test/cli/plugin.ts";
import { allPoints, getJson, waitForPhase, world } from "./helpers/backup-world.ts";
import { cleanupOnQdrant } from "./helpers/restore-world.ts";

interface Listed {
  items: Array<Record<string, string>>;
}

test("backup now, backups list (resources and bucket), restore --as --wait, through kubectl and a real manager", async (t) => {
  const w = await world(t, "e2e-cli");
  const created = json<{ metadata: { name: string }; spec: { collections: { names: string[] }; connectionRef: { name: string }; locationRef: { name: string } } }>(
    await kubectlQdrant(["backup", "now", w.collection, "-n", w.ns, "-o", "json"]),
  );
  assert.deepEqual(created.spec.collections.names, [w.collection]);
  assert.equal(created.spec.connectionRef.name, "qdrant", "the namespace's only connection");
  assert.equal(created.spec.locationRef.name, "s3", "the namespace's only location");
  const backup = await waitForPhase(w.ns, created.metadata.name, "Succeeded", 150_000);

  const table = await kubectlQdrant(["backups", "list", "-n", w.ns]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^NAME\s+SCHEDULE\s+COLLECTION\s+PHASE\s+SIZE\s+STARTED\s+AGE$/m);
  assert.match(table.stdout, new RegExp(`^${created.metadata.name}\\s+<none>\\s+${w.collection}\\s+Succeeded\\s+\\d`, "m"));

  // After a disaster: the resource is gone (Retain is the default), the bucket still has the backup.
  await kubectl(["delete", "-n", w.ns, "qdrantbackup", created.metadata.name, "--wait=true", "--timeout=60s"]);
  await eventually("the QdrantBackup to be gone", async () => ((await getJson(w.ns, "qdrantbackup", created.metadata.name)) === undefined ? true : undefined));
  const bucket = json<Listed & { bucket: string }>(await kubectlQdrant(["backups", "list", "--from-bucket", "s3", "-n", w.ns, "-o", "json"]));
  assert.equal(bucket.bucket, w.bucket);
  const row = bucket.items.find((r) => r.id === backup.status?.backupId);
  assert.ok(row, `the bucket lists backup ${backup.status?.backupId}: ${JSON.stringify(bucket.items)}`);
  assert.equal(row.collection, w.collection);
  assert.equal(row.state, "Complete");
  assert.equal(row.backup, created.metadata.name);
  const bucketTable = await kubectlQdrant(["backups", "list", "--from-bucket=s3", "-n", w.ns]);
  assert.match(bucketTable.stdout, new RegExp(`^${backup.status?.backupId}\\s+${w.ns}\\s+qdrant\\s+${w.collection}\\s+Complete\\s`, "m"));
});

test("restore --as --wait restores a backup into another collection and returns once it Succeeded", async (t) => {
  const w = await world(t, "e2e-cli-restore");
  const created = json<{ metadata: { name: string } }>(await kubectlQdrant(["backup", "now", w.collection, "--connection", "qdrant", "--location", "s3", "-n", w.ns, "-o", "json"]));
  await waitForPhase(w.ns, created.metadata.name, "Succeeded", 150_000);
  const copy = `${w.collection}_cli`;
  cleanupOnQdrant(t, w.qdrant.url, w.apiKey, [copy]);
  const r = await kubectlQdrant(["restore", created.metadata.name, "--as", copy, "--wait", "-n", w.ns]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^qdrantrestore/restore-${created.metadata.name}-\\w+ Succeeded into ${copy}`, "m"));
  assert.deepEqual(await allPoints(w.qdrant.url, copy, w.apiKey), await allPoints(w.qdrant.url, w.collection, w.apiKey));
});
