/** What every step of one run of a backup plan works with. */
import type { S3Client } from "@aws-sdk/client-s3";
import type { Logger } from "pino";
import type { QdrantApi } from "../../qdrant/client.ts";
import type { Topology } from "../../qdrant/peers.ts";
import type { CleanupRegistry } from "../protocol/cleanup-registry.ts";
import type { BackupJobPlan } from "./contract.ts";
import type { ObjectSettings } from "./object-settings.ts";

export interface RunContext {
  plan: BackupJobPlan;
  /** The plan's Qdrant URL; `qdrant.at(peer.url)` for one peer's own address. */
  qdrant: QdrantApi;
  s3: S3Client;
  topology: Topology;
  log: Logger;
  startTime: Date;
  /** How every snapshot object is written (codec, key suffix, Object Lock): object-settings.ts. */
  objects: ObjectSettings;
  /** Undo steps for a SIGTERM: the snapshots not yet deleted, the uploads not yet finished. */
  cleanup: CleanupRegistry;
}
