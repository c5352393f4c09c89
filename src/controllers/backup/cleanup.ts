/**
 * After a backup's Job has failed for good, the manager sweeps what the Job's last run may have left
 * (sweep.ts): a run killed without a retry after it (OOM on the last attempt, node loss, the deadline,
 * the Job deleted) leaves a snapshot on a peer's disk and an open multipart upload that nothing else
 * would ever remove.
 *
 * Only once no pod of the Job is running: a pod still writing could create a snapshot after the sweep.
 * The outcome becomes the backup's `CleanedUp` condition; a sweep that could not finish (Qdrant or S3
 * unreachable, a reference deleted) is retried by later reconciles until it does.
 */
import { isOperatorError } from "../../errors.ts";
import { QdrantApi } from "../../qdrant/client.ts";
import { peerDiscovery } from "../../qdrant/endpoint.ts";
import { discoverTopology } from "../../qdrant/peers.ts";
import type { OperatorContext } from "../shared/context.ts";
import { connectionEndpoint, connectionNotFound, type QdrantConnectionObject } from "../shared/resolve-connection.ts";
import { locationNotFound, withLocationS3, type BackupLocationObject } from "../shared/resolve-location.ts";
import { lockedUntilMessage } from "../../backup/retention/lock-until.ts";
import { backupDataRef, versionedDelete } from "./delete-data.ts";
import { sweepFailedBackup, type SweepResult } from "./sweep.ts";
import type { PodObject } from "../shared/job-objects.ts";
import type { BackupObject } from "./types.ts";

export type CleanupOutcome =
  | { kind: "Done"; swept: SweepResult; message: string }
  /** A pod of the Job is still running: look again soon. */
  | { kind: "Wait"; message: string }
  | { kind: "Failed"; message: string };

export interface CleanupDeps {
  connection: QdrantConnectionObject | undefined;
  location: BackupLocationObject | undefined;
  /** The Job's pods (none once the Job and its pods are gone). */
  pods: () => Promise<PodObject[]>;
}

export async function cleanUpFailedRun(ctx: OperatorContext, obj: BackupObject, deps: CleanupDeps): Promise<CleanupOutcome> {
  const namespace = obj.metadata?.namespace ?? "";
  const running = (await deps.pods()).filter((p) => p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed");
  if (running.length > 0) return { kind: "Wait", message: `Waiting for pod ${running[0]!.metadata?.name ?? ""} of the backup Job to end before deleting what its runs left.` };
  const { connection, location } = deps;
  const cannot = "so the snapshots and uploads a killed run may have left cannot be looked for";
  if (!connection) return { kind: "Failed", message: `${connectionNotFound(namespace, obj.spec.connectionRef.name)}, ${cannot}; create it again` };
  if (!location) return { kind: "Failed", message: `${locationNotFound(namespace, obj.spec.locationRef.name)}, ${cannot}; create it again` };
  if (location.spec.accessMode === "ReadOnly") {
    const none = { snapshots: 0, markers: 0, abortedUploads: 0, incompleteObjects: 0 };
    return { kind: "Done", swept: none, message: `QdrantBackupLocation ${namespace}/${location.metadata?.name ?? ""} is ReadOnly now: nothing there is deleted, and what a killed run may have left is not looked for.` };
  }
  try {
    const { endpoint } = await connectionEndpoint(ctx, connection);
    const qdrant = new QdrantApi(endpoint);
    // Markers are deleted only on peers the connection lists (sweep.ts): never at a URL the bucket says.
    const { peers } = await discoverTopology(qdrant, peerDiscovery(connection.spec));
    // Object Lock: by version, and what S3 still retains is left for the backup's own deletion.
    const versioned = versionedDelete(location, obj, ctx.clock.now());
    return await withLocationS3(ctx, location, async ({ client, bucket, prefix }) => {
      const swept = await sweepFailedBackup(client, bucket, backupDataRef(obj, prefix), qdrant, peers, { until: intentWindowEnd(obj, ctx.clock.now()), ...(versioned ? { versioned } : {}) });
      return { kind: "Done", swept, message: describe(swept) };
    });
  } catch (err) {
    if (!isOperatorError(err)) throw err;
    return { kind: "Failed", message: `${ctx.redactor.scrub(err.message)}; retrying` };
  }
}

/**
 * When the backup was marked Failed (else now): the end of the window a killed create's intent is resolved
 * in. The backup left its turn then, so the next backup of the same Qdrant snapshots only after it.
 */
export function intentWindowEnd(obj: BackupObject, now: Date): Date {
  const t = Date.parse(obj.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True")?.lastTransitionTime ?? "");
  return Number.isNaN(t) || t > now.getTime() ? now : new Date(t);
}

function describe(s: SweepResult): string {
  const parts = [
    s.snapshots > 0 ? `deleted ${s.snapshots} snapshot${s.snapshots === 1 ? "" : "s"} a killed run left on Qdrant` : "",
    (s.unknownPeerSnapshots ?? 0) > 0
      ? `left ${s.unknownPeerSnapshots} snapshot${s.unknownPeerSnapshots === 1 ? "" : "s"} on peers the QdrantConnection does not list (named by pending markers in the bucket; delete ${s.unknownPeerSnapshots === 1 ? "it" : "them"} by hand)`
      : "",
    (s.ambiguousSnapshots?.length ?? 0) > 0
      ? `left ${s.ambiguousSnapshots!.length} snapshot${s.ambiguousSnapshots!.length === 1 ? "" : "s"} a killed run may have made but that could not be told from others of the same time (${s.ambiguousSnapshots!.slice(0, 5).join(", ")}${s.ambiguousSnapshots!.length > 5 ? ", …" : ""}; delete the run's by hand)`
      : "",
    (s.unknownPeerIntents ?? 0) > 0 ? `did not look for ${s.unknownPeerIntents} snapshot${s.unknownPeerIntents === 1 ? "" : "s"} a killed run may have made on peers the QdrantConnection does not list` : "",
    s.abortedUploads > 0 ? `aborted ${s.abortedUploads} unfinished upload${s.abortedUploads === 1 ? "" : "s"}` : "",
    s.incompleteObjects > 0 ? `deleted ${s.incompleteObjects} object${s.incompleteObjects === 1 ? "" : "s"} of an incomplete backup` : "",
    (s.lockedObjects ?? 0) > 0
      ? `kept ${s.lockedObjects} object version${s.lockedObjects === 1 ? "" : "s"} of an incomplete backup that S3 Object Lock retains (${lockedUntilMessage(s.lockedUntil).replace(/^Locked/, "locked")}; deleted with the backup after that)`
      : "",
  ].filter((p) => p !== "");
  if (parts.length === 0) return "Nothing was left behind: no snapshot on Qdrant, no unfinished upload, no incomplete object.";
  const text = parts.join(", ");
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}
