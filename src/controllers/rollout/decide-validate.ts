/**
 * Validating and AwaitingPromotion: judge green with the gates, then promote it.
 *
 * The Qdrant gates are evaluated every GATE_RECHECK_MS until they all pass or gates.timeout (counted from
 * status.gatesStartTime) runs out; then the gate Job, once (its exit code is the verdict: failed, killed or
 * deleted is no). A pass is recorded in the status first (Validating with every row passed, GatesPassed
 * True at this generation) and acted on by the next reconcile, so what the status shows is what the
 * switch was decided on, and a manager killed between the record and the switch switches once on the next
 * reconcile without judging again. A recorded pass counts at the generation it was recorded only: an
 * edited spec (a new generation) while Validating or AwaitingPromotion is judged again from the start —
 * the Qdrant gates, then a new gate Job if one is configured, gates.timeout counted again from that first
 * evaluation (decide-shared.ts judgedAt). Manual promotion waits in AwaitingPromotion; setting
 * spec.promotion.approved is a spec edit too, so approval judges green once more and switches when it still
 * passes (the status cannot tell an approval from an edit of the gates; the conservative reading: a
 * promotion is never made on a judgment of another spec). backupActiveFirst's QdrantBackup of the active
 * collection must succeed first. The switch itself is the controller's (one create_alias, re-checked right before).
 *
 * The alias is never touched by any failure here: every Fail leaves it where the rollout found it.
 */
import { ERROR_CODES } from "../../errors.ts";
import type { GateResult } from "./gates/types.ts";
import { beforeSwitchBackupName, rolloutJobName } from "./names.ts";
import { gatesTimeoutMs } from "./spec.ts";
import { failingSummary, GATE_RECHECK_MS, judgedAt, observe, ours, RECORDED_MS, seconds, strangersGreen, userOwnedGreen, WAIT_MS, type Ctx, type View } from "./decide-shared.ts";
import type { ChildState, GateEvaluation, RolloutStep } from "./steps.ts";

/** The status.gates row of the gate Job. */
export const JOB_ROW = "job";
/** A plain reason (status.ts): the backupActiveFirst backup is running. */
export const BACKING_UP_ACTIVE = "BackingUpActive";

const passedAll = (rows: readonly GateResult[]) => `all ${rows.length} gate${rows.length === 1 ? "" : "s"} passed`;

/**
 * The status says the gates passed, at this generation (an edited spec is judged again). `anyGeneration`:
 * the last judgment said so, whatever the generation since (a switch found made: see couldHaveSwitched).
 */
function passRecorded(c: Ctx, anyGeneration = false): boolean {
  const cond = c.status.conditions?.find((x) => x.type === "GatesPassed");
  if (cond?.status !== "True" || (!anyGeneration && cond.observedGeneration !== c.r.metadata?.generation)) return false;
  const rows = c.status.gates ?? [];
  if (!rows.every((x) => x.passed)) return false;
  return c.r.spec.gates?.job === undefined || rows.some((x) => x.name === JOB_ROW && x.passed);
}

/**
 * The alias found on green before the status says Promoted: could this rollout have made that switch? Only
 * when what it switches on holds: the gates' pass recorded (written before the switch, so a manager killed
 * after its switch still satisfies it; the last judgment's, whatever the generation: a spec edited — say
 * spec.abort — between a real switch and its lost status write must not make our switch a stranger's, and
 * a re-judgment at a new generation that has not passed overwrites it), approved when Manual (the spec
 * now), and backupActiveFirst's backup Succeeded. "backup": that backup must be observed first.
 */
export function couldHaveSwitched(c: Ctx): { ours: true } | { ours: false; why: string } | "backup" {
  if (!passRecorded(c, true)) return { ours: false, why: "before the gates passed" };
  const p = c.r.spec.promotion;
  if (p?.mode === "Manual" && p.approved !== true) return { ours: false, why: "before spec.promotion.approved" };
  const active = c.status.activeCollection || null;
  if (p?.backupActiveFirst && active !== null) {
    if (c.o.backup === undefined) return "backup";
    const b = c.o.backup;
    if (!(b.exists && b.ours && b.phase === "Succeeded" && backsUp(b, active))) return { ours: false, why: `before the backup of ${active} (spec.promotion.backupActiveFirst) succeeded` };
  }
  return { ours: true };
}

export function decideValidate(c: Ctx, v: View): RolloutStep {
  const { r, status } = c;
  const green = r.spec.collection;
  const userOwned = userOwnedGreen(c);
  if (!v.green.exists) {
    if (userOwned) return c.wait(ERROR_CODES.GREEN_MISSING.reason, `spec.collection: collection ${green} does not exist (it went away); source external expects your pipeline to create it`);
    return { kind: "Fail", reason: ERROR_CODES.GREEN_MISSING.reason, message: `spec.collection: collection ${green} was deleted after this rollout built it; alias ${r.spec.alias} is untouched` };
  }
  if (!userOwned && !ours(c, v)) return strangersGreen(c, v);
  if (passRecorded(c)) return promote(c, v);

  // The first evaluation at this generation starts the timeout again (statusFor sets gatesStartTime to now).
  const judging = judgedAt(status, r.metadata?.generation);
  const timeout = gatesTimeoutMs(r.spec);
  const started = judging ? Date.parse(status.gatesStartTime ?? "") : NaN;
  const deadline = (Number.isFinite(started) ? started : c.now) + timeout;
  const rows = status.gates ?? [];
  const timedOut = (results: readonly GateResult[], deleteJob?: string): RolloutStep => ({
    kind: "Fail",
    reason: ERROR_CODES.GATES_TIMED_OUT.reason,
    message: `spec.gates.timeout: gates not passed within ${seconds(timeout)} (since ${new Date(deadline - timeout).toISOString()}): ${failingSummary(results)}; alias ${r.spec.alias} is untouched and collection ${green} is kept`,
    gates: { results: [...results], allPassed: false },
    ...(deleteJob ? { deleteJob } : {}),
  });

  const jobRow = rows.find((x) => x.name === JOB_ROW);
  // The gate Job's verdict counts when it was started at this generation (an edited spec runs a new one).
  if (r.spec.gates?.job && c.phase === "Validating" && judging && jobRow && status.jobName) {
    if (c.o.job === undefined) return observe("job");
    const job = c.o.job;
    const withJob = (row: GateResult): GateResult[] => rows.map((x) => (x.name === JOB_ROW ? row : x));
    switch (job.phase) {
      case "Running":
        if (c.now >= deadline) return timedOut(withJob({ ...jobRow, passed: false, observed: "running", message: `Job ${status.jobName} was still running` }), status.jobName);
        return { kind: "Validating", gates: { results: rows, allPassed: false }, message: `Every Qdrant gate passed; gate Job ${status.jobName} is running (its exit code is the verdict).`, requeueMs: Math.min(WAIT_MS, deadline - c.now) };
      case "Succeeded": {
        const results = withJob({ name: JOB_ROW, passed: true, observed: "exit 0", threshold: "exit 0", message: `Job ${status.jobName} succeeded` });
        return { kind: "Validating", gates: { results, allPassed: true }, message: `${passedAll(results)}; promoting.`, requeueMs: RECORDED_MS };
      }
      case "Failed":
      case "Missing": {
        const what = job.phase === "Missing" ? `was deleted before it finished` : `failed (${job.reason}: ${job.message})`;
        const results = withJob({ name: JOB_ROW, passed: false, observed: job.phase === "Missing" ? "deleted" : "failed", threshold: "exit 0", message: `Job ${status.jobName} ${what}` });
        return {
          kind: "Fail",
          reason: ERROR_CODES.GATE_JOB_FAILED.reason,
          message: `spec.gates.job: gate Job ${status.jobName} ${what}; its verdict is no (a killed or deleted gate Job never passes); alias ${r.spec.alias} is untouched and collection ${green} is kept`,
          gates: { results, allPassed: false },
        };
      }
    }
  }

  if (c.o.gates === undefined) return observe("gates");
  const gates: GateEvaluation = c.o.gates;
  if (gates.fatal) {
    return { kind: "Fail", reason: gates.fatal.reason, message: `${gates.fatal.message}; alias ${r.spec.alias} is untouched and collection ${green} is kept`, gates: { ...gates, allPassed: false } };
  }
  if (gates.allPassed) {
    if (r.spec.gates?.job) {
      const n = (status.jobCount ?? 0) + 1;
      return { kind: "StartGateJob", n, jobName: rolloutJobName(c.name, n), gates };
    }
    return { kind: "Validating", gates, message: `${passedAll(gates.results)}; promoting.`, requeueMs: RECORDED_MS };
  }
  if (c.now >= deadline) return timedOut(gates.results);
  return { kind: "Validating", gates, message: `Gates not passed yet: ${failingSummary(gates.results)}.`, requeueMs: Math.max(1, Math.min(GATE_RECHECK_MS, deadline - c.now)) };
}

/**
 * Validating with Qdrant unreachable: the rows stay as they were and the timeout still runs. Past it, the
 * rollout fails as any other (alias untouched: nothing is asked of Qdrant); before it, the Wait is requeued
 * no later than the deadline.
 */
export function unreachableWhileJudging(c: Ctx, reason: string, message: string): RolloutStep {
  if (c.phase !== "Validating" || passRecorded(c) || !judgedAt(c.status, c.r.metadata?.generation)) return c.wait(reason, message);
  const timeout = gatesTimeoutMs(c.r.spec);
  const started = Date.parse(c.status.gatesStartTime ?? "");
  if (!Number.isFinite(started)) return c.wait(reason, message);
  const deadline = started + timeout;
  if (c.now < deadline) return c.wait(reason, message, Math.max(1, Math.min(WAIT_MS, deadline - c.now)));
  const rows = c.status.gates ?? [];
  return {
    kind: "Fail",
    reason: ERROR_CODES.GATES_TIMED_OUT.reason,
    message: `spec.gates.timeout: gates not passed within ${seconds(timeout)} (since ${new Date(started).toISOString()}); the last evaluation: ${failingSummary(rows)}; then Qdrant did not answer (${message}); alias ${c.r.spec.alias} is untouched`,
    gates: { results: rows, allPassed: false },
  };
}

/** Our before-switch backup backs up exactly the active collection (its spec.collections.names is [active]). */
function backsUp(b: ChildState, active: string): boolean {
  return b.exists && b.collections?.length === 1 && b.collections[0] === active;
}

/** The gates passed: (Manual: approval) → (backupActiveFirst) → the switch. */
function promote(c: Ctx, v: View): RolloutStep {
  const { r, status } = c;
  const alias = r.spec.alias;
  const green = r.spec.collection;
  const active = status.activeCollection || null;
  if (v.aliasTarget !== active) {
    return c.wait(
      ERROR_CODES.ALIAS_MOVED.reason,
      `spec.alias: alias ${alias} points at ${v.aliasTarget ?? "nothing"}, not at ${active ?? "nothing"} as when this rollout began (the gates compared green with that); point it back, or set spec.abort and start a new rollout`,
    );
  }
  const promotion = r.spec.promotion;
  if (promotion?.mode === "Manual" && promotion.approved !== true) {
    return c.phase === "AwaitingPromotion" ? { kind: "AwaitPromotion" } : { kind: "AwaitPromotion", gates: { results: status.gates ?? [], allPassed: true } };
  }
  if (promotion?.backupActiveFirst && active !== null) {
    if (c.o.backup === undefined) return observe("backup");
    const b = c.o.backup;
    const name = beforeSwitchBackupName(c.name, c.r.metadata?.uid ?? "");
    if (!b.exists) return { kind: "CreateBackup", name, collection: active };
    if (!b.ours) {
      return { kind: "Fail", reason: ERROR_CODES.BACKUP_BEFORE_SWITCH_FAILED.reason, message: `spec.promotion.backupActiveFirst: a QdrantBackup named ${name} exists and is not this rollout's; alias ${alias} was not switched` };
    }
    if (!backsUp(b, active)) {
      const what = b.collections && b.collections.length > 0 ? `collection${b.collections.length === 1 ? "" : "s"} ${b.collections.join(", ")}` : "no named collection";
      return {
        kind: "Fail",
        reason: ERROR_CODES.BACKUP_BEFORE_SWITCH_FAILED.reason,
        message: `spec.promotion.backupActiveFirst: QdrantBackup ${name} backs up ${what}, not the active collection ${active} (the active collection changed since it was created); alias ${alias} was not switched`,
      };
    }
    if (b.phase === "Failed") {
      const why = [b.reason, b.message].filter((x) => x).join(": ");
      return { kind: "Fail", reason: ERROR_CODES.BACKUP_BEFORE_SWITCH_FAILED.reason, message: `spec.promotion.backupActiveFirst: QdrantBackup ${name} of collection ${active} failed${why ? ` (${why})` : ""}; alias ${alias} was not switched` };
    }
    if (b.phase !== "Succeeded") return c.wait(BACKING_UP_ACTIVE, `QdrantBackup ${name} is backing up collection ${active}; alias ${alias} is switched to ${green} when it succeeds`);
  }
  return { kind: "Switch", from: v.aliasTarget, to: green, reason: "Promote", message: `Switched alias ${alias} to ${green}${v.aliasTarget ? ` (from ${v.aliasTarget})` : ""}` };
}
