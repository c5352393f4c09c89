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

test("list: the transform runs on each page's items as the page arrives, with apiVersion and kind filled in", async () => {
  const order: string[] = [];
  class Pages extends KubeClient {
    protected send<T>(_method: string, _path: string, opts: RequestOptions): Promise<T> {
      const page = opts.query?.continue === undefined ? 1 : Number(opts.query.continue);
      order.push(`page ${page}`);
      const items = [0, 1].map((i) => ({ metadata: { name: `w${page}-${i}`, managedFields: [{ manager: "kubectl" }] } }));
      return Promise.resolve({ items, metadata: { resourceVersion: "9", ...(page < 3 ? { continue: String(page + 1) } : {}) } } as T);
    }
  }
  const list = await new Pages().list(WIDGETS, "ns", {
    limit: 2,
    transform: (o) => {
      order.push(`transform ${o.metadata?.name} ${o.apiVersion} ${o.kind}`);
      delete o.metadata?.managedFields;
      return o;
    },
  });
  assert.deepEqual(order, [
    "page 1",
    "transform w1-0 example.com/v1 Widget",
    "transform w1-1 example.com/v1 Widget",
    "page 2",
    "transform w2-0 example.com/v1 Widget",
    "transform w2-1 example.com/v1 Widget",
    "page 3",
    "transform w3-0 example.com/v1 Widget",
    "transform w3-1 example.com/v1 Widget",
  ]);
  assert.equal(list.resourceVersion, "9");
  assert.deepEqual(list.items.map((o) => [o.metadata?.name, o.metadata?.managedFields]), ["w1-0", "w1-1", "w2-0", "w2-1", "w3-0", "w3-1"].map((n) => [n, undefined]));
});
