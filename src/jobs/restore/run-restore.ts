/**
 * One run of a restore plan:
 *
 * 1. discover the target's peers (as the backup Job does: each peer recovers on its own REST URL) and
 *    check that they can hold the backup's files (TopologyMismatch, before anything changes);
 * 1b. an encrypted backup: open every object's age header (encoded.ts), so a wrong key fails here;
 * 2. look at the target right before acting (target.ts: alias, exists, owned);
 * 3. claim it (claim.ts) when this attempt may create it — the provisional failure is on disk before
 *    the first call that can create anything; then delete an owned half-made collection;
 * 4. recover (recover-all.ts: the first file alone when the target does not exist, the rest at once);
 * 5. verify (verify.ts), and report.
 *
 * On any failure after the claim the collection this attempt created is deleted (never one it did not
 * create: an overwrite of an existing collection recovers into it and creates nothing), then the failure
 * is written, with the claim only if the deletion failed (or a Pull was cut short: below). SIGTERM does the same through the cleanup registry:
 * abort the calls in flight, delete, and run-command.ts writes Terminated (with the claim while it
 * stands). SIGKILL runs nothing: the provisional failure with the claim is what the kubelet keeps.
 *
 * Crash window: a Pull recover Qdrant is still running when the Job deletes the collection (SIGTERM
 * aborts the HTTP call; whether Qdrant stops its own download then is Qdrant's) could re-create it
 * after the deletion. So a Pull cut short keeps its claim: the next attempt owns what it finds. The
 * price: a person who creates a collection of that very name in between would see it replaced.
 */
import { crashWindow } from "../../crash-windows.ts";
import { comparePeerIds, mapPeers } from "../../backup/topology/map-peers.ts";
import { discoverTopology } from "../../qdrant/peers.ts";
import { isOperatorError } from "../../errors.ts";
import type { RestoreJobSuccess } from "./contract.ts";
import { openHeaders } from "./encoded.ts";
import { recoverAll, type Recovered } from "./recover-all.ts";
import type { RestoreContext } from "./run-context.ts";
import { lookAtTarget, placementOf, replaceOwned } from "./target.ts";
import { verifyRestore, type Verified } from "./verify.ts";

export async function runRestore(ctx: RestoreContext): Promise<RestoreJobSuccess> {
  const { plan, qdrant, log } = ctx;
  const target = plan.targetCollection;
  // An inherited claim stands from the first moment: this attempt may fail before it would take its
  // own (Qdrant unreachable, a topology that no longer fits), and the half-made collection an earlier
  // attempt left must stay known as ours to the attempts after it.
  if (plan.ownedTarget) ctx.claim.take(target, plan.attempt);
  const topology = await discoverTopology(qdrant, plan.qdrant.discovery, { signal: ctx.signal });
  log.info({ mode: topology.mode, qdrantVersion: topology.version, peers: topology.peers }, "Discovered Qdrant peers");
  mapPeers(plan.files, topology.peers);
  // An encrypted backup: every object's age header opened before the target is looked at, claimed,
  // replaced or created, so a wrong key (or none) changes nothing on Qdrant.
  const headers = await openHeaders(ctx);
  if (headers > 0) log.info({ objects: headers }, "Opened the age header of every encrypted object");

  const state = await lookAtTarget(ctx).catch((err: unknown) => {
    if (isOperatorError(err, "TARGET_IS_ALIAS")) ctx.claim.release();
    throw err;
  });
  const creates = !state.exists || state.owned;
  if (creates) ctx.claim.take(target, plan.attempt);
  // An alias of that name is not a collection of ours (lookAtTarget threw): nothing to claim then.
  // Ours to delete again on a failure: what this attempt creates (a recover in place creates nothing).
  const deletable = creates;
  const unregister = creates ? ctx.cleanup.add(`delete collection "${target}" this attempt created`, () => deleteCreated(ctx, deletable)) : () => undefined;
  try {
    if (state.owned) await replaceOwned(ctx);
    const assignments = mapPeers(plan.files, topology.peers, creates ? undefined : await placementOf(ctx, topology));
    log.info({ collection: target, creates, assignments: assignments.map((a) => ({ sourcePeerId: a.file.sourcePeerId, targetPeerId: a.peer.id, key: a.file.key })) }, "Mapped the backup's files to target peers");
    const recovered = await recoverAll(ctx, assignments, creates);
    // Crash window restore-job.recovered-before-verify: a target not yet verified, the claim on it kept.
    crashWindow("restore-job.recovered-before-verify");
    const recoveredTime = new Date();
    log.info({ collection: target, seconds: (recoveredTime.getTime() - ctx.startTime.getTime()) / 1000 }, "Every peer recovered; verifying");
    const verified = await verifyRestore(ctx, topology);
    unregister();
    return success(ctx, recovered, recoveredTime, verified, creates);
  } catch (err) {
    unregister();
    // The failure is the restore's; a deletion that failed too is in the log, and the claim stays.
    if (creates && !ctx.signal.aborted) await deleteCreated(ctx, deletable).catch(() => undefined);
    throw err;
  }
}

/**
 * Deletes the collection this attempt created, and releases the claim when it is gone. With overwrite
 * nothing is deleted (the claim stays: a retry with ownedTarget and overwrite recovers in place).
 */
async function deleteCreated(ctx: RestoreContext, deletable: boolean): Promise<void> {
  const target = ctx.plan.targetCollection;
  if (!deletable) return;
  try {
    // Not under the run's signal: on SIGTERM that is already aborted, and this is the undo.
    const existed = await ctx.qdrant.deleteCollection(target);
    // A Pull cut short (SIGTERM) may still be running on Qdrant, which downloads by itself and may
    // create the collection again after this deletion: the claim stays, so the next attempt owns it.
    if (!(ctx.signal.aborted && ctx.plan.method === "Pull")) ctx.claim.release();
    ctx.log.info({ collection: target, existed }, "Deleted the collection this attempt created");
  } catch (err) {
    ctx.log.warn({ collection: target, err: (err as Error).message }, "Could not delete the collection this attempt created; the failure keeps the claim on it");
    throw err;
  }
}

function success(ctx: RestoreContext, recovered: Recovered[], recoveredTime: Date, verified: Verified, created: boolean): RestoreJobSuccess {
  const { plan } = ctx;
  const idOf = (url: string, fallback: string) => verified.peerIds.get(url) ?? fallback;
  const expected = plan.expectedPoints;
  return {
    ok: true,
    backupId: plan.backupId,
    targetCollection: plan.targetCollection,
    method: plan.method,
    startTime: ctx.startTime.toISOString(),
    recoveredTime: recoveredTime.toISOString(),
    verifiedTime: new Date().toISOString(),
    bytes: recovered.reduce((n, r) => n + r.bytes, 0),
    pointsCount: { ...(expected !== undefined ? { expected } : {}), actual: verified.actual },
    created,
    peers: recovered
      .map((r) => ({ sourcePeerId: r.assignment.file.sourcePeerId, targetPeerId: idOf(r.assignment.peer.url, r.assignment.peer.id), bytes: r.bytes }))
      .sort((a, b) => comparePeerIds(a.sourcePeerId, b.sourcePeerId)),
  };
}
