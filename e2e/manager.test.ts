/**
 * The operator's manager, as a process, against the real control plane, MinIO and a Qdrant emulator:
 * every example is accepted and gets observedGeneration and conditions; bad connections and storage end
 * in conditions that say what to fix; no secret value reaches the log or an Event.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { stringify } from "yaml";
import { API_VERSION } from "../src/api/group.ts";
import { startEmulator } from "../test/emulator/index.ts";
import { renderExamples } from "../test/env/examples.ts";
import { freePort } from "../test/env/ports.ts";
import { ensureCrds } from "../test/helpers/crds.ts";
import { kubectl } from "../test/helpers/kubectl.ts";
import { startManager } from "../test/helpers/manager.ts";
import { bucketOnlyUser, useBucket } from "../test/helpers/s3.ts";
import { eventually, testEnv, useNamespace } from "../test/helpers/testenv.ts";

interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}
interface Obj {
  metadata: { generation: number };
  status?: { observedGeneration?: number; conditions?: Cond[]; version?: string; mode?: string; peers?: Array<{ url: string }> };
}

async function getObj(ns: string, resource: string, name: string): Promise<Obj> {
  return JSON.parse((await kubectl(["get", "-n", ns, resource, name, "-o", "json"])).stdout) as Obj;
}

/** Waits until `resource/name`'s condition `type` has the given status (and reason, if given). */
async function waitForCondition(ns: string, resource: string, name: string, type: string, status: string, reason?: string): Promise<{ obj: Obj; cond: Cond }> {
  return eventually(`${resource}/${name} ${type}=${status}${reason ? ` (${reason})` : ""}`, async () => {
    const obj = await getObj(ns, resource, name);
    const cond = obj.status?.conditions?.find((c) => c.type === type);
    return cond && cond.status === status && (!reason || cond.reason === reason) ? { obj, cond } : undefined;
  });
}

test("every example is reconciled: connection and location checked, the rest accepted with observedGeneration", async (t) => {
  await ensureCrds();
  const ns = await useNamespace(t, "e2e-examples");
  const apiKey = `qk-${randomBytes(12).toString("hex")}`;
  const qdrant = await startEmulator({ apiKey });
  t.after(() => qdrant.stop());
  const bucket = await useBucket(t);
  const creds = await bucketOnlyUser(bucket);
  await startManager(t, [ns]);
  await kubectl(["apply", "-n", ns, "-f", "-"], await renderExamples({ qdrantUrl: qdrant.url, qdrantApiKey: apiKey, s3Endpoint: testEnv().s3.endpoint, bucket, ...creds }));

  const conn = await waitForCondition(ns, "qdrantconnection", "qdrant", "Ready", "True", "Connected");
  assert.equal(conn.obj.status?.version, "1.19.0");
  assert.equal(conn.obj.status?.mode, "Standalone");
  assert.equal(conn.obj.status?.observedGeneration, 1);
  assert.equal(conn.cond.observedGeneration, 1);
  const loc = await waitForCondition(ns, "qdrantbackuplocation", "s3", "Ready", "True", "Available");
  assert.match(loc.cond.message, new RegExp(`Bucket ${bucket} is reachable`));

  // The schedule has its controller: Ready with its next run (02:00 Berlin is 00:00 or 01:00 UTC).
  const scheduled = await waitForCondition(ns, "qdrantbackupschedule", "policies-nightly", "Ready", "True", "Scheduled");
  assert.equal(scheduled.obj.status?.observedGeneration, 1);
  assert.match(scheduled.cond.message, /^Next backup at \d{4}-\d\d-\d\dT0[01]:00:00Z\.$/);
  // The restore has its controller: `policies` is missing from the fresh emulator, so it restores it, and
  // the fresh bucket has no backup of it `latest` could use (the manual backup of the example finds no
  // collection to back up), which its Ready condition says.
  const restore = await eventually("qdrantrestore/policies-if-missing waiting for a backup", async () => {
    const obj = await getObj(ns, "qdrantrestore", "policies-if-missing");
    const ready = obj.status?.conditions?.find((c) => c.type === "Ready");
    return ready?.status === "False" && (ready.reason === "BackupNotFound" || ready.reason === "BackupNotUsable") ? { obj, ready } : undefined;
  });
  assert.equal(restore.obj.status?.observedGeneration, 1);
  assert.equal(restore.obj.status?.conditions?.find((c) => c.type === "Accepted")?.reason, "Validated");
  assert.match(restore.ready.message, /policies/);
  // The rollout has its controller: the fresh emulator has no policies_v1 behind policies_production, so
  // copyFrom has nothing to copy, which its Ready condition says (e2e/rollout-*.test.ts: the rest).
  const rollout = await waitForCondition(ns, "collectionrollout", "policies-v2", "Ready", "False", "SourceNotFound");
  assert.equal(rollout.obj.status?.observedGeneration, 1);
  assert.match(rollout.cond.message, /copyFrom/);

  // QdrantBackups have their own controller (e2e/backup.test.ts): the example is accepted and runs a Job.
  const manual = await waitForCondition(ns, "qdrantbackup", "policies-manual", "Accepted", "True", "Validated");
  assert.equal(manual.obj.status?.observedGeneration, 1);

  // A spec change is observed: the generation moves and so does observedGeneration.
  await kubectl(["patch", "-n", ns, "qdrantbackupschedule", "policies-nightly", "--type=merge", "-p", '{"spec":{"suspend":true}}']);
  await eventually("observedGeneration 2", async () => ((await getObj(ns, "qdrantbackupschedule", "policies-nightly")).status?.observedGeneration === 2 ? true : undefined));
  const { stdout } = await kubectl(["wait", "-n", ns, "--for=condition=Ready", "qdrantconnection/qdrant", "qdrantbackuplocation/s3", "--timeout=5s"]);
  assert.match(stdout, /condition met/);
});

test("bad connections and storage end in conditions that say what to fix, and no secret leaks", async (t) => {
  await ensureCrds();
  const ns = await useNamespace(t, "e2e-bad");
  const apiKey = `qk-${randomBytes(12).toString("hex")}`;
  const wrongKey = `wrong-${randomBytes(12).toString("hex")}`;
  const qdrant = await startEmulator({ apiKey });
  t.after(() => qdrant.stop());
  const bucket = await useBucket(t);
  const otherBucket = await useBucket(t);
  const creds = await bucketOnlyUser(bucket);
  const wrongSecret = `s3-${randomBytes(12).toString("hex")}`;
  const manager = await startManager(t, [ns]);
  const closedPort = await freePort(); // free now, and nothing listens on it

  const secret = (name: string, data: Record<string, string>) => ({ apiVersion: "v1", kind: "Secret", metadata: { name }, stringData: data });
  const conn = (name: string, spec: Record<string, unknown>) => ({ apiVersion: API_VERSION, kind: "QdrantConnection", metadata: { name }, spec });
  const loc = (name: string, s3: Record<string, unknown>) => ({ apiVersion: API_VERSION, kind: "QdrantBackupLocation", metadata: { name }, spec: { s3: { endpoint: testEnv().s3.endpoint, forcePathStyle: true, ...s3 } } });
  const objects = [
    secret("wrong-key", { "api-key": wrongKey }),
    secret("good-s3", { AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey }),
    secret("bad-s3", { AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: wrongSecret }),
    // Only credentials allowed to see every bucket learn that one is missing; to a one-bucket user S3 says 403.
    secret("admin-s3", { AWS_ACCESS_KEY_ID: testEnv().s3.accessKeyId, AWS_SECRET_ACCESS_KEY: testEnv().s3.secretAccessKey }),
    conn("wrong-key", { url: qdrant.url, apiKeySecretRef: { name: "wrong-key", key: "api-key" } }),
    conn("no-secret", { url: qdrant.url, apiKeySecretRef: { name: "missing", key: "api-key" } }),
    conn("no-key-in-secret", { url: qdrant.url, apiKeySecretRef: { name: "wrong-key", key: "token" } }),
    conn("unreachable", { url: `http://127.0.0.1:${closedPort}`, timeoutSeconds: 2 }),
    loc("wrong-credentials", { bucket, credentials: { secretRef: { name: "bad-s3" } } }),
    loc("missing-bucket", { bucket: `missing-${randomBytes(4).toString("hex")}`, credentials: { secretRef: { name: "admin-s3" } } }),
    loc("other-bucket", { bucket: otherBucket, credentials: { secretRef: { name: "good-s3" } } }),
  ];
  await kubectl(["apply", "-n", ns, "-f", "-"], objects.map((o) => stringify(o)).join("---\n"));

  const cases: Array<[string, string, string, RegExp]> = [
    ["qdrantconnection", "wrong-key", "QdrantUnauthorized", /401 Invalid API key or JWT/],
    ["qdrantconnection", "no-secret", "SecretNotFound", /spec\.apiKeySecretRef\.name: Secret .*\/missing does not exist/],
    ["qdrantconnection", "no-key-in-secret", "SecretNotFound", /spec\.apiKeySecretRef\.key: Secret .*\/wrong-key has no key "token"/],
    ["qdrantconnection", "unreachable", "QdrantUnreachable", new RegExp(`GET http://127\\.0\\.0\\.1:${closedPort}/: ECONNREFUSED`)],
    ["qdrantbackuplocation", "wrong-credentials", "StorageAccessDenied", /^spec\.s3\.credentials: HeadBucket on bucket .* was refused \(SignatureDoesNotMatch\); check the access key and secret$/],
    ["qdrantbackuplocation", "missing-bucket", "BucketNotFound", /spec\.s3\.bucket: bucket "missing-[0-9a-f]+" does not exist/],
    ["qdrantbackuplocation", "other-bucket", "StorageAccessDenied", /^spec\.s3\.bucket, spec\.s3\.credentials: HeadBucket on bucket "test-[0-9a-f]+" was refused \(HTTP 403\): the bucket is missing, or not permitted for these credentials; check the bucket's name, the access key and secret, and the bucket's policy$/],
  ];
  for (const [resource, name, reason, message] of cases) {
    const { cond } = await waitForCondition(ns, resource, name, "Ready", "False", reason);
    assert.match(cond.message, message, `${resource}/${name}`);
  }
  // Warning Events were recorded for each; none of them, nor the log, nor any status holds a secret.
  const events = (await kubectl(["get", "events.events.k8s.io", "-n", ns, "-o", "json"])).stdout;
  assert.match(events, /"reason": "QdrantUnauthorized"/);
  const statuses = (await kubectl(["get", "qdrantconnections,qdrantbackuplocations", "-n", ns, "-o", "json"])).stdout;
  const log = await manager.log();
  for (const value of [wrongKey, apiKey, wrongSecret, creds.secretAccessKey, testEnv().s3.secretAccessKey]) {
    for (const [what, text] of [["Events", events], ["statuses", statuses], ["manager log", log]] as const) {
      assert.ok(!text.includes(value), `a secret value appears in the ${what}`);
    }
  }
});
