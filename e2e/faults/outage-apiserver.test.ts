/**
 * The apiserver restarted under load, as the manager sees it. The shared environment's apiserver must
 * not restart (every test file uses it), and a control plane of the test's own would need its own CRDs,
 * RBAC, ServiceAccount token, namespaces and kubectl for every helper here (they all read the shared
 * one's kubeconfig). So this SIMULATES the restart with the proxy between the manager and the apiserver
 * (e2e/helpers/apiserver-counter.ts `outage`): every open connection, the informers' watches included,
 * is dropped, and every new connection is reset at once, for 10 s; then connections pass again. To the
 * manager that is an apiserver that went away and came back (what it cannot see: a new apiserver's
 * watch cache, so a 410 Gone on resume is not provoked here).
 *
 * The load: 240 QdrantBackups that settle without a Job (their connection's API key Secret is missing:
 * each ends Ready False SecretNotFound after queueing for its turn), 120 applied before the outage and
 * 120 while it lasts (applied straight to the apiserver, which is up: only the manager is cut off).
 *
 * Asserted: the manager does not crash; it logs the failed watches with the backoff it will wait; its
 * informers re-watch once the way is open (watch requests after the outage); nothing is lost (all 240
 * objects end reconciled, the 120 it could not see included); and it backs off: the connections it
 * tried during the 10 s are counted at the proxy and bounded by what the informers' exponential backoff
 * (800 ms doubling, per informer) and the work queue's rate limits allow, far from a hot loop.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { API_VERSION } from "../../src/api/group.ts";
import { ensureCrds } from "../../test/helpers/crds.ts";
import { startManager } from "../../test/helpers/manager.ts";
import { managerIdentity } from "../../test/helpers/operator-identity.ts";
import { eventually, testEnv, useNamespace } from "../../test/helpers/testenv.ts";
import { ApiserverCounter } from "../helpers/apiserver-counter.ts";
import { apply, backupObj, condition, type Backup } from "../helpers/backup-world.ts";
import { managerMetrics } from "../helpers/restore-world.ts";
import { kubectl } from "../../test/helpers/kubectl.ts";

const N = 240;
const OUTAGE_MS = 10_000;

const names = Array.from({ length: N }, (_, i) => `b-${String(i).padStart(3, "0")}`);

async function reasons(ns: string): Promise<Map<string, string | undefined>> {
  const items = (JSON.parse((await kubectl(["get", "qdrantbackups", "-n", ns, "-o", "json"])).stdout) as { items: Backup[] & Array<{ metadata: { name: string } }> }).items;
  return new Map(items.map((b) => [b.metadata.name, condition(b, "Ready")?.reason]));
}

test("the apiserver 'restarted' (simulated: every connection dropped and refused for 10 s) under load: the manager re-watches, loses nothing, does not crash, and backs off", async (t) => {
  await ensureCrds();
  const ns = await useNamespace(t, "e2e-out-apiserver");
  const { counter, kubeconfig } = await ApiserverCounter.for(await managerIdentity([ns]));
  t.after(() => counter.stop());
  const manager = await startManager(t, [ns], [`--kubeconfig=${kubeconfig}`]);
  await apply(ns, [
    { apiVersion: API_VERSION, kind: "QdrantConnection", metadata: { name: "qdrant" }, spec: { url: "http://127.0.0.1:9", apiKeySecretRef: { name: "qdrant-key", key: "api-key" }, peers: { mode: "None" } } },
    {
      apiVersion: API_VERSION,
      kind: "QdrantBackupLocation",
      metadata: { name: "s3" },
      spec: { s3: { bucket: "never-written", endpoint: testEnv().s3.endpoint, region: testEnv().s3.region, forcePathStyle: true, credentials: { secretRef: { name: "s3-creds" } } } },
    },
  ]);
  const statusWrites = () => counter.count((r) => r.method === "PATCH" && r.path.startsWith(`/apis/qdrant-operator.dev/v1alpha1/namespaces/${ns}/qdrantbackups/`) && r.path.endsWith("/status"));
  await apply(ns, names.slice(0, N / 2).map((n) => backupObj(n, {})));
  // Under load: the manager is writing statuses, and has not settled every object.
  await eventually("the manager to be writing the first backups' statuses", () => (statusWrites() >= 10 ? true : undefined), 120_000);

  counter.outage();
  const downAt = Date.now();
  const writesBefore = statusWrites();
  await apply(ns, names.slice(N / 2).map((n) => backupObj(n, {})));
  // The fault's length, not a wait for readiness: the outage lasts OUTAGE_MS whatever happens meanwhile.
  await new Promise((r) => setTimeout(r, Math.max(0, downAt + OUTAGE_MS - Date.now())));
  const attempts = counter.refusedConnections;
  const resumedAt = counter.requests.length;
  counter.recover();
  assert.equal(statusWrites(), writesBefore, "nothing passed during the outage");

  const final = await eventually(`all ${N} backups reconciled after the outage`, async () => {
    const r = await reasons(ns);
    return r.size === N && [...r.values()].every((x) => x === "SecretNotFound") ? r : undefined;
  }, 300_000);
  assert.equal(final.size, N);

  assert.equal(manager.child.exitCode, null, "the manager did not exit");
  assert.equal(manager.child.signalCode, null);
  const log = await manager.log();
  const watchFailures = log.split("\n").filter((l) => l.includes("Watch failed; retrying from the last resourceVersion") || l.includes("Failed to list"));
  assert.ok(watchFailures.length > 0, "the manager logged its failed watches");
  assert.ok(watchFailures.every((l) => /"retryInMs":\d+/.test(l)), "each with the backoff it waits");
  const rewatched = counter.requests.slice(resumedAt).filter((r) => r.query.includes("watch=true") || r.query.includes("watch=1"));
  assert.ok(rewatched.some((r) => r.path.endsWith("/qdrantbackups")), `the backups' informer re-watched: ${JSON.stringify(rewatched.map((r) => r.path))}`);
  const errors = /^controller_runtime_reconcile_errors_total\{controller="qdrantbackups?"\} (\d+)/m.exec(await managerMetrics(manager));
  t.diagnostic(`${attempts} connections tried in ${OUTAGE_MS} ms of outage; ${watchFailures.length} watch failures logged; reconcile errors ${errors?.[1] ?? "?"}`);
  // A hot loop would try thousands of times in 10 s. The work queue's bucket lets through a burst of 100
  // and then 10 retries a second (≤ 200 reconciles in 10 s), each failing at its first call or two (a read,
  // the status write, its Event); the informers back off from 800 ms, doubling (≤ 5 tries each): about
  // 2 × 200 + 6 × 5 = 430 at most. Measured: ~300.
  assert.ok(attempts > 0, "the manager tried to reach the apiserver during the outage");
  assert.ok(attempts <= 500, `${attempts} connections in ${OUTAGE_MS} ms: the manager does not back off`);
});
