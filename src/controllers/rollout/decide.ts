/**
 * The CollectionRollout controller's decisions, as one pure function of the rollout and what the reconcile
 * observed, with the clock passed in: the reconcile (controller.ts) only observes, calls this and carries
 * out the one step it returns, so every phase × every observation is a table test without a cluster.
 *
 * Observations are lazy (steps.ts): a finished rollout asks for nothing, a Promoted one with nothing due
 * asks for nothing and is requeued for when something is (the end of its analysis, its retainPrevious),
 * a rollout that is not its alias's holder never looks at Qdrant.
 *
 * The order (each later rule assumes the earlier ones did not apply):
 * 1. an invalid spec (spec.ts) → Invalid;
 * 2. finished (Aborted, RolledBack, Failed at this generation without abort, Promoted with nothing due)
 *    → Done (Promoted: requeued for its next due time);
 * 3. a Job named rollout-<name>-<jobCount+1> the status does not record (created, then the manager died)
 *    → Adopt, before anything could mistake its work for someone else's;
 * 4. abort before the switch → Abort (a running restore first finishes; green deleted only if ours);
 * 5. another rollout holds the alias on this Qdrant → Wait WaitingForAlias, Qdrant untouched;
 * 6. the connection (and backupActiveFirst's location) → Wait while missing;
 * 7. Qdrant unreachable → Wait, the phase kept (the gates' timeout still runs);
 * 8. bad input on Qdrant: a collection named like the alias, green an alias, green the active one;
 * 9. the status rebuilt from Qdrant: the alias already on green after a lost status write (Validating,
 *    AwaitingPromotion: where this rollout switches) → Promoted (adopted: no second switch, no second
 *    Event), only when this rollout could have made that switch (its pass recorded at this generation,
 *    approved, backed up); otherwise someone else's → Wait AliasMoved; back on the previous collection
 *    after a rollback → RolledBack (adopted);
 * 10. not begun → Begin (records blue: where the alias points now);
 * 11. Preparing → decide-build.ts; 12. Validating, AwaitingPromotion → decide-validate.ts;
 * 13. Promoted → decide-promoted.ts.
 *
 * Never: a switch made twice (every switch is decided from where the alias points now, and a switch that
 * already happened is adopted), Qdrant touched for a rollout that is not the holder, the alias moved by a
 * failure (Fail and Wait leave it where it is), a collection deleted that this rollout did not create.
 */
import { ERROR_CODES } from "../../errors.ts";
import { context, hasBegun, observe, ours, userOwnedGreen, type Ctx } from "./decide-shared.ts";
import { decideBuild, restoredInto } from "./decide-build.ts";
import { decidePromoted, finishedPromoted, promotedPlan } from "./decide-promoted.ts";
import { couldHaveSwitched, decideValidate, unreachableWhileJudging } from "./decide-validate.ts";
import { waitingForAliasMessage } from "./holder.ts";
import { greenRestoreName } from "./names.ts";
import type { Observed, RolloutStep } from "./steps.ts";
import type { RolloutObject } from "./types.ts";

export {
  ANALYSIS_RECHECK_MS,
  BUILDING_RECHECK_MS,
  GATE_RECHECK_MS,
  RECORDED_MS,
  RESTORE_RECHECK_MS,
  retryDelayMs,
  WAIT_MS,
} from "./decide-shared.ts";
export { ABORT_IGNORED, promotedPlan } from "./decide-promoted.ts";
export { BACKING_UP_ACTIVE, JOB_ROW } from "./decide-validate.ts";

/** A plain reason (status.ts): abort waits for the fromBackup restore's Job to end. */
export const ABORTING = "Aborting";

export function decideRollout(r: RolloutObject, o: Observed): RolloutStep {
  if (!o.spec.ok) return { kind: "Invalid", reason: o.spec.reason, message: o.spec.message };
  const c = context(r, o);
  const { phase, status } = c;
  const spec = r.spec;

  if (phase === "Aborted" || phase === "RolledBack") return { kind: "Done" };
  if (phase === "Failed" && spec.abort !== true && status.observedGeneration === r.metadata?.generation) return { kind: "Done" };
  const plan = phase === "Promoted" ? promotedPlan(r, c.now) : undefined;
  if (plan && !plan.due) return finishedPromoted(c, plan);

  if (phase === "Preparing" || phase === "Validating") {
    if (o.unrecorded === undefined) return observe("unrecorded");
    if (o.unrecorded !== null) return { kind: "Adopt", job: o.unrecorded };
  }

  if (spec.abort === true && phase !== "Promoted") return decideAbort(c);

  if (!plan) {
    if (o.holder === undefined) return observe("holder");
    const h = o.holder;
    if (h !== null && !(h.namespace === r.metadata?.namespace && h.name === r.metadata?.name)) {
      return c.wait(ERROR_CODES.ALIAS_HELD.reason, waitingForAliasMessage(spec.alias, h));
    }
  }

  if (o.references === undefined) return observe("references");
  if (!o.references.ok) return c.wait(o.references.reason, o.references.message);
  if (o.qdrant === undefined) return observe("qdrant");
  const v = o.qdrant;
  if (!v.reachable) return plan ? c.wait(v.reason, v.message) : unreachableWhileJudging(c, v.reason, v.message);

  if (plan) return decidePromoted(c, v, plan);

  const green = spec.collection;
  if (v.aliasIsCollection) {
    return c.wait(
      ERROR_CODES.ALIAS_IS_COLLECTION.reason,
      `spec.alias: ${spec.alias} is the name of a collection on the Qdrant; Qdrant forbids an alias named like a collection, so it cannot be switched: rename that collection or choose another alias`,
    );
  }
  if (v.green.aliasOf !== undefined) {
    return c.wait(ERROR_CODES.GREEN_IS_ALIAS.reason, `spec.collection: ${green} is an alias (of collection ${v.green.aliasOf}) on the Qdrant, not a collection this rollout can build; choose another spec.collection`);
  }
  if (!hasBegun(phase)) {
    if (v.aliasTarget === green) {
      return { kind: "Fail", reason: ERROR_CODES.GREEN_IS_ACTIVE.reason, message: `spec.collection: alias ${spec.alias} already points at ${green}; green must be a new collection beside the active one` };
    }
    return { kind: "Begin", activeCollection: v.aliasTarget };
  }
  if (v.aliasTarget === green && (status.activeCollection ?? "") !== green) {
    // Only a switch this rollout could have made (from Validating or AwaitingPromotion, on a recorded pass,
    // approved, backed up) is adopted; green put behind the alias by someone else before then is not a promotion.
    if (phase !== "Preparing") return adoptSwitch(c);
    return c.wait(
      ERROR_CODES.ALIAS_MOVED.reason,
      `spec.alias: alias ${spec.alias} points at ${green} while this rollout is still building it (someone else switched it); point it back at ${status.activeCollection || "its collection"}, or set spec.abort`,
    );
  }
  const validate = () => decideValidate(c, v);
  if (phase === "Preparing") return decideBuild(c, v, validate);
  return validate();
}

/**
 * The alias on green while the status says Validating or AwaitingPromotion: this rollout's own switch after a
 * lost status write (Promoted, adopted: no second switch, no second Event) when it could have made it
 * (decide-validate.ts couldHaveSwitched); otherwise someone else's, Wait AliasMoved with the alias untouched.
 */
function adoptSwitch(c: Ctx): RolloutStep {
  const { r, status } = c;
  const mine = couldHaveSwitched(c);
  if (mine === "backup") return observe("backup");
  if (mine.ours) return { kind: "Promoted", previous: status.activeCollection || null, adopted: true };
  return c.wait(
    ERROR_CODES.ALIAS_MOVED.reason,
    `spec.alias: alias ${r.spec.alias} points at ${r.spec.collection}, and this rollout did not switch it: someone else pointed alias ${r.spec.alias} at ${r.spec.collection} ${mine.why}; point it back at ${status.activeCollection || "its collection"}, or set spec.abort`,
  );
}

/**
 * Abort before the switch: stop a running Job, delete a restore that has not started, and delete green
 * only when it is ours (our stamp, or our restore succeeded into exactly green, whatever stamp the
 * snapshot carried). A running fromBackup restore is waited
 * for: it deletes what it claimed when it fails, and deleting it mid-run would orphan a half-restored green.
 * A switch that already happened (the alias on green after a lost status write) is adopted instead: abort
 * applies before promotion only, and deleting green would take the alias with it.
 */
function decideAbort(c: Ctx): RolloutStep {
  const { r, o, status, phase } = c;
  const green = r.spec.collection;
  // Never begun: Begin records activeCollection ("" without an alias), and only a new run's Begin forgets it. A
  // rollout that Failed, was edited and then waited in Pending (another holder) has begun: its green is looked at.
  if (!hasBegun(phase) && phase !== "Failed" && status.activeCollection === undefined) return { kind: "Abort", deleteGreen: false, message: "Aborted before it began; nothing was made." };
  let deleteJob: string | undefined;
  if (status.jobName) {
    if (o.job === undefined) return observe("job");
    if (o.job.phase === "Running") deleteJob = status.jobName;
  }
  let deleteRestore: string | undefined;
  let restoredByUs = false;
  if (r.spec.source.fromBackup) {
    if (o.restore === undefined) return observe("restore");
    const rs = o.restore;
    if (rs.exists && rs.ours) {
      if (rs.phase === "Running") {
        return c.wait(ABORTING, `Aborting: waiting for QdrantRestore ${greenRestoreName(c.name)} to finish (a restore deletes what it made when it fails; stopping it mid-run would leave a half-restored ${green})`);
      }
      restoredByUs = restoredInto(rs, green);
      if (rs.phase !== "Succeeded" && rs.phase !== "Failed") deleteRestore = greenRestoreName(c.name);
    }
  }
  let deleteGreen = false;
  if (!userOwnedGreen(c)) {
    if (o.references === undefined) return observe("references");
    if (!o.references.ok) return c.wait(o.references.reason, `Aborting: ${o.references.message}`);
    if (o.qdrant === undefined) return observe("qdrant");
    const v = o.qdrant;
    if (!v.reachable) return c.wait(v.reason, `Aborting: ${v.message}`);
    if (v.aliasTarget === green && (phase === "Validating" || phase === "AwaitingPromotion") && (status.activeCollection ?? "") !== green) {
      const adopted = adoptSwitch(c);
      if (adopted.kind === "Promoted" || adopted.kind === "Observe") return adopted;
    }
    const g = v.green;
    // Ours: our stamp, or our restore succeeded into it (whatever stamp the snapshot carried: fromBackup).
    deleteGreen = g.exists && g.aliasOf === undefined && v.aliasTarget !== green && (ours(c, v) || restoredByUs);
  }
  // What the abort does (the act carries it out; a collection found gone or not ours by then is left alone).
  const deletes = [deleteJob ? `Job ${deleteJob}` : undefined, deleteRestore ? `QdrantRestore ${deleteRestore}` : undefined, deleteGreen ? `collection ${green} (this rollout made it)` : undefined].filter((x) => x !== undefined);
  const what = [deletes.length > 0 ? `deletes ${deletes.join(", ")}` : undefined, deleteGreen ? undefined : `keeps collection ${green} (this rollout did not create it, or it does not exist)`].filter((x) => x !== undefined);
  return {
    kind: "Abort",
    deleteGreen,
    ...(deleteJob ? { deleteJob } : {}),
    ...(deleteRestore ? { deleteRestore } : {}),
    message: `Aborted before promotion: the abort ${what.join(" and ")}; alias ${r.spec.alias} is untouched.`,
  };
}
