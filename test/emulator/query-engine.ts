/**
 * The Query API (`POST …/points/query`, one request of `…/query/batch`) over a {@link CollectionView}:
 * nearest by vector or by point id, `using`, `filter`, `score_threshold`, `limit`/`offset`,
 * `with_payload`/`with_vector`, and `prefetch` (nested, each with its own `limit`) merged by a nearest
 * rescoring or by `rrf`/`dbsf` fusion. The structure follows Qdrant's `CollectionQueryRequest`
 * (lib/collection/src/operations/universal_query/collection_query.rs):
 * - `validation` runs for the request and for every prefetch: prefetches need a query, a
 *   `score_threshold` needs a query, a fusion cannot have `using` (400 `Bad request: …`, texts verbatim);
 * - `try_into_shard_request` excludes every point id the query refers to (root and nested nearest-by-id
 *   on this collection) with a `must_not has_id` merged into the root filter, so querying by a point's id
 *   never returns that point;
 * - the root filter restricts every prefetch and a prefetch's filter its sub-prefetches: Qdrant's planner
 *   (lib/shard/src/query/planned_query.rs, `recurse_prefetches`) merges each filter into the leaves;
 * - `offset` applies at the root only (a prefetch has none); a prefetch's `limit` defaults to 10.
 * Recommend, discover, context, order_by, formula, sample, mmr and `lookup_from` are refused with a
 * 400 naming the emulator (README: what the Query API covers).
 */
import type { Json } from "./collection-config.ts";
import { badInput, badRequest, formatError, notFound } from "./errors.ts";
import { matchesFilter } from "./filter.ts";
import { compareKeys, parsePointId, pointKey, type PointId } from "./point-id.ts";
import type { StoredPoint } from "./point-format.ts";
import type { CollectionView, ScoredCandidate } from "./points-service.ts";
import { dbsf, DEFAULT_RRF_K, rrf } from "./score-fusion.ts";

type ParsedQuery =
  | { kind: "none" }
  | { kind: "vector"; vector: number[] }
  | { kind: "id"; id: PointId }
  | { kind: "rrf"; k: number; weights: number[] | undefined }
  | { kind: "dbsf" };

type Accept = (key: string, point: StoredPoint) => boolean;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isNumberArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number");
}

function intOr(v: unknown, dflt: number, field: string): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw formatError(`invalid value for \`${field}\``);
  return v;
}

function unsupported(what: string): never {
  throw badRequest(`${what} is not supported by the Qdrant emulator`);
}

/** A VectorInput: a dense vector or a point id (number or UUID string). */
function parseVectorInput(v: unknown): ParsedQuery {
  if (isNumberArray(v)) return { kind: "vector", vector: v };
  if (typeof v === "number" || typeof v === "string") return { kind: "id", id: parsePointId(v) };
  return unsupported("this vector input (sparse, multi-vector, document or image)");
}

export function parseQuery(q: unknown): ParsedQuery {
  if (q === undefined || q === null) return { kind: "none" };
  if (!isObject(q)) return parseVectorInput(q);
  if ("nearest" in q) {
    if (q.mmr !== undefined && q.mmr !== null) unsupported("mmr");
    return parseVectorInput(q.nearest);
  }
  if ("fusion" in q) {
    if (q.fusion === "rrf") return { kind: "rrf", k: DEFAULT_RRF_K, weights: undefined };
    if (q.fusion === "dbsf") return { kind: "dbsf" };
    throw formatError(`unknown variant \`${String(q.fusion)}\`, expected \`rrf\` or \`dbsf\``);
  }
  if ("rrf" in q) {
    const params = isObject(q.rrf) ? q.rrf : {};
    const k = params.k === undefined || params.k === null ? DEFAULT_RRF_K : Number(params.k);
    const weights = Array.isArray(params.weights) ? params.weights.map(Number) : undefined;
    return { kind: "rrf", k, weights };
  }
  return unsupported(`query \`${Object.keys(q)[0] ?? "{}"}\``);
}

function prefetchList(v: unknown): Json[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map((p) => (isObject(p) ? p : {}));
}

/** Qdrant's `CollectionQueryRequest::validation`, applied to the request and to each prefetch. */
function validate(node: Json, query: ParsedQuery, prefetches: Json[]): void {
  if (prefetches.length > 0 && query.kind === "none") {
    throw badRequest("A query is needed to merge the prefetches. Can't have prefetches without defining a query.");
  }
  if (node.score_threshold !== undefined && node.score_threshold !== null && query.kind === "none") {
    throw badRequest("A query is needed to use the score_threshold. Can't have score_threshold without defining a query.");
  }
  const using = typeof node.using === "string" ? node.using : "";
  if ((query.kind === "rrf" || query.kind === "dbsf") && using !== "") {
    throw badRequest("Fusion queries cannot be combined with the 'using' field.");
  }
  if (node.lookup_from !== undefined && node.lookup_from !== null) unsupported("lookup_from");
}

/** Ids the request's nearest-by-id queries refer to, root and nested (`get_referenced_point_ids_on_collection`). */
function referencedIds(node: Json): PointId[] {
  const q = parseQuery(node.query);
  const own = q.kind === "id" ? [q.id] : [];
  return [...own, ...prefetchList(node.prefetch).flatMap(referencedIds)];
}

export class QueryEngine {
  private readonly view: CollectionView;

  constructor(view: CollectionView) {
    this.view = view;
  }

  /** One QueryRequest → ScoredPoint[] (the `points` of the answer). */
  run(body: Json): Json[] {
    const limit = intOr(body.limit, 10, "limit");
    const offset = intOr(body.offset, 0, "offset");
    const excluded = new Set(referencedIds(body).map((id) => pointKey(id)));
    const notReferenced: Accept = (key) => !excluded.has(key);
    const found = this.evaluate(body, [notReferenced], limit + offset);
    const withPayload = body.with_payload ?? false;
    const withVector = body.with_vector ?? body.with_vectors ?? false;
    return found.slice(offset).map((r) => this.view.scoredOut(r.key, r.point, r.version, r.score, withPayload, withVector));
  }

  /** Evaluates a request or prefetch node: its best `limit` candidates, best first. */
  private evaluate(node: Json, inherited: Accept[], limit: number): ScoredCandidate[] {
    const query = parseQuery(node.query);
    const prefetches = prefetchList(node.prefetch);
    validate(node, query, prefetches);
    const accepts = [...inherited];
    if (node.filter !== undefined && node.filter !== null) {
      const filter = node.filter;
      accepts.push((key, point) => matchesFilter(filter, { key, payload: point.payload, vectorNames: Object.keys(point.vector) }));
    }
    const accept: Accept = (key, point) => accepts.every((a) => a(key, point));
    const using = typeof node.using === "string" ? node.using : "";
    const threshold = typeof node.score_threshold === "number" ? node.score_threshold : undefined;
    const sources = prefetches.map((p) => this.evaluate(p, accepts, intOr(p.limit, 10, "limit")));

    switch (query.kind) {
      case "none":
        return this.inIdOrder(accept, limit);
      case "rrf":
      case "dbsf": {
        // Both are `OperationError::ValidationError` ("Validation failed: …"), a BadInput once converted:
        // the planner's (lib/shard/src/query/planned_query.rs) and `rrf_scoring`'s.
        if (prefetches.length === 0) throw badInput("Validation failed: cannot apply Fusion without prefetches");
        if (query.kind === "rrf" && query.weights !== undefined && query.weights.length !== sources.length) {
          throw badInput(
            `Validation failed: Number of weights in RRF should match number of pre-fetches: got ${query.weights.length}, expected ${sources.length}`,
          );
        }
        const fused = query.kind === "rrf" ? rrf(sources, query.k, query.weights, compareKeys) : dbsf(sources, compareKeys);
        // A fused score is "larger is better" whatever the sources' metrics were; `fusion_rescore`
        // (lib/collection/src/shards/local_shard/query.rs) keeps `score >= score_threshold`.
        return fused.filter((r) => threshold === undefined || r.score >= threshold).slice(0, limit);
      }
      case "vector":
      case "id": {
        const vector = query.kind === "vector" ? query.vector : this.storedVector(query.id, using);
        // With prefetches the query rescores their union; without, it searches the whole collection.
        const keys = prefetches.length > 0 ? [...new Set(sources.flat().map((r) => r.key))] : undefined;
        return this.view.scoreNearest(vector, using, keys, accept, threshold).slice(0, limit);
      }
    }
  }

  private inIdOrder(accept: Accept, limit: number): ScoredCandidate[] {
    const out: ScoredCandidate[] = [];
    for (const key of this.view.allKeys()) {
      if (out.length >= limit) break;
      const rec = this.view.readWithVersion(key);
      if (rec !== undefined && accept(key, rec.point)) out.push({ key, point: rec.point, version: rec.version, score: 0 });
    }
    return out;
  }

  /**
   * The vector a nearest-by-id query searches with: the point's own vector named `using`. Qdrant
   * resolves references through `ReferencedVectors::resolve_reference` (lib/collection/src/common/
   * fetch_vectors.rs); a missing point and a point without that vector both yield `None`, which
   * `vector_not_found_error` turns into `CollectionError::NotFound` ("{what} not found") naming the vector
   * with Rust's `{:?}`, so both answer 404 `Not found: Vector with name "" for point not found`.
   */
  private storedVector(id: PointId, using: string): number[] {
    const stored = this.view.readPoint(pointKey(id))?.vector[using];
    if (!Array.isArray(stored)) throw notFound(`Vector with name ${JSON.stringify(using)} for point not found`);
    return stored as number[];
  }
}
