import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FakeClock } from "../../src/runtime/clock.ts";
import { ApiError } from "../../src/runtime/errors.ts";
import { EventAggregator, EventRecorder } from "../../src/runtime/events.ts";
import { Redactor } from "../../src/runtime/redact.ts";
import { KubeClient, type RequestOptions } from "../../src/runtime/rest-client.ts";
import { captureLogs } from "./fixtures/logs.ts";

interface Sent {
  method: string;
  path: string;
  body: Record<string, unknown>;
}

/** Records requests; answers 404 to PATCHes of names listed in `gone`. */
class FakeClient extends KubeClient {
  readonly sent: Sent[] = [];
  readonly gone = new Set<string>();
  protected send<T>(method: string, path: string, opts: RequestOptions): Promise<T> {
    this.sent.push({ method, path, body: opts.body as Record<string, unknown> });
    const name = path.split("/").at(-1)!;
    if (method === "PATCH" && this.gone.has(name)) return Promise.reject(new ApiError(method, path, 404, { reason: "NotFound" }));
    return Promise.resolve({} as T);
  }
}

const regarding = { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w1", namespace: "ns", uid: "uid-1", resourceVersion: "7" } };

function setup(window = 60_000) {
  const clock = new FakeClock(new Date("2030-01-01T00:00:00Z"));
  const client = new FakeClient();
  const redactor = new Redactor();
  const rec = new EventRecorder({ client, reportingController: "example.com/operator", reportingInstance: "op-0", logger: captureLogs().logger, clock, redactor, aggregationWindowMs: window });
  return { clock, client, redactor, rec };
}

describe("event aggregation", () => {
  test("the aggregator creates once, then counts repeats within the window", () => {
    const a = new EventAggregator(1000);
    assert.deepEqual(a.observe("k", "ns", 0), { kind: "create" });
    a.created("k", "e1");
    assert.deepEqual(a.observe("k", "ns", 500), { kind: "update", name: "e1", namespace: "ns", count: 2 });
    assert.deepEqual(a.observe("k", "ns", 1500), { kind: "update", name: "e1", namespace: "ns", count: 3 }, "the window runs from the last occurrence");
    assert.deepEqual(a.observe("k", "ns", 2501), { kind: "create" });
  });

  test("the aggregator forgets the least recently seen key beyond its capacity", () => {
    const a = new EventAggregator(1000, 2);
    for (const k of ["a", "b"]) {
      a.observe(k, "ns", 0);
      a.created(k, k);
    }
    a.observe("a", "ns", 1);
    a.observe("c", "ns", 2);
    assert.equal(a.observe("a", "ns", 3).kind, "update", "a was seen recently and kept");
    assert.equal(a.observe("b", "ns", 4).kind, "create", "b was evicted");
  });

  test("a repeated event creates one Event and then patches its series", async () => {
    const { clock, client, rec } = setup();
    for (let i = 0; i < 3; i++) {
      rec.event({ regarding, type: "Warning", reason: "SnapshotFailed", action: "CreateSnapshot", note: "peer unreachable" });
      clock.advance(1000);
    }
    await rec.flush();
    assert.deepEqual(
      client.sent.map((s) => s.method),
      ["POST", "PATCH", "PATCH"],
    );
    const created = client.sent[0]!;
    assert.equal(created.path, "/apis/events.k8s.io/v1/namespaces/ns/events");
    const meta = created.body.metadata as { name: string; namespace: string };
    assert.match(meta.name, /^w1\.[0-9a-f]+$/);
    assert.equal(meta.namespace, "ns");
    assert.deepEqual(
      { ...created.body, metadata: undefined },
      {
        apiVersion: "events.k8s.io/v1",
        kind: "Event",
        metadata: undefined,
        eventTime: "2030-01-01T00:00:00.000000Z",
        reportingController: "example.com/operator",
        reportingInstance: "op-0",
        action: "CreateSnapshot",
        reason: "SnapshotFailed",
        note: "peer unreachable",
        type: "Warning",
        regarding: { apiVersion: "example.com/v1", kind: "Widget", namespace: "ns", name: "w1", uid: "uid-1", resourceVersion: "7" },
      },
    );
    assert.equal(client.sent[1]!.path, `/apis/events.k8s.io/v1/namespaces/ns/events/${meta.name}`);
    assert.deepEqual(client.sent[1]!.body, { series: { count: 2, lastObservedTime: "2030-01-01T00:00:01.000000Z" } });
    assert.deepEqual(client.sent[2]!.body, { series: { count: 3, lastObservedTime: "2030-01-01T00:00:02.000000Z" } });
  });

  test("a different note, reason or object is a different Event; so is a repeat after the window", async () => {
    const { clock, client, rec } = setup(60_000);
    rec.event({ regarding, type: "Warning", reason: "SnapshotFailed", action: "CreateSnapshot", note: "a" });
    rec.event({ regarding, type: "Warning", reason: "SnapshotFailed", action: "CreateSnapshot", note: "b" });
    rec.event({ regarding, type: "Warning", reason: "UploadFailed", action: "CreateSnapshot", note: "a" });
    rec.event({ regarding: { ...regarding, metadata: { ...regarding.metadata, uid: "uid-2", name: "w2" } }, type: "Warning", reason: "SnapshotFailed", action: "CreateSnapshot", note: "a" });
    await rec.flush();
    clock.advance(60_001);
    rec.event({ regarding, type: "Warning", reason: "SnapshotFailed", action: "CreateSnapshot", note: "a" });
    await rec.flush();
    assert.deepEqual(
      client.sent.map((s) => s.method),
      ["POST", "POST", "POST", "POST", "POST"],
    );
    const names = new Set(client.sent.map((s) => (s.body.metadata as { name: string }).name));
    assert.equal(names.size, 5, "event names are unique even within one millisecond");
  });

  test("when the aggregated Event is gone, the next repeat creates a new one", async () => {
    const { client, rec } = setup();
    rec.event({ regarding, type: "Normal", reason: "Started", action: "Start", note: "x" });
    await rec.flush();
    client.gone.add((client.sent[0]!.body.metadata as { name: string }).name);
    rec.event({ regarding, type: "Normal", reason: "Started", action: "Start", note: "x" });
    await rec.flush();
    assert.deepEqual(
      client.sent.map((s) => s.method),
      ["POST", "PATCH", "POST"],
    );
    assert.equal(client.sent[2]!.body.series, undefined);
  });

  test("notes are scrubbed of registered secrets before aggregation and sending", async () => {
    const { client, redactor, rec } = setup();
    redactor.register("AKIA-SECRET-KEY-1");
    rec.event({ regarding, type: "Warning", reason: "UploadFailed", action: "Upload", note: "denied for key AKIA-SECRET-KEY-1" });
    await rec.flush();
    assert.equal(client.sent[0]!.body.note, "denied for key [REDACTED]");
  });

  test("an Event recorded under an aborted signal (a reconcile of a deposed leader) is not sent", async () => {
    const { client, rec } = setup();
    const aborted = new AbortController();
    aborted.abort(new Error("leader election lost"));
    rec.event({ regarding, type: "Normal", reason: "Created", action: "Create", note: "late" }, { signal: aborted.signal });
    rec.event({ regarding, type: "Normal", reason: "Created", action: "Create", note: "in time" });
    await rec.flush();
    assert.deepEqual(client.sent.map((s) => s.body.note), ["in time"]);
  });

  test("a reason that is not CamelCase is a programming error", () => {
    const { rec } = setup();
    assert.throws(() => rec.event({ regarding, type: "Normal", reason: "not-camel", action: "x", note: "" }), /CamelCase/);
  });
});
