/**
 * The reference resolvers (src/controllers/shared/resolve-*.ts) without a cluster: the Secret keys each
 * reference uses, the Job environment that hands them over (references only, never values), the check
 * that names the missing Secret or key, and the clients and addresses built from what the Secrets hold.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { QdrantBackupLocationSpec } from "../../../src/api/v1alpha1/backup-location.ts";
import type { QdrantConnectionSpec } from "../../../src/api/v1alpha1/qdrant-connection.ts";
import type { OperatorContext } from "../../../src/controllers/shared/context.ts";
import { checkConnectionSecrets, connectionAddress, connectionEndpoint, connectionJobEnvironment, type QdrantConnectionObject } from "../../../src/controllers/shared/resolve-connection.ts";
import { checkLocationSecrets, findLocation, locationJobEnvironment, locationS3, locationSecretKeys, type BackupLocationObject } from "../../../src/controllers/shared/resolve-location.ts";
import { mergeJobEnvironments } from "../../../src/controllers/shared/secrets.ts";
import { isOperatorError } from "../../../src/errors.ts";
import { ApiError } from "../../../src/runtime/errors.ts";
import { Redactor } from "../../../src/runtime/redact.ts";

const connection = (spec: Partial<QdrantConnectionSpec> = {}): QdrantConnectionObject => ({
  metadata: { name: "qdrant", namespace: "prod" },
  spec: { url: "https://qdrant.prod.svc:6333", apiKeySecretRef: { name: "qdrant-key", key: "api-key" }, tls: { caSecretRef: { name: "qdrant-ca", key: "ca.pem" } }, ...spec },
});
const location = (s3: Partial<QdrantBackupLocationSpec["s3"]> = {}): BackupLocationObject => ({
  metadata: { name: "s3", namespace: "prod" },
  spec: { s3: { bucket: "backups", prefix: "qdrant/prod", endpoint: "https://minio:9000", forcePathStyle: true, credentials: { secretRef: { name: "s3-creds" } }, caSecretRef: { name: "minio-ca", key: "ca.crt" }, ...s3 } },
});

/** An OperatorContext whose apiserver holds `secrets` (name → data) and `services` (name → ports). */
function fakeContext(secrets: Record<string, Record<string, string>>, services: Record<string, Array<{ name: string; port: number }>> = {}): OperatorContext & { reads: string[] } {
  const reads: string[] = [];
  const request = async (_method: string, path: string) => {
    await Promise.resolve();
    reads.push(path);
    const secret = /\/namespaces\/([^/]+)\/secrets\/([^/]+)$/.exec(path);
    if (secret && secrets[secret[2]!]) return { data: Object.fromEntries(Object.entries(secrets[secret[2]!]!).map(([k, v]) => [k, Buffer.from(v).toString("base64")])) };
    const svc = /\/namespaces\/([^/]+)\/services\/([^/]+)$/.exec(path);
    if (svc && services[svc[2]!]) return { spec: { ports: services[svc[2]!] } };
    throw new ApiError("GET", path, 404, { reason: "NotFound" });
  };
  return { client: { request }, redactor: new Redactor(), reads } as unknown as OperatorContext & { reads: string[] };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => assert.fail("expected a rejection"),
    (e: unknown) => e as Error,
  );
}

describe("Job environment", () => {
  test("secrets by secretKeyRef and CAs as mounted files: exactly what the backup Job has always received", () => {
    const got = mergeJobEnvironments(
      connectionJobEnvironment(connection().spec),
      locationJobEnvironment(location({ credentials: { secretRef: { name: "s3-creds", accessKeyIdKey: "id", secretAccessKeyKey: "secret", sessionTokenKey: "token" } } }).spec),
    );
    const ref = (name: string, secret: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: secret, key } } });
    assert.deepEqual(got.env, [
      ref("QDRANT_API_KEY", "qdrant-key", "api-key"),
      { name: "QDRANT_CA_FILE", value: "/etc/qdrant-operator/qdrant-ca/ca.crt" },
      ref("AWS_ACCESS_KEY_ID", "s3-creds", "id"),
      ref("AWS_SECRET_ACCESS_KEY", "s3-creds", "secret"),
      ref("AWS_SESSION_TOKEN", "s3-creds", "token"),
      { name: "S3_CA_FILE", value: "/etc/qdrant-operator/s3-ca/ca.crt" },
    ]);
    assert.deepEqual(got.volumes, [
      { name: "qdrant-ca", secret: { secretName: "qdrant-ca", items: [{ key: "ca.pem", path: "ca.crt" }] } },
      { name: "s3-ca", secret: { secretName: "minio-ca", items: [{ key: "ca.crt", path: "ca.crt" }] } },
    ]);
    assert.deepEqual(got.volumeMounts, [
      { name: "qdrant-ca", mountPath: "/etc/qdrant-operator/qdrant-ca", readOnly: true },
      { name: "s3-ca", mountPath: "/etc/qdrant-operator/s3-ca", readOnly: true },
    ]);
  });

  test("the pod's own identity and a connection without key or CA add nothing", () => {
    assert.deepEqual(locationJobEnvironment(location({ credentials: { fromEnvironment: true }, caSecretRef: undefined }).spec), { env: [], volumes: [], volumeMounts: [] });
    assert.deepEqual(connectionJobEnvironment({ url: "http://q:6333" }), { env: [], volumes: [], volumeMounts: [] });
  });

  test("a credentials Secret without key names uses the AWS SDK's variable names", () => {
    assert.deepEqual(
      locationSecretKeys(location({ caSecretRef: undefined }).spec).map((u) => u.ref),
      [
        { name: "s3-creds", key: "AWS_ACCESS_KEY_ID" },
        { name: "s3-creds", key: "AWS_SECRET_ACCESS_KEY" },
      ],
    );
  });
});

describe("checks", () => {
  test("every Secret key present: the check passes and registers each value with the redactor", async () => {
    const ctx = fakeContext({ "qdrant-key": { "api-key": "qk-0123456789" }, "qdrant-ca": { "ca.pem": "PEM-QDRANT-CA" }, "s3-creds": { AWS_ACCESS_KEY_ID: "AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY: "s3cr3t-value" }, "minio-ca": { "ca.crt": "PEM-S3-CA" } });
    await checkConnectionSecrets(ctx, connection());
    await checkLocationSecrets(ctx, location());
    assert.equal(ctx.redactor.scrub("key qk-0123456789 secret s3cr3t-value"), "key [REDACTED] secret [REDACTED]");
  });

  const cases: Array<[string, () => Promise<void>, RegExp]> = [
    ["a missing credentials Secret, named from a backup", () => checkLocationSecrets(fakeContext({ "minio-ca": { "ca.crt": "x" } }), location()), /^QdrantBackupLocation s3 spec\.s3\.credentials\.secretRef\.name: Secret prod\/s3-creds does not exist$/],
    ["a missing key, named from a backup", () => checkLocationSecrets(fakeContext({ "s3-creds": { AWS_ACCESS_KEY_ID: "a" } }), location()), /^QdrantBackupLocation s3 spec\.s3\.credentials\.secretRef\.secretAccessKeyKey: Secret prod\/s3-creds has no key "AWS_SECRET_ACCESS_KEY"$/],
    ["a missing S3 CA, for the location's own condition", () => checkLocationSecrets(fakeContext({ "s3-creds": { AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "b" } }), location(), { self: true }), /^spec\.s3\.caSecretRef\.name: Secret prod\/minio-ca does not exist$/],
    ["a missing API key Secret, named from a backup", () => checkConnectionSecrets(fakeContext({}), connection()), /^QdrantConnection qdrant spec\.apiKeySecretRef\.name: Secret prod\/qdrant-key does not exist$/],
    ["a missing Qdrant CA key", () => checkConnectionSecrets(fakeContext({ "qdrant-key": { "api-key": "k" }, "qdrant-ca": {} }), connection()), /^QdrantConnection qdrant spec\.tls\.caSecretRef\.key: Secret prod\/qdrant-ca has no key "ca\.pem"$/],
  ];
  for (const [what, check, message] of cases) {
    test(what, async () => {
      const err = await rejection(check());
      assert.ok(isOperatorError(err, "SECRET_NOT_FOUND"), String(err));
      assert.match(err.message, message);
    });
  }
});

describe("clients and addresses", () => {
  test("the location's client has the Secret's credentials, and its bucket and prefix", async () => {
    const ctx = fakeContext({ "s3-creds": { id: "AKIAEXAMPLE", secret: "s3cr3t-value", token: "session-token-1" }, "minio-ca": { "ca.crt": "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n" } });
    const s3 = await locationS3(ctx, location({ credentials: { secretRef: { name: "s3-creds", accessKeyIdKey: "id", secretAccessKeyKey: "secret", sessionTokenKey: "token" } } }));
    try {
      assert.equal(s3.bucket, "backups");
      assert.equal(s3.prefix, "qdrant/prod");
      const creds = await s3.client.config.credentials();
      assert.deepEqual([creds.accessKeyId, creds.secretAccessKey, creds.sessionToken], ["AKIAEXAMPLE", "s3cr3t-value", "session-token-1"]);
      assert.ok(ctx.reads.some((p) => p.endsWith("/secrets/minio-ca")), "the CA is read for the client too");
      assert.match(await s3.presignGet("qdrant/prod/x", 60), /^https:\/\/minio:9000\/backups\/qdrant\/prod\/x\?.*X-Amz-Security-Token=session-token-1/);
    } finally {
      s3.destroy();
    }
  });

  test("a named Service port is looked up for the Job's address; the endpoint carries the key and peer defaults", async () => {
    const ctx = fakeContext({ "qdrant-key": { "api-key": "qk-0123456789" } }, { qdrant: [{ name: "grpc", port: 6334 }, { name: "rest", port: 16333 }] });
    const conn = connection({ url: undefined, service: { name: "qdrant", namespace: "db", port: "rest" }, tls: { serverName: "qdrant.internal" } });
    assert.deepEqual(await connectionAddress(ctx, conn), {
      url: "https://qdrant.db.svc:16333",
      timeoutSeconds: 30,
      discovery: { mode: "Cluster", restPort: 6333, scheme: "https" },
      tls: { serverName: "qdrant.internal" },
    });
    const { endpoint, discovery } = await connectionEndpoint(ctx, conn);
    assert.equal(endpoint.url, "https://qdrant.db.svc:16333");
    assert.equal(endpoint.apiKey, "qk-0123456789");
    assert.ok(endpoint.dispatcher, "https gets its TLS dispatcher");
    assert.equal(discovery.scheme, "https");
    await (endpoint.dispatcher as { close(): Promise<void> }).close();
  });

  test("a Service without the named port is a missing reference", async () => {
    const err = await rejection(connectionAddress(fakeContext({}, { qdrant: [{ name: "grpc", port: 6334 }] }), connection({ url: undefined, service: { name: "qdrant", port: "rest" } })));
    assert.ok(isOperatorError(err, "REFERENCE_NOT_FOUND"), String(err));
    assert.match(err.message, /Service prod\/qdrant has no port named "rest"/);
  });
});

describe("the object", () => {
  test("from the informer's cache when there is one (a miss is a miss), else from the apiserver (404 is none)", async () => {
    const s3 = location();
    const asked: string[] = [];
    const ctx = {
      client: {
        get: (_rt: unknown, key: { namespace: string; name: string }) => {
          asked.push(`${key.namespace}/${key.name}`);
          return key.name === "s3" ? Promise.resolve(s3) : Promise.reject(new ApiError("GET", key.name, 404, { reason: "NotFound" }));
        },
      },
    } as unknown as OperatorContext;
    const cache = { get: (key: { namespace: string; name: string }) => (key.name === "cached" ? s3 : undefined) };
    assert.equal(await findLocation(ctx, "prod", "cached", cache), s3);
    assert.equal(await findLocation(ctx, "prod", "s3", cache), undefined);
    assert.deepEqual(asked, [], "a cache is never bypassed");
    assert.equal(await findLocation(ctx, "prod", "s3"), s3);
    assert.equal(await findLocation(ctx, "prod", "gone"), undefined);
    assert.deepEqual(asked, ["prod/s3", "prod/gone"]);
  });
});
