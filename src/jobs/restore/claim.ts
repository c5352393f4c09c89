/**
 * The claim on the target collection (contract.ts, "Attempts and who owns the target"): before its first
 * call that may create the target, the Job writes a provisional failure carrying `claim` into its result
 * file, so that a pod killed from there on (SIGKILL, OOM: no code of ours runs) leaves the controller
 * the words "this attempt may have half-created X", and the next attempt gets `ownedTarget: true`.
 *
 * The claim stands until the collection this attempt created is deleted again (a failure, SIGTERM):
 * then the name is free, anyone may take it, and a later attempt must not think what it finds there is
 * ours. Every failure the Job writes carries the claim while it stands (run-command.ts failureDetail);
 * the success overwrites it.
 */
import type { FailureWithDetail } from "../protocol/termination-message.ts";
import type { RestoreClaim } from "./contract.ts";
import { provisionalFailure } from "./result.ts";

export class TargetClaim {
  readonly #write: (failure: FailureWithDetail) => void;
  #claim: RestoreClaim | undefined;

  /** `write`: the run's provisional writer (JobRunContext.provisional). */
  constructor(write: (failure: FailureWithDetail) => void) {
    this.#write = write;
  }

  /** Writes the provisional failure with the claim; throws, and nothing may be created, when it cannot. */
  take(collection: string, attempt: number): void {
    const failure = provisionalFailure(collection, attempt);
    this.#write(failure);
    this.#claim = failure.claim;
  }

  /** The collection this attempt created is gone again: failures from now on carry no claim. */
  release(): void {
    this.#claim = undefined;
  }

  /** The claim, while it stands. */
  get current(): RestoreClaim | undefined {
    return this.#claim;
  }

  /** What every failure written from now on adds (run-command.ts JobCommand.failureDetail). */
  detail(): { claim: RestoreClaim } | undefined {
    return this.#claim ? { claim: { ...this.#claim } } : undefined;
  }
}
