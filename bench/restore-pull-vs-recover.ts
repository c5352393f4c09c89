/**
 * A Pull restore against the floor it cannot beat, on the same ≥ 2 GiB snapshot, same emulator, same
 * MinIO, in one run:
 *   job     `job restore` with method Pull as a child process: presign a GET URL, check the target,
 *           claim it, `PUT /collections/{c}/snapshots/recover?wait=true` with the URL and the manifest's
 *           sha256 (the emulator downloads from MinIO, checks the checksum, recovers), then the checks
 *           (replicas Active, green, exact count = the manifest's);
 *   local   the emulator recovering the same file from its own disk: one `PUT …/snapshots/recover` with
 *           a `file://` location inside its snapshots directory and the same checksum (no download at all);
 *   url     the same call by hand with a presigned URL of the object (presignGetObject, as the Job signs
 *           it): what the Job costs beyond the download Qdrant makes.
 * Rounds alternate (local, url, job, local, …) so the machine's drift hits all three; prints each time,
 * the medians, job/local (goal ≤ 1.1×) and its two parts: url/local (the download from S3, Qdrant's own
 * work) and job/url (the Job's start-up, checks and claim).
 *
 * Run: node_modules/.bin/node bench/restore-pull-vs-recover.ts [--gib 2] [--rounds 3] [--source]
 *      [--job-node-options=<NODE_OPTIONS for the Job>]
 * It starts the test environment (for MinIO; S3_ENDPOINT + KUBECONFIG reuse a running one) and an
 * emulator child process, and removes both.
 */
import { parseArgs } from "node:util";
import { presignGetObject } from "../src/s3/client.ts";
import { CAVEAT, call, dropCollection, GiB, growCollection, JOB_FLAGS, median, mibPerSecond, prepareJob, restorePlan, runRestoreJob, seconds, snapshotIntoBucket, startBenchWorld } from "./restore-harness.ts";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { gib: { type: "string", default: "2" }, ...JOB_FLAGS } });
  const gib = Number(values.gib);
  const rounds = Number(values.rounds);
  const jobOpts = { source: values.source, nodeOptions: values["job-node-options"] };
  prepareJob(jobOpts);
  const world = await startBenchWorld();
  try {
    const points = Math.ceil(gib * 1024);
    await growCollection(world.url, "big", 0, points);
    const snap = await snapshotIntoBucket(world, "big", "bench/_collections/big/peer-standalone.snapshot", true);
    console.log(`collection "big": ${points} points × 1 MiB payload; snapshot ${(snap.size / GiB).toFixed(2)} GiB in MinIO and on the emulator's disk`);

    const local: number[] = [];
    const url: number[] = [];
    const job: number[] = [];
    const jobRecover: number[] = [];
    for (let r = 1; r <= rounds; r++) {
      const l0 = Date.now();
      await call(world.url, "PUT", "/collections/local/snapshots/recover?wait=true", { location: `file://${snap.file}`, checksum: snap.sha256, priority: "snapshot" });
      local.push(Date.now() - l0);
      const { count } = await call<{ count: number }>(world.url, "POST", "/collections/local/points/count", { exact: true });
      if (count !== snap.points) throw new Error(`local recover: ${count} points, expected ${snap.points}`);
      await dropCollection(world.url, "local");
      console.log(`round ${r} local: file:// recover ${seconds(local.at(-1)!)} (${mibPerSecond(snap.size, local.at(-1)!)})`);

      const u0 = Date.now();
      const location = await presignGetObject(world.s3, world.bucket, snap.key, 3600);
      await call(world.url, "PUT", "/collections/by-url/snapshots/recover?wait=true", { location, checksum: snap.sha256, priority: "snapshot" });
      url.push(Date.now() - u0);
      await dropCollection(world.url, "by-url");
      console.log(`round ${r} url:   presigned-URL recover by hand ${seconds(url.at(-1)!)} (${mibPerSecond(snap.size, url.at(-1)!)})`);

      const run = await runRestoreJob(world, restorePlan(world, snap, "pulled", "Pull"), jobOpts);
      if (!run.result.ok) throw new Error("unreachable");
      const recoverMs = Date.parse(run.result.recoveredTime) - Date.parse(run.result.startTime);
      const verifyMs = Date.parse(run.result.verifiedTime) - Date.parse(run.result.recoveredTime);
      job.push(run.ms);
      jobRecover.push(recoverMs);
      await dropCollection(world.url, "pulled");
      console.log(
        `round ${r} job:   Pull ${seconds(run.ms)} (${mibPerSecond(snap.size, run.ms)}; in the Job: recover ${seconds(recoverMs)}, checks ${seconds(verifyMs)}, ` +
          `${run.result.pointsCount.actual}/${run.result.pointsCount.expected} points), peak RSS ${(run.peakRss / (1 << 20)).toFixed(0)} MiB`,
      );
    }
    const ratio = median(job) / median(local);
    const download = median(url) / median(local);
    const overhead = median(job) / median(url);
    console.log(`Pull restore / local file recover: ${ratio.toFixed(2)}× (goal ≤ 1.1×) = the download (url/local) ${download.toFixed(2)}× × the Job (job/url) ${overhead.toFixed(2)}×`);
    console.log(CAVEAT);
    console.log(
      JSON.stringify({
        snapshotBytes: snap.size,
        rounds,
        localRecoverSeconds: local.map((ms) => ms / 1000),
        urlRecoverSeconds: url.map((ms) => ms / 1000),
        pullJobSeconds: job.map((ms) => ms / 1000),
        pullRecoverCallSeconds: jobRecover.map((ms) => ms / 1000),
        pullVsLocal: Number(ratio.toFixed(2)),
        urlVsLocal: Number(download.toFixed(2)),
        pullVsUrl: Number(overhead.toFixed(2)),
        pullRecoverCallVsLocal: Number((median(jobRecover) / median(local)).toFixed(2)),
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
