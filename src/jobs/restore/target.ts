/**
 * The target, looked at right before the Job acts. The controller checked it before it created the Job,
 * but a Job may start minutes later (a pod pending on a full node) and a person may have created the
 * collection, or an alias of that name, since: so the Job looks again, and acts on what it finds now.
 *
 * - An alias of the target's name: TargetIsAlias (recovering under it would overwrite the collection
 *   behind it).
 * - The collection exists, and neither `overwrite` nor `ownedTarget`: TargetExists, untouched.
 * - It exists and `ownedTarget` (with or without `overwrite`): an earlier attempt of this restore claimed it and
 *   was killed; it is that attempt's half-made collection, deleted here (after this attempt's own claim
 *   is written: a kill right after the deletion leaves the claim, and the next attempt finds nothing or
 *   the same half-made collection) and restored again.
 * - It exists and `overwrite`: recovered in place; its shard placement decides which peer recovers which
 *   file (mapPeers).
 *
 * Window: a collection created by someone else between this look and the first recover call would be
 * recovered into (Qdrant refuses a snapshot whose vectors or shard number differ). The look is the last
 * thing before the claim and the first call, so the window is a few milliseconds.
 */
import { OperatorError } from "../../errors.ts";
import type { Placement } from "../../backup/topology/map-peers.ts";
import type { Topology } from "../../qdrant/peers.ts";
import type { RestoreContext } from "./run-context.ts";

export interface TargetState {
  /** The collection exists now (after an owned one was deleted: false). */
  exists: boolean;
  /** An owned half-made collection is to be deleted before the restore (`replaceOwned`). */
  owned: boolean;
}

/** Refuses an alias and an existing collection this restore may not touch; says what is there. */
export async function lookAtTarget(ctx: RestoreContext): Promise<TargetState> {
  const { plan, qdrant } = ctx;
  const target = plan.targetCollection;
  const { exists, aliasOf } = await qdrant.nameState(target, { signal: ctx.signal });
  if (aliasOf !== undefined) {
    throw new OperatorError("TARGET_IS_ALIAS", `spec.target.collection: "${target}" is an alias of collection "${aliasOf}"; recovering under it would overwrite "${aliasOf}": restore into a collection name, and set target.alias to switch the alias to it`);
  }
  if (!exists) return { exists: false, owned: false };
  // Owned first: an earlier attempt's half-made collection is replaced whole, overwrite or not.
  if (plan.ownedTarget) return { exists: true, owned: true };
  if (plan.overwrite) return { exists: true, owned: false };
  throw new OperatorError("TARGET_EXISTS", `spec.target.collection: collection "${target}" exists; set spec.overwrite to replace it, or restore into another name`);
}

/** Deletes the half-made collection an earlier attempt of this restore claimed. */
export async function replaceOwned(ctx: RestoreContext): Promise<void> {
  const { plan, qdrant, log } = ctx;
  await qdrant.deleteCollection(plan.targetCollection, { signal: ctx.signal });
  log.info({ collection: plan.targetCollection, attempt: plan.attempt }, "Deleted the collection an earlier attempt of this restore half-made");
}

/** Which shards each target peer holds a replica of, by the topology's peer ids. */
export async function placementOf(ctx: RestoreContext, topology: Topology): Promise<Placement> {
  const { plan, qdrant } = ctx;
  const entries = await Promise.all(
    topology.peers.map(async (p) => [p.id, (await qdrant.at(p.url).collectionCluster(plan.targetCollection, { signal: ctx.signal })).localShards.map((s) => s.shardId)] as const),
  );
  return new Map(entries);
}
