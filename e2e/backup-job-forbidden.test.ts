/**
 * A backup whose Job the apiserver refuses with 403 (here a ValidatingAdmissionPolicy; in a real cluster
 * as often an admission webhook, a policy engine or a quota) says so in its condition and leaves its Qdrant's line of work:
 * a backup of the same Qdrant from another namespace runs meanwhile. Before, the create threw before the
 * backup had any status, so it stayed first in line, silently, and every later backup of that Qdrant, in
 * any namespace, waited behind it for good.
 */
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { API_VERSION } from "../src/api/group.ts";
import { ensureCrds } from "../test/helpers/crds.ts";
import { useAdmissionPolicy } from "../test/helpers/admission-policy.ts";
import { startManager } from "../test/helpers/manager.ts";
import { apiKeyForSecret, qdrantUnderTest, useCollection } from "../test/helpers/qdrant.ts";
import { bucketOnlyUser, useBucket } from "../test/helpers/s3.ts";
import { eventually, testEnv, useNamespace } from "../test/helpers/testenv.ts";
import { apply, backupObj, condition, getBackup, secret, waitForPhase } from "./helpers/backup-world.ts";

test("a backup whose Job is refused (403) says why and holds up no backup of the same Qdrant", async (t: TestContext) => {
  await ensureCrds();
  const [nsA, nsB] = [await useNamespace(t, "e2e-refused-a"), await useNamespace(t, "e2e-refused-b")];
  const collection = await useCollection(t, "policies");
  const bucket = await useBucket(t);
  const creds = await bucketOnlyUser(bucket);
  await startManager(t, [nsA, nsB]);
  // Every Job in nsA refused with 403, as a webhook or a policy engine would.
  await useAdmissionPolicy(t, nsA, {
    apiGroup: "batch",
    resource: "jobs",
    expression: "false",
    message: "Jobs are not allowed in this namespace",
    reason: "Forbidden",
    probe: { apiVersion: "batch/v1", kind: "Job", metadata: { name: "probe" }, spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } } } },
  });
  for (const ns of [nsA, nsB]) {
    await apply(ns, [
      secret("qdrant-key", { "api-key": apiKeyForSecret() }),
      secret("s3-creds", { AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey }),
      { apiVersion: API_VERSION, kind: "QdrantConnection", metadata: { name: "qdrant" }, spec: { url: qdrantUnderTest().url, apiKeySecretRef: { name: "qdrant-key", key: "api-key" }, peers: { mode: "None" } } },
      {
        apiVersion: API_VERSION,
        kind: "QdrantBackupLocation",
        metadata: { name: "s3" },
        spec: { s3: { bucket, prefix: "qdrant/e2e", endpoint: testEnv().s3.endpoint, region: testEnv().s3.region, forcePathStyle: true, credentials: { secretRef: { name: "s3-creds" } } } },
      },
    ]);
  }
  const collections = { names: [collection] };
  await apply(nsA, [backupObj("refused", { collections })]);
  const refused = await eventually(
    "the refused backup to say why",
    async () => {
      const b = await getBackup(nsA, "refused");
      return condition(b, "Ready")?.reason === "JobRefused" ? b : undefined;
    },
    90_000,
  );
  assert.equal(refused.status?.phase, "Pending");
  assert.match(condition(refused, "Ready")?.message ?? "", /^the apiserver refused to create Job backup-refused: .*HTTP 403.*denied request: Jobs are not allowed in this namespace; the backup starts once the apiserver accepts the Job/);

  // The line of work on this Qdrant is not held: a newer backup from another namespace runs.
  await apply(nsB, [backupObj("runs", { collections })]);
  await waitForPhase(nsB, "runs", "Succeeded", 120_000);
  assert.equal(condition(await getBackup(nsA, "refused"), "Ready")?.reason, "JobRefused", "still refused, still saying so");
});
