/**
 * A copy Job's result as the controller reads it: the reader of its termination message (the success is
 * CopyJobSuccess; the failure is every Job's, a reason that is not CamelCase read as CopyFailed). The
 * success is small and fixed-size, so it needs no smaller versions to fit 4 KiB.
 */
import { resultReader } from "../protocol/termination-message.ts";
import { CopyJobSuccess } from "./contract.ts";

/** The reader of copy Jobs' termination messages (src/controllers/shared/job-outcome.ts OutcomeReading.results). */
export const copyResults = resultReader(CopyJobSuccess, "CopyFailed");
