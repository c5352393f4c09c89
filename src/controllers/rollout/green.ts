/**
 * The changes the controller makes to green itself: create it (copyFrom, external with config) with the
 * owner stamp in the same PUT, stamp a restored green (fromBackup), and delete it on abort — only when it
 * is ours, looked at again right before.
 *
 * The name is the lock: creation and ownership are one request (the stamp is merged into the config's own
 * metadata), so after any crash a green whose stamp names this rollout's uid is ours and any other is a
 * stranger's. Qdrant refuses a PUT of a name that exists (409), so two managers racing for one green make
 * one collection, stamped by the one that won; the loser re-observes and sees the stamp.
 *
 * Crash windows: killed after the PUT before the status write → the next look sees our stamp (adopted);
 * killed after a stamp PATCH → it is idempotent (a merge of the same keys); killed between the re-check and
 * the DELETE → the next reconcile re-checks and deletes, or finds it gone.
 */
import { ERROR_CODES, isOperatorError } from "../../errors.ts";
import type { CollectionConfig } from "../../qdrant/client.ts";
import { qdrantAnswer } from "../../qdrant/rest.ts";
import type { OperatorContext } from "../shared/context.ts";
import { explained, qdrantOf } from "../shared/qdrant-of.ts";
import type { QdrantConnectionObject } from "../shared/resolve-connection.ts";
import { COPY_METADATA, greenOwnerOf, OWNER_METADATA, type GreenOwner } from "./names.ts";
import type { RolloutObject } from "./types.ts";

export type GreenChange = { ok: true; changed: boolean } | { ok: false; reason: string; message: string; refused?: boolean };

/** The owner record of `r` (what green's metadata carries under OWNER_METADATA). */
export function ownerOf(r: RolloutObject): GreenOwner {
  return { namespace: r.metadata?.namespace ?? "", name: r.metadata?.name ?? "", uid: r.metadata?.uid ?? "" };
}

/** `config` with the owner stamp merged into its own metadata. */
export function stampedConfig(config: CollectionConfig, owner: GreenOwner): CollectionConfig {
  const metadata = { ...((config as { metadata?: Record<string, unknown> | null }).metadata ?? {}), [OWNER_METADATA]: owner };
  return { ...config, metadata };
}

/**
 * PUT green with `config` and our stamp. Re-checks right before that the name is free (not a collection,
 * not an alias: Qdrant answers an alias's name with a 400 that must not read as a refused config). A 4xx
 * answer other than 409 is the config refused: `refused: true`, reason CollectionConfigRefused, the
 * message naming `field` with Qdrant's words.
 */
export async function createGreen(ctx: OperatorContext, connection: QdrantConnectionObject, r: RolloutObject, config: CollectionConfig, field: string, signal?: AbortSignal): Promise<GreenChange> {
  const green = r.spec.collection;
  try {
    const { api } = await qdrantOf(ctx, connection, signal);
    const name = await api.nameState(green);
    if (name.aliasOf !== undefined) return { ok: false, reason: ERROR_CODES.GREEN_IS_ALIAS.reason, message: `spec.collection: ${green} is an alias (of collection ${name.aliasOf}), not a name for a new collection` };
    if (name.exists) return { ok: true, changed: false };
    try {
      await api.createCollection(green, stampedConfig(config, ownerOf(r)));
      return { ok: true, changed: true };
    } catch (err) {
      // A refused key (401/403) and a missing collection are the connection's words, not a refused config.
      const refusal = isOperatorError(err, "QDRANT_API_ERROR") ? qdrantAnswer(err) : undefined;
      if (refusal?.status === 409) return { ok: true, changed: false };
      if (refusal && refusal.status >= 400 && refusal.status < 500) {
        return { ok: false, refused: true, reason: ERROR_CODES.COLLECTION_CONFIG_REFUSED.reason, message: ctx.redactor.scrub(`${field}: Qdrant refused to create collection ${green} with it: ${refusal.words}`) };
      }
      throw err;
    }
  } catch (err) {
    return { ok: false, ...explained(ctx, err, connection) };
  }
}

/**
 * fromBackup, once our QdrantRestore succeeded into green: write our stamp into its metadata (PATCH merge;
 * repeating it is harmless). A snapshot carries its collection's metadata, so a backup of a collection an
 * earlier rollout built restores with that rollout's stamp and its finished copy record: both are
 * replaced (the record removed), since the restore's own claim is what proves this green is ours.
 */
export async function stampGreen(ctx: OperatorContext, connection: QdrantConnectionObject, r: RolloutObject, signal?: AbortSignal): Promise<GreenChange> {
  try {
    const { api } = await qdrantOf(ctx, connection, signal);
    const metadata = await api.collectionMetadata(r.spec.collection);
    const owner = greenOwnerOf(metadata);
    if (owner?.uid === r.metadata?.uid && metadata[COPY_METADATA] === undefined) return { ok: true, changed: false };
    await api.updateCollectionMetadata(r.spec.collection, { [OWNER_METADATA]: ownerOf(r), [COPY_METADATA]: null });
    return { ok: true, changed: true };
  } catch (err) {
    return { ok: false, ...explained(ctx, err, connection) };
  }
}

/**
 * Deletes green only when it is ours: its stamp names our uid, looked at right before the DELETE (or,
 * `restoredByUs`, our QdrantRestore succeeded into it and our stamp was not written yet: it may carry the
 * backed-up collection's). Anything else is left alone (changed: false). Gone already: changed false.
 * Never while an alias points at it (GreenInUse): Qdrant deletes a collection's aliases with it, so a
 * switch that landed after the decision (an old leader's request in flight), or an alias a person pointed
 * at green, would be deleted too.
 */
export async function deleteOurGreen(ctx: OperatorContext, connection: QdrantConnectionObject, r: RolloutObject, opts: { restoredByUs?: boolean; signal?: AbortSignal } = {}): Promise<GreenChange> {
  const green = r.spec.collection;
  try {
    const { api } = await qdrantOf(ctx, connection, opts.signal);
    const name = await api.nameState(green);
    if (!name.exists || name.aliasOf !== undefined) return { ok: true, changed: false };
    const owner = greenOwnerOf(await api.collectionMetadata(green));
    const ours = owner?.uid === r.metadata?.uid || opts.restoredByUs === true;
    if (!ours) return { ok: true, changed: false };
    const pointing = (await api.listAliases()).filter((a) => a.collection === green).map((a) => a.alias);
    if (pointing.length > 0) {
      return { ok: false, reason: ERROR_CODES.GREEN_IN_USE.reason, message: `collection ${green} is not deleted: alias${pointing.length === 1 ? "" : "es"} ${pointing.join(", ")} point${pointing.length === 1 ? "s" : ""} at it (deleting it would delete ${pointing.length === 1 ? "that alias" : "those aliases"} too)` };
    }
    return { ok: true, changed: await api.deleteCollection(green) };
  } catch (err) {
    return { ok: false, ...explained(ctx, err, connection) };
  }
}

/** DeletePrevious: deletes `collection` when it exists and no alias points at it (re-checked right before). */
export async function deletePrevious(ctx: OperatorContext, connection: QdrantConnectionObject, collection: string, signal?: AbortSignal): Promise<GreenChange> {
  try {
    const { api } = await qdrantOf(ctx, connection, signal);
    const aliases = await api.listAliases();
    const pointing = aliases.filter((a) => a.collection === collection).map((a) => a.alias);
    if (pointing.length > 0) return { ok: false, reason: ERROR_CODES.PREVIOUS_IN_USE.reason, message: `collection ${collection} is not deleted: alias${pointing.length === 1 ? "" : "es"} ${pointing.join(", ")} point${pointing.length === 1 ? "s" : ""} at it` };
    if (!(await api.collectionExists(collection))) return { ok: true, changed: false };
    return { ok: true, changed: await api.deleteCollection(collection) };
  } catch (err) {
    return { ok: false, ...explained(ctx, err, connection) };
  }
}
