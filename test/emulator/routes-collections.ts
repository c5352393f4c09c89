/**
 * Collection and alias routes. Alias changes follow Qdrant's exact semantics: actions run in order and each
 * is committed as it runs (not transactional), `create_alias` silently re-points an existing alias, an alias
 * may not take a collection's name, and deleting a collection deletes its aliases.
 */
import type { Cluster } from "./cluster.ts";
import { applyCollectionUpdate, buildCollectionConfig, checkStrictCollectionName } from "./collection-config.ts";
import { collectionExists, collectionNotFound, formatError, notFound } from "./errors.ts";
import { queryBool, readJsonObject } from "./http-util.ts";
import { CollectionView } from "./points-service.ts";
import { collectionParam, isObject, resolvedCollection } from "./route-helpers.ts";
import { route, type Route, type RouteContext } from "./router.ts";

function collectionInfo(ctx: RouteContext, name: string): unknown {
  const meta = ctx.cluster.meta(name);
  const view = new CollectionView(ctx.cluster, ctx.peer, name);
  const points = view.count();
  const payloadSchema: Record<string, unknown> = {};
  for (const [field, info] of Object.entries(meta.payloadSchema)) {
    payloadSchema[field] = { ...info, points: points - view.count({ must: [{ is_empty: { key: field } }] }) };
  }
  return {
    ...ctx.cluster.collectionHealth.report(name),
    indexed_vectors_count: 0,
    points_count: points,
    segments_count: meta.config.params.shard_number * 2,
    config: meta.config,
    payload_schema: payloadSchema,
  };
}

function aliasList(cluster: Cluster, only?: string): Array<{ alias_name: string; collection_name: string }> {
  return Object.entries(cluster.state.aliases)
    .filter(([, target]) => only === undefined || target === only)
    .sort(([a1, c1], [a2, c2]) => (c1 === c2 ? (a1 < a2 ? -1 : 1) : c1 < c2 ? -1 : 1))
    .map(([alias_name, collection_name]) => ({ alias_name, collection_name }));
}

/** Runs alias actions one by one; an error stops the list but earlier actions stay applied. */
function changeAliases(cluster: Cluster, body: Record<string, unknown>): boolean {
  if (!Array.isArray(body.actions)) throw formatError("missing field `actions`");
  for (const action of body.actions as unknown[]) {
    if (!isObject(action)) throw formatError("data did not match any variant of untagged enum AliasOperations");
    if (isObject(action.create_alias)) {
      const { collection_name: target, alias_name: alias } = action.create_alias;
      if (typeof target !== "string" || typeof alias !== "string") throw formatError("missing field `alias_name`");
      if (!(target in cluster.state.collections)) throw collectionNotFound(target);
      if (alias in cluster.state.collections) throw collectionExists(alias);
      cluster.commit((s) => {
        s.aliases[alias] = target;
      });
    } else if (isObject(action.delete_alias)) {
      const alias = action.delete_alias.alias_name;
      if (typeof alias !== "string") throw formatError("missing field `alias_name`");
      if (alias in cluster.state.aliases) {
        cluster.commit((s) => {
          delete s.aliases[alias];
        });
      }
    } else if (isObject(action.rename_alias)) {
      const { old_alias_name: from, new_alias_name: to } = action.rename_alias;
      if (typeof from !== "string" || typeof to !== "string") throw formatError("missing field `old_alias_name`");
      const target = cluster.state.aliases[from];
      if (target === undefined) throw notFound(`Alias ${from} does not exists!`);
      cluster.commit((s) => {
        delete s.aliases[from];
        s.aliases[to] = target;
      });
    } else {
      throw formatError("data did not match any variant of untagged enum AliasOperations");
    }
  }
  return true;
}

function fieldIndex(body: Record<string, unknown>): { field: string; info: Record<string, unknown> } {
  if (typeof body.field_name !== "string") throw formatError("missing field `field_name`");
  const schema = body.field_schema;
  if (typeof schema === "string") return { field: body.field_name, info: { data_type: schema } };
  if (isObject(schema) && typeof schema.type === "string") {
    return { field: body.field_name, info: { data_type: schema.type, params: schema } };
  }
  // Qdrant infers a type from stored values when none is given; keyword is the common case.
  return { field: body.field_name, info: { data_type: "keyword" } };
}

export function collectionRoutes(): Route[] {
  return [
    route("GET", "/collections", "read", (ctx) =>
      Promise.resolve({ ok: { collections: Object.keys(ctx.cluster.state.collections).sort().map((name) => ({ name })) } }),
    ),
    route("GET", "/collections/{collection_name}", "read", (ctx) => Promise.resolve({ ok: collectionInfo(ctx, resolvedCollection(ctx)) })),
    route("PUT", "/collections/{collection_name}", "write", async (ctx) => {
      const name = ctx.params.collection_name ?? "";
      checkStrictCollectionName(name);
      const body = await readJsonObject(ctx.req);
      const config = buildCollectionConfig(body, ctx.cluster.distributed ? ctx.cluster.peers.length : 1);
      ctx.cluster.createCollection(name, config);
      return { ok: true };
    }),
    route("PATCH", "/collections/{collection_name}", "write", async (ctx) => {
      const name = resolvedCollection(ctx);
      const body = await readJsonObject(ctx.req);
      const next = applyCollectionUpdate(ctx.cluster.meta(name).config, body);
      ctx.cluster.commit((s) => {
        const meta = s.collections[name];
        if (meta !== undefined) meta.config = next;
      });
      return { ok: true };
    }),
    route("DELETE", "/collections/{collection_name}", "write", (ctx) =>
      Promise.resolve({ ok: ctx.cluster.deleteCollection(collectionParam(ctx)) }),
    ),
    route("GET", "/collections/{collection_name}/exists", "read", (ctx) => {
      const name = collectionParam(ctx);
      let exists = true;
      try {
        ctx.cluster.resolve(name);
      } catch {
        exists = false;
      }
      return Promise.resolve({ ok: { exists } });
    }),
    route("POST", "/collections/aliases", "write", async (ctx) => ({ ok: changeAliases(ctx.cluster, await readJsonObject(ctx.req)) })),
    route("GET", "/aliases", "read", (ctx) => Promise.resolve({ ok: { aliases: aliasList(ctx.cluster) } })),
    route("GET", "/collections/{collection_name}/aliases", "read", (ctx) =>
      Promise.resolve({ ok: { aliases: aliasList(ctx.cluster, collectionParam(ctx)) } }),
    ),
    route("PUT", "/collections/{collection_name}/index", "write", async (ctx) => {
      const name = resolvedCollection(ctx);
      const { field, info } = fieldIndex(await readJsonObject(ctx.req));
      const wait = queryBool(ctx.query, "wait", false);
      ctx.cluster.commit((s) => {
        const meta = s.collections[name];
        if (meta !== undefined) meta.payloadSchema[field] = info;
      });
      return { ok: { operation_id: ctx.cluster.state.commit, status: wait ? "completed" : "acknowledged" } };
    }),
    route("DELETE", "/collections/{collection_name}/index/{field_name}", "write", (ctx) => {
      const name = resolvedCollection(ctx);
      const field = ctx.params.field_name ?? "";
      ctx.cluster.commit((s) => {
        delete s.collections[name]?.payloadSchema[field];
      });
      const wait = queryBool(ctx.query, "wait", false);
      return Promise.resolve({ ok: { operation_id: ctx.cluster.state.commit, status: wait ? "completed" : "acknowledged" } });
    }),
  ];
}
