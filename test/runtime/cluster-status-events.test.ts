/**
 * Status writes and Events against a real apiserver: a stale status write is a 409 that the controller
 * retries quietly; conditions keep their transition time through the API; repeated Events aggregate into
 * one Event's series; a registered secret never reaches an Event or a log line.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setCondition, type Condition } from "../../src/runtime/conditions.ts";
import { Controller, DONE } from "../../src/runtime/controller.ts";
import { EventRecorder } from "../../src/runtime/events.ts";
import { enqueueObject } from "../../src/runtime/handlers.ts";
import { Informer } from "../../src/runtime/informer.ts";
import { kubeListerWatcher } from "../../src/runtime/list-watch.ts";
import { RuntimeMetrics } from "../../src/runtime/metrics.ts";
import { Redactor } from "../../src/runtime/redact.ts";
import type { KubeObject } from "../../src/runtime/resource.ts";
import { RestClient } from "../../src/runtime/rest-client.ts";
import { StatusWriter } from "../../src/runtime/status-writer.ts";
import { eventually, startTestCluster, type TestCluster } from "./fixtures/cluster.ts";
import { captureLogs } from "./fixtures/logs.ts";
import { installWidgetCrd, WIDGETS } from "./fixtures/widget-crd.ts";

interface Widget extends KubeObject {
  spec?: { size?: number };
  status?: { observedGeneration?: number; conditions?: Condition[] };
}

let cluster: TestCluster;
let client: RestClient;

before(async () => {
  cluster = await startTestCluster();
  client = new RestClient(cluster.kubeAccess());
  await installWidgetCrd(client);
});

after(() => cluster?.stop());

interface EventObject {
  metadata: { name: string };
  note?: string;
  reason: string;
  series?: { count: number; lastObservedTime: string };
  regarding: { name: string; uid?: string };
}

describe("status and events against a real apiserver", () => {
  test("a status write based on a stale read gets 409 and is retried quietly until it succeeds", async (t) => {
    const ns = await cluster.namespace(t);
    const created = await client.create<Widget>(WIDGETS, { apiVersion: `${WIDGETS.group}/${WIDGETS.version}`, kind: "Widget", metadata: { name: "w1", namespace: ns }, spec: { size: 1 } });
    const logs = captureLogs({ level: "debug" });
    const metrics = new RuntimeMetrics();
    const informer = new Informer<Widget>({ resource: WIDGETS, listerWatcher: kubeListerWatcher(client, WIDGETS), logger: logs.logger, namespaces: [ns] });
    const status = new StatusWriter(client, { fieldManager: "runtime-test" });
    let attempts = 0;
    let interfered = false;
    const controller = new Controller({
      name: "widgets",
      logger: logs.logger,
      metrics,
      reconcile: async (key) => {
        attempts++;
        const w = informer.cache.get(key);
        if (!w) return DONE;
        if (!interfered) {
          // Someone else changes the object between our read and our write.
          interfered = true;
          await client.patch(WIDGETS, key, { spec: { size: 2 } });
        }
        const conditions = setCondition(w.status?.conditions, { type: "Ready", status: "True", reason: "Reconciled", message: `size ${w.spec?.size}`, observedGeneration: w.metadata?.generation }, new Date());
        await status.patchStatus(WIDGETS, w, { observedGeneration: w.metadata?.generation, conditions });
        return DONE;
      },
    });
    controller.watch(informer, (enqueue) => enqueueObject(enqueue));
    informer.start();
    void controller.start();
    t.after(async () => {
      await controller.stop(5_000);
      await informer.stop();
    });

    const done = await eventually("the status to reflect generation 2", async () => {
      const w = await client.get<Widget>(WIDGETS, { namespace: ns, name: "w1" });
      return w.status?.observedGeneration === 2 && w.status.conditions?.[0]?.message === "size 2" ? w : undefined;
    });
    assert.equal(created.metadata?.generation, 1);
    assert.equal(done.status?.conditions?.[0]?.reason, "Reconciled");
    const requeues = (await metrics.reconcileTotal.get()).values.find((v) => v.labels.result === "requeue")?.value ?? 0;
    assert.ok(requeues >= 1, `at least one 409 → requeue (attempts ${attempts})`);
    assert.equal((await metrics.reconcileErrors.get()).values.reduce((a, v) => a + v.value, 0), 0, "a conflict is not an error");
    assert.deepEqual(
      logs.records.filter((r) => r.level === "error" || r.level === "warn"),
      [],
      "nothing logged above info",
    );
  });

  test("conditions keep lastTransitionTime through the API until their status changes", async (t) => {
    const ns = await cluster.namespace(t);
    let w = await client.create<Widget>(WIDGETS, { apiVersion: `${WIDGETS.group}/${WIDGETS.version}`, kind: "Widget", metadata: { name: "w2", namespace: ns } });
    const status = new StatusWriter(client);
    const write = async (s: "True" | "False", reason: string, at: string) => {
      const conditions = setCondition(w.status?.conditions, { type: "Ready", status: s, reason, message: reason }, new Date(at));
      w = await status.patchStatus<Widget>(WIDGETS, w, { conditions });
      return w.status!.conditions![0]!.lastTransitionTime;
    };
    assert.equal(await write("False", "Pending", "2030-01-01T00:00:00Z"), "2030-01-01T00:00:00Z");
    assert.equal(await write("False", "StillPending", "2030-01-01T01:00:00Z"), "2030-01-01T00:00:00Z");
    assert.equal(await write("True", "Ready", "2030-01-01T02:00:00Z"), "2030-01-01T02:00:00Z");
    const { written } = await status.updateStatusIfChanged(WIDGETS, w, structuredClone(w.status));
    assert.equal(written, false, "an unchanged status is not written");
  });

  test("a field the new status leaves out is removed on the apiserver; undefined is absent, and equal writes nothing", async (t) => {
    const ns = await cluster.namespace(t);
    let w = await client.create<Widget>(WIDGETS, { apiVersion: `${WIDGETS.group}/${WIDGETS.version}`, kind: "Widget", metadata: { name: "w4", namespace: ns } });
    const status = new StatusWriter(client);
    const conditions = setCondition(undefined, { type: "Ready", status: "True", reason: "Reconciled", message: "ok" }, new Date("2030-01-01T00:00:00Z"));
    ({ obj: w } = await status.updateStatusIfChanged(WIDGETS, w, { observedGeneration: 1, conditions }));
    assert.equal(w.status?.observedGeneration, 1);
    const { written: undefinedIsAbsent } = await status.updateStatusIfChanged(WIDGETS, w, { observedGeneration: 1, conditions, extra: undefined });
    assert.equal(undefinedIsAbsent, false, "{extra: undefined} equals a status without extra");
    const { written } = await status.updateStatusIfChanged(WIDGETS, w, { conditions });
    assert.equal(written, true);
    const stored = await client.get<Widget>(WIDGETS, { namespace: ns, name: "w4" });
    assert.equal(stored.status?.observedGeneration, undefined, `observedGeneration removed: ${JSON.stringify(stored.status)}`);
    assert.deepEqual(stored.status?.conditions, conditions, "the rest is kept");
  });

  test("repeated Events become one Event with a series; notes carry no secret", async (t) => {
    const ns = await cluster.namespace(t);
    const w = await client.create<Widget>(WIDGETS, { apiVersion: `${WIDGETS.group}/${WIDGETS.version}`, kind: "Widget", metadata: { name: "w3", namespace: ns } });
    const redactor = new Redactor();
    const logs = captureLogs({ redactor });
    const secret = `sk-live-${process.pid}-e1f2a3b4`;
    redactor.register(secret);
    const recorder = new EventRecorder({ client, reportingController: "runtime-test.example.com/controller", reportingInstance: "test-0", logger: logs.logger, redactor });
    for (let i = 0; i < 3; i++) recorder.event({ regarding: w, type: "Warning", reason: "SyncFailed", action: "Sync", note: `upstream rejected api key ${secret}` });
    recorder.event({ regarding: w, type: "Normal", reason: "Synced", action: "Sync", note: "all good" });
    await recorder.flush();
    logs.logger.error({ err: new Error(`request with key ${secret} failed`) }, "Reconciler error");

    const list = await client.request<{ items: EventObject[] }>("GET", `/apis/events.k8s.io/v1/namespaces/${ns}/events`);
    const mine = list.items.filter((e) => e.regarding.uid === w.metadata?.uid);
    assert.equal(mine.length, 2, JSON.stringify(mine, null, 2));
    const failed = mine.find((e) => e.reason === "SyncFailed")!;
    assert.equal(failed.series?.count, 3);
    assert.equal(failed.note, "upstream rejected api key [REDACTED]");
    assert.equal(mine.find((e) => e.reason === "Synced")?.series, undefined);
    assert.ok(!JSON.stringify(list).includes(secret), "no Event contains the secret");
    assert.ok(!logs.text().includes(secret) && logs.text().includes("[REDACTED]"), "no log line contains the secret");
  });
});
