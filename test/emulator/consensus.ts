/**
 * The cluster-wide metadata that Qdrant keeps consistent through Raft: peers, collection configs, shard
 * placement with replica states, payload index schema and aliases. In the emulator every peer lives in one
 * process, so "consensus" is a single object; it is still persisted into every peer's own storage directory
 * (like each peer's raft state), and on start the copy with the highest commit wins.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import type { CollectionConfig, Json } from "./collection-config.ts";

export type ReplicaState =
  | "Active"
  | "Dead"
  | "Partial"
  | "Initializing"
  | "Listener"
  | "PartialSnapshot"
  | "Recovery"
  | "Resharding"
  | "ReshardingScaleDown"
  | "ActiveRead"
  | "ManualRecovery";

export interface CollectionMeta {
  config: CollectionConfig;
  uuid: string;
  /** shard id → peer id → replica state. */
  shards: Record<string, Record<string, ReplicaState>>;
  /** Payload index schema: field name → PayloadIndexInfo without `points`. */
  payloadSchema: Record<string, Json>;
}

export interface ConsensusState {
  term: number;
  commit: number;
  /** Peer ids by peer index (peer i binds 127.0.0.(i+1)). */
  peerIds: number[];
  collections: Record<string, CollectionMeta>;
  /** alias name → collection name. */
  aliases: Record<string, string>;
}

const STATE_FILE = "raft_state.json";

/** Random peer id. Real ids are u64; these stay below 2^53 so JSON clients keep them exact. */
export function newPeerId(): number {
  const n = Number(randomBytes(8).readBigUInt64BE() & ((1n << 53n) - 1n));
  return n === 0 ? 1 : n;
}

export function stateFile(peerStorageDir: string): string {
  return path.join(peerStorageDir, STATE_FILE);
}

/** Loads the freshest copy among the given peer storage directories, or undefined on a fresh data dir. */
export function loadConsensus(peerStorageDirs: string[]): ConsensusState | undefined {
  let best: ConsensusState | undefined;
  for (const dir of peerStorageDirs) {
    const file = stateFile(dir);
    if (!fs.existsSync(file)) continue;
    const state = JSON.parse(fs.readFileSync(file, "utf8")) as ConsensusState;
    if (best === undefined || state.commit > best.commit) best = state;
  }
  return best;
}

/** Writes the state atomically (temp file + rename) so a crash never leaves a torn file. */
export function persistConsensus(peerStorageDir: string, state: ConsensusState): void {
  fs.mkdirSync(peerStorageDir, { recursive: true });
  const file = stateFile(peerStorageDir);
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state));
  fs.renameSync(tmp, file);
}

export function freshConsensus(peerCount: number): ConsensusState {
  const peerIds: number[] = [];
  while (peerIds.length < peerCount) {
    const id = newPeerId();
    if (!peerIds.includes(id)) peerIds.push(id);
  }
  return { term: 1, commit: 0, peerIds, collections: {}, aliases: {} };
}
