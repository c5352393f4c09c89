/**
 * One case of the scale bench: one size in one layout (scale-world.ts says what is created). In order:
 * 1. create → status: a manager runs while every object is created; from the first create until every
 *    object has a status (the creates' own time beside it); the manager's CPU and RSS meanwhile;
 * 2. cold start: that manager stopped, a fresh one spawned; from its spawn until every controller counted
 *    a reconcile per object and its queue is empty; the p50/p99 of those reconciles (all no-ops: every
 *    object has settled), per controller, from the manager's reconcile-time histogram;
 * 3. steady state: nothing changes for `steadySeconds`; the apiserver's own request counts over the window
 *    (every client), the manager's through its proxy, and the reconciles it ran;
 * 4. `kubectl apply` → Ready of new schedules with all of it loaded (scale-apply-ready.ts).
 * The namespaces are deleted while the manager still runs (it removes any finalizer it put).
 */
import { randomBytes } from "node:crypto";
import { ApiserverCounter } from "../e2e/helpers/apiserver-counter.ts";
import type { KubeClient } from "../src/runtime/rest-client.ts";
import type { EnvironmentInfo } from "../test/env/environment.ts";
import { managerIdentity } from "../test/helpers/operator-identity.ts";
import { applyToReady, p, type ApplyReady } from "./scale-apply-ready.ts";
import { mib, quantileMs, secs, sleep, startManager, sum, usage, type Manager, type Sample } from "./scale-manager.ts";
import { apiserverRequests, apiserverWindow, OUR_GROUP, proxyWindow, type RequestWindow } from "./scale-requests.ts";
import { controllersOf, countsFor, ScaleWorld, type Counts } from "./scale-world.ts";

export interface CaseOptions {
  size: number;
  namespaces: number;
  steadySeconds: number;
  applies: number;
  logDir: string;
}

export interface CaseResult {
  label: string;
  counts: Counts;
  createMs: number;
  createsAloneMs: number;
  coldMs: number;
  /** Per controller: [p50, p99] as printed. */
  reconcile: Record<string, [string, string]>;
  cpuPerBackupMs: number;
  rssPeakCreating: number;
  rssPeakCold: number;
  rssSteady: number;
  apiserver: RequestWindow;
  manager: RequestWindow;
  steadyReconciles: number;
  applyReady: ApplyReady;
  leftNamespaces: string[];
}

const MAIN = ["qdrantbackups", "qdrantbackupschedules", "qdrantrestores", "collectionrollouts"];

/**
 * The manager's identity for every namespace, five namespaces at a time: managerIdentity checks each grant
 * in every namespace at once (one SelfSubjectAccessReview each), which for 50 namespaces is thousands of
 * requests in one go and fails on a loaded apiserver. The grants of earlier batches stay; the last token serves.
 */
async function identityFor(namespaces: string[]): Promise<string> {
  let kubeconfig = "";
  for (let i = 0; i < namespaces.length; i += 5) kubeconfig = await managerIdentity(namespaces.slice(i, i + 5));
  return kubeconfig;
}

export async function runCase(admin: KubeClient, env: EnvironmentInfo, o: CaseOptions): Promise<CaseResult> {
  const counts = countsFor(o.size);
  const run = `${o.size}-${o.namespaces}-${randomBytes(3).toString("hex")}`;
  const label = `N = ${o.size.toLocaleString("en")}, ${o.namespaces === 1 ? "1 namespace" : `${o.namespaces} namespaces`}`;
  const world = new ScaleWorld(admin, env, run, Array.from({ length: o.namespaces }, (_, i) => `bench-scale-${run}-${i}`));
  const pollMs = o.size >= 5000 ? 5000 : 1000;
  console.log(`\n== ${label}: ${counts.backups} QdrantBackups under ${counts.schedules} QdrantBackupSchedules, ${counts.restores} QdrantRestores (Drill), ${counts.rollouts} CollectionRollouts (aborted); run ${run}`);
  let counter: ApiserverCounter | undefined;
  let manager: Manager | undefined;
  let leftNamespaces: string[] = [];
  try {
    await world.createNamespaces();
    const proxy = await ApiserverCounter.for(await identityFor(world.namespaces));
    counter = proxy.counter;
    const kubeconfig = proxy.kubeconfig;
    // 1. Create everything while the manager runs.
    manager = await startManager(world.namespaces, kubeconfig, o.logDir);
    const idle = usage(manager.child.pid!);
    const t0 = Date.now();
    await world.populate(counts);
    const tCreated = Date.now();
    await world.settled(pollMs);
    const tStatus = Date.now();
    const first = usage(manager.child.pid!);
    const cpuPerBackupMs = ((first.cpuS - idle.cpuS) * 1000) / counts.backups;
    console.log(`create → status: ${secs(tStatus - t0)} (the creates took ${secs(tCreated - t0)}; polled every ${pollMs / 1000} s); CPU ${cpuPerBackupMs.toFixed(1)} ms per backup; RSS peak ${mib(first.peakRss)}, now ${mib(first.rss)}`);
    // What the creating cost in reconciles: each backup's events wake its schedule and the restores that wait for a backup.
    const created = await manager.metrics().catch(() => undefined);
    if (created) console.log(`  reconciles while creating: ${MAIN.map((c) => `${c} ${sum(created, "controller_runtime_reconcile_total", "controller", c)}`).join(", ")}`);
    await manager.stop();

    // 2. Cold start.
    manager = await startManager(world.namespaces, kubeconfig, o.logDir);
    const m = manager;
    const want = controllersOf(counts, o.namespaces);
    let cold: Sample[];
    for (;;) {
      // A loaded manager may drop a /metrics connection: that read is skipped, not the case.
      const read = await m.metrics().catch(() => undefined);
      if (!read) {
        await sleep(250);
        continue;
      }
      cold = read;
      const c = cold;
      if (want.every(([name, n]) => sum(c, "controller_runtime_reconcile_total", "controller", name) >= n && sum(c, "workqueue_depth", "name", name) === 0)) break;
      await sleep(250);
    }
    const coldMs = Date.now() - m.started;
    const coldUse = usage(m.child.pid!);
    const reconcile: Record<string, [string, string]> = {};
    for (const c of MAIN) reconcile[c] = [quantileMs(cold, c, 0.5), quantileMs(cold, c, 0.99)];
    console.log(`cold start: ${secs(coldMs)} from spawn until every object was reconciled once; RSS peak ${mib(coldUse.peakRss)}`);
    for (const c of MAIN) console.log(`  ${c}: ${sum(cold, "controller_runtime_reconcile_total", "controller", c)} reconciles, p50 ${reconcile[c]![0]}, p99 ${reconcile[c]![1]}`);

    // 3. Steady state: nothing changes; the bench itself makes no request but its two reads of /metrics.
    await sleep(5000);
    const reconBefore = await m.metrics();
    const apiBefore = await apiserverRequests(admin);
    const proxyBefore = counter.requests.length;
    await sleep(o.steadySeconds * 1000);
    const apiAfter = await apiserverRequests(admin);
    const proxied = counter.requests.slice(proxyBefore);
    const reconAfter = await m.metrics();
    const apiserver = apiserverWindow(apiBefore, apiAfter);
    const mgr = proxyWindow(proxied, apiserver.seconds);
    const steadyReconciles = MAIN.reduce((a, c) => a + sum(reconAfter, "controller_runtime_reconcile_total", "controller", c) - sum(reconBefore, "controller_runtime_reconcile_total", "controller", c), 0);
    const rssSteady = usage(m.child.pid!).rss;
    const ours = (c: { group: string }) => c.group === OUR_GROUP;
    console.log(`steady state (${apiserver.seconds.toFixed(0)} s): ${steadyReconciles} reconciles; manager RSS ${mib(rssSteady)}`);
    console.log(
      `  the manager (its proxy): ${mgr.perMinute().toFixed(1)} requests/min; LIST ${mgr.lists().toFixed(1)}/min; status writes ${mgr.statusWrites().toFixed(1)}/min`,
    );
    for (const l of mgr.lines()) console.log(`    ${l}`);
    console.log(
      `  the apiserver (/metrics, every client): ${apiserver.perMinute().toFixed(1)} requests/min; of ${OUR_GROUP}: ${apiserver.perMinute(ours).toFixed(1)}/min, LIST ${apiserver.perMinute((c) => ours(c) && c.verb === "LIST").toFixed(1)}/min, status writes ${apiserver.statusWrites(ours).toFixed(1)}/min; LIST of anything ${apiserver.lists().toFixed(1)}/min, status writes of anything ${apiserver.statusWrites().toFixed(1)}/min`,
    );
    for (const l of apiserver.lines()) console.log(`    ${l}`);

    // 4. kubectl apply → Ready with everything loaded.
    const applyReady = await applyToReady(world, o.applies);
    console.log(`kubectl apply → Ready (${o.applies} new schedules, one at a time): p50 ${p(applyReady.fromApply, 0.5)}, p99 ${p(applyReady.fromApply, 0.99)}; from kubectl's exit p50 ${p(applyReady.fromCreated, 0.5)}, p99 ${p(applyReady.fromCreated, 0.99)}`);

    leftNamespaces = await world.deleteNamespaces(o.size >= 5000 ? 600_000 : 180_000);
    if (leftNamespaces.length > 0) console.log(`  (namespaces still terminating when the case ended: ${leftNamespaces.length})`);
    return {
      label,
      counts,
      createMs: tStatus - t0,
      createsAloneMs: tCreated - t0,
      coldMs,
      reconcile,
      cpuPerBackupMs,
      rssPeakCreating: first.peakRss,
      rssPeakCold: coldUse.peakRss,
      rssSteady,
      apiserver,
      manager: mgr,
      steadyReconciles,
      applyReady,
      leftNamespaces,
    };
  } finally {
    if (leftNamespaces.length === 0) await world.deleteNamespaces(0).catch(() => undefined);
    await manager?.stop();
    await counter?.stop();
  }
}
