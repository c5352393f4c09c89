/** What every step of one run of a restore plan works with. */
import type { S3Client } from "@aws-sdk/client-s3";
import type { Logger } from "pino";
import type { AgeKeys } from "../../backup/codec/types.ts";
import type { QdrantApi } from "../../qdrant/client.ts";
import type { Redactor } from "../../runtime/redact.ts";
import type { CleanupRegistry } from "../protocol/cleanup-registry.ts";
import type { TargetClaim } from "./claim.ts";
import type { RestoreJobPlan } from "./contract.ts";

export interface RestoreContext {
  plan: RestoreJobPlan;
  /** The plan's Qdrant URL; `qdrant.at(peer.url)` for one peer's own address. */
  qdrant: QdrantApi;
  s3: S3Client;
  log: Logger;
  /** The Job's start: verify.timeoutSeconds counts from here. */
  startTime: Date;
  /** Undo steps for a SIGTERM: the collection this attempt created, the calls in flight. */
  cleanup: CleanupRegistry;
  /** Every presigned URL's query string is registered with it before the URL leaves the process. */
  redactor: Redactor;
  /** The provisional failure with the claim on the target, and whether it still stands. */
  claim: TargetClaim;
  /** The location's age key file (ENCRYPTION_KEYS), parsed; only an encrypted backup's Job has one. Never logged. */
  keys?: AgeKeys | undefined;
  /** Aborted on SIGTERM: stops the recover calls and uploads in flight. */
  signal: AbortSignal;
}
