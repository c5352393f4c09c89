import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pino } from "pino";
import { QDRANT_CONNECTIONS, QDRANT_BACKUPS } from "../../../src/controllers/resources.ts";
import { Turns, type ConnectionLike, type ItemState, type TurnKind } from "../../../src/controllers/shared/turns/turns.ts";
import type { Controller } from "../../../src/runtime/controller.ts";
import { Informer } from "../../../src/runtime/informer.ts";
import type { EventHandler } from "../../../src/runtime/informer.ts";
import type { ListerWatcher } from "../../../src/runtime/list-watch.ts";
import type { KubeObject, ResourceType } from "../../../src/runtime/resource.ts";
import { liveInformer } from "./live-informer.ts";

/** An informer that is never started: the tests fill its cache (and so its indexes) by hand. */
function informer<T extends KubeObject>(resource: ResourceType): Informer<T> {
  return new Informer<T>({ resource, listerWatcher: {} as ListerWatcher<T>, logger: pino({ level: "silent" }) });
}

interface Work extends KubeObject {
  spec: { connection: string };
  state?: ItemState;
}
const WORK: TurnKind<Work> = { kind: "Work", connectionOf: (w) => w.spec.connection, stateOf: (w) => w.state };
const OTHER: TurnKind<Work> = { kind: "Other", connectionOf: (w) => w.spec.connection, stateOf: (w) => w.state };

let rv = 1;
function work(ns: string, name: string, connection: string, state: ItemState | undefined, created = "2026-01-15T02:00:00Z"): Work {
  return { metadata: { namespace: ns, name, creationTimestamp: created, resourceVersion: String(rv++) }, spec: { connection }, ...(state ? { state } : {}) };
}
function connection(ns: string, name: string, spec: ConnectionLike["spec"], status?: ConnectionLike["status"], generation = 1): ConnectionLike {
  return { metadata: { namespace: ns, name, generation, resourceVersion: String(rv++) }, spec, ...(status ? { status: { observedGeneration: generation, ...status } } : {}) };
}

function setup() {
  const connections = informer<ConnectionLike>(QDRANT_CONNECTIONS);
  const works = informer<Work>(QDRANT_BACKUPS);
  const others = informer<Work>({ ...QDRANT_BACKUPS, plural: "others", kind: "Other" });
  const turns = new Turns(connections);
  turns.register(WORK, works);
  return { connections, works, others, turns };
}

describe("Turns", () => {
  test("connections in two namespaces to one Qdrant share a line; one to another Qdrant does not", () => {
    const { connections, works, turns } = setup();
    connections.cache.upsert(connection("a", "qdrant", { url: "http://qdrant.db.svc:6333" }));
    connections.cache.upsert(connection("b", "q", { service: { name: "qdrant", namespace: "db" } }));
    connections.cache.upsert(connection("c", "qdrant", { url: "http://other.db.svc:6333" }));
    works.cache.upsert(work("a", "first", "qdrant", "Running"));
    works.cache.upsert(work("c", "elsewhere", "qdrant", "Running"));
    assert.deepEqual(turns.connectionsOfQdrant("b", "q"), ["a/qdrant", "b/q"]);
    assert.equal(turns.ahead("Work", work("b", "second", "q", "Ready"))?.name, "first");
    assert.equal(turns.ahead("Work", work("c", "mine", "qdrant", "Ready"))?.name, "elsewhere");
  });

  test("names join transitively: a URL, then a check that reports the same peer ids under another address", () => {
    const { connections, works, turns } = setup();
    const peers = [{ id: "8812733361823478712", url: "http://10.0.0.5:6333" }];
    connections.cache.upsert(connection("a", "by-ip", { url: "http://10.0.0.5:6333" }));
    connections.cache.upsert(connection("b", "by-ingress", { url: "https://qdrant.example.com" }, { peers }));
    connections.cache.upsert(connection("c", "by-alias", { url: "https://vectors.example.com" }, { peers: [{ id: "8812733361823478712", url: "http://qdrant-0:6333" }] }));
    assert.deepEqual(turns.connectionsOfQdrant("a", "by-ip"), ["a/by-ip", "b/by-ingress", "c/by-alias"]);
    works.cache.upsert(work("c", "running", "by-alias", "Running"));
    assert.equal(turns.ahead("Work", work("a", "w", "by-ip", "Ready"))?.name, "running");
    // A check older than the spec says nothing about where the spec now points.
    connections.cache.upsert({ ...connection("c", "by-alias", { url: "https://vectors.example.com" }), metadata: { namespace: "c", name: "by-alias", generation: 2 }, status: { observedGeneration: 1, peers } });
    assert.deepEqual(turns.connectionsOfQdrant("a", "by-ip"), ["a/by-ip", "b/by-ingress"]);
  });

  test("items away or finished are not in line; a started one counts as running; several kinds share a line", () => {
    const { connections, works, others, turns } = setup();
    connections.cache.upsert(connection("a", "qdrant", { url: "http://q:6333" }));
    works.cache.upsert(work("a", "away", "qdrant", "Away", "2026-01-15T01:00:00Z"));
    works.cache.upsert(work("a", "done", "qdrant", undefined, "2026-01-15T01:00:00Z"));
    assert.deepEqual(turns.lineOf("a", "qdrant"), []);
    turns.register(OTHER, others, { started: (w) => w.metadata?.name === "has-job" });
    others.cache.upsert(work("a", "has-job", "qdrant", "Away", "2026-01-15T05:00:00Z"));
    assert.deepEqual(
      turns.lineOf("a", "qdrant").map((i) => [i.kind, i.name, i.state]),
      [["Other", "has-job", "Running"]],
    );
    assert.equal(turns.ahead("Work", work("a", "away", "qdrant", "Ready", "2026-01-15T01:00:00Z"))?.name, "has-job", "coming back, it waits for the one that started meanwhile");
    assert.throws(() => turns.register(OTHER, others), /registered already/);
  });

  test("an item that stops running, or the head leaving the line, wakes only the next in line, of the controller's kind; others leaving or joining wake nobody", async (t) => {
    const connections = informer<ConnectionLike>(QDRANT_CONNECTIONS);
    const works = await liveInformer<Work>(QDRANT_BACKUPS);
    const others = await liveInformer<Work>({ ...QDRANT_BACKUPS, plural: "others", kind: "Other" });
    t.after(() => Promise.all([works.stop(), others.stop()]));
    const turns = new Turns(connections);
    turns.register(WORK, works.informer);
    const woken: string[] = [];
    const controller = { watch: (inf: Informer<Work>, h: (enqueue: (k: string) => void) => EventHandler<Work>) => inf.addEventHandler(h((k) => woken.push(k))) } as unknown as Controller;
    turns.wake(controller, "Work");
    // Registered after wake: still watched.
    turns.register(OTHER, others.informer);
    connections.cache.upsert(connection("a", "qdrant", { url: "http://q.db.svc:6333" }));
    connections.cache.upsert(connection("b", "qdrant", { url: "http://q.db.svc:6333" }));

    works.send("ADDED", work("a", "running", "qdrant", "Running", "2026-01-15T01:00:00Z"));
    others.send("ADDED", work("b", "second", "qdrant", "Ready", "2026-01-15T02:00:00Z"));
    works.send("ADDED", work("a", "third", "qdrant", "Ready", "2026-01-15T03:00:00Z"));
    works.send("MODIFIED", work("a", "third", "qdrant", "Ready", "2026-01-15T03:00:00Z"));
    assert.deepEqual(woken, [], "joining the line, or an update that changes nothing, wakes nobody");

    works.send("MODIFIED", work("a", "running", "qdrant", undefined, "2026-01-15T01:00:00Z"));
    assert.deepEqual(woken, [], "the next in line is of the other kind: its own controller wakes it");
    // Its controller asks, is told it may start, and finds its Secret missing.
    assert.equal(turns.ahead("Other", work("b", "second", "qdrant", "Ready", "2026-01-15T02:00:00Z")), undefined);
    others.send("MODIFIED", work("b", "second", "qdrant", "Away", "2026-01-15T02:00:00Z"));
    assert.deepEqual(woken, ["a/third"], "the head left the line: third's turn");
    works.send("MODIFIED", work("a", "third", "qdrant", "Running", "2026-01-15T03:00:00Z"));
    works.send("ADDED", work("b", "fourth", "qdrant", "Ready", "2026-01-15T04:00:00Z"));
    works.send("ADDED", work("b", "fifth", "qdrant", "Ready", "2026-01-15T05:00:00Z"));
    works.send("MODIFIED", work("b", "fifth", "qdrant", undefined, "2026-01-15T05:00:00Z"));
    works.send("DELETED", work("b", "fifth", "qdrant", undefined, "2026-01-15T05:00:00Z"));
    assert.deepEqual(woken, ["a/third"], "a waiter that was never told it may start leaves: nobody's turn changes");
    works.send("DELETED", work("a", "third", "qdrant", "Running", "2026-01-15T03:00:00Z"));
    assert.deepEqual(woken, ["a/third", "b/fourth"], "a running item deleted: the next one's turn");
  });
});
