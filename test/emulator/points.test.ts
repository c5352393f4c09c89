import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { clientError, errorText, raw, specValidator, startTarget, uniqueName, type TestTarget } from "./harness.ts";

type Distance = "Cosine" | "Dot" | "Euclid" | "Manhattan";

describe("points", () => {
  let target: TestTarget;
  before(async () => {
    target = await startTarget();
  });
  after(async () => {
    await target.close();
    assert.ok(target.assertAllValid() > 0, "no JSON response was checked");
  });

  async function collection(distance: Distance = "Cosine", size = 2): Promise<string> {
    const name = uniqueName(distance.toLowerCase());
    await target.client().createCollection(name, { vectors: { size, distance } });
    return name;
  }

  it("upserts in list and batch forms and retrieves them", async () => {
    const client = target.client();
    const name = await collection("Dot");
    const res = await client.upsert(name, { points: [{ id: 1, vector: [1, 2], payload: { k: "a" } }] });
    assert.equal(res.status, "completed");
    await client.upsert(name, { batch: { ids: [2, "6a7f7d2e-7d52-4c5b-9e4e-2b1c1f0e9a01"], vectors: [[3, 4], [5, 6]], payloads: [{ k: "b" }, null] } });
    const got = await client.retrieve(name, { ids: [1, "6A7F7D2E-7D52-4C5B-9E4E-2B1C1F0E9A01", 99], with_vector: true });
    assert.deepEqual(got, [
      { id: 1, payload: { k: "a" }, vector: [1, 2] },
      { id: "6a7f7d2e-7d52-4c5b-9e4e-2b1c1f0e9a01", payload: {}, vector: [5, 6] },
    ]);
    const one = await raw(`${target.url}/collections/${name}/points/2`);
    assert.deepEqual((one.json as { result: unknown }).result, { id: 2, payload: { k: "b" }, vector: [3, 4] });
  });

  it("answers `acknowledged` when wait is not set, as Qdrant's server default", async () => {
    const name = await collection();
    const r = await raw(`${target.url}/collections/${name}/points`, { method: "PUT", body: JSON.stringify({ points: [{ id: 1, vector: [1, 0] }] }) });
    assert.equal(r.status, 200);
    assert.equal((r.json as { result: { status: string } }).result.status, "acknowledged");
  });

  it("rejects wrong dimensions, unknown vector names and bad ids", async () => {
    const client = target.client();
    const name = await collection("Cosine", 3);
    const dim = await clientError(client.upsert(name, { points: [{ id: 1, vector: [1, 2] }] }));
    assert.equal(dim.status, 400);
    assert.equal(dim.error, "Wrong input: Vector dimension error: expected dim: 3, got 2");
    const named = await clientError(client.upsert(name, { points: [{ id: 1, vector: { other: [1, 2, 3] } }] }));
    assert.equal(named.error, "Wrong input: Not existing vector name error: other");
    const badId = await raw(`${target.url}/collections/${name}/points?wait=true`, { method: "PUT", body: JSON.stringify({ points: [{ id: "nope", vector: [1, 2, 3] }] }) });
    assert.equal(badId.status, 400);
    assert.match(errorText(badId) ?? "", /^Format error in JSON body: /);
    const missing = await raw(`${target.url}/collections/${name}/points/42`);
    assert.equal(missing.status, 404);
    assert.equal(errorText(missing), "Not found: No point with id 42 found");
  });

  it("counts exactly, with and without filters, and deletes by id and by filter", async () => {
    const client = target.client();
    const name = await collection();
    await client.upsert(name, {
      points: Array.from({ length: 20 }, (_, i) => ({ id: i + 1, vector: [1, i], payload: { even: i % 2 === 0, n: i, tags: i % 3 === 0 ? ["x", "y"] : ["z"] } })),
    });
    assert.equal((await client.count(name)).count, 20);
    assert.equal((await client.count(name, { filter: { must: [{ key: "even", match: { value: true } }] } })).count, 10);
    assert.equal((await client.count(name, { filter: { must: [{ key: "tags", match: { value: "x" } }] } })).count, 7);
    assert.equal((await client.count(name, { filter: { must: [{ key: "n", range: { gte: 5, lt: 10 } }] } })).count, 5);
    assert.equal((await client.count(name, { filter: { must_not: [{ key: "even", match: { value: true } }] } })).count, 10);
    assert.equal((await client.count(name, { filter: { should: [{ key: "n", match: { any: [1, 2, 3] } }, { has_id: [20] }] } })).count, 4);
    await client.delete(name, { points: [1, 2] });
    assert.equal((await client.count(name)).count, 18);
    await client.delete(name, { filter: { must: [{ key: "even", match: { value: true } }] } });
    assert.equal((await client.count(name)).count, 9);
  });

  it("scrolls in id order with offset pagination and payload selection", async () => {
    const client = target.client();
    const name = await collection();
    await client.upsert(name, { points: [5, 3, 9, 1, 7].map((id) => ({ id, vector: [1, id], payload: { id, keep: "yes", drop: "no" } })) });
    const first = await client.scroll(name, { limit: 2, with_payload: ["id"] });
    assert.deepEqual(first.points.map((p) => p.id), [1, 3]);
    assert.deepEqual(first.points[0]?.payload, { id: 1 });
    assert.equal(first.next_page_offset, 5);
    const second = await client.scroll(name, { limit: 2, offset: first.next_page_offset ?? undefined, with_payload: { exclude: ["drop"] } });
    assert.deepEqual(second.points.map((p) => p.id), [5, 7]);
    assert.deepEqual(second.points[0]?.payload, { id: 5, keep: "yes" });
    const last = await client.scroll(name, { limit: 2, offset: 9, with_vector: true });
    assert.deepEqual(last.points.map((p) => p.id), [9]);
    assert.equal(last.next_page_offset, null);
    assert.ok(Array.isArray(last.points[0]?.vector));
  });

  for (const [distance, expectedOrder] of [
    ["Cosine", [1, 3, 2]],
    ["Dot", [3, 1, 2]],
    ["Euclid", [1, 3, 2]],
    ["Manhattan", [1, 3, 2]],
  ] as Array<[Distance, number[]]>) {
    it(`scores ${distance} exactly and orders by it`, async () => {
      const client = target.client();
      const name = await collection(distance);
      const vectors: Record<number, number[]> = { 1: [1, 0], 2: [0, 1], 3: [1.5, 0.5] };
      await client.upsert(name, { points: Object.entries(vectors).map(([id, vector]) => ({ id: Number(id), vector })) });
      const q = [1, 0.1];
      const res = await client.query(name, { query: q, with_vector: true, limit: 3 });
      assert.deepEqual(res.points.map((p) => p.id), expectedOrder);
      for (const p of res.points) {
        const v = vectors[Number(p.id)] ?? [];
        const norm = (x: number[]): number[] => x.map((c) => c / Math.hypot(...x));
        const expected =
          distance === "Cosine" ? norm(v).reduce((s, c, i) => s + c * (norm(q)[i] ?? 0), 0)
          : distance === "Dot" ? v.reduce((s, c, i) => s + c * (q[i] ?? 0), 0)
          : distance === "Euclid" ? Math.hypot(...v.map((c, i) => c - (q[i] ?? 0)))
          : v.reduce((s, c, i) => s + Math.abs(c - (q[i] ?? 0)), 0);
        assert.ok(Math.abs(p.score - expected) < 1e-5, `${distance} score of ${p.id}: ${p.score} vs ${expected}`);
      }
      if (distance === "Cosine") {
        const stored = res.points.find((p) => p.id === 3)?.vector as number[];
        assert.ok(Math.abs(Math.hypot(...stored) - 1) < 1e-6, "Cosine vectors are stored normalised");
      }
    });
  }

  it("applies limit, offset, score_threshold and filters to queries", async () => {
    const client = target.client();
    const name = await collection("Dot");
    await client.upsert(name, { points: [1, 2, 3, 4, 5].map((id) => ({ id, vector: [id, 0], payload: { big: id > 2 } })) });
    const top = await client.query(name, { query: [1, 0], limit: 2 });
    assert.deepEqual(top.points.map((p) => [p.id, p.score]), [[5, 5], [4, 4]]);
    assert.ok(top.points[0] !== undefined && !("payload" in top.points[0]) && !("vector" in top.points[0]), "unrequested keys are omitted");
    const next = await client.query(name, { query: [1, 0], limit: 2, offset: 2, with_payload: true });
    assert.deepEqual(next.points.map((p) => p.id), [3, 2]);
    assert.deepEqual(next.points[0]?.payload, { big: true });
    const threshold = await client.query(name, { query: { nearest: [1, 0] }, score_threshold: 3 });
    assert.deepEqual(threshold.points.map((p) => p.id), [5, 4, 3]);
    const filtered = await client.query(name, { query: [1, 0], filter: { must: [{ key: "big", match: { value: false } }] } });
    assert.deepEqual(filtered.points.map((p) => p.id), [2, 1]);
    const byId = await client.query(name, { limit: 2 });
    assert.deepEqual(byId.points.map((p) => p.id), [1, 2]);
  });

  it("queries named vectors with `using`", async () => {
    const client = target.client();
    const name = uniqueName("named");
    await client.createCollection(name, { vectors: { a: { size: 2, distance: "Dot" }, b: { size: 2, distance: "Dot" } } });
    await client.upsert(name, { points: [{ id: 1, vector: { a: [1, 0], b: [0, 1] } }, { id: 2, vector: { a: [0, 1], b: [1, 0] } }] });
    const res = await client.query(name, { query: [1, 0], using: "b", with_vector: ["b"] });
    assert.deepEqual(res.points.map((p) => p.id), [2, 1]);
    assert.deepEqual(res.points[0]?.vector, { b: [1, 0] });
  });

  it("keeps serving the legacy /points/search route", async (t) => {
    const name = await collection("Dot");
    await target.client().upsert(name, { points: [{ id: 1, vector: [1, 0] }, { id: 2, vector: [2, 0] }] });
    const r = await raw(`${target.url}/collections/${name}/points/search`, { method: "POST", body: JSON.stringify({ vector: [1, 0], limit: 1 }) });
    assert.equal(r.status, 200);
    const result = (r.json as { result: unknown[] }).result;
    assert.equal(result.length, 1);
    // The route left the 1.19 spec; its items are still ScoredPoints.
    for (const p of result) assert.deepEqual(specValidator().validateSchema("ScoredPoint", p).errors, []);
    assert.ok(target.proxies[0]?.undocumented.some((u) => u.path.endsWith("/points/search")));
    t.diagnostic("search result validated against ScoredPoint");
  });

  it("sets, overwrites and deletes payload", async () => {
    const client = target.client();
    const name = await collection();
    await client.upsert(name, { points: [{ id: 1, vector: [1, 0], payload: { a: 1, b: 2 } }] });
    await client.setPayload(name, { payload: { c: 3 }, points: [1], wait: true });
    assert.deepEqual((await client.retrieve(name, { ids: [1] }))[0]?.payload, { a: 1, b: 2, c: 3 });
    await client.deletePayload(name, { keys: ["a"], points: [1], wait: true });
    assert.deepEqual((await client.retrieve(name, { ids: [1] }))[0]?.payload, { b: 2, c: 3 });
    await client.overwritePayload(name, { payload: { z: 0 }, points: [1], wait: true });
    assert.deepEqual((await client.retrieve(name, { ids: [1] }))[0]?.payload, { z: 0 });
    await client.clearPayload(name, { points: [1], wait: true });
    assert.deepEqual((await client.retrieve(name, { ids: [1] }))[0]?.payload, {});
  });
});
