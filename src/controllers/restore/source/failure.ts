/**
 * A source that cannot be restored, said the way conditions say it: a reason from the registry
 * (src/errors.ts), a message naming the field or object to fix, and whether waiting can help.
 */
import { ERROR_CODES, isOperatorError, type ErrorCode } from "../../../errors.ts";
import type { Redactor } from "../../../runtime/redact.ts";

export interface SourceFailure {
  ok: false;
  reason: string;
  message: string;
  retryable: boolean;
}

export function failure(code: ErrorCode, message: string): SourceFailure {
  return { ok: false, reason: ERROR_CODES[code].reason, message, retryable: ERROR_CODES[code].retryable };
}

/** The failure of a registry reason (selectBackup's answers are reasons, not codes). */
export function failureOfReason(reason: string, message: string): SourceFailure {
  const entry = Object.values(ERROR_CODES).find((e) => e.reason === reason);
  return { ok: false, reason, message, retryable: entry?.retryable ?? true };
}

/**
 * A coded error (a missing Secret, an S3 error through s3Error) as a failure, its message scrubbed.
 * Anything else is thrown on: an aborted reconcile (a lost lease) is no restore problem, and a bug is
 * the controller's error to log, not a condition.
 */
export function failureOf(err: unknown, redactor: Redactor): SourceFailure {
  if (isOperatorError(err)) return { ok: false, reason: err.reason, message: redactor.scrub(err.message), retryable: err.retryable };
  throw err;
}
