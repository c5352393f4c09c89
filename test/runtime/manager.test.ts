import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FakeClock } from "../../src/runtime/clock.ts";
import { Controller, DONE, type Reconciler } from "../../src/runtime/controller.ts";
import { LeaderElectionLostError, WriteRefusedError } from "../../src/runtime/errors.ts";
import { enqueueObject } from "../../src/runtime/handlers.ts";
import { Informer } from "../../src/runtime/informer.ts";
import { Manager } from "../../src/runtime/manager.ts";
import type { KubeObject, ResourceType } from "../../src/runtime/resource.ts";
import { KubeClient, type RequestOptions } from "../../src/runtime/rest-client.ts";
import { deferred, sync, until } from "./fixtures/async.ts";
import { CONFIGMAPS, FakeServer } from "./fixtures/fake-server.ts";
import { captureLogs } from "./fixtures/logs.ts";
import { MemoryLease } from "./fixtures/memory-lease.ts";

function newManager(name: string, server: FakeServer, lease: MemoryLease, clock: FakeClock, reconcile: Reconciler, http = false, client?: KubeClient) {
  const logs = captureLogs();
  const lock = lease.lockFor();
  const mgr = new Manager({
    logger: logs.logger,
    clock,
    ...(client ? { client } : {}),
    http: http ? { host: "127.0.0.1", port: 0 } : false,
    leaderElection: { lock, identity: name },
    shutdownTimeoutMs: 60_000,
  });
  const informer = new Informer<KubeObject>({ resource: CONFIGMAPS, listerWatcher: server, logger: logs.logger, clock, random: () => 0 });
  // No metrics given: the manager hands its own to every controller it is given.
  const controller = new Controller({ name: "configmaps", reconcile, logger: logs.logger, clock });
  controller.watch(informer, (enqueue) => enqueueObject(enqueue));
  mgr.addInformer(informer);
  mgr.addController(controller);
  mgr.metrics.setBuildInfo("example_operator", { version: "1.2.3" });
  return { mgr, logs, lock, running: mgr.run() };
}

async function elapse(clock: FakeClock, ms: number, step = 100): Promise<void> {
  for (let t = 0; t < ms; t += step) await clock.advanceAsync(step);
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

describe("manager", () => {
  test("serves /healthz, /readyz (caches synced, leading or standing by) and /metrics", async () => {
    const clock = new FakeClock();
    const server = new FakeServer();
    server.failLists = 1;
    server.put("ns", "a", "1");
    const { mgr, running } = newManager("m1", server, new MemoryLease(), clock, sync(() => DONE), true);
    await until("listening", () => mgr.address() !== undefined);
    const port = mgr.address()!.port;
    assert.equal((await get(port, "/healthz")).status, 200);
    const notReady = await get(port, "/readyz");
    assert.equal(notReady.status, 503);
    assert.match(notReady.body, /\[-\]informers failed: caches not synced/);
    await elapse(clock, 1_000); // the list's retry backoff
    await until("synced", () => mgr.hasSynced());
    await elapse(clock, 200);
    const ready = await get(port, "/readyz");
    assert.equal(ready.status, 200, ready.body);
    assert.equal(mgr.isLeader(), true);
    const metrics = (await get(port, "/metrics")).body;
    assert.match(metrics, /leader_election_master_status\{name="ns\/lease"\} 1/);
    assert.match(metrics, /controller_runtime_reconcile_total\{controller="configmaps",result="success"\} 1/);
    assert.match(metrics, /workqueue_adds_total\{name="configmaps"\} 1/);
    assert.match(metrics, /controller_runtime_reconcile_time_seconds_count\{controller="configmaps"\} 1/);
    assert.match(metrics, /example_operator_build_info\{version="1.2.3"\} 1/);
    await mgr.stop();
    await running;
  });

  test("only the leader reconciles; after it stops, the standby takes over and reconciles everything", async () => {
    const clock = new FakeClock();
    const server = new FakeServer();
    const lease = new MemoryLease();
    server.put("ns", "a", "1");
    const seen: Record<string, string[]> = { m1: [], m2: [] };
    const m1 = newManager("m1", server, lease, clock, sync((k) => (seen.m1!.push(k.name), DONE)));
    await elapse(clock, 200);
    const m2 = newManager("m2", server, lease, clock, sync((k) => (seen.m2!.push(k.name), DONE)));
    await elapse(clock, 5_000);
    server.put("ns", "b", "1");
    await elapse(clock, 200);
    assert.deepEqual(seen, { m1: ["a", "b"], m2: [] });
    assert.equal(m2.mgr.hasSynced(), true, "the standby keeps warm caches");
    await m1.mgr.stop();
    await m1.running;
    server.put("ns", "c", "1");
    await elapse(clock, 5_000);
    assert.equal(m2.mgr.isLeader(), true);
    assert.deepEqual(seen.m2.sort(), ["a", "b", "c"], "a new leader reconciles every object");
    await m2.mgr.stop();
    await m2.running;
  });

  test("stop drains in-flight reconciles before releasing the lease", async () => {
    const clock = new FakeClock();
    const server = new FakeServer();
    const lease = new MemoryLease();
    server.put("ns", "a", "1");
    const gate = deferred();
    let finishedAt = -1;
    const m = newManager("m1", server, lease, clock, async () => {
      await gate.promise;
      finishedAt = lease.writes.length;
      return DONE;
    });
    await elapse(clock, 200);
    const stopping = m.mgr.stop();
    await elapse(clock, 3_000);
    assert.notEqual(lease.record?.holderIdentity, "", "still holding the lease while a reconcile runs");
    gate.resolve();
    await stopping;
    await m.running;
    assert.equal(lease.record?.holderIdentity, "", "released after the drain");
    assert.ok(finishedAt >= 0 && lease.writes.findIndex((w) => w.holderIdentity === "") >= finishedAt, "the release came after the reconcile finished");
  });

  test("losing the lease aborts in-flight reconciles, stops, and run() rejects", async () => {
    const clock = new FakeClock();
    const server = new FakeServer();
    const lease = new MemoryLease();
    server.put("ns", "a", "1");
    let abortedAt = -1;
    const m = newManager("m1", server, lease, clock, async (_k, ctx) => {
      await new Promise<void>((r) => ctx.signal.addEventListener("abort", () => r()));
      abortedAt = clock.now().getTime();
      return DONE;
    });
    const outcome = m.running.then(
      () => "resolved",
      (err: unknown) => err,
    );
    await elapse(clock, 500);
    m.lock.partitioned = true;
    const partitionedAt = clock.now().getTime();
    await elapse(clock, 12_000);
    const err = await outcome;
    assert.ok(err instanceof LeaderElectionLostError, String(err));
    assert.ok(abortedAt > 0 && abortedAt - partitionedAt <= 10_000 + 2_000, `aborted ${abortedAt - partitionedAt} ms after the partition`);
    assert.equal(m.mgr.isLeader(), false);
  });

  test("the manager's client refuses writes on a standby and once the lease is lost, whatever a reconcile still tries", async () => {
    const clock = new FakeClock();
    const server = new FakeServer();
    const lease = new MemoryLease();
    server.put("ns", "a", "1");
    const api = new RecordingClient(clock);
    const holder: { mgr?: Manager } = {};
    const refused: unknown[] = [];
    // Writes every 100 ms for a minute, ignoring every error.
    const writeForAMinute = async () => {
      for (let i = 0; i < 600; i++) {
        await holder.mgr!.client.create(WIDGETS, { metadata: { name: `w${i}`, namespace: "ns" } }).catch((err: unknown) => refused.push(err));
        await new Promise<void>((r) => clock.setTimeout(r, 100));
      }
    };
    // A reconcile that ignores its signal (its requests obey it anyway)…
    const m = newManager("m1", server, lease, clock, async () => {
      await writeForAMinute();
      return DONE;
    }, false, api);
    holder.mgr = m.mgr;
    const outcome = m.running.then(
      () => "resolved",
      (err: unknown) => err,
    );
    await elapse(clock, 1_000);
    assert.ok(api.writes.length > 0, "the leader writes");
    // …and work outside any reconcile, which no reconcile signal reaches: only the fence stops it.
    const rogue = writeForAMinute();
    const standby = new Manager({ logger: captureLogs().logger, clock, client: api, leaderElection: { lock: lease.lockFor(), identity: "m2" }, http: false });
    await assert.rejects(standby.client.create(WIDGETS, { metadata: { name: "s", namespace: "ns" } }), WriteRefusedError, "a standby writes nothing");
    assert.ok(await standby.client.get(WIDGETS, { namespace: "ns", name: "s" }), "reads pass");

    m.lock.partitioned = true;
    const lastRenewal = lease.writes.length;
    const renewedAt = new Date(lease.record!.renewTime).getTime();
    await elapse(clock, 20_000);
    assert.equal(lease.writes.length, lastRenewal);
    const last = Math.max(...api.writes);
    assert.ok(last < renewedAt + 10_000, `last write ${last - renewedAt} ms after the last renewal; the renew deadline is 10000 ms`);
    assert.ok(refused.some((e) => e instanceof WriteRefusedError), "writes after the loss were refused");
    await elapse(clock, 150_000, 1_000); // the reconcile's minute, then the drain's deadlines
    assert.ok((await outcome) instanceof LeaderElectionLostError);
    await rogue;
  });

  test("without leader election the controllers run as soon as the caches sync, and stop() drains them", async () => {
    const clock = new FakeClock();
    const server = new FakeServer();
    server.put("ns", "a", "1");
    const logs = captureLogs();
    const mgr = new Manager({ logger: logs.logger, clock, http: false, leaderElection: false });
    const informer = new Informer<KubeObject>({ resource: CONFIGMAPS, listerWatcher: server, logger: logs.logger, clock });
    const seen: string[] = [];
    const controller = new Controller({ name: "configmaps", reconcile: sync((k) => (seen.push(k.name), DONE)), logger: logs.logger, clock });
    controller.watch(informer, (enqueue) => enqueueObject(enqueue));
    mgr.addInformer(informer);
    mgr.addController(controller);
    assert.throws(() => mgr.addController(controller), /duplicate controller name/);
    const running = mgr.run();
    await until("reconciled", () => seen.length === 1);
    assert.equal(mgr.isLeader(), false, "no lease is involved");
    await mgr.stop();
    await running;
    assert.ok(logs.records.some((r) => r.msg === "Manager stopped"));
    assert.throws(() => mgr.addInformer(informer), /before the manager starts/);
  });
});

const WIDGETS: ResourceType = { group: "example.com", version: "v1", plural: "widgets", kind: "Widget", namespaced: true };

/** Answers every request at once; remembers when each write was sent (clock ms). */
class RecordingClient extends KubeClient {
  readonly writes: number[] = [];
  readonly #clock: FakeClock;
  constructor(clock: FakeClock) {
    super();
    this.#clock = clock;
  }
  protected send<T>(method: string, _path: string, _opts: RequestOptions): Promise<T> {
    if (method !== "GET") this.writes.push(this.#clock.now().getTime());
    return Promise.resolve({} as T);
  }
}
