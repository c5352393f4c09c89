/**
 * What a CollectionRollout's spec must be before anything is done for it: the schema (ajv: objects stored
 * before a schema change reach the controller too), the CRD's CEL rules that can be re-checked on one
 * object (exactly one source; alias ≠ collection — the immutability rule needs the old object, only the
 * apiserver has it), and what neither can say: a copy source that is green itself or the alias, golden
 * query names that repeat (the list-map key is enforced by the apiserver on write only), an analysis with
 * no golden queries to run, durations that parse, an operator metadata key in a user's config, and what
 * the apiserver would refuse in the rollout's Jobs (spec.job, spec.gates.job.settings). Every message
 * starts with the field. Pure.
 *
 * The timings decide.ts needs (gates.timeout, analysis.window, retainPrevious, attempts per copy) are read
 * by the small functions below, from a spec this check passed.
 */
import type { CollectionRolloutSpec } from "../../api/v1alpha1/rollout.ts";
import { describeProblems, validateSpec } from "../../api/validate.ts";
import { parseDuration } from "../../backup/retention/duration.ts";
import { checkJobSettings, describeChildProblems } from "../shared/child-validation.ts";
import { COPY_METADATA, OWNER_METADATA } from "./names.ts";
import type { Check } from "./steps.ts";

export const DEFAULT_GATES_TIMEOUT = "1h";
export const DEFAULT_BACKOFF_LIMIT = 3;
export const DEFAULT_TOP_K = 10;
export const DEFAULT_MIN_OVERLAP = 0.8;

const INVALID = "InvalidSpec";
const invalid = (message: string): Check => ({ ok: false, reason: INVALID, message });

/** Milliseconds of a duration field, or the message naming it. */
function duration(field: string, text: string | undefined, positive: boolean): number | string | undefined {
  if (text === undefined) return undefined;
  try {
    const ms = parseDuration(text);
    if (positive && ms === 0) return `${field}: must be longer than 0s`;
    return ms;
  } catch (err) {
    return `${field}: ${(err as Error).message}`;
  }
}

function operatorKeyIn(config: Record<string, unknown> | undefined, field: string): string | undefined {
  const metadata = config?.metadata;
  if (typeof metadata !== "object" || metadata === null) return undefined;
  for (const key of [OWNER_METADATA, COPY_METADATA]) {
    if (key in metadata) return `${field}.metadata: the key ${JSON.stringify(key)} is the operator's (it records which rollout created green and how far its copy got); remove it`;
  }
  return undefined;
}

export function checkRolloutSpec(spec: unknown): Check {
  const problems = validateSpec("CollectionRollout", spec);
  if (problems.length > 0) return invalid(describeProblems(problems));
  const s = spec as CollectionRolloutSpec;
  if (s.alias === s.collection) return invalid("spec.alias: alias and collection must differ: Qdrant forbids an alias with a collection's name");
  const src = s.source;
  const sources = [src.fromBackup, src.copyFrom, src.external].filter((x) => x !== undefined).length;
  if (sources !== 1) return invalid("spec.source: set exactly one of fromBackup, copyFrom or external");
  if (src.fromBackup) {
    const b = src.fromBackup.source;
    if ([b.backupRef, b.location, b.latest].filter((x) => x !== undefined).length !== 1) return invalid("spec.source.fromBackup.source: set exactly one of backupRef, location or latest");
  }
  const from = src.copyFrom?.collection;
  if (from !== undefined && from === s.collection) {
    return invalid(`spec.source.copyFrom.collection: ${from} is spec.collection, the green collection being built; name the collection to copy from (or leave it out to copy the one alias ${s.alias} points at)`);
  }
  if (from !== undefined && from === s.alias) {
    return invalid(`spec.source.copyFrom.collection: ${from} is spec.alias; leave copyFrom.collection out to copy the collection the alias points at, or name a collection`);
  }
  const configKey = operatorKeyIn(src.copyFrom?.config, "spec.source.copyFrom.config") ?? operatorKeyIn(src.external?.config, "spec.source.external.config");
  if (configKey) return invalid(configKey);
  const golden = s.gates?.goldenQueries ?? [];
  const seen = new Set<string>();
  for (const [i, q] of golden.entries()) {
    if (seen.has(q.name)) return invalid(`spec.gates.goldenQueries[${i}].name: ${JSON.stringify(q.name)} is used by an earlier golden query; names are the rows of status.gates and must be unique`);
    seen.add(q.name);
    if (q.expectedIds !== undefined && q.expectedIds.length === 0) return invalid(`spec.gates.goldenQueries[${q.name}].expectedIds: list at least one id, or leave it out to compare with the active collection`);
  }
  if (s.analysis && golden.length === 0) {
    return invalid("spec.analysis: the analysis runs the gates' golden queries after promotion, and spec.gates.goldenQueries has none; add golden queries or remove spec.analysis");
  }
  for (const [field, text, positive] of [
    ["spec.gates.timeout", s.gates?.timeout, true],
    ["spec.analysis.window", s.analysis?.window, false],
    ["spec.retainPrevious", s.retainPrevious, false],
  ] as const) {
    const d = duration(field, text, positive);
    if (typeof d === "string") return invalid(d);
  }
  if (s.gates?.job?.settings?.image !== undefined) return invalid("spec.gates.job.settings.image: the gate Job's image is spec.gates.job.image; remove settings.image");
  const jobs = [...checkJobSettings(s.job, "spec.job"), ...checkJobSettings(s.gates?.job?.settings, "spec.gates.job.settings")];
  if (jobs.length > 0) return invalid(describeChildProblems(jobs));
  return { ok: true };
}

/** gates.timeout in ms (default 1h), counted from status.gatesStartTime. */
export function gatesTimeoutMs(spec: CollectionRolloutSpec): number {
  return parseDuration(spec.gates?.timeout ?? DEFAULT_GATES_TIMEOUT);
}

/** analysis.window in ms; undefined without an analysis (a 0s window is none either). */
export function analysisWindowMs(spec: CollectionRolloutSpec): number | undefined {
  if (!spec.analysis) return undefined;
  const ms = parseDuration(spec.analysis.window);
  return ms > 0 ? ms : undefined;
}

/**
 * The end of the analysis window, in ms since the epoch: promotedAt + analysis.window. Undefined: no
 * analysis (or a 0s window), no promotedAt, or a window that does not parse (another rollout's spec, read
 * by holder.ts, has not been checked).
 */
export function analysisEndMs(spec: CollectionRolloutSpec | undefined, promotedAt: string | undefined): number | undefined {
  const at = Date.parse(promotedAt ?? "");
  if (!spec || !Number.isFinite(at)) return undefined;
  try {
    const window = analysisWindowMs(spec);
    return window === undefined ? undefined : at + window;
  } catch {
    return undefined;
  }
}

/** retainPrevious in ms; undefined: the previous collection is kept forever. */
export function retainPreviousMs(spec: CollectionRolloutSpec): number | undefined {
  return spec.retainPrevious === undefined ? undefined : parseDuration(spec.retainPrevious);
}

/** Copy attempts: the first, and one per retry of a retryable failure (spec.job.backoffLimit, default 3). */
export function maxAttempts(spec: CollectionRolloutSpec): number {
  return 1 + (spec.job?.backoffLimit ?? DEFAULT_BACKOFF_LIMIT);
}

/** switchBackOnFailure, default true. */
export function switchBackOnFailure(spec: CollectionRolloutSpec): boolean {
  return spec.analysis?.switchBackOnFailure !== false;
}
