import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FakeClock } from "../../src/runtime/clock.ts";
import { ApiError } from "../../src/runtime/errors.ts";
import { Informer } from "../../src/runtime/informer.ts";
import type { KubeObject } from "../../src/runtime/resource.ts";
import { CONFIGMAPS, FakeServer } from "./fixtures/fake-server.ts";
import { until } from "./fixtures/async.ts";
import { captureLogs } from "./fixtures/logs.ts";

function setup(opts: { namespaces?: string[] } = {}) {
  const clock = new FakeClock();
  const server = new FakeServer();
  const logs = captureLogs();
  const informer = new Informer<KubeObject>({
    resource: CONFIGMAPS,
    listerWatcher: server,
    logger: logs.logger,
    clock,
    minWatchTimeoutSeconds: 300,
    watchGraceMs: 30_000,
    backoff: { initialMs: 800, maxMs: 30_000 },
    random: () => 0,
    ...(opts.namespaces ? { namespaces: opts.namespaces } : {}),
  });
  const events: string[] = [];
  informer.addEventHandler({
    onAdd: (o) => events.push(`add ${o.metadata?.name}`),
    onUpdate: (_old, o) => events.push(`update ${o.metadata?.name}`),
    onDelete: (o) => events.push(`delete ${o.metadata?.name}`),
  });
  return { clock, server, logs, informer, events };
}

const dataOf = (inf: Informer<KubeObject>, key: string) => (inf.cache.get(key)?.data as { v: string } | undefined)?.v;

describe("informer", () => {
  test("lists, marks synced, then watches from the list's resourceVersion with bookmarks and a bounded timeout", async () => {
    const { server, informer, events } = setup();
    server.put("ns", "a", "1");
    server.put("ns", "b", "1");
    informer.start();
    assert.equal(await informer.waitForSync(), true);
    assert.deepEqual(events, ["add a", "add b"]);
    await until("watching", () => server.live().length === 1);
    const req = server.live()[0]!.req;
    assert.deepEqual(req, { resourceVersion: "102", timeoutSeconds: 300, allowWatchBookmarks: true });
    await informer.stop();
  });

  test("watch events update the cache; a bookmark moves the resourceVersion the next watch starts from", async () => {
    const { server, informer, events } = setup();
    informer.start();
    await until("watching", () => server.live().length === 1);
    server.put("ns", "a", "1");
    server.put("ns", "a", "2");
    assert.equal(dataOf(informer, "ns/a"), "2");
    server.remove("ns", "a");
    assert.equal(informer.cache.get("ns/a"), undefined);
    assert.deepEqual(events, ["add a", "update a", "delete a"]);
    server.live()[0]!.onEvent("BOOKMARK", { kind: "ConfigMap", metadata: { resourceVersion: "500" } });
    server.closeAll();
    await until("rewatched", () => server.live().length === 1);
    assert.equal(server.live()[0]!.req.resourceVersion, "500");
    assert.equal(server.listCalls.length, 1, "a clean close re-watches without relisting");
    await informer.stop();
  });

  test("after a watch error it waits out the backoff, re-watches from its resourceVersion and misses nothing", async () => {
    const { server, informer, clock, events } = setup();
    informer.start();
    await until("watching", () => server.live().length === 1);
    server.closeAll(new Error("ECONNRESET"));
    server.put("ns", "changed-while-disconnected", "x");
    await clock.advanceAsync(799);
    assert.equal(server.live().length, 0, "no reconnect before the backoff");
    await clock.advanceAsync(1);
    await until("rewatched", () => server.live().length === 1);
    assert.equal(server.live()[0]!.req.resourceVersion, "100");
    assert.deepEqual(events, ["add changed-while-disconnected"]);
    assert.equal(informer.stats().errors, 1);
    server.closeAll(new Error("ECONNRESET"));
    await clock.advanceAsync(1599);
    assert.equal(server.live().length, 0, "the second backoff is twice as long");
    await clock.advanceAsync(1);
    await until("rewatched again", () => server.live().length === 1);
    await informer.stop();
  });

  test("410 Gone relists and replaces the cache, emitting deletes for objects that vanished", async () => {
    const { server, informer, events, clock } = setup();
    server.put("ns", "kept", "1");
    server.put("ns", "changed", "1");
    server.put("ns", "vanished", "1");
    informer.start();
    await until("watching", () => server.live().length === 1);
    events.length = 0;
    server.closeAll(new Error("connection lost"));
    // Meanwhile, more changes than the server keeps history for:
    server.put("ns", "changed", "2");
    server.remove("ns", "vanished");
    server.put("ns", "new", "1");
    server.compact();
    await clock.advanceAsync(800); // the re-watch after the error's backoff gets 410, and relists at once
    await until("relisted", () => server.listCalls.length === 2);
    assert.deepEqual(events.sort(), ["add new", "delete vanished", "update changed"]);
    assert.deepEqual(informer.cache.keys().sort(), ["ns/changed", "ns/kept", "ns/new"]);
    assert.equal(dataOf(informer, "ns/changed"), "2");
    assert.equal(informer.stats().expired, 1);
    await informer.stop();
  });

  test("a watch that outlives its timeout without closing is deemed stalled and restarted", async () => {
    const { server, informer, clock, events, logs } = setup();
    informer.start();
    await until("watching", () => server.live().length === 1);
    const stalled = server.live()[0]!;
    stalled.onEvent = () => {}; // the connection is dead: nothing arrives, nothing closes
    server.put("ns", "a", "1");
    await clock.advanceAsync(300_000 + 30_000 - 1);
    assert.equal(stalled.aborted, false);
    await clock.advanceAsync(1);
    await until("restarted", () => server.live().length === 1 && server.live()[0] !== stalled);
    assert.equal(stalled.aborted, true, "the stalled connection is closed");
    assert.deepEqual(events, ["add a"], "the update made during the stall arrives");
    assert.equal(informer.stats().stalled, 1);
    assert.ok(logs.records.some((r) => r.level === "warn" && /outlived its timeout/.test(r.msg)));
    await informer.stop();
  });

  test("a failing list is retried with backoff; synced only after it succeeds", async () => {
    const { server, informer, clock } = setup();
    server.failLists = 2;
    informer.start();
    await until("first list", () => server.listCalls.length === 1);
    assert.equal(informer.hasSynced(), false);
    await clock.advanceAsync(800);
    await until("second list", () => server.listCalls.length === 2);
    assert.equal(informer.hasSynced(), false);
    await clock.advanceAsync(1600);
    await until("synced", () => informer.hasSynced());
    await informer.stop();
  });

  test("a namespace list runs one list+watch per namespace, and a relist only replaces its own namespace", async () => {
    const { server, informer, events } = setup({ namespaces: ["a", "b"] });
    server.put("a", "x", "1");
    server.put("b", "y", "1");
    server.put("c", "z", "1");
    informer.start();
    await informer.waitForSync();
    assert.deepEqual(server.listCalls.sort(), ["a", "b"]);
    assert.deepEqual(informer.cache.keys().sort(), ["a/x", "b/y"]);
    await until("watching", () => server.live().length === 2);
    events.length = 0;
    const watchA = server.live().find((w) => w.namespace === "a")!;
    watchA.aborted = true;
    watchA.onEvent("ERROR", { code: 410, reason: "Expired" });
    await until("relisted a", () => server.listCalls.length === 3);
    assert.equal(server.listCalls[2], "a");
    assert.deepEqual(informer.cache.keys().sort(), ["a/x", "b/y"], "b's objects survive a's relist");
    assert.deepEqual(events, []);
    await informer.stop();
  });

  test("an index follows the watch and the relist, and a handler's lookup already sees the event's object", async () => {
    const { server, informer } = setup();
    informer.addIndex("by-data", (o) => [(o.data as { v: string } | undefined)?.v ?? ""]);
    const seen: string[] = [];
    informer.addEventHandler({ onUpdate: (_old, o) => seen.push(informer.cache.byIndex("by-data", "2").map((x) => x.metadata?.name).join(",") + ` on ${o.metadata?.name}`) });
    server.put("ns", "a", "1");
    informer.start();
    await informer.waitForSync();
    await until("watching", () => server.live().length === 1);
    server.put("ns", "a", "2");
    assert.deepEqual(seen, ["a on a"]);
    assert.deepEqual(informer.cache.byIndex("by-data", "1"), []);
    // Changed while nobody watched: only the relist tells the cache (and its index).
    const watch = server.live()[0]!;
    watch.aborted = true;
    server.remove("ns", "a");
    server.put("ns", "b", "2");
    watch.onEvent("ERROR", { code: 410, reason: "Expired" });
    await until("relisted", () => server.listCalls.length === 2);
    assert.deepEqual(informer.cache.byIndex("by-data", "2").map((o) => o.metadata?.name), ["b"]);
    await informer.stop();
  });

  test("an error status from the list request is retried, and a 410 from the watch request relists", async () => {
    const { server, informer, clock } = setup();
    informer.start();
    await until("watching", () => server.live().length === 1);
    server.closeAll(new ApiError("GET", "/api/v1/configmaps", 410, { reason: "Expired" }));
    await until("relisted", () => server.listCalls.length === 2);
    assert.equal(informer.stats().expired, 1);
    assert.equal(clock.now().getTime(), new FakeClock().now().getTime(), "a relist after 410 does not wait for a backoff");
    await informer.stop();
  });
});
