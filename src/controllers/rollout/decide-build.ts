/**
 * Preparing: green is built, per source, until it is ready to be judged (decide-validate.ts).
 *
 * - copyFrom: create green (stamped) like the config says or like its source, then copy Jobs until green's
 *   own record says done (or the Job says so). A retryable failure is tried again with a new Job after a
 *   backoff, up to 1 + spec.job.backoffLimit attempts, resuming from green's own record only (a green
 *   without one starts from nothing). Green deleted after a copy Job ran into it → Fail GreenMissing
 *   (never silently made again: its status describes the one that is gone). Crash windows: green created but not recorded → its stamp is ours, adopted; a Job
 *   created but not recorded → adopted by its name before this runs (decide.ts); the manager killed
 *   mid-copy → the Job goes on; the Job killed → the next attempt resumes from the record.
 * - external: create green when there is a config (then it must carry our stamp), else wait for the user's
 *   pipeline to create it; either way it is judged as soon as it exists (the gates decide when it is full).
 * - fromBackup: the QdrantRestore rollout-<name> restores into green; its own claim machinery refuses a
 *   collection that exists (TargetExists), so green existing before the restore succeeded is not ours
 *   yet. Once it succeeded into green (status.targetCollection exactly green), green is ours by the
 *   restore's claim, whatever owner stamp the snapshot carried (a collection an earlier rollout built
 *   carries that rollout's), and is stamped (StampGreen: our owner record, the snapshot's copy record
 *   removed): from then on it is ours like any other.
 */
import { ERROR_CODES } from "../../errors.ts";
import type { CopyProgress } from "../../jobs/copy/contract.ts";
import { greenRestoreName, rolloutJobName } from "./names.ts";
import { maxAttempts } from "./spec.ts";
import { BUILDING_RECHECK_MS, observe, RECORDED_MS, ours, RESTORE_RECHECK_MS, retryDelayMs, strangersGreen, type Ctx, type View } from "./decide-shared.ts";
import type { ChildState, RolloutStep } from "./steps.ts";

/** Our QdrantRestore succeeded into `green` (its status names exactly green, as the acts require). */
export function restoredInto(rs: ChildState | undefined, green: string): boolean {
  return rs !== undefined && rs.exists && rs.ours && rs.phase === "Succeeded" && rs.targetCollection === green;
}

/** `validate`: the decision once green is built (the gates). */
export function decideBuild(c: Ctx, v: View, validate: () => RolloutStep): RolloutStep {
  const src = c.r.spec.source;
  if (src.external) return external(c, v, validate);
  if (src.fromBackup) return fromBackup(c, v, validate);
  return copyFrom(c, v, validate);
}

function external(c: Ctx, v: View, validate: () => RolloutStep): RolloutStep {
  const config = c.r.spec.source.external?.config;
  const green = c.r.spec.collection;
  if (!v.green.exists) {
    if (config) return { kind: "CreateGreen", config, field: "spec.source.external.config" };
    return c.wait(
      ERROR_CODES.GREEN_MISSING.reason,
      `spec.collection: collection ${green} does not exist yet; source external without a config expects your pipeline to create and fill it, and the gates judge it once it exists`,
    );
  }
  if (config && !ours(c, v)) return strangersGreen(c, v);
  return validate();
}

const percent = (p: CopyProgress) => (p.total ? ` (${Math.floor((p.copied / Math.max(p.total, 1)) * 100)}%)` : "");
const progress = (p: CopyProgress | undefined) => (p ? `: ${p.copied}${p.total !== undefined ? ` of ${p.total}` : ""} points${percent(p)}` : "");

function copyFrom(c: Ctx, v: View, validate: () => RolloutStep): RolloutStep {
  const { r, status } = c;
  const green = r.spec.collection;
  if (v.green.exists && !ours(c, v)) return strangersGreen(c, v);
  if (v.green.exists && v.green.copy?.done) return recorded(c, v.green.copy) ?? validate();
  if (!v.green.exists && (status.jobName || status.copy)) return deletedWhileBuilt(c);
  const max = maxAttempts(r.spec);
  let attempt = 1;
  if (status.jobName) {
    if (c.o.job === undefined) return observe("job");
    const job = c.o.job;
    if (job.phase === "Running") {
      const from = r.spec.source.copyFrom?.collection ?? (status.activeCollection || v.source?.name || "its source");
      return { kind: "Building", message: `Job ${status.jobName} is copying collection ${from} into ${green}${progress(v.green.copy)}.`, ...(v.green.copy ? { copy: v.green.copy } : {}), requeueMs: BUILDING_RECHECK_MS };
    }
    if (job.phase === "Succeeded") {
      const done = v.green.copy?.done ? v.green.copy : job.copy ? { copied: job.copy.copiedPoints, ...(job.copy.totalPoints !== undefined ? { total: job.copy.totalPoints } : {}), done: true, attempt: 1 } : undefined;
      return (done && recorded(c, done)) ?? validate();
    }
    const failure =
      job.phase === "Missing"
        ? { reason: ERROR_CODES.COPY_FAILED.reason, message: `Job ${status.jobName} was deleted before it reported a result`, retryable: true, completionTime: undefined, attempt: v.green.copy?.attempt }
        : job;
    // The Job's own attempt (its annotation); without it, green's record names the last attempt that wrote
    // one, never more than the one that failed: counting from it can only allow fewer retries, never more.
    const failed = failure.attempt ?? Math.max(1, v.green.copy?.attempt ?? 1);
    if (!failure.retryable || failed >= max) {
      const tried = failed > 1 || failure.retryable ? ` (attempt ${failed} of ${max})` : "";
      return { kind: "Fail", reason: failure.reason, message: `${failure.message}${tried}; alias ${r.spec.alias} is untouched and collection ${green} is kept` };
    }
    const failedAt = Date.parse(failure.completionTime ?? "");
    const due = Number.isFinite(failedAt) ? failedAt + retryDelayMs(failed) : c.now;
    if (c.now < due) {
      return c.wait(failure.reason, `attempt ${failed} of ${max} failed: ${failure.message}; attempt ${failed + 1} starts at ${new Date(due).toISOString()}`, due - c.now);
    }
    attempt = failed + 1;
  }
  const from = r.spec.source.copyFrom?.collection ?? (status.activeCollection || undefined);
  if (from === undefined) {
    return c.wait(
      ERROR_CODES.SOURCE_NOT_FOUND.reason,
      `spec.source.copyFrom.collection: there is no collection to copy from: alias ${r.spec.alias} did not exist when this rollout began and copyFrom.collection is not set`,
    );
  }
  if (!v.source?.exists) {
    const what = v.source?.aliasOf !== undefined ? `${from} is an alias (of collection ${v.source.aliasOf}), not a collection` : `collection ${from} does not exist on the Qdrant`;
    const field = r.spec.source.copyFrom?.collection !== undefined ? "spec.source.copyFrom.collection" : "spec.alias";
    return c.wait(ERROR_CODES.SOURCE_NOT_FOUND.reason, `${field}: ${what}, so there is nothing to copy from`);
  }
  if (!v.green.exists) {
    const config = r.spec.source.copyFrom?.config;
    return config ? { kind: "CreateGreen", config, source: from, field: "spec.source.copyFrom.config" } : { kind: "CreateGreen", source: from, field: "spec.source.copyFrom" };
  }
  const n = (status.jobCount ?? 0) + 1;
  // Green's own record only: the Job writes it before its first page, so a green without one has nothing
  // copied into it (status.copy, the mirror, may be an earlier green's).
  const resumeFrom = v.green.copy?.nextOffset;
  return { kind: "StartCopy", n, jobName: rolloutJobName(c.name, n), attempt, source: from, ...(resumeFrom !== undefined ? { resumeFrom } : {}) };
}

/**
 * Green is gone after a copy Job ran into it (status.jobName or status.copy says so): Fail GreenMissing,
 * not a new green. Someone deleted it mid-build; creating it again silently would hide that, and the
 * status (its copy figures, the Job's attempts) describes the collection that is gone. A running Job is
 * stopped. The alias is untouched; a new generation (any spec edit) begins again from nothing.
 */
function deletedWhileBuilt(c: Ctx): RolloutStep {
  const { r, status } = c;
  let deleteJob: string | undefined;
  if (status.jobName) {
    if (c.o.job === undefined) return observe("job");
    if (c.o.job.phase === "Running") deleteJob = status.jobName;
  }
  const by = status.jobName ? ` (Job ${status.jobName} was copying into it)` : "";
  return {
    kind: "Fail",
    reason: ERROR_CODES.GREEN_MISSING.reason,
    message: `spec.collection: collection ${r.spec.collection} was deleted while it was being built${by}; it is not created again over what the status records: alias ${r.spec.alias} is untouched; edit the spec to begin again from nothing, or set spec.abort`,
    ...(deleteJob ? { deleteJob } : {}),
  };
}

/**
 * The finished copy's figures, written to status.copy once before green is judged: a copy that ends
 * between two progress looks (or before the first) would otherwise leave status.copy at its last
 * mid-copy figures, or none, for good. Undefined when the status already says so.
 */
function recorded(c: Ctx, p: CopyProgress): RolloutStep | undefined {
  const s = c.status.copy;
  if (s?.done === true && s.copiedPoints === p.copied && s.totalPoints === p.total) return undefined;
  return { kind: "Building", message: `Copied ${p.copied}${p.total !== undefined ? ` of ${p.total}` : ""} points into collection ${c.r.spec.collection}; judging it next.`, copy: p, requeueMs: RECORDED_MS };
}

function fromBackup(c: Ctx, v: View, validate: () => RolloutStep): RolloutStep {
  const green = c.r.spec.collection;
  if (ours(c, v)) return validate();
  if (c.o.restore === undefined) return observe("restore");
  const rs = c.o.restore;
  const name = greenRestoreName(c.name);
  if (!rs.exists) {
    if (v.green.exists) return strangersGreen(c, v);
    return { kind: "CreateRestore", name };
  }
  if (!rs.ours) {
    return { kind: "Fail", reason: ERROR_CODES.RESTORE_FAILED.reason, message: `spec.source.fromBackup: a QdrantRestore named ${name} exists and is not this rollout's; delete it (or rename this rollout) and apply again` };
  }
  if (rs.phase === "Succeeded") {
    if (!restoredInto(rs, green)) {
      const what = rs.targetCollection !== undefined ? `collection ${rs.targetCollection}` : "a collection its status does not name";
      return { kind: "Fail", reason: ERROR_CODES.RESTORE_FAILED.reason, message: `spec.source.fromBackup: QdrantRestore ${name} restored ${what}, not ${green}` };
    }
    if (!v.green.exists) return { kind: "Fail", reason: ERROR_CODES.GREEN_MISSING.reason, message: `spec.collection: QdrantRestore ${name} restored collection ${green}, and the collection is gone` };
    // Ours by the restore's claim, whatever owner stamp the snapshot carried (a collection an earlier rollout
    // built brings that rollout's OWNER_METADATA, and its done COPY_METADATA): StampGreen overwrites both.
    return { kind: "StampGreen" };
  }
  if (rs.phase === "Failed") {
    const why = [rs.reason, rs.message].filter((x) => x).join(": ");
    return { kind: "Fail", reason: ERROR_CODES.RESTORE_FAILED.reason, message: `spec.source.fromBackup: QdrantRestore ${name} failed${why ? ` (${why})` : ""}; alias ${c.r.spec.alias} is untouched` };
  }
  if (rs.reason === ERROR_CODES.TARGET_EXISTS.reason) return strangersGreen(c, { ...v, green: { ...v.green, exists: true } });
  return { kind: "Building", message: `QdrantRestore ${name} is restoring the backup into collection ${green}${rs.phase ? ` (${rs.phase}${rs.message ? `: ${rs.message}` : ""})` : ""}.`, requeueMs: RESTORE_RECHECK_MS };
}
