/**
 * Reading a backup Job's result: the shared outcome reader (src/controllers/shared/job-outcome.ts) with
 * the backup's container and its success schema (src/jobs/backup/contract.ts). A failure whose reason is
 * not CamelCase reads as BackupFailed; a completed Job whose result cannot be read still succeeded, and
 * says the manifests are what to trust.
 */
import { BackupJobSuccess, type BackupJobResult } from "../../jobs/backup/contract.ts";
import { resultReader, type ParsedMessage } from "../../jobs/protocol/termination-message.ts";
import type { JobObject, PodObject } from "../shared/job-objects.ts";
import { readJobOutcome, type JobOutcome as AnyJobOutcome } from "../shared/job-outcome.ts";
import { CONTAINER_NAME } from "./names.ts";

export type JobOutcome = AnyJobOutcome<BackupJobSuccess>;

/** The backup Job's results: its success schema, and the failure every Job reports (BackupFailed when its reason is not CamelCase). */
export const results = resultReader(BackupJobSuccess, "BackupFailed");

/** Parses a termination message: one JSON BackupJobResult, possibly after log lines. */
export function parseResultMessage(message: string | undefined): ParsedMessage<BackupJobResult> {
  return results.parse(message);
}

/** What a backup Job and its pods say about the backup. */
export function jobOutcome(job: JobObject, pods: PodObject[]): JobOutcome {
  return readJobOutcome(job, pods, { container: CONTAINER_NAME, results, authority: "the manifests in the bucket" });
}
