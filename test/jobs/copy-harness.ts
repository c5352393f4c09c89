/**
 * Helpers for the `job copy` tests: a green collection created as the rollout controller creates it (its
 * config plus the owner stamp in its metadata, in the same PUT), the plan the controller would build, and
 * the copy command run as a real child process (so SIGKILL is the real thing), with its result file kept
 * until the process is gone.
 */
import { randomUUID } from "node:crypto";
import type { TestContext } from "node:test";
import { COPY_METADATA, OWNER_METADATA } from "../../src/controllers/rollout/names.ts";
import type { CopyJobPlan, CopyJobResult, CopyProgress } from "../../src/jobs/copy/contract.ts";
import { JOB_ENV } from "../../src/jobs/protocol/env.ts";
import type { CollectionConfig, PointStruct } from "../../src/qdrant/client.ts";
import { spawnJob, type JobProcessRun, type StartedJobProcess } from "../helpers/job-process.ts";
import { qdrantApi, qdrantUnderTest, uniqueName } from "../helpers/qdrant.ts";

export { describeRun } from "../helpers/job-process.ts";

export interface RolloutIdentity {
  namespace: string;
  name: string;
  uid: string;
}

export function rolloutIdentity(): RolloutIdentity {
  return { namespace: "team-a", name: "policies", uid: randomUUID() };
}

/** A uniquely named collection with `config` (and `metadata` merged in), deleted when the test ends. */
export async function makeCollection(t: TestContext, prefix: string, config: CollectionConfig, metadata?: Record<string, unknown>, url?: string): Promise<string> {
  const api = qdrantApi(url);
  const name = uniqueName(prefix);
  await api.createCollection(name, { ...config, ...(metadata ? { metadata: { ...(config.metadata ?? {}), ...metadata } } : {}) });
  t.after(() => api.deleteCollection(name).then(() => undefined));
  return name;
}

/** Green as the controller creates it: stamped with the rollout in the same PUT. */
export function makeGreen(t: TestContext, config: CollectionConfig, owner: RolloutIdentity, url?: string): Promise<string> {
  return makeCollection(t, "green", config, { [OWNER_METADATA]: owner }, url);
}

/** Upserts `points` in batches of 500. */
export async function fill(collection: string, points: PointStruct[], url?: string): Promise<void> {
  const api = qdrantApi(url);
  for (let i = 0; i < points.length; i += 500) await api.upsert(collection, points.slice(i, i + 500));
}

/** The plan the controller would build (build-copy-job.ts) for copying `source` into `target`. */
export function copyPlanFor(owner: RolloutIdentity, source: string, target: string, over: Partial<CopyJobPlan> = {}, url = qdrantUnderTest().url): CopyJobPlan {
  return {
    version: 1,
    rollout: owner,
    attempt: 1,
    source,
    target,
    batchSize: 64,
    qdrant: { url, timeoutSeconds: 30, discovery: { mode: "None", restPort: Number(new URL(url).port || 80), scheme: "http" } },
    ...over,
  };
}

/** Green's copy record, if any. */
export async function progressIn(collection: string, url?: string): Promise<CopyProgress | undefined> {
  return (await qdrantApi(url).collectionMetadata(collection))[COPY_METADATA] as CopyProgress | undefined;
}

export type CopyRun = JobProcessRun<CopyJobResult>;
export type StartedCopy = StartedJobProcess<CopyJobResult>;

/** Starts `job copy` as a child process with the plan (or any text) in COPY_PLAN. */
export function startCopy(plan: CopyJobPlan | string): StartedCopy {
  return spawnJob("copy", plan, { [JOB_ENV.qdrantApiKey]: qdrantUnderTest().apiKey || undefined }, (text) => JSON.parse(text) as CopyJobResult);
}

export function runCopy(plan: CopyJobPlan | string): Promise<CopyRun> {
  return startCopy(plan).wait();
}
