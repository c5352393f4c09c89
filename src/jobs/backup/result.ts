/**
 * How a backup's success shrinks to fit the 4 KiB termination message (src/jobs/protocol/
 * termination-message.ts tries each in turn): first without the per-file lists (the manifests have
 * them), then with the lists of collections cut from the end, marked `truncated` (the manifests are
 * complete, and the controller reads the whole list from them: src/controllers/backup/bucket-collections.ts).
 */
import type { BackupJobSuccess } from "./contract.ts";

export function* smallerBackupResults(result: BackupJobSuccess): Generator<BackupJobSuccess> {
  const { files: _files, ...rest } = result;
  const slim: BackupJobSuccess = {
    ...rest,
    ...(result.collections ? { collections: result.collections.map(({ files: _f, ...c }) => c) } : {}),
    ...(result.storage ? { storage: { collections: [...result.storage.collections] } } : {}),
  };
  yield slim;
  while ((slim.collections?.length ?? 0) > 0) {
    slim.collections!.pop();
    slim.truncated = true;
    yield slim;
  }
  while ((slim.storage?.collections.length ?? 0) > 0) {
    slim.storage!.collections.pop();
    slim.truncated = true;
    yield slim;
  }
}
