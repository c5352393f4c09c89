/**
 * The QdrantRestore controller's decisions, as one pure function of the restore and what the reconcile
 * observed, with the clock passed in: the reconcile (controller.ts) only observes, calls this and carries
 * out the one step it returns, so every policy × every observation is a table test without a cluster.
 *
 * Observations are lazy: when a decision needs something not observed yet, the step is `Observe` naming
 * it, the reconcile observes it and asks again. So a finished Once restore costs nothing, a Watching
 * IfMissing restore costs one look at its target (never a listing of the bucket), a drill between ticks
 * only a look in the Job cache (its clock says it waits; see {@link cacheSuffices}), and only a restore
 * about to start a Job resolves its source, checks its target's peers and asks for its turn.
 *
 * A run is one restore effort: Once's only one, IfMissing's each time the target is missing, a drill per
 * tick of drill.schedule. A run is one or more attempts, each its own Job (backoffLimit 0; contract.ts):
 * a retryable failure is tried again, after a backoff, up to spec.job.backoffLimit more times (default
 * 3). The next attempt owns the target (`ownedTarget`, the Job may replace it) only when the attempt
 * before it failed with a claim on that very collection: the claim says "it did not exist when I looked,
 * and I was about to create it", so a collection a person created never looks like ours. A drill's
 * temporary collection is ours by its name (names.ts drillCollectionName), so a drill always owns it.
 *
 * Phases: Pending (never run, or waiting before its first Job), Running (a run is in flight: its Job runs,
 * or its last attempt failed and the next is due), Succeeded (Once, for good), Failed (Once: for good at
 * this generation, a new generation runs again; IfMissing: until the next check; Drill: until the next
 * drill), Watching (IfMissing: the target exists; Drill: between drills).
 *
 * Crash windows the steps close (each step is safe to repeat):
 * - manager killed after a Job was created and before the status named it: the Job is
 *   restore-<name>-<jobCount+1>, found first (`unrecorded`) and adopted before anything else is decided,
 *   so a target the Job has already restored is not mistaken for a user's (between a drill's ticks it is
 *   looked for in the Job cache alone, which then holds any such Job: cacheSuffices);
 * - Job finished and its result not yet in the status: the status still says Running, so the Job's result
 *   is read again (the Job and its pods stay for a day: ttlSecondsAfterFinished);
 * - Job killed after its claim: its termination message is the provisional failure with the claim, read
 *   like any result, and the next attempt gets ownedTarget;
 * - manager killed between the Job's success and the alias switch or the drill's deletion of its
 *   temporary collection: the status still says Running with a succeeded Job, so `Complete` is decided
 *   again, and its alias switch (one create_alias, which re-points) and deletion (of a collection that may
 *   be gone already) are each safe to repeat.
 */
import type { QdrantRestoreStatus } from "../../api/v1alpha1/restore.ts";
import { peersNeeded } from "../../backup/topology/map-peers.ts";
import type { RestoreJobSuccess } from "../../jobs/restore/contract.ts";
import type { ResolvedSource } from "./source/resolve-source.ts";
import type { RestoreJobOutcome } from "./job-result.ts";
import { drillCollectionName, isDrillCollectionOf, restoreJobName } from "./names.ts";
import { cacheSuffices, drillTick } from "./drill-tick.ts";
import { methodFor } from "./method.ts";
import { failedAttemptMessage } from "../shared/failed-attempt.ts";
import { checkIntervalMs, maxAttempts, targetFromSpec, type Policy, type SpecCheck } from "./spec.ts";
import type { RestoreObject } from "./types.ts";

/** A missing reference, Secret or backup may appear later; a refused target may be fixed: look again this often. */
export const WAIT_MS = 30_000;
/** A safety net while a Job runs; Job events wake the restore sooner. */
export const RUNNING_RECHECK_MS = 10 * 60_000;
const RETRY_BASE_MS = 10_000;
const RETRY_MAX_MS = 5 * 60_000;

/** The wait before attempt `failed + 1`, after attempt `failed` failed: 10 s, 20 s, 40 s, … up to 5 min. */
export function retryDelayMs(failed: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, failed - 1));
}

export type ResolvedOk = Extract<ResolvedSource, { ok: true }>;

/** A Job of this restore whose creation the status does not record yet (restore-<name>-<jobCount+1>, ours). */
export interface UnrecordedJob {
  name: string;
  n: number;
  attempt: number;
  targetCollection?: string;
  backupId?: string;
  /** Drill: the tick it was started for. */
  scheduledTime?: string;
  createdAt?: string;
}

export type JobState = RestoreJobOutcome | { phase: "Missing" };

export type Check = { ok: true } | { ok: false; reason: string; message: string };

/**
 * The target on Qdrant: whether the name exists as a collection, whether it is an alias, and how many peers
 * the Job will find (looked up only before a Job: an IfMissing check does not discover the topology).
 */
export type TargetState =
  | { reachable: true; exists: boolean; aliasOf?: string; peers?: number }
  | { reachable: false; reason: string; message: string };

export interface Observed {
  now: Date;
  spec: SpecCheck;
  /** null: looked, none. */
  unrecorded?: UnrecordedJob | null;
  /** The Job status.jobName names, while the phase is Running. */
  job?: JobState;
  /** The target's QdrantConnection and its Secrets. */
  references?: Check;
  source?: ResolvedSource;
  target?: { collection: string; state: TargetState };
  /** null: nobody ahead. */
  ahead?: { message: string } | null;
}

export type Need = "unrecorded" | "job" | "references" | "source" | "target" | "turn";

/** What a Wait leaves the phase as: Running (mid-run), Pending, or what it is (IfMissing/Drill between runs). */
export type WaitPhase = "Pending" | "Running" | "Keep";

export type RestoreStep =
  /**
   * collection: the target to look at (peers: and the topology too); backupId: the source to resolve
   * exactly (a retry restores what its run chose); cached: the unrecorded Job is looked for in the Job
   * cache alone, not asked of the apiserver when the cache has none (a drill between ticks: {@link cacheSuffices}).
   */
  | { kind: "Observe"; need: Need; collection?: string; peers?: boolean; backupId?: string; cached?: boolean }
  | { kind: "Invalid"; message: string }
  /** Nothing to do and nothing to write: a finished Once restore. */
  | { kind: "Done" }
  | { kind: "Adopt"; job: UnrecordedJob }
  | { kind: "Wait"; phase: WaitPhase; reason: string; message: string; requeueMs: number; targetCollection?: string; backupId?: string }
  /** Between runs. keep: a failed run stays Failed until the next one (only nextScheduleTime and the requeue change). */
  | { kind: "Watch"; reason: "Watching" | "DrillScheduled"; message: string; requeueMs: number; nextScheduleTime?: Date; keep?: boolean }
  | {
      kind: "Start";
      n: number;
      jobName: string;
      attempt: number;
      maxAttempts: number;
      ownedTarget: boolean;
      method: "Pull" | "Upload";
      targetCollection: string;
      source: ResolvedOk;
      /** The run's start: kept from the status for a retry; undefined for a new run (now). */
      startTime?: string;
      /** Drill: the tick this run is for. */
      scheduledTime?: Date;
    }
  | { kind: "Running"; jobName: string; attempt: number; maxAttempts: number; startTime?: string }
  | {
      kind: "Complete";
      jobName: string;
      result?: RestoreJobSuccess;
      note?: string;
      completionTime?: string;
      switchAlias?: { alias: string; collection: string };
      deleteCollection?: string;
      requeueMs?: number;
      nextScheduleTime?: Date;
    }
  | { kind: "Fail"; reason: string; message: string; completionTime?: string; deleteCollection?: string; requeueMs?: number; nextScheduleTime?: Date; scheduledTime?: Date; targetCollection?: string; backupId?: string };

const observe = (need: Need, collection?: string): RestoreStep => ({ kind: "Observe", need, ...(collection !== undefined ? { collection } : {}) });
const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** Where a run stands when it goes on with another attempt. */
interface RunContext {
  attempt: number;
  ownedTarget: boolean;
  continuing: boolean;
  startTime?: string;
  scheduledTime?: Date;
  /** The attempt before left no result: an existing target may be its half-made collection, but is not known to be. */
  unclaimedFailure?: string;
}

export function decideRestore(r: RestoreObject, o: Observed): RestoreStep {
  if (!o.spec.ok) return { kind: "Invalid", message: o.spec.message };
  const { policy } = o.spec;
  const spec = r.spec;
  const status = r.status ?? {};
  const generation = r.metadata?.generation;

  if (policy === "Once" && status.phase === "Succeeded") return { kind: "Done" };
  if (policy === "Once" && status.phase === "Failed" && status.observedGeneration === generation) return { kind: "Done" };

  // A drill between runs: its tick, decided before anything is looked at (it is all a drill between ticks needs).
  const tick = policy === "Drill" && !(status.phase === "Running" && status.jobName) ? drillTick(r, o.spec.drill!, o.now, status.lastScheduleTime) : undefined;
  if (o.unrecorded === undefined) return tick && cacheSuffices(tick) ? { kind: "Observe", need: "unrecorded", cached: true } : observe("unrecorded");
  if (o.unrecorded !== null) return { kind: "Adopt", job: o.unrecorded };

  const max = maxAttempts(spec);
  let run: RunContext | undefined;
  if (status.phase === "Running" && status.jobName) {
    if (o.job === undefined) return observe("job");
    const attempt = status.attempt ?? 1;
    const job: JobState = o.job;
    switch (job.phase) {
      case "Running":
        return { kind: "Running", jobName: status.jobName, attempt, maxAttempts: max, ...(status.startTime ? { startTime: status.startTime } : {}) };
      case "Succeeded":
        return complete(r, o, policy, status.jobName, job);
      case "Failed":
      case "Missing": {
        const failure =
          job.phase === "Missing"
            ? { reason: "JobDeleted", message: `Job ${status.jobName} was deleted before it reported a result`, retryable: true as boolean, reported: false, claim: undefined, completionTime: undefined }
            : job;
        const claimed = failure.claim !== undefined && failure.claim.collection === status.targetCollection ? failure.claim.collection : undefined;
        if (!failure.retryable || attempt >= max) {
          const tried = attempt > 1 || failure.retryable ? ` (attempt ${attempt} of ${max})` : "";
          return fail(r, o, policy, failure.reason, `${failure.message}${tried}`, {
            ...(failure.completionTime ? { completionTime: failure.completionTime } : {}),
            // A drill's collection goes whatever happened; another only when an attempt claimed it (it made it).
            // By the name, not the policy (a spec edited mid-run must not make the real target look temporary).
            ...(status.targetCollection && isDrillCollectionOf(status.targetCollection, r.metadata?.uid ?? "") ? { deleteCollection: status.targetCollection } : claimed ? { deleteCollection: claimed } : {}),
          });
        }
        const failedAt = Date.parse(failure.completionTime ?? "");
        const due = Number.isFinite(failedAt) ? failedAt + retryDelayMs(attempt) : o.now.getTime();
        if (o.now.getTime() < due) {
          return {
            kind: "Wait",
            phase: "Running",
            reason: failure.reason,
            message: failedAttemptMessage({ attempt, maxAttempts: max, message: failure.message }, { startsAt: new Date(due) }),
            requeueMs: due - o.now.getTime(),
          };
        }
        run = {
          attempt: attempt + 1,
          ownedTarget: claimed !== undefined,
          continuing: true,
          ...(status.startTime ? { startTime: status.startTime } : {}),
          ...(status.lastScheduleTime ? { scheduledTime: new Date(status.lastScheduleTime) } : {}),
          ...(claimed === undefined && !failure.reported ? { unclaimedFailure: `attempt ${attempt} left no result saying whether it created it (${failure.reason})` } : {}),
        };
        break;
      }
    }
  }

  const keep: WaitPhase = policy === "Once" ? "Pending" : "Keep";
  const wait = (reason: string, message: string, extra: { targetCollection?: string; backupId?: string } = {}): RestoreStep => ({
    kind: "Wait",
    phase: run?.continuing ? "Running" : keep,
    reason,
    message,
    requeueMs: WAIT_MS,
    ...extra,
  });

  if (!run) {
    if (policy === "IfMissing") {
      const interval = checkIntervalMs(spec);
      if (status.phase === "Failed") {
        const failedAt = Date.parse(status.completionTime ?? "");
        const next = Number.isFinite(failedAt) ? failedAt + interval : o.now.getTime();
        if (o.now.getTime() < next) return { kind: "Watch", reason: "Watching", message: "", requeueMs: next - o.now.getTime(), keep: true };
      }
      if (o.references === undefined) return observe("references");
      if (!o.references.ok) return wait(o.references.reason, o.references.message);
      const name = targetFromSpec(spec) ?? status.targetCollection ?? (o.source?.ok ? o.source.sourceCollection : undefined);
      if (name === undefined) {
        if (o.source === undefined) return observe("source");
        if (!o.source.ok) return sourceProblem(r, o, policy, o.source, wait);
      }
      const target = name ?? (o.source as ResolvedOk).sourceCollection;
      if (o.target?.collection !== target) return observe("target", target);
      const t = o.target.state;
      if (!t.reachable) return wait(t.reason, t.message, { targetCollection: target });
      if (t.aliasOf !== undefined) return wait("TargetIsAlias", aliasMessage(target, t.aliasOf), { targetCollection: target });
      if (t.exists) return { kind: "Watch", reason: "Watching", message: `Collection ${target} exists; it is restored whenever it is missing (checked every ${seconds(interval)}, and when its QdrantConnection's status changes).`, requeueMs: interval };
    }
    let scheduledTime: Date | undefined;
    if (policy === "Drill") {
      const d = tick ?? drillTick(r, o.spec.drill!, o.now, status.lastScheduleTime);
      if (d.action !== "create" || d.scheduledTime === undefined) {
        return {
          kind: "Watch",
          reason: "DrillScheduled",
          message: `Next drill at ${d.requeueAt.toISOString()}.`,
          requeueMs: Math.max(1, d.requeueAt.getTime() - o.now.getTime()),
          nextScheduleTime: d.requeueAt,
          keep: status.phase === "Failed",
        };
      }
      scheduledTime = d.scheduledTime;
    }
    run = { attempt: 1, ownedTarget: false, continuing: false, ...(scheduledTime ? { scheduledTime } : {}) };
  }

  // Everything an attempt needs before its Job exists; each problem is a condition, nothing changed on Qdrant.
  if (o.references === undefined) return observe("references");
  if (!o.references.ok) return wait(o.references.reason, o.references.message);
  if (o.source === undefined) return run.continuing && status.backupId ? { kind: "Observe", need: "source", backupId: status.backupId } : observe("source");
  if (!o.source.ok) return sourceProblem(r, o, policy, o.source, wait, run);
  const source = o.source;
  const method = methodFor(spec, source);
  if (!method.ok) return fail(r, o, policy, method.reason, method.message, { ...(run.scheduledTime ? { scheduledTime: run.scheduledTime } : {}), backupId: source.candidate.backupId });
  const targetCollection = policy === "Drill" ? drillCollectionName(source.sourceCollection, r.metadata?.uid ?? "") : (spec.target.collection ?? source.sourceCollection);
  const ids = { targetCollection, backupId: source.candidate.backupId };
  if (o.target?.collection !== targetCollection || (o.target.state.reachable && o.target.state.peers === undefined)) return { kind: "Observe", need: "target", collection: targetCollection, peers: true };
  const t = o.target.state;
  if (!t.reachable) return wait(t.reason, t.message, ids);
  if (t.aliasOf !== undefined) return wait("TargetIsAlias", aliasMessage(targetCollection, t.aliasOf), ids);
  const needed = peersNeeded(source.files);
  if ((t.peers ?? 1) < needed) {
    return wait(
      "TopologyMismatch",
      `the backup ${source.candidate.backupId} has data on ${needed} peers and the target Qdrant (QdrantConnection ${spec.target.connectionRef.name}) has ${t.peers ?? 1}; each source peer's shards are recovered on a peer of their own, so restore into a Qdrant with at least ${needed} peers`,
      ids,
    );
  }
  // Owned whether or not it exists now: a recover an earlier attempt started may still create it (Qdrant
  // finishes a Pull on its own after the Job died) between this look and the Job's own.
  const ownedTarget = policy === "Drill" || run.ownedTarget;
  // With overwrite an existing target is replaced in place by the Job; not by IfMissing, whose target
  // being there (re-created by its app during a retry's backoff, say) is what it watches for.
  if (t.exists && !ownedTarget && (policy === "IfMissing" || spec.overwrite !== true)) {
    // IfMissing: there, and not known to be an earlier attempt's: watched (a retry whose attempt before said it made nothing, too).
    if (policy === "IfMissing" && !run.unclaimedFailure) return { kind: "Watch", reason: "Watching", message: `Collection ${targetCollection} exists; it is restored whenever it is missing.`, requeueMs: checkIntervalMs(spec) };
    else {
      const earlier = run.unclaimedFailure ? `; ${run.unclaimedFailure}, so it may be that attempt's half-made collection: check it, delete it and the restore goes on` : "";
      return wait("TargetExists", `spec.target.collection: collection ${targetCollection} exists on the target Qdrant and spec.overwrite is not set; nothing was changed${earlier}`, ids);
    }
  }
  if (o.ahead === undefined) return observe("turn");
  if (o.ahead !== null) return wait("WaitingForTurn", o.ahead.message, ids);
  const n = (status.jobCount ?? 0) + 1;
  return {
    kind: "Start",
    n,
    jobName: restoreJobName(r.metadata?.name ?? "", n),
    attempt: run.attempt,
    maxAttempts: max,
    ownedTarget,
    method: method.method,
    targetCollection,
    source,
    ...(run.startTime ? { startTime: run.startTime } : {}),
    ...(run.scheduledTime ? { scheduledTime: run.scheduledTime } : {}),
  };
}

function aliasMessage(name: string, collection: string): string {
  return `spec.target.collection: ${name} is an alias (of collection ${collection}) on the target Qdrant; recovering into it would overwrite the collection behind it, so name a collection instead (spec.target.alias points an alias at the restored collection)`;
}

function sourceProblem(r: RestoreObject, o: Observed, policy: Policy, s: Extract<ResolvedSource, { ok: false }>, wait: (reason: string, message: string) => RestoreStep, run?: RunContext): RestoreStep {
  if (s.retryable) return wait(s.reason, s.message);
  return fail(r, o, policy, s.reason, s.message, run?.scheduledTime ? { scheduledTime: run.scheduledTime } : {});
}

/** When the next look is due after a run ended: Once never, IfMissing at the next check, a drill at its next tick. */
function afterRun(r: RestoreObject, o: Observed, policy: Policy, scheduledFrom?: string): { requeueMs?: number; nextScheduleTime?: Date } {
  if (policy === "IfMissing") return { requeueMs: checkIntervalMs(r.spec) };
  if (policy !== "Drill" || !o.spec.ok || !o.spec.drill) return {};
  const d = drillTick(r, o.spec.drill, o.now, scheduledFrom);
  // A tick missed while this drill ran is due at once (one catch-up, as decideTick says).
  return { requeueMs: d.action === "create" ? 1 : Math.max(1, d.requeueAt.getTime() - o.now.getTime()), nextScheduleTime: d.requeueAt };
}

function complete(r: RestoreObject, o: Observed, policy: Policy, jobName: string, job: Extract<RestoreJobOutcome, { phase: "Succeeded" }>): RestoreStep {
  const status: QdrantRestoreStatus = r.status ?? {};
  const collection = job.result?.targetCollection ?? status.targetCollection;
  const alias = policy !== "Drill" ? r.spec.target.alias : undefined;
  return {
    kind: "Complete",
    jobName,
    ...(job.result ? { result: job.result } : {}),
    ...(job.note ? { note: job.note } : {}),
    ...(job.completionTime ? { completionTime: job.completionTime } : {}),
    ...(alias && collection ? { switchAlias: { alias, collection } } : {}),
    // Only a collection named as this restore's drill's is temporary, whatever the policy says now.
    ...(collection && isDrillCollectionOf(collection, r.metadata?.uid ?? "") ? { deleteCollection: collection } : {}),
    ...afterRun(r, o, policy, status.lastScheduleTime),
  };
}

function fail(r: RestoreObject, o: Observed, policy: Policy, reason: string, message: string, extra: Partial<Extract<RestoreStep, { kind: "Fail" }>>): RestoreStep {
  const scheduled = extra.scheduledTime?.toISOString() ?? r.status?.lastScheduleTime;
  return { kind: "Fail", reason, message, ...extra, ...afterRun(r, o, policy, scheduled) };
}
