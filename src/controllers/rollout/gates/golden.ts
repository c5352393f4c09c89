/**
 * Golden queries, the pure half: the body sent to Qdrant, and the row a pair of answers (or an answer and
 * `expectedIds`) makes. evaluate.ts asks Qdrant; everything it decides from the answers is here, so the
 * numbers a user reads in `status.gates` are tested without a Qdrant.
 *
 * The same body goes to both collections, with `limit: topK` and no payloads or vectors (only the ids are
 * compared, and a large payload would only slow the gate down). Ids are compared as strings: Qdrant's ids
 * are unsigned integers or UUIDs, and `expectedIds` in YAML may hold either spelling of an integer.
 *
 * A query by point id (`"query": 42`) is answered by each collection with its own stored vector of point
 * 42, so it compares neighbourhoods across embedding models of different sizes (a 4-dim blue and an
 * 8-dim green); a literal query vector fits one model only, and Qdrant refuses it on the other
 * (GoldenQueryRefused, fatal: waiting cannot fix a vector's size).
 *
 * The overlap of two answers is the share of ids they have in common over the longer of the two (at most
 * topK): two collections that both hold fewer than topK matching points and return the same ones agree
 * fully, while a green that returns fewer than the active one is short by what it misses. With
 * `expectedIds` it is the share of those ids found in green's top-k, over min(topK, their number).
 */
import type { CollectionRolloutSpec } from "../../../api/v1alpha1/rollout.ts";
import type { QueryRequest, QueryResponse } from "../../../qdrant/client.ts";
import type { GateResult } from "./types.ts";

export type GoldenQuery = NonNullable<NonNullable<CollectionRolloutSpec["gates"]>["goldenQueries"]>[number];

export const DEFAULT_TOP_K = 10;
export const DEFAULT_MIN_OVERLAP = 0.8;
/** How many ids a failing row lists as missing. */
const LISTED_IDS = 5;

/** The row's name in status.gates and status.analysis.results. */
export function goldenRowName(name: string): string {
  return `goldenQuery/${name}`;
}

/** The field a refused query is reported under. */
export function goldenQueryField(name: string): string {
  return `spec.gates.goldenQueries[${name}].query`;
}

export function topKOf(q: GoldenQuery): number {
  return q.topK ?? DEFAULT_TOP_K;
}

export function minOverlapOf(q: GoldenQuery): number {
  return q.minOverlap ?? DEFAULT_MIN_OVERLAP;
}

/** The ids to compare with instead of another collection's answer; undefined when there are none (an empty list is none). */
export function expectedIdsOf(q: GoldenQuery): string[] | undefined {
  if (!q.expectedIds || q.expectedIds.length === 0) return undefined;
  return [...new Set(q.expectedIds.map(String))];
}

/** The user's QueryRequest with `limit: topK`, no payload and no vectors (those three always win). */
export function goldenQueryBody(q: GoldenQuery): QueryRequest {
  return { ...(q.query as QueryRequest), limit: topKOf(q), with_payload: false, with_vector: false };
}

/** An answer's ids, best first, as strings. */
export function answerIds(answer: QueryResponse): string[] {
  return answer.points.map((p) => String(p.id));
}

/** One collection's answer: its name and its ids. */
export interface Answer {
  collection: string;
  ids: string[];
}

/** Whether `found` of `of` reaches `min` (a share); exact shares such as 8/10 ≥ 0.8 pass despite floating point. */
function reaches(found: number, of: number, min: number): boolean {
  return found + 1e-9 >= min * of;
}

/** A threshold share as the rows show it: two decimals, more only when two would misstate it (0.855). */
export function formatShare(x: number): string {
  const two = x.toFixed(2);
  return Number(two) === x ? two : String(Math.round(x * 10_000) / 10_000);
}

/**
 * An observed share: two decimals, rounded down, so a failing 159/200 reads 0.79 beside its threshold 0.80
 * (and a passing one never reads below a two-decimal threshold).
 */
export function formatObservedShare(found: number, of: number): string {
  return (Math.floor((found * 100) / of + 1e-9) / 100).toFixed(2);
}

const idsWord = (n: number): string => (n === 1 ? "id" : "ids");

function listIds(ids: string[]): string {
  const shown = ids.slice(0, LISTED_IDS).join(", ");
  return ids.length > LISTED_IDS ? `${shown} and ${ids.length - LISTED_IDS} more` : shown;
}

function row(q: GoldenQuery, found: number, of: number, message: string): GateResult {
  return {
    name: goldenRowName(q.name),
    passed: of === 0 || reaches(found, of, minOverlapOf(q)),
    observed: `overlap ${of === 0 ? "1.00" : formatObservedShare(found, of)} (${found}/${of})`,
    threshold: `≥ ${formatShare(minOverlapOf(q))}`,
    message,
  };
}

/** Green's top-k against the reference collection's (the active one before promotion, the previous one after). */
export function overlapRow(q: GoldenQuery, green: Answer, reference: Answer): GateResult {
  const greenIds = new Set(green.ids);
  const shared = reference.ids.filter((id) => greenIds.has(id));
  const of = Math.min(topKOf(q), Math.max(green.ids.length, reference.ids.length));
  const found = Math.min(shared.length, of);
  if (of === 0) return row(q, 0, 0, `${green.collection} and ${reference.collection} both answer no points`);
  const result = row(q, found, of, `${green.collection}'s top ${of} shares ${found} ${idsWord(found)} with ${reference.collection}'s`);
  if (result.passed) return result;
  const missing = reference.ids.filter((id) => !greenIds.has(id));
  return { ...result, message: `${result.message}; not in ${green.collection}'s answer: ${missing.length > 0 ? listIds(missing) : "(none)"}` };
}

/** Green's top-k against `expectedIds` (deduplicated, as strings: expectedIdsOf). */
export function expectedRow(q: GoldenQuery, green: Answer, expected: string[]): GateResult {
  const greenIds = new Set(green.ids);
  const hit = expected.filter((id) => greenIds.has(id));
  const of = Math.min(topKOf(q), expected.length);
  const found = Math.min(hit.length, of);
  const result = row(q, found, of, `${green.collection}'s top ${topKOf(q)} holds ${found} of the ${of} expected ${idsWord(of)}`);
  if (result.passed) return result;
  return { ...result, message: `${result.message}; missing: ${listIds(expected.filter((id) => !greenIds.has(id)))}` };
}

/** Green answered, and there is nothing to compare it with (no active or previous collection): the row passes. */
export function nothingToCompareRow(q: GoldenQuery, green: Answer, why: string): GateResult {
  return { name: goldenRowName(q.name), passed: true, observed: `${green.ids.length} points answered`, threshold: `≥ ${formatShare(minOverlapOf(q))}`, message: why };
}

/** Qdrant answered 404 (a point queried by id that a collection does not hold, or the collection is gone): fails, and may pass later. */
export function notFoundRow(q: GoldenQuery, collection: string, words: string): GateResult {
  return { name: goldenRowName(q.name), passed: false, observed: "not found", threshold: `≥ ${formatShare(minOverlapOf(q))}`, message: `${collection}: ${words}` };
}

/** Qdrant refused the query (4xx): the row fails, and the evaluation is fatal with this message. */
export function refusedRow(q: GoldenQuery, collection: string, words: string, role: "green" | "reference"): { row: GateResult; message: string } {
  const hint =
    role === "reference" ? "; a query vector fits one embedding model: query by point id (\"query\": 42) or set expectedIds to compare collections whose vectors differ" : "";
  const message = `${goldenQueryField(q.name)}: Qdrant refused the query on ${collection}: ${words}${hint}`;
  return { row: { name: goldenRowName(q.name), passed: false, observed: "refused", threshold: `≥ ${formatShare(minOverlapOf(q))}`, message }, message };
}
