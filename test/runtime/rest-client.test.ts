import assert from "node:assert/strict";
import { test } from "node:test";
import { WriteRefusedError } from "../../src/runtime/errors.ts";
import { runWithSignal } from "../../src/runtime/reconcile-signal.ts";
import { FencedClient, KubeClient, isWrite, type RequestOptions } from "../../src/runtime/rest-client.ts";
import type { ResourceType } from "../../src/runtime/resource.ts";
import { StatusWriter } from "../../src/runtime/status-writer.ts";

const WIDGETS: ResourceType = { group: "example.com", version: "v1", plural: "widgets", kind: "Widget", namespaced: true };
const key = { namespace: "ns", name: "w" };

/** Answers at once; records what was sent and under which signal. */
class Recorder extends KubeClient {
  readonly sent: Array<{ method: string; path: string; signal: AbortSignal | undefined }> = [];
  protected send<T>(method: string, path: string, opts: RequestOptions): Promise<T> {
    this.sent.push({ method, path, signal: opts.signal });
    return Promise.resolve({ metadata: { name: "w", namespace: "ns", resourceVersion: "2" } } as T);
  }
}

test("a request whose signal has aborted is not sent", async () => {
  const c = new Recorder();
  await assert.rejects(c.get(WIDGETS, key, { signal: AbortSignal.abort(new Error("deposed")) }), /GET \/apis\/example.com\/v1\/namespaces\/ns\/widgets\/w not sent: deposed/);
  assert.equal(c.sent.length, 0);
});

test("withSignal: the bound signal joins each request's own, and the ambient reconcile signal joins both", async () => {
  const c = new Recorder();
  const bound = new AbortController();
  const own = new AbortController();
  const ambient = new AbortController();
  await runWithSignal(ambient.signal, () => c.withSignal(bound.signal).patch(WIDGETS, key, { spec: {} }, { signal: own.signal }));
  const s = c.sent[0]!.signal!;
  assert.equal(s.aborted, false);
  ambient.abort();
  assert.equal(s.aborted, true, "the ambient signal aborts the request");
  await c.withSignal(bound.signal).get(WIDGETS, key);
  bound.abort();
  assert.equal(c.sent[1]!.signal!.aborted, true, "the bound signal aborts the request");
  await assert.rejects(c.withSignal(bound.signal).delete(WIDGETS, key), /not sent/);
});

test("StatusWriter.withSignal writes under the signal", async () => {
  const c = new Recorder();
  const signal = new AbortController();
  const w = new StatusWriter(c).withSignal(signal.signal);
  await w.updateStatusIfChanged(WIDGETS, { metadata: { name: "w", namespace: "ns", resourceVersion: "1" }, status: { a: 1 } }, { a: 2 });
  assert.equal(c.sent[0]!.path, "/apis/example.com/v1/namespaces/ns/widgets/w/status");
  signal.abort();
  assert.equal(c.sent[0]!.signal!.aborted, true);
});

test("FencedClient refuses writes while its check gives a reason; reads pass", async () => {
  const c = new Recorder();
  let why: string | undefined = "the leader lease was lost";
  const fenced = new FencedClient(c, () => why);
  await assert.rejects(fenced.create(WIDGETS, { metadata: { name: "w", namespace: "ns" } }), (err: unknown) => err instanceof WriteRefusedError && /POST .* refused: the leader lease was lost/.test(err.message));
  await fenced.get(WIDGETS, key);
  assert.deepEqual(c.sent.map((s) => s.method), ["GET"]);
  why = undefined;
  await fenced.create(WIDGETS, { metadata: { name: "w", namespace: "ns" } });
  assert.deepEqual(c.sent.map((s) => s.method), ["GET", "POST"]);
  assert.deepEqual(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"].map(isWrite), [false, false, true, true, true, true]);
});
