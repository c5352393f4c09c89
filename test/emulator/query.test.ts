/**
 * The Query API (`POST …/points/query`) with the requests of Qdrant's documentation ("Query API",
 * "Hybrid and Multi-Stage Queries") and the rules of its source (collection_query.rs validation and
 * id exclusion, reciprocal_rank_fusion.rs scores). Every answer is validated against openapi.json.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { clientError, startTarget, uniqueName, type TestTarget } from "./harness.ts";
import { distributionNormalise, rrf, rrfPositionScore } from "./score-fusion.ts";

type Point = { id: number | string; score: number; payload?: Record<string, unknown> | null };
type Body = Record<string, unknown>;

const OTHER = [3, 6, 1, 5, 2, 4];

describe("the Query API", () => {
  let target: TestTarget;
  let hybrid: string;
  before(async () => {
    target = await startTarget();
    // Two named dense vectors stand in for the docs' dense + sparse pair (sparse search is not emulated).
    // `dense` ranks 6,5,4,3,2,1 for [1, 0]; `other` ranks 2,4,6,1,5,3. No test relies on a tie, whose
    // order Qdrant leaves open.
    hybrid = uniqueName("hybrid");
    const client = target.client();
    await client.createCollection(hybrid, { vectors: { dense: { size: 2, distance: "Dot" }, other: { size: 2, distance: "Dot" } } });
    await client.upsert(hybrid, {
      points: [1, 2, 3, 4, 5, 6].map((id) => ({ id, vector: { dense: [id, 0], other: [OTHER[id - 1] ?? 0, 0] }, payload: { id, even: id % 2 === 0 } })),
    });
  });
  after(async () => {
    await target.close();
    assert.ok(target.assertAllValid() > 0, "no JSON response was checked");
  });

  async function query(collection: string, body: Body): Promise<Point[]> {
    const res = await target.client().query(collection, body);
    return res.points;
  }

  const close = (actual: number, expected: number, what: string): void =>
    assert.ok(Math.abs(actual - expected) < 1e-6, `${what}: ${actual} vs ${expected}`);

  it("fuses two prefetches with rrf, each point scoring 1/(rank + 2) per list (the docs' hybrid search)", async () => {
    const points = await query(hybrid, {
      prefetch: [
        { query: [1, 0], using: "dense", limit: 3 },
        { query: [1, 0], using: "other", limit: 3 },
      ],
      query: { fusion: "rrf" },
      limit: 10,
    });
    // dense: 6,5,4; other: 2,4,6.
    assert.deepEqual(points.map((p) => p.id), [6, 4, 2, 5]);
    const expected: Record<number, number> = { 6: 1 / 2 + 1 / 4, 4: 1 / 4 + 1 / 3, 2: 1 / 2, 5: 1 / 3 };
    for (const p of points) close(p.score, expected[Number(p.id)] ?? NaN, `score of ${p.id}`);
  });

  it("adds up a point's rrf contributions across lists, honours `rrf.k` and weights", async () => {
    const twice = [
      { query: [1, 0], using: "dense", limit: 4 },
      { query: [2, 0], using: "dense", limit: 4 },
    ];
    const summed = await query(hybrid, { prefetch: twice, query: { fusion: "rrf" } });
    assert.deepEqual(summed.map((p) => p.id), [6, 5, 4, 3]);
    close(summed[0]?.score ?? NaN, 2 / 2, "first in both lists");
    const k60 = await query(hybrid, { prefetch: twice, query: { rrf: { k: 60 } }, limit: 1 });
    close(k60[0]?.score ?? NaN, 2 / 60, "k = 60");
    const weighted = await query(hybrid, {
      prefetch: [
        { query: [1, 0], using: "dense", limit: 2 }, // 6,5
        { query: [1, 0], using: "other", limit: 2 }, // 2,4
      ],
      query: { rrf: { weights: [3, 1] } },
    });
    assert.deepEqual(weighted.map((p) => p.id), [6, 5, 2, 4]);
    close(weighted[0]?.score ?? NaN, 1 / (1 / 3 + 1), "weight 3, first");
    close(weighted[1]?.score ?? NaN, 1 / (2 / 3 + 1), "weight 3, second");
  });

  it("answers a query by point id (number or UUID) with its neighbours, never the point itself", async () => {
    const client = target.client();
    const name = uniqueName("byid");
    await client.createCollection(name, { vectors: { size: 2, distance: "Cosine" } });
    const uuid = "43cf51e2-8777-4f52-bc74-c2cbde0c8b04";
    await client.upsert(name, {
      points: [
        { id: 42, vector: [1, 0] },
        { id: 7, vector: [0.9, 0.1] },
        { id: 8, vector: [0, 1] },
        { id: uuid, vector: [0.1, 0.9] },
      ],
    });
    assert.deepEqual((await query(name, { query: 42 })).map((p) => p.id), [7, uuid, 8]);
    assert.deepEqual((await query(name, { query: { nearest: uuid }, limit: 2 })).map((p) => p.id), [8, 7]);
    // Referenced inside a prefetch, the point is excluded from the whole request.
    const nested = await query(name, { prefetch: { query: 42, limit: 3 }, query: [1, 0] });
    assert.deepEqual(nested.map((p) => p.id), [7, uuid, 8]);
    const missing = await clientError(client.query(name, { query: 999 }));
    assert.equal(missing.status, 404);
    assert.equal(missing.error, 'Not found: Vector with name "" for point not found');
  });

  it("rescores only the prefetched candidates in a multi-stage query, each stage with its own limit", async () => {
    // Stage 1 keeps the 4 best by `dense` (6,5,4,3); stage 2 the 2 best of those by `other` (4,6).
    const points = await query(hybrid, {
      prefetch: { prefetch: { query: [1, 0], using: "dense", limit: 4 }, query: [1, 0], using: "other", limit: 2 },
      query: [1, 0],
      using: "dense",
      with_payload: ["even"],
    });
    assert.deepEqual(points.map((p) => [p.id, p.score, p.payload]), [[6, 6, { even: true }], [4, 4, { even: true }]]);
  });

  it("applies the root filter to the prefetches and offset to the root only", async () => {
    const points = await query(hybrid, {
      prefetch: [{ query: [1, 0], using: "dense", limit: 10 }, { query: [1, 0], using: "other", limit: 10 }],
      query: { fusion: "rrf" },
      filter: { must: [{ key: "even", match: { value: false } }] },
      offset: 1,
      limit: 2,
    });
    // Odd points only: dense 5,3,1 and other 1,5,3; fused 5 (1/2+1/3), 1 (1/4+1/2), 3 (1/3+1/4); offset drops 5.
    assert.deepEqual(points.map((p) => p.id), [1, 3]);
  });

  it("keeps score_threshold in each metric's direction, and as a minimum on a fused score", async () => {
    const client = target.client();
    const name = uniqueName("euclid");
    await client.createCollection(name, { vectors: { size: 2, distance: "Euclid" } });
    await client.upsert(name, { points: [1, 2, 3, 4].map((id) => ({ id, vector: [id, 0] })) });
    const near = await query(name, { query: [0, 0], score_threshold: 2.5 });
    assert.deepEqual(near.map((p) => [p.id, p.score]), [[1, 1], [2, 2]]);
    const fused = await query(hybrid, {
      prefetch: [{ query: [1, 0], using: "dense", limit: 3 }, { query: [1, 0], using: "other", limit: 3 }],
      query: { fusion: "rrf" },
      score_threshold: 0.4,
    });
    assert.deepEqual(fused.map((p) => p.id), [6, 4, 2]);
  });

  it("fuses with dbsf: each list normalised by mean ± 3σ, then summed", async () => {
    const points = await query(hybrid, {
      prefetch: [{ query: [1, 0], using: "dense", limit: 3 }, { query: [2, 0], using: "dense", limit: 3 }],
      query: { fusion: "dbsf" },
    });
    assert.deepEqual(points.map((p) => p.id), [6, 5, 4]);
    const a = distributionNormalise([6, 5, 4]);
    const b = distributionNormalise([12, 10, 8]);
    points.forEach((p, i) => close(p.score, (a[i] ?? 0) + (b[i] ?? 0), `dbsf score of ${p.id}`));
  });

  it("refuses the requests Qdrant's validation refuses, with its texts", async () => {
    const cases: Array<[Body, string]> = [
      [{ prefetch: { query: [1, 0], using: "dense" } }, "Bad request: A query is needed to merge the prefetches. Can't have prefetches without defining a query."],
      [{ score_threshold: 0.5 }, "Bad request: A query is needed to use the score_threshold. Can't have score_threshold without defining a query."],
      [{ prefetch: { query: [1, 0], using: "dense" }, query: { fusion: "rrf" }, using: "dense" }, "Bad request: Fusion queries cannot be combined with the 'using' field."],
      [{ prefetch: { prefetch: { query: [1, 0], using: "dense" } }, query: { fusion: "rrf" } }, "Bad request: A query is needed to merge the prefetches. Can't have prefetches without defining a query."],
    ];
    cases.push(
      [{ query: { fusion: "rrf" } }, "Wrong input: Validation failed: cannot apply Fusion without prefetches"],
      [
        { prefetch: [{ query: [1, 0], using: "dense" }, { query: [1, 0], using: "other" }], query: { rrf: { weights: [1] } } },
        "Wrong input: Validation failed: Number of weights in RRF should match number of pre-fetches: got 1, expected 2",
      ],
    );
    for (const [body, error] of cases) {
      const e = await clientError(target.client().query(hybrid, body));
      assert.deepEqual(e, { status: 400, error }, JSON.stringify(body));
    }
  });
});

describe("score fusion (pure)", () => {
  it("scores rrf positions as Qdrant's position_score", () => {
    const table: Array<[number, number, number, number]> = [
      [0, 2, 1, 1 / 2],
      [1, 2, 1, 1 / 3],
      [0, 60, 1, 1 / 60],
      [0, 2, 3, 1 / (1 / 3 + 1)],
      [4, 2, 0, 0],
    ];
    for (const [pos, k, w, expected] of table) assert.ok(Math.abs(rrfPositionScore(pos, k, w) - expected) < 1e-7, `${pos},${k},${w}`);
  });

  it("orders equal fused scores by the tie-break and sums repeated points", () => {
    const fused = rrf([[{ key: "b", score: 9 }, { key: "a", score: 1 }], [{ key: "a", score: 5 }]], 2, undefined, (x, y) => x.localeCompare(y));
    assert.deepEqual(fused.map((r) => r.key), ["a", "b"]);
    assert.ok(Math.abs((fused[0]?.score ?? 0) - (1 / 3 + 1 / 2)) < 1e-6 && fused[1]?.score === 0.5);
    const tied = rrf([[{ key: "b", score: 1 }], [{ key: "a", score: 1 }]], 2, undefined, (x, y) => x.localeCompare(y));
    assert.deepEqual(tied.map((r) => r.key), ["a", "b"]);
  });

  it("normalises a lone score to 0.5 and equal scores to 0.5", () => {
    assert.deepEqual(distributionNormalise([3]), [0.5]);
    assert.deepEqual(distributionNormalise([2, 2]), [0.5, 0.5]);
  });
});
