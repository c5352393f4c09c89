/**
 * A second MinIO, served over TLS with a certificate from a throwaway private CA, for tests of a
 * QdrantBackupLocation with `caSecretRef` (the environment's own MinIO is plain HTTP). It runs the binary
 * the environment built, on a free port of 127.0.0.1, with its own data dir and root credentials, and is
 * stopped when the test ends. MinIO serves TLS when its `--certs-dir` holds `public.crt` and
 * `private.key`.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { TestContext } from "node:test";
import { CreateBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import { Agent, fetch } from "undici";
import { buildS3Client } from "../../src/s3/client.ts";
import { randomSecret, S3_REGION, type S3Info } from "../env/minio.ts";
import { createCertificateAuthority } from "../env/pki.ts";
import { freePort } from "../env/ports.ts";
import { startProcess, waitUntilReady } from "../env/proc.ts";
import { testEnv } from "./testenv.ts";

export interface TlsMinio extends S3Info {
  /** The PEM of the CA that signed the server's certificate (and nothing else trusts). */
  caPem: string;
  /** A client with the root credentials that trusts the CA; destroyed when the test ends. */
  client: S3Client;
  /** Creates a bucket with a fresh name. */
  createBucket(): Promise<string>;
}

export async function startTlsMinio(t: TestContext): Promise<TlsMinio> {
  const local = testEnv().local;
  if (!local?.minioUser) throw new Error("a TLS MinIO needs the local environment's MinIO build (S3_ENDPOINT points elsewhere)");
  const minio = join(dirname(local.minioUser), "minio");
  const runDir = await mkdtemp(join(tmpdir(), "qdrant-operator-minio-tls-"));
  const certsDir = join(runDir, "certs");
  const dataDir = join(runDir, "data");
  await Promise.all([mkdir(join(runDir, "logs")), mkdir(certsDir), mkdir(dataDir)]);

  const ca = await createCertificateAuthority("qdrant-operator-test-s3-ca");
  const serving = await ca.sign({ commonName: "127.0.0.1", usage: "server", ipAddresses: ["127.0.0.1"], dnsNames: ["localhost"] });
  await writeFile(join(certsDir, "public.crt"), serving.cert);
  await writeFile(join(certsDir, "private.key"), serving.key, { mode: 0o600 });

  const [port, consolePort] = [await freePort(), await freePort()];
  const info: S3Info = { endpoint: `https://127.0.0.1:${port}`, region: S3_REGION, accessKeyId: `root-${randomSecret(6)}`, secretAccessKey: randomSecret() };
  const proc = startProcess({
    name: "minio-tls",
    command: minio,
    runDir,
    args: ["server", "--quiet", "--certs-dir", certsDir, "--address", `127.0.0.1:${port}`, "--console-address", `127.0.0.1:${consolePort}`, dataDir],
    env: {
      PATH: process.env.PATH,
      HOME: runDir,
      MINIO_ROOT_USER: info.accessKeyId,
      MINIO_ROOT_PASSWORD: info.secretAccessKey,
      MINIO_REGION: S3_REGION,
      MINIO_BROWSER: "off",
      MINIO_UPDATE: "off",
      MINIO_CI_CD: "1",
    },
  });
  t.after(async () => {
    await proc.stop();
    await rm(runDir, { recursive: true, force: true });
  });
  const trusting = new Agent({ connect: { ca: ca.cert } });
  t.after(() => trusting.close());
  await waitUntilReady(proc, "/minio/health/ready over TLS", async () => (await fetch(`${info.endpoint}/minio/health/ready`, { dispatcher: trusting })).ok);

  const client = buildS3Client({ region: info.region, endpoint: info.endpoint, forcePathStyle: true, credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey }, caPem: ca.cert });
  t.after(() => client.destroy());
  return {
    ...info,
    caPem: ca.cert,
    client,
    async createBucket() {
      const bucket = `tls-${randomBytes(6).toString("hex")}`;
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      return bucket;
    },
  };
}
