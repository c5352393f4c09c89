/**
 * Reading a restore Job's result: the shared outcome reader (src/controllers/shared/job-outcome.ts) with
 * the restore's container and its success schema (src/jobs/restore/contract.ts), plus what only a restore
 * needs from a failure: whether a retry may help, and the attempt's claim on the target collection.
 *
 * Retryable: as the failure says (`retryable` when the reader passes it on); otherwise as the registry
 * says for its reason (src/errors.ts: the Job sets `retryable` from the same registry); a failure with no
 * result at all (a pod lost with its node, an OOM kill before the provisional result, a Job deleted) is
 * retryable: nothing says a retry cannot help, and the claim rules keep a retry from replacing anything it
 * does not own.
 */
import { ERROR_CODES } from "../../errors.ts";
import type { RestoreClaim, RestoreJobSuccess } from "../../jobs/restore/contract.ts";
import { claimOf, restoreResults as results } from "../../jobs/restore/result.ts";
import type { JobObject, PodObject } from "../shared/job-objects.ts";
import { readJobOutcome } from "../shared/job-outcome.ts";
import { CONTAINER_NAME } from "./names.ts";

export type RestoreJobOutcome =
  | { phase: "Running"; startTime?: string }
  | { phase: "Succeeded"; result?: RestoreJobSuccess; note?: string; startTime?: string; completionTime?: string }
  /**
   * `reported`: the failure is the Job's own result (its words, its claim or none: a Job that failed after
   * its claim deleted what it made before it said so). False when no result was left (a pod lost with its
   * node, a container that died before writing one): then whether it made anything is not known.
   */
  | { phase: "Failed"; reason: string; message: string; retryable: boolean; reported: boolean; claim?: RestoreClaim; startTime?: string; completionTime?: string };

const registry = new Map<string, boolean>(Object.values(ERROR_CODES).map((c) => [c.reason, c.retryable]));
/** Reasons only the Job kind knows: the provisional result of a killed attempt. */
registry.set("Interrupted", true);

/** The reasons readJobOutcome takes from the Job's own condition when no pod left a result (the Job controller's, or its stand-in). */
const UNREPORTED = new Set(["JobFailed", "BackoffLimitExceeded", "DeadlineExceeded", "PodFailurePolicy", "MaxFailedIndexesExceeded", "FailedIndexes"]);

/** What a restore Job and its pods say about the attempt. */
export function restoreJobOutcome(job: JobObject, pods: PodObject[]): RestoreJobOutcome {
  const outcome = readJobOutcome(job, pods, { container: CONTAINER_NAME, results, authority: "the restored collection on Qdrant and the restore's verification" });
  if (outcome.phase !== "Failed") return outcome;
  const { reason, message, startTime, completionTime } = outcome;
  const detail = (outcome as { detail?: Record<string, unknown> }).detail;
  const told = (outcome as { retryable?: unknown }).retryable ?? detail?.retryable;
  const retryable = typeof told === "boolean" ? told : (registry.get(reason) ?? true);
  const claim = claimOf(detail);
  return { phase: "Failed", reason, message, retryable, reported: claim !== undefined || !UNREPORTED.has(reason), ...(claim ? { claim } : {}), ...(startTime ? { startTime } : {}), ...(completionTime ? { completionTime } : {}) };
}
