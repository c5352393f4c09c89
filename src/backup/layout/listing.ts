/**
 * Makes sense of a bucket listing: which backups are complete (their directory holds a manifest), which
 * are incomplete (objects but no manifest: a run that crashed, or a prune that deleted the manifest
 * first and stopped), and which keys are not ours. Pure, over the keys a ListObjectsV2 returned, so the
 * rule "no manifest, no backup" lives in one tested place and `backups list`, restores (through
 * candidatesFromListing in src/backup/select/) and the cleanup sweep all apply it the same way.
 *
 * A backup still being written is "incomplete" too: a sweep deletes an incomplete backup's objects only
 * once no QdrantBackup is running with that id (or after a grace period), never from the listing alone.
 */
import { parseBackupKey, type ParsedBackupKey } from "./object-keys.ts";

export interface ListedBackup {
  backupPrefix: string;
  backupId: string;
  backupTime: Date;
  namespace: string;
  connection: string;
  fullStorage: boolean;
  collection?: string;
  collectionSegment?: string;
  /** The manifest's key, when there is one. */
  manifestKey?: string;
  /** Every key of the backup (manifest included), sorted. */
  keys: string[];
}

export interface GroupedListing {
  /** Oldest first (backup ids sort by time), then by key. */
  complete: ListedBackup[];
  incomplete: ListedBackup[];
  /** Keys under the prefix that this layout did not write. Never touch them. */
  foreign: string[];
}

export function groupListing(keys: Iterable<string>, prefix?: string): GroupedListing {
  const byDir = new Map<string, { parsed: ParsedBackupKey; backup: ListedBackup }>();
  const foreign: string[] = [];
  for (const key of keys) {
    const parsed = parseBackupKey(key, prefix);
    if (parsed === undefined) {
      foreign.push(key);
      continue;
    }
    let entry = byDir.get(parsed.backupPrefix);
    if (entry === undefined) {
      entry = {
        parsed,
        backup: {
          backupPrefix: parsed.backupPrefix,
          backupId: parsed.backupId,
          backupTime: parsed.backupTime,
          namespace: parsed.namespace,
          connection: parsed.connection,
          fullStorage: parsed.fullStorage,
          ...(parsed.collection !== undefined ? { collection: parsed.collection } : {}),
          ...(parsed.collectionSegment !== undefined ? { collectionSegment: parsed.collectionSegment } : {}),
          keys: [],
        },
      };
      byDir.set(parsed.backupPrefix, entry);
    }
    entry.backup.keys.push(key);
    if (parsed.file.kind === "manifest") entry.backup.manifestKey = key;
  }
  const all = [...byDir.values()].map((e) => ({ ...e.backup, keys: [...new Set(e.backup.keys)].sort(byText) }));
  all.sort((a, b) => a.backupTime.getTime() - b.backupTime.getTime() || byText(a.backupPrefix, b.backupPrefix));
  return {
    complete: all.filter((b) => b.manifestKey !== undefined),
    incomplete: all.filter((b) => b.manifestKey === undefined),
    foreign: [...new Set(foreign)].sort(byText),
  };
}

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
