/**
 * The backup Job against the two ways of moving a snapshot it replaces, on the same ≥ 2 GiB snapshot,
 * same emulator, same MinIO, in one run:
 *   job     `job backup` as a child process (create on the peer, stream + sha256 into a multipart
 *           upload, delete the snapshot, write the manifest);
 *   (a)     a raw pipe: create, fetch → lib-storage Upload, no checks (what `curl | aws s3 cp -` does);
 *   (b)     the runbook: create, download to a file, then upload the file, then delete both.
 * Prints each time, job/(a) and (b)/job (goals: ≥ 0.9× the raw pipe's speed, ≥ 1.5× faster than (b))
 * and the job process's peak RSS (VmHWM sampled from /proc; goal < 150 MiB whatever the size).
 * Figures from the emulator say how the Job moves bytes, not how fast Qdrant makes snapshots.
 *
 * Run: node_modules/.bin/node bench/backup-vs-pipe.ts [--gib 2] [--job-node-options=<NODE_OPTIONS for the Job>]
 * The Job runs from dist/ (compiled here first), as the image runs it.
 * It starts the test environment (for MinIO) and an emulator child process, and removes both.
 */
import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import * as fs from "node:fs";
import * as path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DeleteObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { startBenchWorld } from "./restore-harness.ts";
import { backupId } from "../src/backup/layout/backup-id.ts";
import type { BackupJobPlan } from "../src/jobs/backup/contract.ts";
import { JOB_NODE_OPTIONS } from "../src/controllers/shared/job-template.ts";
import { choosePartSize } from "../src/jobs/backup/part-size.ts";
import { UPLOAD_QUEUE_SIZE } from "../src/jobs/backup/stream-upload.ts";

const MiB = 1 << 20;
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const NODE = path.join(ROOT, "node_modules/.bin/node");

async function call<T>(base: string, method: string, p: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${p}`, { method, headers: body === undefined ? {} : { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = (await res.json()) as { result: T; status?: unknown };
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json.status)}`);
  return json.result;
}

function statusKiB(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return Number(m?.[1] ?? 0) * 1024;
  } catch {
    return 0; // exited
  }
}

async function emptyBucket(s3: S3Client, bucket: string): Promise<void> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  for (const o of page.Contents ?? []) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key! }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { gib: { type: "string", default: "2" }, "job-node-options": { type: "string", default: JOB_NODE_OPTIONS } } });
  const gib = Number(values.gib);
  // MinIO and an emulator child with its own data dir, as the restore benches have them.
  const world = await startBenchWorld();
  try {
    const { url, dataDir, s3, bucket, region, endpoint, accessKeyId, secretAccessKey } = world;

    const points = Math.ceil(gib * 1024);
    await call(url, "PUT", "/collections/big", { vectors: { size: 2, distance: "Dot" } });
    const filler = "q".repeat(MiB - 64);
    for (let i = 0; i < points; i += 4) {
      const ids = Array.from({ length: Math.min(4, points - i) }, (_, k) => i + k);
      await call(url, "PUT", "/collections/big/points?wait=true", { points: ids.map((id) => ({ id, vector: [id, 1], payload: { id, blob: filler } })) });
    }
    console.log(`collection "big": ${points} points × 1 MiB payload`);

    // job
    const uid = randomUUID();
    const plan: BackupJobPlan = {
      version: 1,
      backupId: backupId(new Date(), uid),
      mode: "Collection",
      collections: { names: ["big"] },
      qdrant: { url, timeoutSeconds: 30, discovery: { mode: "None", restPort: Number(new URL(url).port), scheme: "http" } },
      s3: { bucket, region, endpoint, forcePathStyle: true },
      source: { namespace: "bench", connection: "emulator", backupName: "bench", backupUid: uid },
      operatorVersion: "bench",
    };
    const resultFile = path.join(dataDir, "result.json");
    // The Job as the image runs it: compiled JavaScript (npm run build), not type-stripped TypeScript,
    // with the NODE_OPTIONS the controller sets.
    execFileSync(path.join(ROOT, "node_modules/.bin/tsc"), ["-p", path.join(ROOT, "tsconfig.build.json")], { stdio: "inherit" });
    const jobStart = Date.now();
    const job = spawn(NODE, [path.join(ROOT, "dist/main.js"), "job", "backup"], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "inherit"],
      env: {
        PATH: process.env.PATH,
        BACKUP_PLAN: JSON.stringify(plan),
        AWS_ACCESS_KEY_ID: accessKeyId,
        AWS_SECRET_ACCESS_KEY: secretAccessKey,
        RESULT_FILE: resultFile,
        ...(values["job-node-options"] ? { NODE_OPTIONS: values["job-node-options"] } : {}),
      },
    });
    let peakRss = 0;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, statusKiB(job.pid!, "VmHWM"), statusKiB(job.pid!, "VmRSS"));
    }, 20);
    const [code] = (await once(job, "exit")) as [number | null];
    clearInterval(sampler);
    const jobSeconds = (Date.now() - jobStart) / 1000;
    const result = JSON.parse(fs.readFileSync(resultFile, "utf8")) as { ok: boolean; sizeBytes?: number; message?: string };
    if (code !== 0 || !result.ok) throw new Error(`job failed (${code}): ${result.message}`);
    const size = result.sizeBytes ?? 0;
    console.log(`job:  ${(size / 2 ** 30).toFixed(2)} GiB in ${jobSeconds.toFixed(1)} s (${(size / MiB / jobSeconds).toFixed(0)} MiB/s), peak RSS ${(peakRss / MiB).toFixed(0)} MiB`);
    await emptyBucket(s3, bucket);

    const upload = (body: Readable, key: string, bytes: number) =>
      new Upload({ client: s3, params: { Bucket: bucket, Key: key, Body: body }, partSize: choosePartSize(bytes), queueSize: UPLOAD_QUEUE_SIZE }).done();

    // (a) raw pipe
    const aStart = Date.now();
    {
      const snap = await call<{ name: string; size: number }>(url, "POST", "/collections/big/snapshots");
      const res = await fetch(`${url}/collections/big/snapshots/${snap.name}`);
      await upload(Readable.fromWeb(res.body!), "raw-pipe.snapshot", snap.size);
      await call(url, "DELETE", `/collections/big/snapshots/${snap.name}`);
    }
    const aSeconds = (Date.now() - aStart) / 1000;
    console.log(`(a) raw pipe: ${aSeconds.toFixed(1)} s`);
    await emptyBucket(s3, bucket);

    // (b) download to a file, then upload it
    const bStart = Date.now();
    {
      const snap = await call<{ name: string; size: number }>(url, "POST", "/collections/big/snapshots");
      const res = await fetch(`${url}/collections/big/snapshots/${snap.name}`);
      const file = path.join(dataDir, "download.snapshot");
      await pipeline(Readable.fromWeb(res.body!), fs.createWriteStream(file));
      await upload(fs.createReadStream(file, { highWaterMark: MiB }), "runbook.snapshot", snap.size);
      fs.rmSync(file);
      await call(url, "DELETE", `/collections/big/snapshots/${snap.name}`);
    }
    const bSeconds = (Date.now() - bStart) / 1000;
    console.log(`(b) download then upload: ${bSeconds.toFixed(1)} s`);
    await emptyBucket(s3, bucket);

    console.log(
      JSON.stringify({
        snapshotBytes: size,
        jobSeconds,
        rawPipeSeconds: aSeconds,
        runbookSeconds: bSeconds,
        jobSpeedVsRawPipe: Number((aSeconds / jobSeconds).toFixed(2)),
        jobSpeedupVsRunbook: Number((bSeconds / jobSeconds).toFixed(2)),
        jobPeakRssMiB: Number((peakRss / MiB).toFixed(1)),
      }),
    );
    s3.destroy();
  } finally {
    await world.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
