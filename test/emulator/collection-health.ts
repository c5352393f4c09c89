/**
 * The collection status knob (admin API `POST /collection-status`): makes `GET /collections/{c}` report a
 * collection as Qdrant does while it optimizes, has optimizations pending, or has an optimizer error, until
 * a test releases it. The emulator has no optimizer, so without the knob every collection is `green`/`ok`.
 *
 * The shapes are Qdrant's own (lib/collection/src/shards/local_shard/mod.rs, `local_shard_status`; the
 * collection reports the worst shard):
 * - `yellow` + `"ok"`: an optimization is running (a proxy segment exists, or optimizers were triggered
 *   and some segment is still suboptimal). Qdrant's `optimizer_status` has no "running" value: it stays
 *   `"ok"` while optimizing.
 * - `grey` + `"ok"`: optimizations are pending but not triggered since a restart (until any update).
 * - `red` + `{"error": "<text>"}`: an optimizer failed (`segments.optimizer_errors`); `red` with `"ok"` is a
 *   failed operation without an optimizer error.
 *
 * A hold is keyed by collection name, not by the collection's uuid, so a test may set it before the
 * collection exists (e.g. before a rollout creates its green collection) and it applies to whatever
 * collection carries that name (re-created too) until released. On a cluster every peer reports it.
 */
import type { Json } from "./collection-config.ts";

export type HeldStatus = "yellow" | "grey" | "red";

export interface CollectionStatusSetting {
  collection: string;
  /** What the collection reports; `green` releases the hold (same as DELETE). */
  status: HeldStatus | "green";
  /** `optimizer_status: {error}` text; only with `red` (Qdrant reports an optimizer error as red). */
  error?: string;
}

export interface CollectionReport {
  status: "green" | HeldStatus;
  optimizer_status: "ok" | { error: string };
}

const STATUSES = ["green", "yellow", "grey", "red"];

export class CollectionHealth {
  readonly #held = new Map<string, { status: HeldStatus; error?: string }>();

  /** Holds (or releases, with `green`) one collection's reported status; throws on a malformed setting. */
  set(setting: CollectionStatusSetting): void {
    const { collection, status, error } = setting as Partial<CollectionStatusSetting> & Json;
    if (typeof collection !== "string" || collection === "") throw new Error("collection must be a non-empty string");
    if (typeof status !== "string" || !STATUSES.includes(status)) throw new Error(`status must be one of ${STATUSES.join(", ")}, got ${String(status)}`);
    if (error !== undefined && (typeof error !== "string" || status !== "red")) {
      throw new Error("error must be a string and only goes with status red (Qdrant reports an optimizer error as red)");
    }
    if (status === "green") {
      this.#held.delete(collection);
      return;
    }
    this.#held.set(collection, error === undefined ? { status } : { status, error });
  }

  /** Releases a hold; false when the collection had none. */
  release(collection: string): boolean {
    return this.#held.delete(collection);
  }

  settings(): CollectionStatusSetting[] {
    return [...this.#held].map(([collection, h]) => ({ collection, ...h }));
  }

  /** What `GET /collections/{collection}` reports for status and optimizer_status. */
  report(collection: string): CollectionReport {
    const held = this.#held.get(collection);
    if (held === undefined) return { status: "green", optimizer_status: "ok" };
    return { status: held.status, optimizer_status: held.error === undefined ? "ok" : { error: held.error } };
  }
}
