/**
 * The failed result every kind of Job reports, in one shape: a CamelCase reason from src/errors.ts, the
 * failing side's own words ("No space left on device", S3's "The Access Key Id you provided does not
 * exist…") and whether a retry may help. Termination messages are readable by anyone who may read Pods,
 * so every message is scrubbed of the run's secret values before it is written.
 */
import { Type, type Static } from "@sinclair/typebox";
import { isOperatorError } from "../../errors.ts";
import type { Redactor } from "../../runtime/redact.ts";

/** What a reason must look like to be shown as a condition's reason. */
export const REASON_PATTERN = /^[A-Z][A-Za-z0-9]{0,127}$/;

/** The longest failure message a Job writes: the rest of the 4 KiB is the envelope. */
export const MAX_FAILURE_MESSAGE = 3000;

/**
 * As read by the controller: a reason that is not CamelCase, or no `retryable`, still makes a failure
 * (job-outcome.ts substitutes the Job kind's own reason and treats it as final).
 */
export const JobFailure = Type.Object({
  ok: Type.Literal(false),
  reason: Type.String({ description: "CamelCase, from src/errors.ts (e.g. QdrantError, StorageAccessDenied)." }),
  message: Type.String({ description: "What failed, in the failing side's own words; secrets scrubbed." }),
  retryable: Type.Optional(Type.Boolean()),
});
export type JobFailure = Required<Static<typeof JobFailure>>;

/** A failure as the failed result, scrubbed by `redactor`. */
export function failureResult(err: unknown, redactor: Redactor): JobFailure {
  if (isOperatorError(err)) {
    let message = err.message;
    // s3Error's message says what to fix; S3's own words are in the SDK error it wraps.
    const cause = err.cause;
    const words = s3WordsOf(cause);
    if (words && !message.includes(words)) message = `${message}: ${words}`;
    return { ok: false, reason: err.reason, message: clip(redactor.scrub(message)), retryable: err.retryable };
  }
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { ok: false, reason: "InternalError", message: clip(redactor.scrub(message)), retryable: true };
}

/**
 * S3's own words in an SDK error (src/s3/client.ts s3Words says the same of an S3ServiceException),
 * recognised by the SDK's service-error shape rather than by its class: importing the S3 client here would
 * load the whole SDK (~37 MiB of RSS) into every Job, the ones that never talk to S3 (a rollout's copy) too.
 */
function s3WordsOf(cause: unknown): string | undefined {
  if (typeof cause !== "object" || cause === null || !("$metadata" in cause) || !("$fault" in cause) || !(cause instanceof Error)) return undefined;
  const m = cause.message;
  return m && m !== "UnknownError" && m !== "Unknown" ? m : undefined;
}

function clip(s: string): string {
  return s.length > MAX_FAILURE_MESSAGE ? `${s.slice(0, MAX_FAILURE_MESSAGE - 10)}…` : s;
}
