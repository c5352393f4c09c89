import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FakeClock, flushMicrotasks } from "../../src/runtime/clock.ts";
import { BucketRateLimiter, defaultControllerRateLimiter, ExponentialFailureRateLimiter } from "../../src/runtime/rate-limiter.ts";
import { WorkQueue, type QueueMetrics } from "../../src/runtime/work-queue.ts";

function newQueue(clock = new FakeClock(), metrics?: QueueMetrics) {
  return { clock, q: new WorkQueue({ clock, rateLimiter: new ExponentialFailureRateLimiter<string>(5, 1000), ...(metrics ? { metrics } : {}) }) };
}

describe("work queue", () => {
  test("a key added twice before a worker takes it is handed out once", async () => {
    const { q } = newQueue();
    q.add("ns/a");
    q.add("ns/b");
    q.add("ns/a");
    assert.equal(q.len(), 2);
    assert.equal(await q.get(), "ns/a");
    assert.equal(await q.get(), "ns/b");
    assert.equal(q.len(), 0);
  });

  test("a key added while in flight is not handed to a second worker, and is re-queued on done", async () => {
    const { q } = newQueue();
    q.add("ns/a");
    const key = await q.get();
    assert.equal(key, "ns/a");
    q.add("ns/a");
    q.add("ns/a");
    assert.equal(q.len(), 0, "in-flight key must not be queued for another worker");
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await flushMicrotasks();
    assert.equal(second, undefined, "a waiting worker must not receive the in-flight key");
    q.done("ns/a");
    await flushMicrotasks();
    assert.equal(second, "ns/a", "the key comes back exactly once after done()");
    assert.equal(q.len(), 0);
  });

  test("get() waits for an add", async () => {
    const { q } = newQueue();
    const pending = q.get();
    q.add("x");
    assert.equal(await pending, "x");
  });

  test("addAfter queues the key only when the delay has passed on the clock", () => {
    const { q, clock } = newQueue();
    q.addAfter("a", 100);
    assert.equal(q.len(), 0);
    clock.advance(99);
    assert.equal(q.len(), 0);
    clock.advance(1);
    assert.equal(q.len(), 1);
  });

  test("of two delays for one key the earlier wins, and the later does not add it again", () => {
    const { q, clock } = newQueue();
    q.addAfter("a", 100);
    q.addAfter("a", 50);
    q.addAfter("a", 200);
    clock.advance(50);
    assert.equal(q.len(), 1);
    assert.equal(clock.pending(), 0, "superseded timers are cancelled");
    clock.advance(1000);
    assert.equal(q.len(), 1);
  });

  test("addRateLimited backs off exponentially per key up to the cap; forget resets", async () => {
    const { q, clock } = newQueue();
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      q.addRateLimited("a");
      delays.push(clock.nextTimerIn()!);
      clock.advance(delays.at(-1)!);
      q.done((await q.get())!);
    }
    assert.deepEqual(delays, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
    assert.equal(q.numRequeues("a"), 10);
    q.addRateLimited("b");
    assert.equal(clock.nextTimerIn(), 5, "backoff is per key");
    clock.advance(5);
    q.forget("a");
    assert.equal(q.numRequeues("a"), 0);
    q.addRateLimited("a");
    assert.equal(clock.nextTimerIn(), 5);
  });

  test("shutDown wakes waiting workers with undefined, drops queued keys and ignores adds", async () => {
    const { q, clock } = newQueue();
    const waiting = q.get();
    q.shutDown();
    assert.equal(await waiting, undefined);
    q.add("a");
    q.addAfter("b", 10);
    q.addRateLimited("c");
    clock.advance(1000);
    assert.equal(q.len(), 0);
    assert.equal(await q.get(), undefined);
  });

  test("shutDownWithDrain resolves only after every handed-out key is done", async () => {
    const { q } = newQueue();
    q.add("a");
    q.add("b");
    const a = (await q.get())!;
    const b = (await q.get())!;
    let drained = false;
    const drain = q.shutDownWithDrain().then(() => (drained = true));
    await flushMicrotasks();
    assert.equal(drained, false);
    q.done(a);
    await flushMicrotasks();
    assert.equal(drained, false);
    q.done(b);
    await drain;
    assert.equal(drained, true);
  });

  test("metrics hooks see depth, adds, latency, work duration and retries", async () => {
    const seen = { depth: [] as number[], adds: 0, latency: [] as number[], work: [] as number[], retries: 0 };
    const { q, clock } = newQueue(new FakeClock(), {
      depth: (n) => seen.depth.push(n),
      added: () => seen.adds++,
      queueLatency: (s) => seen.latency.push(s),
      workDuration: (s) => seen.work.push(s),
      retried: () => seen.retries++,
    });
    q.add("a");
    q.add("b");
    clock.advance(2000);
    const a = (await q.get())!;
    clock.advance(500);
    q.done(a);
    q.addRateLimited("a");
    assert.equal(seen.adds, 2);
    assert.deepEqual(seen.depth, [1, 2, 1]);
    assert.deepEqual(seen.latency, [2]);
    assert.deepEqual(seen.work, [0.5]);
    assert.equal(seen.retries, 1);
  });
});

describe("rate limiters", () => {
  test("exponential failure limiter: base·2^n capped at max", () => {
    const l = new ExponentialFailureRateLimiter<string>(5, 1_000_000);
    const d = Array.from({ length: 40 }, () => l.when("k"));
    assert.equal(d[0], 5);
    assert.equal(d[1], 10);
    assert.equal(d[17], 5 * 2 ** 17);
    assert.equal(d[18], 1_000_000, "5 ms · 2^18 exceeds 1000 s, so the cap applies");
    assert.equal(d[39], 1_000_000);
  });

  test("token bucket: burst immediately, then 1/qps apart; tokens refill with time", () => {
    const clock = new FakeClock();
    const l = new BucketRateLimiter<string>(clock, 10, 100);
    for (let i = 0; i < 100; i++) assert.equal(l.when(`k${i}`), 0);
    assert.equal(l.when("x"), 100);
    assert.equal(l.when("y"), 200);
    clock.advance(10_000);
    assert.equal(l.when("z"), 0, "after 10 s at 10 qps the bucket is full again");
  });

  test("default controller limiter takes the larger of per-key backoff and the overall bucket", () => {
    const clock = new FakeClock();
    const l = defaultControllerRateLimiter<string>(clock);
    assert.equal(l.when("a"), 5);
    assert.equal(l.when("a"), 10);
    for (let i = 0; i < 98; i++) l.when(`other-${i}`);
    // The bucket (burst 100) is now empty: a fresh key waits for a token, not 5 ms.
    assert.equal(l.when("fresh"), 100);
    l.forget("a");
    assert.equal(l.numRequeues("a"), 0);
  });
});
