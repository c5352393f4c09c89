/**
 * What a reconcile sees of the rollout's Qdrant (the QdrantView of steps.ts): where spec.alias points,
 * whether a collection has the alias's name, green (exists, is an alias, whose metadata stamp it carries,
 * the copy's record), the copy's source and the previous collection; with `details`, exact counts and
 * Qdrant's statuses too (what the copy's progress and the gates' decisions need).
 *
 * One GET /aliases per look: the alias target and "is green an alias" come from the same answer, so they
 * never disagree within a decision. Everything goes through the one adapter (qdrant/client.ts), bound to
 * the reconcile's signal; failures are the connection's own words naming its field (shared/qdrant-of.ts),
 * and the view says `reachable: false` instead of throwing, so decide.ts turns it into a Wait.
 */
import { Value } from "@sinclair/typebox/value";
import { CopyProgress } from "../../jobs/copy/contract.ts";
import type { Alias, QdrantApi } from "../../qdrant/client.ts";
import type { OperatorContext } from "../shared/context.ts";
import { explained, qdrantOf } from "../shared/qdrant-of.ts";
import type { QdrantConnectionObject } from "../shared/resolve-connection.ts";
import { COPY_METADATA, greenOwnerOf } from "./names.ts";
import type { CollectionView, GreenView, QdrantView } from "./steps.ts";
import type { RolloutObject } from "./types.ts";

/** The collection a copyFrom rollout copies from: copyFrom.collection, else the active one recorded at Begin, else where the alias points. */
export function copySourceOf(r: RolloutObject, aliasTarget: string | null): string | undefined {
  const copy = r.spec.source.copyFrom;
  if (!copy) return undefined;
  return copy.collection ?? (r.status?.activeCollection || undefined) ?? aliasTarget ?? undefined;
}

/** The copy's record in green's metadata, when it is one (anything malformed is no record). */
export function copyProgressOf(metadata: Record<string, unknown> | null | undefined): CopyProgress | undefined {
  const v = metadata?.[COPY_METADATA];
  return Value.Check(CopyProgress, v) ? v : undefined;
}

interface InfoLike {
  status?: string;
  optimizer_status?: unknown;
  indexed_vectors_count?: number | null;
  config?: { metadata?: Record<string, unknown> | null };
}

async function collectionView(api: QdrantApi, aliases: Alias[], name: string, details: boolean): Promise<{ view: CollectionView; metadata?: Record<string, unknown> }> {
  const alias = aliases.find((a) => a.alias === name);
  if (alias) return { view: { name, exists: false, aliasOf: alias.collection } };
  if (!(await api.collectionExists(name))) return { view: { name, exists: false } };
  const info = (await api.collectionInfo(name)) as InfoLike;
  const view: CollectionView = { name, exists: true };
  if (details) {
    view.points = await api.count(name, { exact: true });
    if (info.status !== undefined) view.status = info.status;
    view.optimizerOk = info.optimizer_status === "ok";
    if (typeof info.indexed_vectors_count === "number") view.indexedVectors = info.indexed_vectors_count;
  }
  return { view, ...(info.config?.metadata ? { metadata: info.config.metadata } : {}) };
}

/** One look at the rollout's Qdrant; never throws for a failed call (reachable: false with the connection's words). */
export async function observeQdrant(ctx: OperatorContext, connection: QdrantConnectionObject, r: RolloutObject, details: boolean, signal?: AbortSignal): Promise<QdrantView> {
  try {
    const { api } = await qdrantOf(ctx, connection, signal);
    const aliases = await api.listAliases();
    const aliasTarget = aliases.find((a) => a.alias === r.spec.alias)?.collection ?? null;
    const aliasIsCollection = aliasTarget === null && (await api.collectionExists(r.spec.alias));
    const g = await collectionView(api, aliases, r.spec.collection, details);
    const green: GreenView = { ...g.view };
    const owner = greenOwnerOf(g.metadata);
    if (owner) green.owner = owner;
    const copy = copyProgressOf(g.metadata);
    if (copy) green.copy = copy;
    const view: Extract<QdrantView, { reachable: true }> = { reachable: true, aliasTarget, aliasIsCollection, green };
    const sourceName = copySourceOf(r, aliasTarget);
    if (sourceName !== undefined && sourceName !== r.spec.collection) view.source = (await collectionView(api, aliases, sourceName, details)).view;
    const previous = r.status?.previousCollection;
    if (previous) view.previous = (await collectionView(api, aliases, previous, details)).view;
    return view;
  } catch (err) {
    return { reachable: false, ...explained(ctx, err, connection) };
  }
}
