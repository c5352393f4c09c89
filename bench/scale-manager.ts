/**
 * The scale bench's view of one manager process: it spawns `manager` as the e2e tests do (the
 * operator's ServiceAccount, leader election off, metrics on a free port), and reads what the bench
 * prints about it: CPU and RSS from /proc, and its own /metrics (reconcile counts, queue depths, the
 * reconcile-time histogram).
 *
 * What runs is the production build, `dist/main.js` (the image's entrypoint), compiled once per checkout
 * with `tsconfig.build.json` at the first start: the e2e tests run `src/main.ts` through Node's type
 * stripping, which costs the process ~37 MiB of RSS that a deployed manager does not have (the stripper
 * and the sources' text), so memory figures of the source run overstate the operator's.
 * `SCALE_MANAGER=source` runs `src/main.ts` instead.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { MANAGER_NODE_FLAGS } from "../src/manager/node-flags.ts";
import { buildDist } from "./build-dist.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
export const loadAverage = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

/** CPU seconds (user + system), RSS now and its peak (VmHWM) of a process, from /proc. */
export function usage(pid: number): { cpuS: number; peakRss: number; rss: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (f: string) => Number(new RegExp(`^${f}:\\s+(\\d+) kB$`, "m").exec(status)?.[1] ?? 0) * 1024;
  // utime and stime are fields 14 and 15 of stat (11 and 12 after the command), in clock ticks (100 Hz).
  return { cpuS: (Number(fields[11]) + Number(fields[12])) / 100, peakRss: kb("VmHWM"), rss: kb("VmRSS") };
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus' text format, one sample a line (comments and blank lines skipped). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

export const sum = (s: Sample[], name: string, label: string, value: string) => s.filter((x) => x.name === name && x.labels[label] === value).reduce((a, x) => a + x.value, 0);

/** histogram_quantile over one controller's reconcile-time buckets (seconds), optionally of the difference `s` − `base`. */
export function quantile(s: Sample[], controller: string, q: number, base: Sample[] = []): number {
  const of = (xs: Sample[]) => xs.filter((x) => x.name === "controller_runtime_reconcile_time_seconds_bucket" && x.labels.controller === controller);
  const before = new Map(of(base).map((x) => [x.labels.le, x.value]));
  const buckets = of(s)
    .map((x) => ({ le: x.labels.le === "+Inf" ? Infinity : Number(x.labels.le), n: x.value - (before.get(x.labels.le) ?? 0) }))
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

/** A quantile in ms; within the histogram's first bucket (5 ms) interpolation says nothing, so the bound is printed. */
export function quantileMs(s: Sample[], controller: string, q: number, base: Sample[] = []): string {
  const v = quantile(s, controller, q, base) * 1000;
  if (Number.isNaN(v)) return "–";
  return v <= 5 ? "≤ 5 ms" : `${v.toFixed(1)} ms`;
}

export interface Manager {
  child: ChildProcess;
  started: number;
  logPath: string;
  metrics(): Promise<Sample[]>;
  stop(): Promise<void>;
}

export interface ManagerOptions {
  /** The checkout whose manager runs (default this one): scale-memory.ts compares two builds. */
  root?: string;
  /**
   * Node flags before the script (e.g. `--import <probe>`, `--heapsnapshot-signal=SIGUSR2`), after the
   * deployed ones (src/manager/node-flags.ts), which `SCALE_NODE_FLAGS=off` leaves out to measure without them.
   */
  nodeArgs?: string[];
  /** Its working directory (where heap snapshots land). */
  cwd?: string;
}

const built = new Set<string>();

/** The manager's entry script of checkout `root`: its `dist/main.js`, built once per process (see the module's TSDoc). */
export function managerScript(root: string): string {
  if (process.env.SCALE_MANAGER === "source") return join(root, "src/main.ts");
  if (!built.has(root)) buildDist(root);
  built.add(root);
  return join(root, "dist/main.js");
}

/** Spawns the manager for `namespaces`; resolves once it serves /metrics. Its log goes to `logDir`/manager-<n>.log. */
export async function startManager(namespaces: string[], kubeconfig: string, logDir: string, env: Record<string, string> = {}, opts: ManagerOptions = {}): Promise<Manager> {
  const script = managerScript(opts.root ?? ROOT);
  const started = Date.now();
  const child = spawn(process.execPath, [...(process.env.SCALE_NODE_FLAGS === "off" ? [] : MANAGER_NODE_FLAGS), ...(opts.nodeArgs ?? []), script, "manager", `--namespaces=${namespaces.join(",")}`, "--leader-elect=false", "--http-address=127.0.0.1:0", `--kubeconfig=${kubeconfig}`], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  const logPath = join(logDir, `manager-${child.pid}.log`);
  const log = createWriteStream(logPath);
  child.stderr.pipe(log);
  const lines = createInterface({ input: child.stdout });
  const metricsUrl = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`manager exited (${code}) before serving metrics; its log: ${logPath}`)));
    lines.on("line", (line) => {
      log.write(line + "\n");
      const address = /"address":"([^"]+)".*Starting metrics/.exec(line)?.[1];
      if (address) resolve(`http://${address}/metrics`);
    });
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return {
    child,
    started,
    logPath,
    metrics: async () => parseMetrics(await (await fetch(metricsUrl)).text()),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Runs `fn` over `items` with at most `width` at once. */
export async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** The q-quantile of plain numbers (nearest rank). */
export function rank(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
