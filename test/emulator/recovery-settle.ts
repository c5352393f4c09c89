/**
 * The window after a recover on a distributed Qdrant in which the restored replicas are not Active yet,
 * opt-in through the admin API (`POST /recovery-settle {ms, collection?}`; off by default, so nothing else
 * changes).
 *
 * Why Qdrant has that window (lib/storage/src/content_manager/snapshots/recover.rs,
 * `_do_recover_from_snapshot`, and `TableOfContent::send_set_replica_state_proposal`): before restoring,
 * the peer's local replicas are switched to the recovery state (`ManualRecovery` when every peer supports
 * it, else `Partial`); after restoring a shard, a distributed peer activates it by *sending* a consensus
 * proposal (`send_set_replica_state_proposal(…, Active)`, a plain channel send, not awaited), and the call
 * returns. Until the proposal commits, `GET /collections/{c}/cluster` on every peer shows the replica in
 * `ManualRecovery` and reads skip it, so a count taken right after the last recover can be a shard short
 * (../shared/qdrant/API-NOTES.md, "Checked against a running Qdrant": 392 and 417 of 600, all 600 within
 * 0.6 s). Standalone activates locally before answering: no window, so none here either. Qdrant's own
 * staging builds have the same knob (`QDRANT__STAGING__SNAPSHOT_RECOVERY_DELAY`, "allow observing Partial
 * state before activation").
 *
 * Emulated: while a shard settles, the restored replica is `ManualRecovery`, the other replicas a
 * `snapshot` priority keeps are `Dead` (Qdrant marks them so and re-syncs them from the restored one),
 * counts, scrolls and reads skip the shard, and after `ms` the final states commit at once (only if the
 * collection is still the one recovered: deleted or re-created meanwhile, nothing is touched).
 */
import type { Cluster } from "./cluster.ts";
import type { ReplicaState } from "./consensus.ts";

export interface SettleSetting {
  /** How long restored replicas stay ManualRecovery; 0 turns the window off. */
  ms: number;
  /** Only recoveries into this collection (the shared test emulator: one test's own); every one when absent. */
  collection?: string;
}

interface Pending {
  timer: NodeJS.Timeout;
  uuid: string;
  collection: string;
  /** Commits the final states now (the timer fired, or the window was turned off). */
  settle: () => void;
}

export class RecoverySettle {
  #settings = new Map<string, number>();
  readonly #pending = new Map<string, Pending>();

  /**
   * Sets (ms > 0) the window for one collection or, without one, for all. `ms` 0 turns it off and ends
   * the windows still open (that collection's, or every one): their replicas become Active at once, so a
   * test can hold a window open as long as it looks and then end it, with no timing in between.
   */
  set(setting: SettleSetting): void {
    if (typeof setting.ms !== "number" || !Number.isFinite(setting.ms) || setting.ms < 0) throw new Error(`ms must be a non-negative number, got ${String(setting.ms)}`);
    const key = setting.collection ?? "*";
    if (setting.ms > 0) {
      this.#settings.set(key, setting.ms);
      return;
    }
    this.#settings.delete(key);
    for (const p of [...this.#pending.values()]) if (setting.collection === undefined || p.collection === setting.collection) p.settle();
  }

  settings(): SettleSetting[] {
    return [...this.#settings].map(([collection, ms]) => (collection === "*" ? { ms } : { ms, collection }));
  }

  /** The window for a recovery into `collection`, 0 when none applies. */
  windowFor(collection: string): number {
    return this.#settings.get(collection) ?? this.#settings.get("*") ?? 0;
  }

  /** Whether a shard of `collection` is inside its window (reads skip it). */
  isSettling(cluster: Cluster, collection: string, shardId: number): boolean {
    const p = this.#pending.get(`${collection}/${shardId}`);
    return p !== undefined && p.uuid === cluster.state.collections[collection]?.uuid;
  }

  /**
   * Commits `during` now and `after` once `ms` have passed, for one shard. A later recovery of the same
   * shard replaces the pending one (its final states win).
   */
  begin(cluster: Cluster, collection: string, shardId: number, ms: number, during: Record<string, ReplicaState | undefined>, after: Record<string, ReplicaState | undefined>): void {
    const key = `${collection}/${shardId}`;
    const uuid = cluster.meta(collection).uuid;
    const earlier = this.#pending.get(key);
    if (earlier !== undefined) clearTimeout(earlier.timer);
    applyStates(cluster, collection, shardId, during);
    const settle = (): void => {
      if (this.#pending.get(key)?.timer !== timer) return;
      clearTimeout(timer);
      this.#pending.delete(key);
      if (cluster.state.collections[collection]?.uuid !== uuid) return;
      applyStates(cluster, collection, shardId, after);
    };
    const timer = setTimeout(settle, ms);
    this.#pending.set(key, { timer, uuid, collection, settle });
  }

  /** Stops every pending window (the emulator stops): nothing commits after it. */
  close(): void {
    for (const p of this.#pending.values()) clearTimeout(p.timer);
    this.#pending.clear();
  }
}

/** One commit of replica states for a shard (undefined removes the replica). */
export function applyStates(cluster: Cluster, collection: string, shardId: number, states: Record<string, ReplicaState | undefined>): void {
  cluster.commit((s) => {
    const shard = s.collections[collection]?.shards[String(shardId)];
    if (shard === undefined) return;
    for (const [id, state] of Object.entries(states)) {
      if (state === undefined) delete shard[id];
      else shard[id] = state;
    }
  });
}
