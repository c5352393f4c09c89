/**
 * A 422 (Invalid) from the apiserver on a child the operator creates — a Job, a schedule's
 * QdrantBackup, and the restores', rollouts' and collections' children to come — told in our words.
 * Retrying cannot help: the same spec builds the same child (the builders are pure), so the apiserver
 * refuses it again. The controller records an `InvalidSpec` condition with this message and a Warning
 * Event, and does not retry until the spec changes.
 *
 * The apiserver's Status names the child's fields (`details.causes[].field`, e.g.
 * `spec.template.metadata.labels`); `FieldMap`s say which of our fields produced each child field, so
 * the message names what the user wrote (`spec.job.podLabels`). A cause whose field no entry maps is
 * quoted with the child's field, and a Status without causes is quoted whole: the apiserver's words
 * are still better than silence. child-validation.ts catches most of these before the create.
 */
import { httpStatusOf, reasonOf } from "../../runtime/errors.ts";

/** Child field prefix → our field that produced it; the first matching entry wins (longest first). */
export type FieldMap = ReadonlyArray<readonly [child: string, ours: string]>;

/** A Job from the Job template (job-template.ts): what of the resource's `spec.job` lands where. */
export const JOB_FIELDS: FieldMap = [
  ["spec.template.spec.containers[0].resources", "spec.job.resources"],
  ["spec.template.spec.containers[0].image", "spec.job.image"],
  ["spec.template.spec.containers[0].imagePullPolicy", "spec.job.imagePullPolicy"],
  ["spec.template.metadata.labels", "spec.job.podLabels"],
  ["spec.template.metadata.annotations", "spec.job.podAnnotations"],
  ["spec.template.spec.nodeSelector", "spec.job.nodeSelector"],
  ["spec.template.spec.tolerations", "spec.job.tolerations"],
  ["spec.template.spec.affinity", "spec.job.affinity"],
  ["spec.template.spec.serviceAccountName", "spec.job.serviceAccountName"],
  ["spec.template.spec.priorityClassName", "spec.job.priorityClassName"],
  ["spec.backoffLimit", "spec.job.backoffLimit"],
  ["spec.activeDeadlineSeconds", "spec.job.activeDeadlineSeconds"],
  ["spec.ttlSecondsAfterFinished", "spec.job.ttlSecondsAfterFinished"],
];

/** A child's cause: the apiserver's field (when it gave one) and words. */
export interface ApiCause {
  field?: string;
  message: string;
}

/** The causes of a 422's Status, or undefined when `err` is not a 422. */
export function invalidCauses(err: unknown): { message: string; causes: ApiCause[] } | undefined {
  if (httpStatusOf(err) !== 422) return undefined;
  const reason = reasonOf(err);
  if (reason !== undefined && reason !== "Invalid") return undefined;
  let body = (err as { body?: unknown }).body;
  if (typeof body === "string") {
    try {
      body = JSON.parse(body);
    } catch {
      body = undefined;
    }
  }
  const status = (body ?? {}) as { message?: unknown; details?: { causes?: Array<{ field?: unknown; message?: unknown }> } };
  const causes = (status.details?.causes ?? [])
    .filter((c) => typeof c.message === "string")
    .map((c) => ({ ...(typeof c.field === "string" && c.field !== "" ? { field: c.field } : {}), message: c.message as string }));
  const message = typeof status.message === "string" ? status.message : err instanceof Error ? err.message : "refused as invalid";
  return { message, causes };
}

/** Our field for the child's `field`, keeping what follows the mapped prefix (`[0]`, `.requests[memory]`). */
export function mapChildField(field: string, map: FieldMap): string | undefined {
  for (const [child, ours] of map) {
    if (field === child) return ours;
    if (field.startsWith(child) && /^[.[]/.test(field.slice(child.length))) return `${ours}${field.slice(child.length)}`;
  }
  return undefined;
}

/**
 * The InvalidSpec message for a 422 on creating `child` (e.g. "Job backup-nightly"), or undefined when
 * `err` is not one (then it is the caller's to handle: retry, AlreadyExists…).
 */
export function describeInvalidChild(err: unknown, child: string, map: FieldMap): string | undefined {
  const invalid = invalidCauses(err);
  if (!invalid) return undefined;
  const refused = `the apiserver refused ${child}`;
  if (invalid.causes.length === 0) return `${refused}: ${invalid.message}`;
  const parts = invalid.causes.map((c) => {
    const ours = c.field !== undefined ? mapChildField(c.field, map) : undefined;
    if (ours !== undefined) return `${ours}: ${c.message}`;
    return c.field !== undefined ? `${c.field} of ${child}: ${c.message}` : c.message;
  });
  return `${[...new Set(parts)].join("; ")} (${refused})`;
}
