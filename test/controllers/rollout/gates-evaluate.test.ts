/**
 * The gates against the environment's Qdrant (src/controllers/rollout/gates/evaluate.ts): each gate passing
 * and failing with its numbers; golden queries by point id across a 4-dim blue and an 8-dim green (the
 * same points under another embedding model), agreeing and disagreeing; a query Qdrant refuses (wrong
 * dimension, unknown vector name) is fatal GoldenQueryRefused naming the field; expectedIds; requireGreen
 * held yellow by the emulator's admin knob (on a private emulator); what is thrown (unreachable, 5xx, a stopped reconcile) rather
 * than turned into rows; and the analysis after promotion.
 */
import assert from "node:assert/strict";
import { createServer, type AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { evaluateAnalysis, evaluateGates, type Gates } from "../../../src/controllers/rollout/gates/evaluate.ts";
import type { GoldenQuery } from "../../../src/controllers/rollout/gates/golden.ts";
import type { GateEvaluation } from "../../../src/controllers/rollout/steps.ts";
import { isOperatorError } from "../../../src/errors.ts";
import { QdrantApi, type PointStruct } from "../../../src/qdrant/client.ts";
import { AdminClient } from "../../emulator/admin-client.ts";
import { startEmulator, type EmulatorHandle } from "../../emulator/index.ts";
import { needsDistributedQdrant, needsEmulatorFaults, qdrantApi, uniqueName } from "../../helpers/qdrant.ts";

const POINTS = 60;
const QUERIED = 42;

/** A small deterministic PRNG (mulberry32): the same vectors on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function vectors(seed: number, dim: number): number[][] {
  const r = random(seed);
  return Array.from({ length: POINTS }, () => Array.from({ length: dim }, () => r() * 2 - 1));
}
const BLUE = vectors(7, 4);
/** The same points under an 8-dim model whose geometry is blue's: each vector twice (cosines unchanged). */
const GREEN_SAME = BLUE.map((v) => [...v, ...v]);
/** Another 8-dim model that knows nothing of blue's neighbourhoods. */
const GREEN_OTHER = vectors(1234, 8);
const points = (vs: number[][]): PointStruct[] => vs.map((vector, i) => ({ id: i + 1, vector, payload: { n: i } }));

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  a.forEach((x, i) => {
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  });
  return dot / Math.sqrt(na * nb);
}
/** The ids nearest to point `id` by cosine, the point itself excluded (as Qdrant's query by id does). */
function nearest(vs: number[][], id: number, k: number): string[] {
  const self = vs[id - 1] ?? [];
  return vs
    .map((v, i) => ({ id: i + 1, score: cosine(self, v) }))
    .filter((p) => p.id !== id)
    .sort((x, y) => y.score - x.score || x.id - y.id)
    .slice(0, k)
    .map((p) => String(p.id));
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const byId = (name = "by-id", extra: Partial<GoldenQuery> = {}): GoldenQuery => ({ name, query: { query: QUERIED }, ...extra });
const rowOf = (e: GateEvaluation, name: string) => e.results.find((r) => r.name === name);

describe("rollout gates against Qdrant", () => {
  const api = qdrantApi();
  let blue: string;
  let greenSame: string;
  let greenOther: string;
  let fewer: string;
  const made: string[] = [];

  async function collection(prefix: string, size: number, vs: number[][]): Promise<string> {
    const name = uniqueName(prefix);
    await api.createCollection(name, { vectors: { size, distance: "Cosine" } });
    made.push(name);
    await api.upsert(name, points(vs));
    return name;
  }

  before(async () => {
    blue = await collection("gates_blue4", 4, BLUE);
    greenSame = await collection("gates_green8_same", 8, GREEN_SAME);
    greenOther = await collection("gates_green8_other", 8, GREEN_OTHER);
    fewer = await collection("gates_blue4_fewer", 4, BLUE.slice(0, 57));
  });
  after(async () => {
    for (const name of made) await api.deleteCollection(name);
  });

  describe("counts", () => {
    test("minPoints passes at green's exact count and fails one above it", async () => {
      const at = await evaluateGates(api, { minPoints: POINTS, requireGreen: false }, { green: greenSame, active: blue });
      assert.deepEqual(at, { results: [{ name: "minPoints", passed: true, observed: "60 points", threshold: "≥ 60" }], allPassed: true });
      const above = await evaluateGates(api, { minPoints: POINTS + 1, requireGreen: false }, { green: greenSame, active: blue });
      assert.equal(above.allPassed, false);
      assert.deepEqual(above.results[0], { name: "minPoints", passed: false, observed: "60 points", threshold: "≥ 61", message: `${greenSame} holds 60 points, 1 short of 61` });
      assert.equal(above.fatal, undefined, "too few points may still come: not fatal");
    });

    test("pointsWithinPercent against the active collection's count", async () => {
      // 60 vs 57: 3/57 = 5.26 %.
      const outside = await evaluateGates(api, { pointsWithinPercent: 5, requireGreen: false }, { green: greenSame, active: fewer });
      assert.deepEqual(outside.results, [
        { name: "pointsWithinPercent", passed: false, observed: "5.26 % (60 vs 57 points)", threshold: "≤ 5.00 %", message: `${greenSame} holds 60 points, ${fewer} 57` },
      ]);
      const inside = await evaluateGates(api, { pointsWithinPercent: 6, requireGreen: false }, { green: greenSame, active: fewer });
      assert.equal(inside.allPassed, true);
      assert.equal(inside.results[0]?.observed, "5.26 % (60 vs 57 points)");
    });

    test("pointsWithinPercent with no active collection, or one that is gone, passes saying so", async () => {
      const none = await evaluateGates(api, { pointsWithinPercent: 1, requireGreen: false }, { green: greenSame, active: null });
      assert.deepEqual(none.results, [{ name: "pointsWithinPercent", passed: true, observed: "60 points", threshold: "≤ 1.00 %", message: "no active collection to compare with" }]);
      const gone = uniqueName("gates_gone");
      const goneRow = (await evaluateGates(api, { pointsWithinPercent: 1, requireGreen: false }, { green: greenSame, active: gone })).results[0];
      assert.equal(goneRow?.passed, true);
      assert.equal(goneRow?.message, `no active collection to compare with (${gone} no longer exists)`);
    });
  });

  describe("which rows", () => {
    test("in the spec's order, only the gates it sets; requireGreen is on unless turned off, also without spec.gates", async () => {
      const all = await evaluateGates(api, { goldenQueries: [byId("b"), byId("a")], minPoints: 1, pointsWithinPercent: 50 }, { green: greenSame, active: blue });
      assert.deepEqual(
        all.results.map((r) => r.name),
        ["minPoints", "pointsWithinPercent", "requireGreen", "goldenQuery/b", "goldenQuery/a"],
      );
      assert.equal(all.allPassed, true, JSON.stringify(all.results));
      assert.deepEqual(await evaluateGates(api, undefined, { green: greenSame }), {
        results: [{ name: "requireGreen", passed: true, observed: "status green, optimizer ok", threshold: "status green, optimizer ok" }],
        allPassed: true,
      });
      assert.deepEqual(await evaluateGates(api, { requireGreen: false }, { green: greenSame }), { results: [], allPassed: true });
    });
  });

  describe("requireGreen", () => {
    // Its own emulator, running this checkout's code: the shared environment's emulator process may have
    // started before the admin knob that holds a collection's status existed (test/emulator/README.md
    // "Collection status"), and a hold on a private emulator cannot touch another test's collections.
    let emu: EmulatorHandle;
    let admin: AdminClient;
    let own: QdrantApi;
    before(async () => {
      emu = await startEmulator();
      admin = new AdminClient(emu.adminUrl);
      own = new QdrantApi({ url: emu.url, timeoutMs: 30_000 });
    });
    after(async () => {
      await emu.stop();
    });

    test("fails while Qdrant reports green's collection yellow (optimizing) or red (optimizer error), passes once it is green", async () => {
      const name = "policies_v2";
      await own.createCollection(name, { vectors: { size: 4, distance: "Cosine" } });
      await own.upsert(name, points(BLUE));
      const gates: Gates = { minPoints: 1 };
      assert.equal((await evaluateGates(own, gates, { green: name })).allPassed, true, "green before the hold");
      await admin.holdOptimizing(name);
      const yellow = await evaluateGates(own, gates, { green: name });
      assert.equal(yellow.allPassed, false);
      assert.equal(yellow.fatal, undefined, "optimizing ends: not fatal");
      assert.deepEqual(rowOf(yellow, "requireGreen"), {
        name: "requireGreen",
        passed: false,
        observed: "status yellow, optimizer ok",
        threshold: "status green, optimizer ok",
        message: "policies_v2 is yellow: Qdrant is optimizing it (indexing, merging segments)",
      });
      assert.equal(rowOf(yellow, "minPoints")?.passed, true, "the points are there: only the status holds it");
      assert.equal((await evaluateGates(own, { ...gates, requireGreen: false }, { green: name })).allPassed, true, "requireGreen: false does not look");
      await admin.collectionStatus({ collection: name, status: "grey" });
      assert.equal(rowOf(await evaluateGates(own, gates, { green: name }), "requireGreen")?.observed, "status grey, optimizer ok");
      await admin.failOptimizer(name, "Service internal error: No space left on device");
      const red = rowOf(await evaluateGates(own, gates, { green: name }), "requireGreen");
      assert.equal(red?.passed, false);
      assert.equal(red?.observed, "status red, optimizer error (Service internal error: No space left on device)");
      assert.match(red?.message ?? "", /its optimizer reports an error: Service internal error: No space left on device$/);
      await admin.releaseCollection(name);
      assert.equal((await evaluateGates(own, gates, { green: name })).allPassed, true, "green again once released");
    });
  });

  describe("golden queries", () => {
    test("by point id across a 4-dim blue and an 8-dim green with the same neighbourhoods: overlap 1.00", async () => {
      const e = await evaluateGates(api, { requireGreen: false, goldenQueries: [byId()] }, { green: greenSame, active: blue });
      assert.deepEqual(e, {
        results: [{ name: "goldenQuery/by-id", passed: true, observed: "overlap 1.00 (10/10)", threshold: "≥ 0.80", message: `${greenSame}'s top 10 shares 10 ids with ${blue}'s` }],
        allPassed: true,
      });
    });

    test("by point id against an 8-dim green whose neighbourhoods differ: fails with the overlap Qdrant's answers give", async () => {
      const shared = nearest(GREEN_OTHER, QUERIED, 10).filter((id) => nearest(BLUE, QUERIED, 10).includes(id)).length;
      assert.ok(shared < 8, `the fixture's models disagree (they share ${shared} of 10)`);
      const e = await evaluateGates(api, { requireGreen: false, goldenQueries: [byId()] }, { green: greenOther, active: blue });
      const row = e.results[0];
      assert.equal(e.allPassed, false);
      assert.equal(e.fatal, undefined);
      assert.equal(row?.passed, false);
      assert.equal(row?.observed, `overlap ${(shared / 10).toFixed(2)} (${shared}/10)`);
      assert.match(row?.message ?? "", new RegExp(`shares ${shared} ids? with ${blue}'s; not in ${greenOther}'s answer: `));
    });

    test("topK and minOverlap are the query's own", async () => {
      const shared = nearest(GREEN_OTHER, QUERIED, 30).filter((id) => nearest(BLUE, QUERIED, 30).includes(id)).length;
      const e = await evaluateGates(api, { requireGreen: false, goldenQueries: [byId("loose", { topK: 30, minOverlap: 0 })] }, { green: greenOther, active: blue });
      assert.match(e.results[0]?.observed ?? "", new RegExp(`^overlap \\d\\.\\d\\d \\(${shared}\\/30\\)$`));
      assert.equal(e.allPassed, true);
    });

    test("a query vector of the wrong dimension is fatal GoldenQueryRefused naming the field, with Qdrant's words", async () => {
      const e = await evaluateGates(api, { requireGreen: false, goldenQueries: [byId(), { name: "by-vector", query: { query: [0.1, 0.2, 0.3, 0.4] } }] }, { green: greenSame, active: blue });
      assert.equal(e.allPassed, false);
      assert.equal(e.fatal?.reason, "GoldenQueryRefused");
      assert.equal(e.fatal?.message, `spec.gates.goldenQueries[by-vector].query: Qdrant refused the query on ${greenSame}: Wrong input: Vector dimension error: expected dim: 8, got 4`);
      assert.equal(rowOf(e, "goldenQuery/by-vector")?.passed, false);
      assert.equal(rowOf(e, "goldenQuery/by-id")?.passed, true, "the other queries still report");
    });

    test("a vector that fits green but not blue is refused on blue: fatal, with the way to compare across models", async () => {
      const e = await evaluateGates(api, { requireGreen: false, goldenQueries: [{ name: "v8", query: { query: GREEN_SAME[0] } }] }, { green: greenSame, active: blue });
      assert.equal(e.fatal?.reason, "GoldenQueryRefused");
      assert.match(e.fatal?.message ?? "", new RegExp(`^spec\\.gates\\.goldenQueries\\[v8\\]\\.query: Qdrant refused the query on ${blue}: Wrong input: Vector dimension error: expected dim: 4, got 8; `));
      assert.match(e.fatal?.message ?? "", /query by point id \("query": 42\) or set expectedIds/);
    });

    test("an unknown vector name is refused: fatal", async () => {
      const e = await evaluateGates(api, { requireGreen: false, goldenQueries: [{ name: "named", query: { query: GREEN_SAME[0], using: "image" } }] }, { green: greenSame, active: null });
      assert.equal(e.fatal?.reason, "GoldenQueryRefused");
      assert.match(e.fatal?.message ?? "", /^spec\.gates\.goldenQueries\[named\]\.query: Qdrant refused the query on \S+: Wrong input: Not existing vector name error: image$/);
    });

    test("a point id green does not hold (yet) fails the row and is not fatal: a pipeline may still upsert it", async () => {
      const e = await evaluateGates(api, { requireGreen: false, goldenQueries: [{ name: "missing", query: { query: 999_999 } }] }, { green: greenSame, active: null });
      assert.equal(e.fatal, undefined);
      assert.equal(e.allPassed, false);
      assert.equal(e.results[0]?.passed, false);
      assert.equal(e.results[0]?.observed, "not found");
      assert.match(e.results[0]?.message ?? "", new RegExp(`^${greenSame}: Not found: `));
    });

    test("expectedIds instead of the active collection: all found, half found, fewer than topK", async () => {
      const top = nearest(BLUE, QUERIED, 10);
      const all = await evaluateGates(api, { requireGreen: false, goldenQueries: [byId("expected", { expectedIds: top.map(Number) })] }, { green: greenSame, active: null });
      assert.deepEqual(all.results, [{ name: "goldenQuery/expected", passed: true, observed: "overlap 1.00 (10/10)", threshold: "≥ 0.80", message: `${greenSame}'s top 10 holds 10 of the 10 expected ids` }]);
      const half = [...top.slice(0, 5), "900001", "900002", "900003", "900004", "900005"];
      const halfRow = (await evaluateGates(api, { requireGreen: false, goldenQueries: [byId("expected", { expectedIds: half })] }, { green: greenSame, active: blue })).results[0];
      assert.equal(halfRow?.passed, false);
      assert.equal(halfRow?.observed, "overlap 0.50 (5/10)");
      assert.match(halfRow?.message ?? "", /missing: 900001, 900002, 900003, 900004, 900005$/);
      const three = await evaluateGates(api, { requireGreen: false, goldenQueries: [byId("expected", { expectedIds: top.slice(0, 3), minOverlap: 1 })] }, { green: greenOther, active: blue });
      const shared = nearest(GREEN_OTHER, QUERIED, 10).filter((id) => top.slice(0, 3).includes(id)).length;
      assert.equal(three.results[0]?.observed, `overlap ${shared === 3 ? "1.00" : (Math.floor((shared * 100) / 3) / 100).toFixed(2)} (${shared}/3)`);
    });

    test("with no active collection a query still runs on green (a refusal is found now) and passes saying so", async () => {
      const e = await evaluateGates(api, { requireGreen: false, goldenQueries: [byId()] }, { green: greenSame, active: null });
      assert.deepEqual(e.results, [{ name: "goldenQuery/by-id", passed: true, observed: "10 points answered", threshold: "≥ 0.80", message: "no active collection to compare with" }]);
    });
  });

  describe("a distributed Qdrant", () => {
    test("the same golden query by id across 4 and 8 dims, each collection sharded over 3 peers", async (t) => {
      const [first] = needsDistributedQdrant(t);
      const peerApi = qdrantApi(first);
      const names: string[] = [];
      try {
        for (const [prefix, size, vs] of [["gates_d_blue4", 4, BLUE], ["gates_d_green8", 8, GREEN_SAME], ["gates_d_other8", 8, GREEN_OTHER]] as const) {
          const name = uniqueName(prefix);
          await peerApi.createCollection(name, { vectors: { size, distance: "Cosine" }, shard_number: 3 });
          names.push(name);
          await peerApi.upsert(name, points(vs));
        }
        const [dBlue = "", dGreen = "", dOther = ""] = names;
        const gates: Gates = { minPoints: POINTS, pointsWithinPercent: 0, goldenQueries: [byId()] };
        const same = await evaluateGates(peerApi, gates, { green: dGreen, active: dBlue });
        assert.equal(same.allPassed, true, JSON.stringify(same.results));
        assert.equal(rowOf(same, "goldenQuery/by-id")?.observed, "overlap 1.00 (10/10)");
        assert.equal((await evaluateGates(peerApi, gates, { green: dOther, active: dBlue })).allPassed, false);
      } finally {
        for (const name of names) await peerApi.deleteCollection(name);
      }
    });
  });

  describe("what is thrown, not turned into rows", () => {
    test("Qdrant unreachable", async () => {
      const dead = new QdrantApi({ url: `http://127.0.0.1:${await closedPort()}`, timeoutMs: 5_000 });
      await assert.rejects(evaluateGates(dead, { minPoints: 1, goldenQueries: [byId()] }, { green: greenSame, active: blue }), (err) => isOperatorError(err, "QDRANT_UNREACHABLE"));
    });

    test("a 5xx on a golden query is Qdrant's trouble, not a refusal", async (t) => {
      const { admin } = needsEmulatorFaults(t, "injects a 503 on one collection's query route");
      const fault = await admin.failNext({ method: "POST", path: `/collections/${greenSame}/points/query` }, 503, "Service internal error: shard is being recovered");
      try {
        await assert.rejects(evaluateGates(api, { requireGreen: false, goldenQueries: [byId()] }, { green: greenSame, active: blue }), (err) => {
          assert.ok(isOperatorError(err, "QDRANT_API_ERROR"), String(err));
          assert.match(err.message, /: 503 Service internal error: shard is being recovered$/);
          return true;
        });
      } finally {
        await admin.removeFault(fault.id);
      }
    });

    test("a stopped reconcile: its reason, no request", async () => {
      const stop = new AbortController();
      const reason = new Error("lost the lease");
      stop.abort(reason);
      await assert.rejects(evaluateGates(api, { minPoints: 1 }, { green: greenSame }, stop.signal), (err) => err === reason);
    });
  });

  describe("analysis after promotion", () => {
    test("green (now active) against the previous collection: agreeing passes, disagreeing fails", async () => {
      const ok = await evaluateAnalysis(api, [byId()], { active: greenSame, previous: blue });
      assert.equal(ok.allPassed, true);
      assert.equal(ok.results[0]?.observed, "overlap 1.00 (10/10)");
      const bad = await evaluateAnalysis(api, [byId()], { active: greenOther, previous: blue });
      assert.equal(bad.allPassed, false);
      assert.equal(bad.results[0]?.name, "goldenQuery/by-id");
    });

    test("no previous collection, or a deleted one: nothing to compare with; expectedIds still judge", async () => {
      const none = await evaluateAnalysis(api, [byId()], { active: greenSame, previous: null });
      assert.deepEqual(none.results[0]?.message, "nothing to compare with: there is no previous collection");
      assert.equal(none.allPassed, true);
      const gone = uniqueName("gates_previous_gone");
      assert.equal((await evaluateAnalysis(api, [byId()], { active: greenSame, previous: gone })).results[0]?.message, `nothing to compare with: there is no previous collection (${gone} no longer exists)`);
      const expected = await evaluateAnalysis(api, [byId("expected", { expectedIds: ["900001", "900002"] })], { active: greenSame, previous: null });
      assert.equal(expected.allPassed, false);
      assert.equal(expected.results[0]?.observed, "overlap 0.00 (0/2)");
      assert.deepEqual(await evaluateAnalysis(api, undefined, { active: greenSame, previous: blue }), { results: [], allPassed: true });
    });
  });
});
