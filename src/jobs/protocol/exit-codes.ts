/**
 * How a Job's process tells the Job controller whether to retry. Every Job the operator builds carries a
 * podFailurePolicy that ends the Job at once on PERMANENT (src/controllers/shared/job-template.ts): no
 * retry can fix a missing collection or a refused key. Any other failure is retried up to backoffLimit.
 */
export const EXIT_CODES = { SUCCESS: 0, RETRYABLE: 1, PERMANENT: 2 } as const;

/** The exit code of a finished run: its result says whether it succeeded and whether a retry may help. */
export function exitCodeFor(result: { ok: boolean; retryable?: boolean }): number {
  if (result.ok) return EXIT_CODES.SUCCESS;
  return result.retryable ? EXIT_CODES.RETRYABLE : EXIT_CODES.PERMANENT;
}
