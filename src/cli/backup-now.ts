/**
 * `kubectl qdrant backup now <schedule|collection>`: a QdrantBackup right now, as
 * `kubectl create job --from=cronjob/…` is for a CronJob.
 *
 * From a schedule (a QdrantBackupSchedule of that name exists): the backup the schedule's controller
 * would create for a tick at this minute (desiredBackup: the same spec, labels, scheduled-time
 * annotation and owner), so it counts in the schedule's history and retention like any of its runs. Its
 * name is `<schedule>-now-<random>` (generateName) rather than the tick's name, which a real tick in the
 * same minute would then find taken by a backup it did not plan.
 *
 * For a collection: a QdrantBackup of that one collection through --connection to --location; either
 * may be left out when exactly one such object exists in the namespace.
 */
import { boundedLabel } from "../api/names.ts";
import type { QdrantBackupSpec } from "../api/v1alpha1/backup.ts";
import { desiredBackup } from "../controllers/backup-schedule/plan.ts";
import type { ScheduledBackupObject, ScheduleObject } from "../controllers/backup-schedule/types.ts";
import { QDRANT_BACKUP_LOCATIONS, QDRANT_BACKUP_SCHEDULES, QDRANT_BACKUPS, QDRANT_CONNECTIONS } from "../controllers/resources.ts";
import { API_VERSION } from "../api/group.ts";
import { httpStatusOf } from "../runtime/errors.ts";
import type { ResourceType } from "../runtime/resource.ts";
import { checkFlags, outputFormat, UsageError, type ParsedArgs } from "./args.ts";
import { call, CliError, connect, type Cluster } from "./kube.ts";
import { emit } from "./output.ts";
import { waitFinished } from "./wait-finished.ts";

export const HELP = `Create a QdrantBackup now.

Usage:
  kubectl qdrant backup now <schedule> [flags]
  kubectl qdrant backup now <collection> [--connection <name>] [--location <name>] [flags]

With the name of a QdrantBackupSchedule, the backup is the one its next tick would make (same spec,
labels and owner: the schedule's history and retention count it). Otherwise the name is a collection,
backed up through --connection to --location (each may be left out when the namespace has exactly one).

Flags:
      --connection <name>  QdrantConnection to back up through (collection form)
      --location <name>    QdrantBackupLocation to write to (collection form)
      --wait               wait until the backup Succeeded or Failed (exit 1 on Failed)
  -n, --namespace <ns>     namespace (default: the context's)
  -o, --output json|yaml   print the created QdrantBackup
      --kubeconfig <file>, --context <name>   as for kubectl
`;

export async function backupNow(args: ParsedArgs): Promise<void> {
  checkFlags(args, ["connection", "location", "wait"], "backup now");
  const target = args.words[2];
  if (target === undefined || args.words.length > 3) throw new UsageError("backup now takes one schedule or collection name; see kubectl qdrant backup now --help");
  const format = outputFormat(args);
  const cluster = connect(args);
  const { client, namespace } = cluster;
  // A 404 here is an answer (not a schedule: a collection), not a failure.
  const schedule = await call("get", QDRANT_BACKUP_SCHEDULES, namespace, target, () =>
    client.get<ScheduleObject>(QDRANT_BACKUP_SCHEDULES, { namespace, name: target }).catch((err: unknown) => {
      if (httpStatusOf(err) === 404 && (err as { body?: { details?: { name?: string } } }).body?.details?.name === target) return undefined;
      throw err;
    }),
  );
  let backup: ScheduledBackupObject;
  if (schedule !== undefined) {
    if (args.flags.has("connection") || args.flags.has("location")) throw new UsageError(`${target} is a QdrantBackupSchedule: its connection and location are used; leave out --connection and --location`);
    backup = desiredBackup(schedule, new Date());
    const { name: _name, ...metadata } = backup.metadata ?? {};
    backup = { ...backup, metadata: { ...metadata, generateName: `${boundedLabel(target, 40)}-now-` } };
  } else {
    const connection = args.flags.get("connection") ?? (await onlyOne(cluster, QDRANT_CONNECTIONS, "connection"));
    const location = args.flags.get("location") ?? (await onlyOne(cluster, QDRANT_BACKUP_LOCATIONS, "location"));
    const spec: QdrantBackupSpec = { connectionRef: { name: connection }, locationRef: { name: location }, collections: { names: [target] } };
    backup = { apiVersion: API_VERSION, kind: "QdrantBackup", metadata: { generateName: `${boundedLabel(target.toLowerCase().replace(/[^a-z0-9-]/g, "-"), 40)}-now-`, namespace }, spec };
  }
  const created = await call("create", QDRANT_BACKUPS, namespace, undefined, () => client.create(QDRANT_BACKUPS, backup));
  const createdName = created.metadata?.name ?? "";
  if (args.flags.get("wait") !== "true") {
    emit(format, created, () => `qdrantbackup.${API_VERSION.split("/")[0]}/${createdName} created\n`);
    return;
  }
  if (format === "table") process.stderr.write(`qdrantbackup/${createdName} created; waiting for it to finish\n`);
  const done = await waitFinished<ScheduledBackupObject>(cluster.kubeConfig, QDRANT_BACKUPS, namespace, createdName, created.metadata?.resourceVersion ?? "");
  const failure = (done.status)?.failure;
  emit(format, done, () => `qdrantbackup/${createdName} ${done.status?.phase}${done.status?.backupId ? ` (backup ${done.status.backupId})` : ""}${failure ? `: ${failure.reason}: ${failure.message}` : ""}\n`);
  if (done.status?.phase === "Failed") process.exitCode = 1;
}

/** The name of the namespace's only object of `rt`, or an error saying which flag to pass. */
async function onlyOne(cluster: Cluster, rt: ResourceType, flag: string): Promise<string> {
  const { client, namespace } = cluster;
  const items = (await call("list", rt, namespace, undefined, () => client.list(rt, namespace))).items.map((o) => o.metadata?.name ?? "");
  if (items.length === 1) return items[0]!;
  if (items.length === 0) throw new CliError(`no ${rt.kind} in namespace ${namespace} and no schedule named so: create one, or pass --${flag} <name> (or -n for another namespace)`);
  throw new CliError(`namespace ${namespace} has ${items.length} ${rt.kind}s (${items.join(", ")}): pass --${flag} <name>`);
}
