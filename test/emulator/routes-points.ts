/**
 * Point routes: upsert (list and batch forms), retrieve, delete, payload updates, scroll, count, the
 * Query API (query-engine.ts) and the legacy search. Updates answer `acknowledged` unless `wait=true`
 * (Qdrant's default is `wait=false`, still with a 200); the emulator applies them synchronously either way.
 */
import type { Json } from "./collection-config.ts";
import { badRequest, formatError, notFound } from "./errors.ts";
import { QueryEngine } from "./query-engine.ts";
import { queryBool, readJsonObject } from "./http-util.ts";
import { parsePathPointId } from "./point-id.ts";
import { CollectionView, type PointInput, type UpdateResult } from "./points-service.ts";
import { isObject, resolvedCollection } from "./route-helpers.ts";
import { route, type Route, type RouteContext } from "./router.ts";

function view(ctx: RouteContext): CollectionView {
  return new CollectionView(ctx.cluster, ctx.peer, resolvedCollection(ctx));
}

function updated(ctx: RouteContext, r: UpdateResult): { ok: UpdateResult } {
  return { ok: { operation_id: r.operation_id, status: queryBool(ctx.query, "wait", false) ? "completed" : "acknowledged" } };
}

function intOr(v: unknown, dflt: number, field: string): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw formatError(`invalid value for \`${field}\``);
  return v;
}

function isNumberArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number");
}

/** The legacy `POST …/points/search` body (removed from the 1.19 spec, still routed by Qdrant). */
function runSearch(v: CollectionView, body: Json): Json[] {
  let using = "";
  let vector = body.vector;
  if (isObject(vector)) {
    using = typeof vector.name === "string" ? vector.name : "";
    vector = vector.vector;
  }
  if (!isNumberArray(vector)) throw formatError("missing field `vector`");
  if (body.limit === undefined) throw formatError("missing field `limit`");
  const threshold = typeof body.score_threshold === "number" ? body.score_threshold : undefined;
  return v.nearest(vector, using, {
    filter: body.filter,
    limit: intOr(body.limit, 10, "limit"),
    offset: intOr(body.offset, 0, "offset"),
    threshold,
    withPayload: body.with_payload ?? false,
    withVector: body.with_vector ?? false,
  });
}

function pointsOrFilter(v: CollectionView, body: Json): string[] {
  if (Array.isArray(body.points)) return v.selectKeys({ points: body.points });
  if (body.filter !== undefined && body.filter !== null) return v.selectKeys({ filter: body.filter });
  throw badRequest("Either list of point ids or filter must be provided");
}

export function pointRoutes(): Route[] {
  const base = "/collections/{collection_name}/points";
  return [
    route("PUT", base, "write", async (ctx) => {
      const v = view(ctx);
      const body = await readJsonObject(ctx.req);
      let points: PointInput[];
      if (Array.isArray(body.points)) points = body.points as PointInput[];
      else if (body.batch !== undefined) points = CollectionView.batchToPoints(body.batch);
      else throw formatError("data did not match any variant of untagged enum PointInsertOperations");
      return updated(ctx, v.upsert(points));
    }),
    route("POST", base, "read", async (ctx) => {
      const v = view(ctx);
      const body = await readJsonObject(ctx.req);
      if (!Array.isArray(body.ids)) throw formatError("missing field `ids`");
      return { ok: v.retrieve(body.ids, body.with_payload ?? true, body.with_vector ?? false) };
    }),
    route("GET", `${base}/{id}`, "read", (ctx) => {
      const v = view(ctx);
      const raw = ctx.params.id ?? "";
      const id = parsePathPointId(raw);
      if (id === undefined) throw notFound(`No point with id ${raw} found`);
      return Promise.resolve({ ok: v.getOne(id, raw) });
    }),
    route("POST", `${base}/delete`, "write", async (ctx) => {
      const v = view(ctx);
      return updated(ctx, v.deletePoints(v.selectKeys(await readJsonObject(ctx.req))));
    }),
    route("POST", `${base}/payload`, "write", async (ctx) => {
      const v = view(ctx);
      const body = await readJsonObject(ctx.req);
      if (!isObject(body.payload)) throw formatError("missing field `payload`");
      const patch = body.payload;
      const key = typeof body.key === "string" ? body.key : undefined;
      return updated(ctx, v.updatePayloads(pointsOrFilter(v, body), (p) => {
        if (key === undefined) return { ...p, ...patch };
        const nested = isObject(p[key]) ? p[key] : {};
        return { ...p, [key]: { ...nested, ...patch } };
      }));
    }),
    route("PUT", `${base}/payload`, "write", async (ctx) => {
      const v = view(ctx);
      const body = await readJsonObject(ctx.req);
      if (!isObject(body.payload)) throw formatError("missing field `payload`");
      const payload = body.payload;
      return updated(ctx, v.updatePayloads(pointsOrFilter(v, body), () => structuredClone(payload)));
    }),
    route("POST", `${base}/payload/delete`, "write", async (ctx) => {
      const v = view(ctx);
      const body = await readJsonObject(ctx.req);
      if (!Array.isArray(body.keys)) throw formatError("missing field `keys`");
      const keys = body.keys.map(String);
      return updated(ctx, v.updatePayloads(pointsOrFilter(v, body), (p) => {
        for (const k of keys) delete p[k];
        return p;
      }));
    }),
    route("POST", `${base}/payload/clear`, "write", async (ctx) => {
      const v = view(ctx);
      return updated(ctx, v.updatePayloads(v.selectKeys(await readJsonObject(ctx.req)), () => ({})));
    }),
    route("POST", `${base}/scroll`, "read", async (ctx) => {
      const v = view(ctx);
      const body = await readJsonObject(ctx.req);
      if (body.limit !== undefined && body.limit !== null && body.limit === 0) {
        throw formatError("invalid value: integer `0`, expected a nonzero usize");
      }
      return { ok: v.scroll(body) };
    }),
    route("POST", `${base}/count`, "read", async (ctx) => {
      const v = view(ctx);
      const body = await readJsonObject(ctx.req);
      return { ok: { count: v.count(body.filter) } };
    }),
    route("POST", `${base}/query`, "read", async (ctx) => {
      const v = view(ctx);
      return { ok: { points: new QueryEngine(v).run(await readJsonObject(ctx.req)) } };
    }),
    route("POST", `${base}/query/batch`, "read", async (ctx) => {
      const v = view(ctx);
      const body = await readJsonObject(ctx.req);
      if (!Array.isArray(body.searches)) throw formatError("missing field `searches`");
      return { ok: body.searches.map((s) => ({ points: new QueryEngine(v).run(isObject(s) ? s : {}) })) };
    }),
    route("POST", `${base}/search`, "read", async (ctx) => {
      const v = view(ctx);
      return { ok: runSearch(v, await readJsonObject(ctx.req)) };
    }),
  ];
}
