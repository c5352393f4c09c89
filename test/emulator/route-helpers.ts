/**
 * Helpers shared by the route modules: path parameter checks, collection resolution through aliases and
 * the `wait=false` pattern (202 now, work continues in the background, failures only logged).
 */
import { checkLegacyCollectionName } from "./collection-config.ts";
import { QdrantError } from "./errors.ts";
import { queryBool } from "./http-util.ts";
import type { RouteContext, RouteResult } from "./router.ts";

/** The `{collection_name}` path parameter after the legacy name check every non-create route applies. */
export function collectionParam(ctx: RouteContext): string {
  const name = ctx.params.collection_name ?? "";
  checkLegacyCollectionName(name);
  return name;
}

/** The real collection behind `{collection_name}` (aliases resolve; 404 if neither exists). */
export function resolvedCollection(ctx: RouteContext): string {
  return ctx.cluster.resolve(collectionParam(ctx));
}

/** Logs a background failure the way Qdrant would: to the server log only. */
export function logBackgroundError(what: string, err: unknown): void {
  if (process.env.QDRANT_EMULATOR_QUIET === "1") return;
  console.error(`[qdrant-emulator] ${what} failed: ${err instanceof Error ? err.message : String(err)}`);
}

/** Runs `task` now (`wait=true`, the default) or in the background with a 202 (`wait=false`). */
export async function maybeWait(ctx: RouteContext, what: string, task: () => Promise<unknown>, waitDefault = true): Promise<RouteResult> {
  if (queryBool(ctx.query, "wait", waitDefault)) return { ok: await task() };
  task().catch((err: unknown) => logBackgroundError(what, err));
  return { accepted: true };
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parses a `{shard_id}` path parameter (u32). */
export function shardIdParam(ctx: RouteContext): number {
  const raw = ctx.params.shard_id ?? "";
  // actix answers an unparsable path segment with 404.
  if (!/^\d+$/.test(raw)) throw new QdrantError(404, `can not parse "${raw}" to a u32`);
  return Number(raw);
}
