/**
 * MinIO, built from its Go module, on 127.0.0.1 with a temp data dir and generated root credentials.
 * A least-privilege user for one bucket is made by the recipe's minio-user helper (MinIO's admin API).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { fetch, type Dispatcher } from "undici";
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

export interface MinioOptions {
  /** The process's name in logs and the run dir's pid list. */
  name?: string;
  /**
   * Serve TLS: MinIO reads `public.crt` and `private.key` from this directory. `readyDispatcher` is a
   * client that trusts the certificate, for the readiness check.
   */
  tls?: { certsDir: string; readyDispatcher: Dispatcher };
  /**
   * A restart: serve on the address and with the root credentials of this earlier server on the same
   * `runDir` (so on its data), as a MinIO that was stopped and comes back does.
   */
  restart?: S3Info;
}

/** Starts MinIO from `minioBin` with its data under `runDir/minio`; plain HTTP unless `opts.tls`. */
export async function startMinio(minioBin: string, runDir: string, opts: MinioOptions = {}): Promise<MinioServer> {
  const dataDir = join(runDir, "minio");
  await mkdir(dataDir, { recursive: true });
  const [port, consolePort] = [opts.restart ? Number(new URL(opts.restart.endpoint).port) : await freePort(), await freePort()];
  const info: S3Info = opts.restart ?? {
    endpoint: `${opts.tls ? "https" : "http"}://127.0.0.1:${port}`,
    region: S3_REGION,
    accessKeyId: `root-${randomSecret(6)}`,
    secretAccessKey: randomSecret(),
  };
  const proc = startProcess({
    name: opts.name ?? "minio",
    command: minioBin,
    runDir,
    args: ["server", "--quiet", ...(opts.tls ? ["--certs-dir", opts.tls.certsDir] : []), "--address", `127.0.0.1:${port}`, "--console-address", `127.0.0.1:${consolePort}`, dataDir],
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
  const dispatcher = opts.tls?.readyDispatcher;
  try {
    await waitUntilReady(proc, `/minio/health/ready${opts.tls ? " over TLS" : ""}`, async () => (await fetch(`${info.endpoint}/minio/health/ready`, dispatcher ? { dispatcher } : {})).ok);
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
