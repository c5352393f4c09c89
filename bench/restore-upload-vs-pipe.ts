/**
 * An Upload restore against the raw pipe it replaces, and its memory at two sizes, in one run (same
 * emulator, same MinIO):
 *   job     `job restore` with method Upload as a child process: GET the object from S3 and stream it as
 *           the multipart body of `POST /collections/{c}/snapshots/upload?wait=true&priority=&checksum=`
 *           (known Content-Length, no temp file), then the checks (replicas Active, green, exact count);
 *   pipe    `aws s3 cp s3://… - | curl -F snapshot=@- …/snapshots/upload` written by hand: the SDK's
 *           GetObject body piped into an http.request with the same multipart framing and checksum, no
 *           checks after it.
 * Both at two sizes (`--small-gib`, `--gib`: one collection grown between the two snapshots), rounds
 * alternating pipe/job. Prints each time, throughput job/pipe (goal ≥ 0.9×) and the Job's peak RSS
 * (VmHWM sampled from /proc; goal < 150 MiB and flat with size).
 *
 * Run: node_modules/.bin/node bench/restore-upload-vs-pipe.ts [--small-gib 0.5] [--gib 2] [--rounds 3]
 *      [--source] [--job-node-options=<NODE_OPTIONS for the Job>]
 * It starts the test environment (for MinIO; S3_ENDPOINT + KUBECONFIG reuse a running one) and an
 * emulator child process, and removes both.
 */
import { request } from "node:http";
import type { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import {
  CAVEAT,
  call,
  dropCollection,
  GiB,
  growCollection,
  JOB_FLAGS,
  median,
  MiB,
  mibPerSecond,
  prepareJob,
  restorePlan,
  runRestoreJob,
  seconds,
  snapshotIntoBucket,
  startBenchWorld,
  type BackedUpSnapshot,
  type BenchWorld,
} from "./restore-harness.ts";

/** The hand-written pipe: S3 GET body → multipart POST …/snapshots/upload. Resolves when Qdrant answered 200. */
async function rawPipe(world: BenchWorld, snap: BackedUpSnapshot, collection: string): Promise<void> {
  const got = await world.s3.send(new GetObjectCommand({ Bucket: world.bucket, Key: snap.key }));
  const body = got.Body as Readable;
  const boundary = `----restorebench${Date.now()}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="snapshot"; filename="restore.snapshot"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const u = new URL(`${world.url}/collections/${collection}/snapshots/upload?wait=true&priority=snapshot&checksum=${snap.sha256}`);
  await new Promise<void>((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method: "POST", headers: { "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": head.length + snap.size + tail.length } },
      (res) => {
        let text = "";
        res.on("data", (b: Buffer) => (text += b.toString()));
        res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`upload: ${res.statusCode} ${text}`))));
      },
    );
    req.on("error", reject);
    body.on("error", reject);
    req.write(head);
    body.on("end", () => req.end(tail));
    body.pipe(req, { end: false });
  });
}

interface SizeFigures {
  snapshotBytes: number;
  pipeSeconds: number[];
  jobSeconds: number[];
  jobPeakRssMiB: number[];
  jobSpeedVsPipe: number;
}

async function benchSize(world: BenchWorld, snap: BackedUpSnapshot, rounds: number, jobOpts: { source: boolean; nodeOptions: string }): Promise<SizeFigures> {
  const size = `${(snap.size / GiB).toFixed(2)} GiB`;
  const pipe: number[] = [];
  const job: number[] = [];
  const rss: number[] = [];
  for (let r = 1; r <= rounds; r++) {
    const p0 = Date.now();
    await rawPipe(world, snap, "piped");
    pipe.push(Date.now() - p0);
    const { count } = await call<{ count: number }>(world.url, "POST", "/collections/piped/points/count", { exact: true });
    if (count !== snap.points) throw new Error(`pipe: ${count} points, expected ${snap.points}`);
    await dropCollection(world.url, "piped");
    console.log(`${size} round ${r} pipe: ${seconds(pipe.at(-1)!)} (${mibPerSecond(snap.size, pipe.at(-1)!)})`);

    const run = await runRestoreJob(world, restorePlan(world, snap, "uploaded", "Upload"), jobOpts);
    if (!run.result.ok) throw new Error("unreachable");
    job.push(run.ms);
    rss.push(run.peakRss);
    await dropCollection(world.url, "uploaded");
    const inJob = Date.parse(run.result.recoveredTime) - Date.parse(run.result.startTime);
    console.log(
      `${size} round ${r} job:  Upload ${seconds(run.ms)} (${mibPerSecond(snap.size, run.ms)}; in the Job: upload+recover ${seconds(inJob)}, ` +
        `${run.result.pointsCount.actual}/${run.result.pointsCount.expected} points), peak RSS ${(run.peakRss / MiB).toFixed(0)} MiB`,
    );
  }
  const speed = median(pipe) / median(job);
  console.log(`${size}: Upload restore throughput / raw pipe: ${speed.toFixed(2)}× (goal ≥ 0.9×); Job peak RSS ${(Math.max(...rss) / MiB).toFixed(0)} MiB (goal < 150 MiB)`);
  return {
    snapshotBytes: snap.size,
    pipeSeconds: pipe.map((ms) => ms / 1000),
    jobSeconds: job.map((ms) => ms / 1000),
    jobPeakRssMiB: rss.map((b) => Number((b / MiB).toFixed(1))),
    jobSpeedVsPipe: Number(speed.toFixed(2)),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { gib: { type: "string", default: "2" }, "small-gib": { type: "string", default: "0.5" }, ...JOB_FLAGS } });
  const small = Math.ceil(Number(values["small-gib"]) * 1024);
  const big = Math.ceil(Number(values.gib) * 1024);
  if (!(small > 0 && big > small)) throw new Error("--small-gib must be > 0 and below --gib");
  const rounds = Number(values.rounds);
  const jobOpts = { source: values.source, nodeOptions: values["job-node-options"] };
  prepareJob(jobOpts);
  const world = await startBenchWorld();
  try {
    await growCollection(world.url, "big", 0, small);
    const smallSnap = await snapshotIntoBucket(world, "big", "bench/_collections/big/small/peer-standalone.snapshot", false);
    await growCollection(world.url, "big", small, big);
    const bigSnap = await snapshotIntoBucket(world, "big", "bench/_collections/big/large/peer-standalone.snapshot", false);
    await dropCollection(world.url, "big"); // only the bucket holds the data now, as after a disaster
    console.log(`snapshots in MinIO: ${(smallSnap.size / GiB).toFixed(2)} GiB (${small} points) and ${(bigSnap.size / GiB).toFixed(2)} GiB (${big} points) × 1 MiB payload`);

    const figures = [await benchSize(world, smallSnap, rounds, jobOpts), await benchSize(world, bigSnap, rounds, jobOpts)];
    const [a, b] = figures.map((f) => Math.max(...f.jobPeakRssMiB)) as [number, number];
    console.log(`Job peak RSS: ${a.toFixed(0)} MiB at ${(smallSnap.size / GiB).toFixed(2)} GiB, ${b.toFixed(0)} MiB at ${(bigSnap.size / GiB).toFixed(2)} GiB (${(b - a >= 0 ? "+" : "") + (b - a).toFixed(0)} MiB for ${((bigSnap.size - smallSnap.size) / GiB).toFixed(2)} GiB more)`);
    console.log(CAVEAT);
    console.log(JSON.stringify({ rounds, sizes: figures }));
  } finally {
    await world.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
