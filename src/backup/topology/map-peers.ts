/**
 * Which target peer recovers which source peer's snapshot file. Each peer's file holds the data of the
 * shards that had a replica on that peer, and Qdrant restores a file's shards on the peer it is recovered
 * on, so a restore needs a target peer for every source file that holds data. Pure: the controller checks
 * the fit before anything changes (peersNeeded), the Job maps the files to the peers it discovered
 * (mapPeers).
 */
import { OperatorError } from "../../errors.ts";

/** A source file, as far as placement goes: the shards whose data it holds. */
export interface PlacedFile {
  sourcePeerId: string;
  shardIds: readonly number[];
}

/** A target peer, by the id the Job's discovery gave it. */
export interface TargetPeer {
  id: string;
}

/** Where an existing target collection's shards are: per target peer id, the shards it holds a replica of. */
export type Placement = ReadonlyMap<string, readonly number[]>;

export interface PeerAssignment<F extends PlacedFile, P extends TargetPeer> {
  file: F;
  peer: P;
}

/** How many target peers a backup needs: one per source file with data (a file of no shards restores nothing). */
export function peersNeeded(files: readonly PlacedFile[]): number {
  return files.filter((f) => f.shardIds.length > 0).length;
}

/**
 * Peer ids in order: Qdrant's are u64s in decimal (compared as numbers, exact beyond 2^53); the Job's
 * stand-ins ("standalone", "static-0") by their text, after every numeric id.
 */
export function comparePeerIds(a: string, b: string): number {
  const na = /^\d+$/.test(a);
  const nb = /^\d+$/.test(b);
  if (na && nb) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (na !== nb) return na ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * One target peer per file with data, one to one, files in source peer id order (the first is the one a
 * restore into a missing collection recovers alone: it creates the collection). A file with no shards
 * is left out.
 *
 * - `existingPlacement` (the target exists and is recovered in place, or replaced): each file goes to
 *   the peer holding most of its shards (ties: the lower peer id), so the recovered data lands where the
 *   collection keeps those shards instead of adding replicas elsewhere; a file whose shards no free peer
 *   holds takes the lowest free peer.
 * - Otherwise: the files sorted by source peer id onto the target peers sorted by id.
 *
 * Fewer target peers than files with data: TopologyMismatch, naming both counts, before anything changes.
 */
export function mapPeers<F extends PlacedFile, P extends TargetPeer>(files: readonly F[], targetPeers: readonly P[], existingPlacement?: Placement): Array<PeerAssignment<F, P>> {
  const withData = files.filter((f) => f.shardIds.length > 0).sort((a, b) => comparePeerIds(a.sourcePeerId, b.sourcePeerId));
  const peers = [...new Map(targetPeers.map((p) => [p.id, p])).values()].sort((a, b) => comparePeerIds(a.id, b.id));
  if (peers.length < withData.length) {
    throw new OperatorError(
      "TOPOLOGY_MISMATCH",
      `the backup has ${withData.length} peer${withData.length === 1 ? "" : "s"} with data, each restored on a peer of its own, but the target Qdrant has ${peers.length} peer${peers.length === 1 ? "" : "s"}: add peers, or restore into a Qdrant with at least ${withData.length}`,
    );
  }
  if (existingPlacement === undefined) return withData.map((file, i) => ({ file, peer: peers[i]! }));

  const free = new Set(peers);
  const held = (peer: P, file: F): number => {
    const shards = new Set(existingPlacement.get(peer.id) ?? []);
    return file.shardIds.filter((s) => shards.has(s)).length;
  };
  const chosen = new Map<F, P>();
  // Files whose shards a peer holds first, best match first, so a file with no match cannot take the
  // one peer another file needs.
  const candidates = withData
    .flatMap((file) => peers.map((peer) => ({ file, peer, score: held(peer, file) })))
    .filter((c) => c.score > 0)
    .sort((a, b) => b.score - a.score || comparePeerIds(a.file.sourcePeerId, b.file.sourcePeerId) || comparePeerIds(a.peer.id, b.peer.id));
  for (const c of candidates) {
    if (chosen.has(c.file) || !free.has(c.peer)) continue;
    chosen.set(c.file, c.peer);
    free.delete(c.peer);
  }
  for (const file of withData) {
    if (chosen.has(file)) continue;
    const peer = [...free][0]!;
    chosen.set(file, peer);
    free.delete(peer);
  }
  return withData.map((file) => ({ file, peer: chosen.get(file)! }));
}
