/**
 * The backup Job with and without the location's compression and encryption (#15), on the same
 * snapshot, same emulator, same MinIO, in one run:
 *   none       `job backup`, objects as Qdrant made them;
 *   zstd       compressed while streaming (level 3, the default);
 *   age        encrypted while streaming (X25519, age v1);
 *   zstd+age   both, in that order;
 *   shell      the plain way of the last: create, then `curl | zstd -3 | age -r … | aws s3 cp -` (the real
 *              zstd and age CLIs in a pipe, lib-storage's Upload for `aws s3 cp -`), delete.
 * Prints, per way, the snapshot MiB/s and the stored/snapshot size ratio, each codec's speed as a ratio
 * of `none`, zstd+age against the shell pipe, and the Job's peak RSS (VmHWM sampled from /proc; goal
 * < 150 MiB with both on for a 2 GiB snapshot).
 *
 * The snapshot is realistic, not zeros: points with 256 float vectors and ~1 MiB text payloads
 * (sentences from a vocabulary, 64 distinct texts rotated, so repeats lie far beyond zstd's window).
 * It also prints the zstd ratio of the codec tests' synthetic segment data (float32 vectors beside JSON
 * payloads as Qdrant's segment files lay them out), since the emulator's point log is its own format.
 *
 * Run: node_modules/.bin/node bench/backup-codecs.ts [--gib 2] [--source]
 * The Job runs from dist/ (compiled first) with the NODE_OPTIONS the controller sets; `--source` runs
 * src/main.ts type-stripped. It starts the test environment (for MinIO) and an emulator, and removes both.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import * as fs from "node:fs";
import * as path from "node:path";
import { Readable } from "node:stream";
import zlib from "node:zlib";
import { parseArgs } from "node:util";
import { DeleteObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { backupId } from "../src/backup/layout/backup-id.ts";
import { zstdParams } from "../src/backup/codec/encode.ts";
import type { BackupJobPlan } from "../src/jobs/backup/contract.ts";
import { JOB_NODE_OPTIONS } from "../src/controllers/shared/job-template.ts";
import { choosePartSize } from "../src/jobs/backup/part-size.ts";
import { UPLOAD_QUEUE_SIZE } from "../src/jobs/backup/stream-upload.ts";
import { ensureAgeBinaries } from "../test/env/build.ts";
import { zstdPath } from "../test/helpers/tools.ts";
import { prng, realisticSnapshot } from "../test/backup/codec-fixtures.ts";
import { call, GiB, MiB, ROOT, startBenchWorld, statusBytes, type BenchWorld } from "./restore-harness.ts";
import { buildDist } from "./build-dist.ts";

const NODE = path.join(ROOT, "node_modules/.bin/node");
const WORDS = "vector search payload filter collection shard replica segment index quantization document title body author created updated tag category price stock region language summary score the a of and to in is for on with as by at from that this which be are was were it an or not".split(" ");

/** ~1 MiB of sentences. */
function text(seed: number): string {
  const next = prng(seed);
  const out: string[] = [];
  let n = 0;
  while (n < MiB - 4096) {
    const words = Array.from({ length: 6 + (next() % 14) }, () => WORDS[next() % WORDS.length]!);
    const s = `${words.join(" ")} ${next() % 100000}. `;
    out.push(s);
    n += s.length;
  }
  return out.join("");
}

async function grow(url: string, points: number): Promise<void> {
  await call(url, "PUT", "/collections/docs", { vectors: { size: 256, distance: "Cosine" } });
  const texts = Array.from({ length: 64 }, (_, i) => text(i + 1));
  const next = prng(99);
  for (let i = 0; i < points; i += 4) {
    const ids = Array.from({ length: Math.min(4, points - i) }, (_, k) => i + k);
    const body = ids.map((id) => ({ id, vector: Array.from({ length: 256 }, () => next() / 0xffffffff - 0.5), payload: { id, title: `doc ${id}`, body: texts[id % 64] } }));
    await call(url, "PUT", "/collections/docs/points?wait=true", { points: body });
  }
}

interface Way {
  name: string;
  encoding?: BackupJobPlan["encoding"];
}

interface Measured {
  name: string;
  seconds: number;
  snapshotBytes: number;
  storedBytes: number;
  peakRssMiB?: number;
}

async function emptyBucket(world: BenchWorld): Promise<void> {
  const page = await world.s3.send(new ListObjectsV2Command({ Bucket: world.bucket }));
  for (const o of page.Contents ?? []) await world.s3.send(new DeleteObjectCommand({ Bucket: world.bucket, Key: o.Key! }));
}

async function runJob(world: BenchWorld, way: Way, keys: string, source: boolean): Promise<Measured> {
  const uid = randomUUID();
  const plan: BackupJobPlan = {
    version: 1,
    backupId: backupId(new Date(), uid),
    mode: "Collection",
    collections: { names: ["docs"] },
    qdrant: { url: world.url, timeoutSeconds: 60, discovery: { mode: "None", restPort: Number(new URL(world.url).port), scheme: "http" } },
    s3: { bucket: world.bucket, region: world.region, endpoint: world.endpoint, forcePathStyle: true },
    ...(way.encoding ? { encoding: way.encoding } : {}),
    source: { namespace: "bench", connection: "emulator", backupName: "bench", backupUid: uid },
    operatorVersion: "bench",
  };
  const resultFile = path.join(world.dataDir, "result.json");
  const start = Date.now();
  const job = spawn(NODE, [path.join(ROOT, source ? "src/main.ts" : "dist/main.js"), "job", "backup"], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
    env: { PATH: process.env.PATH, BACKUP_PLAN: JSON.stringify(plan), AWS_ACCESS_KEY_ID: world.accessKeyId, AWS_SECRET_ACCESS_KEY: world.secretAccessKey, RESULT_FILE: resultFile, ENCRYPTION_KEYS: keys, NODE_OPTIONS: JOB_NODE_OPTIONS },
  });
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, statusBytes(job.pid!, "VmHWM"), statusBytes(job.pid!, "VmRSS"))), 20);
  const [code] = (await once(job, "exit")) as [number | null];
  clearInterval(sampler);
  const seconds = (Date.now() - start) / 1000;
  const result = JSON.parse(fs.readFileSync(resultFile, "utf8")) as { ok: boolean; message?: string; sizeBytes?: number; collections?: Array<{ files?: Array<{ size: number }> }> };
  if (code !== 0 || !result.ok) throw new Error(`${way.name}: job failed (${code}): ${result.message}`);
  const snapshotBytes = result.collections?.[0]?.files?.[0]?.size ?? 0;
  await emptyBucket(world);
  return { name: way.name, seconds, snapshotBytes, storedBytes: result.sizeBytes ?? 0, peakRssMiB: Number((peak / MiB).toFixed(1)) };
}

/** The plain way: create, curl | zstd -3 | age -r | aws s3 cp -, delete. */
async function shellPipe(world: BenchWorld, recipient: string): Promise<Measured> {
  const [{ age }, zstd] = await Promise.all([ensureAgeBinaries(), zstdPath()]);
  const start = Date.now();
  const snap = await call<{ name: string; size: number }>(world.url, "POST", "/collections/docs/snapshots?wait=true");
  const url = `${world.url}/collections/docs/snapshots/${snap.name}`;
  const sh = spawn("sh", ["-c", `curl -sf "$0" | "$1" -3 -q -c | "$2" -r "$3"`, url, zstd, age, recipient], { stdio: ["ignore", "pipe", "inherit"] });
  const closed = once(sh, "close") as Promise<[number | null]>;
  let stored = 0;
  const counted = Readable.from(
    (async function* () {
      for await (const c of sh.stdout) {
        stored += (c as Buffer).length;
        yield c as Buffer;
      }
    })(),
  );
  await new Upload({ client: world.s3, params: { Bucket: world.bucket, Key: "shell.snapshot.zst.age", Body: counted }, partSize: choosePartSize(snap.size), queueSize: UPLOAD_QUEUE_SIZE }).done();
  const [code] = await closed;
  if (code !== 0) throw new Error(`shell pipe exited ${code}`);
  await call(world.url, "DELETE", `/collections/docs/snapshots/${snap.name}`);
  const seconds = (Date.now() - start) / 1000;
  await emptyBucket(world);
  return { name: "shell", seconds, snapshotBytes: snap.size, storedBytes: stored };
}

/** zstd -3 on the codec tests' synthetic segment data: the ratio Qdrant's own files would see. */
async function fixtureRatio(bytes: number): Promise<number> {
  let out = 0;
  const z = zlib.createZstdCompress({ params: zstdParams(3) });
  const counting = (async () => {
    for await (const c of z) out += (c as Buffer).length;
  })();
  for await (const c of realisticSnapshot(bytes, 7)) if (!z.write(c)) await once(z, "drain");
  z.end();
  await counting;
  return out / bytes;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { gib: { type: "string", default: "2" }, source: { type: "boolean", default: false } } });
  const gib = Number(values.gib);
  if (!values.source) buildDist();
  const identity = await generateIdentity();
  const recipient = await identityToRecipient(identity);
  const keys = `# bench key\n${identity}\n`;
  const world = await startBenchWorld();
  try {
    const points = Math.ceil((gib * GiB) / (MiB + 8 * 1024));
    await grow(world.url, points);
    console.log(`collection "docs": ${points} points (256 floats, ~1 MiB of text each)`);
    const ways: Way[] = [
      { name: "none" },
      { name: "zstd", encoding: { compression: { algorithm: "zstd", level: 3 } } },
      { name: "age", encoding: { encryption: { scheme: "age-v1", keyRef: "bench/keys" } } },
      { name: "zstd+age", encoding: { compression: { algorithm: "zstd", level: 3 }, encryption: { scheme: "age-v1", keyRef: "bench/keys" } } },
    ];
    const measured: Measured[] = [];
    for (const way of ways) {
      const m = await runJob(world, way, keys, values.source);
      measured.push(m);
      console.log(`${m.name.padEnd(9)} ${(m.snapshotBytes / GiB).toFixed(2)} GiB in ${m.seconds.toFixed(1)} s (${(m.snapshotBytes / MiB / m.seconds).toFixed(0)} MiB/s), stored ${(m.storedBytes / m.snapshotBytes).toFixed(3)} of the snapshot, peak RSS ${m.peakRssMiB} MiB`);
    }
    const shell = await shellPipe(world, recipient);
    console.log(`shell     ${(shell.snapshotBytes / GiB).toFixed(2)} GiB in ${shell.seconds.toFixed(1)} s, stored ${(shell.storedBytes / shell.snapshotBytes).toFixed(3)} of the snapshot`);
    const fixture = await fixtureRatio(256 * MiB);
    const by = (n: string) => measured.find((m) => m.name === n)!;
    const none = by("none");
    console.log(
      JSON.stringify({
        snapshotBytes: none.snapshotBytes,
        speedVsNone: Object.fromEntries(measured.map((m) => [m.name, Number((none.seconds / m.seconds).toFixed(2))])),
        storedOverSnapshot: Object.fromEntries(measured.map((m) => [m.name, Number((m.storedBytes / m.snapshotBytes).toFixed(3))])),
        zstdAgeSpeedVsShellPipe: Number((shell.seconds / by("zstd+age").seconds).toFixed(2)),
        segmentDataZstd3Ratio: Number(fixture.toFixed(3)),
        peakRssMiB: Object.fromEntries(measured.map((m) => [m.name, m.peakRssMiB])),
      }),
    );
  } finally {
    await world.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
