/**
 * What every `job …` command does around its own work, so that each kind of Job (backup, restore; rollout
 * copy and gates next) only reads its plan and does the work:
 *
 * - the secrets the pod got through secretKeyRef are registered with the runtime's redactor before
 *   anything is logged, and the logger scrubs every line of them (src/runtime/redact.ts: the manager's
 *   redactor, so a Job and the manager keep secrets out of their words the same way);
 * - the result goes to the termination message file (termination-message.ts), a failure's message
 *   scrubbed, and the exit code (exit-codes.ts) tells the Job controller whether to retry;
 * - SIGTERM (the Job deleted, its activeDeadlineSeconds reached, its node draining) runs the undo steps
 *   the work registered (cleanup-registry.ts), reports a retryable Terminated failure and exits within
 *   the grace period. SIGKILL leaves no such chance: each kind names what a retry then cleans up;
 * - a kind that must leave words behind even when SIGKILLed writes a provisional failure before the
 *   risky step (`provisional`: the restore's claim on the collection it is about to create), and adds
 *   its own fields to every failure written while they hold (`failureDetail`): the run's own failure and
 *   SIGTERM's Terminated, after the undo steps ran, alike.
 */
import type { Logger } from "pino";
import { OperatorError } from "../../errors.ts";
import { createLogger } from "../../runtime/logger.ts";
import { Redactor } from "../../runtime/redact.ts";
import { OPERATOR_NAME, OPERATOR_VERSION } from "../../version.ts";
import { CleanupRegistry } from "./cleanup-registry.ts";
import { exitCodeFor } from "./exit-codes.ts";
import { failureResult, type JobFailure } from "./failure.ts";
import { JOB_ENV } from "./env.ts";
import { DEFAULT_RESULT_FILE, encodeResult, writeProvisionalResult, writeResultFile, type FailureWithDetail } from "./termination-message.ts";

export interface JobRunContext {
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Undo steps for SIGTERM; work registers one while it has something outstanding. */
  cleanup: CleanupRegistry;
  redactor: Redactor;
  /**
   * Writes `failure` into the result file now (termination-message.ts writeProvisionalResult): what is
   * left if the process is killed before its final result. Throws when it cannot be written.
   */
  provisional(failure: FailureWithDetail): void;
}

export interface JobCommand<R extends { ok: true }> {
  /** The Job kind, as in `job <name>` and the `job` field of every log line. */
  name: string;
  /** The noun of the log messages: "Backup" gives "Backup failed: …". */
  title: string;
  /** Environment variables that hold secrets (filled from Secrets by secretKeyRef); JOB_SECRET_ENV and the kind's own. */
  secretEnv: readonly string[];
  /** Reads and checks the plan, then does the work; throws an OperatorError on failure. */
  run(ctx: JobRunContext): Promise<R>;
  /** Ever smaller versions of a success, for a result that does not fit the termination message. */
  smaller?: (result: R) => Iterable<R>;
  /** What the Terminated failure says stopped (e.g. "the backup"). */
  stopped: string;
  /**
   * Fields of the kind's own added to every failure it writes (the run's, and SIGTERM's Terminated after
   * the cleanup steps ran), asked for when the failure is written: a restore's claim on a collection it
   * may have half-created and could not delete.
   */
  failureDetail?: () => Record<string, unknown> | undefined;
}

/** How long SIGTERM cleanup may take: inside Kubernetes' default 30 s grace period. */
export const SIGTERM_CLEANUP_MS = 20_000;

/** Runs `command` as the process's work; resolves to the exit code. */
export async function runJobCommand<R extends { ok: true }>(command: JobCommand<R>, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const redactor = new Redactor();
  for (const name of command.secretEnv) redactor.register(env[name]);
  const log = createLogger({ redactor, base: { job: command.name } });
  const resultFile = env[JOB_ENV.resultFile] || DEFAULT_RESULT_FILE;
  const cleanup = new CleanupRegistry();
  const write = (result: R | JobFailure) => {
    try {
      const detail = result.ok ? undefined : command.failureDetail?.();
      writeResultFile(resultFile, encodeResult(detail ? { ...detail, ...result } : result, command.smaller));
    } catch (err) {
      log.error({ file: resultFile, err: (err as Error).message }, "Could not write the result file");
    }
  };
  const onSigterm = () => void stopOnSigterm(command, { cleanup, log, redactor, write });
  process.once("SIGTERM", onSigterm);
  log.debug({ operator: `${OPERATOR_NAME} ${OPERATOR_VERSION}` }, "Starting Job command");
  let result: R | JobFailure;
  try {
    result = await command.run({ env, log, cleanup, redactor, provisional: (failure) => writeProvisionalResult(resultFile, failure) });
  } catch (err) {
    const failure = failureResult(err, redactor);
    log.error({ reason: failure.reason, retryable: failure.retryable, err: (err as Error).stack ?? String(err) }, `${command.title} failed: ${failure.message}`);
    result = failure;
  }
  // The result is written: a SIGTERM from here on (the pod deleted while the process drains) must not
  // replace a written success with Terminated; it ends the process with the result's own exit code.
  process.off("SIGTERM", onSigterm);
  write(result);
  const code = exitCodeFor(result);
  process.once("SIGTERM", () => process.exit(code));
  return code;
}

/**
 * SIGTERM: undo what is outstanding, report a retryable failure and exit, all within the grace period.
 * The run's own promise chain is abandoned; what the cleanup could not finish is the next attempt's to
 * find (each kind says how: the backup's pending markers).
 */
async function stopOnSigterm<R extends { ok: true }>(command: JobCommand<R>, s: { cleanup: CleanupRegistry; log: Logger; redactor: Redactor; write: (r: JobFailure) => void }): Promise<void> {
  s.log.warn(`Received SIGTERM; undoing what this run of the ${command.name} Job has outstanding`);
  const timeout = new Promise<string[]>((resolve) => setTimeout(() => resolve([`cleanup did not finish within ${SIGTERM_CLEANUP_MS} ms`]), SIGTERM_CLEANUP_MS).unref());
  const problems = await Promise.race([s.cleanup.runAll(), timeout]);
  for (const p of problems) s.log.warn({ problem: p }, "Cleanup step failed");
  const result = failureResult(new OperatorError("JOB_TERMINATED", `${command.stopped} was stopped by SIGTERM (the Job was deleted, hit its deadline, or its node is draining)`), s.redactor);
  s.write(result);
  s.log.flush();
  process.exit(exitCodeFor(result));
}
