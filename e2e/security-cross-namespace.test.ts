/**
 * A Secret is its namespace's: a QdrantConnection, QdrantBackupLocation, QdrantBackup or QdrantRestore in
 * namespace A cannot use a Secret that exists only in namespace B — not even when one manager watches
 * both and may read Secrets in each. A reference has no namespace field (the schema refuses one), the
 * controllers look the name up in the resource's own namespace (SecretNotFound naming A/<name>), and the
 * Job gets credentials only through secretKeyRef, which Kubernetes resolves in the Job's own namespace.
 *
 * And the manager runs with the generated RBAC only: its identity is the operator's ServiceAccount, which
 * may get (never list) Secrets, and only in the namespaces it watches.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { stringify } from "yaml";
import { API_VERSION } from "../src/api/group.ts";
import { ensureCrds } from "../test/helpers/crds.ts";
import { condition, waitForReadyFalse } from "../test/helpers/kube-objects.ts";
import { kubectl } from "../test/helpers/kubectl.ts";
import { startManager } from "../test/helpers/manager.ts";
import { can, MANAGER_USER } from "../test/helpers/operator-identity.ts";
import { apiKeyForSecret, qdrantUnderTest, useCollection } from "../test/helpers/qdrant.ts";
import { bucketOnlyUser, useBucket } from "../test/helpers/s3.ts";
import { eventually, testEnv, useNamespace } from "../test/helpers/testenv.ts";
import { apply, backupObj, getBackup, secret, waitForPhase, type Job } from "./helpers/backup-world.ts";
import { restoreObj } from "./helpers/restore-world.ts";

const connection = (name: string, keySecret: string) => ({
  apiVersion: API_VERSION,
  kind: "QdrantConnection",
  metadata: { name },
  spec: { url: qdrantUnderTest().url, apiKeySecretRef: { name: keySecret, key: "api-key" }, peers: { mode: "None" } },
});
const location = (name: string, bucket: string, credsSecret: string) => ({
  apiVersion: API_VERSION,
  kind: "QdrantBackupLocation",
  metadata: { name },
  spec: { s3: { bucket, prefix: "qdrant/e2e", endpoint: testEnv().s3.endpoint, region: testEnv().s3.region, forcePathStyle: true, credentials: { secretRef: { name: credsSecret } } } },
});

test("nothing in namespace A can use a Secret that exists only in namespace B, though the manager watches both", async (t) => {
  await ensureCrds();
  const collection = await useCollection(t, "policies");
  const a = await useNamespace(t, "sec-a");
  const b = await useNamespace(t, "sec-b");
  const bucket = await useBucket(t);
  const creds = await bucketOnlyUser(bucket);
  await startManager(t, [a, b]);
  const apiKey = apiKeyForSecret();
  // B holds the only copies of these: the right values, under names A's resources point at.
  await apply(b, [
    secret("b-key", { "api-key": apiKey }),
    secret("b-s3", { AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey }),
    { apiVersion: "v1", kind: "Secret", metadata: { name: "b-unused" }, stringData: { token: `tok-${randomBytes(16).toString("hex")}` } },
  ]);
  await apply(a, [
    secret("qdrant-key", { "api-key": apiKey }),
    secret("s3-creds", { AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey }),
    connection("qdrant", "qdrant-key"),
    location("s3", bucket, "s3-creds"),
    connection("qdrant-b", "b-key"),
    location("s3-b", bucket, "b-s3"),
  ]);

  // The schema has no field to name another namespace's Secret.
  const withNamespace = { ...connection("sneaky", "b-key"), metadata: { name: "sneaky", namespace: a } };
  withNamespace.spec.apiKeySecretRef = { ...withNamespace.spec.apiKeySecretRef, namespace: b } as typeof withNamespace.spec.apiKeySecretRef;
  await assert.rejects(kubectl(["apply", "-f", "-"], stringify(withNamespace)), (err: { stderr?: string }) => {
    assert.match(err.stderr ?? "", /unknown field "spec\.apiKeySecretRef\.namespace"/);
    return true;
  });

  // The connection and the location look the names up in A, and say so.
  const conn = await waitForReadyFalse(a, "qdrantconnection", "qdrant-b", "SecretNotFound");
  assert.match(condition(conn, "Ready")!.message, new RegExp(`spec\\.apiKeySecretRef\\.name: Secret ${a}/b-key does not exist`));
  const loc = await waitForReadyFalse(a, "qdrantbackuplocation", "s3-b", "SecretNotFound");
  assert.match(condition(loc, "Ready")!.message, new RegExp(`spec\\.s3\\.credentials\\.secretRef\\.name: Secret ${a}/b-s3 does not exist`));

  // A backup through either waits, naming A's missing Secret; no Job is made.
  await apply(a, [
    backupObj("via-b-key", { connectionRef: { name: "qdrant-b" }, collections: { names: [collection] } }),
    backupObj("via-b-s3", { locationRef: { name: "s3-b" }, collections: { names: [collection] } }),
    backupObj("good", { collections: { names: [collection] } }),
  ]);
  for (const [name, secretName] of [["via-b-key", "b-key"], ["via-b-s3", "b-s3"]] as const) {
    const waiting = await eventually(`${name} to wait for its Secret`, async () => {
      const x = await getBackup(a, name);
      return condition(x, "Ready")?.reason === "SecretNotFound" ? x : undefined;
    });
    assert.equal(waiting.status?.phase, "Pending", name);
    assert.match(condition(waiting, "Ready")!.message, new RegExp(`Secret ${a}/${secretName} does not exist`), name);
  }

  // The backup through A's own Secrets runs: its Job's credentials are secretKeyRefs, which name only A's Secrets.
  const job = await eventually("the good backup's Job", async () => {
    const jobName = (await getBackup(a, "good")).status?.jobName;
    if (!jobName) return undefined;
    const out = await kubectl(["get", "job", "-n", a, jobName, "-o", "json"]).catch(() => undefined);
    return out ? (JSON.parse(out.stdout) as Job & { metadata: { namespace: string }; spec: { template: { spec: { volumes?: Array<{ secret?: { secretName: string } }> } } } }) : undefined;
  });
  assert.equal(job.metadata.namespace, a);
  const refs = job.spec.template.spec.containers.flatMap((c) => (c.env ?? []).map((e) => (e.valueFrom as { secretKeyRef?: { name: string; namespace?: string } } | undefined)?.secretKeyRef).filter((r) => r !== undefined));
  assert.ok(refs.length >= 3, `the Job reads the API key and both S3 keys by secretKeyRef: ${JSON.stringify(refs)}`);
  for (const r of refs) {
    assert.ok(["qdrant-key", "s3-creds"].includes(r.name), `the Job refers to Secret ${r.name}, not one of A's own`);
    assert.equal(r.namespace, undefined, "a secretKeyRef has no namespace: Kubernetes resolves it in the Job's");
  }
  for (const v of job.spec.template.spec.volumes ?? []) if (v.secret) assert.ok(!v.secret.secretName.startsWith("b-"), `a Secret volume of B's: ${v.secret.secretName}`);
  await waitForPhase(a, "good", "Succeeded", 150_000);

  // A restore in A can take neither B's location Secret nor B's API key.
  await apply(a, [
    restoreObj("from-b-location", { latest: { locationRef: { name: "s3-b" }, collection } }, { target: { collection: `${collection}_from_b` } }),
    restoreObj("into-b-connection", { backupRef: { name: "good" } }, { target: { connectionRef: { name: "qdrant-b" }, collection: `${collection}_into_b` } }),
  ]);
  const fromB = await waitForReadyFalse(a, "qdrantrestore", "from-b-location", "SecretNotFound");
  assert.match(condition(fromB, "Ready")!.message, new RegExp(`Secret ${a}/b-s3 does not exist`));
  const intoB = await waitForReadyFalse(a, "qdrantrestore", "into-b-connection", "SecretNotFound");
  assert.match(condition(intoB, "Ready")!.message, new RegExp(`Secret ${a}/b-key does not exist`));
});

test("the manager runs as the operator's ServiceAccount, which cannot list Secrets nor read one where it does not watch", async (t) => {
  await ensureCrds();
  const watched = await useNamespace(t, "sec-watched");
  const elsewhere = await useNamespace(t, "sec-elsewhere");
  await apply(elsewhere, [{ apiVersion: "v1", kind: "Secret", metadata: { name: "not-yours" }, stringData: { token: `tok-${randomBytes(16).toString("hex")}` } }]);
  const manager = await startManager(t, [watched]);
  const as = (q: Parameters<typeof can>[1]) => can(manager.kubeconfig, q);

  // Who it is, as the apiserver sees its token.
  const review = JSON.parse((await kubectlAs(manager.kubeconfig, ["auth", "whoami", "-o", "json"])).stdout) as { status?: { userInfo?: { username?: string } } };
  assert.equal(review.status?.userInfo?.username, MANAGER_USER);

  assert.equal(await as({ verb: "get", group: "", resource: "secrets", namespace: watched }), true, "get Secrets where it watches (the positive control)");
  assert.equal(await as({ verb: "list", group: "", resource: "secrets", namespace: watched }), false, "list Secrets where it watches");
  assert.equal(await as({ verb: "watch", group: "", resource: "secrets", namespace: watched }), false, "watch Secrets where it watches");
  assert.equal(await as({ verb: "get", group: "", resource: "secrets", namespace: elsewhere }), false, "get Secrets where it does not watch");
  assert.equal(await as({ verb: "list", group: "", resource: "secrets" }), false, "list Secrets cluster-wide");
  // And the real call, not only the review: the apiserver refuses it.
  await assert.rejects(kubectlAs(manager.kubeconfig, ["get", "secret", "-n", elsewhere, "not-yours", "-o", "json"]), (err: { stderr?: string }) => {
    assert.match(err.stderr ?? "", new RegExp(`User "${MANAGER_USER.replaceAll(".", "\\.")}" cannot get resource "secrets" in API group "" in the namespace "${elsewhere}"`));
    return true;
  });
});

/** kubectl with another identity's kubeconfig (the helper's kubectl always uses the admin's). */
function kubectlAs(kubeconfig: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(testEnv().local?.kubectl ?? "kubectl", ["--kubeconfig", kubeconfig, ...args], (err, stdout, stderr) => (err ? reject(Object.assign(new Error(`kubectl ${args.join(" ")}: ${stderr.trim()}`), { stdout, stderr })) : resolve({ stdout, stderr })));
  });
}
