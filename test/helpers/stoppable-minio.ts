/**
 * A MinIO of the test's own that the test may stop and start again (an S3 outage), on the same address,
 * data and root credentials: the environment's MinIO serves every test file at once and must never go
 * down. It runs the binary the environment built, on a free port of 127.0.0.1, and is stopped and its
 * data removed when the test ends.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { TestContext } from "node:test";
import { CreateBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import { buildS3Client } from "../../src/s3/client.ts";
import { startMinio, type MinioServer, type S3Info } from "../env/minio.ts";
import { testEnv } from "./testenv.ts";

export interface StoppableMinio {
  info: S3Info;
  /** A client with the root credentials (destroyed when the test ends). */
  client: S3Client;
  createBucket(): Promise<string>;
  /** The outage: SIGTERM and SIGKILL at once, no graceful drain (what a crashed server looks like to a client). */
  stop(): Promise<void>;
  /** Back on the same address with the same data; resolves once it answers its readiness probe. */
  start(): Promise<void>;
}

export async function startStoppableMinio(t: TestContext): Promise<StoppableMinio> {
  const local = testEnv().local;
  if (!local?.minioUser) throw new Error("a MinIO of the test's own needs the local environment's MinIO build (S3_ENDPOINT points elsewhere)");
  const bin = join(dirname(local.minioUser), "minio");
  const runDir = await mkdtemp(join(tmpdir(), "qdrant-operator-minio-outage-"));
  await mkdir(join(runDir, "logs"));
  let server: MinioServer | undefined = await startMinio(bin, runDir, { name: "minio-outage" });
  const info = server.info;
  t.after(async () => {
    await server?.stop();
    await rm(runDir, { recursive: true, force: true });
  });
  const client = buildS3Client({ region: info.region, endpoint: info.endpoint, forcePathStyle: true, credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey } });
  t.after(() => client.destroy());
  return {
    info,
    client,
    async createBucket() {
      const bucket = `outage-${randomBytes(6).toString("hex")}`;
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      return bucket;
    },
    async stop() {
      await server?.process.stop(0);
      server = undefined;
    },
    async start() {
      if (server) return;
      server = await startMinio(bin, runDir, { name: "minio-outage", restart: info });
    },
  };
}
