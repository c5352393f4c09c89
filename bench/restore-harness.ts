/**
 * What the restore benchmarks share (bench/restore-pull-vs-recover.ts, bench/restore-upload-vs-pipe.ts):
 * MinIO from the test environment, an emulator child process with a data dir of its own, a collection
 * grown to a size in GiB (points with a 1 MiB payload, as bench/backup-vs-pipe.ts does: the emulator
 * keeps payloads on disk, so its snapshot is a little over that size), its snapshot put into the bucket
 * as a backup's object is, and `job restore` run as a child process with its peak RSS sampled from /proc.
 *
 * The Job runs from compiled dist/ by default (as the image runs it, with the NODE_OPTIONS the controller
 * sets); `--source` runs src/main.ts type-stripped instead (no build; for a tree that does not compile
 * yet). Figures from the emulator say how the Job moves bytes, not how fast Qdrant recovers.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { startEnvironment, type RunningEnvironment } from "../test/env/environment.ts";
import { backupId } from "../src/backup/layout/backup-id.ts";
import type { RestoreJobPlan, RestoreJobResult } from "../src/jobs/restore/contract.ts";
import { RESTORE_JOB_NODE_OPTIONS } from "../src/controllers/restore/build-job.ts";
import { buildDist } from "./build-dist.ts";

export const MiB = 1 << 20;
export const GiB = 1 << 30;
export const ROOT = fileURLToPath(new URL("..", import.meta.url));
const NODE = path.join(ROOT, "node_modules/.bin/node");

/** One Qdrant REST call, JSON in and out. */
export async function call<T>(base: string, method: string, p: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${p}`, { method, headers: body === undefined ? {} : { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = (await res.json()) as { result: T; status?: unknown };
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json.status)}`);
  return json.result;
}

/** A field of /proc/<pid>/status in bytes; 0 once the process is gone. */
export function statusBytes(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return Number(m?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
export const mibPerSecond = (bytes: number, ms: number): string => `${(bytes / MiB / (ms / 1000)).toFixed(0)} MiB/s`;
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The snapshot as a backup's object: its key in the bucket, and Qdrant's size and SHA-256 of it. */
export interface BackedUpSnapshot {
  key: string;
  size: number;
  sha256: string;
  points: number;
  /** The snapshot file on the emulator's disk, when it was kept. */
  file?: string;
}

export interface BenchWorld {
  url: string;
  dataDir: string;
  s3: S3Client;
  bucket: string;
  region: string;
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

/**
 * MinIO (the test environment's: set S3_ENDPOINT/S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY and KUBECONFIG to
 * reuse a running one instead of starting a control plane) and an emulator child with its own data dir.
 */
export async function startBenchWorld(): Promise<BenchWorld> {
  const env: RunningEnvironment = await startEnvironment();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "restore-bench-"));
  const emu: ChildProcess = spawn(NODE, [path.join(ROOT, "test/emulator/cli.ts"), "--port", "0", "--data-dir", dataDir], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, QDRANT_EMULATOR_QUIET: "1" },
  });
  const [line] = (await once(createInterface({ input: emu.stdout! }), "line")) as [string];
  const { url } = JSON.parse(line) as { url: string };
  const { endpoint, region, accessKeyId, secretAccessKey } = env.info.s3;
  const s3 = new S3Client({ endpoint, region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
  const bucket = `bench-${randomUUID().slice(0, 8)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    url,
    dataDir,
    s3,
    bucket,
    region,
    endpoint,
    accessKeyId,
    secretAccessKey,
    async stop() {
      for (;;) {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
        if (!page.Contents?.length) break;
        for (const o of page.Contents) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key! }));
      }
      await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
      s3.destroy();
      emu.kill("SIGTERM");
      await once(emu, "exit");
      fs.rmSync(dataDir, { recursive: true, force: true });
      await env.stop();
    },
  };
}

/** Grows `collection` (created if missing) from `from` to `to` points of 1 MiB payload each. */
export async function growCollection(url: string, collection: string, from: number, to: number): Promise<void> {
  if (from === 0) await call(url, "PUT", `/collections/${collection}`, { vectors: { size: 2, distance: "Dot" } });
  const filler = "q".repeat(MiB - 64);
  for (let i = from; i < to; i += 4) {
    const ids = Array.from({ length: Math.min(4, to - i) }, (_, k) => i + k);
    await call(url, "PUT", `/collections/${collection}/points?wait=true`, { points: ids.map((id) => ({ id, vector: [id, 1], payload: { id, blob: filler } })) });
  }
}

/**
 * Snapshots `collection` on the emulator and copies the file into the bucket under `key` (read from the
 * emulator's disk: the same bytes a backup Job would have streamed). `keepFile` leaves the snapshot on
 * the emulator (the Pull bench recovers it from there); otherwise it is deleted.
 */
export async function snapshotIntoBucket(world: BenchWorld, collection: string, key: string, keepFile: boolean): Promise<BackedUpSnapshot> {
  const { count: points } = await call<{ count: number }>(world.url, "POST", `/collections/${collection}/points/count`, { exact: true });
  const snap = await call<{ name: string; size: number; checksum: string }>(world.url, "POST", `/collections/${collection}/snapshots?wait=true`);
  const file = path.join(world.dataDir, "peer-1", "snapshots", collection, snap.name);
  await new Upload({ client: world.s3, params: { Bucket: world.bucket, Key: key, Body: fs.createReadStream(file, { highWaterMark: MiB }) }, partSize: 16 * MiB, queueSize: 4 }).done();
  if (!keepFile) await call(world.url, "DELETE", `/collections/${collection}/snapshots/${snap.name}`);
  return { key, size: snap.size, sha256: snap.checksum, points, ...(keepFile ? { file } : {}) };
}

/** Deletes a restored collection and the snapshots left beside it (an upload's file stays, as in Qdrant). */
export async function dropCollection(url: string, collection: string): Promise<void> {
  const listed = await call<Array<{ name: string }>>(url, "GET", `/collections/${collection}/snapshots`).catch(() => []);
  for (const s of listed) await call(url, "DELETE", `/collections/${collection}/snapshots/${s.name}`);
  await call(url, "DELETE", `/collections/${collection}`).catch(() => undefined);
}

/** The plan the controller would hand the Job for restoring `snap` (one standalone peer) into `target`. */
export function restorePlan(world: BenchWorld, snap: BackedUpSnapshot, target: string, method: "Pull" | "Upload"): RestoreJobPlan {
  const uid = randomUUID();
  return {
    version: 1,
    restore: { namespace: "bench", name: "bench", uid },
    attempt: 1,
    backupId: backupId(new Date(), uid),
    mode: "Collection",
    sourceCollection: "big",
    targetCollection: target,
    method,
    priority: "snapshot",
    overwrite: false,
    ownedTarget: false,
    files: [{ sourcePeerId: "standalone", shardIds: [0], key: snap.key, size: snap.size, sha256: snap.sha256 }],
    expectedPoints: snap.points,
    verify: { waitForGreen: true, comparePointsCount: true, timeoutSeconds: 1800 },
    qdrant: { url: world.url, timeoutSeconds: 30, discovery: { mode: "None", restPort: Number(new URL(world.url).port), scheme: "http" } },
    s3: { bucket: world.bucket, region: world.region, endpoint: world.endpoint, forcePathStyle: true },
    presignSeconds: 3600,
  };
}

export interface JobOptions {
  /** Run src/main.ts type-stripped instead of dist/main.js. */
  source: boolean;
  /** NODE_OPTIONS for the Job ("" for none); the controller's by default. */
  nodeOptions: string;
}

export interface JobRun {
  ms: number;
  peakRss: number;
  result: RestoreJobResult;
}

/** Compiles src/ to dist/ once (npm run build), unless the Job runs from source. */
export function prepareJob(opts: JobOptions): void {
  if (!opts.source) buildDist();
}

/** `job restore` as a child process with the plan in RESTORE_PLAN; its wall time, peak RSS and result. */
export async function runRestoreJob(world: BenchWorld, plan: RestoreJobPlan, opts: JobOptions): Promise<JobRun> {
  const resultFile = path.join(world.dataDir, `result-${plan.restore.uid}.json`);
  const main = opts.source ? path.join(ROOT, "src/main.ts") : path.join(ROOT, "dist/main.js");
  const started = Date.now();
  const job = spawn(NODE, [main, "job", "restore"], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      PATH: process.env.PATH,
      RESTORE_PLAN: JSON.stringify(plan),
      AWS_ACCESS_KEY_ID: world.accessKeyId,
      AWS_SECRET_ACCESS_KEY: world.secretAccessKey,
      RESULT_FILE: resultFile,
      ...(opts.nodeOptions ? { NODE_OPTIONS: opts.nodeOptions } : {}),
    },
  });
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, statusBytes(job.pid!, "VmHWM"), statusBytes(job.pid!, "VmRSS"));
  }, 20);
  const [code] = (await once(job, "exit")) as [number | null];
  clearInterval(sampler);
  const ms = Date.now() - started;
  const text = fs.existsSync(resultFile) ? fs.readFileSync(resultFile, "utf8") : "";
  fs.rmSync(resultFile, { force: true });
  const result = (text ? JSON.parse(text) : { ok: false, message: "no result written" }) as RestoreJobResult;
  if (code !== 0 || !result.ok) throw new Error(`job restore (${plan.method}) failed with exit code ${code}: ${JSON.stringify(result)}`);
  return { ms, peakRss, result };
}

/** The bench's common flags: `--source`, `--job-node-options`, `--rounds`. */
export const JOB_FLAGS = {
  source: { type: "boolean", default: false },
  "job-node-options": { type: "string", default: RESTORE_JOB_NODE_OPTIONS },
  rounds: { type: "string", default: "3" },
} as const;

export const CAVEAT =
  "Measured against the Qdrant emulator (test/emulator), not Qdrant: the figures say how the restore Job moves bytes and what it adds, not how fast Qdrant recovers a snapshot.";
