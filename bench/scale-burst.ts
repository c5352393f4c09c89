/**
 * A burst: B QdrantBackupSchedules whose cron ticks in the same minute, each making one real backup with
 * a real Job (through the environment's node agent) of a tiny collection, spread round-robin over Q
 * Qdrants: the environment's standalone one, its 3-peer cluster (when it has one), and Q − 2 more
 * standalone emulators this bench starts in its own process. Backups take turns per Qdrant
 * (src/controllers/shared/turns/), so the burst runs as Q lines, one per Qdrant: with Q = 2 a line is
 * B/2 Jobs one after another, which is why a 1,000-schedule burst wants more Qdrants, as an operator
 * with that many schedules has. Printed:
 * - the manager's Job creation rate (from the Jobs' creationTimestamps: the apiserver's clock, 1 s grain);
 * - the turns: per Qdrant, how many Jobs ran at once at most (from each Job's start and completion
 *   times, which the apiserver records in seconds, so "at once" means overlapping by a whole second);
 * - none lost: per schedule exactly one backup, each Succeeded;
 * - the apiserver's request rate over the burst (its /metrics, every client) and the manager's (its
 *   proxy, with its busiest second), beside the work queue's token bucket;
 * - the time from the tick until the last backup succeeded.
 * The tick is a real minute of the real clock (cron `M H * * *`, UTC): the schedules are created, the
 * manager started, and then the bench waits for that minute.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { ApiserverCounter } from "../e2e/helpers/apiserver-counter.ts";
import { API_VERSION } from "../src/api/group.ts";
import { SCHEDULE_LABEL } from "../src/api/labels.ts";
import { JOBS, QDRANT_BACKUP_LOCATIONS, QDRANT_BACKUP_SCHEDULES, QDRANT_BACKUPS, QDRANT_CONNECTIONS, SECRETS } from "../src/controllers/resources.ts";
import type { KubeObject } from "../src/runtime/resource.ts";
import type { KubeClient } from "../src/runtime/rest-client.ts";
import { startEmulator } from "../test/emulator/index.ts";
import type { EnvironmentInfo } from "../test/env/environment.ts";
import { managerIdentity } from "../test/helpers/operator-identity.ts";
import { apiKeyForSecret, useCollection } from "../test/helpers/qdrant.ts";
import { bucketOnlyUser, useBucket } from "../test/helpers/s3.ts";
import { mib, pool, secs, sleep, startManager, usage } from "./scale-manager.ts";
import { apiserverRequests, apiserverWindow, proxyWindow } from "./scale-requests.ts";
import { NAMESPACES, RUN_LABEL } from "./scale-world.ts";

interface Backup extends KubeObject {
  spec?: { connectionRef?: { name?: string } };
  status?: { phase?: string; jobName?: string; completionTime?: string; failure?: { reason: string; message: string } };
}
interface Job extends KubeObject {
  status?: { startTime?: string; completionTime?: string; succeeded?: number; failed?: number };
}

export interface BurstResult {
  schedules: number;
  lines: number;
  jobsPerSecond: number;
  maxJobsInOneSecond: number;
  maxAtOncePerQdrant: number;
  succeeded: number;
  lost: number;
  duplicates: number;
  lastSucceededS: number;
  apiserverPerSecond: number;
  managerPerSecond: number;
  managerBusiestSecond: number;
  rssPeak: number;
}

/** The work queue's rate limiter as the code sets it: read from its source, so the figure printed is the one running. */
export function tokenBucket(): string {
  const src = readFileSync(new URL("../src/runtime/rate-limiter.ts", import.meta.url), "utf8");
  const qps = /opts\.qps \?\? (\d+)/.exec(src)?.[1] ?? "?";
  const burst = /opts\.burst \?\? (\d+)/.exec(src)?.[1] ?? "?";
  return `${qps} requeues/s, burst ${burst} (src/runtime/rate-limiter.ts: it paces requeues after failures; first adds are not limited)`;
}

const seconds = (t: string | undefined) => (t ? Date.parse(t) / 1000 : NaN);

/** One Qdrant of the burst: the QdrantConnection that reaches it and the collection its schedules back up. */
interface Line {
  connection: string;
  spec: Record<string, unknown>;
  collection: string;
}

export async function runBurst(admin: KubeClient, env: EnvironmentInfo, b: number, qdrants: number, logDir: string): Promise<BurstResult> {
  const cleanups: Array<() => Promise<unknown>> = [];
  // The shared helpers clean up through a test's after(); the bench runs them at its own end.
  const t = { after: (fn: () => Promise<unknown>) => void cleanups.push(fn) } as unknown as TestContext;
  const run = `burst-${randomBytes(3).toString("hex")}`;
  const ns = `bench-scale-${run}`;
  const q = env.qdrant!;
  const distributed = q.peers.length > 1 && qdrants > 1;
  const extra = Math.max(0, qdrants - (distributed ? 2 : 1));
  console.log(`\n== Burst: ${b} QdrantBackupSchedules ticking in the same minute, one real backup (a Job) each, round-robin over ${qdrants} Qdrant(s): the standalone one${distributed ? ", the 3-peer cluster" : ""}${extra > 0 ? ` and ${extra} more standalone emulator(s) started here` : ""}; namespace ${ns}`);
  try {
    const bucket = await useBucket(t);
    const creds = await bucketOnlyUser(bucket);
    const key = { apiKeySecretRef: { name: "qdrant-key", key: "api-key" } };
    const lines: Line[] = [{ connection: "qdrant", spec: { url: q.url, ...key, peers: { mode: "None" } }, collection: await useCollection(t, "burst") }];
    if (distributed) {
      const collection = await useCollection(t, "burst", { url: q.peers[0]!, config: { vectors: { size: 4, distance: "Cosine" }, shard_number: q.peers.length } });
      lines.push({ connection: "cluster", spec: { url: q.peers[0], ...key, peers: { mode: "Static", urls: q.peers } }, collection });
    }
    for (let k = 0; k < extra; k++) {
      const emulator = await startEmulator({ dataDir: await mkdtemp(join(logDir, "burst-qdrant-")), ...(q.apiKey ? { apiKey: q.apiKey } : {}) });
      const collection = await useCollection(t, "burst", { url: emulator.url });
      cleanups.push(() => emulator.stop()); // after its collection's deletion
      lines.push({ connection: `qdrant-${lines.length}`, spec: { url: emulator.url, ...key, peers: { mode: "None" } }, collection });
    }
    await admin.create(NAMESPACES, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels: { [RUN_LABEL]: run } } });
    cleanups.unshift(() => admin.delete(NAMESPACES, { namespace: "", name: ns }).catch(() => undefined));
    const o = (kind: string, name: string, spec: unknown) => ({ apiVersion: API_VERSION, kind, metadata: { name, namespace: ns }, spec }) as KubeObject;
    await admin.create(SECRETS, { apiVersion: "v1", kind: "Secret", metadata: { name: "qdrant-key", namespace: ns }, stringData: { "api-key": apiKeyForSecret() } });
    await admin.create(SECRETS, { apiVersion: "v1", kind: "Secret", metadata: { name: "s3-creds", namespace: ns }, stringData: { AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey } });
    for (const line of lines) await admin.create(QDRANT_CONNECTIONS, o("QdrantConnection", line.connection, line.spec));
    await admin.create(
      QDRANT_BACKUP_LOCATIONS,
      o("QdrantBackupLocation", "s3", { s3: { bucket, prefix: "bench/burst", endpoint: env.s3.endpoint, region: env.s3.region, forcePathStyle: true, credentials: { secretRef: { name: "s3-creds" } } } }),
    );
    const { counter, kubeconfig } = await ApiserverCounter.for(await managerIdentity([ns]));
    cleanups.push(() => counter.stop());
    const manager = await startManager([ns], kubeconfig, logDir);
    // Stopped after the namespace is gone (cleanups run in order: the namespace first).
    cleanups.splice(1, 0, () => manager.stop());

    // The tick: the first whole minute that leaves time to create every schedule before it.
    const tick = Math.ceil((Date.now() + 20_000 + b * 40) / 60_000) * 60_000;
    const at = new Date(tick);
    const cron = `${at.getUTCMinutes()} ${at.getUTCHours()} * * *`;
    const names = Array.from({ length: b }, (_, i) => `burst-${String(i).padStart(4, "0")}`);
    await pool(names, 16, (name) => {
      const line = lines[Number(name.slice(-4)) % lines.length]!;
      return admin.create(
        QDRANT_BACKUP_SCHEDULES,
        o("QdrantBackupSchedule", name, { schedule: cron, timeZone: "UTC", connectionRef: { name: line.connection }, locationRef: { name: "s3" }, collections: { names: [line.collection] } }),
      );
    });
    if (Date.now() > tick - 2000) throw new Error(`creating ${b} schedules took past their tick (${at.toISOString()}): run a smaller --burst`);
    console.log(`${b} schedules created (cron "${cron}" UTC); waiting ${secs(tick - Date.now())} for the tick at ${at.toISOString()}`);
    await sleep(Math.max(0, tick - 1000 - Date.now()));
    const apiBefore = await apiserverRequests(admin);
    const proxyBefore = counter.requests.length;

    let backups: Backup[] = [];
    let lastPrint = Date.now();
    for (;;) {
      backups = (await admin.list<Backup>(QDRANT_BACKUPS, ns)).items;
      const done = backups.filter((x) => x.status?.phase === "Succeeded" || x.status?.phase === "Failed").length;
      if (backups.length >= b && done === backups.length) break;
      if (Date.now() - lastPrint > 30_000) {
        console.log(`  ${secs(Date.now() - tick)} after the tick: ${backups.length} backups, ${done} finished`);
        lastPrint = Date.now();
      }
      await sleep(2000);
    }
    const apiAfter = await apiserverRequests(admin);
    const proxied = counter.requests.slice(proxyBefore);
    const rssPeak = usage(manager.child.pid!).peakRss;

    const jobs = (await admin.list<Job>(JOBS, ns)).items;
    const created = jobs.map((j) => seconds(j.metadata?.creationTimestamp)).sort((x, y) => x - y);
    const spanS = Math.max(1, created.at(-1)! - created[0]!);
    const perSecond = new Map<number, number>();
    for (const c of created) perSecond.set(c, (perSecond.get(c) ?? 0) + 1);
    const jobOf = new Map(jobs.map((j) => [j.metadata?.name, j]));
    // At most how many Jobs of one Qdrant ran at once: a sweep over [start, completion) of each line's Jobs.
    let maxAtOnce = 0;
    for (const line of new Set(backups.map((x) => x.spec?.connectionRef?.name))) {
      const edges: Array<[number, number]> = [];
      for (const x of backups.filter((y) => y.spec?.connectionRef?.name === line)) {
        const j = jobOf.get(x.status?.jobName);
        if (!j?.status?.startTime || !j.status.completionTime) continue;
        edges.push([seconds(j.status.startTime), 1], [seconds(j.status.completionTime), -1]);
      }
      edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
      let now = 0;
      for (const [, d] of edges) maxAtOnce = Math.max(maxAtOnce, (now += d));
    }
    const bySchedule = new Map<string, number>();
    for (const x of backups) {
      const s = x.metadata?.labels?.[SCHEDULE_LABEL] ?? "";
      bySchedule.set(s, (bySchedule.get(s) ?? 0) + 1);
    }
    const lost = names.filter((n) => !bySchedule.has(n)).length;
    const duplicates = [...bySchedule.values()].reduce((a, n) => a + Math.max(0, n - 1), 0);
    const succeeded = backups.filter((x) => x.status?.phase === "Succeeded").length;
    const failed = backups.filter((x) => x.status?.phase !== "Succeeded");
    const last = Math.max(...backups.map((x) => seconds(x.status?.completionTime)));
    const api = apiserverWindow(apiBefore, apiAfter);
    const mgr = proxyWindow(proxied, api.seconds);
    const busiest = new Map<number, number>();
    for (const r of proxied) busiest.set(Math.floor(r.at / 1000), (busiest.get(Math.floor(r.at / 1000)) ?? 0) + 1);
    const result: BurstResult = {
      schedules: b,
      lines: lines.length,
      jobsPerSecond: jobs.length / spanS,
      maxJobsInOneSecond: Math.max(...perSecond.values()),
      maxAtOncePerQdrant: maxAtOnce,
      succeeded,
      lost,
      duplicates,
      lastSucceededS: last - tick / 1000,
      apiserverPerSecond: api.perMinute() / 60,
      managerPerSecond: mgr.perMinute() / 60,
      managerBusiestSecond: Math.max(0, ...busiest.values()),
      rssPeak,
    };
    console.log(`Jobs: ${jobs.length} created over ${spanS} s: ${result.jobsPerSecond.toFixed(2)} Jobs/s, at most ${result.maxJobsInOneSecond} in one second`);
    console.log(`turns: at most ${maxAtOnce} Job(s) of one Qdrant running at once (over ${result.lines} line(s))`);
    console.log(`backups: ${backups.length} for ${b} schedules; ${succeeded} Succeeded; lost ${lost}; duplicates ${duplicates}`);
    for (const x of failed.slice(0, 5)) console.log(`  not Succeeded: ${x.metadata?.name} ${x.status?.phase}: ${x.status?.failure?.reason}: ${x.status?.failure?.message}`);
    console.log(`the last backup succeeded ${result.lastSucceededS.toFixed(0)} s after the tick (${(b / result.lastSucceededS).toFixed(2)} backups/s)`);
    console.log(`apiserver over the burst (${api.seconds.toFixed(0)} s): ${result.apiserverPerSecond.toFixed(1)} requests/s from every client; the manager's ${result.managerPerSecond.toFixed(1)}/s (busiest second ${result.managerBusiestSecond}); the work queue's token bucket: ${tokenBucket()}`);
    for (const l of mgr.lines(8)) console.log(`    manager ${l}`);
    console.log(`manager RSS peak ${mib(rssPeak)}`);
    return result;
  } finally {
    for (const c of cleanups) await c().catch((err: unknown) => console.error(`cleanup: ${String(err)}`));
  }
}
