/**
 * QdrantBackup end to end: the real manager process, the control plane's Job and garbage-collector
 * controllers, the node agent running the Job's pod, MinIO and a Qdrant emulator. A backup becomes a Job
 * of the operator's image owned by it; the Job's result (or its failure, JSON or not) lands in the
 * backup's status; references that do not exist yet, and a foreign Job in the way, say what to fix;
 * deleting a backup removes its Job, and with deletionPolicy Delete its data (manifests first).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { API_VERSION } from "../src/api/group.ts";
import { backupId } from "../src/backup/layout/backup-id.ts";
import { manifestKey, snapshotKey } from "../src/backup/layout/object-keys.ts";
import { backupNameFor } from "../src/backup/schedule/backup-name.ts";
import { CLOCK_OFFSET_ENV } from "../src/manager/test-clock.ts";
import { kubectl } from "../test/helpers/kubectl.ts";
import { s3Client } from "../test/helpers/s3.ts";
import { eventually, testEnv } from "../test/helpers/testenv.ts";
import { apply, assertRestorable, backupObj, condition, getBackup, getJson, OPERATOR_IMAGE, waitForPhase, world, type Job } from "./helpers/backup-world.ts";

test("a backup of a collection: the Job's result fills the status, the manifest is in the bucket, metrics and Events follow", async (t) => {
  const w = await world(t, "e2e-backup-ok");
  await apply(w.ns, [backupObj("now", { collections: { names: [w.collection] } })]);

  // The Job as built: ours, the operator's image, secrets by reference only.
  const job = await eventually("the backup Job", () => getJson<Job>(w.ns, "job", "backup-now"));
  const b0 = await getBackup(w.ns, "now");
  assert.deepEqual(job.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.uid, r.controller]), [["QdrantBackup", "now", b0.metadata.uid, true]]);
  assert.equal(job.metadata.labels?.["qdrant-operator.dev/backup"], "now");
  const container = job.spec.template.spec.containers[0]!;
  assert.equal(container.image, OPERATOR_IMAGE);
  assert.deepEqual(container.args, ["job", "backup"]);
  assert.equal(job.spec.template.spec.automountServiceAccountToken, false);
  assert.deepEqual(job.spec.podFailurePolicy, { rules: [{ action: "FailJob", onExitCodes: { containerName: "backup", operator: "In", values: [2] } }] });
  const jobText = JSON.stringify(job);
  for (const value of [w.apiKey, w.s3SecretKey]) assert.ok(!jobText.includes(value), "no secret value in the Job");
  assert.deepEqual(container.env?.find((e) => e.name === "QDRANT_API_KEY")?.valueFrom, { secretKeyRef: { name: "qdrant-key", key: "api-key" } });

  const b = await waitForPhase(w.ns, "now", "Succeeded", 120_000);
  const expectedId = backupId(new Date(b.metadata.creationTimestamp), b.metadata.uid);
  assert.equal(b.status?.backupId, expectedId);
  assert.equal(b.status?.jobName, "backup-now");
  assert.deepEqual([condition(b, "Ready")?.status, condition(b, "Ready")?.reason, condition(b, "Failed")?.status], ["True", "Succeeded", "False"]);
  assert.ok(b.status?.startTime && b.status.completionTime);
  const col = b.status?.collections?.[0];
  assert.equal(col?.name, w.collection);
  assert.equal(col?.pointsCount, 20);
  const key = manifestKey({ prefix: "qdrant/e2e", namespace: w.ns, connection: "qdrant", collection: w.collection, backupId: expectedId });
  assert.equal(col?.manifestKey, key);
  assert.ok((b.status?.sizeBytes ?? 0) > 0);
  await assertRestorable(t, w, key);

  const events = (await kubectl(["get", "events.events.k8s.io", "-n", w.ns, "-o", "json"])).stdout;
  assert.match(events, /"reason": "Created"/);
  assert.match(events, /"reason": "Succeeded"/);

  // Metrics, from the manager's /metrics.
  const address = /"address":"([^"]+)","msg":"Starting metrics and health server"/.exec(await w.manager.log())?.[1];
  assert.ok(address, "the manager logged its metrics address");
  const metrics = await (await fetch(`http://${address}/metrics`)).text();
  assert.match(metrics, new RegExp(`qdrant_operator_backup_last_success_timestamp_seconds\\{namespace="${w.ns}",schedule="",collection="${w.collection}"\\} \\d+`));
  assert.match(metrics, new RegExp(`qdrant_operator_backup_duration_seconds_count\\{namespace="${w.ns}",schedule="",phase="Succeeded"\\} 1`));
  assert.match(metrics, new RegExp(`qdrant_operator_backup_last_status\\{namespace="${w.ns}",schedule=""\\} 1`));
});

test("a */1 schedule under a controlled clock: its tick's backup runs as a Job and is restorable", async (t) => {
  let tick = new Date(NaN);
  const w = await world(t, "e2e-chain", {
    // The schedule exists before the manager starts, so its first tick is known; the manager's clock is
    // set so that tick comes a few seconds after start, instead of waiting for a real minute boundary.
    managerEnv: async (ns, collection) => {
      await apply(ns, [{ apiVersion: API_VERSION, kind: "QdrantBackupSchedule", metadata: { name: "every-minute" }, spec: { schedule: "*/1 * * * *", connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: [collection] } } }]);
      const created = (await getJson<{ metadata: { creationTimestamp: string } }>(ns, "qdrantbackupschedule", "every-minute"))?.metadata.creationTimestamp ?? "";
      tick = new Date(Math.floor(Date.parse(created) / 60_000) * 60_000 + 60_000);
      return { [CLOCK_OFFSET_ENV]: String(tick.getTime() - Date.now() - 8_000) };
    },
  });
  const name = backupNameFor("every-minute", tick);
  const b = await waitForPhase(w.ns, name, "Succeeded", 150_000);
  const key = b.status?.collections?.[0]?.manifestKey ?? "";
  assert.equal(key, manifestKey({ prefix: "qdrant/e2e", namespace: w.ns, connection: "qdrant", collection: w.collection, backupId: backupId(new Date(b.metadata.creationTimestamp), b.metadata.uid) }));
  await assertRestorable(t, w, key);
  await eventually("the schedule to record the success", async () => {
    const o = await getJson<{ status?: { lastSuccessfulTime?: string; history?: Array<{ name: string; phase: string }> } }>(w.ns, "qdrantbackupschedule", "every-minute");
    return o?.status?.lastSuccessfulTime && o.status.history?.[0]?.name === name && o.status.history[0].phase === "Succeeded" ? true : undefined;
  });
});

test("missing references wait with ReferenceNotFound naming the field; a ReadOnly location and a foreign Job fail the backup", async (t) => {
  const w = await world(t, "e2e-backup-refs");
  await apply(w.ns, [
    backupObj("no-conn", { connectionRef: { name: "missing" } }),
    backupObj("no-loc", { locationRef: { name: "missing" } }),
    { apiVersion: API_VERSION, kind: "QdrantBackupLocation", metadata: { name: "ro" }, spec: { accessMode: "ReadOnly", s3: { bucket: w.bucket, endpoint: testEnv().s3.endpoint, forcePathStyle: true, credentials: { secretRef: { name: "s3-creds" } } } } },
    backupObj("read-only", { locationRef: { name: "ro" } }),
    // A Job already holds the name the backup "taken" would use, and it is not the backup's.
    { apiVersion: "batch/v1", kind: "Job", metadata: { name: "backup-taken" }, spec: { backoffLimit: 0, template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "docker.io/library/busybox:1.37", args: ["-c", "exit 0"] }] } } } },
  ]);
  await apply(w.ns, [backupObj("taken", {})]);

  for (const [name, field] of [["no-conn", /spec\.connectionRef: QdrantConnection .*\/missing does not exist/], ["no-loc", /spec\.locationRef: QdrantBackupLocation .*\/missing does not exist/]] as const) {
    const b = await eventually(`${name} ReferenceNotFound`, async () => {
      const x = await getBackup(w.ns, name);
      return condition(x, "Ready")?.reason === "ReferenceNotFound" ? x : undefined;
    });
    assert.equal(b.status?.phase, "Pending");
    assert.equal(condition(b, "Ready")?.status, "False");
    assert.match(condition(b, "Ready")!.message, field);
    assert.equal(await getJson(w.ns, "job", `backup-${name}`), undefined, "no Job while a reference is missing");
  }
  const ro = await waitForPhase(w.ns, "read-only", "Failed");
  assert.equal(ro.status?.failure?.reason, "LocationReadOnly");
  assert.match(ro.status.failure.message, /is ReadOnly/);
  const taken = await waitForPhase(w.ns, "taken", "Failed");
  assert.equal(taken.status?.failure?.reason, "JobConflict");
  assert.match(taken.status.failure.message, /a Job named backup-taken exists and is not ours/);
  const foreign = await getJson<Job>(w.ns, "job", "backup-taken");
  assert.equal(foreign?.metadata.ownerReferences, undefined, "the foreign Job is left alone");
});

test("a Job that fails without a JSON result: its log tail becomes the failure; deleting the backup removes the Job", async (t) => {
  const w = await world(t, "e2e-backup-fail");
  // busybox runs `sh job backup`, which fails with a shell error on stderr and no termination message.
  await apply(w.ns, [backupObj("broken", { job: { image: "docker.io/library/busybox:1.37", backoffLimit: 0 } })]);
  const b = await waitForPhase(w.ns, "broken", "Failed");
  assert.deepEqual([condition(b, "Ready")?.status, condition(b, "Failed")?.status], ["False", "True"]);
  assert.match(b.status!.failure!.message, /the last attempt exited \d+: .*job/);
  assert.equal(b.status?.jobName, "backup-broken");
  const events = (await kubectl(["get", "events.events.k8s.io", "-n", w.ns, "--field-selector", "regarding.name=broken", "-o", "json"])).stdout;
  assert.match(events, /"reason": "Failed"/);
  assert.match(events, /"type": "Warning"/);

  await kubectl(["delete", "-n", w.ns, "qdrantbackup", "broken", "--wait=true", "--timeout=30s"]);
  await eventually("the garbage collector to delete the Job", async () => ((await getJson(w.ns, "job", "backup-broken")) === undefined ? true : undefined));
});

test("deletionPolicy Delete: a finalizer holds the backup until its objects are gone, other backups' objects stay", async (t) => {
  const w = await world(t, "e2e-backup-delete");
  await apply(w.ns, [backupObj("doomed", { deletionPolicy: "Delete", job: { image: "docker.io/library/busybox:1.37", backoffLimit: 0 } })]);
  const b = await waitForPhase(w.ns, "doomed", "Failed");
  assert.deepEqual(b.metadata.finalizers, ["qdrant-operator.dev/backup-data"]);

  // What a backup of two collections by this backup leaves behind, and another backup's objects.
  const id = backupId(new Date(b.metadata.creationTimestamp), b.metadata.uid);
  const other = backupId(new Date(b.metadata.creationTimestamp), "00000000-0000-4000-8000-000000000000");
  const base = { prefix: "qdrant/e2e", namespace: w.ns, connection: "qdrant" };
  const ours = ["policies", "users"].flatMap((collection) => [manifestKey({ ...base, collection, backupId: id }), snapshotKey({ ...base, collection, backupId: id }, "1")]);
  const theirs = [manifestKey({ ...base, collection: "policies", backupId: other }), snapshotKey({ ...base, collection: "policies", backupId: other }, "1")];
  const s3 = s3Client();
  t.after(() => s3.destroy());
  for (const Key of [...ours, ...theirs]) await s3.send(new PutObjectCommand({ Bucket: w.bucket, Key, Body: "x" }));

  await kubectl(["delete", "-n", w.ns, "qdrantbackup", "doomed", "--wait=false"]);
  await eventually("the QdrantBackup to be gone", async () => ((await getJson(w.ns, "qdrantbackup", "doomed")) === undefined ? true : undefined));
  const left = (await s3.send(new ListObjectsV2Command({ Bucket: w.bucket }))).Contents?.map((o) => o.Key).sort();
  assert.deepEqual(left, [...theirs].sort());
  await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: w.bucket, Key: ours[0] })));
  const events = (await kubectl(["get", "events.events.k8s.io", "-n", w.ns, "-o", "json"])).stdout;
  assert.match(events, /Deleted 2 manifests and 2 other objects of backup/);
});
