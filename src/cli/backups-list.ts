/**
 * `kubectl qdrant backups list`: the QdrantBackups of the namespace, or with `--from-bucket <location>`
 * what the bucket itself holds — what a person has after a disaster, when the resources are gone. The
 * bucket is read the way a restore reads it (bucketCandidates: one listing grouped by the layout's rule
 * "no manifest, no backup", then the manifests), through the location's own S3 client (locationS3: its
 * endpoint, CA and the credentials Secret, read with the user's kubeconfig).
 */
import { SCHEDULE_LABEL } from "../api/labels.ts";
import { storedBytes } from "../backup/layout/manifest.ts";
import { locationRoot } from "../backup/layout/object-keys.ts";
import type { ScheduledBackupObject } from "../controllers/backup-schedule/types.ts";
import { QDRANT_BACKUP_LOCATIONS, QDRANT_BACKUPS, SECRETS } from "../controllers/resources.ts";
import { locationS3, type BackupLocationObject } from "../controllers/shared/resolve-location.ts";
import { bucketCandidates } from "../controllers/restore/source/bucket-candidates.ts";
import { ManifestCache } from "../controllers/restore/source/manifest-cache.ts";
import { isOperatorError } from "../errors.ts";
import { httpStatusOf } from "../runtime/errors.ts";
import { Redactor } from "../runtime/redact.ts";
import { checkFlags, outputFormat, UsageError, type ParsedArgs } from "./args.ts";
import { call, CliError, connect, explain } from "./kube.ts";
import { age, emit, size, table } from "./output.ts";

export const HELP = `List backups.

Usage:
  kubectl qdrant backups list [flags]
  kubectl qdrant backups list --from-bucket <location> [flags]

Without --from-bucket: the namespace's QdrantBackups (name, schedule, collection, phase, size, started, age).
With --from-bucket: the backups in the QdrantBackupLocation's bucket, read from their manifests (id,
namespace, connection, collection, state, size, completed): what a restore's source.location.backupId names.
Reading the bucket reads the location's credentials Secret with your kubeconfig.

Flags:
      --from-bucket <location>  read the bucket of this QdrantBackupLocation
  -n, --namespace <ns>          namespace (default: the context's)
  -o, --output json|yaml        machine-readable output
      --kubeconfig <file>, --context <name>   as for kubectl
`;

export async function backupsList(args: ParsedArgs): Promise<void> {
  checkFlags(args, ["from-bucket"], "backups list");
  if (args.words.length > 2) throw new UsageError("backups list takes no names; see kubectl qdrant backups list --help");
  const format = outputFormat(args);
  const location = args.flags.get("from-bucket");
  if (location !== undefined) return fromBucket(args, location, format);
  const { client, namespace } = connect(args);
  const items = (await call("list", QDRANT_BACKUPS, namespace, undefined, () => client.list<ScheduledBackupObject>(QDRANT_BACKUPS, namespace))).items;
  items.sort((a, b) => Date.parse(b.metadata?.creationTimestamp ?? "") - Date.parse(a.metadata?.creationTimestamp ?? ""));
  const rows = items.map((b) => ({
    name: b.metadata?.name ?? "",
    schedule: b.metadata?.labels?.[SCHEDULE_LABEL] ?? "",
    collection: collectionsOf(b),
    phase: b.status?.phase ?? "Pending",
    size: size(b.status?.sizeBytes),
    started: b.status?.startTime ?? "",
    age: age(b.metadata?.creationTimestamp),
  }));
  emit(format, { items: rows }, () => table(["name", "schedule", "collection", "phase", "size", "started", "age"], rows) || `No QdrantBackups in namespace ${namespace}.\n`);
}

function collectionsOf(b: ScheduledBackupObject): string {
  if (b.spec.mode === "FullStorage") return "(full storage)";
  const done = b.status?.collections?.map((c) => c.name);
  if (done && done.length > 0) return done.join(",");
  const sel = b.spec.collections;
  return sel?.names?.join(",") ?? (sel?.all ? "(all)" : sel?.pattern ? `/${sel.pattern}/` : "");
}

async function fromBucket(args: ParsedArgs, name: string, format: ReturnType<typeof outputFormat>): Promise<void> {
  const { client, namespace } = connect(args);
  const location = await call("get", QDRANT_BACKUP_LOCATIONS, namespace, name, () => client.get<BackupLocationObject>(QDRANT_BACKUP_LOCATIONS, { namespace, name }));
  // locationS3 needs only a client (to read the Secret, with the user's rights) and a redactor.
  const s3 = await locationS3({ client, redactor: new Redactor() }, location).catch((err: unknown) => {
    // A refused Secret read is the user's RBAC, not the operator's: say which permission they lack.
    const api = isOperatorError(err) ? (err as { cause?: unknown }).cause : err;
    if (httpStatusOf(api) !== undefined) throw explain(api, "get", SECRETS, namespace, location.spec.s3.credentials.secretRef?.name);
    throw new CliError(`QdrantBackupLocation ${namespace}/${name} ${err instanceof Error ? err.message : String(err)}`);
  });
  try {
    const cache = new ManifestCache();
    const place = { client: s3.client, bucket: s3.bucket, ...(location.spec.s3.endpoint ? { endpoint: location.spec.s3.endpoint } : {}), ...(s3.prefix ? { prefix: s3.prefix } : {}) };
    const read = await bucketCandidates(place, name, { listPrefix: locationRoot(s3.prefix), wanted: () => true }, cache).catch((err: unknown) => {
      throw new CliError(`bucket ${s3.bucket} of QdrantBackupLocation ${namespace}/${name}: ${err instanceof Error ? err.message : String(err)}`);
    });
    const rows: Record<string, string>[] = [];
    for (const c of read.candidates) {
      const m = c.manifestKey !== undefined ? await cache.read(place, c.manifestKey) : undefined;
      rows.push({
        id: c.backupId,
        namespace: c.namespace,
        connection: c.connection,
        collection: c.mode === "FullStorage" ? "(full storage)" : (c.collection ?? ""),
        state: c.state,
        size: m?.ok ? size(storedBytes(m.manifest)) : "",
        completed: m?.ok ? m.manifest.timings.completionTime : "",
        backup: c.backupName ?? "",
        // The aliases that pointed at the collection when it was backed up: what a recovery points again.
        aliases: m?.ok ? (m.manifest.collection?.aliases ?? []).join(",") : "",
      });
    }
    rows.sort((a, b) => (a.completed ?? "").localeCompare(b.completed ?? "") * -1);
    emit(format, { bucket: s3.bucket, ...(s3.prefix ? { prefix: s3.prefix } : {}), items: rows }, () => table(["id", "namespace", "connection", "collection", "state", "size", "completed", "backup"], rows) || `No backups in bucket ${s3.bucket}${s3.prefix ? ` under ${s3.prefix}/` : ""}.\n`);
  } finally {
    s3.destroy();
  }
}
