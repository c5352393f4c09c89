/**
 * Verification, in the Job, before it reports success: until verify.timeoutSeconds from when the last
 * recover call returned (the checks' own time: a download of hours must not eat it),
 *
 * 1. on every target peer, `GET /collections/{c}/cluster` until every local and remote replica is
 *    `Active` (a count taken right after the last recover call returned can be one shard short while a
 *    peer still activates its replica: ../shared/qdrant/API-NOTES.md, "Per-peer restore");
 * 2. with waitForGreen, `GET /collections/{c}` until its status is `green`;
 * 3. the exact points count; with comparePointsCount and the manifest's count known, they must be equal.
 *
 * Past the deadline: VerificationTimeout, naming what was not yet so. A count that differs once all is
 * Active is looked at again for a short settle (a replica reporting Active a moment before its points
 * count does), then VerificationFailed: a wrong restore must not look whole (the caller deletes the
 * collection it created). Polls back off from 200 ms to 2 s and stop at once with the run's signal.
 */
import { OperatorError } from "../../errors.ts";
import type { Topology } from "../../qdrant/peers.ts";
import { setTimeout as wait } from "node:timers/promises";
import type { RestoreContext } from "./run-context.ts";

const FIRST_POLL_MS = 200;
const MAX_POLL_MS = 2000;
/** How long a points count that differs is looked at again before it fails the restore. */
export const COUNT_SETTLE_MS = 3000;

export interface Verified {
  actual: number;
  /** Each peer's real id, by its REST URL (for the result's per-peer list). */
  peerIds: Map<string, string>;
}

export async function verifyRestore(ctx: RestoreContext, topology: Topology): Promise<Verified> {
  const { plan, qdrant } = ctx;
  const target = plan.targetCollection;
  const deadline = Date.now() + plan.verify.timeoutSeconds * 1000;
  const expected = plan.verify.comparePointsCount ? plan.expectedPoints : undefined;
  const peerIds = new Map<string, string>();
  let delay = FIRST_POLL_MS;
  let mismatchSince: number | undefined;
  for (;;) {
    ctx.signal.throwIfAborted();
    let waiting: string | undefined;
    try {
      waiting = await notYetActive(ctx, topology, peerIds);
      if (waiting === undefined && plan.verify.waitForGreen) {
        const status = (await qdrant.collectionInfo(target, { signal: ctx.signal })).status;
        if (status !== "green") waiting = `collection "${target}" is ${status}, not green`;
      }
      if (waiting === undefined) {
        const actual = await qdrant.count(target, { exact: true }, { signal: ctx.signal });
        if (expected === undefined || actual === expected) return { actual, peerIds };
        mismatchSince ??= Date.now();
        if (Date.now() - mismatchSince >= COUNT_SETTLE_MS) {
          throw new OperatorError("VERIFICATION_FAILED", `collection "${target}" holds ${actual} points after the restore, the backup's manifest says ${expected}`);
        }
        waiting = `${actual} of ${expected} points`;
      } else {
        mismatchSince = undefined;
      }
    } catch (err) {
      if (ctx.signal.aborted || (err instanceof OperatorError && err.code === "VERIFICATION_FAILED")) throw err;
      // A peer that does not answer for a moment, or that does not know the collection yet: not yet.
      waiting = (err as Error).message;
    }
    if (Date.now() >= deadline) {
      throw new OperatorError("VERIFICATION_TIMEOUT", `collection "${target}" was not verified within verify.timeoutSeconds (${plan.verify.timeoutSeconds} s after the last recover returned): ${waiting}`);
    }
    ctx.log.debug({ collection: target, waiting }, "Waiting for the restored collection");
    // A timer that holds the process open (the runtime's clock unrefs its timers: the Job would exit mid-wait).
    await wait(Math.min(delay, Math.max(0, deadline - Date.now())), undefined, { signal: ctx.signal }).catch(() => ctx.signal.throwIfAborted());
    delay = Math.min(MAX_POLL_MS, Math.round(delay * 1.5));
  }
}

/** The first replica, on any peer, that is not Active; undefined when all are. */
async function notYetActive(ctx: RestoreContext, topology: Topology, peerIds: Map<string, string>): Promise<string | undefined> {
  const target = ctx.plan.targetCollection;
  const views = await Promise.all(topology.peers.map(async (p) => ({ url: p.url, view: await ctx.qdrant.at(p.url).collectionCluster(target, { signal: ctx.signal }) })));
  for (const { url, view } of views) {
    peerIds.set(url, view.peerId);
    const local = view.localShards.find((s) => s.state !== "Active");
    if (local) return `shard ${local.shardId} on peer ${view.peerId} is ${local.state}`;
    const remote = view.remoteShards.find((s) => s.state !== "Active");
    if (remote) return `shard ${remote.shardId} on peer ${remote.peerId} is ${remote.state} (as peer ${view.peerId} sees it)`;
  }
  return undefined;
}
