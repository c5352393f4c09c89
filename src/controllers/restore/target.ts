/**
 * What the controller asks the target Qdrant itself (through the shared connection resolver and the one
 * Qdrant adapter), and the two changes it makes there after a Job succeeded: the alias switch and a
 * drill's deletion of its temporary collection. The restore itself is the Job's.
 *
 * The look before a Job: does the name exist as a collection, is it an alias (GET /aliases: recovering
 * under an alias name would overwrite the collection behind it), and how many peers the Job's discovery
 * will find (the same discoverTopology the Job runs), which must hold the backup's peers with data.
 * Failures become the connection's own words naming its field (explain-connection.ts), as a backup's do.
 */
import { discoverTopology } from "../../qdrant/peers.ts";
import type { OperatorContext } from "../shared/context.ts";
import { explained, qdrantOf } from "../shared/qdrant-of.ts";
import type { QdrantConnectionObject } from "../shared/resolve-connection.ts";
import type { TargetState } from "./decide.ts";

export type QdrantChange = { ok: true; changed: boolean } | { ok: false; reason: string; message: string };

/** `withPeers`: also discover the topology the Job will find (before a Job; an IfMissing check does without). */
export async function observeTarget(ctx: OperatorContext, connection: QdrantConnectionObject, collection: string, withPeers: boolean, signal?: AbortSignal): Promise<TargetState> {
  try {
    const { api, discovery } = await qdrantOf(ctx, connection, signal);
    const name = await api.nameState(collection);
    const peers = withPeers ? Math.max(1, (await discoverTopology(api, discovery)).peers.length) : undefined;
    return { reachable: true, ...name, ...(peers !== undefined ? { peers } : {}) };
  } catch (err) {
    return { reachable: false, ...explained(ctx, err, connection) };
  }
}

/** One create_alias request: it creates the alias, or re-points it (so repeating it after a crash is safe). */
export async function switchAlias(ctx: OperatorContext, connection: QdrantConnectionObject, alias: string, collection: string, signal?: AbortSignal): Promise<QdrantChange> {
  try {
    const { api } = await qdrantOf(ctx, connection, signal);
    const before = (await api.listAliases()).find((a) => a.alias === alias);
    if (before?.collection === collection) return { ok: true, changed: false };
    await api.updateAliases([{ create_alias: { alias_name: alias, collection_name: collection } }]);
    return { ok: true, changed: true };
  } catch (err) {
    return { ok: false, ...explained(ctx, err, connection) };
  }
}

/** Deletes `collection` if it exists (a repeat after a crash finds it gone, and that is fine). */
export async function deleteCollection(ctx: OperatorContext, connection: QdrantConnectionObject, collection: string, signal?: AbortSignal): Promise<QdrantChange> {
  try {
    const { api } = await qdrantOf(ctx, connection, signal);
    if (!(await api.collectionExists(collection))) return { ok: true, changed: false };
    return { ok: true, changed: await api.deleteCollection(collection) };
  } catch (err) {
    return { ok: false, ...explained(ctx, err, connection) };
  }
}
