/**
 * The manager at scale (issue 16's Scale section). For each size N and each layout (one namespace, or
 * spread over many), N QdrantBackups under N/10 QdrantBackupSchedules with N/100 QdrantRestores and
 * N/100 CollectionRollouts, all of which settle without a Job (scale-world.ts says how), and then, in one
 * run (scale-case.ts):
 *   - create → status, and a cold manager start → every object reconciled once;
 *   - no-op reconcile p50/p99 per controller, from the manager's own histogram;
 *   - manager RSS: peak while creating, peak of the cold start, and now in steady state;
 *   - steady-state requests per minute, from the apiserver's own /metrics (apiserver_request_total by verb
 *     and resource, every client: on a shared environment other tests count too) and from the counting
 *     proxy the manager talks through (its own alone): LISTs and status writes called out;
 *   - `kubectl apply` → Ready p50/p99 of new schedules while the rest are loaded.
 * Then a burst (scale-burst.ts): B schedules ticking in the same minute, each a real backup with a real
 * Job, spread over Q Qdrants (--burst-qdrants: the environment's two and Q − 2 emulators the bench starts).
 * At the end, one table of every figure, and the load average at start and end.
 *
 * Run: node_modules/.bin/node bench/scale.ts [--sizes 100,1000] [--namespaces 1,50] [--steady-seconds 60]
 *        [--applies 20] [--burst 100] [--burst-qdrants 2]
 *        [--burst-extrapolate 1000]
 * With TESTENV_FILE set it uses that test environment (in namespaces of its own, deleted at the end);
 * without, it starts one and stops it (better for big sizes: the apiserver's counts are then the bench's
 * alone). The managers run as the operator's ServiceAccount under the generated RBAC, as the e2e tests run it.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { RestClient } from "../src/runtime/rest-client.ts";
import { startEnvironment } from "../test/env/environment.ts";
import { ensureCrds } from "../test/helpers/crds.ts";
import { kubeAccess, testEnv } from "../test/helpers/testenv.ts";
import { p } from "./scale-apply-ready.ts";
import { runBurst, tokenBucket, type BurstResult } from "./scale-burst.ts";
import { runCase, type CaseResult } from "./scale-case.ts";
import { loadAverage, mib, secs } from "./scale-manager.ts";
import { OUR_GROUP } from "./scale-requests.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "100,1000" },
    namespaces: { type: "string", default: "1,50" },
    "steady-seconds": { type: "string", default: "60" },
    applies: { type: "string", default: "20" },
    burst: { type: "string", default: "100" },
    "burst-qdrants": { type: "string", default: "2" },
    "burst-extrapolate": { type: "string", default: "1000" },
  },
});
const list = (s: string) => s.split(",").map((x) => Number(x.trim())).filter((x) => x > 0);
const SIZES = list(values.sizes);
const LAYOUTS = list(values.namespaces);
const BURST = Number(values.burst);
const BURST_QDRANTS = Number(values["burst-qdrants"]);
const EXTRAPOLATE = Number(values["burst-extrapolate"]);

function table(cases: CaseResult[]): string[] {
  const row = (name: string, f: (c: CaseResult) => string) => `| ${name} | ${cases.map(f).join(" | ")} |`;
  const ours = (c: { group: string }) => c.group === OUR_GROUP;
  return [
    `| | ${cases.map((c) => c.label).join(" | ")} |`,
    `|---|${cases.map(() => "---").join("|")}|`,
    row("objects (backups / schedules / restores / rollouts)", (c) => `${c.counts.backups} / ${c.counts.schedules} / ${c.counts.restores} / ${c.counts.rollouts}`),
    row("first create → every object has a status", (c) => `${secs(c.createMs)} (creates ${secs(c.createsAloneMs)})`),
    row("cold manager start → every object reconciled once", (c) => secs(c.coldMs)),
    row("no-op reconcile p50 / p99, backups", (c) => c.reconcile.qdrantbackups!.join(" / ")),
    row("no-op reconcile p50 / p99, schedules", (c) => c.reconcile.qdrantbackupschedules!.join(" / ")),
    row("no-op reconcile p50 / p99, restores", (c) => c.reconcile.qdrantrestores!.join(" / ")),
    row("no-op reconcile p50 / p99, rollouts", (c) => c.reconcile.collectionrollouts!.join(" / ")),
    row("CPU per backup while they are created", (c) => `${c.cpuPerBackupMs.toFixed(1)} ms`),
    row("manager RSS: peak creating / peak cold start / steady now", (c) => `${mib(c.rssPeakCreating)} / ${mib(c.rssPeakCold)} / ${mib(c.rssSteady)}`),
    row("steady: reconciles in the window", (c) => String(c.steadyReconciles)),
    row("steady: manager requests/min (proxy)", (c) => `${c.manager.perMinute().toFixed(1)} (LIST ${c.manager.lists().toFixed(0)}, status writes ${c.manager.statusWrites().toFixed(0)})`),
    row(`steady: apiserver requests/min (/metrics, all clients), of ${OUR_GROUP}`, (c) => `${c.apiserver.perMinute().toFixed(0)}, ${c.apiserver.perMinute(ours).toFixed(1)} (LIST ${c.apiserver.perMinute((x) => ours(x) && x.verb === "LIST").toFixed(0)}, status writes ${c.apiserver.statusWrites(ours).toFixed(0)})`),
    row("kubectl apply → Ready p50 / p99 (new schedule)", (c) => `${p(c.applyReady.fromApply, 0.5)} / ${p(c.applyReady.fromApply, 0.99)}`),
  ];
}

function burstLines(r: BurstResult): string[] {
  const rate = r.schedules / r.lastSucceededS;
  return [
    `| schedules ticking in one minute (measured) | ${r.schedules}, on ${r.lines} Qdrant(s) |`,
    `| Job creation rate | ${r.jobsPerSecond.toFixed(2)} Jobs/s (at most ${r.maxJobsInOneSecond} in one second) |`,
    `| Jobs of one Qdrant running at once, at most | ${r.maxAtOncePerQdrant} |`,
    `| backups: Succeeded / lost / duplicates | ${r.succeeded} / ${r.lost} / ${r.duplicates} |`,
    `| tick → last backup succeeded | ${r.lastSucceededS.toFixed(0)} s (${rate.toFixed(2)} backups/s) |`,
    `| apiserver requests/s during the burst: all clients / the manager (busiest second) | ${r.apiserverPerSecond.toFixed(1)} / ${r.managerPerSecond.toFixed(1)} (${r.managerBusiestSecond}) |`,
    `| manager RSS peak | ${mib(r.rssPeak)} |`,
    ...(EXTRAPOLATE > r.schedules ? [`| EXTRAPOLATED, not measured: ${EXTRAPOLATE} schedules → last backup | ~${((EXTRAPOLATE / rate) / 60).toFixed(0)} min at the measured ${rate.toFixed(2)} backups/s (Jobs of one Qdrant run one after another: ${r.lines} line(s)) |`] : []),
  ];
}

async function main(): Promise<void> {
  const loadStart = loadAverage();
  const own = process.env.TESTENV_FILE ? undefined : await startEnvironment();
  const logDir = await mkdtemp(join(tmpdir(), "bench-scale-"));
  if (own) {
    const file = join(logDir, "testenv.json");
    await writeFile(file, JSON.stringify(own.info));
    process.env.TESTENV_FILE = file;
  }
  try {
    const env = testEnv();
    if (!env.qdrant) throw new Error("the test environment has no Qdrant emulator");
    const admin = new RestClient(kubeAccess());
    await ensureCrds();
    console.log(`scale bench: sizes ${SIZES.join(", ")}; layouts ${LAYOUTS.map((n) => `${n} namespace(s)`).join(", ")}; ${own ? "its own environment" : `the environment of ${process.env.TESTENV_FILE}`}; manager logs in ${logDir}; load average at start ${loadStart}`);
    const cases: CaseResult[] = [];
    for (const size of SIZES) {
      for (const namespaces of LAYOUTS) {
        cases.push(await runCase(admin, env, { size, namespaces, steadySeconds: Number(values["steady-seconds"]), applies: Number(values.applies), logDir }));
      }
    }
    const burst = BURST > 0 ? await runBurst(admin, env, BURST, BURST_QDRANTS, logDir) : undefined;

    console.log(`\n== Every figure above, measured in this run (load average at start ${loadStart}, at end ${loadAverage()})\n`);
    for (const l of table(cases)) console.log(l);
    if (burst) {
      console.log(`\n| burst | |\n|---|---|`);
      for (const l of burstLines(burst)) console.log(l);
      console.log(`\nThe work queue's token bucket: ${tokenBucket()}.`);
    }
  } finally {
    await own?.stop();
  }
}

await main();
