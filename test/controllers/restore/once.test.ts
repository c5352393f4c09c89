/**
 * The QdrantRestore controller in the real manager process (as its generated ServiceAccount) against the
 * real apiserver, the environment's MinIO and Qdrant: a QdrantBackup of a 20-point collection, then a Once
 * restore of it into a new name while the original keeps serving, through its Job to Succeeded, with the
 * same points (ids, vectors, payloads), its status filled in, and the drill finalizer never added.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { stringify } from "yaml";
import { API_VERSION } from "../../../src/api/group.ts";
import { ensureCrds } from "../../helpers/crds.ts";
import { kubectl } from "../../helpers/kubectl.ts";
import { startManager } from "../../helpers/manager.ts";
import { allPoints, apiKeyForSecret, qdrantApi, qdrantUnderTest, useCollection } from "../../helpers/qdrant.ts";
import { bucketOnlyUser, useBucket } from "../../helpers/s3.ts";
import { eventually, testEnv, useNamespace } from "../../helpers/testenv.ts";

interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
}
interface Obj {
  metadata: { name: string; generation?: number; finalizers?: string[] };
  status?: {
    phase?: string;
    conditions?: Cond[];
    backupId?: string;
    targetCollection?: string;
    jobName?: string;
    jobCount?: number;
    attempt?: number;
    restoreCount?: number;
    lastRestoreTime?: string;
    startTime?: string;
    completionTime?: string;
    durationSeconds?: number;
    pointsCount?: { expected?: number; actual?: number };
    observedGeneration?: number;
  };
}

const apply = (ns: string, objects: object[]) => kubectl(["apply", "-n", ns, "-f", "-"], objects.map((o) => stringify(o)).join("---\n"));
const get = async (ns: string, resource: string, name: string) => JSON.parse((await kubectl(["get", "-n", ns, resource, name, "-o", "json"])).stdout) as Obj;

/** Waits for `phase`; a different final phase ends the wait at once, showing the status. */
function waitForPhase(ns: string, resource: string, name: string, phase: string, timeoutMs = 180_000): Promise<Obj> {
  return eventually(
    `${resource}/${name} phase ${phase}`,
    async () => {
      const obj = await get(ns, resource, name);
      const p = obj.status?.phase;
      if (p !== phase && (p === "Succeeded" || p === "Failed")) throw new Error(`${resource}/${name} ended ${p}: ${JSON.stringify(obj.status)}`);
      return p === phase ? obj : undefined;
    },
    timeoutMs,
  );
}

test("a Once restore of a QdrantBackup into a new name runs its Job to Succeeded and brings back the same points", async (t) => {
  await ensureCrds();
  const collection = await useCollection(t, "policies");
  const restored = `${collection}_restored`;
  const api = qdrantApi();
  t.after(async () => {
    await api.deleteCollection(restored).catch(() => undefined);
  });
  const ns = await useNamespace(t, "restore-once");
  const bucket = await useBucket(t);
  const creds = await bucketOnlyUser(bucket);
  const manager = await startManager(t, [ns]);
  await apply(ns, [
    { apiVersion: "v1", kind: "Secret", metadata: { name: "qdrant-key" }, stringData: { "api-key": apiKeyForSecret() } },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "s3-creds" }, stringData: { AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey } },
    { apiVersion: API_VERSION, kind: "QdrantConnection", metadata: { name: "qdrant" }, spec: { url: qdrantUnderTest().url, apiKeySecretRef: { name: "qdrant-key", key: "api-key" }, peers: { mode: "None" } } },
    {
      apiVersion: API_VERSION,
      kind: "QdrantBackupLocation",
      metadata: { name: "s3" },
      spec: { s3: { bucket, prefix: "qdrant/restore", endpoint: testEnv().s3.endpoint, region: testEnv().s3.region, forcePathStyle: true, credentials: { secretRef: { name: "s3-creds" } } } },
    },
    { apiVersion: API_VERSION, kind: "QdrantBackup", metadata: { name: "b1" }, spec: { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: [collection] } } },
  ]);
  const backup = await waitForPhase(ns, "qdrantbackup", "b1", "Succeeded");
  const restore = {
    apiVersion: API_VERSION,
    kind: "QdrantRestore",
    metadata: { name: "r1" },
    spec: { source: { backupRef: { name: "b1" } }, target: { connectionRef: { name: "qdrant" }, collection: restored } },
  };
  await apply(ns, [restore]);
  const done = await waitForPhase(ns, "qdrantrestore", "r1", "Succeeded");

  const s = done.status!;
  assert.equal(s.backupId, backup.status?.backupId);
  assert.equal(s.targetCollection, restored);
  assert.deepEqual([s.jobName, s.jobCount, s.attempt, s.restoreCount], ["restore-r1-1", 1, 1, 1]);
  assert.deepEqual(s.pointsCount, { expected: 20, actual: 20 });
  assert.equal(s.lastRestoreTime, s.completionTime);
  assert.ok(s.durationSeconds !== undefined && s.durationSeconds >= 0, JSON.stringify(s));
  assert.equal(s.observedGeneration, 1);
  const ready = s.conditions?.find((c) => c.type === "Ready");
  assert.deepEqual([ready?.status, ready?.reason], ["True", "Restored"]);
  assert.match(ready?.message ?? "", new RegExp(`^Restored backup ${s.backupId} into collection ${restored} \\(20 points\\)`));
  assert.deepEqual([s.conditions?.find((c) => c.type === "Failed")?.status, s.conditions?.find((c) => c.type === "Accepted")?.status], ["False", "True"]);
  assert.equal(done.metadata.finalizers, undefined, "only drills carry a finalizer");

  // The same points, and the original still there beside it.
  assert.deepEqual(await allPoints(restored), await allPoints(collection));
  assert.equal((await allPoints(collection)).length, 20);

  // Its one Job ran one pod: the controller makes the retries.
  const job = JSON.parse((await kubectl(["get", "-n", ns, "job", "restore-r1-1", "-o", "json"])).stdout) as { spec: { backoffLimit: number }; metadata: { labels: Record<string, string> } };
  assert.equal(job.spec.backoffLimit, 0);
  assert.equal(job.metadata.labels["qdrant-operator.dev/restore"], "r1");

  // Events say what happened.
  const events = (await kubectl(["get", "-n", ns, "events.events.k8s.io", "--field-selector", "regarding.name=r1", "-o", "jsonpath={range .items[*]}{.reason}: {.note}{\"\\n\"}{end}"])).stdout;
  assert.match(events, /Created: Created Job restore-r1-1 for backup /);
  assert.match(events, /Restored: Restored backup /);

  // Re-applying the same object is no new generation: nothing runs again.
  await apply(ns, [restore]);
  const again = await get(ns, "qdrantrestore", "r1");
  assert.equal(again.metadata.generation, 1);
  assert.equal(again.status?.jobCount, 1);
  assert.doesNotMatch(await manager.log(), /restore-r1-2/);
});
