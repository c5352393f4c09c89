/**
 * The recover calls, in the order a distributed restore needs (design §4): when the target does not
 * exist, the first file alone, because that call creates the collection cluster-wide from the
 * snapshot's config (two peers creating it at once would race through consensus); then every other
 * file on its own peer at once, each on that peer's REST URL. The batch waits for every call to settle,
 * so that a failure is reported with what the other peers did: an overwrite in place that failed after
 * some peers recovered is RestorePartial (the collection holds a mix of backup and live data).
 */
import { isOperatorError, OperatorError } from "../../errors.ts";
import type { PeerAssignment } from "../../backup/topology/map-peers.ts";
import type { Peer } from "../../qdrant/peers.ts";
import type { RestorePeerFile } from "./contract.ts";
import { pullOnPeer } from "./pull.ts";
import type { RestoreContext } from "./run-context.ts";
import { uploadOnPeer } from "./upload.ts";

export type Assignment = PeerAssignment<RestorePeerFile, Peer>;

export interface Recovered {
  assignment: Assignment;
  bytes: number;
}

/** Recovers every assigned file; `creates`: the target does not exist yet. */
export async function recoverAll(ctx: RestoreContext, assignments: readonly Assignment[], creates: boolean): Promise<Recovered[]> {
  const done: Recovered[] = [];
  let rest = assignments;
  if (creates && assignments.length > 0) {
    done.push(await recoverOne(ctx, assignments[0]!));
    rest = assignments.slice(1);
  }
  const settled = await Promise.allSettled(rest.map((a) => recoverOne(ctx, a)));
  const failures: unknown[] = [];
  for (const s of settled) {
    if (s.status === "fulfilled") done.push(s.value);
    else failures.push(s.reason);
  }
  if (failures.length === 0) return done;
  ctx.signal.throwIfAborted();
  // The first failure that is Qdrant's or S3's own words, not a call the run aborted after it.
  const first = failures.find((f) => !(f instanceof Error && f.name === "AbortError")) ?? failures[0];
  if (!creates && done.length > 0) {
    const message = first instanceof Error ? first.message : String(first);
    throw new OperatorError(
      "RESTORE_PARTIAL",
      `overwriting collection "${ctx.plan.targetCollection}" in place failed after ${done.length} of ${assignments.length} peers recovered (${done.map((d) => d.assignment.peer.id).join(", ")}): it now holds a mix of the backup and what was there; restore it again. ${message}`,
      { cause: first },
    );
  }
  throw first;
}

async function recoverOne(ctx: RestoreContext, a: Assignment): Promise<Recovered> {
  const { plan, log } = ctx;
  const where = { key: a.file.key, sourcePeerId: a.file.sourcePeerId, targetPeerId: a.peer.id, peerUrl: a.peer.url, size: a.file.size };
  const started = Date.now();
  log.info({ ...where, method: plan.method }, "Recovering snapshot");
  try {
    const bytes = plan.method === "Pull" ? await pullOnPeer(ctx, a.file, a.peer.url) : await uploadOnPeer(ctx, a.file, a.peer.url);
    log.info({ ...where, bytes, seconds: (Date.now() - started) / 1000 }, "Recovered snapshot");
    return { assignment: a, bytes };
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    throw inContext(err, `file ${a.file.key} (source peer ${a.file.sourcePeerId}) on target peer ${a.peer.id}`);
  }
}

/** The error with the file and peer it is about in front of its message, its code kept. */
function inContext(err: unknown, what: string): unknown {
  if (isOperatorError(err)) return new OperatorError(err.code, `${what}: ${err.message}`, { cause: err.cause ?? err });
  return err;
}
