/**
 * The manager at scale (issue 16's first part, the figures issue 10 measured before its indexes): N
 * QdrantBackups under N/10 QdrantBackupSchedules, in one namespace, all of which settle without a Job
 * (the location is ReadOnly, so each backup fails at once as LocationReadOnly; the schedules tick on
 * 1 January, so they create nothing). Prints, in one run:
 *   - create → status: from the first create until every backup and schedule has a status (the time
 *     the creates themselves took is printed beside it);
 *   - cold start: a fresh manager, from its spawn until every object was reconciled once (its reconcile
 *     counters reach N and N/10 and its queues are empty);
 *   - reconcile p50/p99 of that cold start (no-op reconciles), per controller, from the manager's own
 *     /metrics histogram (interpolated within its buckets, as Prometheus' histogram_quantile does);
 *   - RSS peak (VmHWM) and CPU (user + system) per backup, of each manager;
 *   - apiserver requests per minute in steady state, by verb and resource, made by the manager: it talks
 *     to the apiserver through a counting proxy (e2e/helpers/apiserver-counter.ts), so other users of a
 *     shared apiserver do not count.
 *
 * Run: node_modules/.bin/node bench/scale.ts [--n 1000] [--steady-seconds 60]
 * With TESTENV_FILE set it uses that test environment (in a namespace of its own, deleted at the end);
 * without, it starts one and stops it. The manager runs as the operator's ServiceAccount under the
 * generated RBAC, as the e2e tests run it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
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
import { kubeConfig, testEnv } from "../test/helpers/testenv.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const NAMESPACES: ResourceType = { group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false };
const { values } = parseArgs({ options: { n: { type: "string", default: "1000" }, "steady-seconds": { type: "string", default: "60" } } });
const N = Number(values.n);
const S = Math.max(1, Math.round(N / 10));
const STEADY_S = Number(values["steady-seconds"]);
const POLL_MS = N >= 5000 ? 5000 : 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** CPU seconds (user + system) and peak RSS of a process, from /proc. */
function usage(pid: number): { cpuS: number; peakRss: number; rss: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (f: string) => Number(new RegExp(`^${f}:\\s+(\\d+) kB$`, "m").exec(status)?.[1] ?? 0) * 1024;
  // utime and stime are fields 14 and 15 of stat (11 and 12 after the command), in clock ticks (100 Hz).
  return { cpuS: (Number(fields[11]) + Number(fields[12])) / 100, peakRss: kb("VmHWM"), rss: kb("VmRSS") };
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}
const sum = (s: Sample[], name: string, label: string, value: string) => s.filter((x) => x.name === name && x.labels[label] === value).reduce((a, x) => a + x.value, 0);

/** histogram_quantile over one controller's reconcile-time buckets (seconds). */
function quantile(s: Sample[], controller: string, q: number): number {
  const buckets = s
    .filter((x) => x.name === "controller_runtime_reconcile_time_seconds_bucket" && x.labels.controller === controller)
    .map((x) => ({ le: x.labels.le === "+Inf" ? Infinity : Number(x.labels.le), n: x.value }))
    .sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.n ?? 0;
  if (total === 0) return NaN;
  let prevLe = 0;
  let prevN = 0;
  for (const b of buckets) {
    if (b.n >= q * total) return b.le === Infinity ? prevLe : prevLe + ((b.le - prevLe) * (q * total - prevN)) / Math.max(1, b.n - prevN);
    prevLe = b.le;
    prevN = b.n;
  }
  return prevLe;
}

interface Manager {
  child: ChildProcess;
  metricsUrl: string;
  started: number;
  metrics(): Promise<Sample[]>;
  stop(): Promise<void>;
}
async function startManager(ns: string, kubeconfig: string): Promise<Manager> {
  const started = Date.now();
  const child = spawn(process.execPath, [join(ROOT, "src/main.ts"), "manager", `--namespaces=${ns}`, "--leader-elect=false", "--http-address=127.0.0.1:0", `--kubeconfig=${kubeconfig}`], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const metricsUrl = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`manager exited (${code}) before serving metrics`)));
    lines.on("line", (line) => {
      const address = /"address":"([^"]+)".*Starting metrics/.exec(line)?.[1];
      if (address) resolve(`http://${address}/metrics`);
    });
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    child,
    metricsUrl,
    started,
    metrics: async () => parseMetrics(await (await fetch(metricsUrl)).text()),
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Runs `fn` over `items` with at most `width` at once. */
async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

async function main(): Promise<void> {
  const own = process.env.TESTENV_FILE ? undefined : await startEnvironment();
  if (own) {
    const file = join(await mkdtemp(join(tmpdir(), "bench-scale-")), "testenv.json");
    await writeFile(file, JSON.stringify(own.info));
    process.env.TESTENV_FILE = file;
  }
  const env = testEnv();
  if (!env.qdrant) throw new Error("the test environment has no Qdrant emulator");
  const qdrantUrl = env.qdrant.url;
  const admin = new RestClient(kubeConfig());
  const ns = `bench-scale-${N}-${randomBytes(3).toString("hex")}`;
  await ensureCrds();
  await admin.create(NAMESPACES, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  let manager: Manager | undefined;
  const { counter, kubeconfig } = await ApiserverCounter.for(await managerIdentity([ns]));
  try {
    const obj = (kind: string, name: string, spec: unknown, meta: Record<string, unknown> = {}): KubeObject => ({ apiVersion: API_VERSION, kind, metadata: { name, namespace: ns, ...meta }, spec });
    await admin.create(SECRETS, { apiVersion: "v1", kind: "Secret", metadata: { name: "s3-creds", namespace: ns }, stringData: { AWS_ACCESS_KEY_ID: env.s3.accessKeyId, AWS_SECRET_ACCESS_KEY: env.s3.secretAccessKey } });
    await admin.create(QDRANT_CONNECTIONS, obj("QdrantConnection", "qdrant", { url: qdrantUrl, peers: { mode: "None" } }));
    await admin.create(
      QDRANT_BACKUP_LOCATIONS,
      obj("QdrantBackupLocation", "s3", { accessMode: "ReadOnly", s3: { bucket: "bench-scale", endpoint: env.s3.endpoint, region: env.s3.region, forcePathStyle: true, credentials: { secretRef: { name: "s3-creds" } } } }),
    );
    manager = await startManager(ns, kubeconfig);
    console.log(`N = ${N} QdrantBackups under ${S} QdrantBackupSchedules in namespace ${ns}; load average at start ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`);

    // 1. Create everything while the manager runs; time until every object has a status.
    const idle = usage(manager.child.pid!);
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
    for (;;) {
      const [bs, ss] = await Promise.all([admin.list<KubeObject & { status?: { phase?: string } }>(QDRANT_BACKUPS, ns), admin.list<KubeObject & { status?: { observedGeneration?: number } }>(QDRANT_BACKUP_SCHEDULES, ns)]);
      if (bs.items.every((b) => b.status?.phase !== undefined) && ss.items.every((s) => s.status?.observedGeneration !== undefined)) break;
      await sleep(POLL_MS);
    }
    const tStatus = Date.now();
    const first = usage(manager.child.pid!);
    console.log(`create → status: ${secs(tStatus - t0)} from the first create until every object had a status (the creates took ${secs(tCreated - t0)}; polled every ${POLL_MS / 1000} s)`);
    const work = first.cpuS - idle.cpuS;
    console.log(`  manager: CPU ${((work * 1000) / N).toFixed(1)} ms per backup (${work.toFixed(1)} s after its start-up's ${idle.cpuS.toFixed(1)} s), RSS peak ${mib(first.peakRss)} (${mib(idle.rss)} before the creates)`);
    await manager.stop();

    // 2. A cold start: every object reconciled once.
    manager = await startManager(ns, kubeconfig);
    const m = manager;
    let reconciled: Sample[] = [];
    for (;;) {
      reconciled = await m.metrics();
      const done = (c: string, want: number) => sum(reconciled, "controller_runtime_reconcile_total", "controller", c) >= want && sum(reconciled, "workqueue_depth", "name", c) === 0;
      if (done("qdrantbackups", N) && done("qdrantbackupschedules", S)) break;
      await sleep(250);
    }
    const tReconciled = Date.now();
    const cold = usage(m.child.pid!);
    console.log(`cold start: ${secs(tReconciled - m.started)} from spawn until every object was reconciled once`);
    for (const c of ["qdrantbackups", "qdrantbackupschedules"]) {
      // Within the histogram's first bucket (5 ms) interpolation says nothing: print the bound.
      const ms = (q: number) => {
        const v = quantile(reconciled, c, q) * 1000;
        return v <= 5 ? "≤ 5 ms" : `${v.toFixed(1)} ms`;
      };
      console.log(`  ${c}: ${sum(reconciled, "controller_runtime_reconcile_total", "controller", c)} reconciles, p50 ${ms(0.5)}, p99 ${ms(0.99)}`);
    }
    console.log(`  manager: CPU ${(cold.cpuS * 1000 / N).toFixed(1)} ms per backup (${cold.cpuS.toFixed(1)} s in all), RSS peak ${mib(cold.peakRss)}`);

    // 3. Steady state: what the manager asks of the apiserver when nothing changes.
    await sleep(5000);
    const before = counter.requests.length;
    const reconBefore = await m.metrics();
    await sleep(STEADY_S * 1000);
    const window = counter.requests.slice(before);
    const reconAfter = await m.metrics();
    const byKind = new Map<string, number>();
    for (const r of window) {
      const resource = /\/(?:namespaces\/[^/]+\/)?([a-z.]+)(?:\/[^/]+)?(\/status)?$/.exec(r.path);
      const key = `${r.method}${/(^|&)watch=(true|1)/.test(r.query) ? " (watch)" : ""} ${resource ? resource[1] + (resource[2] ?? "") : r.path}`;
      byKind.set(key, (byKind.get(key) ?? 0) + 1);
    }
    const perMin = (n: number) => ((n * 60) / STEADY_S).toFixed(1);
    const recon = (c: string) => sum(reconAfter, "controller_runtime_reconcile_total", "controller", c) - sum(reconBefore, "controller_runtime_reconcile_total", "controller", c);
    const steady = usage(m.child.pid!);
    console.log(`steady state (${STEADY_S} s): ${perMin(window.length)} apiserver requests a minute; reconciles in the window: qdrantbackups ${recon("qdrantbackups")}, qdrantbackupschedules ${recon("qdrantbackupschedules")}; RSS ${mib(steady.rss)}`);
    for (const [k, n] of [...byKind].sort((a, b) => b[1] - a[1])) console.log(`  ${perMin(n)}/min  ${k}`);
  } finally {
    await manager?.stop();
    await counter.stop();
    await admin.delete(NAMESPACES, { namespace: "", name: ns }).catch(() => undefined);
    await own?.stop();
  }
}

await main();
