/**
 * The gates, asked of Qdrant: one evaluation of spec.gates against green (and the active collection), and
 * one of the golden queries after promotion (green, now active, against the previous collection). The
 * rows come from the pure functions in counts.ts and golden.ts; this module only asks and sorts what
 * Qdrant answered into three kinds:
 *
 * - an answer: a row, passing or failing with its numbers;
 * - a refusal of a golden query (400/422: a vector of the wrong dimension, an unknown `using`, a body
 *   Qdrant cannot parse): waiting cannot fix it, so the evaluation is `fatal` GoldenQueryRefused naming
 *   `spec.gates.goldenQueries[<name>].query` with Qdrant's words, and the rollout fails at once;
 *   a 404 on a golden query (a point queried by id that a collection does not hold yet) is a failing row:
 *   an external pipeline may still upsert it;
 * - anything else (Qdrant unreachable, a 5xx, a refused key, a stopped reconcile): thrown, no rows. The
 *   controller keeps the last rows, waits with the connection's words and evaluates again; gates.timeout
 *   still runs.
 *
 * Rows come in the spec's order, only for the gates it sets: minPoints, pointsWithinPercent,
 * requireGreen (on unless `requireGreen: false`, also when spec.gates is absent), then one row per golden
 * query. The gate Job is not evaluated here: it runs once these all pass (gate-job.ts).
 *
 * An active (or previous) collection that no longer exists is no collection to compare with: its rows
 * pass saying so (Qdrant deletes a collection's aliases with it, so nobody queries it any more).
 * Comparing with it is looked up once per evaluation (collectionExists).
 */
import { ERROR_CODES } from "../../../errors.ts";
import type { QdrantApi } from "../../../qdrant/client.ts";
import { qdrantAnswer } from "../../../qdrant/rest.ts";
import type { CollectionRolloutSpec } from "../../../api/v1alpha1/rollout.ts";
import type { GateEvaluation } from "../steps.ts";
import { minPointsRow, pointsWithinPercentRow, requireGreenRow } from "./counts.ts";
import {
  answerIds,
  expectedIdsOf,
  expectedRow,
  goldenQueryBody,
  notFoundRow,
  nothingToCompareRow,
  overlapRow,
  refusedRow,
  type Answer,
  type GoldenQuery,
} from "./golden.ts";
import type { GateResult } from "./types.ts";

export type Gates = NonNullable<CollectionRolloutSpec["gates"]>;

/** Golden queries in flight at once (each is two queries: green's and the reference's). */
const QUERY_CONCURRENCY = 4;

/** What is compared: green, and the collection its answers are held against (none: null/undefined). */
export interface GateCollections {
  green: string;
  /** status.activeCollection (blue); null or undefined when the alias did not exist. */
  active?: string | null | undefined;
}

/** After promotion: green is the active one, compared with the previous collection. */
export interface AnalysisCollections {
  active: string;
  previous?: string | null | undefined;
}

/** The collection golden queries are compared with, or why there is none. */
type Reference = { collection: string } | { none: string };

/** One evaluation of the pre-promotion gates (not the gate Job). Throws when Qdrant did not answer. */
export async function evaluateGates(api: QdrantApi, gates: Gates | undefined, collections: GateCollections, signal?: AbortSignal): Promise<GateEvaluation> {
  const q = api.withSignal(signal);
  const g = gates ?? {};
  const { green } = collections;
  const golden = g.goldenQueries ?? [];
  const comparesWithActive = g.pointsWithinPercent !== undefined || golden.some((x) => expectedIdsOf(x) === undefined);
  const reference = comparesWithActive ? await referenceFor(q, collections.active, "no active collection to compare with") : { none: "" };
  const needsGreenCount = g.minPoints !== undefined || g.pointsWithinPercent !== undefined;

  const [greenPoints, activePoints, info, goldenResults] = await Promise.all([
    needsGreenCount ? q.count(green) : undefined,
    g.pointsWithinPercent !== undefined && "collection" in reference ? q.count(reference.collection) : undefined,
    g.requireGreen !== false ? q.collectionInfo(green) : undefined,
    runGolden(q, golden, green, reference),
  ]);

  const rows: GateResult[] = [];
  if (g.minPoints !== undefined) rows.push(minPointsRow({ collection: green, points: greenPoints ?? 0 }, g.minPoints));
  if (g.pointsWithinPercent !== undefined) {
    const other = "collection" in reference ? { collection: reference.collection, points: activePoints ?? 0 } : reference;
    rows.push(pointsWithinPercentRow({ collection: green, points: greenPoints ?? 0 }, other, g.pointsWithinPercent));
  }
  if (info) rows.push(requireGreenRow(green, { status: info.status, optimizerStatus: info.optimizer_status }));
  return finish(rows, goldenResults);
}

/**
 * One evaluation of the golden queries after promotion: `active` (green, now behind the alias) against
 * `previous`; queries with expectedIds against those. With no previous collection (none recorded, or
 * deleted) a query without expectedIds still runs on the active one and passes "nothing to compare with".
 */
export async function evaluateAnalysis(api: QdrantApi, goldenQueries: readonly GoldenQuery[] | undefined, collections: AnalysisCollections, signal?: AbortSignal): Promise<GateEvaluation> {
  const q = api.withSignal(signal);
  const golden = goldenQueries ?? [];
  const comparesWithPrevious = golden.some((x) => expectedIdsOf(x) === undefined);
  const reference = comparesWithPrevious ? await referenceFor(q, collections.previous, "nothing to compare with: there is no previous collection") : { none: "" };
  return finish([], await runGolden(q, golden, collections.active, reference));
}

interface GoldenResult {
  row: GateResult;
  /** Set when Qdrant refused the query. */
  refused?: string;
}

function finish(rows: GateResult[], golden: GoldenResult[]): GateEvaluation {
  const all = [...rows, ...golden.map((r) => r.row)];
  const refused = golden.find((r) => r.refused !== undefined)?.refused;
  return {
    results: all,
    allPassed: refused === undefined && all.every((r) => r.passed),
    ...(refused !== undefined ? { fatal: { reason: ERROR_CODES.GOLDEN_QUERY_REFUSED.reason, message: refused } } : {}),
  };
}

async function referenceFor(q: QdrantApi, collection: string | null | undefined, none: string): Promise<Reference> {
  if (!collection) return { none };
  return (await q.collectionExists(collection)) ? { collection } : { none: `${none} (${collection} no longer exists)` };
}

/** Every golden query's row, in the spec's order, a few at a time. */
async function runGolden(q: QdrantApi, golden: readonly GoldenQuery[], green: string, reference: Reference): Promise<GoldenResult[]> {
  const out: GoldenResult[] = new Array<GoldenResult>(golden.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < golden.length; i = next++) out[i] = await oneGolden(q, golden[i] as GoldenQuery, green, reference);
  };
  await Promise.all(Array.from({ length: Math.min(QUERY_CONCURRENCY, golden.length) }, worker));
  return out;
}

/** What a query's call came to: the answer's ids, or Qdrant's words for a refusal or a 404. */
type Asked = { ids: string[] } | { refused: string } | { notFound: string };

async function ask(q: QdrantApi, collection: string, query: GoldenQuery): Promise<Asked> {
  try {
    return { ids: answerIds(await q.query(collection, goldenQueryBody(query))) };
  } catch (err) {
    const answer = qdrantAnswerOf(err);
    if (answer?.kind === "refused") return { refused: answer.words };
    if (answer?.kind === "notFound") return { notFound: answer.words };
    throw err;
  }
}

async function oneGolden(q: QdrantApi, query: GoldenQuery, green: string, reference: Reference): Promise<GoldenResult> {
  const expected = expectedIdsOf(query);
  const other = expected === undefined && "collection" in reference ? reference.collection : undefined;
  // Both asked together; a failure to answer (thrown) of either ends the whole evaluation.
  const [mine, theirs] = await Promise.all([ask(q, green, query), other !== undefined ? ask(q, other, query) : undefined]);
  if ("refused" in mine) return refused(refusedRow(query, green, mine.refused, "green"));
  if (theirs !== undefined && other !== undefined) {
    if ("refused" in theirs) return refused(refusedRow(query, other, theirs.refused, "reference"));
    if ("notFound" in mine) return { row: notFoundRow(query, green, mine.notFound) };
    if ("notFound" in theirs) return { row: notFoundRow(query, other, theirs.notFound) };
    return { row: overlapRow(query, { collection: green, ids: mine.ids }, { collection: other, ids: theirs.ids }) };
  }
  if ("notFound" in mine) return { row: notFoundRow(query, green, mine.notFound) };
  const greenAnswer: Answer = { collection: green, ids: mine.ids };
  if (expected !== undefined) return { row: expectedRow(query, greenAnswer, expected) };
  return { row: nothingToCompareRow(query, greenAnswer, "none" in reference ? reference.none : "nothing to compare with") };
}

function refused(r: { row: GateResult; message: string }): GoldenResult {
  return { row: r.row, refused: r.message };
}

/**
 * Qdrant's answer inside a coded error from the adapter, when it was one a golden query can cause:
 * 400/422 (refused) or 404 (not found), with Qdrant's own words as the adapter keeps them beside its
 * message (src/qdrant/rest.ts qdrantAnswer). A 429 (rate limit) and everything else are not refusals:
 * retried.
 */
export function qdrantAnswerOf(err: unknown): { kind: "refused" | "notFound"; words: string } | undefined {
  const answer = qdrantAnswer(err);
  if (answer?.status === 400 || answer?.status === 422) return { kind: "refused", words: answer.words };
  if (answer?.status === 404) return { kind: "notFound", words: answer.words };
  return undefined;
}
