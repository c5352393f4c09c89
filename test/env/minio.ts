/**
 * MinIO, built from its Go module, on 127.0.0.1 with a temp data dir and generated root credentials.
 * A least-privilege user for one bucket is made by the recipe's minio-user helper (MinIO's admin API).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Binaries } from "./build.ts";
import { freePort } from "./ports.ts";
import { startProcess, waitUntilReady, type ManagedProcess } from "./proc.ts";

const run = promisify(execFile);

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface S3Info extends S3Credentials {
  endpoint: string;
  region: string;
}

export interface MinioServer {
  info: S3Info;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export const S3_REGION = "us-east-1";

export function randomSecret(bytes = 18): string {
  return randomBytes(bytes).toString("base64url");
}

export async function startMinio(bins: Binaries, runDir: string): Promise<MinioServer> {
  const dataDir = join(runDir, "minio");
  await mkdir(dataDir, { recursive: true });
  const [port, consolePort] = [await freePort(), await freePort()];
  const info: S3Info = {
    endpoint: `http://127.0.0.1:${port}`,
    region: S3_REGION,
    accessKeyId: `root-${randomSecret(6)}`,
    secretAccessKey: randomSecret(),
  };
  const proc = startProcess({
    name: "minio",
    command: bins.minio,
    runDir,
    args: ["server", "--quiet", "--address", `127.0.0.1:${port}`, "--console-address", `127.0.0.1:${consolePort}`, dataDir],
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
  try {
    await waitUntilReady(proc, "/minio/health/ready", async () => (await fetch(`${info.endpoint}/minio/health/ready`)).ok);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { info, process: proc, stop: () => proc.stop() };
}

/** Creates a user whose policy allows only `bucket`, returning its credentials. */
export async function createBucketUser(minioUserBin: string, root: S3Info, bucket: string): Promise<S3Credentials> {
  const creds = { accessKeyId: `user-${randomSecret(6)}`, secretAccessKey: randomSecret() };
  const hostPort = new URL(root.endpoint).host;
  await run(minioUserBin, [hostPort, root.accessKeyId, root.secretAccessKey, creds.accessKeyId, creds.secretAccessKey, bucket], { timeout: 60_000 });
  return creds;
}
