/**
 * What a settled drill's no-op reconcile costs, and which requests it makes: R QdrantRestores with policy
 * Drill on a yearly cron (scale-world.ts's, so they settle as DrillScheduled without a Job), in one
 * namespace or spread over several; a manager settles them, a fresh one is started (a cold start: every
 * restore reconciled once, each a no-op) and the bench prints the restores' reconcile p50/p99 from its
 * histogram and every request the manager made through the counting proxy during that start that was
 * not an informer's LIST or WATCH (the reads a reconcile makes), by method and resource.
 *
 * Run: TESTENV_FILE=/tmp/testenv.json node_modules/.bin/node bench/restore-drill-noop.ts [--restores 10] [--namespaces 1]
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ApiserverCounter, type Recorded } from "../e2e/helpers/apiserver-counter.ts";
import { QDRANT_RESTORES } from "../src/controllers/resources.ts";
import { RestClient } from "../src/runtime/rest-client.ts";
import type { KubeObject } from "../src/runtime/resource.ts";
import { ensureCrds } from "../test/helpers/crds.ts";
import { managerIdentity } from "../test/helpers/operator-identity.ts";
import { kubeAccess, testEnv } from "../test/helpers/testenv.ts";
import { quantileMs, sleep, startManager, sum, type Sample } from "./scale-manager.ts";
import { NAMESPACES, NEW_YEAR, RUN_LABEL, ScaleWorld } from "./scale-world.ts";

const { values } = parseArgs({ options: { restores: { type: "string", default: "10" }, namespaces: { type: "string", default: "1" } } });
const R = Number(values.restores);
const NS = Number(values.namespaces);

/** An informer's LIST or WATCH (a collection path, or ?watch): what a reconcile does not make. */
const informerRead = (r: Recorded) => r.method === "GET" && (/(^|&)watch=/.test(r.query) || /(^|&)(limit|resourceVersion)=/.test(r.query));
/** method and path with namespaces and names generalised: GET /apis/batch/v1/namespaces/*\/jobs/* */
const shape = (r: Recorded) => `${r.method} ${r.path.replace(/\/namespaces\/[^/]+/, "/namespaces/*").replace(/^(.*\/namespaces\/\*\/[^/]+)\/[^/]+/, "$1/*")}`;

async function main(): Promise<void> {
  const env = testEnv();
  await ensureCrds();
  const admin = new RestClient(kubeAccess());
  const run = `drill-${Date.now().toString(36)}`;
  const world = new ScaleWorld(admin, env, run, Array.from({ length: NS }, (_, i) => `bench-${run}-${i}`));
  const logDir = await mkdtemp(join(tmpdir(), "bench-drill-noop-"));
  await world.createNamespaces();
  // The manager's grants five namespaces at a time, as scale-case.ts does (all at once fails on a loaded apiserver).
  let identity = "";
  for (let i = 0; i < NS; i += 5) identity = await managerIdentity(world.namespaces.slice(i, i + 5));
  const { counter, kubeconfig } = await ApiserverCounter.for(identity);
  try {
    let manager = await startManager(world.namespaces, kubeconfig, logDir);
    const spec = { source: { latest: { locationRef: { name: "s3" }, collection: "policies" } }, target: { connectionRef: { name: "qdrant" } }, policy: "Drill", drill: { schedule: NEW_YEAR, timeZone: "UTC" } };
    for (let i = 0; i < R; i++) await admin.create(QDRANT_RESTORES, world.obj("QdrantRestore", world.namespaces[i % NS]!, `drill-${i}`, spec));
    for (;;) {
      const list = await admin.list<KubeObject & { status?: { conditions?: Array<{ type: string; reason: string }> } }>(QDRANT_RESTORES, undefined, { labelSelector: `${RUN_LABEL}=${run}` });
      if (list.items.filter((o) => o.status?.conditions?.some((c) => c.type === "Ready" && c.reason === "DrillScheduled")).length === R) break;
      await sleep(500);
    }
    await manager.stop();

    const from = counter.requests.length;
    manager = await startManager(world.namespaces, kubeconfig, logDir);
    let cold: Sample[];
    for (;;) {
      const read = await manager.metrics().catch(() => undefined);
      if (read && sum(read, "controller_runtime_reconcile_total", "controller", "qdrantrestores") >= R && sum(read, "workqueue_depth", "name", "qdrantrestores") === 0) {
        cold = read;
        break;
      }
      await sleep(250);
    }
    // The reconciles have run; what came in after them is not theirs.
    const made = counter.requests.slice(from).filter((r) => !informerRead(r) && !/selfsubject|leases|events/.test(r.path));
    await manager.stop();
    const byShape = new Map<string, number>();
    for (const r of made) byShape.set(shape(r), (byShape.get(shape(r)) ?? 0) + 1);
    console.log(`${R} drills over ${NS} namespace(s), cold start: ${sum(cold, "controller_runtime_reconcile_total", "controller", "qdrantrestores")} restore reconciles, p50 ${quantileMs(cold, "qdrantrestores", 0.5)}, p99 ${quantileMs(cold, "qdrantrestores", 0.99)}`);
    console.log(`requests other than informers' LIST/WATCH (and leases, events, access reviews): ${made.length}`);
    for (const [k, n] of [...byShape].sort((a, b) => b[1] - a[1])) console.log(`  ${n}\t${k}`);
    console.log(`manager logs: ${logDir}`);
  } finally {
    await counter.stop();
    await Promise.all(world.namespaces.map((ns) => admin.delete(NAMESPACES, { namespace: "", name: ns }).catch(() => undefined)));
  }
}

await main();
