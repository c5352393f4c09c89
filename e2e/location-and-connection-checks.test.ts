/**
 * A QdrantBackupLocation's and a QdrantConnection's own Ready check say which field to fix, end to end
 * (the real manager, MinIO, the Qdrant emulator):
 * - server-side encryption the storage refuses (the environment's MinIO has no KMS: aws:kms without a
 *   key id, and with a key it does not have) is found by the location's check, not by each backup's
 *   upload; a backup on such a location waits naming the field, with no Job;
 * - a missing bucket reached by a one-bucket user (S3 answers 403, not 404) is "missing, or not
 *   permitted", naming spec.s3.bucket and spec.s3.credentials;
 * - a connection that cannot be reached, whose key is refused, or whose certificate is not trusted names
 *   spec.url, spec.apiKeySecretRef or spec.tls.caSecretRef, as a failed backup does.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer } from "node:https";
import { test } from "node:test";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { API_VERSION } from "../src/api/group.ts";
import { startEmulator } from "../test/emulator/index.ts";
import { createCertificateAuthority } from "../test/env/pki.ts";
import { ensureCrds } from "../test/helpers/crds.ts";
import { kubectl } from "../test/helpers/kubectl.ts";
import { startManager } from "../test/helpers/manager.ts";
import { s3Client } from "../test/helpers/s3.ts";
import { eventually, testEnv, useNamespace } from "../test/helpers/testenv.ts";
import { apply, backupObj, condition, getBackup, getJson, secret, world, type Cond } from "./helpers/backup-world.ts";

interface Obj {
  metadata: { generation?: number };
  status?: { conditions?: Cond[] };
}

async function readyOf(ns: string, resource: string, name: string, reason: string): Promise<Cond> {
  let last: Cond | undefined;
  try {
    return await eventually(`${resource}/${name} Ready=False (${reason})`, async () => {
      const obj = await getJson<Obj>(ns, resource, name);
      last = obj?.status?.conditions?.find((c) => c.type === "Ready");
      return last?.status === "False" && last.reason === reason ? last : undefined;
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}; its Ready condition: ${JSON.stringify(last)}`, { cause: err });
  }
}

const location = (name: string, s3: Record<string, unknown>, secretName = "s3-creds") => ({
  apiVersion: API_VERSION,
  kind: "QdrantBackupLocation",
  metadata: { name },
  spec: { s3: { prefix: "qdrant/checks", endpoint: testEnv().s3.endpoint, region: testEnv().s3.region, forcePathStyle: true, credentials: { secretRef: { name: secretName } }, ...s3 } },
});

test("a location's check refuses server-side encryption the storage refuses, and a missing bucket is 'missing, or not permitted'", async (t) => {
  const w = await world(t, "e2e-location-checks");
  const missingBucket = `missing-${randomBytes(6).toString("hex")}`;
  await apply(w.ns, [
    location("kms-no-key", { bucket: w.bucket, serverSideEncryption: { type: "aws:kms" } }),
    location("kms-unknown-key", { bucket: w.bucket, serverSideEncryption: { type: "aws:kms", kmsKeyId: "no-such-key" } }),
    // The one-bucket user of the world: S3 answers it 403 for a bucket that does not exist.
    location("missing-bucket", { bucket: missingBucket }),
    backupObj("encrypted", { locationRef: { name: "kms-no-key" } }),
  ]);

  const noKey = await readyOf(w.ns, "qdrantbackuplocation", "kms-no-key", "ServerSideEncryptionRefused");
  assert.match(noKey.message, /^spec\.s3\.serverSideEncryption\.kmsKeyId: the storage refused an aws:kms write without a key id \(NotImplemented: [^)]*KMS is not configured/);
  assert.match(noKey.message, /while the same write without encryption succeeds; name a KMS key that the storage's KMS has/);
  const unknownKey = await readyOf(w.ns, "qdrantbackuplocation", "kms-unknown-key", "ServerSideEncryptionRefused");
  assert.match(unknownKey.message, /^spec\.s3\.serverSideEncryption\.kmsKeyId: the storage refused an aws:kms write with key "no-such-key" \(/);

  const missing = await readyOf(w.ns, "qdrantbackuplocation", "missing-bucket", "StorageAccessDenied");
  assert.match(missing.message, new RegExp(`^spec\\.s3\\.bucket, spec\\.s3\\.credentials: HeadBucket on bucket "${missingBucket}" was refused \\(HTTP 403\\): the bucket is missing, or not permitted for these credentials; `));

  // The backup waits on the location's verdict, naming it and the field; no Job is made to fail later.
  const b = await eventually("the encrypted backup to wait on its location", async () => {
    const x = await getBackup(w.ns, "encrypted");
    return condition(x, "Ready")?.reason === "ServerSideEncryptionRefused" ? x : undefined;
  });
  assert.equal(b.status?.phase, "Pending");
  assert.equal(condition(b, "Failed"), undefined, "waiting is not a failure");
  assert.match(condition(b, "Ready")!.message, /^QdrantBackupLocation kms-no-key spec\.s3\.serverSideEncryption\.kmsKeyId: the storage refused an aws:kms write without a key id/);
  assert.equal(await getJson(w.ns, "job", "backup-encrypted"), undefined, "no Job for a location whose encryption is refused");

  // The probes left nothing in the bucket.
  const s3 = s3Client();
  t.after(() => s3.destroy());
  assert.deepEqual((await s3.send(new ListObjectsV2Command({ Bucket: w.bucket }))).Contents?.map((o) => o.Key) ?? [], []);
});

test("a connection's own check names spec.url, spec.apiKeySecretRef and spec.tls.caSecretRef", async (t) => {
  await ensureCrds();
  const ns = await useNamespace(t, "e2e-connection-checks");
  // A Qdrant that requires its key (the environment's may accept any): an emulator of this test's own.
  const qdrant = await startEmulator({ apiKey: `qk-${randomBytes(12).toString("hex")}` });
  t.after(() => qdrant.stop());
  await startManager(t, [ns]);
  // An https server whose certificate a throwaway CA signs: nothing else trusts it.
  const ca = await createCertificateAuthority("qdrant-operator-test-qdrant-ca");
  const otherCa = await createCertificateAuthority("qdrant-operator-test-other-ca");
  const serving = await ca.sign({ commonName: "127.0.0.1", usage: "server", ipAddresses: ["127.0.0.1"], dnsNames: ["localhost"] });
  const server = createServer({ cert: serving.cert, key: serving.key }, (_req, res) => res.end(JSON.stringify({ title: "qdrant", version: "1.19.0" })));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const httpsUrl = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  const conn = (name: string, spec: Record<string, unknown>) => ({ apiVersion: API_VERSION, kind: "QdrantConnection", metadata: { name }, spec: { peers: { mode: "None" }, timeoutSeconds: 5, ...spec } });
  await apply(ns, [
    secret("wrong-key", { "api-key": `qk-wrong-${randomBytes(8).toString("hex")}` }),
    secret("other-ca", { "ca.crt": otherCa.cert }),
    // Port 1 is one fetch refuses to call ("bad port").
    conn("bad-port", { url: "http://127.0.0.1:1" }),
    conn("wrong-key", { url: qdrant.url, apiKeySecretRef: { name: "wrong-key", key: "api-key" } }),
    conn("no-ca", { url: httpsUrl }),
    conn("wrong-ca", { url: httpsUrl, tls: { caSecretRef: { name: "other-ca", key: "ca.crt" } } }),
  ]);
  const cases: Array<[string, string, RegExp]> = [
    ["bad-port", "QdrantUnreachable", /^spec\.url: Qdrant did not answer: GET http:\/\/127\.0\.0\.1:1\/: .+; check spec\.url and that Qdrant is running and reachable from the manager$/],
    ["wrong-key", "QdrantUnauthorized", new RegExp(`^spec\\.apiKeySecretRef: Qdrant refused the API key from Secret ${ns}/wrong-key key "api-key": GET .*: 401 Invalid API key`)],
    ["no-ca", "QdrantUnreachable", /^spec\.tls\.caSecretRef: Qdrant's certificate is not trusted by the system's CAs: GET https:.*(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT)/],
    ["wrong-ca", "QdrantUnreachable", new RegExp(`^spec\\.tls\\.caSecretRef: Qdrant's certificate is not trusted with the CA from Secret ${ns}/other-ca key "ca\\.crt": `)],
  ];
  for (const [name, reason, message] of cases) {
    const ready = await readyOf(ns, "qdrantconnection", name, reason);
    assert.match(ready.message, message, name);
  }
  const events = (await kubectl(["get", "events.events.k8s.io", "-n", ns, "-o", "json"])).stdout;
  assert.match(events, /spec\.tls\.caSecretRef: Qdrant's certificate is not trusted/, "the Warning Event carries the same words");
});
