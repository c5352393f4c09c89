/**
 * Part (b) of bench/rollout-zero-downtime.ts: the same load through the alias while a real manager
 * (src/main.ts manager, run by test/helpers/manager.ts as the operator's ServiceAccount under the
 * generated RBAC, against the shared test environment's control plane) switches it:
 *   1. a CollectionRollout is created: source external (green is the bench's, filled beforehand), gates
 *      minPoints = the points seeded and requireGreen, promotion Auto → the manager judges green and
 *      switches the alias to it (phase Promoted);
 *   2. `spec.rollback: true` is patched in → the manager switches the alias back (phase RolledBack).
 * For each, the switch latency printed is from the apply to a 20 ms poller of GET /aliases seeing the
 * alias at the new collection (so it includes the manager's watch, its reconcile and the gates), beside
 * the manager's own measure of its one alias request (qdrant_operator_rollout_switch_duration_seconds).
 * The namespace (and with it the rollout) is deleted at the end; blue and green are the bench's.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import type { TestContext } from "node:test";
import { API_VERSION } from "../src/api/group.ts";
import { COLLECTION_ROLLOUTS, QDRANT_CONNECTIONS } from "../src/controllers/resources.ts";
import type { KubeObject, ResourceType } from "../src/runtime/resource.ts";
import { RestClient } from "../src/runtime/rest-client.ts";
import { ensureCrds } from "../test/helpers/crds.ts";
import { startManager, type ManagerProcess } from "../test/helpers/manager.ts";
import { kubeAccess } from "../test/helpers/testenv.ts";
import { AliasLoad, report, totals, type AliasWatch, type SwitchTiming, type World } from "./rollout-load.ts";

const NAMESPACES: ResourceType = { group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Rollout extends KubeObject {
  status?: { phase?: string; failure?: { reason: string; message: string }; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
}

/** Why part (b) cannot run here, or undefined when it can. */
export async function managerPartUnavailable(): Promise<string | undefined> {
  const file = process.env.TESTENV_FILE;
  if (!file || !fs.existsSync(file) || fs.statSync(file).size === 0) return "TESTENV_FILE is not set, or the test environment it names is not up yet";
  const run = await fs.promises.readFile(new URL("../src/manager/run.ts", import.meta.url), "utf8");
  if (!run.includes("rolloutController(")) return "the rollout controller is not registered in src/manager/run.ts yet";
  return undefined;
}

/** The manager's metrics address, from its log ("Starting metrics" with the address). */
async function metricsUrl(manager: ManagerProcess): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const address = /"address":"([^"]+)"[^\n]*Starting metrics|Starting metrics[^\n]*"address":"([^"]+)"/.exec(await manager.log());
    const found = address?.[1] ?? address?.[2];
    if (found) return `http://${found}/metrics`;
    await sleep(100);
  }
  throw new Error(`no metrics address in the manager's log ${manager.logPath}`);
}

/** Sum and count of the switch-duration histogram (0, 0 when it has no sample yet). */
async function switchSeconds(url: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(url)).text();
  const value = (name: string): number =>
    text
      .split("\n")
      .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
      .reduce((a, l) => a + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
  return { sum: value("qdrant_operator_rollout_switch_duration_seconds_sum"), count: value("qdrant_operator_rollout_switch_duration_seconds_count") };
}

/** Polls the rollout until its phase is `phase`; fails fast on Failed (with the reason). */
async function waitPhase(kube: RestClient, ns: string, name: string, phase: string, timeoutMs = 120_000): Promise<Rollout> {
  const deadline = performance.now() + timeoutMs;
  let last: Rollout | undefined;
  while (performance.now() < deadline) {
    last = await kube.get<Rollout>(COLLECTION_ROLLOUTS, { namespace: ns, name });
    if (last.status?.phase === phase) return last;
    if (last.status?.phase === "Failed") throw new Error(`the rollout failed: ${JSON.stringify(last.status.failure ?? last.status)}`);
    await sleep(100);
  }
  throw new Error(`the rollout did not reach ${phase} in ${timeoutMs / 1000} s: ${JSON.stringify(last?.status)}`);
}

async function waitSeen(watch: AliasWatch, to: string, since: number, timeoutMs = 120_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const at = watch.seenAt(to, since);
    if (at !== undefined) return at;
    if (performance.now() > deadline) throw new Error(`the alias was not seen at ${to} within ${timeoutMs / 1000} s`);
    await sleep(5);
  }
}

export async function runManagerPart(w: World, watch: AliasWatch): Promise<boolean> {
  await ensureCrds();
  const kube = new RestClient(kubeAccess());
  const ns = `bench-rollout-${randomBytes(3).toString("hex")}`;
  const afters: Array<() => unknown> = [];
  const t = { after: (fn: () => unknown) => afters.push(fn) } as unknown as TestContext;
  await kube.create(NAMESPACES, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  const load = new AliasLoad({ urls: w.emulator.peers, alias: w.alias, rate: w.rate, clients: w.clients, ids: w.points });
  let ok: boolean | undefined;
  try {
    const manager = await startManager(t, [ns]);
    const metrics = await metricsUrl(manager);
    await kube.create(QDRANT_CONNECTIONS, { apiVersion: API_VERSION, kind: "QdrantConnection", metadata: { name: "qdrant", namespace: ns }, spec: { url: w.emulator.url, peers: { mode: "None" } } });
    if ((await w.api.listAliases()).find((a) => a.alias === w.alias)?.collection !== w.blue) throw new Error(`alias ${w.alias} does not point at ${w.blue} before part (b)`);
    watch.start();
    load.start();
    await sleep(2000);
    load.endWarmup();
    await sleep(w.phaseMs);

    const before = await switchSeconds(metrics);
    const promoteAt = performance.now();
    await kube.create(COLLECTION_ROLLOUTS, {
      apiVersion: API_VERSION,
      kind: "CollectionRollout",
      metadata: { name: "bench", namespace: ns },
      spec: { connectionRef: { name: "qdrant" }, alias: w.alias, collection: w.green, source: { external: {} }, gates: { minPoints: w.points, requireGreen: true }, promotion: { mode: "Auto" } },
    });
    const promotedSeen = await waitSeen(watch, w.green, promoteAt);
    await waitPhase(kube, ns, "bench", "Promoted");
    const promotedAt = performance.now();
    const mid = await switchSeconds(metrics);
    await sleep(w.phaseMs);

    const rollbackAt = performance.now();
    await kube.patch(COLLECTION_ROLLOUTS, { namespace: ns, name: "bench" }, { spec: { rollback: true } });
    const rolledBackSeen = await waitSeen(watch, w.blue, rollbackAt);
    await waitPhase(kube, ns, "bench", "RolledBack");
    const rolledBackAt = performance.now();
    const end = await switchSeconds(metrics);
    await sleep(w.phaseMs);
    await load.stop();
    await watch.stop();

    const one = (a: { sum: number; count: number }, b: { sum: number; count: number }): number | undefined => (b.count - a.count === 1 ? b.sum - a.sum : undefined);
    const promote: SwitchTiming = { label: "(b) promotion by the manager (CollectionRollout created)", from: w.blue, to: w.green, startedAt: promoteAt, confirmedAt: promotedSeen, ...optional(one(before, mid)) };
    const rollback: SwitchTiming = { label: "(b) rollback by the manager (spec.rollback: true)", from: w.green, to: w.blue, startedAt: rollbackAt, confirmedAt: rolledBackSeen, ...optional(one(mid, end)) };
    report(load.outcomes, promote, w.phaseMs);
    console.log(`  the rollout reported Promoted ${((promotedAt - promoteAt) / 1000).toFixed(2)} s after it was created (polled every 100 ms)`);
    report(load.outcomes, rollback, w.phaseMs);
    console.log(`  the rollout reported RolledBack ${((rolledBackAt - rollbackAt) / 1000).toFixed(2)} s after the patch (polled every 100 ms)`);
    ok = totals("(b)", load, { rate: w.rate, clients: w.clients });
  } finally {
    await load.stop();
    await watch.stop();
    await kube.delete(NAMESPACES, { namespace: "", name: ns }).catch(() => undefined);
    for (const fn of afters.reverse()) {
      try {
        await fn();
      } catch (err) {
        console.log(`(b) manager check failed: ${err instanceof Error ? err.message : String(err)}`);
        ok = false;
      }
    }
  }
  return ok === true;
}

function optional(seconds: number | undefined): { managerSeconds?: number } {
  return seconds === undefined ? {} : { managerSeconds: seconds };
}
