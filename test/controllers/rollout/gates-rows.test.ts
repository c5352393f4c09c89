/**
 * The gates' rows, pure (src/controllers/rollout/gates/counts.ts and golden.ts): the numbers a user reads in
 * status.gates, each gate passing and failing, without a Qdrant. The same rows against the emulator:
 * gates-evaluate.test.ts.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { minPointsRow, pointsWithinPercentRow, requireGreenRow } from "../../../src/controllers/rollout/gates/counts.ts";
import { expectedIdsOf, expectedRow, goldenQueryBody, nothingToCompareRow, overlapRow, refusedRow, type GoldenQuery } from "../../../src/controllers/rollout/gates/golden.ts";

const green = "policies_v2";
const blue = "policies_v1";
const ids = (...n: number[]) => n.map(String);
const q = (extra: Partial<GoldenQuery> = {}): GoldenQuery => ({ name: "q1", query: { query: 42 }, ...extra });

describe("minPoints", () => {
  test("passes at the bound and fails below it, with both numbers", () => {
    assert.deepEqual(minPointsRow({ collection: green, points: 1000 }, 1000), { name: "minPoints", passed: true, observed: "1000 points", threshold: "≥ 1000" });
    assert.deepEqual(minPointsRow({ collection: green, points: 999 }, 1000), {
      name: "minPoints",
      passed: false,
      observed: "999 points",
      threshold: "≥ 1000",
      message: "policies_v2 holds 999 points, 1 short of 1000",
    });
  });
});

describe("pointsWithinPercent", () => {
  test("the difference over the active count, passing within the percent (inclusive) and failing beyond", () => {
    const at = pointsWithinPercentRow({ collection: green, points: 95 }, { collection: blue, points: 100 }, 5);
    assert.equal(at.passed, true, "5 of 100 is 5 %, within 5 %");
    assert.equal(at.observed, "5.00 % (95 vs 100 points)");
    assert.equal(at.threshold, "≤ 5.00 %");
    const beyond = pointsWithinPercentRow({ collection: green, points: 1180 }, { collection: blue, points: 1200 }, 1);
    assert.equal(beyond.passed, false);
    assert.equal(beyond.observed, "1.67 % (1180 vs 1200 points)");
    assert.equal(beyond.message, "policies_v2 holds 1180 points, policies_v1 1200");
    assert.equal(pointsWithinPercentRow({ collection: green, points: 1300 }, { collection: blue, points: 1200 }, 5).passed, false, "more points is a difference too");
  });

  test("an empty active collection divides by 1, and no active collection passes saying so", () => {
    assert.equal(pointsWithinPercentRow({ collection: green, points: 3 }, { collection: blue, points: 0 }, 10).observed, "300.00 % (3 vs 0 points)");
    assert.deepEqual(pointsWithinPercentRow({ collection: green, points: 3 }, { none: "no active collection to compare with" }, 10), {
      name: "pointsWithinPercent",
      passed: true,
      observed: "3 points",
      threshold: "≤ 10.00 %",
      message: "no active collection to compare with",
    });
  });
});

describe("requireGreen", () => {
  test("green and ok passes", () => {
    assert.deepEqual(requireGreenRow(green, { status: "green", optimizerStatus: "ok" }), {
      name: "requireGreen",
      passed: true,
      observed: "status green, optimizer ok",
      threshold: "status green, optimizer ok",
    });
  });

  test("yellow with an ok optimizer (what Qdrant reports while optimizing) fails, saying so", () => {
    const row = requireGreenRow(green, { status: "yellow", optimizerStatus: "ok" });
    assert.equal(row.passed, false);
    assert.equal(row.observed, "status yellow, optimizer ok");
    assert.match(row.message ?? "", /policies_v2 is yellow: Qdrant is optimizing it/);
  });

  test("grey and red with an optimizer error fail with Qdrant's words", () => {
    assert.match(requireGreenRow(green, { status: "grey", optimizerStatus: "ok" }).message ?? "", /grey: optimizations are pending/);
    const red = requireGreenRow(green, { status: "red", optimizerStatus: { error: "No space left on device" } });
    assert.equal(red.passed, false);
    assert.equal(red.observed, "status red, optimizer error (No space left on device)");
    assert.match(red.message ?? "", /its optimizer reports an error: No space left on device/);
  });
});

describe("golden queries", () => {
  test("the body is the user's with limit topK and no payload or vectors, whatever the user set", () => {
    assert.deepEqual(goldenQueryBody(q({ query: { query: [1, 2], using: "text", limit: 3, with_payload: true, with_vector: true, filter: { must: [] } }, topK: 7 })), {
      query: [1, 2],
      using: "text",
      limit: 7,
      with_payload: false,
      with_vector: false,
      filter: { must: [] },
    });
    assert.equal(goldenQueryBody(q()).limit, 10, "topK defaults to 10");
  });

  test("overlap of two answers: shared ids over topK, passing at minOverlap (0.8 by default)", () => {
    const nine = overlapRow(q(), { collection: green, ids: ids(1, 2, 3, 4, 5, 6, 7, 8, 9, 11) }, { collection: blue, ids: ids(1, 2, 3, 4, 5, 6, 7, 8, 9, 10) });
    assert.deepEqual(nine, { name: "goldenQuery/q1", passed: true, observed: "overlap 0.90 (9/10)", threshold: "≥ 0.80", message: "policies_v2's top 10 shares 9 ids with policies_v1's" });
    const eight = overlapRow(q(), { collection: green, ids: ids(1, 2, 3, 4, 5, 6, 7, 8, 20, 21) }, { collection: blue, ids: ids(1, 2, 3, 4, 5, 6, 7, 8, 9, 10) });
    assert.equal(eight.passed, true, "8/10 reaches 0.8 exactly");
    const seven = overlapRow(q(), { collection: green, ids: ids(1, 2, 3, 4, 5, 6, 7, 20, 21, 22) }, { collection: blue, ids: ids(1, 2, 3, 4, 5, 6, 7, 8, 9, 10) });
    assert.equal(seven.passed, false);
    assert.equal(seven.observed, "overlap 0.70 (7/10)");
    assert.equal(seven.message, "policies_v2's top 10 shares 7 ids with policies_v1's; not in policies_v2's answer: 8, 9, 10");
  });

  test("order within the top-k does not matter; minOverlap is the user's", () => {
    const row = overlapRow(q({ minOverlap: 1 }), { collection: green, ids: ids(3, 2, 1) }, { collection: blue, ids: ids(1, 2, 3) });
    assert.equal(row.passed, true);
    assert.equal(row.observed, "overlap 1.00 (3/3)");
    assert.equal(row.threshold, "≥ 1.00");
    assert.equal(overlapRow(q(), { collection: green, ids: ids(1, 9) }, { collection: blue, ids: ids(1, 2) }).message, "policies_v2's top 2 shares 1 id with policies_v1's; not in policies_v2's answer: 2");
  });

  test("an observed share is rounded down, a threshold shown as precise as it is", () => {
    const ref = { collection: blue, ids: Array.from({ length: 200 }, (_, i) => String(i)) };
    const row = overlapRow(q({ topK: 200 }), { collection: green, ids: [...ref.ids.slice(0, 159), ...ids(1001, 1002)] }, ref);
    assert.equal(row.passed, false);
    assert.equal(row.observed, "overlap 0.79 (159/200)", "0.795 is not shown as 0.80 beside ≥ 0.80");
    assert.equal(overlapRow(q({ minOverlap: 0.855 }), { collection: green, ids: ids(1) }, { collection: blue, ids: ids(1) }).threshold, "≥ 0.855");
  });

  test("fewer points than topK in both: the same few agree fully; a green returning fewer than active is short", () => {
    assert.equal(overlapRow(q(), { collection: green, ids: ids(1, 2, 3, 4, 5) }, { collection: blue, ids: ids(5, 4, 3, 2, 1) }).observed, "overlap 1.00 (5/5)");
    const short = overlapRow(q(), { collection: green, ids: ids(1, 2, 3, 4, 5) }, { collection: blue, ids: ids(1, 2, 3, 4, 5, 6, 7, 8, 9, 10) });
    assert.equal(short.passed, false);
    assert.equal(short.observed, "overlap 0.50 (5/10)");
    assert.match(short.message ?? "", /not in policies_v2's answer: 6, 7, 8, 9, 10$/);
    const both = overlapRow(q(), { collection: green, ids: [] }, { collection: blue, ids: [] });
    assert.equal(both.passed, true);
    assert.equal(both.message, "policies_v2 and policies_v1 both answer no points");
  });

  test("a failing row lists at most five missing ids", () => {
    const row = overlapRow(q(), { collection: green, ids: ids(20, 21, 22, 23, 24, 25, 26, 27, 28, 29) }, { collection: blue, ids: ids(1, 2, 3, 4, 5, 6, 7, 8, 9, 10) });
    assert.equal(row.observed, "overlap 0.00 (0/10)");
    assert.match(row.message ?? "", /not in policies_v2's answer: 1, 2, 3, 4, 5 and 5 more$/);
  });

  test("expectedIds: share of them in green's top-k over min(topK, their number), ids as strings", () => {
    const query = q({ expectedIds: [1, "2", 3, "4", 5, 6, 7, 8, 9, 10, 11, 12] });
    const expected = expectedIdsOf(query);
    assert.deepEqual(expected, ids(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12));
    assert.deepEqual(expectedRow(query, { collection: green, ids: ids(1, 2, 3, 4, 5, 6, 7, 8, 9, 10) }, expected ?? []), {
      name: "goldenQuery/q1",
      passed: true,
      observed: "overlap 1.00 (10/10)",
      threshold: "≥ 0.80",
      message: "policies_v2's top 10 holds 10 of the 10 expected ids",
    });
    const few = q({ expectedIds: [7, 7, 8, 9] });
    const fewRow = expectedRow(few, { collection: green, ids: ids(7, 8, 1, 2) }, expectedIdsOf(few) ?? []);
    assert.equal(fewRow.observed, "overlap 0.66 (2/3)", "duplicates count once; rounded down");
    assert.equal(fewRow.passed, false);
    assert.equal(fewRow.message, "policies_v2's top 10 holds 2 of the 3 expected ids; missing: 9");
    assert.equal(expectedIdsOf(q({ expectedIds: [] })), undefined, "an empty list compares with the active collection");
  });

  test("nothing to compare with passes, saying so; a refusal names the field and Qdrant's words", () => {
    assert.deepEqual(nothingToCompareRow(q(), { collection: green, ids: ids(1, 2) }, "no active collection to compare with"), {
      name: "goldenQuery/q1",
      passed: true,
      observed: "2 points answered",
      threshold: "≥ 0.80",
      message: "no active collection to compare with",
    });
    const refused = refusedRow(q({ name: "by-vector" }), green, "Wrong input: Vector dimension error: expected dim: 8, got 4", "green");
    assert.equal(refused.message, "spec.gates.goldenQueries[by-vector].query: Qdrant refused the query on policies_v2: Wrong input: Vector dimension error: expected dim: 8, got 4");
    assert.equal(refused.row.passed, false);
    assert.equal(refused.row.observed, "refused");
    assert.match(refusedRow(q(), blue, "Wrong input: …", "reference").message, /query by point id \("query": 42\) or set expectedIds/);
  });
});
