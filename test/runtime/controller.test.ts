import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FakeClock, flushMicrotasks } from "../../src/runtime/clock.ts";
import { Controller, DONE, requeue, requeueAfter, type Reconciler, type Result } from "../../src/runtime/controller.ts";
import { ApiError, ConflictError, TerminalError } from "../../src/runtime/errors.ts";
import { RuntimeMetrics } from "../../src/runtime/metrics.ts";
import { ExponentialFailureRateLimiter } from "../../src/runtime/rate-limiter.ts";
import { KubeClient, type RequestOptions } from "../../src/runtime/rest-client.ts";
import type { ResourceType } from "../../src/runtime/resource.ts";
import { deferred, sync, until } from "./fixtures/async.ts";
import { captureLogs } from "./fixtures/logs.ts";

function setup(reconcile: Reconciler, workers = 1) {
  const clock = new FakeClock();
  const logs = captureLogs();
  const metrics = new RuntimeMetrics();
  const c = new Controller({ name: "widgets", reconcile, logger: logs.logger, workers, clock, metrics, rateLimiter: new ExponentialFailureRateLimiter<string>(5, 1000) });
  const running = c.start();
  return { clock, logs, metrics, c, running };
}

async function counter(metrics: RuntimeMetrics, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
  return m.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((a, v) => a + v.value, 0);
}

describe("controller", () => {
  test("reconcile gets only the key; done forgets the key and schedules nothing", async () => {
    const calls: unknown[] = [];
    const { c, clock, metrics } = setup(sync((key) => {
      calls.push(key);
      return DONE;
    }));
    c.enqueue({ namespace: "ns", name: "a" });
    await until("reconciled", () => calls.length === 1);
    assert.deepEqual(calls[0], { namespace: "ns", name: "a" });
    await until("done", () => c.queue.inFlight() === 0);
    assert.equal(clock.pending(), 0);
    assert.equal(await counter(metrics, "controller_runtime_reconcile_total", { controller: "widgets", result: "success" }), 1);
    await c.stop(0);
  });

  test("requeueAfter reconciles again after that long, not before", async () => {
    let n = 0;
    const { c, clock, metrics } = setup(sync((): Result => (++n === 1 ? requeueAfter(30_000) : DONE)));
    c.enqueue("ns/a");
    await until("first", () => n === 1 && c.queue.inFlight() === 0);
    clock.advance(29_999);
    await flushMicrotasks();
    assert.equal(n, 1);
    clock.advance(1);
    await until("second", () => n === 2);
    assert.equal(await counter(metrics, "controller_runtime_reconcile_total", { result: "requeue_after" }), 1);
    await c.stop(0);
  });

  test("an error requeues with growing backoff and is logged; success resets the backoff", async () => {
    const times: number[] = [];
    const { c, clock, logs, metrics } = setup(sync(() => {
      times.push(clock.now().getTime());
      if (times.length <= 4) throw new Error(`boom ${times.length}`);
      return DONE;
    }));
    const t0 = clock.now().getTime();
    c.enqueue("ns/a");
    for (let i = 1; i <= 4; i++) {
      await until(`attempt ${i}`, () => times.length === i && c.queue.inFlight() === 0);
      clock.advance(clock.nextTimerIn()!);
    }
    await until("attempt 5", () => times.length === 5);
    assert.deepEqual(
      times.map((t) => t - t0),
      [0, 5, 15, 35, 75],
    );
    await until("settled", () => c.queue.inFlight() === 0);
    assert.equal(c.queue.numRequeues("ns/a"), 0, "success forgets the failures");
    const errors = logs.records.filter((r) => r.level === "error" && r.msg === "Reconciler error");
    assert.equal(errors.length, 4);
    assert.equal(await counter(metrics, "controller_runtime_reconcile_errors_total", { controller: "widgets" }), 4);
    await c.stop(0);
  });

  test("a TerminalError is logged once and not retried", async () => {
    let n = 0;
    const { c, clock, logs, metrics } = setup(sync(() => {
      n++;
      throw new TerminalError("spec.source is invalid");
    }));
    c.enqueue("ns/a");
    await until("reconciled", () => n === 1 && c.queue.inFlight() === 0);
    assert.equal(clock.pending(), 0, "nothing scheduled");
    clock.advance(10_000_000);
    await flushMicrotasks();
    assert.equal(n, 1);
    assert.equal(c.queue.numRequeues("ns/a"), 0);
    assert.equal(logs.records.filter((r) => r.level === "error").length, 1);
    assert.equal(await counter(metrics, "controller_runtime_terminal_reconcile_errors_total", {}), 1);
    c.enqueue("ns/a"); // the object changed: a new event reconciles it again
    await until("again", () => n === 2);
    await c.stop(0);
  });

  test("a conflict requeues quietly: no error log, no error metric", async () => {
    let n = 0;
    const { c, clock, logs, metrics } = setup(sync(() => {
      n++;
      if (n === 1) throw new ConflictError("status changed");
      if (n === 2) throw new ApiError("PUT", "/x", 409, { reason: "Conflict", message: "the object has been modified" });
      return DONE;
    }));
    c.enqueue("ns/a");
    for (let i = 1; i <= 2; i++) {
      await until(`attempt ${i}`, () => n === i && c.queue.inFlight() === 0);
      clock.advance(clock.nextTimerIn()!);
    }
    await until("third", () => n === 3);
    assert.equal(logs.records.filter((r) => r.level === "error" || r.level === "warn").length, 0);
    assert.equal(await counter(metrics, "controller_runtime_reconcile_errors_total", {}), 0);
    assert.equal(await counter(metrics, "controller_runtime_reconcile_total", { result: "requeue" }), 2);
    await c.stop(0);
  });

  test("never two workers on one key, while other keys proceed in parallel", async () => {
    const active = new Map<string, number>();
    let maxPerKey = 0;
    let maxTotal = 0;
    const gates: Array<() => void> = [];
    const calls: string[] = [];
    const { c } = setup(async (key) => {
      const k = `${key.namespace}/${key.name}`;
      calls.push(k);
      active.set(k, (active.get(k) ?? 0) + 1);
      maxPerKey = Math.max(maxPerKey, active.get(k)!);
      maxTotal = Math.max(maxTotal, [...active.values()].reduce((a, b) => a + b, 0));
      await new Promise<void>((r) => gates.push(r));
      active.set(k, active.get(k)! - 1);
      return DONE;
    }, 4);
    c.enqueue("ns/a");
    c.enqueue("ns/b");
    await until("both started", () => calls.length === 2);
    c.enqueue("ns/a"); // changed again while being reconciled
    c.enqueue("ns/a");
    await flushMicrotasks();
    assert.deepEqual(calls, ["ns/a", "ns/b"], "the second add of ns/a waits for the first reconcile");
    gates.shift()!(); // finish the first ns/a
    await until("ns/a again", () => calls.length === 3);
    assert.equal(calls[2], "ns/a");
    while (gates.length) gates.shift()!();
    await until("idle", () => c.queue.inFlight() === 0 && c.queue.len() === 0);
    assert.equal(maxPerKey, 1);
    assert.equal(maxTotal, 2);
    assert.equal(calls.length, 3, "two adds during one reconcile coalesce into one more");
    await c.stop(0);
  });

  test("each reconcile logs through a child logger with controller, namespace, name and reconcileID", async () => {
    const ids: string[] = [];
    const { c, logs } = setup(sync((_key, ctx) => {
      ids.push(ctx.reconcileID);
      ctx.log.info("Reconciling");
      return DONE;
    }));
    c.enqueue("ns/a");
    c.enqueue("ns/b");
    await until("two", () => ids.length === 2);
    const lines = logs.records.filter((r) => r.msg === "Reconciling");
    assert.equal(lines.length, 2);
    assert.deepEqual(
      lines.map((l) => [l.controller, l.namespace, l.name, l.reconcileID]),
      [
        ["widgets", "ns", "a", ids[0]],
        ["widgets", "ns", "b", ids[1]],
      ],
    );
    assert.notEqual(ids[0], ids[1]);
    await c.stop(0);
  });

  test("stop() lets in-flight reconciles finish and starts no new ones", async () => {
    const gate = deferred();
    const started: string[] = [];
    const { c, running } = setup(async (key) => {
      started.push(key.name);
      if (key.name === "a") await gate.promise;
      return DONE;
    });
    c.enqueue("ns/a");
    await until("a started", () => started.length === 1);
    c.enqueue("ns/b");
    let stopped = false;
    const stopping = c.stop(60_000).then(() => (stopped = true));
    await flushMicrotasks();
    assert.equal(stopped, false, "stop waits for the in-flight reconcile");
    gate.resolve();
    await stopping;
    await running;
    assert.deepEqual(started, ["a"], "the queued key is not started after stop");
  });

  test("requeue() reconciles again now, through the rate limiter, backing off while it repeats", async () => {
    const times: number[] = [];
    const { c, clock, metrics } = setup(sync((): Result => {
      times.push(clock.now().getTime());
      return times.length <= 2 ? requeue() : DONE;
    }));
    const t0 = clock.now().getTime();
    c.enqueue("ns/a");
    for (let i = 1; i <= 2; i++) {
      await until(`attempt ${i}`, () => times.length === i && c.queue.inFlight() === 0);
      clock.advance(clock.nextTimerIn()!);
    }
    await until("third", () => times.length === 3);
    await until("settled", () => c.queue.inFlight() === 0);
    assert.deepEqual(times.map((t) => t - t0), [0, 5, 15]);
    assert.equal(c.queue.numRequeues("ns/a"), 0, "done forgets the backoff");
    assert.equal(clock.pending(), 0);
    assert.equal(await counter(metrics, "controller_runtime_reconcile_total", { result: "requeue" }), 2);
    await c.stop(0);
  });

  test("requeueAfter refuses a delay that is not a positive number", () => {
    for (const ms of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => requeueAfter(ms), /use requeue\(\) to reconcile again now/, String(ms));
    assert.deepEqual(requeueAfter(1), { requeueAfter: 1 });
  });

  test("a hand-built requeueAfter of 0 is not done: it is logged as an error and requeued with backoff", async () => {
    let n = 0;
    const { c, clock, logs } = setup(sync((): Result => (++n === 1 ? { requeueAfter: 0 } : DONE)));
    c.enqueue("ns/a");
    await until("first", () => n === 1 && c.queue.inFlight() === 0);
    clock.advance(clock.nextTimerIn()!);
    await until("second", () => n === 2);
    assert.ok(logs.records.some((r) => r.level === "error" && String(r.msg).includes("requeueAfter without a positive delay")));
    await c.stop(0);
  });

  test("every Kubernetes request of a reconcile obeys its signal without being handed it", async () => {
    const client = new HangingClient();
    let outcome: unknown;
    const { c } = setup(async () => {
      await client.get(WIDGET, { namespace: "ns", name: "a" }).catch((err: unknown) => (outcome = err));
      await client.create(WIDGET, { metadata: { name: "b", namespace: "ns" } }).catch(() => undefined);
      return DONE;
    });
    c.enqueue("ns/a");
    await until("the GET is in flight", () => client.sent.length === 1);
    assert.ok(client.sent[0]!.signal, "the request carries the reconcile's signal");
    c.abortInFlight("leader election lost");
    await until("the reconcile returned", () => c.queue.inFlight() === 0);
    assert.match(String(outcome), /leader election lost/);
    assert.deepEqual(client.sent.map((s) => s.method), ["GET"], "a request made after the abort is not sent");
    // Outside a reconcile there is no ambient signal.
    void client.get(WIDGET, { namespace: "ns", name: "c" });
    assert.equal(client.sent[1]!.signal, undefined);
    await c.stop(0);
  });

  test("after the drain timeout, stop() aborts the signal of in-flight reconciles", async () => {
    let aborted = false;
    const { c, clock } = setup(async (_key, ctx) => {
      await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
      aborted = true;
      return DONE;
    });
    c.enqueue("ns/a");
    await until("in flight", () => c.queue.inFlight() === 1);
    const stopping = c.stop(5_000);
    await flushMicrotasks();
    clock.advance(4_999);
    await flushMicrotasks();
    assert.equal(aborted, false);
    clock.advance(1);
    await stopping;
    assert.equal(aborted, true);
  });
});

const WIDGET: ResourceType = { group: "example.com", version: "v1", plural: "widgets", kind: "Widget", namespaced: true };

/** Records each request and its signal; answers only by rejecting when the signal aborts. */
class HangingClient extends KubeClient {
  readonly sent: Array<{ method: string; signal: AbortSignal | undefined }> = [];
  protected send<T>(method: string, _path: string, opts: RequestOptions): Promise<T> {
    this.sent.push({ method, signal: opts.signal });
    return new Promise<T>((_resolve, reject) => opts.signal?.addEventListener("abort", () => reject(opts.signal!.reason instanceof Error ? opts.signal!.reason : new Error("aborted"))));
  }
}
