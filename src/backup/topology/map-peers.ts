/**
 * Which target peer recovers which source peer's snapshot file. Each peer's file holds the data of the
 * shards that had a replica on that peer, and Qdrant restores a file's shards on the peer it is recovered
 * on, so a restore needs a target peer for every source file that holds data. Pure: the controller checks
 * the fit before anything changes (peersNeeded), the Job maps the files to the peers it discovered.
 */

/** A source file, as far as placement goes: the shards whose data it holds. */
export interface PlacedFile {
  sourcePeerId: string;
  shardIds: readonly number[];
}

/** How many target peers a backup needs: one per source file with data (a file of no shards restores nothing). */
export function peersNeeded(files: readonly PlacedFile[]): number {
  return files.filter((f) => f.shardIds.length > 0).length;
}
