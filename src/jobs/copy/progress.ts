/**
 * The copy's record in green's own collection metadata (COPY_METADATA): read once when an attempt starts,
 * written after pages are upserted (throttled) and at the end. The record is what a resumed attempt trusts
 * over the status (the status is a mirror the controller wrote from an older record), because it is written
 * only after the points it counts were applied (upsert wait=true): it is never ahead of them.
 *
 * Qdrant merges a PATCH's metadata by top-level key, so writing COPY_METADATA replaces the whole record and
 * leaves the owner stamp (OWNER_METADATA) beside it alone; a record without `nextOffset` (done) has none.
 */
import { COPY_METADATA } from "../../controllers/rollout/names.ts";
import type { QdrantApi } from "../../qdrant/client.ts";
import { checker } from "../protocol/schema-check.ts";
import { CopyProgress } from "./contract.ts";

const records = checker(CopyProgress, COPY_METADATA);

/** The record in `metadata`, when there is a well-formed one (anything else counts as none: the copy starts over). */
export function progressOf(metadata: Record<string, unknown> | null | undefined): CopyProgress | undefined {
  const v = metadata?.[COPY_METADATA];
  return v === undefined || v === null ? undefined : records.read(v);
}

/**
 * Writes records into green, at most one per `intervalMs` unless forced. A write that is throttled away or
 * fails costs nothing but a resume a few pages further back; only the final (forced) one must succeed.
 */
export class ProgressWriter {
  #last = Number.NEGATIVE_INFINITY;
  readonly #qdrant: QdrantApi;
  readonly #target: string;
  readonly #intervalMs: number;
  readonly #now: () => number;

  constructor(qdrant: QdrantApi, target: string, intervalMs: number, now: () => number = Date.now) {
    this.#qdrant = qdrant;
    this.#target = target;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** True when a record written now would not be throttled. */
  due(): boolean {
    return this.#now() - this.#last >= this.#intervalMs;
  }

  async write(record: CopyProgress, signal: AbortSignal): Promise<void> {
    const value: CopyProgress = { copied: record.copied, ...(record.total !== undefined ? { total: record.total } : {}), ...(record.nextOffset !== undefined ? { nextOffset: record.nextOffset } : {}), done: record.done, attempt: record.attempt };
    await this.#qdrant.updateCollectionMetadata(this.#target, { [COPY_METADATA]: value }, { signal });
    this.#last = this.#now();
  }
}
