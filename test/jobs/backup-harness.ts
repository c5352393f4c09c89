/**
 * Helpers for the `job backup` tests: a plan for an emulator and the shared MinIO, the command run as a
 * real child process, collections seeded over REST, and a proxy that can hold a snapshot download
 * part-way (a deterministic "mid-upload" point to kill the process at).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { backupId } from "../../src/backup/layout/backup-id.ts";
import type { BackupJobPlan, BackupJobResult } from "../../src/jobs/backup/contract.ts";
import { JOB_ENV } from "../../src/jobs/protocol/env.ts";
import { spawnJob, type JobProcessRun, type StartedJobProcess } from "../helpers/job-process.ts";
import { allPoints as pointsThroughAdapter } from "../helpers/qdrant.ts";
import { eventually, testEnv } from "../helpers/testenv.ts";

export function makePlan(qdrantUrl: string, bucket: string, over: { collections?: BackupJobPlan["collections"]; discovery?: Partial<BackupJobPlan["qdrant"]["discovery"]>; prefix?: string } = {}): BackupJobPlan {
  const s3 = testEnv().s3;
  const uid = randomUUID();
  return {
    version: 1,
    backupId: backupId(new Date(), uid),
    mode: "Collection",
    collections: over.collections ?? { names: ["docs"] },
    qdrant: {
      url: qdrantUrl,
      timeoutSeconds: 10,
      discovery: { mode: "Cluster", restPort: Number(new URL(qdrantUrl).port), scheme: "http", ...over.discovery },
    },
    s3: { bucket, region: s3.region, endpoint: s3.endpoint, forcePathStyle: true, ...(over.prefix !== undefined ? { prefix: over.prefix } : {}) },
    source: { namespace: "team-a", connection: "main-qdrant", backupName: "nightly-1", backupUid: uid },
    operatorVersion: "0.1.0-test",
  };
}

/** A FullStorage plan (no collections) for the emulator at `url`. */
export function fullStoragePlan(url: string, bucket: string): BackupJobPlan {
  const { collections: _collections, ...plan } = makePlan(url, bucket);
  return { ...plan, mode: "FullStorage" };
}

/** The key parts of a FullStorage plan's directory. */
export function storageParts(plan: BackupJobPlan) {
  return { namespace: plan.source.namespace, connection: plan.source.connection, fullStorage: true as const, backupId: plan.backupId };
}

export type JobRun = JobProcessRun<BackupJobResult>;

export interface JobEnv {
  apiKey?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** The age key file, as the location's spec.encryption.keySecretRef holds it. */
  encryptionKeys?: string;
}

/** A Job's secrets as the controller hands them over: the test environment's MinIO keys unless `env` gives others. */
export function jobSecrets(env: JobEnv = {}): Record<string, string | undefined> {
  const s3 = testEnv().s3;
  return {
    [JOB_ENV.awsAccessKeyId]: env.accessKeyId ?? s3.accessKeyId,
    [JOB_ENV.awsSecretAccessKey]: env.secretAccessKey ?? s3.secretAccessKey,
    [JOB_ENV.qdrantApiKey]: env.apiKey || undefined,
    [JOB_ENV.encryptionKeys]: env.encryptionKeys,
  };
}

/** Starts `job backup` as a child process; `wait()` resolves when it exits. */
export function startJob(plan: BackupJobPlan | string, env: JobEnv = {}): StartedJobProcess<BackupJobResult> {
  return spawnJob("backup", plan, jobSecrets(env), (text) => JSON.parse(text) as BackupJobResult);
}

export function runJob(plan: BackupJobPlan | string, env: JobEnv = {}): Promise<JobRun> {
  return startJob(plan, env).wait();
}

export async function qdrant<T = unknown>(url: string, method: string, path: string, body?: unknown, apiKey?: string): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...(apiKey ? { "api-key": apiKey } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (JSON.parse(text) as { result: T }).result;
}

/** A collection of `count` points (4-d vectors, a payload of `payloadBytes` random hex each), in batches. */
export async function seedCollection(url: string, name: string, count: number, opts: { shardNumber?: number; payloadBytes?: number; apiKey?: string } = {}): Promise<void> {
  await qdrant(url, "PUT", `/collections/${name}`, { vectors: { size: 4, distance: "Cosine" }, ...(opts.shardNumber ? { shard_number: opts.shardNumber } : {}) }, opts.apiKey);
  const batch = opts.payloadBytes && opts.payloadBytes > 100_000 ? 8 : 100;
  for (let start = 0; start < count; start += batch) {
    const points = Array.from({ length: Math.min(batch, count - start) }, (_, k) => {
      const i = start + k;
      return {
        id: i + 1,
        vector: [Math.sin(i) + 1.5, Math.cos(i), i % 7, 1],
        payload: { i, tag: `t${i % 5}`, ...(opts.payloadBytes ? { blob: randomBytes(opts.payloadBytes / 2).toString("hex") } : {}) },
      };
    });
    await qdrant(url, "PUT", `/collections/${name}/points?wait=true`, { points }, opts.apiKey);
  }
}

/** Every point of a collection with payload and vector, in id order (the emulator at `url` needs no key). */
export function allPoints(url: string, name: string): Promise<unknown[]> {
  return pointsThroughAdapter(name, { url });
}

export async function objectBytes(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

export async function listKeys(s3: S3Client, bucket: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    out.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out.sort();
}

/** Multipart uploads in progress for `key` (asked by exact key, which every S3 store answers). */
export async function multipartUploads(s3: S3Client, bucket: string, key: string): Promise<string[]> {
  const page = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
  return (page.Uploads ?? []).filter((u) => u.Key === key).map((u) => u.UploadId!);
}

/**
 * Starts `plan` behind `proxy` (a holdingProxy) and returns once the Job is mid-upload: the download is
 * held and the multipart upload of `key` exists. The caller kills it there, or lets it go on.
 */
export async function startJobMidUpload(plan: BackupJobPlan, proxy: { held: Promise<void> }, s3: S3Client, bucket: string, key: string, env: JobEnv = {}): Promise<ReturnType<typeof startJob>> {
  const job = startJob(plan, env);
  await proxy.held;
  await eventually(`a multipart upload of ${key}`, async () => ((await multipartUploads(s3, bucket, key)).length > 0 ? true : undefined), 30_000);
  return job;
}

/** Upload + recover of a snapshot's bytes into `url`, checked against `sha256`. */
export async function uploadAndRecover(url: string, collection: string, bytes: Buffer, sha256: string, apiKey?: string): Promise<void> {
  const form = new FormData();
  form.append("snapshot", new Blob([new Uint8Array(bytes)]), "restore.snapshot");
  const res = await fetch(`${url}/collections/${encodeURIComponent(collection)}/snapshots/upload?wait=true&checksum=${sha256}`, { method: "POST", body: form, ...(apiKey ? { headers: { "api-key": apiKey } } : {}) });
  if (!res.ok) throw new Error(`upload+recover: ${res.status} ${await res.text()}`);
}

/**
 * An HTTP proxy in front of one Qdrant URL. The first snapshot download through it that reaches
 * `afterBytes` bytes stops there and waits until `release()` (smaller downloads pass whole): the job is
 * then mid-upload for as long as the test wants.
 */
export async function holdingProxy(target: string, afterBytes: number): Promise<{ url: string; held: Promise<void>; release: () => void; close: () => Promise<void> }> {
  let armed = true;
  let releaseHold: () => void = () => undefined;
  const released = new Promise<void>((r) => (releaseHold = r));
  let markHeld: () => void = () => undefined;
  const held = new Promise<void>((r) => (markHeld = r));
  const up = new URL(target);
  const server: Server = createServer((req, res) => {
    const isDownload = req.method === "GET" && /\/snapshots\/[^/]+$/.test(req.url ?? "");
    const upstream = request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers }, (ures) => {
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      if (!isDownload || !armed) return void ures.pipe(res);
      // Downloads smaller than afterBytes pass whole; the first that reaches it is held.
      let sent = 0;
      let holding = false;
      ures.on("data", (chunk: Buffer) => {
        if (holding) return;
        if (!armed) return void res.write(chunk);
        const part = chunk.subarray(0, afterBytes - sent);
        sent += part.length;
        res.write(part);
        if (sent >= afterBytes) {
          armed = false;
          holding = true;
          ures.pause();
          markHeld();
          void released.then(() => res.destroy());
        }
      });
      ures.on("end", () => res.end());
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    held,
    release: releaseHold,
    close: async () => {
      releaseHold();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
