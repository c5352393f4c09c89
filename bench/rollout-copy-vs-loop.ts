/**
 * A copyFrom rollout's copy against the loop it replaces, and the copy Job's memory at two sizes, in one
 * run (same emulator, same points):
 *   job     `job copy` as a child process (COPY_JOB_NODE_OPTIONS, as the controller sets): checks green's owner
 *           stamp, scrolls page k+1 while it upserts page k with wait=true, records its progress in green's
 *           metadata about once a second;
 *   loop    the plain loop a person writes by hand, in this process: scroll a page, upsert it with
 *           wait=true, next page; no checks, no progress record.
 * Both with the same page size (`--batch`, the rollout's default 256), at two sizes (`--small`, `--large`
 * points of `--dim` dimensions with a text payload; one source collection grown between them), rounds
 * alternating loop/job (and their order round by round). Prints points/s of each (the Job's from process
 * start to exit, start-up included), the ratio job/loop (goal ≥ 0.9×), CPU per 1000 points of each (the
 * Job's process from /proc, the loop's from this process: what the Job adds, whatever else the machine
 * runs) and the Job's peak RSS (VmHWM sampled from /proc) at both sizes and with nothing to copy: it must be
 * flat, the Job holding two pages whatever the size. Every copy is checked by an exact count of green and
 * (the Job's) its done record.
 *
 * Run: node_modules/.bin/node bench/rollout-copy-vs-loop.ts [--small 20000] [--large 80000] [--dim 128]
 *      [--batch 256] [--rounds 3] [--dist] [--job-node-options=<NODE_OPTIONS for the Job>]
 * It starts an emulator child process with a data dir of its own and removes both. `--dist` builds src/
 * to dist/ and runs the Job from there (as the image does); by default it runs src/main.ts type-stripped.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { COPY_METADATA, OWNER_METADATA } from "../src/controllers/rollout/names.ts";
import { COPY_JOB_NODE_OPTIONS } from "../src/controllers/rollout/build-copy-job.ts";
import type { CopyJobPlan, CopyJobResult } from "../src/jobs/copy/contract.ts";
import { QdrantApi, type PointStruct, type ScrollRequest } from "../src/qdrant/client.ts";
import { median, MiB, ROOT, statusBytes } from "./restore-harness.ts";
import { buildDist } from "./build-dist.ts";

const NODE = path.join(ROOT, "node_modules/.bin/node");

interface Emulator {
  url: string;
  stop(): Promise<void>;
}

async function startEmulator(): Promise<Emulator> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "copy-bench-"));
  const emu: ChildProcess = spawn(NODE, [path.join(ROOT, "test/emulator/cli.ts"), "--port", "0", "--data-dir", dataDir], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, QDRANT_EMULATOR_QUIET: "1" } });
  const [line] = (await once(createInterface({ input: emu.stdout! }), "line")) as [string];
  const { url } = JSON.parse(line) as { url: string };
  return {
    url,
    async stop() {
      emu.kill("SIGTERM");
      await once(emu, "exit");
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Grows `collection` (created when `from` is 0) to `to` points: `dim` floats and a text payload each. */
async function grow(api: QdrantApi, collection: string, dim: number, from: number, to: number): Promise<void> {
  if (from === 0) await api.createCollection(collection, { vectors: { size: dim, distance: "Dot" } });
  for (let i = from; i < to; i += 500) {
    const points: PointStruct[] = [];
    for (let id = i; id < Math.min(i + 500, to); id++) {
      points.push({ id, vector: Array.from({ length: dim }, (_, k) => Math.sin(id * 31 + k)), payload: { id, title: `policy ${id}`, text: `Clause ${id}: the insured party ${"shall notify the insurer within thirty days ".repeat(4)}`, tags: ["home", id % 7] } });
    }
    await api.upsert(collection, points);
  }
}

/** The hand-written loop: scroll a page, upsert it, next. */
async function plainLoop(api: QdrantApi, source: string, target: string, batch: number): Promise<number> {
  let offset: ScrollRequest["offset"] = undefined;
  let copied = 0;
  do {
    const page = await api.scroll(source, { limit: batch, with_payload: true, with_vector: true, ...(offset !== undefined && offset !== null ? { offset } : {}) });
    if (page.points.length > 0) await api.upsert(target, page.points.map((p) => ({ id: p.id, vector: p.vector as PointStruct["vector"], ...(p.payload ? { payload: p.payload } : {}) })));
    copied += page.points.length;
    offset = page.next_page_offset;
  } while (offset !== undefined && offset !== null);
  return copied;
}

/** utime + stime of a process in ms, from /proc/<pid>/stat (clock ticks of 10 ms); 0 once it is gone. */
function cpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

interface JobRun {
  ms: number;
  /** CPU the Job's process used (its last sample before it exited). */
  cpuMs: number;
  peakRss: number;
  result: CopyJobResult;
}

async function runJob(url: string, plan: CopyJobPlan, opts: { dist: boolean; nodeOptions: string }): Promise<JobRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "copy-bench-job-"));
  const resultFile = path.join(dir, "termination-log");
  const main = opts.dist ? path.join(ROOT, "dist/main.js") : path.join(ROOT, "src/main.ts");
  const started = Date.now();
  const job = spawn(NODE, [main, "job", "copy"], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
    env: { PATH: process.env.PATH, COPY_PLAN: JSON.stringify(plan), RESULT_FILE: resultFile, ...(opts.nodeOptions ? { NODE_OPTIONS: opts.nodeOptions } : {}) },
  });
  let peakRss = 0;
  let cpu = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, statusBytes(job.pid!, "VmHWM"), statusBytes(job.pid!, "VmRSS"));
    cpu = Math.max(cpu, cpuMs(job.pid!));
  }, 20);
  const [code] = (await once(job, "exit")) as [number | null];
  clearInterval(sampler);
  const ms = Date.now() - started;
  const text = fs.existsSync(resultFile) ? fs.readFileSync(resultFile, "utf8") : "";
  fs.rmSync(dir, { recursive: true, force: true });
  const result = (text ? JSON.parse(text) : { ok: false, reason: "NoResult", message: "no result written", retryable: false }) as CopyJobResult;
  if (code !== 0 || !result.ok) throw new Error(`job copy failed with exit code ${code}: ${JSON.stringify(result)} (${url})`);
  return { ms, cpuMs: cpu, peakRss, result };
}

interface SizeFigures {
  points: number;
  loopPointsPerSecond: number[];
  jobPointsPerSecond: number[];
  /** CPU ms per 1000 points: the loop's (this process, while it ran) and the Job's process. */
  loopCpuMsPer1000: number[];
  jobCpuMsPer1000: number[];
  jobPeakRssMiB: number[];
  jobSpeedVsLoop: number;
}

const rate = (points: number, ms: number): number => Math.round(points / (ms / 1000));

function copyPlan(url: string, owner: CopyJobPlan["rollout"], batch: number): CopyJobPlan {
  return { version: 1, rollout: owner, attempt: 1, source: "blue", target: "green", batchSize: batch, qdrant: { url, timeoutSeconds: 60, discovery: { mode: "None", restPort: Number(new URL(url).port), scheme: "http" } } };
}

/** The Job's RSS with nothing to copy (green's record says done): what the process itself takes. */
async function restingRss(api: QdrantApi, url: string, dim: number, o: { dist: boolean; nodeOptions: string }): Promise<number> {
  const owner = { namespace: "bench", name: "bench", uid: randomUUID() };
  await api.createCollection("green", { vectors: { size: dim, distance: "Dot" }, metadata: { [OWNER_METADATA]: owner, [COPY_METADATA]: { copied: 0, total: 0, done: true, attempt: 1 } } });
  const run = await runJob(url, copyPlan(url, owner, 256), o);
  await api.deleteCollection("green");
  return run.peakRss;
}

async function benchSize(api: QdrantApi, url: string, points: number, o: { dim: number; batch: number; rounds: number; dist: boolean; nodeOptions: string }): Promise<SizeFigures> {
  const loop: number[] = [];
  const job: number[] = [];
  const rss: number[] = [];
  const loopCpu: number[] = [];
  const jobCpu: number[] = [];
  const per1000 = (ms: number) => Math.round((ms / points) * 1000);
  const runLoop = async (r: number) => {
    await api.createCollection("looped", { vectors: { size: o.dim, distance: "Dot" } });
    const l0 = Date.now();
    const c0 = process.cpuUsage();
    const copied = await plainLoop(api, "blue", "looped", o.batch);
    loop.push(rate(copied, Date.now() - l0));
    const c1 = process.cpuUsage(c0);
    loopCpu.push(per1000((c1.user + c1.system) / 1000));
    if ((await api.count("looped")) !== points) throw new Error(`loop: ${await api.count("looped")} points, expected ${points}`);
    await api.deleteCollection("looped");
    console.log(`${points} points round ${r} loop: ${loop.at(-1)} points/s (CPU ${loopCpu.at(-1)} ms per 1000 points)`);
  };
  const runCopyJob = async (r: number) => {
    const owner = { namespace: "bench", name: "bench", uid: randomUUID() };
    await api.createCollection("green", { vectors: { size: o.dim, distance: "Dot" }, metadata: { [OWNER_METADATA]: owner } });
    const run = await runJob(url, copyPlan(url, owner, o.batch), o);
    if (!run.result.ok) throw new Error("unreachable");
    const inJob = run.result.durationSeconds * 1000;
    job.push(rate(run.result.copiedPoints, run.ms));
    rss.push(run.peakRss);
    jobCpu.push(per1000(run.cpuMs));
    const counted = await api.count("green");
    const record = (await api.collectionMetadata("green"))[COPY_METADATA] as { done?: boolean; copied?: number } | undefined;
    if (counted !== points || !record?.done || record.copied !== points) throw new Error(`job: ${counted} points, record ${JSON.stringify(record)}, expected ${points}`);
    await api.deleteCollection("green");
    console.log(`${points} points round ${r} job:  ${job.at(-1)} points/s (process start to exit, ${(run.ms / 1000).toFixed(1)} s; in the Job ${rate(points, inJob)} points/s, ${run.result.batches} pages; CPU ${jobCpu.at(-1)} ms per 1000 points, start-up included), peak RSS ${(run.peakRss / MiB).toFixed(0)} MiB`);
  };
  // The order alternates round by round, so a machine that gets busier or quieter favours neither.
  for (let r = 1; r <= o.rounds; r++) {
    if (r % 2 === 1) {
      await runLoop(r);
      await runCopyJob(r);
    } else {
      await runCopyJob(r);
      await runLoop(r);
    }
  }
  const speed = median(job) / median(loop);
  console.log(`${points} points: copy Job / plain loop ${speed.toFixed(2)}× (goal ≥ 0.9×); CPU per point Job / loop ${(median(jobCpu) / median(loopCpu)).toFixed(2)}×; Job peak RSS ${(Math.max(...rss) / MiB).toFixed(0)} MiB`);
  return { points, loopPointsPerSecond: loop, jobPointsPerSecond: job, loopCpuMsPer1000: loopCpu, jobCpuMsPer1000: jobCpu, jobPeakRssMiB: rss.map((b) => Number((b / MiB).toFixed(1))), jobSpeedVsLoop: Number(speed.toFixed(2)) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      small: { type: "string", default: "20000" },
      large: { type: "string", default: "80000" },
      dim: { type: "string", default: "128" },
      batch: { type: "string", default: "256" },
      rounds: { type: "string", default: "3" },
      dist: { type: "boolean", default: false },
      "job-node-options": { type: "string", default: COPY_JOB_NODE_OPTIONS },
    },
  });
  const small = Number(values.small);
  const large = Number(values.large);
  if (!(small > 0 && large > small)) throw new Error("--small must be > 0 and below --large");
  const o = { dim: Number(values.dim), batch: Number(values.batch), rounds: Number(values.rounds), dist: values.dist, nodeOptions: values["job-node-options"] };
  if (o.dist) buildDist();
  const emu = await startEmulator();
  const api = new QdrantApi({ url: emu.url, timeoutMs: 120_000 });
  try {
    await grow(api, "blue", o.dim, 0, small);
    const a = await benchSize(api, emu.url, small, o);
    await grow(api, "blue", o.dim, small, large);
    const b = await benchSize(api, emu.url, large, o);
    const resting = await restingRss(api, emu.url, o.dim, o);
    const [ra, rb] = [Math.max(...a.jobPeakRssMiB), Math.max(...b.jobPeakRssMiB)];
    console.log(`Job peak RSS with nothing to copy (green's record done): ${(resting / MiB).toFixed(0)} MiB`);
    console.log(`Job peak RSS: ${ra.toFixed(0)} MiB at ${small} points, ${rb.toFixed(0)} MiB at ${large} points (${rb - ra >= 0 ? "+" : ""}${(rb - ra).toFixed(0)} MiB for ${large - small} points more), ${o.dim}-dim vectors, ${o.batch} points a page`);
    console.log("Measured against the Qdrant emulator (test/emulator), not Qdrant: the figures say what the copy Job adds to a scroll+upsert loop and what it holds in memory, not how fast Qdrant indexes.");
    console.log(JSON.stringify({ dim: o.dim, batch: o.batch, rounds: o.rounds, nodeOptions: o.nodeOptions, restingRssMiB: Number((resting / MiB).toFixed(1)), sizes: [a, b] }));
  } finally {
    await emu.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
