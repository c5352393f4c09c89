/**
 * `kubectl qdrant restore <backup> [--as <collection>] [--wait]`: a QdrantRestore (policy Once) of a
 * QdrantBackup of the namespace into the Qdrant it was taken from (or --connection). `--as` restores
 * into another collection name (target.collection). `--wait` watches the restore until it is Succeeded
 * or Failed, and exits 1 on Failed.
 */
import { API_VERSION } from "../api/group.ts";
import type { QdrantRestoreSpec, QdrantRestoreStatus } from "../api/v1alpha1/restore.ts";
import type { ScheduledBackupObject } from "../controllers/backup-schedule/types.ts";
import { QDRANT_BACKUPS, QDRANT_RESTORES } from "../controllers/resources.ts";
import type { KubeObject } from "../runtime/resource.ts";
import { checkFlags, outputFormat, UsageError, type ParsedArgs } from "./args.ts";
import { call, CliError, connect } from "./kube.ts";
import { emit, readyProblem } from "./output.ts";
import { waitFinished } from "./wait-finished.ts";

export const HELP = `Restore a QdrantBackup.

Usage:
  kubectl qdrant restore <backup> [--as <collection>] [--collection <name>] [--connection <name>] [--wait] [flags]

Creates a QdrantRestore (policy Once) of the QdrantBackup <backup>, into the collection's own name or
--as <collection>, on the Qdrant the backup was taken from or --connection. A backup of several
collections needs --collection (which one). Without --overwrite an existing target collection fails
the restore and changes nothing.

Flags:
      --as <collection>     restore into this collection name
      --collection <name>   the collection within the backup (sourceCollection)
      --connection <name>   restore into this QdrantConnection's Qdrant
      --name <name>         the QdrantRestore's name (default: restore-<backup>-<random>)
      --overwrite           replace an existing target collection
      --wait                wait until the restore Succeeded or Failed (exit 1 on Failed)
  -n, --namespace <ns>      namespace (default: the context's)
  -o, --output json|yaml    print the QdrantRestore (after --wait: as it ended)
      --kubeconfig <file>, --context <name>   as for kubectl
`;

interface RestoreObject extends KubeObject {
  spec: QdrantRestoreSpec;
  status?: QdrantRestoreStatus & { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

export async function restore(args: ParsedArgs): Promise<void> {
  checkFlags(args, ["as", "collection", "connection", "name", "overwrite", "wait"], "restore");
  const backupName = args.words[1];
  if (backupName === undefined || args.words.length > 2) throw new UsageError("restore takes one QdrantBackup name; see kubectl qdrant restore --help");
  const format = outputFormat(args);
  const { client, namespace, kubeConfig } = connect(args);
  const backup = await call("get", QDRANT_BACKUPS, namespace, backupName, () => client.get<ScheduledBackupObject>(QDRANT_BACKUPS, { namespace, name: backupName }));
  if (backup.status?.phase === "Failed") throw new CliError(`QdrantBackup ${namespace}/${backupName} Failed: there is nothing to restore from it; kubectl qdrant backups list shows the others`);
  const as = args.flags.get("as");
  const sourceCollection = args.flags.get("collection");
  const spec: QdrantRestoreSpec = {
    source: { backupRef: { name: backupName } },
    ...(sourceCollection !== undefined ? { sourceCollection } : {}),
    target: { connectionRef: { name: args.flags.get("connection") ?? backup.spec.connectionRef.name }, ...(as !== undefined ? { collection: as } : {}) },
    policy: "Once",
    ...(args.flags.get("overwrite") === "true" ? { overwrite: true } : {}),
  };
  const name = args.flags.get("name");
  const obj: RestoreObject = {
    apiVersion: API_VERSION,
    kind: "QdrantRestore",
    metadata: { namespace, ...(name !== undefined ? { name } : { generateName: `restore-${backupName.slice(0, 40)}-` }) },
    spec,
  };
  const created = await call("create", QDRANT_RESTORES, namespace, name, () => client.create(QDRANT_RESTORES, obj));
  const createdName = created.metadata?.name ?? "";
  if (args.flags.get("wait") !== "true") {
    emit(format, created, () => `qdrantrestore.${API_VERSION.split("/")[0]}/${createdName} created\n`);
    return;
  }
  if (format === "table") process.stderr.write(`qdrantrestore/${createdName} created; waiting for it to finish\n`);
  const done = await waitFinished<RestoreObject>(kubeConfig, QDRANT_RESTORES, namespace, createdName, created.metadata?.resourceVersion ?? "");
  emit(format, done, () => `qdrantrestore/${createdName} ${done.status?.phase}${done.status?.targetCollection ? ` into ${done.status.targetCollection}` : ""}${done.status?.durationSeconds !== undefined ? ` in ${done.status.durationSeconds}s` : ""}${done.status?.phase === "Failed" ? `: ${readyProblem(done) ?? ""}` : ""}\n`);
  if (done.status?.phase === "Failed") process.exitCode = 1;
}
