/**
 * Where the manager's memory and time go at scale, and the same run for two builds side by side: for each
 * `--roots` checkout (default: this one) it creates N QdrantBackups under N/10 QdrantBackupSchedules in a
 * namespace of its own, exactly as bench/scale.ts does (a ReadOnly location, so every backup fails at once
 * as LocationReadOnly; schedules that tick on 1 January), while that checkout's manager runs; then stops it
 * and starts it cold. It prints, per root and phase:
 *   - the manager's peak RSS (VmHWM) and the peaks of process.memoryUsage() (JS heap, external, array
 *     buffers) sampled every 250 ms inside the manager by a preloaded probe, so a peak can be told to be
 *     JS objects or native buffers;
 *   - the time until every object has a status (creating) or was reconciled once (cold start);
 *   - per controller, the no-op reconcile p50/p99 of the cold start from the manager's /metrics;
 *   - CPU per backup.
 * Roots run one after the other in one test environment, so both builds see the same machine (the load
 * average is printed at each start). `--node-args` passes flags to each manager's node (`--cpu-prof`,
 * `--heap-prof`, with their files under --out), for the profile that says where a figure comes from.
 *
 * `--keep` leaves the namespace and its objects in place (its name is printed); `--namespace <it>` then skips
 * the creating phase and measures only cold starts against those objects, so one build change can be
 * measured in a minute instead of the creating phase's five (N must match what the namespace holds).
 *
 * Run: node_modules/.bin/node bench/scale-memory.ts --n 3000 [--roots /path/a,/path/b] [--node-args="--cpu-prof --heapsnapshot-signal=SIGUSR2"]
 * Like bench/scale.ts it starts its own test environment unless TESTENV_FILE is set.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { API_VERSION } from "../src/api/group.ts";
import { SCHEDULE_LABEL } from "../src/api/labels.ts";
import { QDRANT_BACKUP_LOCATIONS, QDRANT_BACKUP_SCHEDULES, QDRANT_BACKUPS, QDRANT_CONNECTIONS, SECRETS } from "../src/controllers/resources.ts";
import { controllerReference, type KubeObject, type ResourceType } from "../src/runtime/resource.ts";
import { RestClient } from "../src/runtime/rest-client.ts";
import { ApiserverCounter } from "../e2e/helpers/apiserver-counter.ts";
import { startEnvironment } from "../test/env/environment.ts";
import { ensureCrds } from "../test/helpers/crds.ts";
import { managerIdentity } from "../test/helpers/operator-identity.ts";
import { kubeAccess, testEnv } from "../test/helpers/testenv.ts";
import { mib, pool, quantileMs, secs, sleep, startManager, sum, usage, type Manager, type Sample } from "./scale-manager.ts";

const HERE = fileURLToPath(new URL("..", import.meta.url));
const NAMESPACES: ResourceType = { group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false };
const { values } = parseArgs({
  options: {
    n: { type: "string", default: "1000" },
    roots: { type: "string", default: HERE },
    "node-args": { type: "string", default: "" },
    out: { type: "string", default: "" },
    keep: { type: "boolean", default: false },
    namespace: { type: "string", default: "" },
  },
});
const N = Number(values.n);
const S = Math.max(1, Math.round(N / 10));
const ROOTS = values.roots.split(",").map((r) => resolve(r));
const NODE_ARGS = values["node-args"].split(" ").filter((a) => a !== "");
const POLL_MS = N >= 5000 ? 5000 : 1000;

const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

/**
 * Preloaded into the manager: appends process.memoryUsage() to $SCALE_MEMORY_FILE every 250 ms. Timers
 * wait while the event loop is busy, so a short peak between samples is missed; VmHWM is not.
 */
const PROBE = `data:text/javascript,${encodeURIComponent(
  'import{appendFileSync}from"node:fs";const f=process.env.SCALE_MEMORY_FILE;if(f)setInterval(()=>appendFileSync(f,JSON.stringify(process.memoryUsage())+"\\n"),250).unref();',
)}`;

interface MemorySample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}
function memoryPeaks(file: string): MemorySample {
  const peak: MemorySample = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return peak;
  }
  for (const line of text.split("\n")) {
    if (!line) continue;
    const m = JSON.parse(line) as MemorySample;
    for (const k of Object.keys(peak) as Array<keyof MemorySample>) peak[k] = Math.max(peak[k], m[k]);
  }
  return peak;
}

interface MeasuredManager extends Manager {
  memoryFile: string;
}
/** The bench's manager (scale-manager.ts) run from `root`, sampling its memory into `<label>.memory.jsonl`. */
async function startMeasured(root: string, ns: string, kubeconfig: string, out: string, label: string): Promise<MeasuredManager> {
  const memoryFile = join(out, `${label}.memory.jsonl`);
  const m = await startManager([ns], kubeconfig, out, { SCALE_MEMORY_FILE: memoryFile }, { root, nodeArgs: ["--import", PROBE, ...NODE_ARGS], cwd: out });
  return { ...m, memoryFile };
}

/** With `--node-args=--heapsnapshot-signal=SIGUSR2`: asks the manager for a heap snapshot and waits until it is written. */
const SNAPSHOTS = NODE_ARGS.includes("--heapsnapshot-signal=SIGUSR2");
async function heapSnapshot(m: Manager, out: string): Promise<string> {
  const before = new Set(readdirSync(out));
  m.child.kill("SIGUSR2");
  let file: string | undefined;
  for (let size = -1; ; await sleep(2000)) {
    file ??= readdirSync(out).find((f) => f.endsWith(".heapsnapshot") && !before.has(f));
    if (file === undefined) continue;
    const now = statSync(join(out, file)).size;
    if (now === size && now > 0) return join(out, file);
    size = now;
  }
}

function report(label: string, m: MeasuredManager, extra: string): void {
  const u = usage(m.child.pid!);
  const p = memoryPeaks(m.memoryFile);
  console.log(`  ${label}: ${extra}; RSS peak ${mib(u.peakRss)} (sampled: heap used ${mib(p.heapUsed)} of ${mib(p.heapTotal)}, external ${mib(p.external)}, array buffers ${mib(p.arrayBuffers)}); CPU ${((u.cpuS * 1000) / N).toFixed(1)} ms per backup`);
}

/** The creating phase: the objects are created while `root`'s manager runs, until every one has a status and the manager is quiet. */
async function createPhase(ns: string, admin: RestClient, kubeconfig: string, out: string, root: string, index: number, env: ReturnType<typeof testEnv>): Promise<void> {
  const obj = (kind: string, name: string, spec: unknown, meta: Record<string, unknown> = {}): KubeObject => ({ apiVersion: API_VERSION, kind, metadata: { name, namespace: ns, ...meta }, spec });
  await admin.create(SECRETS, { apiVersion: "v1", kind: "Secret", metadata: { name: "s3-creds", namespace: ns }, stringData: { AWS_ACCESS_KEY_ID: env.s3.accessKeyId, AWS_SECRET_ACCESS_KEY: env.s3.secretAccessKey } });
  await admin.create(QDRANT_CONNECTIONS, obj("QdrantConnection", "qdrant", { url: env.qdrant!.url, peers: { mode: "None" } }));
  await admin.create(
    QDRANT_BACKUP_LOCATIONS,
    obj("QdrantBackupLocation", "s3", { accessMode: "ReadOnly", s3: { bucket: "bench-scale", endpoint: env.s3.endpoint, region: env.s3.region, forcePathStyle: true, credentials: { secretRef: { name: "s3-creds" } } } }),
  );
  console.log(`${root}: N = ${N} under ${S} schedules in ${ns}; load average ${load()}`);
  const manager = await startMeasured(root, ns, kubeconfig, out, `${index}-create`);
  try {
    await createUntilQuiet(ns, admin, manager, out, obj);
  } finally {
    await manager.stop();
  }
}

/** Creates the schedules and backups while `manager` runs; reports once every object has a status and the manager is quiet. */
async function createUntilQuiet(ns: string, admin: RestClient, manager: MeasuredManager, out: string, obj: (kind: string, name: string, spec: unknown, meta?: Record<string, unknown>) => KubeObject): Promise<void> {
  const t0 = Date.now();
  const refs = { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" } };
  const schedules: KubeObject[] = [];
  await pool(Array.from({ length: S }, (_, i) => `s${String(i).padStart(4, "0")}`), 16, async (name) => {
    schedules.push(await admin.create(QDRANT_BACKUP_SCHEDULES, obj("QdrantBackupSchedule", name, { schedule: "0 0 1 1 *", timeZone: "UTC", ...refs, collections: { names: ["policies"] } })));
  });
  const backups = Array.from({ length: N }, (_, i) => {
    const s = schedules[i % S]!;
    const sName = s.metadata?.name ?? "";
    return obj("QdrantBackup", `${sName}-b${String(i).padStart(5, "0")}`, { ...refs, collections: { names: ["policies"] } }, { labels: { [SCHEDULE_LABEL]: sName }, ownerReferences: [controllerReference(s, true)] });
  });
  await pool(backups, 16, (b) => admin.create(QDRANT_BACKUPS, b));
  const tCreated = Date.now();
  // What is live while the manager works through the creates (the snapshot collects garbage first).
  if (SNAPSHOTS) console.log(`  heap snapshot once the creates are done: ${await heapSnapshot(manager, out)}`);
  for (;;) {
    const [bs, ss] = await Promise.all([admin.list<KubeObject & { status?: { phase?: string } }>(QDRANT_BACKUPS, ns), admin.list<KubeObject & { status?: { observedGeneration?: number } }>(QDRANT_BACKUP_SCHEDULES, ns)]);
    if (bs.items.every((b) => b.status?.phase !== undefined) && ss.items.every((s) => s.status?.observedGeneration !== undefined)) break;
    await sleep(POLL_MS);
  }
  const tStatus = Date.now();
  // Settled: the statuses exist, but schedules woken by the last backups may still be writing; a cold
  // start after that would measure their catching up, not no-op reconciles.
  let last = -1;
  for (let still = 0; still < 3; ) {
    const s = await manager.metrics();
    const total = sum(s, "controller_runtime_reconcile_total", "controller", "qdrantbackups") + sum(s, "controller_runtime_reconcile_total", "controller", "qdrantbackupschedules");
    const depth = s.filter((x) => x.name === "workqueue_depth").reduce((a, x) => a + x.value, 0);
    still = total === last && depth === 0 ? still + 1 : 0;
    last = total;
    await sleep(1000);
  }
  report("creating", manager, `every object had a status after ${secs(tStatus - t0)} (creates ${secs(tCreated - t0)}), settled after ${secs(Date.now() - t0)}`);
}

async function runRoot(root: string, index: number, admin: RestClient, out: string): Promise<void> {
  const env = testEnv();
  const reuse = values.namespace !== "";
  const ns = reuse ? values.namespace : `bench-mem-${N}-${randomBytes(3).toString("hex")}`;
  if (!reuse) await admin.create(NAMESPACES, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  const { counter, kubeconfig } = await ApiserverCounter.for(await managerIdentity([ns]));
  let manager: MeasuredManager | undefined;
  try {
    if (reuse) console.log(`${root}: cold starts only, against the ${N} backups and ${S} schedules in ${ns}; load average ${load()}`);
    else await createPhase(ns, admin, kubeconfig, out, root, index, env);
    console.log(`  (cold start; load average ${load()})`);
    const coldFrom = counter.requests.length;
    manager = await startMeasured(root, ns, kubeconfig, out, `${index}-cold`);
    const m = manager;
    let reconciled: Sample[] = [];
    for (;;) {
      reconciled = await m.metrics();
      const done = (c: string, want: number) => sum(reconciled, "controller_runtime_reconcile_total", "controller", c) >= want && sum(reconciled, "workqueue_depth", "name", c) === 0;
      if (done("qdrantbackups", N) && done("qdrantbackupschedules", S)) break;
      await sleep(250);
    }
    const quantiles = ["qdrantbackups", "qdrantbackupschedules"].map((c) => `${c} p50 ${quantileMs(reconciled, c, 0.5)} p99 ${quantileMs(reconciled, c, 0.99)}`).join(", ");
    report("cold start", m, `every object reconciled once after ${secs(Date.now() - m.started)}; ${quantiles}`);
    // A no-op cold start writes nothing: any write here is a reconcile that was not a no-op.
    const writes = new Map<string, number>();
    for (const r of counter.requests.slice(coldFrom)) {
      if (r.method === "GET") continue;
      const what = `${r.method} ${r.path.replace(/\/namespaces\/[^/]+/, "").replace(/\/[^/]+(\/status)?$/, "/…$1")}`;
      writes.set(what, (writes.get(what) ?? 0) + 1);
    }
    console.log(`  cold start writes: ${writes.size === 0 ? "none" : [...writes].map(([k, n]) => `${n} × ${k}`).join(", ")}`);
    if (SNAPSHOTS) console.log(`  heap snapshot of the cold-started manager: ${await heapSnapshot(m, out)}`);
  } finally {
    await manager?.stop();
    await counter.stop();
    if (values.keep) console.log(`  kept ${ns} (--namespace ${ns} measures cold starts against it)`);
    else if (!reuse) await admin.delete(NAMESPACES, { namespace: "", name: ns }).catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const own = process.env.TESTENV_FILE ? undefined : await startEnvironment();
  if (own) {
    const file = join(await mkdtemp(join(tmpdir(), "bench-scale-memory-")), "testenv.json");
    await writeFile(file, JSON.stringify(own.info));
    process.env.TESTENV_FILE = file;
  }
  const out = values.out ? resolve(values.out) : await mkdtemp(join(tmpdir(), "bench-scale-memory-out-"));
  await mkdir(out, { recursive: true });
  console.log(`profiles and memory samples in ${out}`);
  try {
    await ensureCrds();
    const admin = new RestClient(kubeAccess());
    for (const [i, root] of ROOTS.entries()) await runRoot(root, i, admin, out);
  } finally {
    await own?.stop();
  }
}

await main();
