/**
 * One run of a copy plan: green (the plan's target) is checked, then the source is scrolled in id order and
 * every page upserted into green as it came (ids, vectors — unnamed, named, sparse, multi — and payloads).
 *
 * 1. Green must exist and carry this rollout's owner stamp (OWNER_METADATA with plan.rollout.uid): the
 *    controller created it so, in the same request. Anything else is a stranger's collection, never written
 *    to: a permanent GreenExists. A name that is an alias is refused the same way (an upsert through it
 *    would land in the collection behind it).
 * 2. Where to start: green's own record (COPY_METADATA) when it has one (done: nothing to do), else the
 *    start — never the plan's resumeFrom alone: every attempt writes its record before its first page, so
 *    a green without one is a new green (deleted and created again since), and resuming it from an old
 *    offset would leave out every point before it. The source's exact count is taken at the
 *    first attempt and kept in the record, so `total` is the same figure over every attempt.
 * 3. The loop: page k+1 is scrolled while page k is upserted with wait=true, so at most two pages are in
 *    memory, whatever the collection's size, and the Job waits on one call at a time most of the time.
 *    After a page is applied, the record is written (at most one per PROGRESS_INTERVAL_MS, and always at
 *    the end with done: true): writes are made in order after the upserts they count, so the record is
 *    never ahead of the points.
 *
 * Crash windows: a kill (SIGKILL, OOM, node loss) between an upsert and its record leaves the record up to
 * a second of pages behind; the next attempt upserts those pages again (same ids, same vectors and
 * payloads: nothing duplicated, nothing lost). A kill between the last upsert and the final record leaves
 * done: false; the next attempt scrolls from the record, finds the rest already there (rewrites it) and
 * writes done. SIGTERM aborts the calls in flight (an upsert cut off mid-request is applied wholly or not at
 * all by Qdrant, and either way the record is behind it).
 *
 * Refusals: Qdrant's 4xx to an upsert (a vector of another size, a vector name green does not have) cannot
 * be fixed by a retry: a permanent CopyFailed telling the user that copyFrom copies vectors as they are.
 * Not supported: a green with custom sharding (sharding_method: custom). The Job upserts without a shard
 * key and drops the scroll's shard_key; what Qdrant answers then was not checked against Qdrant here (a 4xx
 * would be this CopyFailed). copyFrom is for automatically sharded collections.
 */
import { crashWindow } from "../../crash-windows.ts";
import type { Logger } from "pino";
import { isOperatorError, OperatorError } from "../../errors.ts";
import { greenOwnerOf } from "../../controllers/rollout/names.ts";
import type { PointStruct, QdrantApi, ScrollRequest, ScrollResult } from "../../qdrant/client.ts";
import type { CopyJobPlan, CopyJobSuccess, CopyProgress, PointId } from "./contract.ts";
import { progressOf, ProgressWriter } from "./progress.ts";

/** How often, at most, a page's progress is written into green's metadata (a PATCH, a Raft commit when distributed). */
export const PROGRESS_INTERVAL_MS = 1_000;

export interface CopyContext {
  plan: CopyJobPlan;
  qdrant: QdrantApi;
  log: Logger;
  /** Aborted on SIGTERM: every call in flight stops. */
  signal: AbortSignal;
  startTime: Date;
  /** Tests shorten it. */
  progressIntervalMs?: number;
}

type Offset = NonNullable<ScrollRequest["offset"]>;

export async function runCopy(ctx: CopyContext): Promise<CopyJobSuccess> {
  const { plan, qdrant, log, signal } = ctx;
  const opts = { signal };
  const record = await checkGreen(ctx);
  const seconds = () => (Date.now() - ctx.startTime.getTime()) / 1000;
  if (record?.done) {
    log.info({ target: plan.target, copied: record.copied, total: record.total, attempt: record.attempt }, "Green's record says the copy is done; nothing to copy");
    return { ok: true, copiedPoints: record.copied, ...(record.total !== undefined ? { totalPoints: record.total } : {}), batches: 0, durationSeconds: seconds() };
  }
  const total = record?.total ?? (await sourceCount(ctx));
  const resumedFrom: PointId | undefined = record?.nextOffset;
  let copied = record ? record.copied : 0;
  if (!record && plan.resumeFrom !== undefined) {
    log.warn({ target: plan.target, planResumeFrom: plan.resumeFrom }, "Green has no copy record though the rollout saw one: it is a new collection, so the copy starts from the first point");
  }
  log.info({ source: plan.source, target: plan.target, total, copied, resumedFrom: resumedFrom ?? null, from: record ? "green's record" : "the start" }, "Copying points");

  const progress = new ProgressWriter(qdrant, plan.target, ctx.progressIntervalMs ?? PROGRESS_INTERVAL_MS);
  const recordOf = (nextOffset: PointId | undefined, done: boolean): CopyProgress => ({ copied, total, ...(nextOffset !== undefined ? { nextOffset } : {}), done, attempt: plan.attempt });
  // The total and this attempt's number are in green before the first page: the controller shows them.
  await progress.write(recordOf(resumedFrom, false), signal);

  let batches = 0;
  let next: Promise<ScrollResult> | undefined = scrollPage(ctx, resumedFrom);
  while (next) {
    const page: ScrollResult = await next;
    const after = page.next_page_offset ?? undefined;
    // Page k+1 is on its way while page k is written; its rejection is awaited below, never left unhandled.
    next = after !== undefined ? scrollPage(ctx, after) : undefined;
    next?.catch(() => undefined);
    if (page.points.length > 0) {
      await upsertPage(ctx, page, opts);
      // Crash window copy-job.upserted-before-record: a page in green that green's record does not count.
      crashWindow("copy-job.upserted-before-record");
      copied += page.points.length;
      batches++;
    }
    if (next && progress.due()) {
      await progress.write(recordOf(after as PointId, false), signal).catch((err: unknown) => {
        if (signal.aborted) throw err;
        log.warn({ err: (err as Error).message }, "Could not record the copy's progress in green's metadata; going on (a resume redoes a few more pages)");
      });
      log.info({ copied, total, nextOffset: after }, "Copied points");
    }
  }
  await progress.write(recordOf(undefined, true), signal);
  log.info({ copied, total, batches, seconds: seconds() }, "Copy succeeded");
  return { ok: true, copiedPoints: copied, totalPoints: total, batches, ...(resumedFrom !== undefined ? { resumedFrom } : {}), durationSeconds: seconds() };
}

/** Green exists, is a collection, and is this rollout's; returns its copy record. */
async function checkGreen(ctx: CopyContext): Promise<CopyProgress | undefined> {
  const { plan, qdrant, signal } = ctx;
  const target = plan.target;
  const rollout = `CollectionRollout ${plan.rollout.namespace}/${plan.rollout.name}`;
  const state = await qdrant.nameState(target, { signal });
  if (state.aliasOf !== undefined) throw new OperatorError("COPY_GREEN_NOT_OURS", `"${target}" is an alias of collection "${state.aliasOf}", not a collection ${rollout} created: the copy Job never writes through it`);
  if (!state.exists) throw new OperatorError("GREEN_MISSING", `collection "${target}" does not exist: ${rollout} creates it before the copy Job starts (was it deleted?)`);
  const metadata = await qdrant.collectionMetadata(target, { signal }).catch((err: unknown) => {
    throw isOperatorError(err, "QDRANT_NOT_FOUND") ? new OperatorError("GREEN_MISSING", `collection "${target}" went away before the copy began`, { cause: err }) : err;
  });
  const owner = greenOwnerOf(metadata);
  if (owner?.uid !== plan.rollout.uid) {
    const whose = owner ? `CollectionRollout ${owner.namespace}/${owner.name} (uid ${owner.uid})` : "no rollout";
    throw new OperatorError("COPY_GREEN_NOT_OURS", `collection "${target}" exists and its metadata names ${whose} as its creator, not ${rollout} (uid ${plan.rollout.uid}): the copy Job never writes into a collection this rollout did not create`);
  }
  return progressOf(metadata);
}

async function sourceCount(ctx: CopyContext): Promise<number> {
  try {
    return await ctx.qdrant.count(ctx.plan.source, { exact: true }, { signal: ctx.signal });
  } catch (err) {
    throw sourceMissing(ctx, err);
  }
}

function scrollPage(ctx: CopyContext, offset: Offset | undefined): Promise<ScrollResult> {
  const request: ScrollRequest = { limit: ctx.plan.batchSize, with_payload: true, with_vector: true, ...(offset !== undefined ? { offset } : {}) };
  return ctx.qdrant.scroll(ctx.plan.source, request, { signal: ctx.signal }).catch((err: unknown) => {
    throw sourceMissing(ctx, err);
  });
}

function sourceMissing(ctx: CopyContext, err: unknown): unknown {
  return isOperatorError(err, "QDRANT_NOT_FOUND") ? new OperatorError("SOURCE_NOT_FOUND", `the source collection "${ctx.plan.source}" does not exist: ${err.message}`, { cause: err }) : err;
}

/** A Qdrant answer that no retry changes: 400 (wrong input) or 422 (unprocessable), from its message. */
const REFUSED = /: (400|422) /;

async function upsertPage(ctx: CopyContext, page: ScrollResult, opts: { signal: AbortSignal }): Promise<void> {
  const { plan } = ctx;
  // As scrolled: the point's vectors and payload, nothing of the scroll's own (shard_key, order_value).
  const points: PointStruct[] = page.points.map((p) => ({ id: p.id, vector: (p.vector ?? {}) as PointStruct["vector"], ...(p.payload ? { payload: p.payload } : {}) }));
  try {
    await ctx.qdrant.upsert(plan.target, points, opts);
  } catch (err) {
    if (isOperatorError(err, "QDRANT_NOT_FOUND")) throw new OperatorError("GREEN_MISSING", `collection "${plan.target}" went away during the copy: ${err.message}`, { cause: err });
    if (isOperatorError(err, "QDRANT_API_ERROR") && REFUSED.test(err.message)) {
      throw new OperatorError(
        "COPY_REFUSED",
        `Qdrant refused the points of "${plan.source}" (ids ${String(points[0]?.id)}…${String(points.at(-1)?.id)}) for collection "${plan.target}": ${err.message}. ` +
          "copyFrom copies vectors as they are, so green's vectors must have the source's names and sizes; a new vector size (another embedding model) needs source.external, filled by your own pipeline",
        { cause: err },
      );
    }
    throw err;
  }
}
