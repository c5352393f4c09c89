/**
 * A drill between ticks, with the whole restore controller running on an in-memory apiserver and a fake
 * clock: its re-reconcile makes no request at all (no GET of the Job it would create next, no status
 * write, no source resolved, so no S3 and no Qdrant), yet a spec change is still decided (its next tick
 * moves, one status write) and the next tick still runs (then the Job is looked for at the apiserver and
 * the source resolved). bench/restore-drill-noop.ts measures the same against the real apiserver.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { SourceResolver } from "../../../src/controllers/restore/source/resolve-source.ts";
import type { RestoreObject } from "../../../src/controllers/restore/types.ts";
import { QDRANT_CONNECTIONS, QDRANT_RESTORES } from "../../../src/controllers/resources.ts";
import { FakeClock } from "../../../src/runtime/clock.ts";
import { RuntimeMetrics } from "../../../src/runtime/metrics.ts";
import { eventually } from "../../helpers/eventually.ts";
import { captureLogs } from "../../runtime/fixtures/logs.ts";
import { MemoryApi } from "../../runtime/fixtures/memory-api.ts";
import { NS, startRestoreController } from "./memory-controller.ts";

const V1 = "qdrant-operator.dev/v1alpha1";
const JOB_PATH = `/apis/batch/v1/namespaces/${NS}/jobs/restore-r-1`;

test("a drill between ticks re-reconciles without a request; a spec change is still decided, and the next tick still runs", async (t) => {
  const api = new MemoryApi();
  const clock = new FakeClock(new Date("2026-12-03T12:00:00Z"));
  const logs = captureLogs();
  api.seed(QDRANT_CONNECTIONS, { apiVersion: V1, kind: "QdrantConnection", metadata: { name: "qdrant", namespace: NS }, spec: { url: "http://127.0.0.1:1" } });
  api.seed<RestoreObject>(QDRANT_RESTORES, {
    apiVersion: V1,
    kind: "QdrantRestore",
    metadata: { name: "r", namespace: NS, creationTimestamp: "2026-12-01T00:00:00Z" },
    spec: { source: { latest: { locationRef: { name: "s3" }, collection: "policies" } }, target: { connectionRef: { name: "qdrant" } }, policy: "Drill", drill: { schedule: "0 0 1 1 *" } },
  });
  // The source is resolved only at a tick; it says the bucket has no backup yet (the drill waits, the tick stays due).
  let resolved = 0;
  const source: SourceResolver = {
    resolve: () => {
      resolved++;
      return Promise.resolve({ ok: false, reason: "BackupNotFound", message: "no backup of collection policies yet", retryable: true });
    },
  };
  const metrics = new RuntimeMetrics();
  const controller = await startRestoreController(t, api, { clock, source, logs, ready: (c) => c.useMetrics(metrics) });
  const reconciles = async () => (await metrics.reconcileTotal.get()).values.filter((v) => v.labels.controller === "qdrantrestores").reduce((a, v) => a + v.value, 0);
  const errors = async () => (await metrics.reconcileErrors.get()).values.reduce((a, v) => a + v.value, 0);
  const stored = () => api.stored<RestoreObject>(QDRANT_RESTORES, NS, "r")!;
  const ready = () => stored().status?.conditions?.find((c) => c.type === "Ready");

  // Settled: DrillScheduled for 1 January.
  await eventually("the drill scheduled", () => (ready()?.reason === "DrillScheduled" && stored().status?.nextScheduleTime === "2027-01-01T00:00:00Z" ? true : undefined));
  await eventually("the first reconcile counted", async () => ((await reconciles()) >= 1 ? true : undefined));

  // Woken between ticks (a cold start, a connection's news, a backup in its namespace): nothing is asked of anyone.
  const before = await reconciles();
  const mark = api.requests.length;
  controller.enqueue({ namespace: NS, name: "r" });
  await eventually("the re-reconcile", async () => ((await reconciles()) > before ? true : undefined));
  assert.deepEqual(
    api.requests.slice(mark).map((r) => `${r.method} ${r.path}`),
    [],
    "a drill between ticks makes no request (before the fix: GET of its next Job, restore-r-1, answered 404)",
  );
  assert.equal(resolved, 0, "no source resolved: no S3 listing, no manifest read");
  assert.equal(await errors(), 0);

  // A spec change is decided from the spec and the clock: the next drill moves to 1 July, one status write.
  await api.patch(QDRANT_RESTORES, { namespace: NS, name: "r" }, { spec: { drill: { schedule: "0 0 1 7 *" } } });
  const edited = api.requests.length;
  await eventually("the new schedule's next drill", () => (stored().status?.nextScheduleTime === "2027-07-01T00:00:00Z" ? true : undefined));
  const afterEdit = api.requests.slice(edited).map((r) => `${r.method} ${r.path}`);
  assert.ok(afterEdit.length >= 1 && afterEdit.every((r) => r.endsWith(`/namespaces/${NS}/qdrantrestores/r/status`)), `only the status was written: ${afterEdit.join(", ")}`);
  assert.equal(stored().status?.observedGeneration, 2);
  assert.equal(resolved, 0);

  // The tick comes: the requeue fires, the next Job is looked for at the apiserver and the source resolved.
  const atTick = api.requests.length;
  await clock.advanceAsync(Date.parse("2027-07-01T00:00:01Z") - clock.now().getTime());
  await eventually("the drill at its tick", () => (resolved >= 1 && ready()?.reason === "BackupNotFound" ? true : undefined));
  const tickRequests = api.requests.slice(atTick).map((r) => `${r.method} ${r.path}`);
  assert.ok(tickRequests.includes(`GET ${JOB_PATH}`), `at a due tick a Job the cache may not show yet is looked for: ${tickRequests.join(", ")}`);
  assert.equal(stored().status?.lastScheduleTime, undefined, "the tick stays due until a Job starts");
});
