/**
 * What a QdrantRestore's spec must be before anything is done for it: the schema (ajv: objects stored
 * before a schema change reach the controller too), the rules the CRD says in CEL (re-checked here for
 * the same reason), the drill's cron expression and time zone, and what the apiserver would refuse in its
 * Jobs (spec.job). Every message starts with the field. Pure.
 */
import type { QdrantRestoreSpec } from "../../api/v1alpha1/restore.ts";
import { describeProblems, validateSpec } from "../../api/validate.ts";
import { parseSchedule, type ParsedSchedule } from "../../backup/schedule/parse-schedule.ts";
import { checkJobSettings, describeChildProblems } from "../shared/child-validation.ts";

export type Policy = NonNullable<QdrantRestoreSpec["policy"]>;

export type SpecCheck = { ok: true; policy: Policy; drill?: ParsedSchedule } | { ok: false; message: string };

export const DEFAULT_CHECK_INTERVAL_SECONDS = 60;
export const DEFAULT_BACKOFF_LIMIT = 3;

export function checkRestoreSpec(spec: unknown): SpecCheck {
  const s = spec as Partial<QdrantRestoreSpec> | undefined;
  // parseSchedule's messages say more than the schema's pattern, so they come first.
  const drill = s?.drill && typeof s.drill.schedule === "string" ? parseSchedule(s.drill.schedule, typeof s.drill.timeZone === "string" ? s.drill.timeZone : undefined) : undefined;
  if (drill?.ok === false) return { ok: false, message: `${drill.problem.field.replace(/^spec\./, "spec.drill.")}: ${drill.problem.message}` };
  const problems = validateSpec("QdrantRestore", spec);
  if (problems.length > 0) return { ok: false, message: describeProblems(problems) };
  const r = spec as QdrantRestoreSpec;
  const policy: Policy = r.policy ?? "Once";
  const sources = [r.source.backupRef, r.source.location, r.source.latest].filter((x) => x !== undefined).length;
  if (sources !== 1) return { ok: false, message: "spec.source: set exactly one of backupRef, location or latest" };
  if ((policy === "Drill") !== (r.drill !== undefined)) return { ok: false, message: "spec.drill: drill is required with policy Drill and allowed only then" };
  if (policy === "Drill" && r.target.alias !== undefined) return { ok: false, message: "spec.target.alias: a drill's temporary collection cannot get an alias" };
  const job = checkJobSettings(r.job);
  if (job.length > 0) return { ok: false, message: describeChildProblems(job) };
  return { ok: true, policy, ...(drill?.ok ? { drill: drill.schedule } : {}) };
}

/** Attempts per run: the first, and one per retry of a retryable failure (spec.job.backoffLimit, default 3). */
export function maxAttempts(spec: QdrantRestoreSpec): number {
  return 1 + (spec.job?.backoffLimit ?? DEFAULT_BACKOFF_LIMIT);
}

export function checkIntervalMs(spec: QdrantRestoreSpec): number {
  return (spec.checkIntervalSeconds ?? DEFAULT_CHECK_INTERVAL_SECONDS) * 1000;
}

/**
 * The target collection as far as the spec alone says (the backed-up name is known from the spec only
 * for `latest` and with sourceCollection; otherwise the source's manifest says it). A drill's is never
 * the spec's: see names.ts drillCollectionName.
 */
export function targetFromSpec(spec: QdrantRestoreSpec): string | undefined {
  return spec.target.collection ?? spec.sourceCollection ?? spec.source.latest?.collection;
}
