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
import { Agent } from "undici";
import { buildS3Client } from "../../src/s3/client.ts";
import { startMinio, type S3Info } from "../env/minio.ts";
import { createCertificateAuthority } from "../env/pki.ts";
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
  await Promise.all([mkdir(join(runDir, "logs")), mkdir(certsDir)]);

  const ca = await createCertificateAuthority("qdrant-operator-test-s3-ca");
  const serving = await ca.sign({ commonName: "127.0.0.1", usage: "server", ipAddresses: ["127.0.0.1"], dnsNames: ["localhost"] });
  await writeFile(join(certsDir, "public.crt"), serving.cert);
  await writeFile(join(certsDir, "private.key"), serving.key, { mode: 0o600 });

  const trusting = new Agent({ connect: { ca: ca.cert } });
  t.after(() => trusting.close());
  const server = await startMinio(minio, runDir, { name: "minio-tls", tls: { certsDir, readyDispatcher: trusting } });
  t.after(async () => {
    await server.stop();
    await rm(runDir, { recursive: true, force: true });
  });
  const info = server.info;

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
