/**
 * A restore Job's result, both ways. The Job: how its success shrinks to fit the 4 KiB termination
 * message (without the per-peer list), and the provisional failure with the claim it writes before its
 * first call that may create the target (contract.ts). The controller: the reader of a restore Job's
 * termination message (the failure is every Job's; readJobOutcome hands the claim back in `detail`), and
 * the claim read from that detail, checked.
 */
import { checker } from "../protocol/schema-check.ts";
import { resultReader } from "../protocol/termination-message.ts";
import { RestoreClaim, RestoreJobSuccess, type RestoreJobFailure } from "./contract.ts";

/** The reader of restore Jobs' termination messages (src/controllers/shared/job-outcome.ts OutcomeReading.results). */
export const restoreResults = resultReader(RestoreJobSuccess, "RestoreFailed");

const claims = checker(RestoreClaim, "claim");

/** The claim a failed restore Job left (JobOutcome Failed `detail`), when it is one. */
export function claimOf(detail: Record<string, unknown> | undefined): RestoreClaim | undefined {
  return detail?.claim === undefined ? undefined : claims.read(detail.claim);
}

/** The success without its per-peer list, when the whole does not fit. */
export function* smallerRestoreResults(result: RestoreJobSuccess): Generator<RestoreJobSuccess> {
  const { peers: _peers, ...rest } = result;
  yield rest;
}

/**
 * What the Job writes before its first call that may create `collection`: if the pod is killed from here
 * on, this is what the kubelet keeps, and the next attempt may replace what this one half-made.
 */
export function provisionalFailure(collection: string, attempt: number): RestoreJobFailure & { claim: RestoreClaim } {
  return {
    ok: false,
    reason: "Interrupted",
    retryable: true,
    message: `restore attempt ${attempt} was killed while restoring into collection "${collection}" (it may have created it part-way; the next attempt replaces it)`,
    claim: { collection, attempt },
  };
}
